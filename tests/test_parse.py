"""Parsers on real-looking Vietnamese values, and properties they keep on any text."""

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dancu import parse
from dancu.legacy_text import VIETNAMESE_LETTERS
from dancu.text import _decompose_and_fold, fold, repair_text


def apply(expr_fn, values, *args):
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(expr_fn(pl.col("v"), *args).alias("out"))["out"].to_list()


def parsed_date(text, in_excel=False):
    return apply(parse.parse_date, [text], in_excel)[0]


@pytest.mark.parametrize(
    ("text", "in_excel", "expected_date", "expected_year"),
    [
        ("01/02/1990", False, date(1990, 2, 1), 1990),
        ("1/2/1990", False, date(1990, 2, 1), 1990),
        ("1990-02-01", False, date(1990, 2, 1), 1990),
        ("19900201", False, date(1990, 2, 1), 1990),
        ("1940", False, None, 1940),
        ("00/00/1940", False, None, 1940),
        ("0/0/1940", False, None, 1940),
        ("32874", True, date(1990, 1, 1), 1990),
        ("1990-01-01 00:00:00", True, date(1990, 1, 1), 1990),
        ("01/01/1990 00:00:00", False, date(1990, 1, 1), 1990),  # a date-and-time column's
        ("01/01/1990 00:00", False, date(1990, 1, 1), 1990),
        ("1990-01-01T00:00:00", False, date(1990, 1, 1), 1990),
        ("1990/01/02", False, date(1990, 1, 2), 1990),
        ("1990.01.02", False, date(1990, 1, 2), 1990),
        ("  01/02/1990 ", False, date(1990, 2, 1), 1990),
        ("Ngày 1 tháng 2 năm 1990", False, date(1990, 2, 1), 1990),
        ("NGÀY 01 THÁNG 02 NĂM 1990", False, date(1990, 2, 1), 1990),
        ("ngay 1 thang 2 nam 1990", False, date(1990, 2, 1), 1990),
        ("1 tháng 2 năm 1990", False, date(1990, 2, 1), 1990),
        ("", False, None, None),
        (None, False, None, None),
    ],
)
def test_dates_in_every_written_form(text, in_excel, expected_date, expected_year):
    parsed = parsed_date(text, in_excel)
    assert (parsed["date"], parsed["year"]) == (expected_date, expected_year)
    assert parsed["impossible"] is False


def test_excel_serials_are_believed_only_in_xlsx_cells():
    assert parsed_date("32874", in_excel=False)["impossible"] is True


@pytest.mark.parametrize(
    ("text", "impossible"),
    [
        ("31/02/1990", True),
        ("29/02/2001", True),
        ("29/02/2000", False),
        ("1990-13-45", True),
        ("abc", True),
        ("0999", True),
        ("12/31/1990/5", True),
        ("00/00/1940", False),
        ("1940", False),
    ],
)
def test_impossible_dates(text, impossible):
    parsed = parsed_date(text)
    assert parsed["impossible"] is impossible
    if impossible:
        assert (parsed["date"], parsed["year"]) == (None, None)


def settled(text, extract_date, holder_id=None):
    frame = pl.DataFrame(
        {"v": [text], "extract": [extract_date], "id": [holder_id]},
        schema={"v": pl.String, "extract": pl.Date, "id": pl.String},
    )
    parsed = parse.settle_century(parse.parse_date(pl.col("v")), pl.col("extract"), pl.col("id"))
    return frame.select(parsed.alias("out"))["out"][0]


@pytest.mark.parametrize(
    ("text", "extract_date", "holder_id", "expected"),
    [
        ("12/05/88", date(2025, 9, 15), None, date(1988, 5, 12)),
        ("12/05/24", date(2025, 9, 15), None, date(2024, 5, 12)),  # a child, not a centenarian
        ("12/05/25", date(2025, 9, 15), None, date(2025, 5, 12)),
        ("12/10/25", date(2025, 9, 15), None, date(1925, 10, 12)),  # 2025 would be after it
        ("12/05/24", date(2025, 9, 15), "001024012345", date(1924, 5, 12)),  # the id says 1924
        ("12/05/88", date(2025, 9, 15), "001288012345", date(2088, 5, 12)),  # date.future's
        ("12/05/88", date(2025, 9, 15), "001090012345", date(1988, 5, 12)),  # nearest 1990
        ("21/02/26", date(2025, 9, 15), "001220012345", date(2026, 2, 21)),  # nearest 2020
        ("05/04/04", date(2025, 9, 15), "001094012345", date(2004, 4, 5)),  # nearest 1994
        ("Ngày 12 tháng 5 năm 88", date(2025, 9, 15), None, date(1988, 5, 12)),
        ("12/05/1924", date(2025, 9, 15), "001224012345", date(1924, 5, 12)),  # four digits
        ("28/02/00", date(2025, 9, 15), "001000012345", date(1900, 2, 28)),
    ],
)
def test_a_two_digit_year_is_put_in_the_century_of_the_id_or_the_latest_one(
    text, extract_date, holder_id, expected
):
    parsed = settled(text, extract_date, holder_id)
    assert (parsed["date"], parsed["year"]) == (expected, expected.year)
    assert parsed["two_digit_year"] is (len(text.split("/")[-1].split()[-1]) == 2)
    assert parsed["impossible"] is False


def test_a_29_february_of_a_century_without_one_is_impossible():
    assert settled("29/02/00", date(2025, 9, 15))["date"] == date(2000, 2, 29)
    parsed = settled("29/02/00", date(2025, 9, 15), "001000012345")  # 1900 was no leap year
    assert (parsed["date"], parsed["year"], parsed["impossible"]) == (None, None, True)


@pytest.mark.parametrize(
    ("text", "expected", "swapped"),
    [
        ("05/13/2001", date(2001, 5, 13), True),  # no 13th month: only mm/dd is a day
        ("13/05/2001", date(2001, 5, 13), False),
        ("05/06/2001", date(2001, 6, 5), False),  # both readings are days: dd/mm as written
    ],
)
def test_day_month_swap_only_where_unambiguous(text, expected, swapped):
    parsed = parsed_date(text)
    assert (parsed["date"], parsed["day_month_swapped"]) == (expected, swapped)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("001088012345", "001088012345"),
        ("001 088 012 345", "001088012345"),
        ("001.088.012.345", "001088012345"),
        ("1088012345", "001088012345"),  # Excel dropped the leading zeros
        ("'001088012345", "001088012345"),  # Excel's mark of text, left in an export
        ("1088012345.0", "001088012345"),  # a number written out as a float
        ("001.088.012.340", "001088012340"),  # dots that separate, not a float's
        ("79088012345", "079088012345"),
        ("99088012345", None),  # 099 is no province: zeros are not restored
        ("012345678", None),  # a 9-digit CMND is no personal id
        ("12345", None),
        ("00108801234a", None),
        ("0010881٢٣٤٥", None),
        ("", None),
    ],
)
def test_national_id(text, expected):
    assert apply(parse.national_id, [text]) == [expected]


@pytest.mark.parametrize(
    ("national_id", "sex", "birth_year"),
    [
        ("001088012345", "M", 1988),
        ("001188012345", "F", 1988),
        ("001205012345", "M", 2005),
        ("079307012345", "F", 2007),
        ("001895012345", "M", 1895),
    ],
)
def test_national_id_structure(national_id, sex, birth_year):
    assert apply(parse.id_sex, [national_id]) == [sex]
    assert apply(parse.id_birth_year, [national_id]) == [birth_year]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("001 088.012-345", False),
        ("'001088012345", False),
        ("00108801234a", True),
        ("CCCD 001", True),
        ("٠٠١٠٨٨٠١٢٣٤٥", True),  # Arabic-Indic digits: no id of this country's
        (None, False),
    ],
)
def test_id_characters(text, expected):
    assert apply(parse.has_non_id_characters, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "code", "old_id_card"),
    [
        ("4", "00004", None),
        ("4.0", "00004", None),  # a number written out as a float: not the code 40
        ("'00004", "00004", None),
        ("12345678.0", None, "012345678"),
        ("'012345678", None, "012345678"),
    ],
)
def test_codes_and_old_id_cards_lose_what_a_spreadsheet_added(text, code, old_id_card):
    assert apply(lambda t: parse.code_digits(t, 5), [text]) == [code]
    assert apply(parse.cmnd, [text]) == [old_id_card]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0912 345 678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("84-912-345-678", "+84912345678"),
        ("912345678", "+84912345678"),  # Excel dropped the leading zero
        ("'0912345678", "+84912345678"),  # Excel's mark of text, left in an export
        ("912345678.0", "+84912345678"),  # a number written out as a float, not +849123456780
        ("024 3825 1234", "+842438251234"),
        ("12345", None),
        ("84 1234 567 890", "+84834567890"),  # 84 and a 10-digit number (an old VinaPhone one)
        ("84 1934 567 890", "+841934567890"),  # 84 and a 10-digit number, no old mobile one
        ("0168 812 3456", "+84388123456"),  # an eleven-digit mobile number of before 2018
        ("01208123456", "+84708123456"),
        ("+84 199 812 3456", "+84598123456"),
        ("8412345678", "+848412345678"),  # too short for a country code: a number of its own
        ("84012345678", None),  # 84, then no national number
        ("0012345678", None),  # a trunk 0, then no national number
        (None, None),
    ],
)
def test_phone_to_e164(text, expected):
    assert apply(parse.phone, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Nam", "M"), ("NAM", "M"), ("Nữ", "F"), ("NỮ", "F"), ("nu", "F"), ("Nu\u031b\u0303", "F"),
     ("M", "M"), ("f", "F"), ("Nam giới", "M"), ("NỮ GIỚI", "F"), ("khác", None)],
)  # fmt: skip
def test_sex(text, expected):
    assert apply(parse.sex, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NGUYỄN văn  an", "Nguyễn Văn An"),
        ("  trần thị   thu hà ", "Trần Thị Thu Hà"),
        ("Nguye\u0302\u0303n Va\u0306n", "Nguyễn Văn"),
        ("NguyÔn V¨n", "Nguyễn Văn"),  # TCVN3 decoded when the file is TCVN3
        ("Nguyá»…n VÄƒn", "Nguyễn Văn"),  # UTF-8 read as cp1252
        # Tones where the old convention places them, as most names are written.
        ("Nguyễn Thị Thuý", "Nguyễn Thị Thúy"),
        ("LÊ VĂN HOÀ", "Lê Văn Hòa"),
        ("Trần Khoẻ", "Trần Khỏe"),
        ("Phạm Thuỵ Hoàng", "Phạm Thụy Hoàng"),  # "oàng" closes the syllable: as it was
        ("Nguyễn Thị Hòa", "Nguyễn Thị Hòa"),
        ("Lê Quý", "Lê Quý"),  # "qu" is a consonant: the tone is the y's
        ("\u00d0ẶNG VĂN \u00d0ỨC", "Đặng Văn Đức"),  # the eth for Đ
        ("   ", None),
    ],
)
def test_names_are_repaired(text, expected):
    legacy = "tcvn3" if "Ô" in text else None
    assert apply(lambda v: parse.name(repair_text(v, legacy)), [text]) == [expected]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), min_size=1, max_size=20))
def test_parsers_never_raise_and_are_idempotent(values):
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    out = frame.select(
        parse.name(repair_text(pl.col("v"))).alias("name"),
        parse.national_id(pl.col("v")).alias("national_id"),
        parse.phone(pl.col("v")).alias("phone"),
        parse.parse_date(pl.col("v"), True).alias("date"),
        parse.sex(pl.col("v")).alias("sex"),
    )
    again = out.select(
        parse.name(repair_text(pl.col("name"))).alias("name"),
        parse.national_id(pl.col("national_id")).alias("national_id"),
        parse.phone(pl.col("phone")).alias("phone"),
    )
    assert again.to_dict(as_series=False) == out.select(again.columns).to_dict(as_series=False)
    assert out["date"].struct.field("impossible").null_count() == 0


@given(
    st.lists(
        st.text(
            alphabet=st.sampled_from(sorted(VIETNAMESE_LETTERS) + list("AZaz09 ,\u0301\u0323üñøйΆ"))
        )
        | st.text(),
        max_size=20,
    )
)
def test_fold_by_table_is_fold_by_decomposition(values):
    assert apply(fold, values) == _decompose_and_fold(pl.Series(values, dtype=pl.String)).to_list()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Đặng Thị Ánh", "dang thi anh"),
        ("NGUYỄN VĂN ĐỨC", "nguyen van duc"),
        ("Müller", "muller"),
        # The eth and the African D, typed or decoded for Đ.
        ("\u00d0ặng Văn \u00d0ức", "dang van duc"),
        ("\u0189ào \u00f0ức", "dao duc"),
    ],
)
def test_fold(text, key):
    assert apply(fold, [text]) == [key]
