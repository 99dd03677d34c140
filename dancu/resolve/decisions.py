"""Decisions: each scored pair is a match, a question for a clerk, or a non-match.

Thresholds are on the match weight (log2 odds that the pair is one person): above `MATCH` the
pair is linked, below `REVIEW` it is not, in between it waits in the review queue. Evidence
that the records are two people (`told_apart`) makes a pair a non-match whatever its weight. A
clerk's decision on a pair (`match` / `no_match`) always wins over the model's.
"""

import numpy as np
import polars as pl

from dancu.contract import RECORD_ID, SOURCE
from dancu.resolve.comparisons import NATIONAL_ID_DIGITS, level_is, one_slip_apart
from dancu.resolve.records import RECORD_KEY

MATCH = 5.0  # weight 5: 32 to 1 that the pair is one person (probability 0.97)
REVIEW = -5.0  # weight -5: 1 to 32; between the two, a clerk decides
CLERK_DECISIONS = ("match", "no_match")
# Enums (a byte a pair) rather than text (sixteen): there are a hundred million pairs at ten
# million persons.
DECISION = pl.Enum(["match", "review", "no_match"])
DECIDED_BY = pl.Enum(["clerk", "model"])
TWO_PEOPLE = "two_people"  # the column of `decide` that holds `told_apart`
ONE_PERSON = "one_person"  # the column of `decide` that holds `one_person`
# The birth date levels that are one date, written either way round.
SAME_BIRTH_DATE = ("same", "day and month transposed")


def one_person() -> pl.Expr:
    """The pair's levels show one person beyond doubt: the same national id (its holder's),
    given name, family name and birth date. Clusters never part such records."""
    return (
        level_is("national_id", "same")
        & level_is("given_name", "same", "same without diacritics")
        & level_is("family_name", "same", "Hoàng/Huỳnh or Vũ/Võ")
        & level_is("birth_date", "same")
    )


def told_apart() -> pl.Expr:
    """The pair's levels (columns of `comparisons.compare`) show two people, whatever the
    model's weight. The model adds fields up as if they were independent, and a household's
    members share most of them (address, phone, parents' names, a family name; twins a birth
    date): what tells them apart is a given name, a birth date and a national id. Two people:

    - national ids that differ by more than a slip (or passports, of records without ids), with
      given names that are not the same (twins Đồng and Dũng, whose ids differ in the serial)
      or birth dates that are not the same, even a digit apart or where one holds only a year
      (namesakes born days apart; a father and a son of one name): one record's id and birth
      date both mistyped is too rare to weigh against them;
    - national ids a slip apart, with given names that are not one name with a slip;
    - given names that are not one name with a slip, with the same parents' names, unless the
      records share their national id or another document (twins and siblings without ids).

    - someone without Vietnamese nationality and a personal id (a passport's or an identity
      certificate's holder) and a citizen known by a personal id.

    An id of another generation (`records.GENERATION`) tells nothing either way.
    """
    ids_differ = level_is("national_id", "different", "other passports")
    ids_a_slip_apart = level_is("national_id", "one digit slip")
    given_not_same = (
        ~level_is(
            "given_name",
            "same",
            "same without diacritics",
            "swapped with the family name",
            "same words in another order",
            "same letters, spaced otherwise",
        )
        & pl.col("given_name").is_not_null()
    )
    not_one_given_name = level_is("given_name", "one letter apart", "two letter slips", "different")
    same_parents = level_is("parents", "both same", "one same, other unknown")
    other_birth_date = ~level_is("birth_date", *SAME_BIRTH_DATE)
    by_ids = (ids_differ & (given_not_same | other_birth_date)) | (
        ids_a_slip_apart & not_one_given_name
    )
    same_document = level_is("national_id", "same", "same old id card or passport")
    by_names = not_one_given_name & same_parents & ~same_document
    foreigner_and_citizen = level_is("national_id", "a non-citizen and a citizen's id")
    return by_ids | by_names | foreigner_and_citizen


def clerk_pairs(records: pl.DataFrame, clerk: pl.DataFrame | None) -> pl.DataFrame:
    """The clerk's decisions as record-key pairs: `left` < `right`, `clerk` ("match" or
    "no_match"); the latest decision on a pair wins when `decided_at` is given, else the last
    row. `clerk` has `source_l`, `source_record_id_l`, `source_r`, `source_record_id_r`,
    `decision` (and optionally `decided_at`); decisions on records no longer present drop out.
    """
    schema = {"left": pl.UInt32, "right": pl.UInt32, "clerk": pl.String}
    if clerk is None or clerk.height == 0:
        return pl.DataFrame(schema=schema)
    unknown = set(clerk["decision"].unique().drop_nulls()) - set(CLERK_DECISIONS)
    if unknown:
        raise ValueError(f"clerk decisions must be match or no_match, not {sorted(unknown)}")
    ids = records.select(RECORD_KEY, SOURCE, RECORD_ID)
    ordered = clerk.with_row_index("_order")
    if "decided_at" in clerk.columns:
        ordered = ordered.sort("decided_at", "_order")
    keyed = ordered.join(
        ids.rename({SOURCE: "source_l", RECORD_ID: "source_record_id_l", RECORD_KEY: "a"}),
        on=["source_l", "source_record_id_l"],
    ).join(
        ids.rename({SOURCE: "source_r", RECORD_ID: "source_record_id_r", RECORD_KEY: "b"}),
        on=["source_r", "source_record_id_r"],
    )
    return (
        keyed.filter(pl.col("a") != pl.col("b"))
        .select(
            pl.min_horizontal("a", "b").alias("left"),
            pl.max_horizontal("a", "b").alias("right"),
            pl.col("decision").alias("clerk"),
        )
        .group_by("left", "right", maintain_order=True)
        .last()
        .sort("left", "right")
        .cast(schema)
    )


def decide(scored: pl.DataFrame, clerk: pl.DataFrame) -> pl.DataFrame:
    """Scored pairs (`left`, `right`, their levels, `match_weight`, ...) with `two_people`
    (`told_apart`), `one_person`, `decision` ("match", "review" or "no_match", `DECISION`) and
    `decided_by` ("clerk" or "model", `DECIDED_BY`). `clerk` comes from `clerk_pairs`."""
    weight = pl.col("match_weight")
    model = (
        pl.when(pl.col(TWO_PEOPLE))
        .then(pl.lit("no_match", dtype=DECISION))
        .when(weight >= MATCH)
        .then(pl.lit("match", dtype=DECISION))
        .when(weight >= REVIEW)
        .then(pl.lit("review", dtype=DECISION))
        .otherwise(pl.lit("no_match", dtype=DECISION))
    )
    return (
        scored.join(clerk, on=["left", "right"], how="left", maintain_order="left")
        .with_columns(told_apart().alias(TWO_PEOPLE), one_person().alias(ONE_PERSON))
        .with_columns(
            pl.coalesce(pl.col("clerk").cast(DECISION), model).alias("decision"),
            pl.when(pl.col("clerk").is_not_null())
            .then(pl.lit("clerk", dtype=DECIDED_BY))
            .otherwise(pl.lit("model", dtype=DECIDED_BY))
            .alias("decided_by"),
        )
        .drop("clerk")
    )


# The values a clerk sees of both records.
SHOWN_FIELDS = (
    "full_name", "birth_date", "birth_year", "sex", "national_id", "bhxh_code", "phone",
    "address", "ward_code", "father_name", "mother_name",
)  # fmt: skip


def pairs_to_review(
    records: pl.DataFrame, decided: pl.DataFrame, cut: pl.DataFrame, clusters: pl.Series
) -> pl.DataFrame:
    """The pairs a clerk should decide (`left`, `right`, `reason`): pairs the model is unsure of
    whose records ended in different persons that their national ids do not tell apart
    (`clusters_told_apart`; `reason` "uncertain"), and links cut to keep a cluster consistent
    (the cut's reason). `clusters`: each record's cluster, by record key."""
    unsure = decided.filter(
        (pl.col("decision") == "review")
        & (clusters.gather(decided["left"]) != clusters.gather(decided["right"]))
    )
    unsure = unsure.filter(~clusters_told_apart(records, unsure, clusters))
    return pl.concat(
        [
            unsure.select("left", "right", pl.lit("uncertain").alias("reason")),
            cut.select("left", "right", "reason"),
        ]
    )


def clusters_told_apart(
    records: pl.DataFrame, pairs: pl.DataFrame, clusters: pl.Series
) -> pl.Series:
    """Which pairs join two clusters that each hold their own national ids (`id_is_own`), none
    of them the same as one of the other's or a slip from it: to join them a clerk would have to
    find an id on the wrong person. Most pairs the model is unsure of are of namesakes without
    an id on one record (an insurance or school record), whose clusters the register has given
    ids: at ten million persons they were 97% of the queue, and but 0.02% of them one person.
    """
    owned = (
        pl.DataFrame({"cluster": clusters, "id": records["national_number"]})
        .filter(records["id_is_own"].fill_null(False))
        .drop_nulls()
        .unique()
    )
    sides = pairs.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("pair"),
        clusters.gather(pairs["left"]).alias("cluster_l"),
        clusters.gather(pairs["right"]).alias("cluster_r"),
    )
    both = sides.join(owned, left_on="cluster_l", right_on="cluster").join(
        owned, left_on="cluster_r", right_on="cluster", suffix="_r"
    )
    left, right = both["id"].to_numpy(), both["id_r"].to_numpy()
    joinable = (left == right) | one_slip_apart(left, right, NATIONAL_ID_DIGITS)
    apart = both.select("pair", joinable=joinable).group_by("pair").agg(pl.col("joinable").any())
    told = apart.filter(~pl.col("joinable"))["pair"]
    return pl.Series(np.isin(np.arange(pairs.height), told.to_numpy()))


def review_queue(records: pl.DataFrame, queued: pl.DataFrame, labels: pl.DataFrame) -> pl.DataFrame:
    """The review queue, one row per pair of `pairs_to_review` scored with its field weights
    (`queued`): both records (`source_l`, `source_record_id_l`, ... and their values suffixed
    _l/_r), the `reason`, each comparison's level label and weight (`w:<comparison>`), the
    `match_weight` and `match_probability`. `labels`: the model's `comparison`, `level`,
    `label`.
    """
    comparisons = labels["comparison"].unique(maintain_order=True).to_list()
    for name in comparisons:
        table = labels.filter(pl.col("comparison") == name)
        queued = queued.with_columns(
            pl.col(name).replace_strict(table["level"], table["label"], default="not comparable")
        )
    side = records.select(RECORD_KEY, SOURCE, RECORD_ID, *SHOWN_FIELDS)
    for key, suffix in (("left", "_l"), ("right", "_r")):
        queued = queued.join(
            side.rename({c: c + suffix for c in side.columns if c != RECORD_KEY}),
            left_on=key,
            right_on=RECORD_KEY,
            how="left",
        )
    ordered = queued.select(
        f"{SOURCE}_l", f"{RECORD_ID}_l", f"{SOURCE}_r", f"{RECORD_ID}_r", "reason",
        "match_weight", "match_probability",
        *[c for name in comparisons for c in (name, f"w:{name}")],
        *[f + suffix for f in SHOWN_FIELDS for suffix in ("_l", "_r")],
    )  # fmt: skip
    ties = [f"{SOURCE}_l", f"{RECORD_ID}_l", f"{SOURCE}_r", f"{RECORD_ID}_r"]
    return ordered.sort("match_weight", *ties, descending=[True, False, False, False, False])
