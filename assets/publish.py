"""Publish: the warehouse services read, built whole and swapped in only when its gates pass."""

import os
from pathlib import Path

import dagster as dg
import polars as pl

from dancu.contract import SOURCES
from dancu.publish import OPTIONAL, PUBLISHED, warehouse_tables
from dancu.warehouse import (
    DEFAULT_KEEP_VERSIONS,
    DEFAULT_MAX_DROP_SHARE,
    GateFailed,
    load_gates,
    publish,
)
from orchestration import keys
from orchestration.privacy import masked_errors
from orchestration.resources import DancuPaths, peak_memory

GATES = load_gates()


class PublishConfig(dg.Config):
    keep_versions: int = DEFAULT_KEEP_VERSIONS
    """How many published versions stay in warehouse/versions/ (the published one included)."""
    max_drop_share: float = DEFAULT_MAX_DROP_SHARE
    """The share of persons, or of one source's records, a publish may lose against the
    published version; 1 publishes whatever the run made."""
    service_group: str | None = None
    """Who may read the per-service files: a group, or `view=group` pairs, one group per
    service (default: $DANCU_SERVICE_GROUP, else the owner's group; see `service_access`)."""


@dg.asset(
    group_name="publish",
    kinds={"duckdb"},
    pool="warehouse",
    ins={
        **{name: dg.AssetIn(name) for name in [*PUBLISHED, *OPTIONAL, "correction_held"]},
        **{keys.files(name): dg.AssetIn(keys.files(name)) for name in SOURCES},
        **{keys.std(name): dg.AssetIn(keys.std(name)) for name in SOURCES},
    },
    check_specs=[
        dg.AssetCheckSpec(gate.name, asset="warehouse", description=gate.description)
        for gate in GATES
    ]
    + [
        dg.AssetCheckSpec(
            "no_collapse",
            asset="warehouse",
            description="No source's records, nor the persons, shrink beyond max_drop_share "
            "against the published version, and no published record is lost with a file gone "
            "from landing or unreadable (unless max_drop_share is 1).",
        )
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
        frames["correction_held"],
    )
    optional = {name: frames[name] for name in OPTIONAL}
    try:
        published = publish(
            paths.warehouse_dir,
            context.run.run_id,
            tables,
            optional,
            keep=config.keep_versions,
            on_step=lambda step: context.log.debug(f"publish: {step}"),
            keys=paths.secret_keys(),
            max_drop_share=config.max_drop_share,
            service_group=config.service_group or os.environ.get("DANCU_SERVICE_GROUP"),
            data_dir=Path(paths.data_dir),
        )
    except GateFailed as failure:
        raise dg.Failure(f"warehouse not published, gate checks failed: {failure}") from None
    context.log.info(f"published {published.path} (version {published.version.name})")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published.path)),
            "dagster/table_name": f"{published.path.name}: person",
            "dagster/row_count": published.rows["person"],
            "version": dg.MetadataValue.path(str(published.version)),
            **{f"rows/{name}": rows for name, rows in published.rows.items()},
            **peak_memory(),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=r.name, passed=r.violations == 0, metadata={"violations": r.violations}
            )
            for r in published.gates
        ],
    )
