"""Publish: the warehouse services read, built whole and swapped in only when its gates pass."""

import dagster as dg
import polars as pl

from dancu.contract import FILE_NAME, SOURCES
from dancu.warehouse import WAREHOUSE_FILE, GateFailed, load_gates, publish
from pipelines.resources import DancuPaths

PUBLISHED = ["person", "person_source", "civil_event", "event_party", "quarantine"]
GATE_NAMES = [gate.name for gate in load_gates()]


@dg.asset(
    group_name="publish",
    kinds={"duckdb"},
    ins={
        **{name: dg.AssetIn(name) for name in PUBLISHED},
        **{f"files_{name}": dg.AssetIn(f"files_{name}") for name in SOURCES},
    },
    check_specs=[
        dg.AssetCheckSpec(name, asset="warehouse", description=f"gate `{name}` of sql/gates.sql")
        for name in GATE_NAMES
    ],
)
def warehouse(context: dg.AssetExecutionContext, paths: DancuPaths, **frames: pl.LazyFrame):
    """The published DuckDB warehouse at $DANCU_DATA_DIR/warehouse/dancu.duckdb."""
    tables = {name: frames[name].collect() for name in PUBLISHED}
    files = [frames[f"files_{name}"] for name in SOURCES]
    tables["extract_file"] = pl.concat(files).sort(FILE_NAME).collect()
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
