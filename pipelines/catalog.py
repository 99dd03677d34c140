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
# religion, health) apart from the basic kind (names, ids, dates, addresses), and criminal data
# (judicial records' convictions) apart from both, the most sensitive of all.
SENSITIVE_SOURCES = ("dan_cu", "y_te")
CRIMINAL_SOURCES = ("ly_lich_tu_phap",)


def _source_pii(name: str) -> str:
    if name in CRIMINAL_SOURCES:
        return "criminal"
    return "sensitive" if name in SENSITIVE_SOURCES else "basic"


PII = {
    **{keys.raw(name): _source_pii(name) for name in SOURCES},
    **{keys.std(name): _source_pii(name) for name in SOURCES},
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
    "correction_held": "basic",
    "correction_workbooks": "basic",
}
# Assets that hold criminal data, whatever their `pii` tag says of the rest: the justice sector's
# frames, the warehouse (its `justice_request` table) and the one view that reads it.
CRIMINAL_DATA = frozenset(
    {*(keys.raw(name) for name in CRIMINAL_SOURCES), *(keys.std(name) for name in CRIMINAL_SOURCES),
     "warehouse", "svc_justice"}
)  # fmt: skip
SERVICE_PII = {"svc_audit": "pseudonymous", "svc_justice": "criminal"}
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
    "correction_held": "dancu.corrections",
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
    "svc_education": "Schools: young people by ward with their parents, and each student record "
    "with its person or its match status.",
    "svc_civil_status": "Civil-status registrars: each event, its parties and their persons.",
    "svc_audit": "Auditors: where every delivered row went and the rules it broke, no names.",
    "svc_justice": "Justice: each judicial-record request, its person or candidates, their "
    "documents and nationalities, and the convictions (criminal data).",
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


def pii_tags(name: str) -> dict[str, str]:
    """The `pii` tag of an asset, and `criminal_data` where it holds criminal data."""
    pii = SERVICE_PII.get(name, "basic") if name.startswith("svc_") else PII.get(name)
    tags = {"pii": pii} if pii else {}
    return tags | ({"criminal_data": "true"} if name in CRIMINAL_DATA else {})


def described(spec: dg.AssetSpec) -> dg.AssetSpec:
    """`spec` with its owners, `pii` tags, column schema, code version and freshness policy."""
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
        tags={**spec.tags, **pii_tags(name)},
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
            tags=pii_tags(view),
            metadata={"table": f"warehouse/services/{view}.duckdb: {view}"},
        )
        for view in SERVICE_VIEWS
    ]
