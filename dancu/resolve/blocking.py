"""Blocking: which pairs of records are worth comparing at all.

Each pass pairs the records that share a key (polars self-joins, no loop over rows); a pass on a
key that many people share keeps only the pairs whose names are alike, or those that national ids
with birth dates or given names do not tell apart (as `decisions.told_apart` would). The passes
are unioned and a pair remembers the first pass that found it. No pass keys on the family name
alone: about 38% of people are Nguyễn.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from dancu.resolve.comparisons import NATIONAL_ID_DIGITS, SIMILAR, one_slip_apart
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


def slipped_family(records: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """One record's family name is like the other's family or given name, and not the same:
    a slip (one family's members, of one family name, are not kept)."""
    alike = _alike_names(records, pairs)
    families = records["family"]
    same = (families.gather(pairs["left"]) == families.gather(pairs["right"])).fill_null(False)
    return (alike["family"] & ~same.to_numpy()) | alike["given~family"] | alike["family~given"]


def slipped_name(records: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """A slip in a name: some name of one record is like some name of the other, not the same
    (family or given, in either order)."""
    alike = _alike_names(records, pairs)
    names = records.select("given", "family")
    left, right = names[pairs["left"]], names[pairs["right"]]
    same = {
        check: (left[a] == right[b]).fill_null(False).to_numpy()
        for check, (a, b) in NAME_CHECKS.items()
    }
    return np.logical_or.reduce([alike[check] & ~same[check] for check in NAME_CHECKS])


def alike_names(records: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """Given and family names both alike, in the same or the swapped order."""
    alike = _alike_names(records, pairs)
    return (alike["given"] & alike["family"]) | (alike["given~family"] & alike["family~given"])


def _ids_tell_apart(records: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """Which pairs hold two national ids that differ by more than a slip, each its holder's:
    the national id comparison's level "different", found on the ids as numbers (these passes
    hold millions of pairs, and the comparison would read the ids as text)."""
    numbers = records["national_number"]
    left, right = numbers.gather(pairs["left"]), numbers.gather(pairs["right"])
    own = records["id_is_own"]
    both_own = (own.gather(pairs["left"]) & own.gather(pairs["right"])).to_numpy()
    differ = np.flatnonzero((left != right).fill_null(False).to_numpy() & both_own)
    apart = np.zeros(pairs.height, dtype=bool)
    apart[differ] = ~one_slip_apart(
        left.gather(differ).to_numpy(), right.gather(differ).to_numpy(), NATIONAL_ID_DIGITS
    )
    return apart


def ids_and_births_do_not_tell_apart(records: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """For passes on a name: leave out the pairs that `decisions.told_apart` takes for two
    people by their national ids and birth dates alone (ids that differ by more than a slip,
    each its holder's, and birth dates that are not one date written either way round, which
    is what an equal `birth_key` says: namesakes); keep every other, ids a slip apart or of
    another generation included."""
    apart = _ids_tell_apart(records, pairs)
    at = np.flatnonzero(apart)
    births = records["birth_key"]
    same_date = births.gather(pairs["left"].gather(at)) == births.gather(pairs["right"].gather(at))
    apart[at] = ~same_date.fill_null(False).to_numpy()
    return ~apart


def ids_and_given_names_do_not_tell_apart(records: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """For passes on a birth date: leave out the pairs that `decisions.told_apart` takes for two
    people by their national ids and given names alone (ids that differ by more than a slip,
    each its holder's, and given names that differ even without diacritics and in any order:
    twins, people born the same day); keep every other."""
    apart = _ids_tell_apart(records, pairs)
    at = np.flatnonzero(apart)
    names = records.select("given", "name_words")
    left, right = names[pairs["left"].gather(at)], names[pairs["right"].gather(at)]
    other_names = (left["given"] != right["given"]) & (left["name_words"] != right["name_words"])
    apart[at] = other_names.fill_null(False).to_numpy()
    return ~apart


@dataclass(frozen=True)
class BlockingPass:
    """Records whose `keys` are all present and equal form a block. With `keep`, only the
    pairs of a block that it accepts are kept (it reads the records, in record-key order, and
    the pairs): a key that many people share, a house or a name in a ward, still finds the
    records of one person and not those of each housemate or namesake."""

    name: str
    keys: tuple[str, ...]
    keep: Callable[[pl.DataFrame, pl.DataFrame], np.ndarray] | None = None


PASSES = (
    BlockingPass("national_id", ("national_id",)),
    BlockingPass("bhxh_code", ("bhxh_code",)),
    # The day and month in either order, so a transposed date still blocks.
    BlockingPass("birth_date+given", ("birth_key", "given")),
    # A birth date known only by its year. This pass and three below key on what many people
    # share, and leave out the pairs that their national ids with their birth dates or given
    # names tell apart, as the decisions would (namesakes, people born the same day in one
    # ward): at a million persons, 6.3 of their 12.2 million pairs. Ids that differ alone
    # leave out no pair.
    BlockingPass(
        "birth_year+full_name",
        ("birth_year", "full_name_key"),
        keep=ids_and_births_do_not_tell_apart,
    ),
    BlockingPass("phone", ("phone",)),
    # A typo in the given name: the rest of the name and the birth date. (Birth date and family
    # name alone gave 5.4 million pairs at a million persons for the same recall.)
    BlockingPass(
        "birth_date+family+middle",
        ("birth_key", "family_canon", "middle"),
        keep=ids_and_given_names_do_not_tell_apart,
    ),
    # Family and given name swapped (a form filled in Western order).
    BlockingPass("birth_date+name_words", ("birth_key", "name_words")),
    # Names garbled past recognition, or a wrong birth date: the rest of the person.
    BlockingPass(
        "full_name+ward", ("full_name_key", "place"), keep=ids_and_births_do_not_tell_apart
    ),
    BlockingPass(
        "birth_date+ward", ("birth_key", "place"), keep=ids_and_given_names_do_not_tell_apart
    ),
    # A wrong birth date and a name typo, or a move to another ward: the house (kept in every
    # source, unlike the ward code) with an alike given name.
    BlockingPass("house+alike_given", ("house_key",), keep=alike_given),
    # Swapped names with a typo in one of them (the initials do not care about the order), or
    # typos in both names.
    BlockingPass(
        "birth_date+initials+alike_names", ("birth_key", "name_initials"), keep=alike_names
    ),
    # A wrong birth date and a slip in the family name: the given name in the ward.
    BlockingPass("given+ward+slipped_family", ("given", "place"), keep=slipped_family),
    # A birth date that few records share (a commune's, not a city's: in a city, dozens of
    # people share each day and the block is skipped), with a slip in a name: the other name
    # mistyped or replaced too.
    BlockingPass("birth_date+slipped_name", ("birth_key",), keep=slipped_name),
)


def pairs_in_runs(
    labels: np.ndarray, nodes: np.ndarray, max_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of `nodes` with one label, inside runs of 2 to `max_size` nodes, where
    `labels` are sorted (equal labels side by side) and nodes ascend inside a run: `left`
    (before) and `right` (after in the run), and the length of every run.

    A run's pairs are its nodes `step` places apart with the same label: a few vector passes
    instead of a group-by and a self-join, several times faster.
    """
    ends = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    runs = np.diff(np.r_[0, ends, len(labels)])
    runs = runs[runs > 0]  # none when there are no labels
    run_of_node = np.repeat(runs, runs)
    paired = np.flatnonzero((run_of_node >= 2) & (run_of_node <= max_size))
    label, node = labels[paired], nodes[paired]
    left, right = [], []
    for step in range(1, max_size):
        same = np.flatnonzero(label[:-step] == label[step:])
        if len(same) == 0:
            break
        left.append(node[same])
        right.append(node[same + step])
    none = np.empty(0, dtype=nodes.dtype)
    return np.concatenate([none, *left]), np.concatenate([none, *right]), runs


def _alike_names(records: pl.DataFrame, pairs: pl.DataFrame) -> dict[str, np.ndarray]:
    """Per check of `NAME_CHECKS`, whether each pair's two names are alike (Jaro-Winkler at
    least `SIMILAR`; never where one is missing). Names are numbered and each distinct pair of
    numbers is scored once: a few thousand names make the millions of pairs of a pass."""
    names = records.select("given", "family")
    words = pl.concat([names["given"], names["family"]]).drop_nulls().unique().sort()
    # Each record's given and family name as positions in `words` (len(words) where missing),
    # side by side: one gather per side of a pair fetches both, and gathers dominate the cost.
    numbered = names.select(
        pl.col(c).cast(pl.Enum(words)).to_physical().cast(pl.UInt64).fill_null(len(words))
        for c in ("given", "family")
    )
    numbers = np.ascontiguousarray(numbered.to_numpy())
    column = {"given": 0, "family": 1}
    left = np.take(numbers, pairs["left"].to_numpy(), axis=0)
    right = np.take(numbers, pairs["right"].to_numpy(), axis=0)
    keys = {}
    for check, (a, b) in NAME_CHECKS.items():
        x, y = left[:, column[a]], right[:, column[b]]
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


def pass_pairs(records: pl.DataFrame, blocking: BlockingPass) -> tuple[pl.DataFrame, dict]:
    """The pairs (`left` < `right`, record keys) one pass finds, and its counts: pairs, blocks
    and the records of the blocks skipped for being larger than `MAX_BLOCK`."""
    keys = list(blocking.keys)
    present = records.select(RECORD_KEY, *keys).drop_nulls(keys)
    # Empty text is no key ("" middle names are a real value only together with other keys).
    if len(keys) == 1 and present.schema[keys[0]] == pl.String:
        present = present.filter(pl.col(keys[0]) != "")
    # Blocked by a 64-bit hash of the key, twice as fast as by the key's text: two keys with one
    # hash (about one chance in ten million at a million persons) would only add pairs to compare.
    # Records come in record-key order: a stable sort keeps them ascending inside a block.
    blocks = present.select(pl.struct(keys).hash().alias("key"), RECORD_KEY).sort(
        "key", maintain_order=True
    )
    left, right, sizes = pairs_in_runs(
        blocks["key"].to_numpy(), blocks[RECORD_KEY].to_numpy(), MAX_BLOCK
    )
    pairs = pl.DataFrame(
        {"left": left, "right": right}, schema={"left": pl.UInt32, "right": pl.UInt32}
    )
    if blocking.keep is not None:
        pairs = pairs.filter(blocking.keep(records, pairs))
    too_big = sizes[sizes > MAX_BLOCK]
    counts = {
        "pass": blocking.name,
        "pairs": pairs.height,
        "blocks_skipped": len(too_big),
        "records_in_skipped_blocks": int(too_big.sum()),
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
    """Every pair some pass found, once, and a table of per-pass counts, of `records` in
    record-key order (as `features(keyed(...))` leaves them).

    Pairs: `left`, `right` (record keys, `left` < `right`) and `blocked_by` (the first pass that
    found the pair). Counts: `pass`, `pairs` (found by the pass), `new_pairs` (not found by an
    earlier pass), `blocks_skipped`, `records_in_skipped_blocks`.
    """
    if not records[RECORD_KEY].is_sorted():
        raise ValueError("records must come in record-key order")
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
