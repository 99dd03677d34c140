"""Text repair and folding, shared by every stage: legacy encodings, NFC, spacing, folded keys."""

import re
import unicodedata
from collections.abc import Callable

import polars as pl

from dancu.legacy_text import (
    decode_tcvn3_expr,
    decode_vni_expr,
    fix_utf8_as_cp1252,
    tcvn3_score_expr,
    vni_score_expr,
)

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
# UTF-8 lead bytes of Vietnamese letters (C3 C4 C6 E1 BA/BB) seen through cp1252, then a
# continuation byte: no correct Vietnamese text holds these pairs.
MOJIBAKE_PATTERN = (
    r"(?:Ã|Ä|Æ|á[º»])[\u0080-\u00BF\u0152\u0153\u0160\u0161\u0178\u017D\u017E\u0192\u02C6"
    r"\u02DC\u2013\u2014\u2018-\u201E\u2020-\u2022\u2026\u2030\u2039\u203A\u20AC\u2122]"
)
# Letters of Unicode Vietnamese beyond Latin-1 (ă đ ơ ư ạ ễ ...): a value holding one is already
# Unicode, so legacy decoding must leave it alone even inside a legacy-encoded file.
_UNICODE_VIETNAMESE = r"[\u0100-\u01B0\u1EA0-\u1EF9]"
_COMBINING = r"[\u0300-\u036F]"
# Runs of spaces and any other white space (tabs, line breaks, no-break spaces) become one space,
# as does the zero-width space pasted from web pages and Word (a word break, even alone).
_UNEVEN_SPACE = r"[\s\x{200B}]{2,}|[^\S ]|\x{200B}"
# Characters no one sees that join or are nothing (a word joiner, a byte-order mark, a soft
# hyphen, zero-width joiners): taken out, the word stays one.
_INVISIBLE = r"[\x{2060}\x{FEFF}\x{00AD}\x{200C}\x{200D}]"
# Letters typed or decoded for Đ and đ that look alike (the eth Ð ð, cp1258 text read as cp1252,
# and the African Ɖ ɖ): at the start of a word, where no Icelandic word has an eth, they are
# Đ and đ; anywhere, they fold to d as đ does.
_LOOKALIKE_CAPITAL_D, _LOOKALIKE_SMALL_D = r"\b[\x{00D0}\x{0189}]", r"\b[\x{00F0}\x{0256}]"
_LOOKALIKE_D = f"{_LOOKALIKE_CAPITAL_D}|{_LOOKALIKE_SMALL_D}"
LETTERS_FOLDED_TO_D = "đðɖ"
_ANY_D = f"[{LETTERS_FOLDED_TO_D}]"
LEGACY_ENCODINGS = ("tcvn3", "vni")
# A file is read as legacy-encoded when its text carries at least this much evidence.
MIN_FILE_EVIDENCE = 3


def strip_diacritics(text: str) -> str:
    """'Đặng Thị Ánh' -> 'Dang Thi Anh', as typed on a keyboard without Vietnamese."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("đ", "d").replace("Đ", "D")


def fold_label(label: str) -> str:
    """A label as lowercase ASCII letters and digits only, so "HỌ VÀ TÊN" == "Ho va ten"."""
    return _NOT_ALNUM.sub("", strip_diacritics(label).lower())


def _decompose_and_fold(values: pl.Series) -> pl.Series:
    return (
        values.str.to_lowercase()
        .str.normalize("NFD")
        .str.replace_all(r"\p{Mn}", "")
        .str.replace_all(_ANY_D, "d")
    )


def _latin_letters_folded() -> dict[str, str]:
    """Each Latin letter with diacritics (either case) whose folded form is ASCII, with that
    form: the table that folds Vietnamese text without decomposing it."""
    letters = [chr(c) for c in (*range(0x00C0, 0x0257), *range(0x1E00, 0x1F00))]
    folded = _decompose_and_fold(pl.Series(letters, dtype=pl.String)).to_list()
    return {a: b for a, b in zip(letters, folded, strict=True) if a != b and b.isascii()}


_LATIN_FOLDED = _latin_letters_folded()


def _fold_values(values: pl.Series) -> pl.Series:
    # By table, then lowercase (which is fast on ASCII): 3 times faster than decomposing. The
    # few values that keep other characters than ASCII are decomposed all the same.
    folded = values.str.replace_many(_LATIN_FOLDED).str.to_lowercase()
    others = folded.str.contains(r"[^\x00-\x7F]").fill_null(False)
    if not others.any():
        return folded
    where = others.arg_true()
    folded.scatter(where, _decompose_and_fold(folded.gather(where)))
    return folded


def fold(text: pl.Expr) -> pl.Expr:
    """The matching key of a text: lowercase, no diacritics, đ -> d ("Đặng Thị" -> "dang thi")."""
    return text.map_batches(_fold_values, return_dtype=pl.String, is_elementwise=True)


def _fix_mojibake(values: pl.Series) -> pl.Series:
    # Few values are garbled: repair each distinct one in Python, leave the rest untouched.
    garbled = values.str.contains(MOJIBAKE_PATTERN).fill_null(False)
    if not garbled.any():
        return values
    repairs = {v: fix_utf8_as_cp1252(v) for v in values.filter(garbled).unique().to_list()}
    return values.replace(repairs)


def _repaired_where_found(
    values: pl.Series, pattern: str, repair: Callable[[pl.Series], pl.Series]
) -> pl.Series:
    # Found first, then repaired where found: a replacement copies every value, a search not.
    found = values.str.contains(pattern).fill_null(False)
    if not found.any():
        return values
    return values.zip_with(~found, repair(values))


def _without_invisible(values: pl.Series) -> pl.Series:
    return _repaired_where_found(values, _INVISIBLE, lambda v: v.str.replace_all(_INVISIBLE, ""))


def _with_d(values: pl.Series) -> pl.Series:
    def repair(found: pl.Series) -> pl.Series:
        capital = found.str.replace_all(_LOOKALIKE_CAPITAL_D, "Đ")
        return capital.str.replace_all(_LOOKALIKE_SMALL_D, "đ")

    return _repaired_where_found(values, _LOOKALIKE_D, repair)


def _compose(values: pl.Series) -> pl.Series:
    # NFC costs: only values holding combining marks (NFD text, Windows-1258) need it.
    decomposed = values.str.contains(_COMBINING).fill_null(False)
    if not decomposed.any():
        return values
    where = decomposed.arg_true()
    composed = values.clone()
    composed.scatter(where, values.gather(where).str.normalize("NFC"))
    return composed


def legacy_encoding_of_file(columns: list[str], file_column: str) -> pl.Expr:
    """ "tcvn3", "vni" or null for each row: the legacy encoding its file's text is written in.

    Decided per file, not per value: a short name ("Vò Ngäc") carries too little evidence alone.
    """
    tcvn3 = pl.sum_horizontal([tcvn3_score_expr(pl.col(c)).fill_null(0) for c in columns])
    vni = pl.sum_horizontal([vni_score_expr(pl.col(c)).fill_null(0) for c in columns])
    tcvn3_total, vni_total = tcvn3.sum().over(file_column), vni.sum().over(file_column)
    return (
        pl.when((tcvn3_total >= MIN_FILE_EVIDENCE) & (tcvn3_total > 2 * vni_total))
        .then(pl.lit("tcvn3"))
        .when((vni_total >= MIN_FILE_EVIDENCE) & (vni_total > 2 * tcvn3_total))
        .then(pl.lit("vni"))
    )


def on_distinct(text: pl.Expr, transform: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """`transform` computed once per distinct value, for columns that repeat their values
    (codes, dates, places): a million rows may hold only thousands of them."""
    return_dtype = pl.DataFrame(schema={"v": pl.String}).select(transform(pl.col("v"))).dtypes[0]

    def per_batch(values: pl.Series) -> pl.Series:
        distinct = values.unique().to_frame("v")
        mapped = distinct.with_columns(transform(pl.col("v")).alias("out"))
        rows = values.to_frame("v").join(
            mapped, on="v", how="left", nulls_equal=True, maintain_order="left"
        )
        return rows["out"]

    return text.map_batches(per_batch, return_dtype=return_dtype)


def trim(text: pl.Expr) -> pl.Expr:
    """Codes, ids and dates need no more than this: trimmed, and empty becomes null."""
    # `text` referenced once: with `when(trimmed != "").then(trimmed)` polars computed the
    # repair before it twice (half the CPU of `repair_text`).
    return text.str.strip_chars().replace("", None)


def code_text(text: pl.Expr) -> pl.Expr:
    """Codes, ids and dates as their characters mean, `trim`med: full-width digits and letters
    (typed with an East Asian input method) as ASCII."""
    # Only text outside ASCII is normalised: nearly every value is ASCII, and NFKC on all of
    # them cost seven times the trim.
    outside_ascii = text.str.len_bytes() != text.str.len_chars()
    return trim(pl.when(outside_ascii).then(text.str.normalize("NFKC")).otherwise(text))


def repair_text(text: pl.Expr, legacy_encoding: str | None = None) -> pl.Expr:
    """Text as it was meant: legacy encodings decoded, UTF-8 mojibake undone, NFC, single spaces.

    `legacy_encoding` ("tcvn3" or "vni") is the encoding of the file the text comes from; a value
    that already holds Unicode Vietnamese letters is left as it is. Empty text becomes null.
    """
    fixed = text.map_batches(_fix_mojibake, return_dtype=pl.String)
    if legacy_encoding is not None:
        decode = {"tcvn3": decode_tcvn3_expr, "vni": decode_vni_expr}[legacy_encoding]
        unicode_already = fixed.str.contains(_UNICODE_VIETNAMESE).fill_null(False)
        fixed = pl.when(unicode_already).then(fixed).otherwise(decode(fixed))
    composed = (
        fixed.map_batches(_compose, return_dtype=pl.String)
        .map_batches(_without_invisible, return_dtype=pl.String)
        .map_batches(_with_d, return_dtype=pl.String)
    )
    return trim(composed.str.replace_all(_UNEVEN_SPACE, " "))
