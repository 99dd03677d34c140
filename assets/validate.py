"""Validate: the quarantine, where every rejected file and row waits with its reasons."""

import dagster as dg
import polars as pl

from dancu.contract import ROW_NUMBER, SOURCES
from dancu.validate import reason_counts, rejected_input
from orchestration import keys
from orchestration.privacy import masked_errors


@dg.asset(
    group_name="validate",
    kinds={"polars", "parquet"},
    ins={
        **{keys.raw(name): dg.AssetIn(keys.raw(name)) for name in SOURCES},
        **{keys.std(name): dg.AssetIn(keys.std(name)) for name in SOURCES},
    },
)
@masked_errors
def quarantine(**frames: pl.LazyFrame) -> dg.Output[pl.DataFrame]:
    """Rejected input: each file that could not be read, each row that cannot be a true record."""
    frame = rejected_input(
        [frames[keys.raw(name)] for name in SOURCES], [frames[keys.std(name)] for name in SOURCES]
    )
    return dg.Output(
        frame,
        metadata={
            "rows_quarantined": int(frame[ROW_NUMBER].is_not_null().sum()),
            "files_rejected": int(frame[ROW_NUMBER].is_null().sum()),
            **{f"reason/{rule}": count for rule, count in reason_counts(frame).iter_rows()},
        },
    )
