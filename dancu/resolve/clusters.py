"""Clusters: the records of one person, from the matched pairs, without chaining strangers.

Matched pairs link records into connected components. A component must hold no conflict: no two
of its records that a clerk kept apart, that hold two different valid national ids, or that the
model scores as a clear non-match (every pair inside a component is scored, not only the pairs
that linked it). A component with a conflict loses its weakest link, again and again, until no
conflict is left: one weak link cannot chain two people together. Links a clerk confirmed are
never cut. Each cut link goes to the review queue.
"""

from collections.abc import Callable

import numpy as np
import polars as pl
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from dancu.resolve.blocking import pairs_in_runs
from dancu.resolve.decisions import REVIEW

# A component larger than this is a chain whatever its pairs say: no person has so many records.
MAX_CLUSTER = 50


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


def conflicts(inside: pl.DataFrame, decided: pl.DataFrame, national_ids: pl.Series) -> pl.DataFrame:
    """The pairs among `inside` (`left`, `right`, `match_weight`) that may not share a person,
    with the `reason`: a clerk's no_match, two different valid national ids, or a weight below
    `REVIEW`. A clerk's match is never a conflict. `decided` gives the clerk's word
    (`decided_by`, `decision`); `national_ids` each record's valid id, by record key."""
    clerk = decided.filter(pl.col("decided_by") == "clerk").select(
        "left", "right", pl.col("decision").alias("clerk")
    )
    id_l, id_r = national_ids.gather(inside["left"]), national_ids.gather(inside["right"])
    judged = inside.with_columns(
        (id_l.is_not_null() & id_r.is_not_null() & (id_l != id_r)).alias("ids_differ")
    ).join(clerk, on=["left", "right"], how="left", maintain_order="left")
    model_says_apart = pl.col("ids_differ") | (pl.col("match_weight") < REVIEW)
    apart = (pl.col("clerk") == "no_match") | (pl.col("clerk").is_null() & model_says_apart)
    return judged.filter(apart).select(
        "left",
        "right",
        pl.when(pl.col("clerk") == "no_match")
        .then(pl.lit("clerk said no_match"))
        .when(pl.col("ids_differ"))
        .then(pl.lit("two national ids"))
        .otherwise(pl.lit("clear non-match inside the cluster"))
        .alias("reason"),
    )


def _troubled(labels: np.ndarray, apart: pl.DataFrame) -> pl.DataFrame:
    """The components holding a pair of `apart` or too many records, with the first `reason`."""
    label = pl.Series(labels)
    within = apart.with_columns(
        label.gather(apart["left"]).alias("c"), label.gather(apart["right"]).alias("c_r")
    ).filter(pl.col("c") == pl.col("c_r"))
    sizes = np.bincount(labels, minlength=len(labels))
    large = pl.DataFrame(
        {"c": np.flatnonzero(sizes > MAX_CLUSTER), "reason": "more than 50 records"},
        schema={"c": pl.Int64, "reason": pl.String},
    )
    both = pl.concat([within.select(pl.col("c").cast(pl.Int64), "reason"), large])
    return both.group_by("c").agg(pl.col("reason").sort().first())


def _cut_until_consistent(
    size: int, links: pl.DataFrame, apart: pl.DataFrame
) -> tuple[np.ndarray, pl.DataFrame]:
    """Remove the weakest cuttable link of every component in trouble (see `_troubled`), until
    none is. Returns the labels and the links cut, each with the reason of its component."""
    cut = []
    while True:
        labels = components(size, links["left"].to_numpy(), links["right"].to_numpy())
        troubled = _troubled(labels, apart)
        candidates = (
            links.with_columns(pl.Series(labels).gather(links["left"]).alias("c"))
            .join(troubled, on="c")
            .filter("cuttable")
        )
        if candidates.height == 0:
            return labels, pl.concat(cut, how="vertical") if cut else None
        weakest = candidates.sort("match_weight", "left", "right").group_by("c").first()
        cut.append(weakest.select("left", "right", "match_weight", "reason"))
        links = links.join(weakest.select("left", "right"), on=["left", "right"], how="anti")


def cluster(
    size: int,
    decided: pl.DataFrame,
    national_ids: pl.Series,
    score_pairs: Callable[[pl.DataFrame], pl.DataFrame],
) -> tuple[pl.Series, pl.DataFrame]:
    """Each of the `size` records' cluster (its smallest record key, by record key), and the
    links cut (`left`, `right`, `match_weight`, `reason`).

    `decided`: pairs with `match_weight`, `decision`, `decided_by` (from `decisions.decide`).
    `national_ids`: each record's valid national id or null, by record key. `score_pairs`
    scores pairs (`left`, `right`) that blocking did not produce, giving `match_weight`.
    """
    links = decided.filter(pl.col("decision") == "match").select(
        "left", "right", "match_weight", (pl.col("decided_by") != "clerk").alias("cuttable")
    )
    first = components(size, links["left"].to_numpy(), links["right"].to_numpy())
    inside = within_pairs(first)
    # Joined on the pair packed into one number: three times faster than on two columns.
    pair = (pl.col("left").cast(pl.UInt64) * 2**32 + pl.col("right")).alias("pair")
    known = decided.select(pair, "match_weight")
    scored = (
        inside.with_columns(pair)
        .join(known, on="pair", how="left", maintain_order="left")
        .drop("pair")
    )
    missing = scored.filter(pl.col("match_weight").is_null()).select("left", "right")
    if missing.height:
        fresh = score_pairs(missing).select("left", "right", "match_weight")
        scored = pl.concat([scored.drop_nulls("match_weight"), fresh])
    apart = conflicts(scored, decided, national_ids)
    no_cuts = pl.DataFrame(
        schema={"left": pl.UInt32, "right": pl.UInt32, "match_weight": pl.Float64,
                "reason": pl.String}
    )  # fmt: skip
    troubled = _troubled(first, apart)
    if troubled.height == 0:
        return pl.Series(first).cast(pl.UInt32), no_cuts
    # Only the records of the components in trouble need the loop: the others keep their
    # labels. Numbered anew in their order, so that a component's smallest record keeps
    # labelling it, they make a graph of thousands of nodes instead of millions.
    nodes = np.flatnonzero(np.isin(first, troubled["c"].to_numpy()))
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

    sub_labels, cut = _cut_until_consistent(len(nodes), renumbered(links), renumbered(apart))
    labels = first.copy()
    labels[nodes] = nodes[sub_labels]
    if cut is None:
        return pl.Series(labels).cast(pl.UInt32), no_cuts
    cut = cut.with_columns(
        pl.Series("left", nodes[cut["left"].to_numpy()]),
        pl.Series("right", nodes[cut["right"].to_numpy()]),
    )
    return pl.Series(labels).cast(pl.UInt32), cut.cast(no_cuts.schema)
