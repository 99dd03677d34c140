"""An unexpected error in an asset reaches Dagster's event log with personal data masked."""

import dagster as dg
import polars as pl
import pytest

from orchestration.privacy import masked_errors
from orchestration.resources import StagingParquetIOManager

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


@dg.asset
@masked_errors
def fails_when_its_plan_runs() -> pl.LazyFrame:
    # Nothing fails here: the plan runs when the I/O manager writes the frame.
    return pl.LazyFrame({"national_id": [QUOTED]}).select(pl.col("national_id").str.to_integer())


def test_a_lazy_frame_that_fails_as_it_is_written_fails_masked(tmp_path):
    staging = StagingParquetIOManager(data_dir=str(tmp_path))
    result = dg.materialize(
        [fails_when_its_plan_runs], resources={"io_manager": staging}, raise_on_error=False
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error, shown = failure.step_failure_data.error, ""
    while error:
        shown += error.message + "".join(error.stack)
        error = error.cause
    assert "Nguyễn" not in shown and "001088012345" not in shown
    assert "ComputeError" in shown or "InvalidOperationError" in shown
