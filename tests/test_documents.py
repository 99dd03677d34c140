"""Identity documents: the type in every hand, numbers normalised by type, the issuing country,
and passport numbers of the shapes their countries issue."""

import polars as pl
import pytest

from dancu.documents import (
    DOCUMENT_TYPES,
    document_number,
    document_type,
    id_card_type,
    issuing_country,
    passport_malformed,
)
from dancu.text import strip_diacritics


def column(expr_fn, *columns: list) -> list:
    frame = pl.DataFrame(
        {f"c{i}": values for i, values in enumerate(columns)},
        schema={f"c{i}": pl.String for i in range(len(columns))},
    )
    args = [pl.col(f"c{i}") for i in range(len(columns))]
    return frame.select(expr_fn(*args).alias("out"))["out"].to_list()


def _forms(spelling: str) -> list[str]:
    bare = strip_diacritics(spelling)
    return [spelling, spelling.upper(), spelling.lower(), bare, bare.upper(), bare.lower()]


TYPE_FORMS = [
    (form, kind)
    for kind, spellings in DOCUMENT_TYPES.items()
    for spelling in spellings
    for form in _forms(spelling)
]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("CCCD", "national_id"),
        ("cccd", "national_id"),
        ("Căn cước công dân", "national_id"),
        ("CMND", "cmnd"),
        ("Cmnd", "cmnd"),
        ("CMTND", "cmnd"),
        ("Hộ chiếu", "passport"),
        ("HỘ CHIẾU", "passport"),
        ("ho chieu", "passport"),
        ("HC", "passport"),
        ("Passport", "passport"),
        ("Giấy chứng nhận căn cước", "identity_certificate"),
        ("GIAY CHUNG NHAN CAN CUOC", "identity_certificate"),
        ("  Hộ   chiếu ", "passport"),
        ("Hộ-chiếu", "passport"),
    ],
)
def test_document_type_in_any_case_and_diacritics(written, expected):
    assert column(document_type, [written]) == [expected]


def test_every_spelling_of_the_table_in_every_form():
    got = column(document_type, [form for form, _ in TYPE_FORMS])
    assert [(f, g) for (f, kind), g in zip(TYPE_FORMS, got, strict=True) if g != kind] == []


@pytest.mark.parametrize("written", ["Giấy phép lái xe", "Thẻ sinh viên", "x", "", None])
def test_a_type_that_names_no_document_is_null(written):
    assert column(document_type, [written]) == [None]


@pytest.mark.parametrize(
    ("kind", "number", "expected"),
    [
        ("national_id", "001088012345", "001088012345"),
        ("national_id", "001 088 012 345", "001088012345"),
        ("national_id", "001.088.012.345", "001088012345"),
        ("national_id", "1088012345", "001088012345"),  # Excel dropped the zeros
        ("national_id", "12345", None),
        ("national_id", "00108801234X", None),
        ("cmnd", "012345678", "012345678"),
        ("cmnd", "12345678", "012345678"),
        ("cmnd", "0123456", None),
        ("passport", "b 123 4567", "B1234567"),
        ("passport", "m12345678", "M12345678"),
        ("passport", "EA-1234567", "EA1234567"),
        ("passport", "AB/12345", None),
        ("identity_certificate", "gc 001234", "GC001234"),
        (None, "ab 12", "AB12"),
        ("passport", None, None),
    ],
)
def test_document_number_normalised_by_type(kind, number, expected):
    assert column(document_number, [kind], [number]) == [expected]


@pytest.mark.parametrize(
    ("kind", "number", "expected"),
    [
        ("national_id", "001088012345", "national_id"),
        ("national_id", "012345678", "cmnd"),  # the old card, named as the new one
        ("cmnd", "001088012345", "national_id"),  # "chứng minh thư" for a CCCD
        ("cmnd", "012345678", "cmnd"),
        ("cmnd", "12345", "cmnd"),  # fits neither: the type as written
        ("passport", "012345678", "passport"),
        ("identity_certificate", "001088012345", "identity_certificate"),
        (None, "001088012345", None),
    ],
)
def test_id_card_type_settled_by_the_number(kind, number, expected):
    assert column(id_card_type, [kind], [number]) == [expected]


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("B1234567", "VNM"),
        ("C7654321", "VNM"),
        ("P01234567", "VNM"),
        ("b 123 4567", "VNM"),
        ("M12345678", "KOR"),
        ("S12345678", "KOR"),
        ("R12345678", "KOR"),
        ("M123A4567", "KOR"),
        ("123456789", "USA"),
        ("A12345678", "USA"),
        ("E12345678", "CHN"),
        ("G12345678", "CHN"),
        ("EA1234567", "CHN"),
        ("TK1234567", "JPN"),
        ("12AB3456", "FRA"),
        ("300123456", "TWN"),
        ("C01X00T47", "DEU"),
        ("123456", "THA"),
        ("AB123456", None),
    ],
)
def test_passport_numbers_of_their_countrys_shape(number, country):
    assert column(passport_malformed, [number], [country]) == [False]


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("B123456", "VNM"),  # a digit short
        ("12345678", "VNM"),  # no letter
        ("BC123456", "VNM"),
        ("A12345678", "KOR"),  # no Korean passport type begins with A
        ("M1234567", "KOR"),
        ("12345678", "USA"),
        ("AB1234567", "USA"),
        ("A12345678", "CHN"),
        ("E1234567", "CHN"),
        ("T1234567", "JPN"),
        ("TK123456", "JPN"),
        ("12345", "FRA"),  # too short for any country
        ("1234567890", None),  # too long
        ("ABCDEFGH", "GBR"),  # no digit
        ("AB/12345", "FRA"),  # a sign no passport number holds
        ("Số 123", None),
    ],
)
def test_passport_numbers_of_no_shape_are_malformed(number, country):
    assert column(passport_malformed, [number], [country]) == [True]


@pytest.mark.parametrize("number", ["", "  ", None])
def test_a_missing_passport_number_is_not_malformed(number):
    assert column(passport_malformed, [number], ["VNM"]) == [False]


@pytest.mark.parametrize(
    ("kind", "place", "expected"),
    [
        ("passport", "Hàn Quốc", "KOR"),
        ("passport", "HOA KY", "USA"),
        ("passport", "Đài Loan (Trung Quốc)", "TWN"),
        ("passport", "JPN", "JPN"),
        ("passport", "Cục Quản lý xuất nhập cảnh", "VNM"),
        ("passport", "Cuc QLXNC", "VNM"),
        ("passport", "Đại sứ quán Việt Nam tại Pháp", "VNM"),
        ("passport", "Ministry of Foreign Affairs", None),
        ("passport", None, None),
        ("national_id", "Cục Cảnh sát QLHC về TTXH", "VNM"),
        ("cmnd", "CA Hà Nội", "VNM"),
        ("identity_certificate", None, "VNM"),
        (None, "Pháp", None),
    ],
)
def test_issuing_country(kind, place, expected):
    assert column(issuing_country, [kind], [place]) == [expected]


def test_a_whole_column_of_requests():
    frame = pl.DataFrame(
        {
            "type": ["CCCD", "Hộ chiếu", "HO CHIEU", "cmnd", "Giấy chứng nhận căn cước"],
            "number": ["001 088 012345", "m 123 45678", "B12", "001088012345", "gc-01"],
            "place": ["Cục CS QLHC về TTXH", "Hàn Quốc", "Cục Quản lý xuất nhập cảnh", None, None],
        }
    )
    kind = id_card_type(document_type(pl.col("type")), pl.col("number"))
    country = issuing_country(kind, pl.col("place"))
    out = frame.lazy().select(
        kind.alias("document_type"),
        document_number(kind, pl.col("number")).alias("document_number"),
        country.alias("issuing_country"),
        (kind == "passport").and_(passport_malformed(pl.col("number"), country)).alias("bad"),
    )
    assert out.collect().rows() == [
        ("national_id", "001088012345", "VNM", False),
        ("passport", "M12345678", "KOR", False),
        ("passport", "B12", "VNM", True),
        ("national_id", "001088012345", "VNM", False),
        ("identity_certificate", "GC01", "VNM", False),
    ]
