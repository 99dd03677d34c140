"""Ingest: every format, encoding and header variant the contract admits, and clear rejections."""

import codecs
import csv
import errno
import hashlib
import io
import os
import re
import unicodedata
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import assume, given
from hypothesis import strategies as st

from dancu.contract import BHXH, DAN_CU, KHAI_TU, SOURCES
from dancu.ingest import (
    FILE_ERROR,
    HEADER_SEARCH_ROWS,
    NO_SOURCE,
    RAGGED,
    RAGGED_ROWS,
    TRUNCATED,
    ExtractUnreadable,
    FileRejected,
    detect_separator,
    extract_date_from_name,
    extract_files,
    files_frame,
    ingest_cache,
    landing_files,
    outside_layout,
    read_delivered,
    read_extract,
    read_source,
    read_table,
    source_of,
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


def decoded_by_python(data: bytes) -> pl.DataFrame | str | None:
    """The CSV read the slow way: decoded by Python (undecodable bytes replaced), then parsed,
    a quoted cell that the file ends inside closed as ingest closes it; None where a row holds
    more fields than the header (ingest reads those itself: see the ragged rows below)."""
    text = data.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
    closed = text + '"' if text.count('"') % 2 else text
    try:
        return pl.read_csv(closed.encode("utf-8"), infer_schema=False)
    except pl.exceptions.PolarsError as error:
        return None if RAGGED_ROWS in str(error) else "rejected"


@given(st.lists(CELL_BYTES, min_size=3, max_size=3), st.booleans())
def test_utf8_csv_reads_as_python_decodes_it(cells, bom):
    data = (codecs.BOM_UTF8 if bom else b"") + b"a,b,c\n" + b",".join(cells) + b"\n"
    # A quote between the bytes of a broken character ("\xc3\"\x80"): polars decodes a cell
    # after taking its quotes out, Python before, and neither reading is the file's.
    assume(not re.search(rb'[\x80-\xff]"+[\x80-\xbf]', data))
    try:
        frame, encoding, _ = read_table(data, ".csv")
    except FileRejected:
        frame, encoding = "rejected", "utf-8"
    if encoding.startswith("utf-8"):
        expected = decoded_by_python(data)
        assume(expected is not None)
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


def test_a_file_rejected_for_a_missing_column_records_the_rows_it_held(landing):
    """Its rows were delivered: `extract_file.rows` counts them, the quarantine holds one row."""
    header = [label for label in BHXH_LABELS if label != "Mã số BHXH"]
    path = write_csv(landing / "bhxh" / "bhxh_20250915.csv", header, [r[1:] for r in BHXH_ROWS])
    frame, report = read_extract(path, landing, BHXH)
    assert (frame.height, report.rows) == (1, len(BHXH_ROWS))
    rows, reports = read_source(landing, BHXH)
    files = files_frame(reports, rows)
    assert files.select("rows", "rows_latest").row(0) == (len(BHXH_ROWS), 0)


def test_a_workbook_rejected_for_a_missing_column_records_the_rows_it_held(landing):
    path = landing / "bhxh" / "bhxh_20250915.xlsx"
    path.parent.mkdir(parents=True)
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, BHXH_LABELS[1:])
    for row, values in enumerate(BHXH_ROWS, start=1):
        sheet.write_row(row, 0, values[1:])
    workbook.close()
    frame, report = read_extract(path, landing, BHXH)
    assert report.error and (frame.height, report.rows) == (1, len(BHXH_ROWS))


def test_a_file_without_a_date_in_its_name_records_the_rows_it_held(landing):
    path = write_csv(landing / "bhxh" / "bhxh_thang9.csv", BHXH_LABELS, BHXH_ROWS)
    assert read_extract(path, landing, BHXH)[1].rows == len(BHXH_ROWS)


def test_an_unreadable_file_has_no_rows_to_count(landing):
    path = landing / "bhxh" / "bhxh_thang9.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    assert read_extract(path, landing, BHXH)[1].rows == 0


def test_optional_columns_may_be_left_out_and_are_read_where_delivered(landing):
    # Two labels of dan_cu hold commas: the files are separated by semicolons.
    labels = [c.label for c in DAN_CU.columns if not c.optional]
    blanks = [""] * (len(labels) - 2)
    (landing / "dan_cu").mkdir(parents=True)
    (landing / "dan_cu" / "phuong_a_20250915.csv").write_text(
        ";".join(labels) + "\n" + ";".join(["HS1", "001088012345", *blanks]) + "\n"
    )
    (landing / "dan_cu" / "phuong_b_20250915.csv").write_text(
        ";".join([*labels, "Số định danh cá nhân cũ"])
        + "\n"
        + ";".join(["HS2", "001088012346", *blanks, "001188012346"])
        + "\n"
    )
    frame, reports = read_source(landing, DAN_CU)
    assert [r.error for r in reports] == [None, None]
    assert frame["previous_national_id"].to_list() == [None, "001188012346"]


def test_a_required_column_of_a_new_source_is_still_required(landing):
    justice = SOURCES["ly_lich_tu_phap"]
    labels = [c.label for c in justice.columns if c.label != "Án tích"]
    path = write_csv(landing / "ly_lich_tu_phap" / "lltp_20250915.csv", labels, [])
    assert "'Án tích'" in rejection_of(path, landing, justice)


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


@pytest.mark.parametrize("written", ["0123456789 ", " 0123456789", "０１２３４５６７８９"])
def test_a_record_id_written_otherwise_is_the_same_record(landing, written):
    # Standardisation writes it trimmed and in ASCII: compared raw, both rows stayed latest.
    write_csv(landing / "bhxh" / "bhxh_20250801.csv", BHXH_LABELS, BHXH_ROWS)
    updated = [[written, *BHXH_ROWS[0][1:-1], "0987654321"]]
    write_csv(landing / "bhxh" / "bhxh_20250915.csv", BHXH_LABELS, updated)

    frame, _ = read_source(landing, BHXH)

    latest = frame.filter("is_latest").sort("file_name")
    assert latest.select("file_name", "phone").rows() == [
        ("bhxh/bhxh_20250801.csv", "+84912000111"),
        ("bhxh/bhxh_20250915.csv", "0987654321"),
    ]


def test_a_file_dated_after_today_is_rejected_until_its_day(landing, monkeypatch, tmp_path):
    # Its dates would pass as of its own day: deaths in the future published as facts.
    path = write_csv(landing / "bhxh" / "bhxh_20251231.csv", BHXH_LABELS, BHXH_ROWS)
    cache = ingest_cache(tmp_path / "cache", BHXH)
    monkeypatch.setenv("DANCU_AS_OF", "2025-10-31")
    assert rejection_of(path, landing) == (
        "its extract date 2025-12-31 is after today (2025-10-31): a mistyped date in its name,"
        " or a clock set wrong"
    )
    frame, report = read_extract(path, landing, BHXH, cache)
    assert (frame.height, report.error is not None) == (1, True)
    monkeypatch.setenv("DANCU_AS_OF", "2025-12-31")
    frame, report = read_extract(path, landing, BHXH, cache)
    assert (frame.height, report.error) == (2, None)


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
        ("bhxh/bhxh_undated.csv", 2, 0),  # rejected for its name: its rows counted all the same
    ]
    assert files["error"].is_null().to_list() == [True, True, True, False]


def test_each_file_is_listed_with_the_digest_of_what_was_read(landing):
    path = write_csv(landing / "bhxh" / "bhxh_20250801.csv", BHXH_LABELS, BHXH_ROWS)
    write_csv(landing / "bhxh" / "bhxh_undated.csv", BHXH_LABELS, BHXH_ROWS)

    frame, reports = read_source(landing, BHXH)

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert files_frame(reports, frame)["sha256"].to_list() == [digest, digest]


# --- one bad file never stops a source ---------------------------------------------------------


def write_parquet(path: Path, frame: pl.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def bhxh_frame() -> pl.DataFrame:
    return pl.DataFrame(BHXH_ROWS, schema=BHXH_LABELS, orient="row")


def test_a_contract_column_of_lists_rejects_the_file_naming_the_column_and_its_type(landing):
    names = pl.col("Họ và tên").str.split(" ")
    path = write_parquet(
        landing / "bhxh" / "bhxh_20251001.parquet", bhxh_frame().with_columns(names)
    )
    error = rejection_of(path, landing)
    assert "'Họ và tên'" in error and "List(String)" in error


def test_an_extra_column_of_lists_or_structs_is_kept_as_json(landing):
    delivered = bhxh_frame().with_columns(
        pl.Series("Lịch sử", [[2019, 2020], None]),
        pl.Series("Đơn vị", [{"ma": "DV1", "so": 3}, {"ma": None, "so": 4}]),
    )
    path = write_parquet(landing / "bhxh" / "bhxh_20251001.parquet", delivered)

    frame, report = read_extract(path, landing, BHXH)

    assert report.error is None
    assert frame["extra:Lịch sử"].to_list() == ["[2019,2020]", None]
    assert frame["extra:Đơn vị"].to_list() == ['{"ma":"DV1","so":3}', '{"ma":null,"so":4}']


def test_any_unforeseen_error_rejects_only_its_file_and_names_no_value(landing, monkeypatch):
    write_csv(landing / "bhxh" / "bhxh_20250801.csv", BHXH_LABELS, BHXH_ROWS)
    write_csv(landing / "bhxh" / "bhxh_20250901.csv", BHXH_LABELS, BHXH_ROWS[:1])

    def failing_on_the_second_file(data: bytes, suffix: str):
        if b"0123456790" not in data:
            raise ValueError("Nguyễn Thị Thu Hà 001190012345")  # a library quoting a cell
        return read_delivered(data, suffix)

    monkeypatch.setattr("dancu.ingest.read_delivered", failing_on_the_second_file)

    frame, reports = read_source(landing, BHXH)

    assert [r.error for r in reports] == [None, "the file cannot be read: unexpected ValueError"]
    assert frame.filter(pl.col(FILE_ERROR).is_null()).height == 2


def test_a_file_that_cannot_be_opened_is_rejected(landing, monkeypatch):
    locked = write_csv(landing / "bhxh" / "bhxh_20250801.csv", BHXH_LABELS, BHXH_ROWS)
    write_csv(landing / "bhxh" / "bhxh_20250901.csv", BHXH_LABELS, BHXH_ROWS)
    read_bytes = Path.read_bytes

    def denied(path: Path) -> bytes:
        if path == locked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", denied)
    _, reports = read_source(landing, BHXH)
    assert [r.error for r in reports] == ["the file cannot be opened: Permission denied", None]


def test_a_read_that_may_pass_stops_the_source_naming_the_file(landing, monkeypatch):
    write_csv(landing / "bhxh" / "bhxh_20250801.csv", BHXH_LABELS, BHXH_ROWS)

    def failing(path: Path) -> bytes:
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(path))

    monkeypatch.setattr(Path, "read_bytes", failing)
    with pytest.raises(ExtractUnreadable, match=r"bhxh/bhxh_20250801\.csv"):
        read_source(landing, BHXH)


def test_a_folder_that_cannot_be_listed_stops_the_source_naming_it(landing, monkeypatch):
    write_csv(landing / "bhxh" / "bhxh_20250801.csv", BHXH_LABELS, BHXH_ROWS)

    def walk(top, onerror, followlinks):
        onerror(PermissionError(errno.EACCES, "Permission denied", str(top / "bhxh")))
        return iter(())

    monkeypatch.setattr("dancu.ingest.os.walk", walk)
    with pytest.raises(ExtractUnreadable, match="bhxh/"):
        landing_files(landing)


# --- codes restored to their length ------------------------------------------------------------


@pytest.mark.parametrize("number_type", [pl.Int64, pl.Float64, pl.Decimal(12, 0)])
def test_codes_that_a_parquet_number_type_shortened_get_their_zeros_back(landing, number_type):
    delivered = bhxh_frame().with_columns(
        pl.col("Mã số BHXH").cast(pl.Int64).cast(number_type),
        pl.col("Số CCCD/CMND").cast(pl.Int64, strict=False),  # declares no length: as delivered
    )
    path = write_parquet(landing / "bhxh" / "bhxh_20251001.parquet", delivered)

    frame, report = read_extract(path, landing, BHXH)

    assert report.error is None
    assert frame["source_record_id"].to_list() == ["0123456789", "0123456790"]
    assert frame["national_id"].to_list() == ["1190012345", None]


def test_text_codes_are_never_padded(landing):
    rows = [["123456789", *BHXH_ROWS[0][1:]]]  # a code delivered short, as text: a wrong code
    path = write_csv(landing / "bhxh" / "bhxh_20251001.csv", BHXH_LABELS, rows)
    frame, _ = read_extract(path, landing, BHXH)
    assert frame["source_record_id"].to_list() == ["123456789"]


def write_xlsx(path: Path, header: list[str], rows: list[list], title: list[str] = ()) -> Path:
    """A workbook; `title`: lines above the header, then a blank row, as exports write them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    for i, line in enumerate(title):
        sheet.write(i, 0, line)
    first = len(title) + 1 if title else 0
    sheet.write_row(first, 0, header)
    for i, row in enumerate(rows, start=first + 1):
        sheet.write_row(i, 0, row)
    workbook.close()
    return path


def test_codes_typed_as_excel_numbers_get_their_zeros_back(landing):
    rows = [[int(r[0]), *r[1:]] for r in BHXH_ROWS]
    path = write_xlsx(landing / "bhxh" / "bhxh_20251001.xlsx", BHXH_LABELS, rows)
    frame, report = read_extract(path, landing, BHXH)
    assert report.error is None
    assert frame["source_record_id"].to_list() == ["0123456789", "0123456790"]


def test_a_sheet_with_a_title_above_its_header_is_read_from_its_header(landing):
    # Exports head the sheet with the national motto and the list's name.
    title = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "DANH SÁCH NGƯỜI THAM GIA BẢO HIỂM XÃ HỘI"]
    rows = [[int(r[0]), *r[1:]] for r in BHXH_ROWS]  # the codes typed as numbers, too
    folder = landing / "bhxh"
    titled, report = read_extract(
        write_xlsx(folder / "bhxh_20251001.xlsx", BHXH_LABELS, rows, title), landing, BHXH
    )
    plain, _ = read_extract(
        write_xlsx(folder / "bhxh_20251002.xlsx", BHXH_LABELS, rows), landing, BHXH
    )
    assert report.error is None
    assert report.title_rows == 3
    lineage = ["file_name", "extract_date"]
    assert titled.drop(lineage).equals(plain.drop(lineage))
    assert titled["source_record_id"].to_list() == ["0123456789", "0123456790"]
    assert titled["row_number"].to_list() == [1, 2]  # counted from the header, as the contract says


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "cp1258"])
@pytest.mark.parametrize("padded", [True, False])
def test_a_csv_saved_from_a_sheet_with_a_title_is_read_from_its_header(landing, encoding, padded):
    # The title's lines padded with separators to the table's width, or bare (they then have
    # fewer fields than the rows: no CSV parser takes them for a header).
    pad = ";" * (len(BHXH_LABELS) - 1) if padded else ""
    title = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" + pad, pad]
    table = [";".join(BHXH_LABELS), *(";".join(row) for row in BHXH_ROWS)]
    read = {}
    for name, lines in [("bhxh_20251001.csv", [*title, *table]), ("bhxh_20251002.csv", table)]:
        path = landing / "bhxh" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_text("\r\n".join(lines) + "\r\n", encoding))
        read[name] = read_extract(path, landing, BHXH)
    (titled, report), (plain, _) = read.values()
    assert report.error is None
    assert report.title_rows == 2
    lineage = ["file_name", "extract_date"]
    assert titled.drop(lineage).equals(plain.drop(lineage))
    assert titled["row_number"].to_list() == [1, 2]


def test_a_header_below_the_rows_searched_still_rejects_the_file(landing):
    title = [f"Dòng {k}" for k in range(HEADER_SEARCH_ROWS)]
    path = write_xlsx(landing / "bhxh" / "bhxh_20251001.xlsx", BHXH_LABELS, BHXH_ROWS, title)
    assert "missing required column(s): 'Mã số BHXH'" in rejection_of(path, landing)


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook of several sheets, each given as its rows (a header among them or not)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(path)
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for i, row in enumerate(rows):
            sheet.write_row(i, 0, row)
    workbook.close()
    return path


INSTRUCTIONS = [["HƯỚNG DẪN"], ["Mỗi lớp một trang tính; mã số nhập dạng số."]]


def test_every_sheet_that_holds_the_header_is_read_one_after_another(landing):
    # A sheet per class, the second with its columns in another order, a title, and its code
    # typed as a number; a sheet of instructions first, and a summary without the header.
    reordered = [BHXH_LABELS[1], BHXH_LABELS[0], *BHXH_LABELS[2:]]
    second = [BHXH_ROWS[1][1], int(BHXH_ROWS[1][0]), *BHXH_ROWS[1][2:]]
    sheets = {
        "Hướng dẫn": INSTRUCTIONS,
        "Lớp 1A": [BHXH_LABELS, BHXH_ROWS[0]],
        "Lớp 1B": [["DANH SÁCH LỚP 1B"], [], reordered, second],
        "Lớp 1C": [BHXH_LABELS],
        "Tổng hợp": [["Tổng số", 2]],
    }
    path = write_workbook(landing / "bhxh" / "bhxh_20251001.xlsx", sheets)
    frame, report = read_extract(path, landing, BHXH)
    plain, _ = read_extract(
        write_csv(landing / "bhxh" / "bhxh_20251002.csv", BHXH_LABELS, BHXH_ROWS), landing, BHXH
    )
    assert report.error is None
    lineage = ["file_name", "extract_date"]
    assert frame.drop(lineage).equals(plain.drop(lineage))
    assert frame["row_number"].to_list() == [1, 2]  # running on from one sheet to the next
    assert report.sheets == (
        "Hướng dẫn: no header; Lớp 1A: rows 1-1; Lớp 1B: rows 2-2; Lớp 1C: no rows; "
        "Tổng hợp: no header"
    )


def test_a_workbook_of_one_sheet_reads_as_before(landing):
    path = write_workbook(landing / "bhxh" / "bhxh_20251001.xlsx", {"Sheet1": [BHXH_LABELS]})
    frame, report = read_extract(path, landing, BHXH)
    assert (report.error, report.sheets, frame.height) == (None, "", 0)


def test_a_workbook_where_no_sheet_holds_the_header_is_rejected_by_its_first(landing):
    sheets = {"Hướng dẫn": INSTRUCTIONS, "Ghi chú": INSTRUCTIONS}
    path = write_workbook(landing / "bhxh" / "bhxh_20251001.xlsx", sheets)
    reason = rejection_of(path, landing)
    assert reason.startswith("missing required column(s): 'Mã số BHXH'")
    assert reason.endswith("in the first sheet, and no other sheet holds them")


def test_a_summary_sharing_a_few_column_labels_is_no_table_short_of_columns(landing):
    # Fewer than half the source's required columns: a summary, not a table that lost one.
    summary = [["Giới tính", "Ngày sinh", "Số người"], ["Nam", "1990", "12"]]
    sheets = {"Danh sách": [BHXH_LABELS, BHXH_ROWS[0]], "Tổng hợp": summary}
    path = write_workbook(landing / "bhxh" / "bhxh_20251001.xlsx", sheets)
    frame, report = read_extract(path, landing, BHXH)
    assert (report.error, report.sheets, frame.height) == (
        None,
        "Danh sách: rows 1-1; Tổng hợp: no header",
        1,
    )


def test_a_workbook_of_one_sheet_without_a_column_is_rejected_naming_the_column(landing):
    sheets = {"Danh sách": [BHXH_LABELS[1:], BHXH_ROWS[0][1:]]}
    path = write_workbook(landing / "bhxh" / "bhxh_20251001.xlsx", sheets)
    assert rejection_of(path, landing) == "missing required column(s): 'Mã số BHXH'"


@pytest.mark.parametrize("whole_sheet_first", [True, False])
def test_a_sheet_whose_table_lacks_a_column_rejects_its_workbook(landing, whole_sheet_first):
    # Its rows would otherwise be lost without a trace; the other sheet's rows wait with them.
    short = [BHXH_LABELS[1:], BHXH_ROWS[0][1:], BHXH_ROWS[1][1:]]
    whole = [BHXH_LABELS, BHXH_ROWS[0]]
    sheets = {"Hướng dẫn": INSTRUCTIONS, "Khoa Nội": whole, "Khoa Ngoại": short}
    if not whole_sheet_first:
        sheets = {"Hướng dẫn": INSTRUCTIONS, "Khoa Ngoại": short, "Khoa Nội": whole}
    path = write_workbook(landing / "bhxh" / "bhxh_20251001.xlsx", sheets)
    position = 3 if whole_sheet_first else 2
    assert rejection_of(path, landing) == (
        f"sheet {position} of 3 holds a table without required column(s): 'Mã số BHXH'"
    )


def test_a_column_of_excel_numbers_and_text_is_left_as_delivered(landing):
    # Which cell was a number is not known: only a column of numbers throughout is restored.
    rows = [[int(BHXH_ROWS[0][0]), *BHXH_ROWS[0][1:]], ["123456789", *BHXH_ROWS[1][1:]]]
    path = write_xlsx(landing / "bhxh" / "bhxh_20251001.xlsx", BHXH_LABELS, rows)
    frame, _ = read_extract(path, landing, BHXH)
    assert frame["source_record_id"].to_list() == ["123456789", "123456789"]


# --- a file cut short --------------------------------------------------------------------------


def csv_bytes(rows: list[list[str]], line_end: str = "\r\n") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=line_end).writerows([BHXH_LABELS, *rows])
    return buffer.getvalue().encode("utf-8")


def read_cut(landing: Path, data: bytes) -> pl.DataFrame:
    path = landing / "bhxh" / "bhxh_20251001.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    frame, report = read_extract(path, landing, BHXH)
    assert report.error is None
    return frame


# Quoted cells with separators, quotes and a line break inside, where a cut may fall.
QUOTED_ROWS = [
    *BHXH_ROWS,
    ["0123456791", "Lê Văn Tám", "1990", "Nam", "", 'Số 5, ngõ "Chợ", Hà Nội', "0912000222"],
    ["0123456792", "Phạm Thị Mai", "1991", "Nữ", "", "Tầng 2,\nPhố Huế", "0912000333"],
]


def test_a_file_cut_at_any_byte_of_its_last_row_flags_that_row_and_keeps_the_others(landing):
    data = csv_bytes(QUOTED_ROWS, line_end="\n")
    last_row_starts = data.rindex(b"\n", 0, len(data) - 1) + 1
    first_rows = QUOTED_ROWS[:-1]
    # A cut inside the last field, outside quotes, leaves every field: it cannot be told apart
    # from a file that ends without a line break (its value is then checked as any other).
    last_field_starts = data.rindex(b",", 0, len(data) - 1) + 1
    for cut in range(last_row_starts + 1, len(data) - 1):
        frame = read_cut(landing, data[:cut])
        assert frame.height == len(QUOTED_ROWS), cut
        assert frame.head(-1).select("source_record_id").to_series().to_list() == [
            r[0] for r in first_rows
        ]
        assert frame[TRUNCATED].to_list()[:-1] == [False] * len(first_rows)
        assert frame[TRUNCATED][-1] == (cut < last_field_starts), cut


def test_a_complete_file_is_not_flagged_with_or_without_a_final_line_break(landing):
    data = csv_bytes(QUOTED_ROWS)
    for complete in (data, data.removesuffix(b"\r\n"), data.removesuffix(b"\n")):
        assert not read_cut(landing, complete)[TRUNCATED].any()


def test_a_utf16_file_cut_inside_a_character_loses_only_that_character(landing):
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows([BHXH_LABELS, *BHXH_ROWS])
    data = buffer.getvalue().encode("utf-16")
    # Half of the "\r" that follows the last closing quote.
    frame = read_cut(landing, data[: -len("\r\n".encode("utf-16-le")) + 1])
    assert frame["phone"].to_list() == ["0912345678", "+84912000111"]
    assert not frame[TRUNCATED].any()


# --- rows of more fields, lines ended by a carriage return -------------------------------------


def test_a_row_of_more_fields_than_the_header_is_marked_and_the_others_read(landing):
    # A comma typed in an unquoted address: polars refuses the whole file for it.
    ragged = ["0123456793", "Lê Văn Tám", "1990", "Nam", "", "Số 5, ngõ Chợ", "0912000222"]
    lines = [",".join(row) for row in [BHXH_LABELS, BHXH_ROWS[0], ragged, BHXH_ROWS[1]]]
    frame = read_cut(landing, "\n".join([*lines, ""]).encode("utf-8"))
    assert frame[RAGGED].to_list() == [False, True, False]
    assert frame["source_record_id"].to_list() == [BHXH_ROWS[0][0], ragged[0], BHXH_ROWS[1][0]]
    lineage = [RAGGED, TRUNCATED, "file_name", "row_number"]
    expected = read_cut(landing, csv_bytes(BHXH_ROWS)).drop(lineage)
    assert frame.filter(~pl.col(RAGGED)).drop(lineage).equals(expected)


@pytest.mark.parametrize(
    "line_ends",
    [
        ["\r"] * 4,  # a classic Mac's file
        ["\r\n", "\r", "\r\n", "\r\n"],  # one line pasted from one into a Windows file
        ["\n", "\r", "\n", "\n"],
    ],
)
def test_lines_ended_by_a_carriage_return_alone_are_lines(landing, line_ends):
    lines = [",".join(row) for row in [BHXH_LABELS, *BHXH_ROWS, BHXH_ROWS[0]]]
    data = "".join(line + end for line, end in zip(lines, line_ends, strict=True))
    frame = read_cut(landing, data.encode("utf-8"))
    expected = read_cut(landing, csv_bytes([*BHXH_ROWS, BHXH_ROWS[0]]))
    assert frame.drop("file_name").equals(expected.drop("file_name"))


def test_a_title_of_lines_ended_by_a_carriage_return_alone_is_skipped(landing):
    data = "CỘNG HOÀ\rDANH SÁCH\r\n".encode() + csv_bytes(BHXH_ROWS)
    path = landing / "bhxh" / "bhxh_20251001.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    frame, report = read_extract(path, landing, BHXH)
    assert (report.error, report.title_rows) == (None, 2)
    assert frame["source_record_id"].to_list() == [row[0] for row in BHXH_ROWS]


# --- every file in the landing tree is accounted for -------------------------------------------


@pytest.mark.parametrize(
    ("file_name", "source", "reason"),
    [
        ("dan_cu/dan_cu_00001_20251101.csv", "dan_cu", None),
        ("dan_cu/2025-11/x_20251101.csv", "dan_cu", "in a sub-folder of dan_cu/"),
        ("Dan_Cu/x_20251101.csv", "dan_cu", "it looks like dan_cu/"),
        ("Dân cư/x_20251101.csv", "dan_cu", "it looks like dan_cu/"),
        ("BHXH/2025/x_20251101.csv", "bhxh", "it looks like bhxh/"),
        ("misc/x_20251101.csv", NO_SOURCE, "expected one of dan_cu/, bhxh/"),
        ("x_20251101.csv", NO_SOURCE, "at the landing root"),
        ("giao_duc/truong_01001001_20251101.xlsx", "giao_duc", None),
        ("Ly Lich Tu Phap/lltp_20251101.csv", "ly_lich_tu_phap", "it looks like ly_lich_tu_phap/"),
    ],
)
def test_files_outside_the_layout_are_named_with_what_was_expected(file_name, source, reason):
    assert source_of(file_name) == source
    if reason is None:
        assert outside_layout(file_name) is None
    else:
        assert reason in outside_layout(file_name)


def test_every_file_of_the_landing_tree_is_read_or_rejected_by_exactly_one_source(landing):
    delivered = [
        "bhxh/bhxh_20250801.csv",
        "dan_cu/2025-11/x_20251101.csv",
        "Dan_Cu/x_20251101.csv",
        "misc/notes_20251101.csv",
        "x_20251101.csv",
    ]
    for name in delivered:
        write_csv(landing / name, BHXH_LABELS, BHXH_ROWS)
    for ignored in ["bhxh/.x_20250801.csv", "bhxh/~$x_20250801.csv", ".cache/x_20250801.csv"]:
        write_csv(landing / ignored, BHXH_LABELS, BHXH_ROWS)

    accounted = [
        path.relative_to(landing).as_posix()
        for source in SOURCES.values()
        for path in extract_files(landing, source)
    ]
    assert sorted(accounted) == sorted(delivered)

    frame, reports = read_source(landing, DAN_CU)
    outside = {r.file_name: (r.source, r.error) for r in reports}
    assert set(outside) == set(delivered) - {"bhxh/bhxh_20250801.csv"}
    assert outside["misc/notes_20251101.csv"][0] == NO_SOURCE
    assert outside["Dan_Cu/x_20251101.csv"][0] == "dan_cu"
    assert all(error.startswith("outside the layout: ") for _, error in outside.values())
    # Not read, so no extract date: a stray file does not make its source look delivered.
    assert frame["extract_date"].is_null().all()
    assert frame["row_number"].is_null().all()
