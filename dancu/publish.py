"""The tables a publish loads into the warehouse, made from the stages' frames."""

import polars as pl

from dancu.admin_units import current_wards, ward_conversion
from dancu.contract import (
    EVENT_SOURCES,
    EXTRACT_DATE,
    FILE_NAME,
    RECORD_ID,
    ROW_NUMBER,
    SOURCE,
    SOURCES,
)
from dancu.documents import NATIONAL_ID, VIETNAM
from dancu.match_status import joined_by_record, record_matches, status_table
from dancu.rules import FLAGS, PREVIOUS_VERSION_HELD, RULES, Rule, accepted, is_held, rule_id

# The stages' tables published as they are.
PUBLISHED = [
    "person", "person_source", "civil_event", "event_party", "quarantine", "relationship",
    "consistency_issue", "source_correction",
]  # fmt: skip
# Tables of sql/optional_tables.sql: their columns follow the frame (the review queue has a
# column per comparison of the resolution model).
OPTIONAL = ["review_queue", "person_id_history"]
# The differences `dancu.corrections` holds back because the evidence is close, which clerks
# review (`correction_review`); the others are held for reasons a clerk cannot settle better.
REVIEWED_HOLDS = ("uncertain", "register_doubtful")
# Documents the register's own records carry, each in a column of its own.
REGISTER_DOCUMENTS = {"national_id": NATIONAL_ID, "cmnd": "cmnd"}
LINEAGE_COLUMNS = [FILE_NAME, ROW_NUMBER, EXTRACT_DATE]
STUDENT_COLUMNS = [RECORD_ID, "school_code", "class_name", "school_year", "ward_code",
                   *LINEAGE_COLUMNS]  # fmt: skip
REQUEST_COLUMNS = [
    RECORD_ID, "received_date", "certificate_form", "full_name", "other_names", "birth_date",
    "birth_year", "sex", "birth_place", "nationality", "document_type", "document_number",
    "issuing_country", "address", "ward_code", "father_name", "mother_name", "spouse_name",
    "criminal_record", "has_criminal_record", *LINEAGE_COLUMNS,
]  # fmt: skip
# Rules that find a value missing measure completeness; a record held at an earlier version
# because its later delivery was refused, how live the register is (the refused row already
# counts against correctness); every other rule measures correctness.
COMPLETENESS_RULES = {"required.missing", "id.missing"}
LIVENESS_RULES = {PREVIOUS_VERSION_HELD.id}


Frame = pl.DataFrame | pl.LazyFrame


def latest_record_per_person(
    std: pl.LazyFrame, person_source: Frame, columns: list[str]
) -> pl.LazyFrame:
    """`columns` of each accepted record, with its person, the latest extract first."""
    return (
        accepted(std)
        .select(SOURCE, RECORD_ID, EXTRACT_DATE, *columns)
        .pipe(joined_by_record, person_source.lazy().select(SOURCE, RECORD_ID, "person_id"))
        .sort("person_id", EXTRACT_DATE, RECORD_ID, descending=[False, True, False])
    )


def person_sensitive(std_dan_cu: pl.LazyFrame, person_source: Frame) -> pl.LazyFrame:
    """Ethnicity and religion of each person, from their latest dan_cu record."""
    records = latest_record_per_person(std_dan_cu, person_source, ["ethnicity", "religion"])
    return (
        records.group_by("person_id", maintain_order=True)
        .first()
        .select("person_id", "ethnicity", "religion", RECORD_ID)
    )


def person_health(std_y_te: pl.LazyFrame, person_source: Frame) -> pl.LazyFrame:
    """Each patient's latest health-insurance card and visit, from y_te."""
    records = latest_record_per_person(std_y_te, person_source, ["health_card", "visit_date"])
    return records.group_by("person_id", maintain_order=True).agg(
        pl.col("health_card").drop_nulls().first(),
        pl.col("visit_date").max().alias("last_visit_date"),
        pl.len().alias("patient_records"),
    )


def _with_person(std: pl.LazyFrame, person_source: Frame) -> pl.LazyFrame:
    """The accepted records of a person source, each with its person."""
    persons = person_source.lazy().select(SOURCE, RECORD_ID, "person_id").drop_nulls("person_id")
    return joined_by_record(accepted(std), persons)


def _as_party(std: pl.LazyFrame, event_party: Frame, role: str) -> pl.LazyFrame:
    """The accepted registrations of an event source, each with the person linked as `role`."""
    linked = event_party.lazy().filter(pl.col("role") == role).select("event_id", "person_id")
    event_id = (pl.col(SOURCE) + ":" + pl.col(RECORD_ID)).alias("event_id")
    return accepted(std).with_columns(event_id).join(linked.drop_nulls(), on="event_id")


def _documents(
    records: pl.LazyFrame, kind: pl.Expr, number: pl.Expr, country: pl.Expr
) -> pl.LazyFrame:
    return records.select(
        "person_id",
        kind.alias("document_type"),
        number.alias("document_number"),
        country.alias("issuing_country"),
        SOURCE,
        RECORD_ID,
    ).drop_nulls(["document_type", "document_number"])


def party_nationality_columns(source: str) -> dict[str, str]:
    """Each party of an event source whose nationality the source names, and that column: a
    parent's or spouse's own (`mother_nationality`), the event's for the person it founds."""
    event, names = SOURCES[source].event, SOURCES[source].column_names
    own = {role: f"{role}_nationality" for role in event.parties}
    founded = dict.fromkeys(event.founding_roles, "nationality")
    return {role: column for role, column in {**own, **founded}.items() if column in names}


def person_documents(
    std: dict[str, pl.LazyFrame], person_source: Frame, event_party: Frame
) -> pl.LazyFrame:
    """`person_document`: every identity document a person was seen with, one row per record
    that shows it: the register's personal id, old identity card and the id a re-issued one
    replaced; a judicial-record request's document of any type; a student's code; the
    documents of the parties of births and marriages, and the personal id a birth registration
    gave its child. Copies of a personal id typed by other agencies (insurance, health, a
    school's id column) are not documents the person showed: a typo there is a correction."""
    register = _with_person(std["dan_cu"], person_source)
    parts = [
        _documents(register, pl.lit(kind), pl.col(column), pl.lit(VIETNAM))
        for column, kind in REGISTER_DOCUMENTS.items()
    ]
    previous = pl.col("previous_national_id")
    parts.append(
        _documents(
            register.filter(previous.ne_missing(pl.col("national_id"))),
            pl.lit("previous_national_id"),
            previous,
            pl.lit(VIETNAM),
        )
    )
    requests = _with_person(std["ly_lich_tu_phap"], person_source)
    parts.append(
        _documents(
            requests, pl.col("document_type"), pl.col("document_number"), pl.col("issuing_country")
        )
    )
    students = _with_person(std["giao_duc"], person_source)
    parts.append(_documents(students, pl.lit("student_code"), pl.col(RECORD_ID), pl.lit(VIETNAM)))
    shown_at_events = []
    for source in EVENT_SOURCES:
        for document in SOURCES[source].documents:
            parties = _as_party(std[source], event_party, document.holder.removesuffix("_"))
            type_, number = pl.col(document.type), pl.col(document.number)
            shown_at_events.append(
                _documents(parties, type_, number, pl.col(document.issuing_country))
            )
        event = SOURCES[source].event
        for role in event.founding_roles:
            parties = _as_party(std[source], event_party, role)
            id_column = pl.col(event.parties[role].national_id)
            shown_at_events.append(
                _documents(parties, pl.lit(NATIONAL_ID), id_column, pl.lit(VIETNAM))
            )
    # Only a registration shows one person's document twice (one person in two roles): made
    # unique alone, the events' few rows spare a hash of all 15 million documents of ten
    # million persons (0.6 GiB of the peak).
    return pl.concat([*parts, pl.concat(shown_at_events).unique()]).sort(pl.all())


def person_nationalities(
    std: dict[str, pl.LazyFrame], person_source: Frame, event_party: Frame
) -> pl.LazyFrame:
    """`person_nationality`: each nationality any record of a person names (a dual national
    has two rows), with the `sources` that name it."""
    named = [
        _with_person(std[source], person_source).select("person_id", SOURCE, "nationality")
        for source in ("dan_cu", "giao_duc", "ly_lich_tu_phap")
    ]
    named += [
        _as_party(std[source], event_party, role).select(
            "person_id", SOURCE, pl.col(column).alias("nationality")
        )
        for source in EVENT_SOURCES
        for role, column in party_nationality_columns(source).items()
    ]
    return (
        pl.concat(named)
        .explode("nationality")
        .drop_nulls("nationality")
        .group_by("person_id", "nationality")
        .agg(pl.col(SOURCE).unique().sort().alias("sources"))
        .sort("person_id", "nationality")
    )


def foreign_parties(std: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
    """`foreign_party`: each foreign nationality of a party of an accepted birth or marriage
    registration (a child's second nationality included), linked to a person or not."""
    parts = [
        accepted(std[source]).select(
            (pl.col(SOURCE) + ":" + pl.col(RECORD_ID)).alias("event_id"),
            pl.lit(role).alias("role"),
            pl.col(column).alias("nationality"),
        )
        for source in EVENT_SOURCES
        for role, column in party_nationality_columns(source).items()
    ]
    return (
        pl.concat(parts)
        .explode("nationality")
        .filter(pl.col("nationality") != VIETNAM)
        .unique()
        .sort(pl.all())
    )


def students(std_giao_duc: pl.LazyFrame) -> pl.LazyFrame:
    """`student`: what the education service needs of each accepted student record."""
    return accepted(std_giao_duc).select(STUDENT_COLUMNS).sort(RECORD_ID)


def justice_requests(std_justice: pl.LazyFrame) -> pl.LazyFrame:
    """`justice_request`: each accepted judicial-record request as the justice sector delivered
    it, standardised, with `Án tích` (`criminal_record`): criminal data, for its view alone."""
    return accepted(std_justice).select(REQUEST_COLUMNS).sort(RECORD_ID)


def correction_review(held: pl.LazyFrame) -> pl.LazyFrame:
    """`correction_review`: the differences `dancu.corrections` held back because the evidence
    is close (`REVIEWED_HOLDS`), for a clerk to settle; `held_because` says which."""
    return held.filter(pl.col("held_because").is_in(REVIEWED_HOLDS))


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


def held_per_file(std: pl.LazyFrame) -> pl.LazyFrame:
    """How many rows of each file are held: published for a record whose later delivery was
    quarantined, although a later extract superseded them."""
    return std.filter(is_held()).group_by(FILE_NAME).agg(pl.len().cast(pl.Int64).alias("rows_held"))


def extract_files(files: list[pl.LazyFrame], std: list[pl.LazyFrame]) -> pl.LazyFrame:
    """`extract_file`: every delivered file as ingest read it, with its rows held, which only
    validation can tell."""
    held = pl.concat([held_per_file(frame) for frame in std])
    return (
        pl.concat(files)
        .join(held, on=FILE_NAME, how="left")
        .with_columns(pl.col("rows_held").fill_null(0))
        .sort(FILE_NAME)
    )


def dimension(rule: Rule) -> str:
    """The quality dimension a rule measures (`dq_metric`)."""
    if rule.id in COMPLETENESS_RULES:
        return "complete"
    return "live" if rule.id in LIVENESS_RULES else "correct"


def ward_conversion_table() -> pl.DataFrame:
    """Each current ward (with no old ward), and each old ward with the current one it became."""
    current = current_wards().select(pl.lit(None, pl.String).alias("old_ward_code"), "ward_code")
    became = ward_conversion().select("old_ward_code", "ward_code")
    return pl.concat([current, became]).sort("ward_code", "old_ward_code", nulls_last=False)


def rule_table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "rule_id": [r.id for r in RULES],
            "severity": [r.severity for r in RULES],
            "dimension": [dimension(r) for r in RULES],
            "message": [r.message for r in RULES],
        }
    )


def warehouse_tables(
    stages: dict[str, pl.LazyFrame],
    files: list[pl.LazyFrame],
    std: dict[str, pl.LazyFrame],
    corrections_held: pl.LazyFrame,
) -> dict[str, pl.LazyFrame]:
    """Every table of sql/warehouse.sql, as plans a publish streams to disk one at a time: the
    stages' tables of `PUBLISHED`, every delivered file, the sensitive and health columns kept
    apart from `person`, the flags of accepted rows, the rules, the tables of the education and
    justice sources and of foreign elements (`new_source_tables`), and the corrections clerks
    review. `stages` also holds the `OPTIONAL` tables; `files` and `std`: each source's file
    list and standardised frame; `corrections_held`: the differences `dancu.corrections` did
    not report."""
    tables = {name: stages[name] for name in PUBLISHED}
    tables["extract_file"] = extract_files(files, list(std.values()))
    tables["person_sensitive"] = person_sensitive(std["dan_cu"], tables["person_source"])
    tables["person_health"] = person_health(std["y_te"], tables["person_source"])
    flags = [record_flags(frame) for frame in std.values()]
    tables["record_flag"] = pl.concat(flags).sort(FILE_NAME, ROW_NUMBER, "rule_id")
    tables["rule"] = rule_table().lazy()
    tables["ward_conversion"] = ward_conversion_table().lazy()
    tables["correction_review"] = correction_review(corrections_held)
    return tables | new_source_tables(tables, stages["review_queue"], std)


def new_source_tables(
    tables: dict[str, pl.LazyFrame], review_queue: pl.LazyFrame, std: dict[str, pl.LazyFrame]
) -> dict[str, pl.LazyFrame]:
    """The tables of the education and justice sources and of foreign elements, from the
    stages' tables in `tables`, the review queue and the standardised frames."""
    person_source, event_party = tables["person_source"], tables["event_party"]
    matches, candidates = record_matches(
        std, person_source, event_party, review_queue, tables["person"]
    )
    return {
        "person_document": person_documents(std, person_source, event_party),
        "person_nationality": person_nationalities(std, person_source, event_party),
        "foreign_party": foreign_parties(std),
        "student": students(std["giao_duc"]),
        "justice_request": justice_requests(std["ly_lich_tu_phap"]),
        "match_status": status_table().lazy(),
        "record_match": matches,
        "record_candidate": candidates,
    }
