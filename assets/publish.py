"""Publish: the warehouse services read, built whole and swapped in only when its gates pass."""

import dagster as dg
import polars as pl

from dancu.contract import EXTRACT_DATE, FILE_NAME, ROW_NUMBER, SOURCE, SOURCES
from dancu.ingest import FILE_ERROR
from dancu.warehouse import WAREHOUSE_FILE, GateFailed, load_gates, publish
from pipelines.resources import DancuPaths

PUBLISHED = ["person", "person_source", "civil_event", "event_party", "quarantine"]
GATE_NAMES = [gate.name for gate in load_gates()]


def extract_files(raw: pl.LazyFrame) -> pl.LazyFrame:
    """One row per delivered file: its rows, how many are latest, and why it was rejected."""
    return raw.group_by(SOURCE, FILE_NAME).agg(
        pl.col(EXTRACT_DATE).first(),
        pl.col(ROW_NUMBER).count().alias("rows"),
        (pl.col("is_latest") & pl.col(ROW_NUMBER).is_not_null()).sum().alias("rows_latest"),
        pl.col(FILE_ERROR).first().alias("error"),
    )


@dg.asset(
    group_name="publish",
    kinds={"duckdb"},
    ins={
        **{name: dg.AssetIn(name) for name in PUBLISHED},
        **{f"raw_{name}": dg.AssetIn(f"raw_{name}") for name in SOURCES},
    },
    check_specs=[
        dg.AssetCheckSpec(name, asset="warehouse", description=f"gate `{name}` of sql/gates.sql")
        for name in GATE_NAMES
    ],
)
def warehouse(context: dg.AssetExecutionContext, paths: DancuPaths, **frames: pl.LazyFrame):
    """The published DuckDB warehouse at $DANCU_DATA_DIR/warehouse/dancu.duckdb."""
    tables = {name: frames[name].collect() for name in PUBLISHED}
    raws = [extract_files(frames[f"raw_{name}"]) for name in SOURCES]
    tables["extract_file"] = pl.concat(raws).sort(FILE_NAME).collect()
    try:
        results = publish(paths.warehouse_dir, context.run.run_id, tables)
    except GateFailed as failure:
        raise dg.Failure(f"warehouse not published, gate checks failed: {failure}") from None
    path = paths.warehouse_dir / WAREHOUSE_FILE
    context.log.info(f"published {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            **{f"rows/{name}": frame.height for name, frame in tables.items()},
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=r.name, passed=r.violations == 0, metadata={"violations": r.violations}
            )
            for r in results
        ],
    )
