"""Identity documents: the type a source names (`Loại giấy tờ`), the number normalised by type,
the issuing country, and whether a passport number has the shape its country issues.

Types are the contract's `document_type` values of `person_document`: `national_id` (the CCCD,
12 digits), `cmnd` (the old identity card, 9 digits), `passport`, `identity_certificate` (the
`Giấy chứng nhận căn cước` of a person of Vietnamese origin without nationality). The other two
values, `student_code` and `previous_national_id`, come from their own columns, not from here.
"""

import polars as pl

from dancu import parse
from dancu.nationality import nationalities
from dancu.text import fold, on_distinct

NATIONAL_ID, CMND = "national_id", "cmnd"
PASSPORT, IDENTITY_CERTIFICATE = "passport", "identity_certificate"
VIETNAM = "VNM"

# How sources write each type, matched folded (any case, with or without diacritics) and
# without spaces or punctuation. People still call the CCCD "chứng minh thư", so a type written
# as either card is settled by the number's shape (see `id_card_type`).
DOCUMENT_TYPES = {
    NATIONAL_ID: ("CCCD", "Căn cước công dân", "Thẻ căn cước công dân", "Thẻ căn cước",
                  "Căn cước", "CCCD gắn chip", "Số định danh cá nhân", "Định danh cá nhân",
                  "ĐDCN", "CCCD/CMND", "Citizen ID", "Citizen identity card", "National ID", "NID"),
    CMND: ("CMND", "Chứng minh nhân dân", "Giấy chứng minh nhân dân", "CMTND", "CMT",
           "Chứng minh thư", "Chứng minh thư nhân dân"),
    PASSPORT: ("Hộ chiếu", "HC", "Passport", "PP", "PPT", "Hộ chiếu/Passport", "Hộ chiếu phổ thông",
               "Hộ chiếu ngoại giao", "Hộ chiếu công vụ", "Hộ chiếu nước ngoài"),
    IDENTITY_CERTIFICATE: ("Giấy chứng nhận căn cước", "GCNCC", "Chứng nhận căn cước",
                           "Identity certificate"),
}  # fmt: skip

# A place of issue that names no country but a Vietnamese authority (the immigration
# department, the police, a Vietnamese embassy): folded text.
_VIETNAMESE_AUTHORITY = r"xuat nhap canh|\bq?lxnc\b|cong an|\bbca\b|canh sat|viet nam"

# Passport numbers as their countries issue them, after `document_number` (upper case, no
# spaces). Approximations from published specimens and issuing authorities' notes, not from a
# standard (ICAO 9303 only bounds the MRZ field to 9 characters, more with an overflow):
# - VNM: one letter (B, C, N, P...) and 7 digits; chip passports since 2023 are reported with
#   one letter and 7 or 8 digits, so 8 is accepted rather than flag genuine new ones;
# - KOR: M (ordinary), S, R, O, D, G and 8 digits; since Dec 2021, a letter, 3 digits, a
#   letter and 4 digits (M123A4567);
# - USA: 9 digits; next-generation passports (2021) a letter and 8 digits;
# - CHN: E or G and 8 digits; since 2017 E, a letter and 7 digits (EA1234567); D, S, P for
#   diplomatic, service and public-affairs passports;
# - JPN: two letters and 7 digits.
# Any other country: 6 to 9 letters and digits. Every shape also needs a digit.
PASSPORT_SHAPES = {
    "VNM": r"^[A-Z]\d{7,8}$",
    "KOR": r"^[MSRODG](?:\d{8}|\d{3}[A-Z]\d{4})$",
    "USA": r"^(?:\d{9}|[A-Z]\d{8})$",
    "CHN": r"^(?:[EGDSP]\d{8}|E[A-Z]\d{7})$",
    "JPN": r"^[A-Z]{2}\d{7}$",
}
_ANY_PASSPORT = r"^[A-Z0-9]{6,9}$"


def _key(text: pl.Expr) -> pl.Expr:
    return fold(text).str.replace_all(r"[^a-z0-9]", "")


def _type_lookup() -> dict[str, str]:
    spellings = [(s, kind) for kind, names in DOCUMENT_TYPES.items() for s in (kind, *names)]
    frame = pl.DataFrame({"v": [s for s, _ in spellings]}, schema={"v": pl.String})
    keys = frame.select(_key(pl.col("v")))["v"].to_list()
    return dict(zip(keys, (kind for _, kind in spellings), strict=True))


_TYPES = _type_lookup()


def document_type(text: pl.Expr) -> pl.Expr:
    """The contract's `document_type` of a written `Loại giấy tờ` (`Hộ chiếu`, `HO CHIEU`,
    `passport` -> `passport`), or null when it names none of the four."""
    return on_distinct(
        text, lambda v: _key(v).replace_strict(_TYPES, default=None, return_dtype=pl.String)
    )


def id_card_type(document_type: pl.Expr, number: pl.Expr) -> pl.Expr:
    """The type of a Vietnamese identity card settled by its number: a CCCD written with a
    9-digit number is a CMND, a CMND with a valid 12-digit number a CCCD. Other types, and
    numbers that fit neither, keep the type written."""
    is_card = document_type.is_in([NATIONAL_ID, CMND])
    return (
        pl.when(is_card & parse.national_id(number).is_not_null())
        .then(pl.lit(NATIONAL_ID))
        .when(is_card & parse.cmnd(number).is_not_null())
        .then(pl.lit(CMND))
        .otherwise(document_type)
    )


def _letters_and_digits(number: pl.Expr) -> pl.Expr:
    """Upper case without spaces, dots or dashes; null where anything but A-Z and 0-9 is left."""
    compact = number.str.replace_all(r"[\s.\-]", "").str.to_uppercase()
    return pl.when(compact.str.contains(r"^[A-Z0-9]+$")).then(compact)


def document_number(document_type: pl.Expr, number: pl.Expr) -> pl.Expr:
    """A document number in its normal form for its type, or null when it cannot be one:
    `national_id` 12 digits (zeros Excel dropped restored, `parse.national_id`), `cmnd` 9 digits
    (`parse.cmnd`), anything else (passport, identity certificate, unknown type) letters and
    digits, upper case, without spaces (`b 123 4567` -> `B1234567`)."""
    return (
        pl.when(document_type == NATIONAL_ID)
        .then(parse.national_id(number))
        .when(document_type == CMND)
        .then(parse.cmnd(number))
        .otherwise(_letters_and_digits(number))
    )


def issuing_country(document_type: pl.Expr, place_of_issue: pl.Expr) -> pl.Expr:
    """ISO alpha-3 of the country that issued a document: Vietnam for the Vietnamese cards and
    certificate; for a passport, the country its place of issue names (`Hàn Quốc` -> `KOR`),
    else Vietnam where it names a Vietnamese authority (`Cục Quản lý xuất nhập cảnh`), else null
    (the caller may fall back on the holder's single nationality)."""
    named = nationalities(place_of_issue).list.first()
    authority = on_distinct(place_of_issue, lambda v: fold(v).str.contains(_VIETNAMESE_AUTHORITY))
    passport_country = pl.coalesce(named, pl.when(authority).then(pl.lit(VIETNAM)))
    return (
        pl.when(document_type.is_in([NATIONAL_ID, CMND, IDENTITY_CERTIFICATE]))
        .then(pl.lit(VIETNAM))
        .when(document_type == PASSPORT)
        .then(passport_country)
    )


def passport_malformed(number: pl.Expr, issuing_country: pl.Expr) -> pl.Expr:
    """True where a written passport number cannot be one its issuing country (ISO alpha-3,
    null when unknown) issues: the rule `document.passport_malformed`. False for an empty
    number: a missing number is another rule's concern."""
    written = number.str.strip_chars().fill_null("") != ""
    normal = _letters_and_digits(number)
    by_country = (
        pl.when(issuing_country == country).then(normal.str.contains(shape))
        for country, shape in PASSPORT_SHAPES.items()
    )
    fits = pl.coalesce(*by_country, normal.str.contains(_ANY_PASSPORT)) & normal.str.contains(r"\d")
    return written & ~fits.fill_null(False)
