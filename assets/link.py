"""Link: civil events, and the life status they give the people they name.

Resolution has already linked each party of an event to a person (`event_party`); this stage
builds the events, flags those registered twice, applies deaths and marriages to the register
and finds what contradicts across sources.
"""

import dagster as dg
import polars as pl

from dancu.contract import EVENT_SOURCES
from dancu.link import (
    apply_deaths,
    apply_marriages,
    civil_events,
    consistency_issues,
    duplicate_events,
    relationships,
    visits,
)
from orchestration import keys
from orchestration.privacy import masked_errors
from orchestration.resources import staged


@dg.multi_asset(
    group_name="link",
    ins={
        **{keys.std(name): dg.AssetIn(keys.std(name)) for name in EVENT_SOURCES},
        "person_golden": dg.AssetIn(),
        "person_source": dg.AssetIn(),
        "event_party": dg.AssetIn(),
        keys.std("y_te"): dg.AssetIn(),
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
    events = pl.concat([civil_events(s, std_frames[keys.std(s)]) for s in EVENT_SOURCES]).collect()
    party = event_party.collect()
    events = duplicate_events(events, party)
    persons = apply_marriages(apply_deaths(person_golden, events, party), events, party)
    issues = consistency_issues(events, party, persons, visits(std_y_te, person_source))
    events = events.drop("subject_key", "second_key")
    persons_count, deceased, married_by_registration = (
        persons.select(
            pl.len(),
            pl.col("is_deceased").sum(),
            (pl.col("marital_status_source") == "ket_hon").sum(),
        )
        .collect(engine="streaming")
        .row(0)
    )
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
            "persons": persons_count,
            "deceased": deceased,
            "married_by_registration": married_by_registration,
        },
    )
    yield dg.Output(relationships(party), output_name="relationship")
    yield dg.Output(
        issues,
        output_name="consistency_issue",
        metadata={f"rule/{rule}": n for rule, n in issues["rule"].value_counts().iter_rows()},
    )
