"""Which source is late: the newest extract against the source's delivery cadence."""

from datetime import date

import pytest

from dancu.quality import days_late


@pytest.mark.parametrize(
    ("newest", "cadence", "expected"),
    [
        (date(2025, 10, 30), 2, 0),  # delivered yesterday: on time
        (date(2025, 10, 29), 2, 0),  # exactly at the cadence
        (date(2025, 10, 20), 2, 9),
        (date(2025, 9, 1), 35, 25),
        (None, 35, None),  # nothing delivered yet
    ],
)
def test_days_late(newest, cadence, expected):
    assert days_late(newest, cadence, today=date(2025, 10, 31)) == expected
