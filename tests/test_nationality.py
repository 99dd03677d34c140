"""Nationalities to ISO alpha-3: every spelling the contract lists, the name tables in every
case and diacritics form, ICAO codes, two nationalities, and values that name no country."""

import polars as pl
import pycountry
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dancu.nationality import ICAO_CODES, NAMES, NAMES_WITH_COMMA, nationalities
from dancu.nationality import unknown_nationality as unknown
from dancu.text import strip_diacritics


def read(values: list[str | None]) -> list[tuple[list[str], bool]]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    out = frame.select(nationalities(pl.col("v")).alias("codes"), unknown(pl.col("v")).alias("u"))
    return list(zip(out["codes"].to_list(), out["u"].to_list(), strict=True))


def codes_of(value: str | None) -> list[str]:
    return read([value])[0][0]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # The contract's own examples.
        ("Hàn Quốc", ["KOR"]),
        ("Hoa Kỳ", ["USA"]),
        ("Mỹ", ["USA"]),
        ("Đài Loan (Trung Quốc)", ["TWN"]),
        ("KOR", ["KOR"]),
        ("KR", ["KOR"]),
        ("D", ["DEU"]),
        ("Hàn Quốc, Việt Nam", ["KOR", "VNM"]),
        ("Hàn Quốc; Việt Nam", ["KOR", "VNM"]),
        # The same in other hands.
        ("HÀN QUỐC", ["KOR"]),
        ("han quoc", ["KOR"]),
        ("Han Quoc", ["KOR"]),
        ("HOA KY", ["USA"]),
        ("hoa kì", ["USA"]),
        ("MỸ", ["USA"]),
        ("my", ["USA"]),
        ("Dai Loan (Trung Quoc)", ["TWN"]),
        ("ĐÀI LOAN (TRUNG QUỐC)", ["TWN"]),
        ("Đài Loan, Trung Quốc", ["TWN"]),
        ("Trung Quốc (Đài Loan)", ["TWN"]),
        ("Taiwan, Province of China", ["TWN"]),
        ("Taiwan", ["TWN"]),
        ("TWN", ["TWN"]),
        ("Trung Quốc", ["CHN"]),
        ("kor", ["KOR"]),
        ("Korea, Republic of", ["KOR"]),
        ("South Korea", ["KOR"]),
        ("Korean", ["KOR"]),
        ("Korea, Democratic People's Republic of", ["PRK"]),
        ("Triều Tiên", ["PRK"]),
        ("Nhật Bản", ["JPN"]),
        ("Pháp", ["FRA"]),
        ("Đức", ["DEU"]),
        ("Anh", ["GBR"]),
        ("Úc", ["AUS"]),
        ("Nga", ["RUS"]),
        ("Lào", ["LAO"]),
        ("Campuchia", ["KHM"]),
        ("Cam-pu-chia", ["KHM"]),
        ("Thái Lan", ["THA"]),
        ("Hồng Kông (Trung Quốc)", ["HKG"]),
        ("Việt Nam", ["VNM"]),
        ("Viet Nam", ["VNM"]),
        ("VN", ["VNM"]),
        ("Vietnam", ["VNM"]),
        ("United States of America", ["USA"]),
        ("U.S.A.", ["USA"]),
        ("  Hàn   Quốc  ", ["KOR"]),
        # Two nationalities in any spacing; a repeat counts once; order as written.
        ("Việt Nam ,Nhật Bản", ["VNM", "JPN"]),
        ("Pháp;Việt Nam", ["FRA", "VNM"]),
        ("KOR; VNM", ["KOR", "VNM"]),
        ("Mỹ; Hoa Kỳ", ["USA"]),
        ("Korea, Republic of; Viet Nam", ["KOR", "VNM"]),
        ("Đài Loan (Trung Quốc), Việt Nam", ["TWN", "VNM"]),
    ],
)
def test_written_nationality_gives_its_codes(written, expected):
    assert read([written]) == [(expected, False)]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("D", "DEU"),
        ("GBD", "GBR"),
        ("GBN", "GBR"),
        ("GBO", "GBR"),
        ("GBP", "GBR"),
        ("GBS", "GBR"),
        ("RKS", "XKX"),
        ("XXA", "XXA"),
        ("XXB", "XXB"),
        ("XXC", "XXC"),
        ("XXX", "XXX"),
        ("DEU", "DEU"),
        ("GBR", "GBR"),
        ("UK", "GBR"),
    ],
)
def test_icao_codes_that_differ_from_iso(code, expected):
    assert read([code]) == [([expected], False)]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        # Capital ASCII codes read as codes; names (and anything not code-shaped) as names.
        ("MY", "MYS"),
        ("Mỹ", "USA"),
        ("My", "USA"),
        ("NGA", "NGA"),
        ("Nga", "RUS"),
        ("AO", "AGO"),
        ("Áo", "AUT"),
        ("BI", "BDI"),
        ("Bỉ", "BEL"),
        ("BỈ", "BEL"),
    ],
)
def test_case_settles_a_code_against_a_vietnamese_name(written, expected):
    assert codes_of(written) == [expected]


@pytest.mark.parametrize(
    "written", ["abc", "UNO", "UNA", "EUE", "XOM", "Sao Hỏa", "123", "Hàn Quốc, Sao Hỏa", "ZZ"]
)
def test_a_value_that_names_no_country_is_unknown(written):
    (codes, is_unknown) = read([written])[0]
    assert is_unknown
    assert codes == (["KOR"] if written.startswith("Hàn") else [])


@pytest.mark.parametrize("written", ["", "   ", None, ";", " , "])
def test_an_empty_value_gives_no_code_and_is_not_unknown(written):
    assert read([written]) == [([], False)]


@pytest.mark.parametrize(
    ("written", "expected"),
    [("Không quốc tịch", "XXA"), ("KHONG QUOC TICH", "XXA"), ("Chưa xác định", "XXX")],
)
def test_statelessness_is_a_status_not_an_unknown_value(written, expected):
    assert read([written]) == [([expected], False)]


def _code_shaped(text: str) -> bool:
    return text.isascii() and text.isalpha() and text.isupper() and len(text) <= 3


def _forms(spelling: str) -> list[str]:
    bare = strip_diacritics(spelling)
    forms = [spelling, spelling.lower(), bare, bare.lower(), spelling.upper(), bare.upper()]
    # Capitals without diacritics of up to three letters are a code (see the module docstring).
    return [f for f in forms if f == spelling or not _code_shaped(f)]


TABLE = [
    (form, code)
    for table in (NAMES, NAMES_WITH_COMMA)
    for code, spellings in table.items()
    for spelling in spellings
    for form in _forms(spelling)
]


def test_every_spelling_of_the_tables_in_every_case_and_diacritics_form():
    got = read([form for form, _ in TABLE])
    wrong = [
        (form, got_codes)
        for (form, code), (got_codes, _) in zip(TABLE, got, strict=True)
        if got_codes != [code]
    ]
    assert wrong == []


def test_every_iso_code_and_english_name_reads_as_its_country():
    countries = list(pycountry.countries)
    written = [c.alpha_2 for c in countries] + [c.alpha_3 for c in countries]
    written += [c.name for c in countries]
    expected = [c.alpha_3 for c in countries] * 3
    assert [codes for codes, _ in read(written)] == [[code] for code in expected]


def test_icao_table_maps_only_to_iso_or_user_assigned_codes():
    iso = {c.alpha_3 for c in pycountry.countries}
    assert {code for code in ICAO_CODES.values() if code not in iso} <= {
        "XKX", "XXA", "XXB", "XXC", "XXX",
    }  # fmt: skip


def test_works_lazily_and_once_per_distinct_value_on_repeated_values():
    frame = pl.LazyFrame({"v": ["Hàn Quốc", None, "Mỹ; Việt Nam"] * 1000})
    out = frame.select(nationalities(pl.col("v"))).collect()["v"].to_list()
    assert out[:3] == [["KOR"], [], ["USA", "VNM"]] and len(out) == 3000


SPELLINGS = [(s, code) for code, spellings in NAMES.items() for s in spellings]


@given(
    first=st.sampled_from(SPELLINGS),
    second=st.sampled_from(SPELLINGS),
    separator=st.sampled_from([",", ";", " , ", "; ", " ;"]),
)
def test_two_nationalities_give_both_codes_in_order(first, second, separator):
    # "Đài Loan, Trung Quốc" is one nationality, by design, and so are its kin.
    chinese_regions = {"TWN", "HKG", "MAC"}
    assume(
        not (
            "," in separator
            and first[1] in chinese_regions
            and second[1] in {"CHN"} | chinese_regions
        )
    )
    assert read([first[0] + separator + second[0]]) == [
        (list(dict.fromkeys([first[1], second[1]])), False)
    ]
