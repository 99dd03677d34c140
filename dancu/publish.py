"""The tables a publish loads into the warehouse, made from the stages' frames."""

import polars as pl

from dancu.contract import EXTRACT_DATE, FILE_NAME, RECORD_ID, ROW_NUMBER, SOURCE
from dancu.rules import FLAGS, RULES, accepted, rule_id

# The stages' tables published as they are.
PUBLISHED = [
    "person", "person_source", "civil_event", "event_party", "quarantine", "relationship",
    "consistency_issue", "source_correction",
]  # fmt: skip
# Tables of sql/optional_tables.sql: their columns follow the frame (the review queue has a
# column per comparison of the resolution model).
OPTIONAL = ["review_queue", "person_id_history"]
# Rules that find a value missing measure completeness; every other rule measures correctness.
COMPLETENESS_RULES = {"required.missing", "id.missing"}


def latest_record_per_person(
    std: pl.LazyFrame, person_source: pl.DataFrame, columns: list[str]
) -> pl.LazyFrame:
    """`columns` of each accepted record, with its person, the latest extract first."""
    return (
        accepted(std)
        .select(SOURCE, RECORD_ID, EXTRACT_DATE, *columns)
        .join(person_source.lazy().select(SOURCE, RECORD_ID, "person_id"), on=[SOURCE, RECORD_ID])
        .sort("person_id", EXTRACT_DATE, RECORD_ID, descending=[False, True, False])
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


def warehouse_tables(
    stages: dict[str, pl.LazyFrame], files: list[pl.LazyFrame], std: dict[str, pl.LazyFrame]
) -> dict[str, pl.DataFrame]:
    """Every table of sql/warehouse.sql: the stages' tables of `PUBLISHED`, every delivered file,
    the sensitive and health columns kept apart from `person`, the flags of accepted rows, and
    the rules. `files` and `std`: each source's file list and standardised frame."""
    tables = {name: stages[name].collect() for name in PUBLISHED}
    tables["extract_file"] = pl.concat(files).sort(FILE_NAME).collect()
    tables["person_sensitive"] = person_sensitive(std["dan_cu"], tables["person_source"])
    tables["person_health"] = person_health(std["y_te"], tables["person_source"])
    flags = [record_flags(frame) for frame in std.values()]
    tables["record_flag"] = pl.concat(flags).sort(FILE_NAME, ROW_NUMBER, "rule_id").collect()
    tables["rule"] = rule_table()
    return tables
