"""Value noise as clerks and legacy systems make it, applied to whole columns and recorded.

Every function draws a row mask from the given generator, rewrites the masked values with one
polars expression, and marks the rows whose value really changed in a tag column named
`~<column>:<kind>`; `collect_corruptions` folds those into the `corruptions` list of the truth.
Noise never empties a name, never adds a digit to a name or a letter to an id, and never moves a
date past the file's extract date, so no valid row can look invalid.

Rates. Each rate below is the share of rows a kind is drawn for at the default noise level
(`generate(noise=1.0)`); a row the kind cannot change (a two-word name has no middle name to
drop, a year-only birth date no day to mistype) stays as it is and is not tagged. The noise level
multiplies every rate (`scaled`), up to `RATE_CEILING`, and level 0 writes every value as the
register holds it. What a system does to a whole file (legacy fonts, NFD, ids typed into Excel
number cells) is the contract's formats, not an error: it does not scale. Kinds drawn together by
`bands` exclude each other, so a row carries at most one of them and no later kind can undo an
earlier one. The rates of record-level errors live beside the records they shape: the duplicate
registrations here, old ids and missing ids of children in `records.BHXH`, invalid rows in
`extracts`.
"""

from collections.abc import Callable

import numpy as np
import polars as pl

from dancu.generate import names

TAG_PREFIX = "~"
# Letters of the Vietnamese alphabet, for typing slips inside a word.
TYPO_LETTERS = np.asarray(list("abcdeghiklmnopqrstuvxy"))
# Middle names given to both sexes: an extra one needs no sex to look plausible.
SHARED_MIDDLE = np.asarray(
    [m for m, _ in names.MALE_MIDDLE if m in {f for f, _ in names.FEMALE_MIDDLE}]
)

RATE_CEILING = 0.5  # past half the rows an error is no longer an error but the source's habit

# Name noise: the first kind on its own draw, the content kinds in one band, the forms each on
# its own draw. `scale` multiplies them (duplicates and civil events pass their own factor).
FAMILY_VARIANT_RATE = 0.2  # of all rows; only Hoàng/Huỳnh/Vũ/Võ change, so ~1.8% of names
NAME_CONTENT_RATES = {
    "drop_middle": 0.015,  # forms with no room for a middle name, or a clerk who skips it
    "extra_middle": 0.004,  # a middle name from the birth certificate that daily use leaves out
    "typo_substitution": 0.01,  # one wrong key: ~1% of hand-typed names, as in FEBRL-style data
    "typo_transposition": 0.01,  # two neighbouring letters swapped, as common as a wrong key
    "two_typos": 0.003,  # a wrong key in both family and given name: rarer than one slip
    "family_given_swapped": 0.002,  # given name typed first, into a form with two name boxes
}
NAME_FORM_RATES = {
    "no_diacritics": 0.03,  # keyboards and older systems without Vietnamese input
    "d_confusion": 0.05,  # Đ typed as D; only names with Đ/đ change, so ~1%
    "all_caps": 0.03,  # names typed in capitals, as on identity cards
    "double_space": 0.02,  # a stray space between words
    "nfd": 0.01,  # tones as combining marks, from a Mac or a web form
}

# Birth dates, one band: a row gets at most one of these.
DATE_RATES = {
    "day_month_swap": 0.01,  # mm/dd read as dd/mm between systems; both readings are real days
    "one_digit": 0.003,  # a wrong key in the day, the month or the year's last two digits
    "year_10": 0.002,  # the decade misread (1975 for 1985), from handwriting or a worn card
    "year_only": 0.003,  # only the year written: the person did not remember the day
}
DATE_DIGIT_POSITIONS = np.asarray([0, 1, 2, 3, 6, 7])  # in ddmmyyyy: no clerk mistypes "19"
DATE_DIGIT_TRIES = 4  # random slips tried per row until one is a real day before the extract

# Personal ids. The errors in the digits form one band, on rows that hold the true id; how the
# id is written (separators, left out) is another band.
ID_ERROR_RATES = {
    "digit_substitution": 0.005,  # one wrong key when copying 12 digits: ~0.5% of records
    "adjacent_transposition": 0.002,  # two neighbouring digits swapped: rarer than a wrong key
    "family_member": 0.02,  # of minors' bhxh/y_te rows: a parent's id where the child had none
}
REGISTRY_ID_ERROR_SCALE = 0.2  # dan_cu issues the ids: its own copy is five times less often wrong
ID_TRANSPOSITION_TRIES = 3  # neighbours tried per row until two differ
ID_NOISE_RATES = {
    "spaces": 0.02,  # copied from a card that groups the digits
    "dots": 0.01,  # the same, grouped with dots
    "missing": 0.02,  # left out: the field is not mandatory in most forms
}

SEX_WRONG_RATE = 0.002  # the wrong box ticked, or a default left unchanged

PHONE_RATES = {
    "household_shared": 0.03,  # the household's contact number (a parent's, a spouse's) given
    "typo": 0.005,  # one wrong key after the network prefix
}
PHONE_KEPT_DIGITS = 3  # the network or area prefix, which a clerk gets right

DUPLICATE_REGISTRATION_RATE = 0.008  # persons registered again in another ward, without an id


def scaled(rate: float | np.ndarray, scale: float | np.ndarray) -> float | np.ndarray:
    """A rate at a noise scale, never above `RATE_CEILING`."""
    return np.minimum(np.asarray(rate, dtype=np.float64) * scale, RATE_CEILING)


def bands(
    rng: np.random.Generator, size: int, rates: dict[str, float | np.ndarray]
) -> dict[str, np.ndarray]:
    """One draw per row cut into consecutive bands, one per kind: a row falls into at most one
    (rates per row if arrays)."""
    u = rng.random(size)
    masks, low = {}, 0.0
    for kind, rate in rates.items():
        high = low + rate
        masks[kind] = (u >= low) & (u < high)
        low = high
    return masks


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


def _random(values: np.ndarray) -> pl.Expr:
    return pl.lit(pl.Series(values))


def _different_digit(old: pl.Expr, rng: np.random.Generator, size: int) -> pl.Expr:
    """Another digit than `old` (a one-character string), each of the nine equally likely."""
    step = _random(rng.integers(1, 10, size))
    return ((old.cast(pl.Int64) + step) % 10).cast(pl.String)


def _digit_replaced(text: pl.Expr, at: pl.Expr, rng: np.random.Generator, size: int) -> pl.Expr:
    old = text.str.slice(at, 1)
    return text.str.slice(0, at) + _different_digit(old, rng, size) + text.str.slice(at + 1)


def _swapped_at(text: pl.Expr, at: pl.Expr) -> pl.Expr:
    """Characters `at` and `at + 1` exchanged."""
    return (
        text.str.slice(0, at)
        + text.str.slice(at + 1, 1)
        + text.str.slice(at, 1)
        + text.str.slice(at + 2)
    )


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


def _after_first_word(expr: pl.Expr) -> pl.Expr:
    return expr.str.extract(r"^\S+(\s.*)$", 1).fill_null("")


def _between_first_and_last(expr: pl.Expr) -> pl.Expr:
    """The spaces and middle names between the family and the given name (null for one word)."""
    return expr.str.extract(r"^\S+(\s(?:.*\s)?)\S+$", 1)


def _wrong_letter(word: pl.Expr, rng: np.random.Generator, size: int) -> pl.Expr:
    """One letter of `word` (never its first) replaced by another; words of one letter stay."""
    length = word.str.len_chars().cast(pl.Int64)
    at = 1 + (_random(rng.random(size)) * (length - 1)).floor().cast(pl.Int64)
    first, second = (
        _random(TYPO_LETTERS[rng.integers(0, len(TYPO_LETTERS), size)]) for _ in range(2)
    )
    letter = pl.when(first != word.str.slice(at, 1)).then(first).otherwise(second)
    replaced = word.str.slice(0, at) + letter + word.str.slice(at + 1)
    return pl.when(length >= 2).then(replaced).otherwise(word)


def _letters_swapped(word: pl.Expr, rng: np.random.Generator, size: int) -> pl.Expr:
    """Two neighbouring letters of `word` swapped (never the first); short words stay."""
    length = word.str.len_chars().cast(pl.Int64)
    at = 1 + (_random(rng.random(size)) * (length - 2)).floor().cast(pl.Int64)
    return pl.when(length >= 3).then(_swapped_at(word, at)).otherwise(word)


def _typo(rng: np.random.Generator, expr: pl.Expr, kind: str) -> Callable[[int], pl.Expr]:
    """Slips inside the given name, and for `two_typos` in the family name too."""

    def slip(size: int) -> pl.Expr:
        given = _last_word(expr)
        if kind == "typo_transposition":
            return _before_last_word(expr) + _letters_swapped(given, rng, size)
        if kind == "typo_substitution":
            return _before_last_word(expr) + _wrong_letter(given, rng, size)
        family = _wrong_letter(_first_word(expr), rng, size)
        both = family + _between_first_and_last(expr) + _wrong_letter(given, rng, size)
        return pl.coalesce(both, expr)

    return slip


def _extra_middle(rng: np.random.Generator, expr: pl.Expr) -> Callable[[int], pl.Expr]:
    """A middle name given to both sexes inserted after the family name, one the name lacks."""

    def insert(size: int) -> pl.Expr:
        first, second = (
            _random(SHARED_MIDDLE[rng.integers(0, len(SHARED_MIDDLE), size)]) for _ in range(2)
        )
        word = pl.when(expr.str.split(" ").list.contains(first)).then(second).otherwise(first)
        return _first_word(expr) + " " + word + _after_first_word(expr)

    return insert


def name_noise(
    frame: pl.DataFrame, column: str, rng: np.random.Generator, scale: float | np.ndarray = 1.0
) -> pl.DataFrame:
    """Apply each kind of name noise at its rate (times `scale`, per row if an array) to a
    full-name column."""
    size = frame.height
    col = pl.col(column)

    variant = _first_word(col).replace(names.FAMILY_VARIANTS) + _after_first_word(col)
    variant_rows = rng.random(size) < scaled(FAMILY_VARIANT_RATE, scale)
    frame = rewrite(frame, column, variant_rows, variant, "family_variant")

    words = col.str.count_matches(r"\S+")
    dropped = pl.when(words >= 3).then(_first_word(col) + " " + _last_word(col)).otherwise(col)
    swapped = _last_word(col) + " " + _before_last_word(col).str.strip_chars_end()
    content = {
        "drop_middle": dropped,
        "extra_middle": _extra_middle(rng, col),
        "typo_substitution": _typo(rng, col, "typo_substitution"),
        "typo_transposition": _typo(rng, col, "typo_transposition"),
        "two_typos": _typo(rng, col, "two_typos"),
        "family_given_swapped": pl.when(words >= 2).then(swapped).otherwise(col),
    }
    masks = bands(rng, size, {k: scaled(r, scale) for k, r in NAME_CONTENT_RATES.items()})
    for kind, new in content.items():
        frame = rewrite(frame, column, masks[kind], new, kind)

    forms = {
        "no_diacritics": strip_marks(col),
        "d_confusion": col.str.replace_all("Đ", "D", literal=True).str.replace_all("đ", "d"),
        "all_caps": col.str.to_uppercase(),
        "double_space": col.str.replace(" ", "  ", literal=True),
        "nfd": col.str.normalize("NFD"),
    }
    for kind, new in forms.items():
        mask = rng.random(size) < scaled(NAME_FORM_RATES[kind], scale)
        frame = rewrite(frame, column, mask, new, kind)
    return frame


# --- dates ------------------------------------------------------------------------------------


def _day_month_swapped(d: pl.Expr, latest: pl.Expr) -> pl.Expr:
    """Day and month exchanged where both are 12 or less and differ, and the result is not
    after `latest`."""
    # The clip only keeps the expression total; rows with a day above 12 are not swapped.
    swapped = pl.date(d.dt.year(), d.dt.day().clip(upper_bound=12), d.dt.month())
    possible = (d.dt.day() <= 12) & (d.dt.day() != d.dt.month())
    return pl.when(possible & (swapped <= latest)).then(swapped).otherwise(d)


def _one_digit_off(rng: np.random.Generator, d: pl.Expr, latest: pl.Expr):
    """One digit of the day, the month or the year's last two replaced: the first of a few
    random slips that is a real day, not after `latest`."""

    def slip(size: int) -> pl.Expr:
        text = d.dt.strftime("%d%m%Y")
        tries = []
        for _ in range(DATE_DIGIT_TRIES):
            positions = DATE_DIGIT_POSITIONS[rng.integers(0, len(DATE_DIGIT_POSITIONS), size)]
            typed = _digit_replaced(text, _random(positions), rng, size)
            typed_date = typed.str.strptime(pl.Date, "%d%m%Y", strict=False)
            tries.append(pl.when(typed_date <= latest).then(typed_date))
        return pl.coalesce(*tries, d)

    return slip


def _decade_off(rng: np.random.Generator, d: pl.Expr, latest: pl.Expr):
    """Ten years later (where that is not after `latest`) or earlier, half and half."""

    def shift(size: int) -> pl.Expr:
        later, earlier = d.dt.offset_by("10y"), d.dt.offset_by("-10y")
        up = _random(rng.random(size) < 0.5)
        return pl.when(up & (later <= latest)).then(later).otherwise(earlier)

    return shift


def date_noise(
    frame: pl.DataFrame, column: str, latest: str, rng: np.random.Generator, scale: float = 1.0
) -> pl.DataFrame:
    """Birth-date errors at `DATE_RATES` times `scale`, none after the `latest` column. A date
    reduced to its year leaves the year to the row's year companion column."""
    d, last = pl.col(column), pl.col(latest)
    masks = bands(rng, frame.height, {k: scaled(r, scale) for k, r in DATE_RATES.items()})
    changes = {
        "day_month_swap": _day_month_swapped(d, last),
        "one_digit": _one_digit_off(rng, d, last),
        "year_10": _decade_off(rng, d, last),
        "year_only": pl.lit(None, dtype=pl.Date),
    }
    for kind, new in changes.items():
        frame = rewrite(frame, column, masks[kind], new, kind)
    return frame


# --- ids, sex and phones ----------------------------------------------------------------------


def _id_digit_substituted(rng: np.random.Generator, col: pl.Expr):
    def slip(size: int) -> pl.Expr:
        length = col.str.len_chars().cast(pl.Int64)
        at = (_random(rng.random(size)) * length).floor().cast(pl.Int64)
        return _digit_replaced(col, at, rng, size)

    return slip


def _id_digits_transposed(rng: np.random.Generator, col: pl.Expr):
    """Two neighbouring digits swapped: the first of a few random places where they differ."""

    def slip(size: int) -> pl.Expr:
        length = col.str.len_chars().cast(pl.Int64)
        tries = []
        for _ in range(ID_TRANSPOSITION_TRIES):
            at = (_random(rng.random(size)) * (length - 1)).floor().cast(pl.Int64)
            differ = col.str.slice(at, 1) != col.str.slice(at + 1, 1)
            tries.append(pl.when(differ).then(_swapped_at(col, at)))
        return pl.coalesce(*tries, col)

    return slip


def id_errors(
    frame: pl.DataFrame,
    column: str,
    rng: np.random.Generator,
    scale: float,
    family_scale: float | np.ndarray,
) -> pl.DataFrame:
    """Errors in the digits of ids that still hold the person's true id (`true_<column>`): one
    digit substituted, two neighbours swapped (both at `scale`), or the id of a family member
    (`family_<column>`, at `family_scale`, per row if an array)."""
    col = pl.col(column)
    holds_true = (col == pl.col("true_" + column)).fill_null(False)
    rates = {
        "digit_substitution": scaled(ID_ERROR_RATES["digit_substitution"], scale),
        "adjacent_transposition": scaled(ID_ERROR_RATES["adjacent_transposition"], scale),
        "family_member": scaled(ID_ERROR_RATES["family_member"], family_scale),
    }
    masks = bands(rng, frame.height, rates)
    eligible = frame.select(holds_true).to_series().to_numpy()
    changes = {
        "digit_substitution": _id_digit_substituted(rng, col),
        "adjacent_transposition": _id_digits_transposed(rng, col),
        "family_member": pl.coalesce(pl.col("family_" + column), col),
    }
    for kind, new in changes.items():
        frame = rewrite(frame, column, masks[kind] & eligible, new, kind)
    return frame


def id_noise(
    frame: pl.DataFrame,
    column: str,
    rng: np.random.Generator,
    scale: float = 1.0,
    missing_rate: float | np.ndarray = ID_NOISE_RATES["missing"],
) -> pl.DataFrame:
    """Ids typed with spaces or dots between groups of three digits, or left out (at
    `missing_rate`, per row if an array), each at its rate times `scale`."""
    col = pl.col(column)

    def grouped(separator: str) -> pl.Expr:
        threes = [col.str.slice(start, 3) for start in range(0, 12, 3)]
        return pl.concat_str(threes, separator=separator).str.strip_chars_end(separator)

    # One draw per row picks at most one kind: an id left out carries no spaces.
    rates = {
        "spaces": scaled(ID_NOISE_RATES["spaces"], scale),
        "dots": scaled(ID_NOISE_RATES["dots"], scale),
        "missing": scaled(missing_rate, scale),
    }
    masks = bands(rng, frame.height, rates)
    frame = rewrite(frame, column, masks["spaces"], grouped(" "), "spaces")
    frame = rewrite(frame, column, masks["dots"], grouped("."), "dots")
    return rewrite(frame, column, masks["missing"], pl.lit(None), "missing")


def sex_noise(frame: pl.DataFrame, rng: np.random.Generator, scale: float = 1.0) -> pl.DataFrame:
    """The other sex written, at `SEX_WRONG_RATE` times `scale`."""
    male, female = names.SEX_LABELS
    other = pl.when(pl.col("sex") == male).then(pl.lit(female)).otherwise(pl.lit(male))
    mask = rng.random(frame.height) < scaled(SEX_WRONG_RATE, scale)
    return rewrite(frame, "sex", mask, pl.when(pl.col("sex").is_not_null()).then(other), "wrong")


def _phone_typo(rng: np.random.Generator, col: pl.Expr):
    def slip(size: int) -> pl.Expr:
        length = col.str.len_chars().cast(pl.Int64)
        u = _random(rng.random(size))
        at = PHONE_KEPT_DIGITS + (u * (length - PHONE_KEPT_DIGITS)).floor().cast(pl.Int64)
        return _digit_replaced(col, at, rng, size)

    return slip


def phone_noise(frame: pl.DataFrame, rng: np.random.Generator, scale: float = 1.0) -> pl.DataFrame:
    """The phone of another member of the household (`household_phone`) given instead of the
    person's own, or one digit mistyped, at `PHONE_RATES` times `scale`."""
    col = pl.col("phone")
    masks = bands(rng, frame.height, {k: scaled(r, scale) for k, r in PHONE_RATES.items()})
    changes = {
        "household_shared": pl.coalesce("household_phone", col),
        "typo": _phone_typo(rng, col),
    }
    for kind, new in changes.items():
        frame = rewrite(frame, "phone", masks[kind], new, kind)
    return frame
