"""Blocking: which pairs of records are worth comparing at all.

Each pass pairs the records that share a key (polars self-joins, no loop over rows); a pass on a
key that many people share keeps only the pairs whose names are alike, or those that national ids
do not tell apart. The passes are unioned and a pair remembers the first pass that found it. No
pass keys on the family name alone: about 38% of people are Nguyễn.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from dancu.resolve.comparisons import SIMILAR
from dancu.resolve.records import RECORD_KEY

# A key shared by more records than this names a group, not a person (a shared household or
# office phone, a placeholder date): the pass skips that block and reports it. 25 is far above
# the records one person has (a handful) and keeps a block's pairs under 300.
MAX_BLOCK = 25


# Which names of a pair are alike: the given names, the family names, the left given name and
# the right family name, the left family name and the right given name (names swapped).
NAME_CHECKS = {
    "given": ("given", "given"),
    "family": ("family", "family"),
    "given~family": ("given", "family"),
    "family~given": ("family", "given"),
}


def alike_given(records: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """One record's given name is like the other's given or family name: two records of one
    person keep that through a typo, a wrong birth date, a move or swapped names; two members
    of a household rarely have it."""
    alike = _alike_names(records, pairs)
    return alike["given"] | alike["given~family"] | alike["family~given"]


def alike_names(records: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """Given and family names both alike, in the same or the swapped order."""
    alike = _alike_names(records, pairs)
    return (alike["given"] & alike["family"]) | (alike["given~family"] & alike["family~given"])


def ids_do_not_differ(records: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """No national id tells the two records apart: one is unknown, or both are the same. Two
    different ids are two people, whom clustering never joins (`clusters.conflicts`)."""
    ids = records.select(RECORD_KEY, "national_number").sort(RECORD_KEY)["national_number"]
    left, right = ids.gather(pairs["left"]), ids.gather(pairs["right"])
    return (left.is_null() | right.is_null() | (left == right)).to_numpy()


@dataclass(frozen=True)
class BlockingPass:
    """Records whose `keys` are all present and equal form a block. With `keep`, only the
    pairs of a block that it accepts are kept (it reads the records and the pairs): a key that
    many people share, a house or a name in a ward, still finds the records of one person and
    not those of each housemate or namesake."""

    name: str
    keys: tuple[str, ...]
    keep: Callable[[pl.DataFrame, pl.DataFrame], np.ndarray] | None = None


PASSES = (
    BlockingPass("national_id", ("national_id",)),
    BlockingPass("bhxh_code", ("bhxh_code",)),
    # The day and month in either order, so a transposed date still blocks.
    BlockingPass("birth_date+given", ("birth_key", "given")),
    # A birth date known only by its year. This pass and three below key on what many people
    # share, and leave out the pairs that national ids tell apart: at a million persons, 6.3
    # of their 12.2 million pairs, and no true one.
    BlockingPass("birth_year+full_name", ("birth_year", "full_name_key"), keep=ids_do_not_differ),
    BlockingPass("phone", ("phone",)),
    # A typo in the given name: the rest of the name and the birth date. (Birth date and family
    # name alone gave 5.4 million pairs at a million persons for the same recall.)
    BlockingPass(
        "birth_date+family+middle", ("birth_key", "family_canon", "middle"), keep=ids_do_not_differ
    ),
    # Family and given name swapped (a form filled in Western order).
    BlockingPass("birth_date+name_words", ("birth_key", "name_words")),
    # Names garbled past recognition, or a wrong birth date: the rest of the person.
    BlockingPass("full_name+ward", ("full_name_key", "ward_code"), keep=ids_do_not_differ),
    BlockingPass("birth_date+ward", ("birth_key", "ward_code"), keep=ids_do_not_differ),
    # A wrong birth date and a name typo, or a move to another ward: the house (kept in every
    # source, unlike the ward code) with an alike given name.
    BlockingPass("house+alike_given", ("house_key",), keep=alike_given),
    # Swapped names with a typo in one of them (the initials do not care about the order), or
    # typos in both names.
    BlockingPass(
        "birth_date+initials+alike_names", ("birth_key", "name_initials"), keep=alike_names
    ),
)


def _blocks(records: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    """One row per block of records with a complete key: its `block` number, its records'
    keys (`rk`, a list) and its `size`."""
    present = records.select(RECORD_KEY, *keys).drop_nulls(list(keys))
    # Empty text is no key ("" middle names are a real value only together with other keys).
    if len(keys) == 1 and present.schema[keys[0]] == pl.String:
        present = present.filter(pl.col(keys[0]) != "")
    # Grouped by a 64-bit hash of the key, twice as fast as by the key's text: two keys with one
    # hash (about one chance in ten million at a million persons) would only add pairs to compare.
    return (
        present.group_by(pl.struct(keys).hash().alias("key"))
        .agg(pl.col(RECORD_KEY), pl.len().alias("size"))
        .filter(pl.col("size") >= 2)
        .select(RECORD_KEY, "size")
        .with_row_index("block")
    )


def _alike_names(records: pl.DataFrame, pairs: pl.DataFrame) -> dict[str, np.ndarray]:
    """Per check of `NAME_CHECKS`, whether each pair's two names are alike (Jaro-Winkler at
    least `SIMILAR`; never where one is missing). Names are numbered and each distinct pair of
    numbers is scored once: a few thousand names make the millions of pairs of a pass."""
    names = records.select(RECORD_KEY, "given", "family")
    words = pl.concat([names["given"], names["family"]]).drop_nulls().unique().sort()
    number = {c: _numbers(names, c, words) for c in ("given", "family")}
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    keys = {}
    for check, (a, b) in NAME_CHECKS.items():
        x, y = number[a][left], number[b][right]
        # Jaro-Winkler is symmetric: one key per unordered pair of names.
        keys[check] = pl.Series(np.minimum(x, y) * 2**32 + np.maximum(x, y))
    # Hashed, not sorted: sorting the keys of tens of millions of pairs takes seconds.
    distinct = pl.concat(list(keys.values())).unique().to_numpy()
    first, second = distinct // 2**32, distinct % 2**32
    known = (first < len(words)) & (second < len(words))
    scores = process.cpdist(
        words.gather(first[known]).to_list(),
        words.gather(second[known]).to_list(),
        scorer=JaroWinkler.normalized_similarity,
        workers=-1,
        score_cutoff=SIMILAR,
    )
    # In double precision, as the comparisons read it: 0.88 in single precision is below 0.88.
    alike = pl.Series(distinct[known][np.asarray(scores, dtype=np.float64) >= SIMILAR])
    return {check: key.is_in(alike.implode()).to_numpy() for check, key in keys.items()}


def _numbers(names: pl.DataFrame, column: str, words: pl.Series) -> np.ndarray:
    """Each record's `column` as its position in `words`, by record key; len(words) if missing."""
    position = pl.DataFrame({column: words, "n": np.arange(len(words), dtype=np.uint64)})
    numbered = names.join(position, on=column, how="left").sort(RECORD_KEY)
    return numbered["n"].fill_null(len(words)).to_numpy()


def pass_pairs(records: pl.DataFrame, blocking: BlockingPass) -> tuple[pl.DataFrame, dict]:
    """The pairs (`left` < `right`, record keys) one pass finds, and its counts: pairs, blocks
    and the records of the blocks skipped for being larger than `MAX_BLOCK`."""
    blocks = _blocks(records, blocking.keys)
    kept = (
        blocks.filter(pl.col("size") <= MAX_BLOCK).select("block", RECORD_KEY).explode(RECORD_KEY)
    )
    pairs = (
        kept.join(kept, on="block", suffix="_r")
        .filter(pl.col(RECORD_KEY) < pl.col(f"{RECORD_KEY}_r"))
        .select(pl.col(RECORD_KEY).alias("left"), pl.col(f"{RECORD_KEY}_r").alias("right"))
    )
    if blocking.keep is not None:
        pairs = pairs.filter(blocking.keep(records, pairs))
    too_big = blocks.filter(pl.col("size") > MAX_BLOCK)
    counts = {
        "pass": blocking.name,
        "pairs": pairs.height,
        "blocks_skipped": too_big.height,
        "records_in_skipped_blocks": int(too_big["size"].sum()),
    }
    return pairs, counts


def _first_finds(found: pl.DataFrame, size: int, passes: int) -> pl.DataFrame:
    """Each pair of `found` (`left`, `right`, `pass_order`) once, with the first pass that found
    it, sorted by `left`, `right`. While the record keys fit 24 bits, pair and pass are packed
    into one 64-bit integer: one sort and a look at the neighbour replace a group-by, several
    times faster."""
    if size >= 2**24 or passes > 256:
        return found.group_by("left", "right").agg(pl.col("pass_order").min()).sort("left", "right")
    packed = (
        pl.col("left").cast(pl.UInt64) * 2**40
        + pl.col("right").cast(pl.UInt64) * 2**8
        + pl.col("pass_order").cast(pl.UInt64)
    )
    pair = pl.col("packed") // 2**8
    return (
        found.select(packed.alias("packed"))
        .sort("packed")
        .filter(pair != pair.shift(1).fill_null(2**64 - 1))
        .select(
            (pl.col("packed") // 2**40).cast(pl.UInt32).alias("left"),
            (pl.col("packed") // 2**8 % 2**32).cast(pl.UInt32).alias("right"),
            (pl.col("packed") % 2**8).cast(pl.UInt8).alias("pass_order"),
        )
    )


def candidate_pairs(
    records: pl.DataFrame, passes: tuple[BlockingPass, ...] = PASSES
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every pair some pass found, once, and a table of per-pass counts.

    Pairs: `left`, `right` (record keys, `left` < `right`) and `blocked_by` (the first pass that
    found the pair). Counts: `pass`, `pairs` (found by the pass), `new_pairs` (not found by an
    earlier pass), `blocks_skipped`, `records_in_skipped_blocks`.
    """
    found, counts = [], []
    for order, blocking in enumerate(passes):
        pairs, count = pass_pairs(records, blocking)
        found.append(pairs.with_columns(pl.lit(order, dtype=pl.UInt8).alias("pass_order")))
        counts.append(count)
    union = _first_finds(pl.concat(found), records.height, len(passes))
    names = pl.Series([p.name for p in passes])
    new = union.group_by("pass_order").len()
    table = (
        pl.DataFrame(counts)
        .with_row_index("pass_order")
        .with_columns(pl.col("pass_order").cast(pl.UInt8))
    )
    table = (
        table.join(new.rename({"len": "new_pairs"}), on="pass_order", how="left")
        .with_columns(pl.col("new_pairs").fill_null(0).cast(pl.Int64))
        .select("pass", "pairs", "new_pairs", "blocks_skipped", "records_in_skipped_blocks")
    )
    pairs = union.with_columns(
        pl.col("pass_order").replace_strict(list(range(len(passes))), names).alias("blocked_by")
    ).drop("pass_order")
    return pairs, table
