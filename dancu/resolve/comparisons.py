"""Comparisons: for each pair of records, one agreement level per field.

A comparison reads the two records' values (columns suffixed `_l` and `_r` in a frame of pairs)
and gives each pair a level: 0 is the closest agreement, higher levels agree less, and null means
the pair cannot be compared on that field (a value is missing). Levels carry no weight here; the
model learns what each level is worth. Text similarity is computed with rapidfuzz batch functions
over whole pair columns, once per distinct pair of values.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler

from dancu.resolve.records import RECORD_KEY

LEFT, RIGHT = "_l", "_r"
# Jaro-Winkler similarity from which two spellings are read as the same word with a slip.
SIMILAR = 0.88
CHUNK = 1_000_000  # pairs compared at a time: bounds the memory of the values beside them
NATIONAL_ID_DIGITS = 12


def lhs(column: str) -> pl.Expr:
    """The left record's value."""
    return pl.col(column + LEFT)


def rhs(column: str) -> pl.Expr:
    """The right record's value."""
    return pl.col(column + RIGHT)


def _both(column: str) -> pl.Expr:
    return lhs(column).is_not_null() & rhs(column).is_not_null()


def _levels(*cases: tuple[pl.Expr, int], comparable: pl.Expr) -> pl.Expr:
    """The first case that holds gives the level; pairs that are not comparable get null."""
    expr = pl.lit(None, dtype=pl.Int8)
    for condition, level in reversed(cases):
        expr = pl.when(condition).then(pl.lit(level, dtype=pl.Int8)).otherwise(expr)
    return pl.when(comparable).then(expr)


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


@dataclass(frozen=True)
class Comparison:
    """One field's comparison: its `levels` (labels, closest first), the record columns it
    reads, and `level`, which gives each pair its level.

    `tf_column`: the record column whose value frequency adjusts the weight of the levels in
    `tf_levels` (a shared rare given name says more than a shared "Anh"). `few_values`: its
    columns hold few distinct values (middle names), so `level` runs once per distinct
    combination of the two records' values and each pair reads its combination's level.
    """

    name: str
    levels: tuple[str, ...]
    columns: tuple[str, ...]
    level: Callable[[pl.DataFrame], pl.Series]
    tf_column: str | None = None
    tf_levels: tuple[int, ...] = ()
    few_values: bool = False

    def levels_of(self, values: pl.DataFrame) -> pl.Series:
        """Each pair's level (`values`: the pairs with their records' columns)."""
        if not self.few_values:
            return self.level(values)
        sides = [column + side for column in self.columns for side in (LEFT, RIGHT)]
        rows = values.select(sides).with_row_index("row")
        first = rows.select(pl.col("row").first().over(sides)).to_series().to_numpy()
        leaders = np.flatnonzero(first == np.arange(len(first)))
        return self.level(values[leaders]).gather(np.searchsorted(leaders, first))


def _exact_or_different(name: str, column: str) -> Comparison:
    def level(pairs: pl.DataFrame) -> pl.Series:
        return pairs.select(
            _levels((lhs(column) == rhs(column), 0), (pl.lit(True), 1), comparable=_both(column))
        ).to_series()

    return Comparison(name, ("same", "different"), (column,), level)


def one_slip_apart(left: np.ndarray, right: np.ndarray, digits: int) -> np.ndarray:
    """Whether two numbers of `digits` digits differ in one digit, or in two neighbouring
    digits swapped: the OSA distance 1 of their texts, without scoring texts."""
    # A slip touches at most two neighbouring digits, so the first or the last `digits // 2 - 1`
    # digits are equal. Few pairs of different people's ids pass that test: only they are read
    # digit by digit.
    half = digits // 2 - 1
    first, last = 10 ** (digits - half), 10**half
    possible = np.flatnonzero((left // first == right // first) | (left % last == right % last))
    place = 10 ** np.arange(digits, dtype=np.uint64)
    a = (left[possible, None] // place % 10).astype(np.uint8)
    b = (right[possible, None] // place % 10).astype(np.uint8)
    differing = (a != b).sum(axis=1)
    swapped = (a[:, :-1] == b[:, 1:]) & (a[:, 1:] == b[:, :-1]) & (a[:, :-1] != b[:, :-1])
    slips = np.zeros(len(left), dtype=bool)
    slips[possible] = (differing == 1) | ((differing == 2) & swapped.any(axis=1))
    return slips


def _national_id(pairs: pl.DataFrame) -> pl.Series:
    # One slip of a digit (a wrong or two swapped digits) is a typing error, not another person.
    numbers = pairs.select(lhs("national_number").alias("a"), rhs("national_number").alias("b"))
    unequal = numbers.select((pl.col("a") != pl.col("b")).fill_null(False)).to_series()
    slips = np.zeros(pairs.height, dtype=bool)
    candidates = numbers.filter(unequal)
    slips[unequal.arg_true().to_numpy()] = one_slip_apart(
        candidates["a"].to_numpy(), candidates["b"].to_numpy(), NATIONAL_ID_DIGITS
    )
    return pairs.select(
        _levels(
            (lhs("national_id") == rhs("national_id"), 0),
            (pl.lit(slips), 1),
            (pl.lit(True), 2),
            comparable=_both("national_id"),
        )
    ).to_series()


def swapped_names(pairs: pl.DataFrame) -> pl.Expr:
    """Each record's given name is like the other's family name: a form filled in Western
    order. Only pairs with the same initials are scored (a swap with a slip in a first letter
    is left to the other names): among random pairs, a few in a hundred."""
    candidates = (lhs("name_initials") == rhs("name_initials")) & (lhs("given") != rhs("given"))

    def alike(left: str, right: str) -> pl.Series:
        scorer = JaroWinkler.normalized_similarity
        scores = pair_scores(
            pairs, left, scorer, cutoff=SIMILAR, right=right, where=candidates, words=True
        )
        return scores >= SIMILAR

    return pl.lit(alike("given", "family") & alike("family", "given")).fill_null(False)


def _given_name(pairs: pl.DataFrame) -> pl.Series:
    # Folded names that are equal may still be two names: Hà, Hạ and Hả all fold to "ha". A
    # slip inside a longer word is a typo; short names one letter apart (An/Anh, Linh/Minh)
    # are often two names, so they get a level of their own and the model weighs both.
    slips = pl.lit(pair_scores(pairs, "given", OSA.distance, pl.Int32, cutoff=1, words=True))
    inside = (lhs("initial") == rhs("initial")) & (
        pl.min_horizontal(lhs("given").str.len_chars(), rhs("given").str.len_chars()) >= 3
    )
    return pairs.select(
        _levels(
            (lhs("given_exact") == rhs("given_exact"), 0),
            (lhs("given") == rhs("given"), 1),
            ((slips <= 1) & inside, 2),
            (slips <= 1, 3),
            (swapped_names(pairs), 4),
            (pl.lit(True), 5),
            comparable=_both("given"),
        )
    ).to_series()


def _family_name(pairs: pl.DataFrame) -> pl.Series:
    similarity = pair_scores(
        pairs, "family", JaroWinkler.normalized_similarity, cutoff=SIMILAR, words=True
    )
    return pairs.select(
        _levels(
            (lhs("family") == rhs("family"), 0),
            (lhs("family_canon") == rhs("family_canon"), 1),
            (pl.lit(similarity) >= SIMILAR, 2),
            (swapped_names(pairs), 3),
            (pl.lit(True), 4),
            comparable=_both("family"),
        )
    ).to_series()


def _middle_name(pairs: pl.DataFrame) -> pl.Series:
    left, right = lhs("middle").str.split(" "), rhs("middle").str.split(" ")
    # One side's middle names all found in the other's: a middle name dropped or added.
    contained = (left.list.set_difference(right).list.len() == 0) | (
        right.list.set_difference(left).list.len() == 0
    )
    either_empty = (lhs("middle") == "") | (rhs("middle") == "")
    similarity = pair_scores(
        pairs, "middle", JaroWinkler.normalized_similarity, cutoff=SIMILAR, words=True
    )
    return pairs.select(
        _levels(
            (lhs("middle") == rhs("middle"), 0),
            (either_empty | contained, 1),
            (pl.lit(similarity) >= SIMILAR, 2),
            (pl.lit(True), 3),
            comparable=_both("middle"),
        )
    ).to_series()


def _birth_date(pairs: pl.DataFrame) -> pl.Series:
    left, right = lhs("birth_date"), rhs("birth_date")
    same_year = lhs("birth_year") == rhs("birth_year")
    transposed = (left.dt.year() == right.dt.year()) & (
        (left.dt.day() == right.dt.month()) & (left.dt.month() == right.dt.day())
    )
    return pairs.select(
        _levels(
            (left == right, 0),
            (transposed, 1),
            ((left.is_null() | right.is_null()) & same_year, 2),
            (same_year & (left.dt.month() == right.dt.month()), 3),
            (same_year, 4),
            (pl.lit(True), 5),
            comparable=_both("birth_year"),
        )
    ).to_series()


def _address(pairs: pl.DataFrame) -> pl.Series:
    # Old and new addresses name their units differently: near is as telling as equal.
    similarity = pair_scores(
        pairs, "address_key", fuzz.ratio, cutoff=70, value_ids="address_key_id"
    )
    return pairs.select(
        _levels(
            (lhs("address_key") == rhs("address_key"), 0),
            (pl.lit(similarity) >= 90, 1),
            (pl.lit(similarity) >= 70, 2),
            (pl.lit(True), 3),
            comparable=_both("address_key"),
        )
    ).to_series()


def _parents(pairs: pl.DataFrame) -> pl.Series:
    agree = {
        parent: pl.lit(
            pair_scores(
                pairs,
                f"{parent}_key",
                JaroWinkler.normalized_similarity,
                cutoff=SIMILAR,
                value_ids=f"{parent}_key_id",
            )
        )
        >= SIMILAR
        for parent in ("father", "mother")
    }
    father, mother = agree["father"], agree["mother"]
    return pairs.select(
        _levels(
            (father & mother, 0),
            (father.fill_null(True) & mother.fill_null(True), 1),
            (pl.lit(True), 2),
            comparable=_both("father_key") | _both("mother_key"),
        )
    ).to_series()


COMPARISONS = (
    Comparison(
        "national_id",
        ("same", "one digit slip", "different"),
        ("national_id", "national_number"),
        _national_id,
    ),
    _exact_or_different("bhxh_code", "bhxh_code"),
    Comparison(
        "given_name",
        (
            "same",
            "same without diacritics",
            "one letter slip",
            "one letter apart",
            "swapped with the family name",
            "different",
        ),
        ("given", "given_exact", "initial", "family", "name_initials"),
        _given_name,
        tf_column="given",
        tf_levels=(0, 1),
    ),
    Comparison(
        "family_name",
        ("same", "Hoàng/Huỳnh or Vũ/Võ", "similar", "swapped with the given name", "different"),
        ("family", "family_canon", "given", "name_initials"),
        _family_name,
        tf_column="family_canon",
        tf_levels=(0, 1),
    ),
    Comparison(
        "middle_name",
        ("same", "dropped or added", "similar", "different"),
        ("middle",),
        _middle_name,
        few_values=True,
    ),
    Comparison(
        "birth_date",
        (
            "same",
            "day and month transposed",
            "year only, same year",
            "same month",
            "same year",
            "different",
        ),
        ("birth_date", "birth_year"),
        _birth_date,
    ),
    _exact_or_different("sex", "sex"),
    _exact_or_different("phone", "phone"),
    _exact_or_different("ward", "ward_code"),
    Comparison(
        "address",
        ("same", "nearly the same (ratio ≥ 90)", "similar (ratio ≥ 70)", "different"),
        ("address_key", "address_key_id"),
        _address,
    ),
    Comparison(
        "parents",
        ("both same", "one same, other unknown", "different"),
        ("father_key", "mother_key", "father_key_id", "mother_key_id"),
        _parents,
    ),
)


def pair_values(
    records: pl.DataFrame, pairs: pl.DataFrame, columns: tuple[str, ...]
) -> pl.DataFrame:
    """`pairs` (`left`, `right`) with each record's `columns` beside, suffixed _l/_r."""
    side = records.select(RECORD_KEY, *columns)
    keys = side[RECORD_KEY]
    if keys.is_sorted() and (keys.len() == 0 or keys[-1] == keys.len() - 1 == keys.n_unique() - 1):
        # Keyed records sit at their record key: take rows by position, no hash join.
        values = side.drop(RECORD_KEY)
        return pl.concat(
            [
                pairs,
                values.gather(pairs["left"]).rename({c: c + LEFT for c in columns}),
                values.gather(pairs["right"]).rename({c: c + RIGHT for c in columns}),
            ],
            how="horizontal",
        )
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


def compare(records: pl.DataFrame, pairs: pl.DataFrame, comparisons=COMPARISONS) -> pl.DataFrame:
    """`pairs` with one level column per comparison, named after it (Int8, null: not
    comparable). Other columns of `pairs` are kept. Pairs are compared `CHUNK` at a time, so
    that only one chunk's values are held at once."""
    columns = tuple(sorted({c for comparison in comparisons for c in comparison.columns}))
    chunks = []
    for start in range(0, max(pairs.height, 1), CHUNK):
        part = pairs.slice(start, CHUNK)
        values = pair_values(records, part, columns)
        chunks.append(part.with_columns(c.levels_of(values).alias(c.name) for c in comparisons))
    return pl.concat(chunks)
