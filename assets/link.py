"""Link: civil events, the people they name, and the life status they give those people.

A party links by national id, else by a folded name and birth date that exactly one person
has; a party left unlinked keeps a null person_id and the reason.
"""

import dagster as dg
import polars as pl

from assets.standardize import accepted
from dancu.contract import EVENT_SOURCES, EXTRACT_DATE, FILE_NAME, RECORD_ID, ROW_NUMBER, SOURCE
from dancu.link import consistency_issues, duplicate_events, link_parties, relationships
from dancu.text import fold
from pipelines.privacy import masked_errors
from pipelines.resources import staged

EVENT_TYPE = {"khai_sinh": "birth", "khai_tu": "death", "ket_hon": "marriage"}
EVENT_DATE = {"khai_sinh": "birth_date", "khai_tu": "death_date", "ket_hon": "registration_date"}
# The names that identify an event registered twice: its subject, and a second party.
EVENT_KEYS = {
    "khai_sinh": ("child_name_key", "mother_name_key"),
    "khai_tu": ("full_name_key", None),
    "ket_hon": ("husband_name_key", "wife_name_key"),
}
# Each role of an event: the columns naming that party (name, national id, birth date).
PARTIES = {
    "khai_sinh": {
        "child": ("child_name", "child_national_id", "birth_date"),
        "mother": ("mother_name", "mother_national_id", "mother_birth_date"),
        "father": ("father_name", "father_national_id", "father_birth_date"),
    },
    "khai_tu": {"deceased": ("full_name", "national_id", "birth_date")},
    "ket_hon": {
        "husband": ("husband_name", "husband_national_id", "husband_birth_date"),
        "wife": ("wife_name", "wife_national_id", "wife_birth_date"),
    },
}


def event_id(source: str) -> pl.Expr:
    return pl.lit(f"{source}:") + pl.col(RECORD_ID)


def civil_events(source: str, std: pl.LazyFrame) -> pl.LazyFrame:
    subject, second = EVENT_KEYS[source]
    return accepted(std).select(
        event_id(source).alias("event_id"),
        pl.lit(EVENT_TYPE[source]).alias("event_type"),
        SOURCE,
        RECORD_ID,
        pl.col(EVENT_DATE[source]).alias("event_date"),
        "registration_date",
        "registration_place_code",
        FILE_NAME,
        ROW_NUMBER,
        EXTRACT_DATE,
        pl.col(subject).alias("subject_key"),
        (pl.col(second) if second else pl.lit(None, dtype=pl.String)).alias("second_key"),
    )


def parties(source: str, std: pl.LazyFrame) -> pl.LazyFrame:
    """One row per party named in an event; a father nobody named is no party."""
    rows = []
    for role, (name, national_id, birth_date) in PARTIES[source].items():
        rows.append(
            accepted(std)
            .filter(pl.col(name).is_not_null() | pl.col(national_id).is_not_null())
            .select(
                event_id(source).alias("event_id"),
                pl.lit(role).alias("role"),
                pl.col(national_id).alias("national_id"),
                pl.col(f"{name}_key").alias("name_key"),
                pl.col(birth_date).alias("birth_date"),
                pl.col(birth_date.replace("_date", "_year")).alias("birth_year"),
            )
        )
    return pl.concat(rows)


def apply_deaths(golden: pl.DataFrame, events: pl.DataFrame, party: pl.DataFrame) -> pl.DataFrame:
    """Mark persons named as the deceased of a death registration (the earliest death wins)."""
    deaths = (
        party.filter(pl.col("role") == "deceased", pl.col("person_id").is_not_null())
        .join(
            events.filter(pl.col("duplicate_of").is_null()).select("event_id", "event_date"),
            on="event_id",
        )
        .group_by("person_id")
        .agg(pl.col("event_date").min().alias("death_date"))
    )
    return golden.join(deaths, on="person_id", how="left").with_columns(
        pl.col("death_date").is_not_null().alias("is_deceased")
    )


@dg.multi_asset(
    group_name="link",
    ins={
        **{f"std_{name}": dg.AssetIn(f"std_{name}") for name in EVENT_SOURCES},
        "person_golden": dg.AssetIn(),
        "person_source": dg.AssetIn(),
        "std_y_te": dg.AssetIn(),
    },
    outs={
        "civil_event": staged(
            "One row per accepted birth, death or marriage registration.",
        ),
        "event_party": staged(
            "Each person named in a civil event, with the person it links to.",
        ),
        "person": staged(
            "One row per resolved person: golden record with life status applied.",
        ),
        "relationship": staged(
            "Person to person: mother, father, child or spouse, from births and marriages.",
        ),
        "consistency_issue": staged(
            "Contradictions across sources: activity after death, marriage after "
            "death or while married, implausible mothers' ages.",
        ),
    },
)
@masked_errors
def link_events(
    person_golden: pl.LazyFrame, person_source: pl.LazyFrame, std_y_te: pl.LazyFrame, **std_frames
):
    """Build civil events, link their parties to persons and apply deaths to the register."""
    frames = {name.removeprefix("std_"): frame for name, frame in std_frames.items()}
    events = pl.concat([civil_events(s, frames[s]) for s in EVENT_SOURCES]).collect()
    events = events.with_columns(duplicate_events(events)).drop("subject_key", "second_key")
    golden = person_golden.collect()
    persons_keyed = golden.select(
        "person_id",
        "national_id",
        fold(pl.col("full_name")).alias("full_name_key"),
        "birth_date",
        "birth_year",
    )
    party = link_parties(
        pl.concat([parties(s, frames[s]) for s in EVENT_SOURCES]).collect(), persons_keyed
    )
    persons = apply_deaths(golden, events, party)
    visits = (
        accepted(std_y_te)
        .select(SOURCE, RECORD_ID, "visit_date")
        .join(person_source.select(SOURCE, RECORD_ID, "person_id"), on=[SOURCE, RECORD_ID])
        .collect()
    )
    issues = consistency_issues(events, party, persons, visits)
    linked = int(party["person_id"].is_not_null().sum())
    yield dg.Output(
        events,
        output_name="civil_event",
        metadata={
            "events": events.height,
            "registered_twice": int(events["duplicate_of"].is_not_null().sum()),
        },
    )
    yield dg.Output(
        party,
        output_name="event_party",
        metadata={"parties": party.height, "parties_linked": linked},
    )
    yield dg.Output(
        persons,
        output_name="person",
        metadata={"persons": persons.height, "deceased": int(persons["is_deceased"].sum())},
    )
    yield dg.Output(relationships(party), output_name="relationship")
    yield dg.Output(
        issues,
        output_name="consistency_issue",
        metadata={f"rule/{rule}": n for rule, n in issues["rule"].value_counts().iter_rows()},
    )
