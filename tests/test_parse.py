"""Parsers on real-looking Vietnamese values, and properties they keep on any text."""

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dancu import parse


def apply(expr_fn, values, *args):
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(expr_fn(pl.col("v"), *args).alias("out"))["out"].to_list()


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
        ("32874", False, None, None),
        ("1990-01-01 00:00:00", True, date(1990, 1, 1), 1990),
        ("  01/02/1990 ", False, date(1990, 2, 1), 1990),
        ("", False, None, None),
        (None, False, None, None),
    ],
)
def test_dates_in_every_written_form(text, in_excel, expected_date, expected_year):
    assert apply(parse.parse_date, [text], in_excel) == [expected_date]
    assert apply(parse.parse_year, [text], in_excel) == [expected_year]


@pytest.mark.parametrize(
    ("text", "impossible"),
    [
        ("31/02/1990", True),
        ("29/02/2001", True),
        ("29/02/2000", False),
        ("1990-13-01", True),
        ("abc", True),
        ("0999", True),
        ("00/00/1940", False),
        ("1940", False),
        ("", False),
        (None, False),
    ],
)
def test_impossible_dates(text, impossible):
    assert apply(parse.date_is_impossible, [text]) == [impossible]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("001088012345", "001088012345"),
        ("001 088 012 345", "001088012345"),
        ("001.088.012.345", "001088012345"),
        ("1088012345", "001088012345"),  # Excel dropped the leading zeros
        ("12345", None),
        ("00108801234a", None),
        ("", None),
    ],
)
def test_national_id(text, expected):
    assert apply(parse.national_id, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("001 088.012-345", False), ("00108801234a", True), ("CCCD 001", True), (None, False)],
)
def test_id_characters(text, expected):
    assert apply(parse.has_non_id_characters, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nam", "M"),
        ("NAM", "M"),
        ("Nữ", "F"),
        ("NỮ", "F"),
        ("nu", "F"),
        ("Nu\u031b\u0303", "F"),
        ("M", "M"),
        ("f", "F"),
        ("khác", None),
        ("", None),
    ],
)
def test_sex(text, expected):
    assert apply(parse.sex, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NGUYỄN văn  an", "Nguyễn Văn An"),
        ("  trần thị   thu hà ", "Trần Thị Thu Hà"),
        ("Nguye\u0302\u0303n Va\u0306n", "Nguyễn Văn"),
        ("   ", None),
    ],
)
def test_clean_name(text, expected):
    assert apply(parse.clean_name, [text]) == [expected]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), min_size=1, max_size=20))
def test_parsers_never_raise_and_are_idempotent(values):
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    out = frame.select(
        parse.clean_name(pl.col("v")).alias("name"),
        parse.national_id(pl.col("v")).alias("national_id"),
        parse.parse_date(pl.col("v"), True).alias("date"),
        parse.date_is_impossible(pl.col("v")).alias("impossible"),
        parse.sex(pl.col("v")).alias("sex"),
    )
    again = out.select(
        parse.clean_name(pl.col("name")).alias("name"),
        parse.national_id(pl.col("national_id")).alias("national_id"),
    )
    assert again["national_id"].to_list() == out["national_id"].to_list()
    assert out["impossible"].null_count() == 0
    assert again["name"].to_list() == out["name"].to_list()
