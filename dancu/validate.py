"""The quarantine: every rejected file and row, with its reasons and what was delivered."""

import polars as pl

from dancu.contract import EXTRACT_DATE, FILE_NAME, RECORD_ID, ROW_NUMBER, SOURCE
from dancu.ingest import FILE_ERROR
from dancu.rules import REASONS, is_rejected, rule_id
from dancu.standardize import RAW

QUARANTINE_COLUMNS = [SOURCE, FILE_NAME, ROW_NUMBER, RECORD_ID, EXTRACT_DATE, REASONS, RAW]


def rejected_files(raw: pl.LazyFrame) -> pl.LazyFrame:
    return raw.filter(pl.col(FILE_ERROR).is_not_null()).select(
        SOURCE,
        FILE_NAME,
        ROW_NUMBER,
        pl.lit(None, dtype=pl.String).alias(RECORD_ID),
        EXTRACT_DATE,
        pl.concat_list(pl.lit("file.rejected: ") + pl.col(FILE_ERROR)).alias(REASONS),
        pl.lit(None, dtype=pl.String).alias(RAW),
    )


def rejected_rows(std: pl.LazyFrame) -> pl.LazyFrame:
    return std.filter(is_rejected()).select(QUARANTINE_COLUMNS)


def rejected_input(raws: list[pl.LazyFrame], stds: list[pl.LazyFrame]) -> pl.DataFrame:
    """The files of `raws` that could not be read, then the rows of `stds` that broke a
    quarantine rule."""
    parts = [rejected_files(raw) for raw in raws] + [rejected_rows(std) for std in stds]
    return pl.concat(parts, how="vertical_relaxed").collect()


def reason_counts(quarantined: pl.DataFrame) -> pl.DataFrame:
    """How many quarantined rows and files give each rule as a reason, most first."""
    return (
        quarantined.select(pl.col(REASONS).list.eval(rule_id(pl.element())))
        .explode(REASONS)
        .group_by(REASONS)
        .len()
        .sort("len", descending=True)
    )
