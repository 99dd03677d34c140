"""The Fellegi-Sunter model: what each comparison level is worth, learnt from the data.

For a level, m is the chance that two records of the same person show it and u the chance that
two records of different persons do; the level adds log2(m/u) to the match weight. As in Splink:
u is counted on random pairs of records (nearly all of which are different persons), m is learnt by
expectation-maximisation over the blocked pairs, and the prior is the chance that two random
records are the same person. A shared given name or family name adds more the rarer it is
(term-frequency adjustment). Nothing is tuned per dataset.

Where the records carry identifiers, m is counted rather than guessed: the blocked pairs that
share a national id are one person, so they show what every other field of one person's two
records looks like, and the pairs that share an insurance code show it for the national id
(`anchored_m`), as Splink estimates m from labelled pairs. EM then learns only the rest. At a
million persons this matters: EM alone takes namesakes of one ward for matches, learns that a
match's national ids often differ, and weighs two different ids at -0.8 instead of about -7.
"""

import functools
import json
import operator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from dancu.resolve.comparisons import COMPARISONS, Comparison, compare, pair_values
from dancu.resolve.records import RECORD_KEY

U_SAMPLE_PAIRS = 1_000_000  # random pairs u is counted on, at most (Splink's default size)
U_CHUNK = 100_000
U_MIN_COUNT = 100  # Splink's min_count_per_level
SEED = 20250701  # fixed: the same records always give the same model
EM_MAX_ITERATIONS = 100
EM_TOLERANCE = 1e-6  # largest change of any m between two iterations that ends the EM
# No probability is learnt as exactly 0 or 1: a level never seen in a sample is rare, not
# impossible (a sex typed wrong, a real typo in an id). This bounds any level's weight to ±16.6.
FLOOR = 1e-5
# The non-matches' level shares learnt by EM are anchored at u by this many pseudo-pairs. Where
# blocking finds many non-matches they decide; where it finds nearly none (a list of duplicates
# only), the non-match class stays what random pairs show instead of splitting the matches in
# two (FEBRL: half the true pairs taken for non-matches, m of "different" names a tenth of the
# truth).
NON_MATCH_ANCHOR = 1_000
# Identifiers whose agreement makes a pair one person, in the order they anchor m: each anchors
# every comparison but itself. `ANCHOR_MIN_PAIRS` pairs comparable on a field are enough to count
# its m; a field with fewer is left to EM.
ANCHORS = ("national_id", "bhxh_code")
ANCHOR_MIN_PAIRS = 1_000


@dataclass(frozen=True)
class Model:
    """A trained model.

    `parameters`: one row per comparison level (`comparison`, `level`, `label`, `m`, `u`,
    `weight` = log2(m/u)). `prior`: the chance that two random records are the same person.
    `tf`: per term-frequency-adjusted comparison, the share of records holding each value
    (`value`, `tf`). `u_agree`: per such comparison, the chance that two random records agree
    on it (the sum of u over its adjusted levels).
    """

    parameters: pl.DataFrame
    prior: float
    tf: dict[str, pl.DataFrame]
    u_agree: dict[str, float]

    def save(self, folder: Path) -> None:
        """The model as Parquet and JSON, so a later command can explain this run's pairs."""
        folder.mkdir(parents=True, exist_ok=True)
        self.parameters.write_parquet(folder / "parameters.parquet")
        for name, frame in self.tf.items():
            frame.write_parquet(folder / f"tf_{name}.parquet")
        meta = {"prior": self.prior, "u_agree": self.u_agree, "tf": sorted(self.tf)}
        (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "Model":
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        tf = {name: pl.read_parquet(folder / f"tf_{name}.parquet") for name in meta["tf"]}
        return cls(
            pl.read_parquet(folder / "parameters.parquet"), meta["prior"], tf, meta["u_agree"]
        )

    def table(self, comparison: str, column: str) -> np.ndarray:
        rows = self.parameters.filter(pl.col("comparison") == comparison).sort("level")
        return rows[column].to_numpy()


def random_pairs(size: int, count: int, seed: int = SEED) -> pl.DataFrame:
    """`count` random pairs (`left` < `right`) of distinct records among `size`, drawn with a
    fixed seed; fewer when `size` has fewer pairs."""
    rng = np.random.default_rng(seed)
    count = min(count, size * (size - 1) // 2)
    left = rng.integers(0, size, count, dtype=np.int64)
    right = rng.integers(0, size - 1, count, dtype=np.int64)
    right = np.where(right >= left, right + 1, right)  # any record but `left` itself
    return pl.DataFrame(
        {"left": np.minimum(left, right), "right": np.maximum(left, right)},
        schema={"left": pl.UInt32, "right": pl.UInt32},
    )


def estimate_u(records: pl.DataFrame, comparisons=COMPARISONS) -> dict[str, np.ndarray]:
    """u per comparison level: the share of random record pairs showing it, among the pairs
    comparable on it. As Splink does, the pairs are compared `U_CHUNK` at a time and a
    comparison whose every level has been seen `U_MIN_COUNT` times is done: middle names and
    parents need a tenth of the pairs, a shared national id all of them."""
    pairs = random_pairs(records.height, U_SAMPLE_PAIRS)
    counts = {c.name: np.zeros(len(c.levels)) for c in comparisons}
    pending = list(comparisons)
    for start in range(0, pairs.height, U_CHUNK):
        levels = compare(records, pairs.slice(start, U_CHUNK), pending)
        for c in pending:
            seen = levels[c.name].drop_nulls().to_numpy()
            counts[c.name] += np.bincount(seen, minlength=len(c.levels))
        pending = [c for c in pending if counts[c.name].min() < U_MIN_COUNT]
        if not pending:
            break
    return {name: _level_shares(np.arange(len(n)), n, len(n)) for name, n in counts.items()}


def _patterns(levels: pl.DataFrame | pl.LazyFrame, comparisons) -> tuple[np.ndarray, np.ndarray]:
    """The distinct combinations of levels among the pairs (-1 for not comparable), and how
    many pairs show each: EM works on these, a few thousand rows however many pairs."""
    names = [c.name for c in comparisons]
    # Sorted, so that sums run in the same order every time: the same input, the same model.
    grouped = (
        levels.lazy().select(pl.col(names).fill_null(-1)).group_by(names).len().sort(names)
    ).collect()
    return grouped.select(names).to_numpy().astype(np.int64), grouped["len"].to_numpy()


def _likelihood(patterns: np.ndarray, tables: list[np.ndarray]) -> np.ndarray:
    """Per pattern, the product over comparisons of the probability of its level."""
    result = np.ones(len(patterns))
    for k, table in enumerate(tables):
        level = patterns[:, k]
        result *= np.where(level >= 0, table[np.maximum(level, 0)], 1.0)
    return result


def anchored_m(
    levels: pl.DataFrame | pl.LazyFrame, comparisons=COMPARISONS
) -> dict[str, np.ndarray]:
    """m of each `anchored` comparison that an identifier anchors: the share of each of its
    levels among the blocked pairs that agree on the first of `ANCHORS` other than itself (level
    0, "same") and are comparable on it, where there are at least `ANCHOR_MIN_PAIRS` of them."""
    names = {c.name for c in comparisons}
    counted = {}
    for c in comparisons:
        anchor = next((a for a in ANCHORS if a != c.name and a in names), None)
        if anchor is None or not c.anchored:
            continue
        anchored = levels.lazy().filter(pl.col(anchor) == 0).select(pl.col(c.name).drop_nulls())
        shown = anchored.collect().to_series().to_numpy()
        if len(shown) >= ANCHOR_MIN_PAIRS:
            counted[c.name] = _level_shares(shown, np.ones(len(shown)), len(c.levels))
    return counted


def train_m(
    levels: pl.DataFrame | pl.LazyFrame, u: dict[str, np.ndarray], comparisons=COMPARISONS
) -> tuple[dict[str, np.ndarray], float]:
    """m per comparison level, and the share of blocked pairs that match.

    m is counted where an identifier anchors it (`anchored_m`) and learnt by EM otherwise. EM
    fits both classes over the blocked pairs: the matches' m, and the non-matches' level
    shares, which start at the random u but are learnt anew (anchored at u, see
    `NON_MATCH_ANCHOR`), for blocked non-matches agree on the blocked fields far more often
    than random pairs. Only m is kept: scoring uses u from random pairs, as Splink does.
    """
    patterns, counts = _patterns(levels, comparisons)
    fixed = anchored_m(levels, comparisons)
    m = [
        fixed.get(c.name, np.array([0.9] + [0.1 / (len(c.levels) - 1)] * (len(c.levels) - 1)))
        for c in comparisons
    ]
    non = [u[c.name].copy() for c in comparisons]
    share = 0.3
    for _ in range(EM_MAX_ITERATIONS):
        matched = share * _likelihood(patterns, m)
        unmatched = (1 - share) * _likelihood(patterns, non)
        posterior = matched / (matched + unmatched)
        share = float((posterior * counts).sum() / counts.sum())
        change = 0.0
        for k, comparison in enumerate(comparisons):
            size = len(comparison.levels)
            new_m = fixed.get(comparison.name)
            if new_m is None:
                new_m = _level_shares(patterns[:, k], posterior * counts, size)
            anchor = NON_MATCH_ANCHOR * u[comparison.name]
            new_non = _level_shares(patterns[:, k], (1 - posterior) * counts, size, anchor)
            change = max(change, float(np.abs(new_m - m[k]).max()))
            m[k], non[k] = new_m, new_non
        if change < EM_TOLERANCE:
            break
    return {c.name: m[k] for k, c in enumerate(comparisons)}, share


def _level_shares(
    level: np.ndarray, weights: np.ndarray, size: int, pseudo: np.ndarray | float = 0.0
) -> np.ndarray:
    """The weighted share of each level, with `pseudo` counts added per level."""
    comparable = level >= 0
    totals = np.bincount(level[comparable], weights=weights[comparable], minlength=size)
    totals = totals + pseudo
    totals = np.maximum(totals / max(totals.sum(), 1e-300), FLOOR)
    return totals / totals.sum()


def term_frequencies(records: pl.DataFrame, comparisons=COMPARISONS) -> dict[str, pl.DataFrame]:
    """Per term-frequency-adjusted comparison: each value's share of the records holding one."""
    tables = {}
    for c in comparisons:
        if c.tf_column is None:
            continue
        values = records.select(pl.col(c.tf_column).alias("value")).drop_nulls()
        shares = values.group_by("value").agg((pl.len() / values.height).alias("tf"))
        tables[c.name] = shares.with_columns(pl.col("value").cast(pl.String))
    return tables


def train(
    records: pl.DataFrame, pairs: pl.DataFrame | pl.LazyFrame, comparisons=COMPARISONS
) -> Model:
    """A model for `records` (keyed, with features) learnt from them and their blocked `pairs`
    (already compared: one level column per comparison; a lazy frame of them is read a few
    columns at a time)."""
    u = estimate_u(records, comparisons)
    m, share = train_m(pairs, u, comparisons)
    all_pairs = records.height * (records.height - 1) / 2
    blocked = pairs.lazy().select(pl.len()).collect().item()
    prior = min(max(share * blocked / max(all_pairs, 1), FLOOR), 1 - FLOOR)
    parameters = pl.concat(
        pl.DataFrame(
            {
                "comparison": c.name,
                "level": pl.Series(range(len(c.levels)), dtype=pl.Int8),
                "label": list(c.labels),
                "m": m[c.name],
                "u": u[c.name],
            }
        )
        for c in comparisons
    ).with_columns((pl.col("m") / pl.col("u")).log(2).alias("weight"))
    u_agree = {
        c.name: float(u[c.name][list(c.tf_levels)].sum()) for c in comparisons if c.tf_column
    }
    return Model(parameters, prior, term_frequencies(records, comparisons), u_agree)


def log2_odds(probability: float) -> float:
    return float(np.log2(probability / (1 - probability)))


def score(
    records: pl.DataFrame,
    compared: pl.DataFrame,
    model: Model,
    comparisons=COMPARISONS,
    field_weights: bool = True,
) -> pl.DataFrame:
    """`compared` pairs with the weight of each field (`w:<comparison>`, 0 where the pair is
    not comparable on it, the term-frequency adjustment included), the `match_weight` (the
    prior's log2 odds plus every field's weight) and the `match_probability`. Without
    `field_weights`, only the pairs' own columns and the last two: a million persons' pairs
    hold a gigabyte of field weights that only a clerk's few need."""
    weights = []
    frame = compared
    for c in comparisons:
        table = model.table(c.name, "weight")
        level = pl.col(c.name)
        weight = level.replace_strict(list(range(len(table))), table, return_dtype=pl.Float64)
        if c.tf_column is not None:
            frame = _with_tf(frame, records, c, model)
            adjusted = level.is_in(list(c.tf_levels))
            bonus = (model.u_agree[c.name] / pl.col(f"tf:{c.name}")).log(2)
            weight = pl.when(adjusted).then(weight + bonus).otherwise(weight)
        weights.append(weight.fill_null(0.0).alias(f"w:{c.name}"))
    # Added one by one, in the comparisons' order: polars' sum_horizontal adds floats in an order
    # that varies from run to run, and the same pair must get the same weight to the last bit.
    total = log2_odds(model.prior) + functools.reduce(operator.add, weights)
    scored = frame.with_columns(
        *(weights if field_weights else []), total.alias("match_weight")
    ).with_columns((1 / (1 + pl.lit(2.0).pow(-pl.col("match_weight")))).alias("match_probability"))
    return (
        scored
        if field_weights
        else scored.select(*compared.columns, "match_weight", "match_probability")
    )


def _with_tf(frame: pl.DataFrame, records: pl.DataFrame, c: Comparison, model: Model):
    """The frequency of the left record's value (the same as the right's where they agree)."""
    tf = model.tf[c.name]
    floor = 1 / max(records.height, 1)
    column = f"tf:{c.name}"
    if frame.height < records.height:
        # A few pairs (a cluster's, the review queue's): their left values, then the frequencies.
        left = pair_values(records, frame.select("left", "right"), (c.tf_column,))
        values = left.select(pl.col(c.tf_column + "_l").alias("value"))
        found = values.join(tf, on="value", how="left", maintain_order="left")["tf"]
        return frame.with_columns(found.fill_null(floor).alias(column))
    # Many pairs: every record's frequency, joined to the pairs by record key.
    side = records.select(RECORD_KEY, pl.col(c.tf_column).alias("value")).join(
        tf.with_columns(pl.col("value").cast(records.schema[c.tf_column])), on="value", how="left"
    )
    return frame.join(
        side.select(RECORD_KEY, pl.col("tf").fill_null(floor).alias(column)),
        left_on="left",
        right_on=RECORD_KEY,
        how="left",
        maintain_order="left",
    )
