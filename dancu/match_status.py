"""Whether each student and judicial-record request found its person in the register, and if
not, why not: the match statuses, defined here once, for the warehouse, the views and the
report.

A record is `matched` when resolution put it with confidence in a person the register knows
(a `dan_cu` record, or a party of a civil registration); otherwise it shows no person, only its
status, its reason and the persons a clerk may choose between (the other side of its pairs in
the review queue, `record_candidates`).
"""

import polars as pl

from dancu.contract import MATCHED_SOURCES, RECORD_ID, SOURCE
from dancu.link import ROLE_SEPARATOR
from dancu.rules import accepted

MATCHED = "matched"
# Each status and its reason, in the order the report lists them.
MATCH_STATUSES = {
    MATCHED: "linked with confidence to a person the register knows",
    "several_candidates": "several persons of the register may be this record: a clerk decides",
    "uncertain": "one person of the register may be this record: a clerk decides",
    "conflicting_sex": "the one person of the register this record may be has the other sex: "
    "a clerk decides",
    "no_birth_registration": "no personal id, and no register record nor birth registration "
    "matches: the birth was never registered, or registered abroad",
    "not_in_register": "no person of the register matches",
}
# Records of these sources without a personal id are children whose birth may be unregistered.
CHILDREN_SOURCES = ("giao_duc",)
REGISTER_SOURCE = "dan_cu"


def status_table() -> pl.DataFrame:
    return pl.DataFrame(
        {"match_status": list(MATCH_STATUSES), "meaning": list(MATCH_STATUSES.values())}
    )


Frame = pl.DataFrame | pl.LazyFrame

# Records are joined with their persons (every resolved record: 20 million at ten million
# persons) a share of the record ids at a time: the hash table of all of them took 4.7 GiB.
RECORD_SHARES = 8


def joined_by_record(records: Frame, persons: Frame, how: str = "inner") -> pl.LazyFrame:
    """`records` joined with `persons` on `source` and `source_record_id`, `RECORD_SHARES`
    shares of the record ids one after the other (rows come share by share)."""
    share = pl.col(RECORD_ID).hash(seed=0) % RECORD_SHARES
    return pl.concat(
        records.lazy()
        .filter(share == part)
        .join(persons.lazy().filter(share == part), on=[SOURCE, RECORD_ID], how=how)
        for part in range(RECORD_SHARES)
    )


def record_persons(person_source: Frame, event_party: Frame) -> pl.LazyFrame:
    """Every resolved record and its person (`source`, `source_record_id`, `person_id`): the
    register's records, and each party of an event under the record id resolution gave it
    ("<registration>:<role>")."""
    event = pl.col("event_id").str.splitn(":", 2)
    parties = event_party.lazy().select(
        event.struct.field("field_0").alias(SOURCE),
        (event.struct.field("field_1") + ROLE_SEPARATOR + pl.col("role")).alias(RECORD_ID),
        "person_id",
    )
    records = person_source.lazy().select(SOURCE, RECORD_ID, "person_id")
    return pl.concat([records, parties]).drop_nulls("person_id")


def register_persons(person_source: Frame, event_party: Frame) -> pl.LazyFrame:
    """The persons the register knows (`person_id`): those with a `dan_cu` record or named in a
    civil registration."""
    return (
        pl.concat(
            [
                person_source.lazy().filter(pl.col(SOURCE) == REGISTER_SOURCE).select("person_id"),
                event_party.lazy().select("person_id"),
            ]
        )
        .drop_nulls()
        .unique()
    )


def record_candidates(records: Frame, review_queue: Frame, persons: Frame) -> pl.LazyFrame:
    """Per record of `records` (`source`, `source_record_id`, `person_id`), the other persons
    its pairs in the review queue lead to (`candidate_person_id`, the pair's `match_weight`),
    strongest first. `persons`: every resolved record's person (`record_persons`)."""
    pairs = pl.concat(
        [
            review_queue.lazy().select(
                pl.col(f"{SOURCE}_{this}").alias(SOURCE),
                pl.col(f"{RECORD_ID}_{this}").alias(RECORD_ID),
                pl.col(f"{SOURCE}_{other}").alias("other_source"),
                pl.col(f"{RECORD_ID}_{other}").alias("other_record_id"),
                pl.col("match_weight").cast(pl.Float64),
            )
            for this, other in (("l", "r"), ("r", "l"))
        ]
    )
    other = persons.lazy().rename(
        {SOURCE: "other_source", RECORD_ID: "other_record_id", "person_id": "candidate_person_id"}
    )
    return (
        records.lazy()
        .select(SOURCE, RECORD_ID, "person_id")
        .join(pairs, on=[SOURCE, RECORD_ID])
        .join(other, on=["other_source", "other_record_id"])
        .filter(pl.col("candidate_person_id").ne_missing(pl.col("person_id")))
        .group_by(SOURCE, RECORD_ID, "candidate_person_id")
        .agg(pl.col("match_weight").max())
        .sort(
            SOURCE,
            RECORD_ID,
            pl.col("match_weight"),
            "candidate_person_id",
            descending=[False, False, True, False],
        )
    )


def _status(
    own_known: pl.Expr, candidates: pl.Expr, other_sex: pl.Expr, child_without_id: pl.Expr
) -> pl.Expr:
    """A record's status from: whether its own person is one the register knows, how many other
    persons the review queue offers, whether the one offered has the other sex, and whether it
    is a child's record without a personal id."""
    return (
        pl.when(own_known & (candidates == 0))
        .then(pl.lit(MATCHED))
        .when(candidates + own_known.cast(pl.UInt32) >= 2)
        .then(pl.lit("several_candidates"))
        .when((candidates == 1) & other_sex)
        .then(pl.lit("conflicting_sex"))
        .when(candidates == 1)
        .then(pl.lit("uncertain"))
        .when(child_without_id)
        .then(pl.lit("no_birth_registration"))
        .otherwise(pl.lit("not_in_register"))
    )


def record_matches(
    std_frames: dict[str, pl.LazyFrame],
    person_source: Frame,
    event_party: Frame,
    review_queue: Frame,
    person: Frame,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """`record_match`: each accepted record of `MATCHED_SOURCES` with its person where matched
    (else null), `match_status`, `match_reason` and the number of `candidates`; and
    `record_candidate`: the persons a clerk may choose between for each record not matched.
    The records and their candidates are found here; the plans returned read them from memory."""
    records = pl.concat(
        [
            accepted(std_frames[source]).select(
                SOURCE, RECORD_ID, "sex", pl.col("national_id").is_not_null().alias("has_id")
            )
            for source in MATCHED_SOURCES
        ]
    )
    records = joined_by_record(
        records, person_source.lazy().select(SOURCE, RECORD_ID, "person_id", "match_weight"), "left"
    )
    # Both tables read the records and their candidates several times: collected once (1.6
    # million rows at ten million persons), the plans do not each hold joins with every
    # resolved record at once (record_candidate held 6.4 GiB at ten million persons, now 1.6).
    records = records.collect().lazy()
    candidates = (
        record_candidates(records, review_queue, record_persons(person_source, event_party))
        .collect()
        .lazy()
    )
    known = register_persons(person_source, event_party).with_columns(own_known=pl.lit(True))
    sexes = person.lazy().select(pl.col("person_id").alias("candidate_person_id"), "sex")
    first = (
        candidates.join(sexes, on="candidate_person_id", how="left")
        .group_by(SOURCE, RECORD_ID, maintain_order=True)
        .agg(pl.len().cast(pl.UInt32).alias("candidates"), pl.col("sex").first().alias("other"))
    )
    own_known = pl.col("own_known").fill_null(False)
    n = pl.col("candidates").fill_null(0)
    other_sex = (pl.col("sex") != pl.col("other")).fill_null(False)
    child_without_id = pl.col(SOURCE).is_in(CHILDREN_SOURCES) & ~pl.col("has_id")
    judged = (
        records.join(first, on=[SOURCE, RECORD_ID], how="left")
        .join(known, on="person_id", how="left")
        .with_columns(
            _status(own_known, n, other_sex, child_without_id).alias("match_status"),
            own_known.alias("own_known"),
        )
    )
    matched = judged.select(
        SOURCE,
        RECORD_ID,
        pl.when(pl.col("match_status") == MATCHED).then("person_id").alias("person_id"),
        "match_status",
        pl.col("match_status").replace_strict(MATCH_STATUSES).alias("match_reason"),
        n.alias("candidates"),
    ).sort(SOURCE, RECORD_ID)
    unsure = judged.filter(pl.col("match_status") != MATCHED)
    # A record whose own person the register knows, but that the queue also pairs with
    # another person, has its own person among the candidates.
    own = unsure.filter("own_known").select(SOURCE, RECORD_ID, "person_id", "match_weight")
    offered = candidates.join(unsure, on=[SOURCE, RECORD_ID], how="semi").select(
        SOURCE, RECORD_ID, pl.col("candidate_person_id").alias("person_id"), "match_weight"
    )
    shown = pl.concat([own, offered], how="vertical_relaxed").sort(
        SOURCE,
        RECORD_ID,
        "match_weight",
        "person_id",
        descending=[False, False, True, False],
        nulls_last=True,
    )
    return matched, shown
