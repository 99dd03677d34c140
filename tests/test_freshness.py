"""Which source is late: the newest extract against the source's delivery cadence."""

from datetime import date

import polars as pl
import pytest

from dancu.quality import days_late, newest_extract


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


def test_the_newest_extract_is_of_a_file_that_was_read():
    files = pl.LazyFrame(
        {
            "extract_date": [date(2025, 10, 1), date(2025, 10, 15), date(2027, 12, 31)],
            "error": [None, None, "its extract date 2027-12-31 is after today (2025-10-31)"],
        }
    )
    assert newest_extract(files) == date(2025, 10, 15)
    assert newest_extract(files.filter(pl.col("error").is_not_null())) is None
