"""Civil events and the people they name: party records, relationships, duplicates, life
status and consistency.

The people an event names are person records too (`party_records`): resolution links them to
the register with the same model as every other record, so a party links where the evidence
is strong, waits for a clerk where it is unsure, and stays unlinked otherwise. Pure functions
over polars frames; `assets/link.py` wires them into the graph.
"""

from pathlib import Path

import duckdb
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import OSA

from dancu.contract import (
    EVENT_SOURCES,
    EXTRACT_DATE,
    FILE_NAME,
    RECORD_ID,
    ROW_NUMBER,
    SOURCE,
    SOURCES,
    Party,
)
from dancu.resolve.records import (
    COLUMNS,
    FOUNDS_PERSON,
    document_columns,
    foreign_element,
    is_vietnamese,
)
from dancu.rules import MOTHER_AGE, accepted, id_of_another_party

Frame = pl.DataFrame | pl.LazyFrame
ROLE_SEPARATOR = ":"  # a party's record id: the event's record id, then its role
PREVIOUS_IDS = f"""
    select source, source_record_id, person_id from person_source
    union all
    select e.source, e.source_record_id || '{ROLE_SEPARATOR}' || p.role, p.person_id
    from event_party p join civil_event e using (event_id)
    where p.person_id is not null
"""


def event_id(source: str) -> pl.Expr:
    return pl.lit(f"{source}:") + pl.col(RECORD_ID)


def civil_events(source: str, std: pl.LazyFrame) -> pl.LazyFrame:
    """One row per accepted registration of an event source, with the folded names that tell
    an event registered twice (`subject_key`, `second_key`)."""
    event = SOURCES[source].event
    second_key = pl.col(event.second_key) if event.second_key else pl.lit(None, dtype=pl.String)
    return accepted(std).select(
        event_id(source).alias("event_id"),
        pl.lit(event.type).alias("event_type"),
        SOURCE,
        RECORD_ID,
        pl.col(event.date).alias("event_date"),
        "registration_date",
        "registration_place_code",
        FILE_NAME,
        ROW_NUMBER,
        EXTRACT_DATE,
        pl.col(event.subject_key).alias("subject_key"),
        second_key.alias("second_key"),
    )


def visits(std_y_te: pl.LazyFrame, person_source: pl.LazyFrame) -> pl.DataFrame:
    """Each accepted health-facility visit with the person it belongs to."""
    return (
        accepted(std_y_te)
        .select(SOURCE, RECORD_ID, "visit_date")
        .join(person_source.select(SOURCE, RECORD_ID, "person_id"), on=[SOURCE, RECORD_ID])
        .collect()
    )


def party_record_id(role: str) -> pl.Expr:
    return pl.col(RECORD_ID) + pl.lit(f"{ROLE_SEPARATOR}{role}")


def _foreign_columns(source: str, role: str, names: list[str]) -> dict[str, pl.Expr]:
    """A party's passport and whether it has a foreign element: from the document and the
    nationality the event names for the role (`mother_document_type`, ...), for a child from
    the event's own nationality. A party known by a passport founds a person where nobody
    else is it: a foreign parent or spouse, whose births and marriages then link together."""
    document = next((d for d in SOURCES[source].documents if d.holder == f"{role}_"), None)
    values = document_columns(document, names) if document else {}
    if not values and role in SOURCES[source].event.founding_roles and "nationality" in names:
        values = {
            "foreign": foreign_element(pl.col("nationality"), pl.lit(None)),
            "vietnamese": is_vietnamese(pl.col("nationality")),
        }
    if "passport" in values:
        values[FOUNDS_PERSON] = values["passport"].is_not_null()
    return values


def _own_id(source: str, role: str, party: Party) -> pl.Expr:
    """The party's personal id, but not where the party is the person the event brings into
    being and the id is another party's of the same event: a child's id that is its mother's
    or father's (typed into the wrong box, or copied) is theirs, and would give two persons one
    id. The row keeps its flag `id.a_parents_on_the_child`."""
    own = pl.col(party.national_id)
    if role not in SOURCES[source].event.founding_roles:
        return own
    return pl.when(id_of_another_party(SOURCES[source], role)).then(None).otherwise(own)


def _party(source: str, role: str, party: Party, events: pl.LazyFrame) -> pl.LazyFrame:
    sex = pl.col(party.sex) if party.sex == "sex" else pl.lit(party.sex)
    father, mother = party.parents or (None, None)
    founds = pl.lit(role in SOURCES[source].event.founding_roles)
    foreign = _foreign_columns(source, role, events.collect_schema().names())
    if FOUNDS_PERSON in foreign:
        foreign[FOUNDS_PERSON] = founds | foreign[FOUNDS_PERSON]
    values = {
        SOURCE: pl.lit(source),
        RECORD_ID: party_record_id(role),
        "national_id": _own_id(source, role, party),
        "full_name": pl.col(party.name),
        "full_name_key": pl.col(f"{party.name}_key"),
        "birth_date": pl.col(party.birth_date),
        "birth_year": pl.col(party.birth_year),
        "sex": sex,
        "father_name": pl.col(father) if father else pl.lit(None),
        "mother_name": pl.col(mother) if mother else pl.lit(None),
        FOUNDS_PERSON: founds,
        **foreign,
    }
    lineage = {c: pl.col(c) for c in (FILE_NAME, ROW_NUMBER, EXTRACT_DATE)}
    return events.filter(
        pl.col(party.name).is_not_null() | pl.col(party.national_id).is_not_null()
    ).select(
        (values | lineage).get(column, pl.lit(None)).cast(dtype).alias(column)
        for column, dtype in COLUMNS.items()
    )


def party_records(std_frames: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
    """One person record (the shape of `dancu.resolve.records.COLUMNS`) per party named in an
    accepted civil event of `std_frames`: `source` is the event's source and the record id
    "<event record id>:<role>". A father nobody named is no party. The records come in source,
    then record-id order, the order `keyed` gives them."""
    parts = [
        _party(source, role, party, accepted(std_frames[source]))
        for source in EVENT_SOURCES
        if source in std_frames
        for role, party in SOURCES[source].event.parties.items()
    ]
    return pl.concat(parts, how="vertical").sort(SOURCE, RECORD_ID)


def previous_person_ids(warehouse: Path) -> pl.DataFrame | None:
    """The published run's record -> person_id map (register records and the parties of
    events, as `party_records` names them), so persons keep their ids."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(PREVIOUS_IDS).pl()


def event_parties(records: pl.DataFrame, review_queue: pl.DataFrame) -> pl.DataFrame:
    """`event_party`: each party (resolved records of `party_records`, with `person_id`,
    `match_rule` and `match_weight`) with its event, role and person, or why it has none: a
    possible match waiting in the review queue, or nobody in the register matching."""
    sides = [
        review_queue.select(
            pl.col(f"{SOURCE}{side}").alias(SOURCE), pl.col(f"{RECORD_ID}{side}").alias(RECORD_ID)
        )
        for side in ("_l", "_r")
    ]
    in_review = pl.concat(sides).unique()
    record = pl.col(RECORD_ID).str.splitn(ROLE_SEPARATOR, 2)
    event_record, role = record.struct.field("field_0"), record.struct.field("field_1")
    linked = pl.col("person_id").is_not_null()
    return (
        records.join(
            in_review.with_columns(pl.lit(True).alias("in_review")),
            on=[SOURCE, RECORD_ID],
            how="left",
        )
        .select(
            (pl.col(SOURCE) + ":" + event_record).alias("event_id"),
            role.alias("role"),
            "person_id",
            pl.when(~linked)
            .then(None)
            .when(pl.col("match_rule") == "single")
            .then(pl.lit("new_person"))
            .otherwise(pl.col("match_rule"))
            .alias("match_rule"),
            pl.when(linked).then(pl.col("match_weight")).alias("match_weight"),
            pl.when(linked)
            .then(None)
            .when(pl.col("in_review").fill_null(False))
            .then(pl.lit("uncertain: a possible match waits in the review queue"))
            .otherwise(pl.lit("no person in the register matches with confidence"))
            .alias("unmatched_reason"),
        )
        .sort("event_id", "role")
    )


def _unique_events(events: pl.DataFrame, event_type: str) -> pl.DataFrame:
    """Events of one type, each counted once (a registration made again points to the first)."""
    return events.filter(
        pl.col("event_type") == event_type, pl.col("duplicate_of").is_null()
    ).select("event_id", "event_date")


def _spouses(marriages: pl.DataFrame) -> pl.DataFrame:
    """Per linked spouse of a marriage (`event_id`, `person_id`, `event_date`), the other
    spouse (`person_id_spouse`; null where the register does not hold them: a foreigner, a
    spouse the register never had), each person's marriages in the order they were made."""
    linked = (
        marriages.join(marriages, on="event_id", suffix="_spouse")
        .filter(pl.col("person_id") != pl.col("person_id_spouse"))
        .select("event_id", "person_id", "event_date", "person_id_spouse")
    )
    alone = marriages.join(linked, on=["event_id", "person_id"], how="anti").select(
        "event_id", "person_id", "event_date", pl.lit(None, pl.String).alias("person_id_spouse")
    )
    return pl.concat([linked, alone]).sort("person_id", "event_date", "event_id")


def apply_deaths(persons: Frame, events: pl.DataFrame, parties: pl.DataFrame) -> pl.LazyFrame:
    """`persons` with `is_deceased` and `death_date`: a person named as the deceased of a death
    registration is dead from the earliest such death date. Lazy, as is `apply_marriages`: the
    persons stream past the few events rather than being held (ten million golden records)."""
    deaths = (
        parties.filter(pl.col("role") == "deceased", pl.col("person_id").is_not_null())
        .join(_unique_events(events, "death"), on="event_id")
        .group_by("person_id")
        .agg(pl.col("event_date").min().alias("death_date"))
    )
    return (
        persons.lazy()
        .join(deaths.lazy(), on="person_id", how="left", maintain_order="left")
        .with_columns(pl.col("death_date").is_not_null().alias("is_deceased"))
    )


def apply_marriages(persons: Frame, events: pl.DataFrame, parties: pl.DataFrame) -> pl.LazyFrame:
    """`persons` (with `marital_status`, its `marital_status_source` and `marital_status_as_of`,
    and `death_date`) with the status their latest registered marriage gives: "married", or
    "widowed" once that spouse has died. It wins where it is newer than what the register said
    (the marriage, or the spouse's death, after the extract that gave the status)."""
    persons = persons.lazy()
    married = (
        parties.filter(pl.col("role").is_in(["husband", "wife"]), pl.col("person_id").is_not_null())
        .join(_unique_events(events, "marriage"), on="event_id")
        .select("event_id", "person_id", "event_date")
    )
    latest = (
        _spouses(married)
        .group_by("person_id", maintain_order=True)
        .last()
        .join(
            # Collected on its own: a plan that read the persons twice would cache them whole.
            persons.filter(pl.col("death_date").is_not_null())
            .select(
                pl.col("person_id").alias("person_id_spouse"),
                pl.col("death_date").alias("spouse_died"),
            )
            .collect(),
            on="person_id_spouse",
            how="left",
        )
        .with_columns(pl.when(pl.col("spouse_died") >= pl.col("event_date")).then("spouse_died"))
        .select(
            "person_id",
            pl.when(pl.col("spouse_died").is_not_null())
            .then(pl.lit("widowed"))
            .otherwise(pl.lit("married"))
            .alias("_status"),
            pl.max_horizontal("event_date", "spouse_died").alias("_as_of"),
            pl.when(pl.col("spouse_died").is_not_null())
            .then(pl.lit("khai_tu"))
            .otherwise(pl.lit("ket_hon"))
            .alias("_source"),
        )
    )
    said_at = pl.col("marital_status_as_of")
    newer = pl.col("_as_of").is_not_null() & (said_at.is_null() | (pl.col("_as_of") > said_at))
    return (
        persons.join(latest.lazy(), on="person_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(newer).then(pl.col(c)).otherwise(pl.col(target)).alias(target)
            for c, target in (
                ("_status", "marital_status"),
                ("_source", "marital_status_source"),
                ("_as_of", "marital_status_as_of"),
            )
        )
        .drop("_status", "_source", "_as_of")
    )


def relationships(parties: pl.DataFrame) -> pl.DataFrame:
    """Person to person: `relation` is what `related_person_id` is to `person_id` (mother,
    father, child, spouse), from births and marriages whose parties are both linked."""
    linked = parties.filter(pl.col("person_id").is_not_null())
    role = {r: linked.filter(pl.col("role") == r).select("event_id", "person_id") for r in
            ("child", "mother", "father", "husband", "wife")}  # fmt: skip

    def pairs(a: str, b: str, a_to_b: str, b_to_a: str) -> list[pl.DataFrame]:
        joined = role[a].join(role[b], on="event_id", suffix="_b")
        forward = joined.select(
            "person_id", pl.col("person_id_b").alias("related_person_id"),
            pl.lit(a_to_b).alias("relation"), "event_id",
        )  # fmt: skip
        backward = joined.select(
            pl.col("person_id_b").alias("person_id"),
            pl.col("person_id").alias("related_person_id"),
            pl.lit(b_to_a).alias("relation"), "event_id",
        )  # fmt: skip
        return [forward, backward]

    parts = [
        *pairs("child", "mother", "mother", "child"),
        *pairs("child", "father", "father", "child"),
        *pairs("husband", "wife", "spouse", "spouse"),
    ]
    return (
        pl.concat(parts)
        .unique(["person_id", "related_person_id", "relation"], keep="first", maintain_order=True)
        .sort("person_id", "relation", "related_person_id")
    )


# The parties an event is about: one birth per child, one death per deceased, one marriage per
# couple.
SUBJECTS = {"birth": ("child",), "death": ("deceased",), "marriage": ("husband", "wife")}


def duplicate_events(events: pl.DataFrame, parties: pl.DataFrame) -> pl.DataFrame:
    """`events` with `duplicate_of`: the first registration (by registration date, then id) of
    the same event registered again. Where resolution linked every subject of an event (see
    `SUBJECTS`), the same event is the same type about the same persons: a child is born once,
    whatever the spelling on each registration. Otherwise it is the same type with the same
    subject's folded name, event date and second name (a birth's mother, a marriage's wife).

    `events`: event_id, event_type, event_date, registration_date, subject_key, second_key;
    `parties`: event_id, role, person_id.
    """
    subject_roles = [role for roles in SUBJECTS.values() for role in roles]
    subjects = (
        parties.filter(pl.col("role").is_in(subject_roles), pl.col("person_id").is_not_null())
        .group_by("event_id")
        .agg(pl.col("person_id").sort().str.join("+").alias("subjects"), pl.len().alias("linked"))
    )
    expected = pl.col("event_type").replace_strict(
        {kind: len(roles) for kind, roles in SUBJECTS.items()}, return_dtype=pl.UInt32
    )
    by_name = pl.concat_str(
        [pl.col("subject_key"), pl.col("event_date").cast(pl.String), pl.col("second_key")],
        separator="|", ignore_nulls=True,
    )  # fmt: skip
    key = pl.concat_str(
        pl.col("event_type"),
        pl.when(pl.col("linked") == expected)
        .then(pl.lit("person|") + pl.col("subjects"))
        .when(pl.col("subject_key").is_not_null())
        .then(pl.lit("name|") + by_name),
        separator="|",
    )
    first = pl.col("event_id").sort_by("registration_date", "event_id").first().over(key)
    return (
        events.join(subjects, on="event_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(key.is_not_null() & (first != pl.col("event_id")))
            .then(first)
            .alias("duplicate_of")
        )
        .drop("subjects", "linked")
    )


def remarried_while_married(in_events: pl.DataFrame, deaths: pl.DataFrame) -> pl.DataFrame:
    """A later marriage while the earlier spouse still lived (the sources record no divorce).

    `in_events`: linked parties with event_type and event_date.
    """
    marriages = in_events.filter(pl.col("event_type") == "marriage").select(
        "event_id", "person_id", "event_date"
    )
    ordered = _spouses(marriages).with_columns(
        pl.col("person_id_spouse").shift().over("person_id").alias("earlier_spouse")
    )
    still_married = ordered.join(
        deaths.rename({"person_id": "earlier_spouse", "death_date": "earlier_spouse_died"}),
        on="earlier_spouse",
        how="left",
    ).filter(
        pl.col("earlier_spouse").is_not_null()
        & (
            pl.col("earlier_spouse_died").is_null()
            | (pl.col("earlier_spouse_died") > pl.col("event_date"))
        )
    )
    return still_married.select(
        pl.lit("marriage.without_divorce").alias("rule"), "person_id", "event_id"
    )


def consistency_issues(
    events: pl.DataFrame, parties: pl.DataFrame, persons: Frame, visits: pl.DataFrame
) -> pl.DataFrame:
    """Cross-source contradictions, one row each: `rule`, `person_id`, `event_id` (or null).

    `events` carry event_date, duplicate_of and subject_key; `persons` person_id, birth_date,
    birth_year, death_date (read twice if lazy, for the dead and the mothers, and never held);
    `visits` person_id and visit_date of health-facility records.
    """
    persons = persons.lazy()
    deaths = (
        persons.filter(pl.col("death_date").is_not_null())
        .select("person_id", "death_date", "birth_date", "birth_year")
        .collect()
    )
    unique_events = events.filter(pl.col("duplicate_of").is_null())
    in_events = parties.filter(pl.col("person_id").is_not_null()).join(
        unique_events.select("event_id", "event_type", "event_date"), on="event_id"
    )
    visit_after_death = visits.join(deaths, on="person_id").filter(
        pl.col("visit_date") > pl.col("death_date")
    ).select(pl.lit("life.activity_after_death").alias("rule"), "person_id",
             pl.lit(None, dtype=pl.String).alias("event_id"))  # fmt: skip
    married_after_death = (
        in_events.filter(pl.col("event_type") == "marriage")
        .join(deaths, on="person_id")
        .filter(pl.col("event_date") > pl.col("death_date"))
        .select(pl.lit("life.married_after_death").alias("rule"), "person_id", "event_id")
    )
    mothers = (
        in_events.filter(pl.col("role") == "mother")
        .lazy()
        .join(persons.select("person_id", "birth_year"), on="person_id")
        .collect()
    )
    mother_age = pl.col("event_date").dt.year() - pl.col("birth_year")
    implausible_mother = mothers.filter(~mother_age.is_between(*MOTHER_AGE)).select(
        pl.lit("birth.mother_age_implausible").alias("rule"), "person_id", "event_id"
    )
    married_twice = remarried_while_married(in_events, deaths.select("person_id", "death_date"))
    # A registration's own birth date before its death date is quarantined; this is a death
    # before the birth the register knows (a registration without the birth date, or another).
    before_birth = (pl.col("event_date") < pl.col("birth_date")).fill_null(False) | (
        pl.col("event_date").dt.year() < pl.col("birth_year")
    ).fill_null(False)
    died_before_born = (
        in_events.filter(pl.col("role") == "deceased")
        .join(deaths.select("person_id", "birth_date", "birth_year"), on="person_id")
        .filter(before_birth)
        .select(pl.lit("life.death_before_birth").alias("rule"), "person_id", "event_id")
    )
    # The same death registered again with another date: the first registration's date holds,
    # and a clerk should know there is another.
    firsts = events.select(pl.col("event_id").alias("duplicate_of"), first_date="event_date")
    dated_otherwise = (
        events.filter(pl.col("event_type") == "death", pl.col("duplicate_of").is_not_null())
        .join(firsts, on="duplicate_of")
        .filter(pl.col("event_date") != pl.col("first_date"))
        .join(parties.filter(pl.col("role") == "deceased"), on="event_id")
        .filter(pl.col("person_id").is_not_null())
        .select(pl.lit("death.dates_disagree").alias("rule"), "person_id", "event_id")
    )
    return pl.concat(
        [visit_after_death, married_after_death, implausible_mother, married_twice,
         died_before_born, dated_otherwise, renamed_births(events, parties)]
    ).unique(maintain_order=True)  # fmt: skip


def renamed_births(events: pl.DataFrame, parties: pl.DataFrame) -> pl.DataFrame:
    """Births taken for one child registered again (`duplicate_of`) whose child's given name is
    more than a slip from the first registration's: twins given one id, or a child renamed. The
    second registration adds no person; a clerk should see it (`birth.registered_again_renamed`).

    `events` carry `subject_key`, the child's folded name."""
    given = pl.col("subject_key").str.split(" ").list.last()
    births = events.filter(pl.col("event_type") == "birth")
    again = (
        births.filter(pl.col("duplicate_of").is_not_null())
        .join(
            births.select(pl.col("event_id").alias("duplicate_of"), first_given=given),
            on="duplicate_of",
        )
        .with_columns(given.alias("given"))
    )
    slips = process.cpdist(
        again["given"].fill_null("").to_list(),
        again["first_given"].fill_null("").to_list(),
        scorer=OSA.distance,
    )
    renamed = again.filter(pl.Series(slips > 1) & (pl.col("given") != ""))
    return (
        renamed.join(parties.filter(pl.col("role") == "child"), on="event_id")
        .filter(pl.col("person_id").is_not_null())
        .select(pl.lit("birth.registered_again_renamed").alias("rule"), "person_id", "event_id")
    )
