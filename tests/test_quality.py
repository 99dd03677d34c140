"""The measures behind the asset checks, read from the standardised frame as it streams by:
chunks of it fail the schema as the whole frame does."""

import polars as pl
import pytest

from dancu.contract import ROW_NUMBER, SOURCE, SOURCES
from dancu.quality import completeness, required_fields, schema_failures, top_rules
from dancu.rules import is_rejected


@pytest.fixture(scope="module")
def std(sample_run) -> pl.DataFrame:
    return pl.read_parquet(sample_run / "data" / "staging" / "std_dan_cu.parquet")


@pytest.fixture(scope="module")
def accepted(std) -> pl.DataFrame:
    return std.filter(~is_rejected())


def broken(accepted: pl.DataFrame) -> pl.DataFrame:
    """Three rows numbered 0, two of another source, and the extract date typed as text."""
    return accepted.with_columns(
        pl.when(pl.int_range(pl.len()).is_in([3, 500, 1999]))
        .then(0)
        .otherwise(pl.col(ROW_NUMBER))
        .alias(ROW_NUMBER),
        pl.when(pl.int_range(pl.len()).is_in([10, 1500]))
        .then(pl.lit("y_te"))
        .otherwise(pl.col(SOURCE))
        .alias(SOURCE),
        pl.col("extract_date").cast(pl.String),
    )


@pytest.mark.parametrize("rows", [None, 97, 1000])
def test_schema_failures_are_counted_alike_whatever_the_chunks(accepted, rows):
    failures = schema_failures(broken(accepted).lazy(), SOURCES["dan_cu"], rows=rows)
    counts = {(c, check): n for c, check, n in failures.iter_rows()}
    assert counts[(ROW_NUMBER, "greater_than_or_equal_to(1)")] == 3
    assert counts[(SOURCE, "equal_to(dan_cu)")] == 2
    assert counts[("extract_date", "dtype('Date')")] == 1  # the schema's own failure, once
    assert len(counts) == 3


def test_the_accepted_rows_fail_no_schema_check_in_chunks(std):
    # Rows that quarantine rejected break the schema (a required name left empty); the
    # accepted ones do not.
    assert std.filter(is_rejected()).height > 0
    assert schema_failures(std.lazy(), SOURCES["dan_cu"], rows=97).is_empty()


def test_an_empty_frame_still_fails_the_schema_itself(accepted):
    failures = schema_failures(broken(accepted).clear().lazy(), SOURCES["dan_cu"])
    assert failures.rows() == [("extract_date", "dtype('Date')", 1)]


def test_completeness_and_top_rules_read_a_lazy_frame(accepted):
    source = SOURCES["dan_cu"]
    fields = required_fields(source)
    shares = completeness(accepted.lazy(), fields)
    by_hand = {f: round(accepted[f].is_not_null().mean(), 4) for f in fields if "birth" not in f}
    assert {f: shares[f] for f in by_hand} == by_hand
    assert completeness(accepted.clear().lazy(), fields) == dict.fromkeys(fields, 1.0)
    rules = top_rules(accepted.lazy(), source)
    assert rules.height > 0 and rules["rows"].is_sorted(descending=True)
