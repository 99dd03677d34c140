"""Publish: the warehouse services read, built whole and swapped in only when its gates pass."""

import dagster as dg
import polars as pl

from dancu.contract import SOURCES
from dancu.publish import OPTIONAL, PUBLISHED, warehouse_tables
from dancu.warehouse import DEFAULT_KEEP_VERSIONS, GateFailed, load_gates, publish
from orchestration import keys
from orchestration.privacy import masked_errors
from orchestration.resources import DancuPaths

GATE_NAMES = [gate.name for gate in load_gates()]


class PublishConfig(dg.Config):
    keep_versions: int = DEFAULT_KEEP_VERSIONS
    """How many published versions stay in warehouse/versions/ (the published one included)."""


@dg.asset(
    group_name="publish",
    kinds={"duckdb"},
    pool="warehouse",
    ins={
        **{name: dg.AssetIn(name) for name in [*PUBLISHED, *OPTIONAL]},
        **{keys.files(name): dg.AssetIn(keys.files(name)) for name in SOURCES},
        **{keys.std(name): dg.AssetIn(keys.std(name)) for name in SOURCES},
    },
    check_specs=[
        dg.AssetCheckSpec(name, asset="warehouse", description=f"gate `{name}` of sql/gates.sql")
        for name in GATE_NAMES
    ],
)
@masked_errors
def warehouse(
    context: dg.AssetExecutionContext,
    config: PublishConfig,
    paths: DancuPaths,
    **frames: pl.LazyFrame,
):
    """The published DuckDB warehouse at $DANCU_DATA_DIR/warehouse/dancu.duckdb."""
    tables = warehouse_tables(
        frames,
        [frames[keys.files(name)] for name in SOURCES],
        {name: frames[keys.std(name)] for name in SOURCES},
    )
    optional = {name: frames[name].collect() for name in OPTIONAL}
    try:
        published = publish(
            paths.warehouse_dir,
            context.run.run_id,
            tables,
            optional,
            keep=config.keep_versions,
            on_step=lambda step: context.log.debug(f"publish: {step}"),
        )
    except GateFailed as failure:
        raise dg.Failure(f"warehouse not published, gate checks failed: {failure}") from None
    context.log.info(f"published {published.path} (version {published.version.name})")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.path)),
            "version": dg.MetadataValue.path(str(published.version)),
            **{f"rows/{name}": frame.height for name, frame in {**tables, **optional}.items()},
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=r.name, passed=r.violations == 0, metadata={"violations": r.violations}
            )
            for r in published.gates
        ],
    )
