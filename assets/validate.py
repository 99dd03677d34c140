"""Validate: the quarantine, where every rejected file and row waits with its reasons."""

import dagster as dg
import polars as pl

from assets.standardize import RAW
from checks.rules import REASONS, rule_id
from dancu.contract import EXTRACT_DATE, FILE_NAME, RECORD_ID, ROW_NUMBER, SOURCE, SOURCES
from dancu.ingest import FILE_ERROR
from pipelines.privacy import masked_errors

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
    return std.filter(pl.col(REASONS).list.len() > 0).select(QUARANTINE_COLUMNS)


@dg.asset(
    group_name="validate",
    kinds={"polars", "parquet"},
    ins={
        **{f"raw_{name}": dg.AssetIn(f"raw_{name}") for name in SOURCES},
        **{f"std_{name}": dg.AssetIn(f"std_{name}") for name in SOURCES},
    },
)
@masked_errors
def quarantine(**frames: pl.LazyFrame) -> dg.Output[pl.DataFrame]:
    """Rejected input: each file that could not be read, each row that cannot be a true record."""
    parts = [rejected_files(frames[f"raw_{name}"]) for name in SOURCES]
    parts += [rejected_rows(frames[f"std_{name}"]) for name in SOURCES]
    frame = pl.concat(parts, how="vertical_relaxed").collect()
    by_reason = (
        frame.select(pl.col(REASONS).list.eval(rule_id(pl.element())))
        .explode(REASONS)
        .group_by(REASONS)
        .len()
        .sort("len", descending=True)
    )
    return dg.Output(
        frame,
        metadata={
            "rows_quarantined": int(frame[ROW_NUMBER].is_not_null().sum()),
            "files_rejected": int(frame[ROW_NUMBER].is_null().sum()),
            **{f"reason/{rule}": count for rule, count in by_reason.iter_rows()},
        },
    )
