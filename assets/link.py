"""Link: civil events, the people they name, and the life status they give those people.

This first version links a party to a person by national id only; a party without a
matching id keeps a null person_id and the reason.
"""

import dagster as dg
import polars as pl

from assets.standardize import accepted
from dancu.contract import EVENT_SOURCES, EXTRACT_DATE, FILE_NAME, RECORD_ID, ROW_NUMBER, SOURCE

EVENT_TYPE = {"khai_sinh": "birth", "khai_tu": "death", "ket_hon": "marriage"}
EVENT_DATE = {"khai_sinh": "birth_date", "khai_tu": "death_date", "ket_hon": "registration_date"}
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
                pl.col(birth_date).alias("birth_date"),
            )
        )
    return pl.concat(rows)


def link_parties(party_rows: pl.DataFrame, person_source_ids: pl.DataFrame) -> pl.DataFrame:
    """Attach the person holding each party's national id, or say why none is attached."""
    by_id = person_source_ids.unique("national_id")
    linked = party_rows.join(by_id, on="national_id", how="left")
    return linked.select(
        "event_id",
        "role",
        "person_id",
        pl.when(pl.col("person_id").is_not_null()).then(pl.lit("national_id")).alias("match_rule"),
        pl.when(pl.col("national_id").is_null())
        .then(pl.lit("no national id on the registration"))
        .when(pl.col("person_id").is_null())
        .then(pl.lit("national id not found in the register"))
        .alias("unmatched_reason"),
    ).sort("event_id", "role")


def apply_deaths(golden: pl.DataFrame, events: pl.DataFrame, party: pl.DataFrame) -> pl.DataFrame:
    """Mark persons named as the deceased of a death registration (the earliest death wins)."""
    deaths = (
        party.filter(pl.col("role") == "deceased", pl.col("person_id").is_not_null())
        .join(events.select("event_id", "event_date"), on="event_id")
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
    },
    outs={
        "civil_event": dg.AssetOut(
            kinds={"polars", "parquet"},
            description="One row per accepted birth, death or marriage registration.",
        ),
        "event_party": dg.AssetOut(
            kinds={"polars", "parquet"},
            description="Each person named in a civil event, with the person it links to.",
        ),
        "person": dg.AssetOut(
            kinds={"polars", "parquet"},
            description="One row per resolved person: golden record with life status applied.",
        ),
    },
)
def link_events(person_golden: pl.LazyFrame, **std_frames: pl.LazyFrame):
    """Build civil events, link their parties to persons and apply deaths to the register."""
    frames = {name.removeprefix("std_"): frame for name, frame in std_frames.items()}
    events = pl.concat([civil_events(s, frames[s]) for s in EVENT_SOURCES]).collect()
    golden = person_golden.collect()
    ids = golden.filter(pl.col("national_id").is_not_null()).select("national_id", "person_id")
    party = link_parties(pl.concat([parties(s, frames[s]) for s in EVENT_SOURCES]).collect(), ids)
    persons = apply_deaths(golden, events, party)
    linked = int(party["person_id"].is_not_null().sum())
    yield dg.Output(events, output_name="civil_event", metadata={"events": events.height})
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
