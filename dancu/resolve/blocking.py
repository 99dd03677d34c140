"""Blocking: which pairs of records are worth comparing at all.

Each pass pairs the records that share a key (polars self-joins, no loop over rows); a pass on a
key that many people share keeps only the pairs whose names are alike, or those that national ids
with birth dates or given names do not tell apart (as `decisions.told_apart` would). The passes
are unioned and a pair remembers the first pass that found it. No pass keys on the family name
alone: about 38% of people are Nguyễn.

A block holds at most `MAX_BLOCK` records (`SPLIT_BLOCK` on a name or a birth date), so that a
pass's pairs grow with its records, not with their square. In a city of ten million a birth date
and a common given name make blocks of dozens, a common full name and a birth year of hundreds.
A pass on what names a person splits a larger block into sub-blocks, once per sub-key it
declares (`split_by`), and pairs each small enough sub-block; the pairs of the splits are
unioned. A pair of one person is lost to a split only when its records differ in
every sub-key, and the sub-keys are chosen on fields that independent errors hit (a name and a
ward, a year and a house): a loss needs an error in each, besides the one the pass is there for,
and then the passes on the national id, the social-insurance code, the phone or the house still
find it. (On the noisy 20,000-person set with a cap of 4, where blocks overflow as at ten
million, a split pass keeps 99.2% or more of its pairs of one person, six of them 99.9%, and the
passes together 28,265 of the 28,273 that blocks without a cap find; skipping instead of
splitting keeps 28,262.) Blocks or sub-blocks still too large, and those of passes on what a
group or a placeholder shares (an id, a phone, a house, a birth date), and a common name's block
in the pass on rare names, are skipped and counted.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from dancu.resolve.comparisons import NATIONAL_ID_DIGITS, SIMILAR, one_slip_apart, slices
from dancu.resolve.records import RECORD_KEY

# The most records a block pairs: 25 is far above the records one person has (a handful) and
# keeps a block's pairs under 300, a dozen per record. A larger block is split (see `split_by`)
# or, on a key that names a group (a shared household or office phone, a placeholder date),
# skipped and reported.
MAX_BLOCK = 25
# Pairs a `keep` filter judges at a time: it holds some 70 bytes for each pair it reads, and a
# pass reads tens of millions at ten million persons.
KEEP_CHUNK = 5_000_000
# Packed pairs whose repeats are found at a time (8 bytes each, twice over).
DEDUPLICATE_SLICE = 10_000_000
# How many of each pass's largest block sizes the counts report.
LARGEST_REPORTED = 5
# `blocked_by` of a pair a clerk decided that no pass found.
BY_CLERK = "clerk"


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


def alike_given_not_told_apart(records: pl.DataFrame, pairs: pl.DataFrame) -> np.ndarray:
    """`alike_given`, of the pairs that `ids_and_births_do_not_tell_apart` keeps: for a key
    that a family shares, namesakes whose ids and birth dates differ are left out too."""
    kept = ids_and_births_do_not_tell_apart(records, pairs)
    # Names are compared only where ids and births leave the pair open: in a house or a family
    # most pairs are housemates whose ids tell them apart, and a name comparison costs more.
    at = np.flatnonzero(kept)
    kept[at] = alike_given(records, pairs[at])
    return kept


def one_birth_unknown_and_ids_do_not_tell_apart(
    records: pl.DataFrame, pairs: pl.DataFrame
) -> np.ndarray:
    """For a pass on a name alone: keep the pairs of which one record holds no birth date,
    not even a year (no pass on a birth date finds them), and that national ids do not tell
    apart. Pairs of two birth dates are left out: most are namesakes (on FEBRL4, let in, they
    taught EM that another birth date is worth -2.6 instead of -14)."""
    years = records["birth_year"]
    unknown = years.gather(pairs["left"]).is_null() | years.gather(pairs["right"]).is_null()
    kept = unknown.to_numpy()
    # Ids are read only where a birth date is unknown: in a register nearly none is.
    at = np.flatnonzero(kept)
    kept[at] = ~_ids_tell_apart(records, pairs[at])
    return kept


@dataclass(frozen=True)
class BlockingPass:
    """Records whose `keys` are all present and equal form a block. With `keep`, only the
    pairs of a block that it accepts are kept (it reads the records, in record-key order, and
    the pairs): a key that many people share, a house or a name in a ward, still finds the
    records of one person and not those of each housemate or namesake. `split_by`: the
    sub-keys (each a tuple of columns) that a block over the cap is split on, each on its own
    (see the module's docstring); none where a large block names a group, which is skipped.
    `max_block`: the most records a block pairs; by default `SPLIT_BLOCK` where large blocks
    are split, `MAX_BLOCK` where they are skipped."""

    name: str
    keys: tuple[str, ...]
    keep: Callable[[pl.DataFrame, pl.DataFrame], np.ndarray] | None = None
    split_by: tuple[tuple[str, ...], ...] = ()
    max_block: int | None = None

    @property
    def cap(self) -> int:
        """The most records a block of this pass pairs."""
        return self.max_block or (SPLIT_BLOCK if self.split_by else MAX_BLOCK)


# The cap of a pass that splits its large blocks: a pass on a name or a birth date. At ten
# million persons about a thousand records share a birth date, and a common name or a ward with
# it leaves blocks of 20 to 25 records under `MAX_BLOCK`: 12 pairs a record, most of them
# namesakes. Above this cap they are split, mostly on a name or the ward. On the ten-million set
# the five name passes that had `MAX_BLOCK` found 145 million pairs at it and 107 million at
# this cap; all passes together found 63 million distinct pairs, 2.7 a record. On the
# million-person set: 4.42 million pairs instead of 5.52, and of the 1,783,336 true pairs
# 1,782,721 instead of 1,782,761.
SPLIT_BLOCK = 10

# Sub-keys that split a block over the cap. A pair of one person is lost to both splits of a
# pass only with an error in each sub-key's field (the rates are about 1-3% a field), and other
# passes still look for it there.
BY_FAMILY, BY_GIVEN, BY_INITIAL = ("family_canon",), ("given",), ("initial",)
BY_WARD, BY_HOUSE, BY_SEX = ("place",), ("house_key",), ("sex",)
BY_BIRTH_DATE, BY_BIRTH_YEAR = ("birth_key",), ("birth_year",)

PASSES = (
    # A national id, a social-insurance code or a phone shared by more than `MAX_BLOCK` records
    # is a placeholder or a group's: skipped.
    BlockingPass("national_id", ("current_national_id",)),
    BlockingPass("bhxh_code", ("bhxh_code",)),
    # The other documents a person is known by: an old identity card, a passport.
    BlockingPass("cmnd", ("cmnd",)),
    BlockingPass("passport", ("passport",)),
    # The day and month in either order, so a transposed date still blocks.
    BlockingPass(
        "birth_date+given",
        ("birth_key", "given"),
        split_by=(BY_FAMILY, BY_WARD, BY_HOUSE),
    ),
    # A birth date known only by its year. This pass and three below key on what many people
    # share, and leave out the pairs that their national ids with their birth dates or given
    # names tell apart, as the decisions would (namesakes, people born the same day in one
    # ward): at a million persons, 6.3 of their 12.2 million pairs. Ids that differ alone
    # leave out no pair.
    BlockingPass(
        "birth_year+full_name",
        ("birth_year", "full_name_key"),
        keep=ids_and_births_do_not_tell_apart,
        split_by=(BY_BIRTH_DATE, BY_WARD),
    ),
    BlockingPass("phone", ("phone",)),
    # A typo in the given name: the rest of the name and the birth date. (Birth date and family
    # name alone gave 5.4 million pairs at a million persons for the same recall.)
    BlockingPass(
        "birth_date+family+middle",
        ("birth_key", "family_canon", "middle"),
        keep=ids_and_given_names_do_not_tell_apart,
        split_by=(BY_INITIAL, BY_WARD),
    ),
    # Family and given name swapped (a form filled in Western order).
    BlockingPass("birth_date+name_words", ("birth_key", "name_words"), split_by=(BY_WARD, BY_SEX)),
    # Names garbled past recognition, or a wrong birth date: the rest of the person.
    BlockingPass(
        "full_name+ward",
        ("full_name_key", "place"),
        keep=ids_and_births_do_not_tell_apart,
        split_by=(BY_BIRTH_YEAR, BY_HOUSE),
    ),
    BlockingPass(
        "birth_date+ward",
        ("birth_key", "place"),
        keep=ids_and_given_names_do_not_tell_apart,
        split_by=(BY_INITIAL, BY_FAMILY),
    ),
    # A wrong birth date and a name typo, or a move to another ward: the house (kept in every
    # source, unlike the ward code) with an alike given name. A house of more than `MAX_BLOCK`
    # records is a village's hamlet, not a household: skipped (split, its blocks of a thousand
    # records added a million pairs at a million persons, a quarter more, for little).
    BlockingPass("house+alike_given", ("house_key",), keep=alike_given),
    # Swapped names with a typo in one of them (the initials do not care about the order), or
    # typos in both names.
    BlockingPass(
        "birth_date+initials+alike_names",
        ("birth_key", "name_initials"),
        keep=alike_names,
        split_by=(BY_FAMILY, BY_GIVEN),
    ),
    # A wrong birth date and a slip in the family name: the given name in the ward.
    BlockingPass(
        "given+ward+slipped_family",
        ("given", "place"),
        keep=slipped_family,
        split_by=(BY_BIRTH_YEAR, BY_HOUSE),
    ),
    # A birth date that few records share (a commune's, not a city's: in a city, dozens of
    # people share each day and the block is skipped), with a slip in a name: the other name
    # mistyped or replaced too.
    BlockingPass("birth_date+slipped_name", ("birth_key",), keep=slipped_name),
    # No birth date, in another ward: a name that few records hold (a common name's block is
    # skipped), its words in any order.
    BlockingPass(
        "rare_name+unknown_birth",
        ("name_words",),
        keep=one_birth_unknown_and_ids_do_not_tell_apart,
        max_block=SPLIT_BLOCK,
    ),
    # A birth date unknown or wrong and a slip in the given name: the family name in the ward.
    BlockingPass(
        "family+ward+alike_given",
        ("family_canon", "place"),
        keep=alike_given_not_told_apart,
        split_by=(BY_BIRTH_YEAR, BY_HOUSE),
    ),
    # Names replaced and the ward mistyped: the birth date in the house.
    BlockingPass(
        "birth_date+house", ("birth_key", "house_key"), keep=ids_and_given_names_do_not_tell_apart
    ),
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
    words = pl.concat([names["given"], names["family"]]).drop_nulls().unique().cast(pl.String)
    words = words.sort()
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


def _block_key(keys: list[str]) -> pl.Expr:
    """A 64-bit hash of the key: blocking by it is twice as fast as by the key's text. Two keys
    with one hash (about one chance in ten million at a million persons) would only add pairs
    to compare."""
    return pl.struct(keys).hash().alias("key")


def _sorted_blocks(present: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """`key` and record key of the records of `present`, sorted by `key`: records come in
    record-key order, and a stable sort keeps them ascending inside a block."""
    return present.select(_block_key(keys), RECORD_KEY).sort("key", maintain_order=True)


def _split(
    records: pl.DataFrame, large: pl.DataFrame, sub_key: tuple[str, ...], max_block: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of the sub-blocks that `sub_key` splits the `large` blocks (`key`, record key,
    by `key`) into, and the sizes of the sub-blocks. A record without the sub-key is in none."""
    columns = list(sub_key)
    values = records.select(columns).gather(large[RECORD_KEY])
    sub_blocks = _sorted_blocks(
        pl.concat([large, values], how="horizontal").drop_nulls(columns),
        ["key", *columns],
    )
    return pairs_in_runs(sub_blocks["key"].to_numpy(), sub_blocks[RECORD_KEY].to_numpy(), max_block)


def _each_once(pairs: pl.DataFrame) -> pl.DataFrame:
    """`pairs` (`left`, `right`) without repeats, sorted: each pair packed into one 64-bit
    integer, which a sort and a look at the neighbour deduplicate. At ten million persons
    blocking then holds 5.3 GiB at most instead of 6.2 (a `unique` on the two columns)."""
    packed = _packed(pairs, (32, 0))
    packed = _firsts_sorted(packed, drop_bits=0)
    return _pair_frame((packed >> 32).astype(np.uint32), packed.astype(np.uint32))


def _packed(pairs: pl.DataFrame, shifts: tuple[int, int], low: int = 0) -> np.ndarray:
    """Each pair of `pairs` as one 64-bit integer: `left` and `right` shifted left by `shifts`,
    and `low` in the bits below. Built in place, holding at most two integers a pair."""
    packed = pairs["left"].to_numpy().astype(np.uint64)
    packed <<= shifts[0]
    right = pairs["right"].to_numpy().astype(np.uint64)
    right <<= shifts[1]
    packed |= right
    packed |= low
    return packed


def _firsts_sorted(packed: np.ndarray, drop_bits: int) -> np.ndarray:
    """`packed` sorted in place, without the values that repeat the one before them once their
    lowest `drop_bits` bits are dropped. NumPy sorts unsigned integers in place (with the
    processor's vector instructions, three times as fast as polars here), and the repeats are
    found a slice at a time: at ten million persons the union of the passes' pairs is a hundred
    million integers, and each copy of it 0.8 GB."""
    packed.sort()
    first = np.ones(len(packed), dtype=bool)
    for start in range(1, len(packed), DEDUPLICATE_SLICE):
        end = min(start + DEDUPLICATE_SLICE, len(packed))
        here, before = packed[start:end], packed[start - 1 : end - 1]
        first[start:end] = here >> drop_bits != before >> drop_bits
    return packed[first]


def _pair_frame(left: np.ndarray, right: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame(
        {"left": left, "right": right}, schema={"left": pl.UInt32, "right": pl.UInt32}
    )


def pass_pairs(
    records: pl.DataFrame, blocking: BlockingPass, max_block: int | None = None
) -> tuple[pl.DataFrame, dict]:
    """The pairs (`left` < `right`, record keys) one pass finds, and its counts: `pairs`, the
    sizes of its `largest_blocks`, the `blocks_split` for being larger than `max_block` (the
    pass's own by default), and the `blocks_skipped` (blocks, or sub-blocks of a split, still
    too large) with `records_in_skipped_blocks`."""
    max_block = max_block or blocking.cap
    keys = list(blocking.keys)
    present = records.select(RECORD_KEY, *keys).drop_nulls(keys)
    # Empty text is no key ("" middle names are a real value only together with other keys).
    if len(keys) == 1 and present.schema[keys[0]] in (pl.String, pl.Categorical):
        present = present.filter(pl.col(keys[0]) != "")
    blocks = _sorted_blocks(present, keys)
    left, right, sizes = pairs_in_runs(
        blocks["key"].to_numpy(), blocks[RECORD_KEY].to_numpy(), max_block
    )
    too_large = sizes > max_block

    def kept(found: pl.DataFrame) -> pl.DataFrame:
        """The pairs `blocking.keep` accepts, judged `KEEP_CHUNK` at a time."""
        if blocking.keep is None:
            return found
        return pl.concat(
            part.filter(blocking.keep(records, part)) for part in slices(found, KEEP_CHUNK)
        )

    pairs = kept(_pair_frame(left, right))
    skipped = [sizes[too_large]]
    if blocking.split_by and too_large.any():
        large = blocks.filter(np.repeat(too_large, sizes))
        split_pairs, skipped = [], []
        for sub_key in blocking.split_by:
            sub_left, sub_right, sub_sizes = _split(records, large, sub_key, max_block)
            # Judged split by split: at ten million persons a split finds tens of millions of
            # pairs that the filter leaves out.
            split_pairs.append(kept(_pair_frame(sub_left, sub_right)))
            skipped.append(sub_sizes[sub_sizes > max_block])
        # A pair in a sub-block of each split is found once.
        pairs = pl.concat([pairs, _each_once(pl.concat(split_pairs))])
    skipped = np.concatenate(skipped)
    counts = {
        "pass": blocking.name,
        "pairs": pairs.height,
        "largest_blocks": np.sort(sizes)[::-1][:LARGEST_REPORTED].tolist(),
        "blocks_split": int(too_large.sum()) if blocking.split_by else 0,
        "blocks_skipped": len(skipped),
        "records_in_skipped_blocks": int(skipped.sum()),
    }
    return pairs, counts


class FirstFinds:
    """The union of the passes' pairs: each pair once, with the first pass that found it.

    While two record keys and a pass fit 64 bits (up to 2**28 records: ten million persons'
    records take 25 bits), each pass's pairs are packed into one integer as they come and
    merged into the union whenever they outgrow it: a sort and a look at the neighbour replace
    a group-by, and the passes' pairs (three times the union at a million persons, nine bytes
    each) are never all held at once. A merge holds the union and the pairs waiting, and one
    copy of both while it sorts them."""

    def __init__(self, size: int, passes: int):
        self.key_bits = max(size - 1, 1).bit_length()
        self.packs = 2 * self.key_bits + 8 <= 64 and passes <= 256
        self.union = np.empty(0, dtype=np.uint64)
        self.pending: list[np.ndarray | pl.DataFrame] = []

    def add(self, pairs: pl.DataFrame, order: int) -> None:
        """The pairs (`left`, `right`) pass number `order` found."""
        if not self.packs:
            self.pending.append(pairs.with_columns(pass_order=pl.lit(order, dtype=pl.UInt8)))
            return
        self.pending.append(_packed(pairs, (self.key_bits + 8, 8), low=order))
        if sum(len(part) for part in self.pending) >= len(self.union):
            self._merge()

    def _merge(self) -> None:
        merged = np.concatenate([self.union, *self.pending])
        # Let go before the sort, which then holds only the one copy.
        self.union, self.pending = np.empty(0, dtype=np.uint64), []
        self.union = _firsts_sorted(merged, drop_bits=8)

    def pairs(self) -> pl.DataFrame:
        """`left`, `right`, `pass_order` (the first pass that found the pair), sorted by `left`,
        `right`."""
        if not self.packs:
            return (
                pl.concat(self.pending)
                .group_by("left", "right")
                .agg(pl.col("pass_order").min())
                .sort("left", "right")
            )
        self._merge()
        packed, key_mask = self.union, np.uint64(2**self.key_bits - 1)
        return pl.DataFrame(
            {
                "left": (packed >> (self.key_bits + 8)).astype(np.uint32),
                "right": (packed >> 8 & key_mask).astype(np.uint32),
                "pass_order": (packed & np.uint64(0xFF)).astype(np.uint8),
            }
        )


def candidate_pairs(
    records: pl.DataFrame, passes: tuple[BlockingPass, ...] = PASSES, max_block: int | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every pair some pass found, once, and a table of per-pass counts, of `records` in
    record-key order (as `features(keyed(...))` leaves them), in blocks of at most each pass's
    `max_block` records, or of `max_block` for every pass when it is given.

    Pairs: `left`, `right` (record keys, `left` < `right`) and `blocked_by` (the first pass that
    found the pair, an enum of the passes' names and `BY_CLERK`). Counts: `pass`, `pairs`
    (found by the pass), `new_pairs` (not found by an earlier pass), and the block sizes of
    `pass_pairs` (`largest_blocks`, `blocks_split`,
    `blocks_skipped`, `records_in_skipped_blocks`).
    """
    if not records[RECORD_KEY].is_sorted():
        raise ValueError("records must come in record-key order")
    found, counts = FirstFinds(records.height, len(passes)), []
    for order, blocking in enumerate(passes):
        pairs, count = pass_pairs(records, blocking, max_block)
        found.add(pairs, order)
        counts.append(count)
    union = found.pairs()
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
        .select(
            "pass",
            "pairs",
            "new_pairs",
            "largest_blocks",
            "blocks_split",
            "blocks_skipped",
            "records_in_skipped_blocks",
        )
    )
    pairs = union.with_columns(
        # An enum (a byte a pair) rather than text (sixteen): there are a hundred million pairs
        # at ten million persons.
        pl.col("pass_order")
        .replace_strict(list(range(len(passes))), names, return_dtype=pl.Enum([*names, BY_CLERK]))
        .alias("blocked_by")
    ).drop("pass_order")
    return pairs, table
