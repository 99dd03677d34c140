"""Values as the source systems write them: dates, sex, phones, ids and addresses as text, and
the cells that an Excel user would have typed as numbers.

Rows carry their file's style columns (see `styles`); every function here is a polars expression
over whole columns, so one call renders a source's rows for all its files at once.
"""

import re
from datetime import date

import polars as pl

from dancu.parse import NEW_TO_OLD_TONE_PLACEMENT, OLD_MOBILE_PREFIXES
from dancu.text import strip_diacritics

EXCEL_EPOCH = date(1899, 12, 30)  # serial 0 in Excel's 1900 date system (after its leap bug)
HANOI = "Thành phố Hà Nội"

_STRFTIME = {
    "dd/mm/yyyy": "%d/%m/%Y",
    "d/m/yyyy": "%-d/%-m/%Y",
    "yyyy-mm-dd": "%Y-%m-%d",
    "yyyymmdd": "%Y%m%d",
    "dd/mm/yy": "%d/%m/%y",
    "dd/mm/yyyy 00:00:00": "%d/%m/%Y 00:00:00",
}
# Syllable ends with the tone where the old convention places it, and where the new one does, in
# both cases (names in capitals too); "qu" is a consonant, so "quý" is no such syllable.
_OLD_TO_NEW_TONE_PLACEMENT = {
    old.swapcase() if upper else old: new.swapcase() if upper else new
    for new, old in NEW_TO_OLD_TONE_PLACEMENT.items()
    for upper in (False, True)
}
_OLD_TONE_PLACEMENT = re.compile(r"(?<![qQ])(" + "|".join(_OLD_TO_NEW_TONE_PLACEMENT) + r")(?!\w)")
# Mobile prefixes since 2018 and the eleven-digit ones they replaced (after the trunk 0).
OLD_MOBILE_PREFIX = {new: old for old, new in OLD_MOBILE_PREFIXES.items()}


def date_text(d: pl.Expr) -> pl.Expr:
    """A date in the file's format."""
    fmt = pl.col("date_format")
    out = d.dt.strftime(_STRFTIME["dd/mm/yyyy"])
    for name, pattern in _STRFTIME.items():
        out = pl.when(fmt == name).then(d.dt.strftime(pattern)).otherwise(out)
    return out


def year_text(year: pl.Expr) -> pl.Expr:
    """A birth date of which only the year is known: `1942` or `00/00/1942`."""
    text = year.cast(pl.String)
    return pl.when(pl.col("year_only_format") == "yyyy").then(text).otherwise("00/00/" + text)


def impossible_date_text(day: pl.Expr, month: pl.Expr, year: pl.Expr) -> pl.Expr:
    """A calendar date that does not exist (31/02/1990), in the file's format."""
    dd, mm = day.cast(pl.String).str.zfill(2), month.cast(pl.String).str.zfill(2)
    yyyy = year.cast(pl.String)
    fmt = pl.col("date_format")
    return (
        pl.when(fmt == "yyyy-mm-dd")
        .then(pl.concat_str([yyyy, mm, dd], separator="-"))
        .when(fmt == "yyyymmdd")
        .then(pl.concat_str([yyyy, mm, dd]))
        .when(fmt == "d/m/yyyy")
        .then(pl.concat_str([day.cast(pl.String), month.cast(pl.String), yyyy], separator="/"))
        .otherwise(pl.concat_str([dd, mm, yyyy], separator="/"))
    )


def new_tone_placement(text: str) -> str:
    """`text` with the tone of each syllable ending in "oa", "oe" or "uy" on its second vowel, as
    an input method set to the new convention types it ("Hòa" -> "Hoà", "Thúy" -> "Thuý")."""

    return _OLD_TONE_PLACEMENT.sub(lambda end: _OLD_TO_NEW_TONE_PLACEMENT[end[1]], text)


def old_mobile_number(phone: pl.Expr) -> pl.Expr:
    """A ten-digit mobile number ("0388123456") as the eleven-digit one it was before 2018
    ("01688123456"); null where the prefix had no older form."""
    old_prefix = phone.str.slice(1, 2).replace_strict(OLD_MOBILE_PREFIX, default=None)
    return pl.when(phone.str.len_chars() == 10).then("0" + old_prefix + phone.str.slice(3))


def excel_serial(d: pl.Expr) -> pl.Expr:
    return (d - pl.lit(EXCEL_EPOCH)).dt.total_days().cast(pl.Float64)


def sex_text(sex: pl.Expr, odd: pl.Expr) -> pl.Expr:
    """Sex in the file's style ("Nam"/"Nữ", "NAM", "nu", "M"/"F"); `odd` rows take another
    spelling, as clerks vary."""
    male = sex == "Nam"
    style = pl.when(odd).then(pl.lit("nam/nu")).otherwise(pl.col("sex_style"))
    return (
        pl.when(style == "NAM/NỮ")
        .then(pl.when(male).then(pl.lit("NAM")).otherwise(pl.lit("NỮ")))
        .when(style == "nam/nu")
        .then(pl.when(male).then(pl.lit("nam")).otherwise(pl.lit("nu")))
        .when(style == "M/F")
        .then(pl.when(male).then(pl.lit("M")).otherwise(pl.lit("F")))
        .otherwise(sex)
    )


def phone_text(phone: pl.Expr, style: pl.Expr) -> pl.Expr:
    """The contract's three spellings: `0912 345 678`, `+84912345678`, `84-912-345-678`
    (a Hà Nội landline `024 3825 1234` groups as 3-4-4)."""
    landline = phone.str.len_chars() == 11
    local = (
        pl.when(landline)
        .then(
            pl.concat_str(
                [phone.str.slice(0, 3), phone.str.slice(3, 4), phone.str.slice(7)], separator=" "
            )
        )
        .otherwise(
            pl.concat_str(
                [phone.str.slice(0, 4), phone.str.slice(4, 3), phone.str.slice(7)], separator=" "
            )
        )
    )
    dashed = (
        pl.when(landline)
        .then(
            pl.concat_str(
                [pl.lit("84"), phone.str.slice(1, 2), phone.str.slice(3, 4), phone.str.slice(7)],
                separator="-",
            )
        )
        .otherwise(
            pl.concat_str(
                [pl.lit("84"), phone.str.slice(1, 3), phone.str.slice(4, 3), phone.str.slice(7)],
                separator="-",
            )
        )
    )
    return (
        pl.when(style == 0)
        .then(local)
        .when(style == 1)
        .then("+84" + phone.str.slice(1))
        .otherwise(dashed)
    )


def address_text(street: pl.Expr, scheme: pl.Expr, prefix: str = "") -> pl.Expr:
    """The full address in old units ("Số 12, phố X, Phường Phúc Xá, Quận Ba Đình, Thành phố Hà
    Nội") or new ones ("Số 12, phố X, Phường Hồng Hà, Thành phố Hà Nội"); rows carry both."""
    old_units = [pl.col(prefix + "old_ward_name"), pl.col(prefix + "old_district_name")]
    old = pl.concat_str([street, *old_units, pl.lit(HANOI)], separator=", ")
    new = pl.concat_str([street, pl.col(prefix + "ward_name"), pl.lit(HANOI)], separator=", ")
    return pl.when(scheme == "old").then(old).otherwise(new)


def digits_as_number(text: pl.Expr) -> pl.Expr:
    """What Excel stores when digits are typed into a cell: a number, leading zeros gone."""
    return pl.when(text.str.contains(r"^\d+$")).then(text.cast(pl.Float64, strict=False))


def header_labels(labels: list[str], style: str) -> list[str]:
    """Header labels as a system spells them: exactly, in capitals, or without diacritics."""
    if style == "upper":
        return [label.upper() for label in labels]
    if style == "ascii":
        return [strip_diacritics(label) for label in labels]
    return list(labels)
