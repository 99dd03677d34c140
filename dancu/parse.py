"""Parsing source text into typed values, as polars expressions over whole columns.

Each parser returns the parsed value, or null where the text holds none; whether a null is a
problem is decided by the rules in `checks/rules.py`, which see the raw text beside it.
"""

from datetime import date

import polars as pl

EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0, after its 1900 leap-year bug
MIN_YEAR = 1800  # the personal-id scheme reaches back to people born in the 1800s

_DAY_MONTH_YEAR = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$"
_YEAR_MONTH_DAY = r"^(\d{4})-(\d{1,2})-(\d{1,2})(?: 00:00:00(?:\.0+)?)?$"
_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_YEAR_ONLY = r"^(?:00?[/.\-]00?[/.\-])?(\d{4})$"
_EXCEL_SERIAL = r"^(\d{5})(?:\.0+)?$"


def clean_text(text: pl.Expr) -> pl.Expr:
    """NFC, single spaces, trimmed; empty becomes null."""
    cleaned = text.str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(cleaned == "").then(None).otherwise(cleaned)


def clean_name(text: pl.Expr) -> pl.Expr:
    """A person's name in title case ("NGUYỄN văn  an" -> "Nguyễn Văn An")."""
    return clean_text(text).str.to_titlecase()


def id_digits(text: pl.Expr) -> pl.Expr:
    """The digits of an id written with spaces, dots or dashes; null if other characters remain."""
    compact = clean_text(text).str.replace_all(r"[\s.\-]", "")
    return pl.when(compact.str.contains(r"^\d+$")).then(compact)


def has_non_id_characters(text: pl.Expr) -> pl.Expr:
    """True where an id holds something other than digits and separators (a hard failure)."""
    return clean_text(text).str.contains(r"[^\d\s.\-]").fill_null(False)


def national_id(text: pl.Expr) -> pl.Expr:
    """A 12-digit personal id; Excel's lost leading zeros restored when that makes 12 digits."""
    digits = id_digits(text)
    return pl.when(digits.str.len_chars().is_between(10, 12)).then(digits.str.zfill(12))


def _date_parts(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Year, month and day as text from every written form the contract lists."""
    dmy = text.str.extract_groups(_DAY_MONTH_YEAR)
    ymd = text.str.extract_groups(_YEAR_MONTH_DAY)
    compact = text.str.extract_groups(_COMPACT)
    year = pl.coalesce(
        dmy.struct["3"], ymd.struct["1"], compact.struct["1"], text.str.extract(_YEAR_ONLY)
    )
    month = pl.coalesce(dmy.struct["2"], ymd.struct["2"], compact.struct["2"])
    day = pl.coalesce(dmy.struct["1"], ymd.struct["3"], compact.struct["3"])
    return year, month, day


def parse_date(text: pl.Expr, excel_serials: pl.Expr | bool = False) -> pl.Expr:
    """A full date, or null when the text gives none (also for a bare year: see `parse_year`).

    `excel_serials` says where a 5-digit number is an Excel day count (cells of XLSX files).
    """
    cleaned = clean_text(text)
    year, month, day = _date_parts(cleaned)
    written = pl.concat_str([year, month.str.zfill(2), day.str.zfill(2)], separator="-")
    from_text = written.str.to_date("%Y-%m-%d", strict=False)
    serial = cleaned.str.extract(_EXCEL_SERIAL).cast(pl.Int32)
    from_serial = pl.lit(EXCEL_EPOCH) + pl.duration(days=serial)
    in_excel = excel_serials if isinstance(excel_serials, pl.Expr) else pl.lit(excel_serials)
    return pl.when(in_excel & serial.is_not_null()).then(from_serial).otherwise(from_text)


def parse_year(text: pl.Expr, excel_serials: pl.Expr | bool = False) -> pl.Expr:
    """The year of a date, also where only the year is known (`1940`, `00/00/1940`)."""
    year_written, _, _ = _date_parts(clean_text(text))
    full = parse_date(text, excel_serials)
    return pl.coalesce(full.dt.year(), year_written.cast(pl.Int32, strict=False))


def date_is_impossible(text: pl.Expr, excel_serials: pl.Expr | bool = False) -> pl.Expr:
    """True where a date is written but is no real day (31/02/1990, 1990-13-01, "abc", 0999)."""
    cleaned = clean_text(text)
    year = parse_year(text, excel_serials)
    year_only = cleaned.str.contains(_YEAR_ONLY)
    no_day = parse_date(text, excel_serials).is_null() & ~year_only
    return (cleaned.is_not_null() & (year.is_null() | no_day | (year < MIN_YEAR))).fill_null(False)


def sex(text: pl.Expr) -> pl.Expr:
    """`M` or `F` from Nam/Nữ in any case or diacritics, or M/F; null otherwise."""
    folded = clean_text(text).str.to_lowercase().str.replace_all("ữ", "u")
    return (
        pl.when(folded.is_in(["nam", "m", "male"]))
        .then(pl.lit("M"))
        .when(folded.is_in(["nu", "f", "female"]))
        .then(pl.lit("F"))
    )
