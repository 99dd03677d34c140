"""Ingest: every format, encoding and header variant the contract admits, and clear rejections."""

import codecs
import hashlib
import unicodedata
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from dancu.contract import BHXH, DAN_CU, KHAI_TU
from dancu.ingest import (
    FILE_ERROR,
    FileRejected,
    detect_separator,
    extract_date_from_name,
    files_frame,
    read_extract,
    read_source,
    read_table,
)
from dancu.legacy_text import to_cp1258_form
from dancu.text import strip_diacritics

BHXH_ROWS = [
    [
        "0123456789",
        "Nguyễn Thị Thu Hà",
        "01/02/1990",
        "Nữ",
        "001190012345",
        "Phố Huế",
        "0912345678",
    ],
    ["0123456790", "Trần Văn Đức", "1975", "Nam", "", "Ngõ 5 Hàng Bài", "+84912000111"],
]
BHXH_LABELS = [c.label for c in BHXH.columns]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


def encode_text(text: str, encoding: str) -> bytes:
    if encoding == "cp1258":
        return to_cp1258_form(text).encode("cp1258")
    return text.encode(encoding)


# Cell bytes: Vietnamese text, ASCII, quotes and separators, and bytes that are no UTF-8.
CELL_BYTES = st.lists(
    st.sampled_from(
        ["Nguyễn Thị Hồng".encode(), b"abc", b'"', b",", b"\xff", b"\xc3", b"\xe1\xba",
         b"\xed\xa0\x80", b"\xf0\x9f\x98", b"\x80", b"\xc0\xaf"]
    ),
    max_size=6,
).map(b"".join)  # fmt: skip


def decoded_by_python(data: bytes) -> pl.DataFrame | str:
    """The CSV read the slow way: decoded by Python (undecodable bytes replaced), then parsed."""
    text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
    try:
        return pl.read_csv(text.encode("utf-8"), infer_schema=False)
    except pl.exceptions.PolarsError:
        return "rejected"


@given(st.lists(CELL_BYTES, min_size=3, max_size=3), st.booleans())
def test_utf8_csv_reads_as_python_decodes_it(cells, bom):
    data = (codecs.BOM_UTF8 if bom else b"") + b"a,b,c\n" + b",".join(cells) + b"\n"
    try:
        frame, encoding, _ = read_table(data, ".csv")
    except FileRejected:
        frame, encoding = "rejected", "utf-8"
    if encoding.startswith("utf-8"):
        expected = decoded_by_python(data)
        assert frame == expected if isinstance(expected, str) else frame.equals(expected)


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("utf-16", ","), ("utf-16", ";"), ("cp1258", ";")],
)
def test_csv_encodings_and_separators_read_the_same_text(landing, encoding, sep):
    path = landing / "bhxh" / "bhxh_20250915.csv"
    path.parent.mkdir(parents=True)
    lines = [sep.join(BHXH_LABELS)] + [sep.join(r) for r in BHXH_ROWS]
    path.write_bytes(encode_text("\r\n".join(lines), encoding))

    frame, report = read_extract(path, landing, BHXH)

    assert report.error is None
    assert (report.encoding, report.separator) == (encoding, sep)
    assert frame["source_record_id"].to_list() == ["0123456789", "0123456790"]
    assert frame["row_number"].to_list() == [1, 2]
    assert frame["extract_date"].to_list() == [date(2025, 9, 15)] * 2
    assert frame["file_name"].to_list() == ["bhxh/bhxh_20250915.csv"] * 2
    # Windows-1258 keeps tone marks as combining characters; the letters are the same after NFC.
    names = [unicodedata.normalize("NFC", n) for n in frame["full_name"].to_list()]
    assert names == ["Nguyễn Thị Thu Hà", "Trần Văn Đức"]


@pytest.mark.parametrize(
    "header_variant",
    [
        lambda label: label.upper(),
        lambda label: label.lower(),
        lambda label: "  " + label.replace(" ", "  ") + " ",
        strip_diacritics,
        lambda label: label.replace(" ", "_"),
    ],
    ids=["upper", "lower", "spacing", "no-diacritics", "underscores"],
)
def test_header_labels_match_tolerantly(landing, header_variant):
    header = [header_variant(label) for label in BHXH_LABELS]
    path = write_csv(landing / "bhxh" / "bhxh_20250915.csv", header, BHXH_ROWS)

    frame, report = read_extract(path, landing, BHXH)

    assert report.error is None
    assert frame["full_name"].to_list() == ["Nguyễn Thị Thu Hà", "Trần Văn Đức"]


def test_extra_columns_are_kept_as_extras(landing):
    header = [*BHXH_LABELS, "Ghi chú"]
    rows = [[*r, "đã xác minh"] for r in BHXH_ROWS]
    path = write_csv(landing / "bhxh" / "bhxh_20250915.csv", header, rows)

    frame, _ = read_extract(path, landing, BHXH)

    assert frame["extra:Ghi chú"].to_list() == ["đã xác minh", "đã xác minh"]


def test_xlsx_keeps_numbers_and_serials_as_text(landing):
    path = landing / "dan_cu" / "dan_cu_00001_20250915.xlsx"
    path.parent.mkdir(parents=True)
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, [c.label for c in DAN_CU.columns])
    sheet.write_row(1, 0, ["HS0001", 1088012345, "", "Nguyễn Văn An", 32874])
    sheet.write_row(2, 0, ["HS0002", "001190000077", "", "Lê Thị Hoa", "00/00/1940"])
    workbook.close()

    frame, report = read_extract(path, landing, DAN_CU)

    assert report.error is None
    assert frame["national_id"].to_list() == ["1088012345", "001190000077"]
    assert frame["birth_date"].to_list() == ["32874", "00/00/1940"]
    assert frame["row_number"].to_list() == [1, 2]


def test_parquet_is_read_as_text(landing):
    path = landing / "bhxh" / "bhxh_20251001.parquet"
    path.parent.mkdir(parents=True)
    delivered = pl.DataFrame(BHXH_ROWS, schema=BHXH_LABELS, orient="row")
    # Parquet keeps real types: the phone arrives as a number.
    phone = pl.col("Số điện thoại").str.replace(r"\+", "").cast(pl.Int64)
    delivered.with_columns(phone).write_parquet(path)

    frame, report = read_extract(path, landing, BHXH)

    assert report.error is None
    assert frame["phone"].to_list() == ["912345678", "84912000111"]
    assert frame.schema["phone"] == pl.String


def rejection_of(path: Path, landing: Path, source=BHXH) -> str:
    frame, report = read_extract(path, landing, source)
    assert frame.height == 1
    assert frame["row_number"].to_list() == [None]
    assert frame[FILE_ERROR][0] == report.error
    return report.error


def test_missing_required_column_rejects_the_file_and_names_the_column(landing):
    header = [label for label in BHXH_LABELS if label != "Mã số BHXH"]
    path = write_csv(landing / "bhxh" / "bhxh_20250915.csv", header, [r[1:] for r in BHXH_ROWS])
    assert "'Mã số BHXH'" in rejection_of(path, landing)


def test_empty_file_is_rejected(landing):
    path = landing / "bhxh" / "bhxh_20250915.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    assert "empty" in rejection_of(path, landing)


def test_header_only_file_gives_no_rows_and_no_rejection(landing):
    path = write_csv(landing / "bhxh" / "bhxh_20250915.csv", BHXH_LABELS, [])
    frame, report = read_extract(path, landing, BHXH)
    assert report.error is None
    assert frame.height == 0


def test_xlsx_content_in_a_csv_file_is_rejected(landing):
    path = landing / "khai_tu" / "khai_tu_20250915.csv"
    path.parent.mkdir(parents=True)
    workbook = xlsxwriter.Workbook(path)
    workbook.add_worksheet().write_row(0, 0, [c.label for c in KHAI_TU.columns])
    workbook.close()
    assert "not CSV" in rejection_of(path, landing, KHAI_TU)


def test_text_in_an_xlsx_file_is_rejected(landing):
    path = write_csv(landing / "dan_cu" / "dan_cu_20250915.xlsx", ["Mã hồ sơ"], [["HS1"]])
    assert "not an XLSX" in rejection_of(path, landing, DAN_CU)


def test_file_without_a_date_in_its_name_is_rejected(landing):
    path = write_csv(landing / "bhxh" / "bhxh_thang9.csv", BHXH_LABELS, BHXH_ROWS)
    assert "no extract date" in rejection_of(path, landing)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dan_cu_00001_20250915.csv", date(2025, 9, 15)),
        ("bhxh_20250915_v2.parquet", date(2025, 9, 15)),
        ("y_te_20240101_20250301.xlsx", date(2025, 3, 1)),
        ("bhxh_2025091.csv", None),
        ("bhxh_20251340.csv", None),
        ("bhxh_120250915.csv", None),
    ],
)
def test_extract_date_is_the_last_eight_digit_group(name, expected):
    assert extract_date_from_name(name) == expected


@pytest.mark.parametrize(
    ("line", "expected"), [("a,b,c", ","), ("a;b;c", ";"), ("Họ, chữ đệm và tên;Mã hồ sơ;x", ";")]
)
def test_separator_detection(line, expected):
    assert detect_separator(line) == expected


def test_one_bad_file_does_not_stop_the_others_and_latest_extract_wins(landing):
    write_csv(landing / "bhxh" / "bhxh_20250801.csv", BHXH_LABELS, BHXH_ROWS)
    updated = [[*BHXH_ROWS[0][:-1], "0987654321"]]  # the same person, a new phone
    write_csv(landing / "bhxh" / "bhxh_20250915.csv", BHXH_LABELS, updated)
    write_csv(landing / "bhxh" / "bhxh_undated.csv", BHXH_LABELS, BHXH_ROWS)

    frame, reports = read_source(landing, BHXH)

    assert [r.error is None for r in reports] == [True, True, False]
    loaded = frame.filter(pl.col(FILE_ERROR).is_null())
    assert loaded.height == 3
    latest = loaded.filter("is_latest").sort("source_record_id")
    assert latest.select("source_record_id", "file_name", "phone").rows() == [
        ("0123456789", "bhxh/bhxh_20250915.csv", "0987654321"),
        ("0123456790", "bhxh/bhxh_20250801.csv", "+84912000111"),
    ]
    assert frame.filter(pl.col(FILE_ERROR).is_not_null())["file_name"].to_list() == [
        "bhxh/bhxh_undated.csv"
    ]


def test_missing_source_folder_gives_an_empty_frame_with_the_contract_columns(landing):
    frame, reports = read_source(landing, BHXH)
    assert frame.height == 0
    assert reports == []
    assert set(BHXH.column_names) <= set(frame.columns)


def test_every_delivered_file_is_listed_with_its_outcome(landing):
    write_csv(landing / "bhxh" / "bhxh_20250801.csv", BHXH_LABELS, BHXH_ROWS)
    write_csv(landing / "bhxh" / "bhxh_20250901.csv", BHXH_LABELS, [])
    write_csv(landing / "bhxh" / "bhxh_20250915.csv", BHXH_LABELS, BHXH_ROWS[:1])
    write_csv(landing / "bhxh" / "bhxh_undated.csv", BHXH_LABELS, BHXH_ROWS)

    frame, reports = read_source(landing, BHXH)
    files = files_frame(reports, frame).sort("file_name")

    assert files.select("file_name", "rows", "rows_latest").rows() == [
        ("bhxh/bhxh_20250801.csv", 2, 1),
        ("bhxh/bhxh_20250901.csv", 0, 0),  # header only: delivered, and nothing in it
        ("bhxh/bhxh_20250915.csv", 1, 1),
        ("bhxh/bhxh_undated.csv", 0, 0),
    ]
    assert files["error"].is_null().to_list() == [True, True, True, False]


def test_each_file_is_listed_with_the_digest_of_what_was_read(landing):
    path = write_csv(landing / "bhxh" / "bhxh_20250801.csv", BHXH_LABELS, BHXH_ROWS)
    write_csv(landing / "bhxh" / "bhxh_undated.csv", BHXH_LABELS, BHXH_ROWS)

    frame, reports = read_source(landing, BHXH)

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert files_frame(reports, frame)["sha256"].to_list() == [digest, digest]
