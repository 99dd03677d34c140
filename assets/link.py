"""Link: civil events, and the life status they give the people they name.

Resolution has already linked each party of an event to a person (`event_party`); this stage
builds the events, flags those registered twice, applies deaths and marriages to the register
and finds what contradicts across sources.
"""

import dagster as dg
import polars as pl

from assets.standardize import accepted
from dancu.contract import EVENT_SOURCES, EXTRACT_DATE, FILE_NAME, RECORD_ID, ROW_NUMBER, SOURCE
from dancu.link import (
    apply_deaths,
    apply_marriages,
    consistency_issues,
    duplicate_events,
    event_id,
    relationships,
)
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


@dg.multi_asset(
    group_name="link",
    ins={
        **{f"std_{name}": dg.AssetIn(f"std_{name}") for name in EVENT_SOURCES},
        "person_golden": dg.AssetIn(),
        "person_source": dg.AssetIn(),
        "event_party": dg.AssetIn(),
        "std_y_te": dg.AssetIn(),
    },
    outs={
        "civil_event": staged(
            "One row per accepted birth, death or marriage registration.",
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
    person_golden: pl.LazyFrame,
    person_source: pl.LazyFrame,
    event_party: pl.LazyFrame,
    std_y_te: pl.LazyFrame,
    **std_frames,
):
    """Build civil events and apply the deaths and marriages of linked parties to persons."""
    frames = {name.removeprefix("std_"): frame for name, frame in std_frames.items()}
    events = pl.concat([civil_events(s, frames[s]) for s in EVENT_SOURCES]).collect()
    party = event_party.collect()
    events = duplicate_events(events, party).drop("subject_key", "second_key")
    persons = apply_marriages(apply_deaths(person_golden.collect(), events, party), events, party)
    visits = (
        accepted(std_y_te)
        .select(SOURCE, RECORD_ID, "visit_date")
        .join(person_source.select(SOURCE, RECORD_ID, "person_id"), on=[SOURCE, RECORD_ID])
        .collect()
    )
    issues = consistency_issues(events, party, persons, visits)
    yield dg.Output(
        events,
        output_name="civil_event",
        metadata={
            "events": events.height,
            "registered_twice": int(events["duplicate_of"].is_not_null().sum()),
        },
    )
    yield dg.Output(
        persons,
        output_name="person",
        metadata={
            "persons": persons.height,
            "deceased": int(persons["is_deceased"].sum()),
            "married_by_registration": int((persons["marital_status_source"] == "ket_hon").sum()),
        },
    )
    yield dg.Output(relationships(party), output_name="relationship")
    yield dg.Output(
        issues,
        output_name="consistency_issue",
        metadata={f"rule/{rule}": n for rule, n in issues["rule"].value_counts().iter_rows()},
    )
