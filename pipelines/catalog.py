"""What the Dagster UI tells about each asset beyond its data: who owns it, whether it holds
personal data, the columns of the standardised frames (from the pandera schemas), the version of
the code behind it, how fresh the published warehouse must be, and the service views that
read the warehouse. Applied over the whole graph in `definitions.py`, as policy, not asset by
asset."""

from datetime import timedelta

import dagster as dg
import pandera.polars as pa

from dancu.cache import code_version
from dancu.contract import SOURCES
from dancu.rules import FLAGS, REASONS
from dancu.schemas import standardized_schema
from dancu.warehouse import SERVICE_VIEWS
from orchestration import keys

# Who answers for each group of assets: the data engineers run the pipeline, the resolution
# team the matching and its review queue, the register team what is published.
OWNERS = {
    "ingest": ["team:data-engineering"],
    "standardize": ["team:data-engineering"],
    "validate": ["team:data-engineering"],
    "resolve": ["team:resolution"],
    "link": ["team:resolution"],
    "publish": ["team:register"],
    "report": ["team:register"],
}
# Personal data an asset holds, as the `pii` tag: Decree 13/2023 sets sensitive data (ethnicity,
# religion, health) apart from the basic kind (names, ids, dates, addresses).
PII = {
    **{keys.raw(name): "sensitive" if name in ("dan_cu", "y_te") else "basic" for name in SOURCES},
    **{keys.std(name): "sensitive" if name in ("dan_cu", "y_te") else "basic" for name in SOURCES},
    "quarantine": "sensitive",  # delivered values of rejected rows, of every source
    "person_source": "pseudonymous",
    "person_golden": "basic",
    "person": "basic",
    "event_party": "pseudonymous",
    "civil_event": "basic",  # folded names of the subjects, for duplicate registrations
    "relationship": "pseudonymous",
    "consistency_issue": "pseudonymous",
    "review_queue": "basic",
    "person_id_history": "pseudonymous",
    "warehouse": "sensitive",
    "review_queue_export": "basic",
    "source_correction": "basic",
    "correction_workbooks": "basic",
}
# The library module whose code an asset runs: its version changes when that code does.
CODE = {
    **{keys.raw(name): "dancu.ingest" for name in SOURCES},
    **{keys.files(name): "dancu.ingest" for name in SOURCES},
    **{keys.std(name): "dancu.standardize" for name in SOURCES},
    "quarantine": "dancu.validate",
    **dict.fromkeys(
        ("person_source", "person_golden", "review_queue", "person_id_history", "event_party"),
        "dancu.resolve",
    ),
    **dict.fromkeys(("civil_event", "person", "relationship", "consistency_issue"), "dancu.link"),
    "warehouse": "dancu.publish",
    "auditor_report": "dancu.report.html",
    "review_queue_export": "dancu.review",
    "source_correction": "dancu.corrections",
    "correction_workbooks": "dancu.corrections",
}
# The schedule rebuilds the register every night: a warehouse older than a day and a night has
# missed a run.
WAREHOUSE_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=30), warn_window=timedelta(hours=26)
)
SERVICE_VIEW_PURPOSE = {
    "svc_health": "Health facilities: a patient, their insurance card, whether they are alive.",
    "svc_insurance": "Social insurance: the right living person for contributions and benefits.",
    "svc_education": "Schools: living children and young adults by ward, with their parents.",
    "svc_civil_status": "Civil-status registrars: each event, its parties and their persons.",
    "svc_audit": "Auditors: where every delivered row went and the rules it broke, no names.",
}


def _column(name: str, column: pa.Column) -> dg.TableColumn:
    return dg.TableColumn(
        name,
        str(column.dtype),
        constraints=dg.TableColumnConstraints(nullable=column.nullable),
    )


def standardized_columns(source: str) -> dg.TableSchema:
    """The columns of `std_<source>` as its pandera schema declares them, with the rule outcomes."""
    schema = standardized_schema(SOURCES[source])
    outcomes = [
        dg.TableColumn(REASONS, "list[str]", "quarantine rules the row breaks (empty: accepted)"),
        dg.TableColumn(FLAGS, "list[str]", "advisory rules the row breaks"),
    ]
    return dg.TableSchema([*(_column(n, c) for n, c in schema.columns.items()), *outcomes])


COLUMN_SCHEMAS = {keys.std(name): standardized_columns(name) for name in SOURCES}


def described(spec: dg.AssetSpec) -> dg.AssetSpec:
    """`spec` with its owners, `pii` tag, column schema, code version and freshness policy."""
    name = spec.key.to_user_string()
    extra = {}
    if name in CODE:
        extra["code_version"] = code_version(CODE[name])[:12]
    if name == "warehouse":
        extra["freshness_policy"] = WAREHOUSE_FRESHNESS
    if name in COLUMN_SCHEMAS:
        extra["metadata"] = {**spec.metadata, "dagster/column_schema": COLUMN_SCHEMAS[name]}
    return spec.replace_attributes(
        owners=OWNERS.get(spec.group_name or "", []),
        tags={**spec.tags, **({"pii": PII[name]} if name in PII else {})},
        **extra,
    )


def service_views() -> list[dg.AssetSpec]:
    """The views each service reads, downstream of the warehouse that holds them."""
    return [
        dg.AssetSpec(
            view,
            deps=["warehouse"],
            description=SERVICE_VIEW_PURPOSE[view],
            group_name="publish",
            kinds={"duckdb"},
            owners=OWNERS["publish"],
            tags={"pii": "pseudonymous" if view == "svc_audit" else "basic"},
            metadata={"table": f"warehouse/services/{view}.duckdb: {view}"},
        )
        for view in SERVICE_VIEWS
    ]
