"""Comparisons: for each pair of records, one agreement level per field.

A comparison reads the two records' values (columns suffixed `_l` and `_r` in a frame of pairs)
and gives each pair a level. Its levels are small declarative objects, as in Splink's comparison
level library: each has its label and its condition, and a pair's level is the first whose
condition holds: 0 is the closest agreement, higher levels agree less, and null means the pair
cannot be compared on that field (a value is missing). Levels carry no weight here; the model
learns what each level is worth.

Text similarity is computed with rapidfuzz batch functions over whole pair columns, once per
distinct pair of values. A level that reads a score declares the `Score` and its threshold; a
`Score` read by several levels, even of two comparisons, is computed once per chunk of pairs,
with the loosest of their thresholds as rapidfuzz's cutoff.
"""

import functools
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import polars.selectors as cs
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Indel, JaroWinkler

from dancu.memory import rows_within
from dancu.resolve.records import GENERATION, RECORD_KEY

LEFT, RIGHT = "_l", "_r"
# Jaro-Winkler similarity from which two spellings are read as the same word with a slip.
SIMILAR = 0.88
# Pairs compared at a time: bounds the memory of the values and scores beside them, about
# `PAIR_BYTES` a pair (measured: 1.9 GiB for a million), to two gigabytes; less where the
# run's memory limit holds less (`pairs_at_once`).
CHUNK = 1_000_000
PAIR_BYTES = 2_000
NATIONAL_ID_DIGITS = 12
BIRTH_NUMBER_DIGITS = 8  # yyyymmdd


def lhs(column: str) -> pl.Expr:
    """The left record's value."""
    return pl.col(column + LEFT)


def rhs(column: str) -> pl.Expr:
    """The right record's value."""
    return pl.col(column + RIGHT)


def both_known(column: str) -> pl.Expr:
    """Both records hold a value of `column`."""
    return lhs(column).is_not_null() & rhs(column).is_not_null()


def pair_scores(
    pairs: pl.DataFrame,
    column: str,
    scorer: Callable,
    dtype: pl.DataType = pl.Float64,
    cutoff: float | None = None,
    right: str | None = None,
    where: pl.Expr | None = None,
    words: bool = False,
    value_ids: str | None = None,
) -> pl.Series:
    """`scorer` (a rapidfuzz distance or similarity) between the left value of `column` and
    the right value of `right` (by default `column` too), computed by `process.cpdist` over
    the pairs whose values differ (equal values score as a value against itself, without a
    call); null where a value is missing, and where `where` does not hold (those pairs are
    not scored). With a `cutoff`, scores beyond it are not computed exactly (a distance above
    it reads cutoff + 1, a similarity below it 0): rapidfuzz stops early.

    Each distinct pair of values is scored once where values repeat across pairs: `words`, the
    values are names, a vocabulary of a few thousand words; `value_ids`, a record column that
    numbers the distinct values of `column` (the records' addresses, their parents' names),
    for finding the distinct pairs of long texts costs more than scoring them, and finding
    those of their numbers does not."""
    values = pairs.select(
        lhs(column).alias("a"),
        rhs(right or column).alias("b"),
        *([lhs(value_ids).alias("id_a"), rhs(value_ids).alias("id_b")] if value_ids else []),
    )
    wanted = pl.lit(True) if where is None else where.fill_null(False)
    missing = pairs.select(
        lhs(column).is_null() | rhs(right or column).is_null() | ~wanted
    ).to_series()
    differ = values.select((pl.col("a") != pl.col("b")).fill_null(False)).to_series() & ~missing
    unequal = values.filter(differ)
    same = scorer("x", "x", score_cutoff=cutoff)
    result = pl.Series("score", np.full(values.height, same)).cast(dtype)
    if unequal.height:
        if value_ids:
            scores = _distinct_scores(unequal, scorer, cutoff, by=("id_a", "id_b"))
        elif words:
            scores = _distinct_scores(unequal, scorer, cutoff, by=("a", "b"))
        else:
            scores = _scores(unequal, scorer, cutoff)
        result.scatter(differ.arg_true(), pl.Series(scores).cast(dtype))
    return pl.select(pl.when(missing).then(None).otherwise(result)).to_series().alias("score")


def _scores(values: pl.DataFrame, scorer: Callable, cutoff: float | None) -> np.ndarray:
    """`scorer` between columns `a` and `b`, row by row."""
    return np.asarray(
        process.cpdist(
            values["a"].to_list(),
            values["b"].to_list(),
            scorer=scorer,
            workers=-1,
            score_cutoff=cutoff,
        )
    )


def _distinct_scores(
    values: pl.DataFrame, scorer: Callable, cutoff: float | None, by: tuple[str, str]
) -> np.ndarray:
    """`_scores`, computed once per distinct pair of the columns `by` (which name the values
    `a` and `b`): each row reads the score of the first row with its values."""
    rows = values.with_row_index("row")
    first = rows.select(pl.col("row").first().over(by)).to_series().to_numpy()
    leaders = np.flatnonzero(first == np.arange(len(first)))
    scores = _scores(values[leaders], scorer, cutoff)
    spread = np.empty(len(first), dtype=scores.dtype)
    spread[leaders] = scores
    return spread[first]


def one_slip_apart(left: np.ndarray, right: np.ndarray, digits: int) -> np.ndarray:
    """Whether two numbers of `digits` digits differ in one digit, or in two neighbouring
    digits swapped: the OSA distance 1 of their texts, without scoring texts."""
    # Two tests that every slip passes and few other pairs do, so that only those few are read
    # digit by digit. A slip touches at most two neighbouring digits, so the first or the last
    # `digits // 2 - 1` digits are equal. And a wrong digit makes the numbers differ by
    # d * 10**k (d up to 9), two neighbours swapped by 9 * (x - y) * 10**k: stripped of its
    # trailing zeros, the difference is at most 9 or a multiple of 9 up to 81 (ids of one
    # province and birth year pass the first test, not this one).
    half = digits // 2 - 1
    first, last = 10 ** (digits - half), 10**half
    possible = np.flatnonzero((left // first == right // first) | (left % last == right % last))
    difference = np.where(
        left[possible] > right[possible],
        left[possible] - right[possible],
        right[possible] - left[possible],
    )
    ends_in_zero = np.flatnonzero((difference % 10 == 0) & (difference > 0))
    while len(ends_in_zero):
        difference[ends_in_zero] //= 10
        ends_in_zero = ends_in_zero[difference[ends_in_zero] % 10 == 0]
    small = (difference <= 9) | ((difference <= 81) & (difference % 9 == 0))
    possible = possible[(difference > 0) & small]
    place = 10 ** np.arange(digits, dtype=np.uint64)
    a = (left[possible, None] // place % 10).astype(np.uint8)
    b = (right[possible, None] // place % 10).astype(np.uint8)
    differing = (a != b).sum(axis=1)
    swapped = (a[:, :-1] == b[:, 1:]) & (a[:, 1:] == b[:, :-1]) & (a[:, :-1] != b[:, :-1])
    slips = np.zeros(len(left), dtype=bool)
    slips[possible] = (differing == 1) | ((differing == 2) & swapped.any(axis=1))
    return slips


# Scores, levels and comparisons hold polars expressions, which cannot be compared for equality
# (== builds another expression): they are told apart by identity (eq=False), which also lets
# one `Score` object key the scores computed for a chunk of pairs.


@dataclass(frozen=True, eq=False)
class Score:
    """A rapidfuzz `scorer` (a distance or a similarity) between the left record's `column` and
    the right record's `right` (by default `column` too), computed by `pair_scores`, which tells
    what `where`, `words` and `value_ids` do. Levels that read the same `Score` object share
    one computation of it."""

    column: str
    scorer: Callable
    right: str | None = None
    where: pl.Expr | None = None
    words: bool = False
    value_ids: str | None = None

    def of(self, values: pl.DataFrame, cutoff: float) -> pl.Series:
        return pair_scores(
            values,
            self.column,
            self.scorer,
            cutoff=cutoff,
            right=self.right,
            where=self.where,
            words=self.words,
            value_ids=self.value_ids,
        )


class Pairs:
    """A chunk of pairs with their records' values (`values`, columns suffixed _l/_r), and the
    scores that levels read off them, each computed on first use and kept for the next level
    that reads it, at the cutoff `cutoffs` gives it (see `score_cutoffs`)."""

    def __init__(self, values: pl.DataFrame, cutoffs: dict[Score, float]):
        self.values = values
        self.cutoffs = cutoffs
        self._scores: dict[Score, pl.Series] = {}

    def score(self, score: Score) -> pl.Expr:
        if score not in self._scores:
            self._scores[score] = score.of(self.values, self.cutoffs[score])
        return pl.lit(self._scores[score])

    def keep_only(self, scores: Iterable[Score]) -> None:
        """Let go of the computed scores but `scores`."""
        wanted = set(scores)
        self._scores = {score: kept for score, kept in self._scores.items() if score in wanted}

    def subset(self, rows: np.ndarray) -> "Pairs":
        """The pairs at `rows`, none of their scores computed yet."""
        return Pairs(self.values[rows], self.cutoffs)


@dataclass(frozen=True, eq=False)
class Level(ABC):
    """One agreement level of a comparison: its `label`, and the `condition` that puts a pair at
    this level when no earlier level's holds, together with `only_if` where given.
    `tf_adjusted`: its weight is adjusted by how rare the records' value of the comparison's
    `tf_column` is."""

    label: str
    tf_adjusted: bool = field(default=False, kw_only=True)
    only_if: pl.Expr | None = field(default=None, kw_only=True)

    @abstractmethod
    def condition(self, pairs: Pairs) -> pl.Expr: ...

    def applies(self, pairs: Pairs) -> pl.Expr:
        condition = self.condition(pairs)
        return condition if self.only_if is None else condition & self.only_if


@dataclass(frozen=True, eq=False)
class ExactLevel(Level):
    """Both records hold the same value of `column`."""

    column: str

    def condition(self, pairs: Pairs) -> pl.Expr:
        return lhs(self.column) == rhs(self.column)


@dataclass(frozen=True, eq=False)
class CustomLevel(Level):
    """A condition on the two records' columns, `holds`."""

    holds: pl.Expr

    def condition(self, pairs: Pairs) -> pl.Expr:
        return self.holds


@dataclass(frozen=True, eq=False)
class DistanceLevel(Level):
    """`score`, a distance, is at most `at_most`."""

    score: Score
    at_most: int

    def condition(self, pairs: Pairs) -> pl.Expr:
        return pairs.score(self.score) <= self.at_most


@dataclass(frozen=True, eq=False)
class SimilarityLevel(Level):
    """Each of `scores`, similarities, is at least `at_least`; with `unknown_agrees`, a score
    that is null (a value missing) counts as reaching it."""

    scores: tuple[Score, ...]
    at_least: float
    unknown_agrees: bool = False

    def condition(self, pairs: Pairs) -> pl.Expr:
        reached = [pairs.score(score) >= self.at_least for score in self.scores]
        if self.unknown_agrees:
            reached = [each.fill_null(True) for each in reached]
        return functools.reduce(operator.and_, reached)


@dataclass(frozen=True, eq=False)
class OneSlipLevel(Level):
    """The records' numbers in `column`, of `digits` digits, differ by one slip: a wrong digit
    or two neighbouring digits swapped (`one_slip_apart`, over the pairs whose numbers differ)."""

    column: str
    digits: int

    def condition(self, pairs: Pairs) -> pl.Expr:
        numbers = pairs.values.select(lhs(self.column).alias("a"), rhs(self.column).alias("b"))
        unequal = numbers.select((pl.col("a") != pl.col("b")).fill_null(False)).to_series()
        slips = np.zeros(numbers.height, dtype=bool)
        candidates = numbers.filter(unequal)
        slips[unequal.arg_true().to_numpy()] = one_slip_apart(
            candidates["a"].to_numpy(), candidates["b"].to_numpy(), self.digits
        )
        return pl.lit(slips)


@dataclass(frozen=True, eq=False)
class ElseLevel(Level):
    """Every comparable pair that no earlier level took."""

    label: str = "different"

    def condition(self, pairs: Pairs) -> pl.Expr:
        return pl.lit(True)


@dataclass(frozen=True, eq=False)
class Comparison:
    """One field's comparison: its `name`, the record `columns` its levels read, when a pair is
    `comparable` on it (a pair that is not gets a null level: Splink's null level), and its
    `levels`, closest first.

    `tf_column`: the record column whose value frequency adjusts the weight of the levels marked
    `tf_adjusted` (a shared rare given name says more than a shared "Anh"). `few_values`: its
    columns hold few distinct values (middle names), so levels are found once per distinct
    combination of the two records' values and each pair reads its combination's level.
    `anchored`: the pairs that share an identifier show its m (see `model.anchored_m`); not where
    the records without one differ from those with it (a second registration in another ward
    carries no national id, so the pairs sharing one show too few moves). `left_out_at`: (an
    earlier comparison, some of its labels): a pair at one of those levels is not comparable on
    this one, whose evidence that level already weighs.
    """

    name: str
    columns: tuple[str, ...]
    comparable: pl.Expr
    levels: tuple[Level, ...]
    tf_column: str | None = None
    few_values: bool = False
    anchored: bool = True
    left_out_at: tuple[str, ...] | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(level.label for level in self.levels)

    @property
    def tf_levels(self) -> tuple[int, ...]:
        return tuple(index for index, level in enumerate(self.levels) if level.tf_adjusted)

    def levels_of(self, pairs: Pairs) -> pl.Series:
        """Each pair's level (Int8, null where not comparable)."""
        if not self.few_values:
            return self._first_level_that_holds(pairs)
        sides = [column + side for column in self.columns for side in (LEFT, RIGHT)]
        rows = pairs.values.select(sides).with_row_index("row")
        first = rows.select(pl.col("row").first().over(sides)).to_series().to_numpy()
        leaders = np.flatnonzero(first == np.arange(len(first)))
        distinct = self._first_level_that_holds(pairs.subset(leaders))
        return distinct.gather(np.searchsorted(leaders, first))

    def _first_level_that_holds(self, pairs: Pairs) -> pl.Series:
        level = pl.lit(None, dtype=pl.Int8)
        for index, candidate in reversed(list(enumerate(self.levels))):
            holds = candidate.applies(pairs)
            level = pl.when(holds).then(pl.lit(index, dtype=pl.Int8)).otherwise(level)
        return pairs.values.select(pl.when(self.comparable).then(level)).to_series()


def score_cutoffs(comparisons: Iterable[Comparison]) -> dict[Score, float]:
    """Each score's rapidfuzz cutoff: the loosest threshold a level of `comparisons` reads it
    at. rapidfuzz stops early on a score beyond it, which no level can tell from the exact
    score."""
    cutoffs: dict[Score, float] = {}
    for level in (level for comparison in comparisons for level in comparison.levels):
        if isinstance(level, DistanceLevel):
            cutoffs[level.score] = max(cutoffs.get(level.score, level.at_most), level.at_most)
        elif isinstance(level, SimilarityLevel):
            for score in level.scores:
                cutoffs[score] = min(cutoffs.get(score, level.at_least), level.at_least)
    return cutoffs


def _exact_or_different(name: str, column: str) -> Comparison:
    return Comparison(
        name, (column,), both_known(column), (ExactLevel("same", column), ElseLevel())
    )


# Each record's given name is like the other's family name: a form filled in Western order. Only
# pairs with the same initials are scored (a swap with a slip in a first letter is left to the
# other names): among random pairs, a few in a hundred. The given and the family name
# comparisons read the same two scores.
_SWAP_CANDIDATES = (lhs("name_initials") == rhs("name_initials")) & (lhs("given") != rhs("given"))
SWAPPED_NAMES = tuple(
    Score(one, JaroWinkler.normalized_similarity, right=other, where=_SWAP_CANDIDATES, words=True)
    for one, other in (("given", "family"), ("family", "given"))
)

# Folded names that are equal may still be two names: Hà, Hạ and Hả all fold to "ha". A slip
# inside a longer word is a typo; short names one letter apart (An/Anh, Linh/Minh) are often two
# names, so they get a level of their own and the model weighs both.
_GIVEN_SLIPS = Score("given", OSA.distance, words=True)
_INSIDE_A_LONGER_WORD = (lhs("initial") == rhs("initial")) & (
    pl.min_horizontal(lhs("given").str.len_chars(), rhs("given").str.len_chars()) >= 3
)
# Two slips leave a name of five letters recognisable (four, once one was dropped); in shorter
# ones they make another name (Hằng and Lành).
_LONG_ENOUGH_FOR_TWO_SLIPS = (
    pl.min_horizontal(lhs("given").str.len_chars(), rhs("given").str.len_chars()) >= 4
) & (pl.max_horizontal(lhs("given").str.len_chars(), rhs("given").str.len_chars()) >= 5)

# The same words in another order: the given name first ("Dũng Nguyễn Văn"), a form filled in
# Western order. Its family, middle and given names are other words than the other record's, so
# the given name's comparison weighs the whole name and the family and middle names' are left
# out. Family and given name exchanged alone ("Dũng Văn Nguyễn") their own levels weigh.
REORDERED = "same words in another order"
_FAMILY_AND_GIVEN_EXCHANGED = (lhs("given") == rhs("family")) & (lhs("family") == rhs("given"))
# Only where a record has a foreign element or a name that is not Vietnamese in shape (see
# `records.features`, `order_free`), or one name is the other written given name first: a
# foreign name may come family-first or given-first, but two Vietnamese names of the same words
# in another order are often twins (Nguyễn Minh Anh and Nguyễn Anh Minh).
_GIVEN_NAME_FIRST = (lhs("name_first_word_last") == rhs("name_in_order")) | (
    lhs("name_in_order") == rhs("name_first_word_last")
)
_REORDERED = (
    (lhs("name_words") == rhs("name_words"))
    & (lhs("given") != rhs("given"))
    & ~_FAMILY_AND_GIVEN_EXCHANGED
    & (lhs("order_free") | rhs("order_free") | _GIVEN_NAME_FIRST)
)

# The same letters spaced otherwise: a space typed inside a word ("Ngu yễn Văn An") or two
# words run together ("Nguyễn VănAn"), as systems that strip spaces leave names. The words are
# others, so as for a reordered name the given name's comparison weighs the whole name, even
# where the given name is the same: the family name "Ngu" would otherwise weigh against it.
RESPACED = "same letters, spaced otherwise"
_RESPACED = (lhs("name_letters") == rhs("name_letters")) & (
    lhs("name_in_order") != rhs("name_in_order")
)
# The levels of the given name's comparison that weigh the whole name: the family and middle
# names' comparisons are left out at them.
WHOLE_NAME = ("given_name", REORDERED, RESPACED)

_LEFT_MIDDLE, _RIGHT_MIDDLE = lhs("middle").str.split(" "), rhs("middle").str.split(" ")
# One side's middle names all found in the other's: a middle name dropped or added.
_MIDDLE_DROPPED_OR_ADDED = ((lhs("middle") == "") | (rhs("middle") == "")) | (
    (_LEFT_MIDDLE.list.set_difference(_RIGHT_MIDDLE).list.len() == 0)
    | (_RIGHT_MIDDLE.list.set_difference(_LEFT_MIDDLE).list.len() == 0)
)

_BOTH_IDS_OWN = lhs("id_is_own") & rhs("id_is_own")
# Someone without Vietnamese nationality and without a personal id (a passport's holder, an
# identity certificate's) and a citizen known by a personal id: two people (see
# `records.features`; a dual national's records are neither).
_FOREIGNER_AND_CITIZEN = (lhs("foreigner") & rhs("citizen")) | (lhs("citizen") & rhs("foreigner"))


def _same(column: str) -> pl.Expr:
    return (lhs(column) == rhs(column)).fill_null(False)


# An old identity card (CMND) or a passport of one country (a passport whose country one record
# does not say counts): the same document, the same person. A personal id the register
# re-issued is compared as the id that replaced it (`records.current_national_ids`).
_SAME_OTHER_DOCUMENT = _same("cmnd") | (
    _same("passport")
    & (
        _same("passport_country")
        | lhs("passport_country").is_null()
        | rhs("passport_country").is_null()
    )
)

# Two passports that are not one document, of records without personal ids: a renewed
# passport, or another foreigner (two Frenchmen called Louis Leroy).
_OTHER_PASSPORTS = (
    both_known("passport") & ~_SAME_OTHER_DOCUMENT & ~both_known("current_national_id")
)

# Birth dates read as numbers (yyyymmdd), several times faster than as dates.
_LEFT_BIRTH, _RIGHT_BIRTH = lhs("birth_number"), rhs("birth_number")
_SAME_BIRTH_YEAR = lhs("birth_year") == rhs("birth_year")
_YEARS_APART = (lhs("birth_year") - rhs("birth_year")).abs()
_SAME_DAY_AND_MONTH = _LEFT_BIRTH % 10_000 == _RIGHT_BIRTH % 10_000
_SAME_YEAR_AND_MONTH = _LEFT_BIRTH // 100 == _RIGHT_BIRTH // 100
# 1 January is what offices write where only the year is known (the elderly, late registrations).
_FIRST_OF_JANUARY = 101
_A_FIRST_OF_JANUARY = (_LEFT_BIRTH % 10_000 == _FIRST_OF_JANUARY) | (
    _RIGHT_BIRTH % 10_000 == _FIRST_OF_JANUARY
)
# Equal birth keys (the year, then the day and month in either order) of two other dates.
_DAY_AND_MONTH_TRANSPOSED = lhs("birth_key") == rhs("birth_key")

# Old and new addresses name their units differently: near is as telling as equal.
_ADDRESS_RATIO = Score("address_key", fuzz.ratio, value_ids="address_key_id")


def _address_at_least(
    description: str, ratio: int, only_if: pl.Expr | None = None
) -> SimilarityLevel:
    return SimilarityLevel(
        f"{description} (ratio ≥ {ratio})", (_ADDRESS_RATIO,), at_least=ratio, only_if=only_if
    )


_SAME_WARD = lhs("place") == rhs("place")


def name_similarity(left: str, right: str, *, score_cutoff: float | None = None, **_) -> float:
    """The higher of Jaro-Winkler and Indel similarity (0 below `score_cutoff`). Parents' names
    are read given name first (`records._given_name_first`), and there Jaro-Winkler, which
    weighs the start most, reads a typo in the short given name as a different name ("hang
    quynh truong" and "hakg quynh truong": 0.87); Indel weighs a typo the same anywhere (0.94)."""
    best = max(
        JaroWinkler.normalized_similarity(left, right), Indel.normalized_similarity(left, right)
    )
    return best if score_cutoff is None or best >= score_cutoff else 0.0


_PARENT_NAMES = tuple(
    Score(f"{parent}_key", name_similarity, value_ids=f"{parent}_key_id")
    for parent in ("father", "mother")
)

COMPARISONS = (
    Comparison(
        "national_id",
        (
            "current_national_id",
            "national_number",
            "id_is_own",
            "cmnd",
            "passport",
            "passport_country",
            "citizen",
            "foreigner",
        ),
        both_known("current_national_id")
        | _SAME_OTHER_DOCUMENT
        | _FOREIGNER_AND_CITIZEN
        | _OTHER_PASSPORTS,
        (
            ExactLevel("same", "current_national_id", only_if=_BOTH_IDS_OWN),
            CustomLevel("same old id card or passport", _SAME_OTHER_DOCUMENT),
            # A slip of a digit (a wrong or two swapped digits) is a typing error, not another
            # person.
            OneSlipLevel(
                "one digit slip", "national_number", NATIONAL_ID_DIGITS, only_if=_BOTH_IDS_OWN
            ),
            # An id that encodes a birth year a generation from its record's is a parent's or a
            # child's: agreeing on it says nothing of the holder, differing from it nothing
            # either.
            CustomLevel("one is another generation's", ~_BOTH_IDS_OWN),
            CustomLevel("a non-citizen and a citizen's id", _FOREIGNER_AND_CITIZEN),
            CustomLevel("other passports", _OTHER_PASSPORTS),
            ElseLevel(),
        ),
    ),
    _exact_or_different("bhxh_code", "bhxh_code"),
    Comparison(
        "given_name",
        (
            "given",
            "given_exact",
            "initial",
            "family",
            "name_initials",
            "name_words",
            "order_free",
            "name_in_order",
            "name_first_word_last",
            "name_letters",
        ),
        both_known("given"),
        (
            CustomLevel(RESPACED, _RESPACED),
            ExactLevel("same", "given_exact", tf_adjusted=True),
            ExactLevel("same without diacritics", "given", tf_adjusted=True),
            DistanceLevel("one letter slip", _GIVEN_SLIPS, 1, only_if=_INSIDE_A_LONGER_WORD),
            DistanceLevel("one letter apart", _GIVEN_SLIPS, 1),
            DistanceLevel("two letter slips", _GIVEN_SLIPS, 2, only_if=_LONG_ENOUGH_FOR_TWO_SLIPS),
            SimilarityLevel("swapped with the family name", SWAPPED_NAMES, SIMILAR),
            CustomLevel(REORDERED, _REORDERED),
            ElseLevel(),
        ),
        tf_column="given",
    ),
    Comparison(
        "family_name",
        ("family", "family_canon", "given", "name_initials"),
        both_known("family"),
        (
            ExactLevel("same", "family", tf_adjusted=True),
            ExactLevel("Hoàng/Huỳnh or Vũ/Võ", "family_canon", tf_adjusted=True),
            SimilarityLevel(
                "similar",
                (Score("family", JaroWinkler.normalized_similarity, words=True),),
                SIMILAR,
            ),
            SimilarityLevel("swapped with the given name", SWAPPED_NAMES, SIMILAR),
            ElseLevel(),
        ),
        tf_column="family_canon",
        left_out_at=WHOLE_NAME,
    ),
    Comparison(
        "middle_name",
        ("middle",),
        both_known("middle"),
        (
            ExactLevel("same", "middle"),
            CustomLevel("dropped or added", _MIDDLE_DROPPED_OR_ADDED),
            SimilarityLevel(
                "similar",
                (Score("middle", JaroWinkler.normalized_similarity, words=True),),
                SIMILAR,
            ),
            ElseLevel(),
        ),
        few_values=True,
        left_out_at=WHOLE_NAME,
    ),
    Comparison(
        "birth_date",
        ("birth_year", "birth_number", "birth_key"),
        both_known("birth_year"),
        (
            ExactLevel("same", "birth_number"),
            CustomLevel("day and month transposed", _DAY_AND_MONTH_TRANSPOSED),
            CustomLevel(
                "year only, same year",
                (_LEFT_BIRTH.is_null() | _RIGHT_BIRTH.is_null()) & _SAME_BIRTH_YEAR,
            ),
            CustomLevel("1 January for the day, same year", _A_FIRST_OF_JANUARY & _SAME_BIRTH_YEAR),
            # Typing slips: a wrong digit or two swapped (1985 for 1958), or the year's decade.
            OneSlipLevel("one digit slip", "birth_number", BIRTH_NUMBER_DIGITS),
            CustomLevel("ten years apart, same day", (_YEARS_APART == 10) & _SAME_DAY_AND_MONTH),
            CustomLevel("same month", _SAME_YEAR_AND_MONTH),
            ExactLevel("same year", "birth_year"),
            CustomLevel("different", _YEARS_APART < GENERATION),
            # A parent and a child: no slip puts a generation between one person's records.
            ElseLevel("a generation apart"),
        ),
    ),
    _exact_or_different("sex", "sex"),
    _exact_or_different("phone", "phone"),
    # Where the records say the person lives: the address and the ward in one comparison, for
    # one house is in one ward (two comparisons would count the same evidence twice).
    Comparison(
        "address",
        ("address_key", "address_key_id", "place"),
        both_known("address_key") | both_known("place"),
        (
            ExactLevel("same", "address_key"),
            _address_at_least("nearly the same", 90),
            _address_at_least("similar, same ward", 70, only_if=_SAME_WARD),
            CustomLevel("same ward", _SAME_WARD),
            _address_at_least("similar, other ward", 70),
            ElseLevel(),
        ),
        anchored=False,
    ),
    Comparison(
        "parents",
        ("father_key", "mother_key", "father_key_id", "mother_key_id"),
        both_known("father_key") | both_known("mother_key"),
        (
            SimilarityLevel("both same", _PARENT_NAMES, SIMILAR),
            SimilarityLevel("one same, other unknown", _PARENT_NAMES, SIMILAR, unknown_agrees=True),
            ElseLevel(),
        ),
    ),
)

_BY_NAME = {comparison.name: comparison for comparison in COMPARISONS}


def level_is(comparison: str, *labels: str) -> pl.Expr:
    """The pair's level of `comparison` (a column of `compare`'s output) is one of `labels`;
    false where the pair is not comparable on it."""
    levels = _BY_NAME[comparison].labels
    wanted = [levels.index(label) for label in labels]
    return pl.col(comparison).is_in(wanted).fill_null(False)


def slices(frame: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    """`frame` in consecutive slices of `size` rows; one empty slice when it is empty, so that
    what is made of the slices keeps its columns."""
    for start in range(0, max(frame.height, 1), size):
        yield frame.slice(start, size)


def pair_values(
    records: pl.DataFrame, pairs: pl.DataFrame, columns: tuple[str, ...]
) -> pl.DataFrame:
    """`pairs` (`left`, `right`) with each record's `columns` beside, suffixed _l/_r; texts
    that the records hold as categoricals (see `records.features`) come as texts."""
    side = records.select(RECORD_KEY, *columns)
    keys = side[RECORD_KEY]
    if keys.is_sorted() and (keys.len() == 0 or keys[-1] == keys.len() - 1 == keys.n_unique() - 1):
        # Keyed records sit at their record key: take rows by position, no hash join.
        values = side.drop(RECORD_KEY)
        beside = pl.concat(
            [
                pairs,
                values.gather(pairs["left"]).rename({c: c + LEFT for c in columns}),
                values.gather(pairs["right"]).rename({c: c + RIGHT for c in columns}),
            ],
            how="horizontal",
        )
    else:
        beside = _joined_values(side, pairs, columns)
    return beside.with_columns(cs.categorical().cast(pl.String))


def _joined_values(side: pl.DataFrame, pairs: pl.DataFrame, columns: tuple[str, ...]):
    """`pair_values` of records not at their record keys: joined."""
    return pairs.join(
        side.rename({c: c + LEFT for c in columns}),
        left_on="left",
        right_on=RECORD_KEY,
        how="left",
        maintain_order="left",
    ).join(
        side.rename({c: c + RIGHT for c in columns}),
        left_on="right",
        right_on=RECORD_KEY,
        how="left",
        maintain_order="left",
    )


def pairs_at_once() -> int:
    """How many pairs are compared at a time: `CHUNK`, or fewer where the run's memory limit
    holds fewer (`memory.rows_within`)."""
    return min(CHUNK, rows_within(PAIR_BYTES))


def compare(records: pl.DataFrame, pairs: pl.DataFrame, comparisons=COMPARISONS) -> pl.DataFrame:
    """`pairs` with one level column per comparison, named after it (Int8, null: not
    comparable). Other columns of `pairs` are kept. Pairs are compared `pairs_at_once` at a
    time, so that only one chunk's values and scores are held at once."""
    return pl.concat(_compared_chunks(records, pairs, comparisons))


def compare_to_disk(records: pl.DataFrame, pairs: pl.DataFrame, folder: Path) -> list[Path]:
    """`compare` of all `pairs` with `COMPARISONS`, each chunk's result written to a Parquet
    file in `folder` instead of held: the files, in the pairs' order. At ten million persons the
    levels of the 63 million blocked pairs take 1.2 GB, and as many again while concatenated."""
    files = []
    for number, chunk in enumerate(_compared_chunks(records, pairs, COMPARISONS)):
        files.append(folder / f"compared-{number:05}.parquet")
        chunk.write_parquet(files[-1], compression="lz4", statistics=False)
    return files


def _compared_chunks(
    records: pl.DataFrame, pairs: pl.DataFrame, comparisons
) -> Iterator[pl.DataFrame]:
    columns = tuple(sorted({c for comparison in comparisons for c in comparison.columns}))
    cutoffs = score_cutoffs(comparisons)
    for part in slices(pairs, pairs_at_once()):
        chunk = Pairs(pair_values(records, part, columns), cutoffs)
        levels = []
        for k, comparison in enumerate(comparisons):
            levels.append(comparison.levels_of(chunk).alias(comparison.name))
            # A chunk's scores take 8 MB each: those that no later comparison reads go now.
            chunk.keep_only(score_cutoffs(comparisons[k + 1 :]))
        left_out = pl.DataFrame(levels).select(_left_out(comparisons))
        yield pl.concat([part, left_out], how="horizontal")


def _left_out(comparisons) -> list[pl.Expr]:
    """Each comparison's levels, null where the level of the comparison it is `left_out_at`
    says so (where that comparison is compared too)."""
    compared = {c.name for c in comparisons}
    return [
        pl.when(level_is(*c.left_out_at)).then(None).otherwise(pl.col(c.name)).alias(c.name)
        if c.left_out_at and c.left_out_at[0] in compared
        else pl.col(c.name)
        for c in comparisons
    ]
