"""Parsing repaired source text into typed values, as polars expressions over whole columns.

Inputs are text already repaired by `dancu.text.repair_text` (NFC, single spaces, legacy
encodings decoded). Each parser returns the value, or null where the text holds none; whether a
null is a problem is for the rules in `dancu/rules.py`.
"""

import unicodedata
from datetime import date

import polars as pl

from dancu.admin_units import id_province_codes
from dancu.text import MOJIBAKE_PATTERN, fold, repair_text

EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0, after its 1900 leap-year bug
# Years between the births of a parent and a child, at the least. A national id encodes its
# holder's birth year: an id whose year is this far from its record's birth year is another
# family member's (a parent's id on a child's health or school record), while a birth year typed
# ten years off still fits it.
GENERATION = 12
# The centuries the personal-id scheme can express: people born from the 1800s to the 2200s.
MIN_YEAR, MAX_YEAR = 1800, 2299

# A date exported from a date-and-time column: its time is midnight ("1988-03-15 00:00:00",
# "15/03/1988 00:00", "1988-03-15T00:00:00").
_MIDNIGHT = r"(?:[ T]00:00(?::00(?:\.0+)?)?)?"
# A two-digit year ("12/05/88") is what a spreadsheet's short date format leaves in an export.
_DAY_MONTH_YEAR = r"^([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4}|[0-9]{2})" + _MIDNIGHT + "$"
# A date in words, as certificates and letters print it: "Ngày 12 tháng 5 năm 1988", with or
# without its diacritics.
_IN_WORDS = (
    r"(?i)^(?:ng[aàá]y\s*)?([0-9]{1,2})\s*th[aá]ng\s*([0-9]{1,2})\s*n[aă]m\s*([0-9]{4}|[0-9]{2})$"
)
_YEAR_MONTH_DAY = r"^([0-9]{4})[/.\-]([0-9]{1,2})[/.\-]([0-9]{1,2})" + _MIDNIGHT + "$"
_COMPACT = r"^([0-9]{4})([0-9]{2})([0-9]{2})$"
_YEAR_ONLY = r"^(?:00?[/.\-]00?[/.\-])?([0-9]{4})$"
_EXCEL_SERIAL = r"^([0-9]{5})(?:\.0+)?$"


# Syllables that end in "oa", "oe" or "uy" take their tone on the first vowel in the old
# convention (Hòa, Khỏe, Thúy) and on the second in the new (Hoà, Khoẻ, Thuý): two input
# methods' settings, one name. Names are kept in the old convention, the commoner in names. The
# letter before is kept by the pattern, as the regex cannot look behind: "qu" is a consonant, so
# Quý stays. Names come here in title case, so the vowels are lowercase.
NEW_TO_OLD_TONE_PLACEMENT = {
    unicodedata.normalize("NFC", first + second + tone): (
        unicodedata.normalize("NFC", first + tone) + second
    )
    for first, second in (("o", "a"), ("o", "e"), ("u", "y"))
    for tone in "\u0300\u0301\u0309\u0303\u0323"
}
# What stands before a syllable end (no "q"), and after it: a space or the end of the name (`\b`
# would be fifteen times slower on non-ASCII text).
_BEFORE_SYLLABLE_END, _AFTER_SYLLABLE_END = r"(^|[^qQ])", r"(\s|$)"
_NEW_TONE_PLACEMENT = (
    _BEFORE_SYLLABLE_END + "(" + "|".join(NEW_TO_OLD_TONE_PLACEMENT) + ")" + _AFTER_SYLLABLE_END
)


def _old_tone_placement(names: pl.Series) -> pl.Series:
    placed_new = names.str.contains(_NEW_TONE_PLACEMENT).fill_null(False)
    if not placed_new.any():
        return names
    moved = names.filter(placed_new).to_frame("v")
    for new, old in NEW_TO_OLD_TONE_PLACEMENT.items():
        moved = moved.with_columns(
            pl.col("v").str.replace_all(
                _BEFORE_SYLLABLE_END + new + _AFTER_SYLLABLE_END, f"${{1}}{old}${{2}}"
            )
        )
    return names.scatter(placed_new.arg_true(), moved.to_series())


def _title_case(names: pl.Series) -> pl.Series:
    titled = names.str.to_titlecase()
    # Title case can turn stray text such as "ã¡" into "Ã¡", which reads as UTF-8 mojibake:
    # repairing those once more makes standardising a standardised name change nothing.
    garbled = titled.str.contains(MOJIBAKE_PATTERN).fill_null(False)
    if garbled.any():
        repaired = titled.to_frame("v").select(repair_text(pl.col("v")).str.to_titlecase())
        titled = titled.zip_with(~garbled, repaired.to_series())
    return _old_tone_placement(titled)


def name(text: pl.Expr) -> pl.Expr:
    """A person's name in title case ("NGUYỄN văn an" -> "Nguyễn Văn An"), its tones placed
    as the old convention places them ("Thuý" -> "Thúy")."""
    return text.map_batches(_title_case, return_dtype=pl.String)


# What a spreadsheet adds to a number typed as text or kept as a number: a leading apostrophe
# (Excel's mark of text) and a ".0" (a number written out as a float). Neither is part of it.
# Removed in the same pass as the separators, which costs no more than the separators alone:
# the ".0" alternative comes first, so a float's dot is not read as a separator.
SPREADSHEET_MARKS = r"^\s*'|\.0\s*$"


def _compact_id(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(SPREADSHEET_MARKS + r"|[\s.\-]", "")


def id_digits(text: pl.Expr) -> pl.Expr:
    """The digits of an id written with spaces, dots or dashes; null if other characters remain."""
    compact = _compact_id(text)
    return pl.when(compact.str.contains(r"^[0-9]+$")).then(compact)


def has_non_id_characters(text: pl.Expr) -> pl.Expr:
    """True where an id holds something other than digits and separators (a hard failure)."""
    return _compact_id(text).str.contains(r"[^0-9]").fill_null(False)


def id_province(national_id: pl.Expr) -> pl.Expr:
    return national_id.str.slice(0, 3)


def id_sex(national_id: pl.Expr) -> pl.Expr:
    """Digit 4 even: male, odd: female."""
    digit = national_id.str.slice(3, 1).cast(pl.Int8, strict=False)
    return pl.when(digit % 2 == 0).then(pl.lit("M")).when(digit % 2 == 1).then(pl.lit("F"))


def id_birth_year(national_id: pl.Expr) -> pl.Expr:
    """Digit 4 gives the century (0-1: 1900s, 2-3: 2000s, ... 8-9: 1800s), digits 5-6 the year."""
    digit = national_id.str.slice(3, 1).cast(pl.Int32, strict=False)
    century = pl.when(digit >= 8).then(1800).otherwise(1900 + 100 * (digit // 2))
    return century + national_id.str.slice(4, 2).cast(pl.Int32, strict=False)


def is_valid_national_id(national_id: pl.Expr) -> pl.Expr:
    """12 digits whose first three are one of the 63 province codes."""
    twelve = national_id.str.contains(r"^[0-9]{12}$")
    return twelve & id_province(national_id).is_in(id_province_codes())


def national_id(text: pl.Expr) -> pl.Expr:
    """A 12-digit personal id; zeros Excel dropped are restored only where that gives a valid id.

    A 9-digit old CMND number is no personal id and gives null here (see `cmnd`).
    """
    digits = id_digits(text)
    padded = digits.str.zfill(12)
    restorable = digits.str.len_chars().is_between(10, 11) & is_valid_national_id(padded)
    return pl.when(digits.str.len_chars() == 12).then(digits).when(restorable).then(padded)


def temporary_code(text: pl.Expr) -> pl.Expr:
    """What a personal-id column holds when it is no personal id (a school's own code, a CMND):
    upper case, without spaces, dots or dashes; null where the column is empty or holds an id."""
    compact = _compact_id(text).str.to_uppercase()
    return pl.when(national_id(text).is_null() & (compact != "")).then(compact)


def is_older_generation_id(national_id: pl.Expr, birth_year: pl.Expr) -> pl.Expr:
    """Whether a 12-digit id encodes a birth year a `GENERATION` or more before the record's:
    a parent's id typed on a child's record. False where either is unknown."""
    return ((birth_year.cast(pl.Int32) - id_birth_year(national_id)) >= GENERATION).fill_null(False)


def cmnd(text: pl.Expr) -> pl.Expr:
    """A 9-digit old identity-card number (Excel may have dropped a leading zero)."""
    digits = id_digits(text)
    return pl.when(digits.str.len_chars().is_between(8, 9)).then(digits.str.zfill(9))


def code_digits(text: pl.Expr, width: int) -> pl.Expr:
    """A numeric code of fixed width ("1" -> "00001"), or null when it is not all digits."""
    digits = id_digits(text)
    return pl.when(digits.str.len_chars() <= width).then(digits.str.zfill(width))


# The eleven-digit mobile numbers that became ten-digit in 2018, as the Ministry of Information
# and Communications converted them: the old prefix after the trunk 0, and the new one. Older
# systems still hold them; the number is the same subscriber's.
OLD_MOBILE_PREFIXES = {
    "162": "32", "163": "33", "164": "34", "165": "35", "166": "36", "167": "37", "168": "38",
    "169": "39",  # Viettel
    "120": "70", "121": "79", "122": "77", "126": "76", "128": "78",  # MobiFone
    "123": "83", "124": "84", "125": "85", "127": "81", "129": "82",  # VinaPhone
    "186": "56", "188": "58", "199": "59",  # Vietnamobile, Gmobile
}  # fmt: skip


def phone(text: pl.Expr) -> pl.Expr:
    """E.164 (+84 and the 9-10 digit national number) from "0912 345 678", "84-912-345-678", ...;
    an eleven-digit mobile number of before 2018 as the ten-digit one it became ("0168 812 3456"
    -> "+84388123456")."""
    digits = text.str.replace_all(SPREADSHEET_MARKS + r"|[\s.\-()+]", "")
    # The national number after a country code 84 or a trunk 0, in one pass: the regex takes
    # "84" only where 9-10 digits remain (11-12 in all), else reads the digits whole.
    national = digits.str.extract(r"^(?:84|0)?([1-9][0-9]{8,9})$")
    new_prefix = national.str.slice(0, 3).replace_strict(OLD_MOBILE_PREFIXES, default=None)
    converted = pl.when(national.str.len_chars() == 10).then(new_prefix + national.str.slice(3))
    return pl.lit("+84") + pl.coalesce(converted, national)


def certificate_form(text: pl.Expr) -> pl.Expr:
    """`1` or `2`, the judicial-record certificate form, from "1", "01", "Phiếu số 2", "số 1";
    null otherwise."""
    folded = fold(text).str.replace_all(r"[^a-z0-9]", "")
    return folded.str.extract(r"^(?:phieu)?(?:so)?0*([12])$")


def school_year(text: pl.Expr) -> pl.Expr:
    """`2025-2026` from "2025-2026", "2025 - 2026", "2025/2026", "2025–2026"; null where the
    text is no two consecutive years."""
    years = text.str.extract_groups(r"^\s*([0-9]{4})\s*[-/–—]\s*([0-9]{4})\s*$")
    first = years.struct["1"].cast(pl.Int32)
    second = years.struct["2"].cast(pl.Int32)
    written = pl.concat_str([first, second], separator="-")
    return pl.when(second == first + 1).then(written)


# What a clerk writes in `Án tích` for "no conviction", folded; the contract's own form is empty.
NO_CONVICTION = ("khong", "khong co", "chua co", "khong co an tich", "chua co an tich",
                 "chua bi ket an", "khong an tich")  # fmt: skip


def has_criminal_record(text: pl.Expr) -> pl.Expr:
    """Whether `Án tích` names a conviction: it is written, and not as "none"."""
    folded = fold(text).str.replace_all(r"[^a-z ]", "").str.replace_all(r"\s+", " ")
    none = folded.str.strip_chars().is_in(NO_CONVICTION)
    return (text.str.strip_chars().fill_null("") != "") & ~none.fill_null(False)


def sex(text: pl.Expr) -> pl.Expr:
    """`M` or `F` from Nam/Nữ (or Nam giới/Nữ giới) in any case or diacritics, or M/F; null
    otherwise."""
    folded = text.str.to_lowercase().str.normalize("NFC").str.replace_all("ữ", "u")
    return (
        pl.when(folded.is_in(["nam", "nam giới", "nam gioi", "m", "male"]))
        .then(pl.lit("M"))
        .when(folded.is_in(["nu", "nu giới", "nu gioi", "f", "female"]))
        .then(pl.lit("F"))
    )


def _as_date(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    written = pl.concat_str([year, month.str.zfill(2), day.str.zfill(2)], separator="-")
    return written.str.to_date("%Y-%m-%d", strict=False)


def parse_date(text: pl.Expr, excel_serials: pl.Expr | bool = False) -> pl.Expr:
    """A struct of what a written date says, for every form the contract lists (beside the
    intermediate fields of the parse):

    - `date`: the day, or null (also when only the year is known);
    - `year`: the year, also from `1940` or `00/00/1940`;
    - `day_month_swapped`: the text read as dd/mm is no day but read as mm/dd is: the only
      reading left is taken;
    - `impossible`: text is written but is no real day (31/02/1990, "abc", year 0999);
    - `two_digit_year`: the year was written with two digits (12/05/88), and is read in the
      2000s until `settle_century` decides its century.

    Besides figures, a date may be written in words: "Ngày 12 tháng 5 năm 1988".

    `excel_serials` says where a 5-digit number is an Excel day count (cells of XLSX files).
    """
    # Each step reads the fields of the one before, so every part is computed once.
    in_excel = excel_serials if isinstance(excel_serials, pl.Expr) else pl.lit(excel_serials)
    as_figures = text.str.strip_chars().str.replace(_IN_WORDS, "$1/$2/$3")
    written = pl.struct(as_figures.alias("text"), in_excel.alias("in_excel"))
    matched = written.struct.with_fields(
        pl.field("text").str.extract_groups(_DAY_MONTH_YEAR).alias("dmy"),
        pl.field("text").str.extract_groups(_YEAR_MONTH_DAY).alias("ymd"),
        pl.field("text").str.extract_groups(_COMPACT).alias("compact"),
        pl.field("text").str.extract(_EXCEL_SERIAL).cast(pl.Int32).alias("serial"),
        pl.field("text").str.extract(_YEAR_ONLY).cast(pl.Int32, strict=False).alias("year_only"),
    )
    # A two-digit year is read in the 2000s here; `settle_century` decides.
    two_digits = matched.struct.with_fields(
        (pl.field("dmy").struct["3"].str.len_chars() == 2).fill_null(False).alias("two_digit_year")
    )
    # Group numbers of year, month and day in the dd/mm/yyyy and the yyyy-mm-dd patterns.
    groups = (("y", "3", "1"), ("m", "2", "2"), ("d", "1", "3"))
    parts = two_digits.struct.with_fields(
        pl.coalesce(
            pl.field("dmy").struct[dmy],
            pl.field("ymd").struct[ymd],
            pl.field("compact").struct[ymd],
        ).alias(part)
        for part, dmy, ymd in groups
    ).struct.with_fields(
        pl.when(pl.field("two_digit_year"))
        .then(pl.concat_str(pl.lit("20"), pl.field("y")))
        .otherwise(pl.field("y"))
        .alias("y")
    )
    readings = parts.struct.with_fields(
        _as_date(pl.field("y"), pl.field("m"), pl.field("d")).alias("as_written"),
        _as_date(pl.field("y"), pl.field("d"), pl.field("m")).alias("swapped"),
        pl.when(pl.field("in_excel") & pl.field("serial").is_not_null())
        .then(pl.lit(EXCEL_EPOCH) + pl.duration(days=pl.field("serial")))
        .alias("from_serial"),
    )
    day = readings.struct.with_fields(
        pl.coalesce(pl.field("from_serial"), pl.field("as_written"), pl.field("swapped")).alias(
            "day"
        )
    )
    judged = day.struct.with_fields(
        pl.coalesce(pl.field("day").dt.year(), pl.field("year_only")).alias("year")
    ).struct.with_fields(
        (
            pl.field("text").is_not_null()
            & (pl.field("text") != "")
            & (
                pl.field("year").is_null()
                | (pl.field("year") < MIN_YEAR)
                | (pl.field("day").is_null() & pl.field("year_only").is_null())
            )
        )
        .fill_null(False)
        .alias("impossible")
    )
    return judged.struct.with_fields(
        pl.when(~pl.field("impossible")).then(pl.field("day")).alias("date"),
        pl.when(~pl.field("impossible")).then(pl.field("year")).alias("year"),
        (
            pl.field("from_serial").is_null()
            & pl.field("as_written").is_null()
            & pl.field("swapped").is_not_null()
        ).alias("day_month_swapped"),
    )


def settle_century(parsed: pl.Expr, latest: pl.Expr, holder_id: pl.Expr | None = None) -> pl.Expr:
    """`parse_date`'s struct with a two-digit year put in its century: the one that puts it
    nearest the birth year the holder's personal id encodes (a date typed with a slip in its
    year, 21/02/26 for a child of 2020, is then still no date of the past); without an id, the
    latest century that does not put the date after `latest` (the extract date): 12/05/25 in
    an extract of 2025 is a child's birth, not a centenarian's. A 29 February the century has
    not is impossible."""
    read, year = parsed.struct["date"], parsed.struct["year"]
    id_year = id_birth_year(holder_id) if holder_id is not None else pl.lit(None, pl.Int32)
    nearer_a_century_back = (id_year - (year - 100)).abs() < (id_year - year).abs()
    back = parsed.struct["two_digit_year"] & (
        pl.when(id_year.is_not_null()).then(nearer_a_century_back).otherwise(read > latest)
    ).fill_null(False)
    earlier = read.dt.offset_by("-100y")
    leap_day_lost = back & (earlier.dt.day() != read.dt.day())
    return parsed.struct.with_fields(
        pl.when(leap_day_lost).then(None).when(back).then(earlier).otherwise(read).alias("date"),
        pl.when(leap_day_lost).then(None).when(back).then(year - 100).otherwise(year).alias("year"),
        (parsed.struct["impossible"] | leap_day_lost).alias("impossible"),
    )
