"""Publish: the warehouse services read, built whole and swapped in only when its gates pass."""

import dagster as dg
import polars as pl

from assets.standardize import accepted
from checks.rules import FLAGS, RULES, rule_id
from dancu.contract import FILE_NAME, RECORD_ID, ROW_NUMBER, SOURCE, SOURCES
from dancu.warehouse import DEFAULT_KEEP_VERSIONS, GateFailed, load_gates, publish
from pipelines.privacy import masked_errors
from pipelines.resources import DancuPaths

PUBLISHED = [
    "person", "person_source", "civil_event", "event_party", "quarantine", "relationship",
    "consistency_issue",
]  # fmt: skip
GATE_NAMES = [gate.name for gate in load_gates()]
# Rules that find a value missing measure completeness; every other rule measures correctness.
COMPLETENESS_RULES = {"required.missing", "id.missing"}
# Tables of sql/optional_tables.sql: their columns follow the frame (the review queue has a
# column per comparison of the resolution model).
OPTIONAL = ["review_queue", "person_id_history"]


class PublishConfig(dg.Config):
    keep_versions: int = DEFAULT_KEEP_VERSIONS
    """How many published versions stay in warehouse/versions/ (the published one included)."""


def latest_record_per_person(
    std: pl.LazyFrame, person_source: pl.DataFrame, columns: list[str]
) -> pl.LazyFrame:
    """`columns` of each accepted record, with its person, the latest extract first."""
    return (
        accepted(std)
        .select(SOURCE, RECORD_ID, "extract_date", *columns)
        .join(person_source.lazy().select(SOURCE, RECORD_ID, "person_id"), on=[SOURCE, RECORD_ID])
        .sort("person_id", "extract_date", RECORD_ID, descending=[False, True, False])
    )


def person_sensitive(std_dan_cu: pl.LazyFrame, person_source: pl.DataFrame) -> pl.DataFrame:
    """Ethnicity and religion of each person, from their latest dan_cu record."""
    records = latest_record_per_person(std_dan_cu, person_source, ["ethnicity", "religion"])
    return (
        records.group_by("person_id", maintain_order=True)
        .first()
        .select("person_id", "ethnicity", "religion", RECORD_ID)
        .collect()
    )


def person_health(std_y_te: pl.LazyFrame, person_source: pl.DataFrame) -> pl.DataFrame:
    """Each patient's latest health-insurance card and visit, from y_te."""
    records = latest_record_per_person(std_y_te, person_source, ["health_card", "visit_date"])
    return (
        records.group_by("person_id", maintain_order=True)
        .agg(
            pl.col("health_card").drop_nulls().first(),
            pl.col("visit_date").max().alias("last_visit_date"),
            pl.len().alias("patient_records"),
        )
        .collect()
    )


def record_flags(std: pl.LazyFrame) -> pl.LazyFrame:
    """One row per accepted row and advisory rule it breaks."""
    return (
        accepted(std)
        .select(SOURCE, FILE_NAME, ROW_NUMBER, FLAGS)
        .explode(FLAGS)
        .select(SOURCE, FILE_NAME, ROW_NUMBER, rule_id(pl.col(FLAGS)).alias("rule_id"))
        .drop_nulls("rule_id")
        .unique()
    )


def rule_table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "rule_id": [r.id for r in RULES],
            "severity": [r.severity for r in RULES],
            "dimension": ["complete" if r.id in COMPLETENESS_RULES else "correct" for r in RULES],
            "message": [r.message for r in RULES],
        }
    )


@dg.asset(
    group_name="publish",
    kinds={"duckdb"},
    pool="warehouse",
    ins={
        **{name: dg.AssetIn(name) for name in [*PUBLISHED, *OPTIONAL]},
        **{f"files_{name}": dg.AssetIn(f"files_{name}") for name in SOURCES},
        **{f"std_{name}": dg.AssetIn(f"std_{name}") for name in SOURCES},
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
    tables = {name: frames[name].collect() for name in PUBLISHED}
    files = [frames[f"files_{name}"] for name in SOURCES]
    tables["extract_file"] = pl.concat(files).sort(FILE_NAME).collect()
    tables["person_sensitive"] = person_sensitive(frames["std_dan_cu"], tables["person_source"])
    tables["person_health"] = person_health(frames["std_y_te"], tables["person_source"])
    flags = [record_flags(frames[f"std_{name}"]) for name in SOURCES]
    tables["record_flag"] = pl.concat(flags).sort(FILE_NAME, ROW_NUMBER, "rule_id").collect()
    tables["rule"] = rule_table()
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
