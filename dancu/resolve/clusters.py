"""Clusters: the records of one person, from the matched pairs, without chaining strangers.

Matched pairs link records into connected components. A component must hold no conflict: no two
of its records that a clerk kept apart, that the evidence shows are two people
(`decisions.told_apart`), or that the model scores as a clear non-match (every pair inside a
component is scored, not only the pairs that linked it), and no more than `MAX_CLUSTER` records.
A component in trouble is built again from its links, strongest first, and a link that would
join two records in conflict, or make a group too large, is cut: one weak link cannot chain two
people together, and the link cut is the one that does. A link's strength is what its personal
fields weigh (`PERSONAL`: those a household does not share), so a record like two twins goes
with the twin whose name it bears, not with the one whose address it happens to match more
closely. Links a clerk confirmed are never cut, nor are records parted that agree on national
id, name and birth date (`decisions.one_person`). Each cut link goes to the review queue.
"""

from collections.abc import Callable

import numpy as np
import polars as pl
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from dancu.resolve.blocking import pairs_in_runs
from dancu.resolve.decisions import ONE_PERSON, REVIEW, TWO_PEOPLE, one_person, told_apart

# A component larger than this is a chain whatever its pairs say: no person has so many records.
MAX_CLUSTER = 50
# The comparisons that tell one member of a household from another: the others (family and
# middle name, address, phone, parents' names) twins and siblings share.
PERSONAL = ("national_id", "bhxh_code", "given_name", "birth_date", "sex")
# Why a link was cut, the surest first. A clear non-match is a soft conflict (see `_Groups`).
CLERK_APART = "clerk said no_match"
TWO_PEOPLE_APART = "two people"
CLEAR_NON_MATCH = "clear non-match inside the cluster"
TOO_LARGE = f"more than {MAX_CLUSTER} records"
CONFLICT_ORDER = (CLERK_APART, TWO_PEOPLE_APART, CLEAR_NON_MATCH, TOO_LARGE)
CUT_SCHEMA = {
    "left": pl.UInt32,
    "right": pl.UInt32,
    "match_weight": pl.Float64,
    "reason": pl.String,
}


def components(size: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The component of each of `size` nodes joined by the edges (`left`, `right`): the smallest
    node of its component."""
    edges = coo_array((np.ones(len(left), dtype=np.int8), (left, right)), shape=(size, size))
    _, labels = connected_components(edges, directed=False)
    # Labels run from 0; a label's first node in node order is its component's smallest.
    _, smallest = np.unique(labels, return_index=True)
    return smallest[labels]


def within_pairs(labels: np.ndarray, max_size: int = MAX_CLUSTER) -> pl.DataFrame:
    """Every pair of records (`left` < `right`) inside a component of 2 to `max_size` records,
    sorted."""
    nodes = np.argsort(labels, kind="stable").astype(np.uint32)
    left, right, _ = pairs_in_runs(labels[nodes], nodes, max_size)
    pairs = pl.DataFrame({"left": left, "right": right})
    return pairs.sort("left", "right")


def conflicts(inside: pl.DataFrame, decided: pl.DataFrame) -> pl.DataFrame:
    """The pairs among `inside` (`left`, `right`, `match_weight`, `two_people`, `one_person`)
    that may not share a person, with the `reason`: a clerk's no_match, evidence of two people
    (`decisions.told_apart`), or a weight below `REVIEW` where the records are not one person
    beyond doubt (`decisions.one_person`). A clerk's match is never a conflict. `decided` gives
    the clerk's word (`decided_by`, `decision`)."""
    clerk = decided.filter(pl.col("decided_by") == "clerk").select(
        "left", "right", pl.col("decision").alias("clerk")
    )
    judged = inside.join(clerk, on=["left", "right"], how="left", maintain_order="left")
    clear_non_match = (pl.col("match_weight") < REVIEW) & ~pl.col(ONE_PERSON)
    model_says_apart = pl.col(TWO_PEOPLE) | clear_non_match
    apart = (pl.col("clerk") == "no_match") | (pl.col("clerk").is_null() & model_says_apart)
    return judged.filter(apart).select(
        "left",
        "right",
        pl.when(pl.col("clerk") == "no_match")
        .then(pl.lit(CLERK_APART))
        .when(pl.col(TWO_PEOPLE))
        .then(pl.lit(TWO_PEOPLE_APART))
        .otherwise(pl.lit(CLEAR_NON_MATCH))
        .alias("reason"),
    )


def _troubled(labels: np.ndarray, apart: pl.DataFrame) -> np.ndarray:
    """The components holding a pair of `apart` or more than `MAX_CLUSTER` records."""
    label = pl.Series(labels)
    within = apart.filter(label.gather(apart["left"]) == label.gather(apart["right"]))
    sizes = np.bincount(labels, minlength=len(labels))
    return np.union1d(label.gather(within["left"]).to_numpy(), np.flatnonzero(sizes > MAX_CLUSTER))


class _Groups:
    """Records joined into groups one link at a time (union-find), each group knowing its
    records, the conflicts (`apart`: `left`, `right`, `reason`) that keep groups apart, and the
    weights of the pairs inside the components (`weights`: `left`, `right`, `match_weight`).

    A clerk's no_match, evidence of two people and size keep two groups apart; a clear
    non-match between them does only where the weights of all their pairs add up below zero:
    a record of one person that two corruptions made unlike another of its records still joins
    the group it is like on balance, and a stranger chained in by one link does not."""

    def __init__(self, size: int, apart: pl.DataFrame, weights: pl.DataFrame):
        self.parent = list(range(size))
        self.members: dict[int, list[int]] = {}
        self.apart: dict[int, dict[int, str]] = {}
        for a, b, reason in apart.select("left", "right", "reason").iter_rows():
            for one, other in ((a, b), (b, a)):
                known = self.apart.setdefault(one, {}).get(other)
                if known is None or CONFLICT_ORDER.index(reason) < CONFLICT_ORDER.index(known):
                    self.apart[one][other] = reason
        self.weight = {
            (a, b): w for a, b, w in weights.select("left", "right", "match_weight").iter_rows()
        }

    def group(self, record: int) -> int:
        while self.parent[record] != record:
            self.parent[record] = self.parent[self.parent[record]]
            record = self.parent[record]
        return record

    def why_apart(self, first: int, second: int) -> str | None:
        """Why the groups `first` and `second` may not join, the surest reason, or None."""
        own, other = self.members.get(first, [first]), self.members.get(second, [second])
        if len(own) + len(other) > MAX_CLUSTER:
            return TOO_LARGE
        reasons = {
            reason
            for record in own
            for mate, reason in self.apart.get(record, {}).items()
            if self.group(mate) == second
        }
        hard = reasons - {CLEAR_NON_MATCH}
        if hard:
            return min(hard, key=CONFLICT_ORDER.index)
        if reasons and self._between(own, other) < 0:
            return CLEAR_NON_MATCH
        return None

    def _between(self, own: list[int], other: list[int]) -> float:
        """The sum of the weights of the pairs across two groups."""
        return sum(self.weight.get((min(a, b), max(a, b)), 0.0) for a in own for b in other)

    def join(self, first: int, second: int) -> None:
        self.members[first] = self.members.pop(first, [first]) + self.members.pop(second, [second])
        self.parent[second] = first


def _rebuild(
    size: int, links: pl.DataFrame, apart: pl.DataFrame, weights: pl.DataFrame
) -> tuple[np.ndarray, pl.DataFrame]:
    """The components of `size` records built again from `links` (`left`, `right`,
    `match_weight`, `strength`, `cuttable`), strongest first, those that may not be cut before
    all: a cuttable link that would join two groups held apart (see `_Groups`: `apart` the
    conflicts, `weights` the pairs inside the components) is cut. Returns the labels and the
    links cut (`left`, `right`, `match_weight`, `reason`). Of links as strong, the one of the
    larger match weight comes first: a record without a national id, as like one twin as the
    other in what a household does not share, goes with the one it is like in all.

    A loop over links, for it decides each by the groups the stronger links made; it runs over
    the components in trouble only, a few links each."""
    groups = _Groups(size, apart, weights)
    ordered = links.with_columns(
        pl.when(pl.col("cuttable")).then(pl.col("strength")).otherwise(float("inf")).alias("order")
    ).sort("order", "match_weight", "left", "right", descending=[True, True, False, False])
    cut = []
    for left, right, weight, cuttable in ordered.select(
        "left", "right", "match_weight", "cuttable"
    ).iter_rows():
        first, second = groups.group(left), groups.group(right)
        if first == second:
            continue
        reason = groups.why_apart(first, second)
        if reason is not None and cuttable:
            cut.append((left, right, weight, reason))
        else:
            groups.join(first, second)
    cut = pl.DataFrame(cut, schema=CUT_SCHEMA, orient="row")
    kept = links.join(cut, on=["left", "right"], how="anti")
    return components(size, kept["left"].to_numpy(), kept["right"].to_numpy()), cut


def cluster(
    size: int,
    decided: pl.DataFrame,
    score_pairs: Callable[[pl.DataFrame], pl.DataFrame],
) -> tuple[pl.Series, pl.DataFrame]:
    """Each of the `size` records' cluster (its smallest record key, by record key), and the
    links cut (`left`, `right`, `match_weight`, `reason`).

    `decided`: pairs with `match_weight`, `two_people`, `one_person`, `decision`,
    `decided_by` (from `decisions.decide`). `score_pairs` compares and scores pairs (`left`,
    `right`), giving their levels, field weights (`w:<comparison>`) and `match_weight`: the
    pairs inside components that blocking did not produce, and the links of the components in
    trouble, whose strength is the weight of their `PERSONAL` fields.
    """
    links = decided.filter(pl.col("decision") == "match").select(
        "left",
        "right",
        "match_weight",
        ((pl.col("decided_by") != "clerk") & ~pl.col(ONE_PERSON)).alias("cuttable"),
    )
    first = components(size, links["left"].to_numpy(), links["right"].to_numpy())
    inside = within_pairs(first)
    # Joined on the pair packed into one number: three times faster than on two columns. Only
    # the decided pairs inside a component can be among them: joining all of them (63 million
    # at ten million persons) took 1.7 GB more.
    pair = (pl.col("left").cast(pl.UInt64) * 2**32 + pl.col("right")).alias("pair")
    inside_a_component = first[decided["left"].to_numpy()] == first[decided["right"].to_numpy()]
    known = decided.filter(inside_a_component).select(pair, "match_weight", TWO_PEOPLE, ONE_PERSON)
    scored = (
        inside.with_columns(pair)
        .join(known, on="pair", how="left", maintain_order="left")
        .drop("pair")
    )
    missing = scored.filter(pl.col("match_weight").is_null()).select("left", "right")
    if missing.height:
        fresh = score_pairs(missing).select(
            "left",
            "right",
            "match_weight",
            told_apart().alias(TWO_PEOPLE),
            one_person().alias(ONE_PERSON),
        )
        scored = pl.concat([scored.drop_nulls("match_weight"), fresh])
    apart = conflicts(scored, decided)
    # Records that are one person beyond doubt stay together, linked or not.
    bonds = scored.filter(pl.col(ONE_PERSON)).join(links, on=["left", "right"], how="anti")
    links = pl.concat(
        [links, bonds.select("left", "right", "match_weight", pl.lit(False).alias("cuttable"))]
    )
    troubled = _troubled(first, apart)
    if len(troubled) == 0:
        return pl.Series(first).cast(pl.UInt32), pl.DataFrame(schema=CUT_SCHEMA)
    # Only the records of the components in trouble are built again: the others keep their
    # labels. Numbered anew in their order, so that a component's smallest record keeps
    # labelling it, they make a graph of thousands of nodes instead of millions.
    nodes = np.flatnonzero(np.isin(first, troubled))
    position = np.zeros(size, dtype=np.uint32)
    position[nodes] = np.arange(len(nodes), dtype=np.uint32)
    in_trouble = np.zeros(size, dtype=bool)
    in_trouble[nodes] = True

    def renumbered(pairs: pl.DataFrame) -> pl.DataFrame:
        ends = pairs["left"].to_numpy(), pairs["right"].to_numpy()
        kept = pairs.filter(in_trouble[ends[0]] & in_trouble[ends[1]])
        return kept.with_columns(
            pl.Series("left", position[kept["left"].to_numpy()]),
            pl.Series("right", position[kept["right"].to_numpy()]),
        )

    troubled_links = links.filter(in_trouble[links["left"].to_numpy()])
    weights = score_pairs(troubled_links.select("left", "right"))
    strength = pl.sum_horizontal(weights.select(f"w:{name}" for name in PERSONAL))
    sub_labels, cut = _rebuild(
        len(nodes),
        renumbered(troubled_links.with_columns(strength.alias("strength"))),
        renumbered(apart),
        renumbered(scored.select("left", "right", "match_weight")),
    )
    labels = first.copy()
    labels[nodes] = nodes[sub_labels]
    cut = cut.with_columns(
        pl.Series("left", nodes[cut["left"].to_numpy()], dtype=pl.UInt32),
        pl.Series("right", nodes[cut["right"].to_numpy()], dtype=pl.UInt32),
    )
    return pl.Series(labels).cast(pl.UInt32), cut
