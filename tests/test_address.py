"""Addresses and ward codes to current units: real Hà Nội addresses, and properties on any text."""

import socket
import unicodedata
from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dancu import address
from dancu.address import (
    AMBIGUOUS,
    CODE_CONFLICT,
    CODE_UNKNOWN,
    OUTPUT_COLUMNS,
    UNKNOWN,
    fold_word,
    name_key,
    split,
    split_address,
    standardize_addresses,
)

BEFORE = date(2024, 5, 1)
AFTER = date(2025, 9, 15)
OLD_PHUC_XA = "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội"


def standardized(rows: list[tuple[str | None, str | None, date | None]]) -> list[dict]:
    addresses, codes, dates = zip(*rows, strict=True)
    return standardize_addresses(
        pl.Series(addresses, dtype=pl.String),
        pl.Series(codes, dtype=pl.String),
        pl.Series(dates, dtype=pl.Date),
    ).to_dicts()


def one(text: str | None, code: str | None = None, extract_date: date | None = BEFORE) -> dict:
    return standardized([(text, code, extract_date)])[0]


@pytest.mark.parametrize(
    ("text", "street", "admin"),
    [
        (
            "Số 12, ngõ 34, phố Huỳnh Thúc Kháng, Phường Láng Hạ, Quận Đống Đa, Thành phố Hà Nội",
            "Số 12, ngõ 34, phố Huỳnh Thúc Kháng",
            "Phường Láng Hạ, Quận Đống Đa, Thành phố Hà Nội",
        ),
        # Unit words inside street names, with and without commas.
        (
            "Số 5, phố Xã Đàn, P. Nam Đồng, Q. Đống Đa, HN",
            "Số 5, phố Xã Đàn",
            "P. Nam Đồng, Q. Đống Đa, HN",
        ),
        (
            "Số 5 phố Xã Đàn Phường Nam Đồng Quận Đống Đa Hà Nội",
            "Số 5 phố Xã Đàn",
            "Phường Nam Đồng, Quận Đống Đa Hà Nội",
        ),
        (
            "12 đường Thị Trấn, Thị trấn Trâu Quỳ, Gia Lâm, Hà Nội",
            "12 đường Thị Trấn",
            "Thị trấn Trâu Quỳ, Gia Lâm, Hà Nội",
        ),
        # A leading segment that names no unit goes back to the street.
        (
            "Tập thể Kim Liên, Phường Kim Liên, Quận Đống Đa, Hà Nội",
            "Tập thể Kim Liên",
            "Phường Kim Liên, Quận Đống Đa, Hà Nội",
        ),
        # Odd separators and spacing; a dash between numbers stays.
        ("  Số 5 ;  P.12 - Q.10 ,, TP HCM", "Số 5", "P.12, Q.10, TP HCM"),
        ("Số 5 - 7 phố Huế, Hà Nội", "Số 5 - 7 phố Huế", "Hà Nội"),
        # A number ending a name is a unit's; one after a street word is a street's.
        (
            "193 Quang Trung, Mỹ Đình 1, Nam Từ Liêm, Hà Nội",
            "193 Quang Trung",
            "Mỹ Đình 1, Nam Từ Liêm, Hà Nội",
        ),
        ("ngo 5, Ngo Quyen, Son Tay", "ngo 5", "Ngo Quyen, Son Tay"),
        (
            "Thôn Đoài, Xã Phù Đổng, Huyện Gia Lâm, HN",
            "Thôn Đoài",
            "Xã Phù Đổng, Huyện Gia Lâm, HN",
        ),
        ("Hà Nội", None, "Hà Nội"),
        ("abc xyz", "abc xyz", None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_split_address(text, street, admin):
    assert split_address(text) == (street, admin)


@pytest.mark.parametrize(
    ("word", "key"), [("Phường", "phuong"), ("ĐỐNG", "dong"), ("01", "1"), ("Thuỵ", "thuy")]
)
def test_fold_word(word, key):
    assert fold_word(word) == key


@pytest.mark.parametrize(
    ("name", "key"),
    [("Quận Đống Đa", "dongda"), ("Phường Văn Miếu - Quốc Tử Giám", "vanmieuquoctugiam"),
     ("Thị xã Sơn Tây", "sontay"), ("Phường 01", "1"), ("Thành phố Hà Nội", "hanoi")],
)  # fmt: skip
def test_name_key(name, key):
    assert name_key(name) == key


# (address, code, extract date) -> (ward_code, old_ward_code, address_issue, ward_evidence)
CASES = {
    "old units and old code": (OLD_PHUC_XA, "00001", BEFORE, ("00097", "00001", None, "both")),
    "current name and code": (
        "Số 3, phố Phúc Xá, Phường Hồng Hà, Thành phố Hà Nội", "00097", AFTER,
        ("00097", None, None, "both"),
    ),
    "old name, current code": (OLD_PHUC_XA, "00097", AFTER, ("00097", "00001", None, "both")),
    "no diacritics, no code": (
        "So 3, pho Phuc Xa, Phuong Phuc Xa, Quan Ba Dinh, Ha Noi", None, BEFORE,
        ("00097", "00001", None, "text"),
    ),
    "abbreviations, code that lost its zeros": (
        "P. Láng Hạ, Q. Đống Đa, TP Hà Nội", "199", BEFORE, ("00199", "00199", None, "both"),
    ),
    "upper case, NFD, country": (
        unicodedata.normalize("NFD", "PHƯỜNG PHÚC XÁ, QUẬN BA ĐÌNH, HÀ NỘI, VIỆT NAM"), None,
        BEFORE, ("00097", "00001", None, "text"),
    ),
    "current ward, no district": (
        "Phường Láng, Thành phố Hà Nội", None, AFTER, ("00199", None, None, "text"),
    ),
    "current ward with its old district": (
        "Phường Láng, Đống Đa, Hà Nội", None, AFTER, ("00199", None, None, "text"),
    ),
    # "Ngọc Hà" names an old ward and a current one: an old extract means the old one.
    "name of both schemes, old extract": (
        "Phường Ngọc Hà, Hà Nội", None, BEFORE, ("00004", "00016", None, "text"),
    ),
    "name of both schemes, new extract": (
        "Phường Ngọc Hà, Hà Nội", None, AFTER, ("00008", None, None, "text"),
    ),
    # Cống Vị was divided: the converter's default part, unless a current code says which.
    "divided ward": (
        "Phường Cống Vị, Quận Ba Đình, Hà Nội", None, AFTER, ("00008", "00007", None, "text"),
    ),
    "divided ward settled by its current code": (
        "Phường Cống Vị, Quận Ba Đình, Hà Nội", "00025", AFTER, ("00025", "00007", None, "both"),
    ),
    # "Hoài Đức" is a current commune and an old district: the code says which.
    "bare name read as the code's district": (
        "Hoài Đức, HN", "09841", BEFORE, ("09856", "09841", None, "both"),
    ),
    "other province": (
        "Phường Bến Nghé, Quận 1, TP.HCM", None, BEFORE, ("26740", "26740", None, "text"),
    ),
    "conflicting code: the text wins": (
        OLD_PHUC_XA, "00199", BEFORE, ("00097", "00001", CODE_CONFLICT, "text"),
    ),
    "code in neither scheme": (
        OLD_PHUC_XA, "99999", BEFORE, ("00097", "00001", CODE_UNKNOWN, "text"),
    ),
    "code that is no code": (
        OLD_PHUC_XA, "12a45", BEFORE, ("00097", "00001", CODE_UNKNOWN, "text"),
    ),
    # 11948 (Đặc khu Bạch Long Vĩ) is only a current code, and old extracts carry old codes.
    "current-only code in an old extract": (
        None, "11948", BEFORE, (None, None, CODE_UNKNOWN, None),
    ),
    "current-only code in a new extract": (None, "11948", AFTER, ("11948", None, None, "code")),
    "code alone, old extract": (None, "00001", BEFORE, ("00097", "00001", None, "code")),
    # 00340 is old Yên Sở (now mostly Hoàng Mai) and current Yên Sở.
    "code alone in both schemes: the current one": (
        None, "00340", AFTER, ("00340", None, AMBIGUOUS, "code"),
    ),
    "both schemes fit an old-style address: the old one": (
        "Phường Yên Sở, Quận Hoàng Mai, Hà Nội", "00340", AFTER,
        ("00331", "00340", AMBIGUOUS, "both"),
    ),
    "ward name of several districts": (
        "Phường Quang Trung, Hà Nội", None, AFTER, (None, None, AMBIGUOUS, None),
    ),
    "ward name of several districts, settled by code": (
        "Phường Quang Trung, Hà Nội", "00214", AFTER, ("00235", "00214", None, "both"),
    ),
    "province only": ("Hà Nội", None, AFTER, (None, None, UNKNOWN, None)),
    "empty address": ("", None, BEFORE, (None, None, UNKNOWN, None)),
    "no address, no date": (None, None, None, (None, None, UNKNOWN, None)),
}  # fmt: skip


@pytest.mark.parametrize(("text", "code", "extract_date", "expected"), CASES.values(), ids=CASES)
def test_standardize_addresses(text, code, extract_date, expected):
    row = one(text, code, extract_date)
    outcome = (row["ward_code"], row["old_ward_code"], row["address_issue"], row["ward_evidence"])
    assert outcome == expected


def test_names_and_street_come_with_the_codes():
    row = one("Số 5 phố Xã Đàn, Phường Nam Đồng, Quận Đống Đa, Hà Nội", "00208", BEFORE)
    assert row == {
        "street": "Số 5 phố Xã Đàn",
        "ward_code": "00226",
        "ward_name": "Phường Văn Miếu - Quốc Tử Giám",
        "province_code": "01",
        "province_name": "Thành phố Hà Nội",
        "old_ward_code": "00208",
        "old_ward_name": "Phường Nam Đồng",
        "old_district_name": "Quận Đống Đa",
        "address_issue": None,
        "ward_evidence": "both",
    }


def test_a_named_district_stays_when_no_ward_is_found():
    row = one("Số 7, Quận Hoàn Kiếm, Hà Nội", None, BEFORE)
    assert (row["street"], row["ward_code"], row["old_district_name"], row["province_code"]) == (
        "Số 7", None, "Quận Hoàn Kiếm", "01"
    )  # fmt: skip
    assert row["address_issue"] == UNKNOWN


def test_rows_keep_their_order_and_repeats_agree():
    rows = [(OLD_PHUC_XA, "00001", BEFORE), ("", None, AFTER), (OLD_PHUC_XA, None, AFTER)] * 40
    out = standardized(rows)
    assert [r["ward_evidence"] for r in out[:3]] == ["both", None, "text"]
    assert out == out[:3] * 40


def test_ward_codes_may_be_absent_and_typed_as_numbers():
    addresses = pl.Series([OLD_PHUC_XA, OLD_PHUC_XA])
    dates = pl.Series([BEFORE, BEFORE])
    without = standardize_addresses(addresses, None, dates)
    assert without["ward_evidence"].to_list() == ["text", "text"]
    numbers = standardize_addresses(addresses, pl.Series([1, None]), dates)
    assert numbers["ward_evidence"].to_list() == ["both", "text"]


def test_no_rows():
    out = standardize_addresses(pl.Series([], dtype=pl.String), None, pl.Series([], dtype=pl.Date))
    assert out.columns == list(OUTPUT_COLUMNS)
    assert out.height == 0


def test_lengths_must_agree_and_the_message_holds_no_address():
    with pytest.raises(ValueError) as error:
        standardize_addresses(pl.Series([OLD_PHUC_XA]), None, pl.Series([BEFORE, AFTER]))
    assert "Phúc" not in str(error.value)


def test_never_goes_online(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    address.parse_admin_part.cache_clear()
    # A street with a divided ward is what makes vietnamadminunits call its geocoder.
    rows = [
        ("Số 12, phố Cống Vị, Phường Cống Vị, Quận Ba Đình, Hà Nội", None, BEFORE),
        ("Số 5 ngõ 2 P. Láng Hạ Q. Đống Đa TP Hà Nội", None, BEFORE),
    ]
    assert [r["ward_code"] for r in standardized(rows)] == ["00008", "00199"]


CODES = st.one_of(st.none(), st.text(max_size=7), st.from_regex(r"\d{1,5}", fullmatch=True))
DATES = st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2026, 12, 31)))
UNIT_WORDS = st.sampled_from(["Phường", "Xã", "Quận", "P.", "TP", "Hà Nội", "phố", "Thị xã", ","])
TEXTS = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.lists(st.one_of(UNIT_WORDS, st.text(max_size=8)), max_size=10).map(" ".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(TEXTS, CODES, DATES), min_size=1, max_size=8))
def test_any_input_gives_one_row_per_row(rows):
    addresses, codes, dates = zip(*rows, strict=True)
    out = standardize_addresses(
        pl.Series(addresses, dtype=pl.String),
        pl.Series(codes, dtype=pl.String),
        pl.Series(dates, dtype=pl.Date),
    )
    assert out.columns == list(OUTPUT_COLUMNS)
    assert out.height == len(rows)
    issues = set(out["address_issue"].drop_nulls())
    assert issues <= {UNKNOWN, CODE_UNKNOWN, CODE_CONFLICT, AMBIGUOUS}


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_split_keeps_every_word(text):
    street, admin = split_address(text)
    assert _letters(street) + _letters(admin) == _letters(text)


def _letters(text: str | None) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFC", text or "") if ch.isalnum())


def test_chunks_split_side_by_side_as_one(monkeypatch):
    rows = [(f"Số {i}, ngõ 4, P. Láng Hạ, Q. Đống Đa, HN", None, BEFORE) for i in range(9)]
    whole = standardized(rows)
    monkeypatch.setattr(split, "_MIN_CHUNK", 2)
    assert standardized(rows) == whole
    assert whole[8]["street"] == "Số 8, ngõ 4"
