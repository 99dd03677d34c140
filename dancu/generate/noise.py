"""Value noise as clerks and legacy systems make it, applied to whole columns and recorded.

Every function draws a row mask from the given generator, rewrites the masked values with one
polars expression, and marks the rows whose value really changed in a tag column named
`~<column>:<kind>`; `collect_corruptions` folds those into the `corruptions` list of the truth.
Noise never empties a name, never adds a digit to a name or a letter to an id, and never moves a
date past the file's extract date, so no valid row can look invalid.
"""

from collections.abc import Callable

import numpy as np
import polars as pl

from dancu.generate import names

TAG_PREFIX = "~"
# Letters of the Vietnamese alphabet, for typing slips inside a word.
TYPO_LETTERS = np.asarray(list("abcdeghiklmnopqrstuvxy"))

# Per-row rates of each name noise; `scale` multiplies them (duplicates get more).
NAME_NOISE_RATES = {
    "family_variant": 0.2,  # of all rows; only Hoàng/Huỳnh/Vũ/Võ change, so ~1.8% of names
    "drop_middle": 0.015,
    "typo_substitution": 0.01,
    "typo_transposition": 0.01,
    "no_diacritics": 0.03,
    "d_confusion": 0.05,  # only names with Đ/đ change, so ~1%
    "all_caps": 0.03,
    "double_space": 0.02,
    "nfd": 0.01,
}
DATE_SWAP_RATE = 0.01
ID_NOISE_RATES = {"spaces": 0.02, "dots": 0.01, "missing": 0.02}


def _mark(frame: pl.DataFrame, tag: str, changed: pl.Expr) -> pl.Expr:
    name = TAG_PREFIX + tag
    if name in frame.columns:
        changed = changed | pl.col(name)
    return changed.fill_null(False).alias(name)


NewValues = pl.Expr | Callable[[int], pl.Expr]


def rewrite(
    frame: pl.DataFrame, column: str, mask: np.ndarray, new: NewValues, kind: str
) -> pl.DataFrame:
    """`column` := `new` where `mask`, tagging the rows where the value changed.

    `new` is evaluated on the masked rows only (noise touches a few percent of them); when it
    needs random draws, pass a function of the number of masked rows that returns the expression.
    """
    where = np.flatnonzero(mask)
    tag = TAG_PREFIX + f"{column}:{kind}"
    marks = frame[tag] if tag in frame.columns else pl.repeat(False, frame.height, eager=True)
    if len(where) > 0:
        subset = frame[where]
        expr = new(len(where)) if callable(new) else new
        values = subset.select(expr.cast(frame.schema[column]).alias(column)).to_series()
        changed = values.ne_missing(subset[column]) | marks.gather(where)
        frame = frame.with_columns(frame[column].scatter(where, values))
        marks = marks.scatter(where, changed)
    return frame.with_columns(marks.alias(tag))


def tag_rows(frame: pl.DataFrame, tag: str, mask: pl.Expr) -> pl.DataFrame:
    """Record a corruption that is applied elsewhere (a file-level encoding, a typed number)."""
    return frame.with_columns(_mark(frame, tag, mask))


def collect_corruptions(frame: pl.DataFrame) -> pl.DataFrame:
    """Fold the tag columns into a `corruptions` list column (tags in name order)."""
    tags = sorted(c for c in frame.columns if c.startswith(TAG_PREFIX))
    marked = [
        pl.DataFrame(
            {"row": np.flatnonzero(frame[t].to_numpy()), "tag": t.removeprefix(TAG_PREFIX)}
        )
        for t in tags
    ]
    empty = pl.DataFrame(schema={"row": pl.Int64, "tag": pl.String})
    listed = (
        pl.concat([empty, *marked])
        .sort("row", "tag")
        .group_by("row", maintain_order=True)
        .agg(corruptions="tag")
    )
    lookup = pl.DataFrame({"row": np.arange(frame.height, dtype=np.int64)}).join(
        listed, on="row", how="left", maintain_order="left"
    )
    corruptions = lookup["corruptions"].fill_null(pl.lit([], dtype=pl.List(pl.String)))
    return frame.drop(tags).with_columns(corruptions)


# --- names ------------------------------------------------------------------------------------


def strip_marks(expr: pl.Expr) -> pl.Expr:
    """Vietnamese without diacritics, as typed on a keyboard without them."""
    return (
        expr.str.normalize("NFD")
        .str.replace_all(r"\p{Mn}", "")
        .str.replace_all("đ", "d", literal=True)
        .str.replace_all("Đ", "D", literal=True)
    )


def _first_word(expr: pl.Expr) -> pl.Expr:
    return expr.str.extract(r"^(\S+)", 1)


def _last_word(expr: pl.Expr) -> pl.Expr:
    return expr.str.extract(r"(\S+)$", 1)


def _before_last_word(expr: pl.Expr) -> pl.Expr:
    return expr.str.extract(r"^(.*\s)\S+$", 1).fill_null("")


def _typo(rng: np.random.Generator, expr: pl.Expr, transpose: bool) -> Callable[[int], pl.Expr]:
    """A slip inside the given name (never its first letter): a wrong or two swapped letters."""

    def slip(size: int) -> pl.Expr:
        word = _last_word(expr)
        length = word.str.len_chars().cast(pl.Int64)
        u = pl.lit(pl.Series(rng.random(size)))
        if transpose:
            at = 1 + (u * (length - 2)).floor().cast(pl.Int64)
            swapped = (
                word.str.slice(0, at)
                + word.str.slice(at + 1, 1)
                + word.str.slice(at, 1)
                + word.str.slice(at + 2)
            )
            new_word = pl.when(length >= 3).then(swapped).otherwise(word)
        else:
            at = 1 + (u * (length - 1)).floor().cast(pl.Int64)
            first, second = (
                pl.lit(pl.Series(TYPO_LETTERS[rng.integers(0, len(TYPO_LETTERS), size)]))
                for _ in range(2)
            )
            letter = pl.when(first != word.str.slice(at, 1)).then(first).otherwise(second)
            replaced = word.str.slice(0, at) + letter + word.str.slice(at + 1)
            new_word = pl.when(length >= 2).then(replaced).otherwise(word)
        return _before_last_word(expr) + new_word

    return slip


def name_noise(
    frame: pl.DataFrame, column: str, rng: np.random.Generator, scale: float | np.ndarray = 1.0
) -> pl.DataFrame:
    """Apply each kind of name noise at its rate (times `scale`, per row if an array) to a
    full-name column."""
    size = frame.height
    col = pl.col(column)

    def mask(kind: str) -> np.ndarray:
        return rng.random(size) < NAME_NOISE_RATES[kind] * scale

    variant = _first_word(col).replace(names.FAMILY_VARIANTS) + col.str.extract(r"^\S+(.*)$", 1)
    dropped = _first_word(col) + " " + _last_word(col)
    steps = [
        ("family_variant", variant),
        ("drop_middle", pl.when(col.str.count_matches(r"\S+") >= 3).then(dropped).otherwise(col)),
        ("typo_substitution", _typo(rng, col, transpose=False)),
        ("typo_transposition", _typo(rng, col, transpose=True)),
        ("no_diacritics", strip_marks(col)),
        ("d_confusion", col.str.replace_all("Đ", "D", literal=True).str.replace_all("đ", "d")),
        ("all_caps", col.str.to_uppercase()),
        ("double_space", col.str.replace(" ", "  ", literal=True)),
        ("nfd", col.str.normalize("NFD")),
    ]
    for kind, expr in steps:
        frame = rewrite(frame, column, mask(kind), expr, kind)
    return frame


# --- dates and ids ----------------------------------------------------------------------------


def day_month_swap(
    frame: pl.DataFrame, column: str, latest: str, rng: np.random.Generator, rate: float
) -> pl.DataFrame:
    """Day and month exchanged where both are 12 or less and the result is not after `latest`."""
    d = pl.col(column)
    # The clip only keeps the expression total; rows with a day above 12 are not swapped.
    swapped = pl.date(d.dt.year(), d.dt.day().clip(upper_bound=12), d.dt.month())
    possible = (d.dt.day() <= 12) & (d.dt.day() != d.dt.month())
    new = pl.when(possible & (swapped <= pl.col(latest))).then(swapped).otherwise(d)
    return rewrite(frame, column, rng.random(frame.height) < rate, new, "day_month_swap")


def id_noise(
    frame: pl.DataFrame,
    column: str,
    rng: np.random.Generator,
    missing_rate: float | np.ndarray = ID_NOISE_RATES["missing"],
) -> pl.DataFrame:
    """Ids typed with spaces or dots between groups of three digits, or left out (at
    `missing_rate`, per row if an array)."""
    col = pl.col(column)

    def grouped(separator: str) -> pl.Expr:
        threes = [col.str.slice(start, 3) for start in range(0, 12, 3)]
        return pl.concat_str(threes, separator=separator).str.strip_chars_end(separator)

    # One draw per row picks at most one kind: an id left out carries no spaces.
    u = rng.random(frame.height)
    spaces = ID_NOISE_RATES["spaces"]
    dots = spaces + ID_NOISE_RATES["dots"]
    frame = rewrite(frame, column, u < spaces, grouped(" "), "spaces")
    frame = rewrite(frame, column, (u >= spaces) & (u < dots), grouped("."), "dots")
    return rewrite(frame, column, (u >= dots) & (u < dots + missing_rate), pl.lit(None), "missing")
