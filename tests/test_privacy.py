"""An unexpected error in an asset reaches Dagster's event log with personal data masked."""

import dagster as dg
import pytest

from orchestration.privacy import masked_errors

QUOTED = "conversion failed for value 'Nguyễn Văn An' with id 001088012345"


@dg.asset
@masked_errors
def fails_with_personal_data() -> int:
    raise ValueError(QUOTED)


def test_the_failure_event_holds_no_personal_data():
    result = dg.materialize([fails_with_personal_data], raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    shown = error.message + "".join(error.stack)
    assert "Nguyễn" not in shown and "001088012345" not in shown
    assert "ValueError" in shown and error.cause is None


def test_a_deliberate_failure_passes_through_unchanged():
    @masked_errors
    def gate():
        raise dg.Failure(description="warehouse not published, gate checks failed: nothing_lost")

    with pytest.raises(dg.Failure, match="nothing_lost"):
        gate()
