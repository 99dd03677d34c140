"""Domain rules, schemas and bad input, through ingest and standardisation as a run does it."""

import csv
import io
import random
import unicodedata
from datetime import date
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest

from dancu.contract import SOURCES
from dancu.ingest import read_source
from dancu.rules import FLAGS, REASONS, RULES
from dancu.schemas import standardized_schema
from dancu.standardize import standardize
from dancu.text import strip_diacritics

VALID = {
    "dan_cu": {
        "Mã hồ sơ": "HS00012", "Số định danh cá nhân": "001088012345", "Số CMND": "012345678",
        "Họ, chữ đệm và tên": "Nguyễn Văn An", "Ngày, tháng, năm sinh": "15/03/1988",
        "Giới tính": "Nam", "Dân tộc": "Kinh", "Tôn giáo": "Không", "Quốc tịch": "Việt Nam",
        "Quê quán": "Nam Định", "Nơi thường trú": "Số 5, phố Huế, Phường Hai Bà Trưng, Hà Nội",
        "Mã xã thường trú": "00256", "Tình trạng hôn nhân": "Có vợ",
        "Họ tên cha": "Nguyễn Văn Bình", "Họ tên mẹ": "Trần Thị Cúc",
        "Số điện thoại": "0912 345 678", "Ngày cập nhật": "01/09/2025",
    },
    "khai_sinh": {
        "Số đăng ký": "KS2025-001", "Ngày đăng ký": "20/08/2025", "Mã nơi đăng ký": "00256",
        "Họ tên trẻ": "Nguyễn Minh Khang", "Ngày sinh": "02/08/2025", "Giới tính": "Nam",
        "Dân tộc": "Kinh", "Quốc tịch": "Việt Nam", "Số định danh cá nhân": "001225012345",
        "Họ tên mẹ": "Lê Thị Hoa", "Ngày sinh mẹ": "10/10/1995", "Số định danh mẹ": "001195012345",
        "Họ tên cha": "Nguyễn Văn An", "Ngày sinh cha": "15/03/1988",
        "Số định danh cha": "001088012345",
    },
    "khai_tu": {
        "Số đăng ký": "KT2025-001", "Ngày đăng ký": "03/09/2025", "Mã nơi đăng ký": "00256",
        "Họ tên người chết": "Trần Văn Đức", "Ngày sinh": "1940", "Giới tính": "Nam",
        "Số định danh cá nhân": "001040012345", "Ngày chết": "01/09/2025", "Nơi chết": "Tại nhà",
    },
    "ket_hon": {
        "Số đăng ký": "KH2025-001", "Ngày đăng ký": "05/09/2025", "Mã nơi đăng ký": "00256",
        "Họ tên chồng": "Phạm Quốc Huy", "Ngày sinh chồng": "01/01/1995",
        "Số định danh chồng": "001095012345", "Họ tên vợ": "Đỗ Thu Trang",
        "Ngày sinh vợ": "02/02/1997", "Số định danh vợ": "001197012345",
    },
    "giao_duc": {
        "Mã học sinh": "0100100001", "Số định danh cá nhân": "001315012345",
        "Họ và tên": "Nguyễn Minh Anh", "Ngày sinh": "03/04/2015", "Giới tính": "Nữ",
        "Dân tộc": "Kinh", "Quốc tịch": "Việt Nam", "Mã trường": "01001001", "Lớp": "4A1",
        "Năm học": "2025-2026", "Nơi thường trú": "Số 5, phố Huế, Phường Hai Bà Trưng, Hà Nội",
        "Mã xã thường trú": "00256", "Họ tên cha": "Nguyễn Văn An", "Họ tên mẹ": "Trần Thị Cúc",
        "Số điện thoại phụ huynh": "0912 345 678",
    },
    "ly_lich_tu_phap": {
        "Số hồ sơ": "LLTP-2025-0001", "Ngày tiếp nhận": "10/09/2025", "Loại phiếu": "1",
        "Họ và tên": "Trần Văn Hùng", "Tên gọi khác": "", "Ngày sinh": "12/05/1980",
        "Giới tính": "Nam", "Nơi sinh": "Hà Nội", "Quốc tịch": "Việt Nam", "Loại giấy tờ": "CCCD",
        "Số giấy tờ": "001080012345", "Nơi cấp": "Cục Cảnh sát QLHC về TTXH",
        "Nơi thường trú": "Số 5, phố Huế, Phường Hai Bà Trưng, Hà Nội",
        "Họ tên cha": "Trần Văn Long", "Họ tên mẹ": "Lê Thị Mai", "Họ tên vợ/chồng": "",
        "Án tích": "",
    },
}  # fmt: skip


def standardized(tmp_path: Path, source: str, rows: list[dict[str, str]]) -> pl.DataFrame:
    """Rows written as a real extract (UTF-8 CSV), read and standardised as a run does."""
    folder = tmp_path / "landing" / source
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    # A change may add a column the valid row leaves out (an optional one).
    header = list(dict.fromkeys([*VALID[source], *(label for row in rows for label in row)]))
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    writer.writerows({**VALID[source], **row} for row in rows)
    (folder / f"{source}_20250915.csv").write_text(buffer.getvalue(), encoding="utf-8")
    raw, _ = read_source(tmp_path / "landing", SOURCES[source])
    return standardize(raw.lazy(), SOURCES[source]).collect()


def test_valid_rows_break_no_rule(tmp_path):
    for source in VALID:
        frame = standardized(tmp_path / source, source, [{}])
        assert frame[REASONS].to_list() == [[]], source
        assert frame[FLAGS].to_list() == [[]], source


@pytest.mark.parametrize(
    ("source", "change", "rule"),
    [
        ("dan_cu", {"Mã hồ sơ": ""}, "record_id.missing"),
        ("dan_cu", {"Họ, chữ đệm và tên": "  "}, "name.empty"),
        ("dan_cu", {"Họ, chữ đệm và tên": "123456"}, "name.empty"),
        ("dan_cu", {"Ngày, tháng, năm sinh": "31/02/1990"}, "date.impossible"),
        ("dan_cu", {"Ngày, tháng, năm sinh": "12/10/2025"}, "date.future"),
        ("dan_cu", {"Số định danh cá nhân": "00108801234A"}, "id.non_digit"),
        ("dan_cu", {"Số định danh cá nhân": "٠٠١٠٨٨٠١٢٣٤٥"}, "id.non_digit"),
        ("khai_tu", {"Ngày chết": "01/01/1939"}, "date.death_before_birth"),
        ("ket_hon", {"Số định danh vợ": "001 095 012 345"}, "marriage.same_person"),
        ("khai_sinh", {"Ngày đăng ký": "2026"}, "date.future"),
    ],
)
def test_rows_that_cannot_be_true_records_are_quarantined(tmp_path, source, change, rule):
    frame = standardized(tmp_path, source, [change])
    reasons = {r.split(":")[0] for r in frame[REASONS][0]}
    assert rule in reasons
    assert frame["raw"][0] is not None


@pytest.mark.parametrize(
    ("source", "change", "rule"),
    [
        ("dan_cu", {"Số định danh cá nhân": ""}, "id.missing"),
        ("dan_cu", {"Số định danh cá nhân": "0010880123"}, "id.malformed"),
        ("dan_cu", {"Số định danh cá nhân": "099088012345"}, "id.province_unknown"),
        ("dan_cu", {"Giới tính": "Nữ"}, "id.sex_mismatch"),
        ("dan_cu", {"Ngày, tháng, năm sinh": "15/03/1978"}, "id.birth_year_mismatch"),
        ("dan_cu", {"Ngày, tháng, năm sinh": "03/15/1988"}, "date.day_month_swapped"),
        ("dan_cu", {"Ngày, tháng, năm sinh": "15/03/88"}, "date.two_digit_year"),
        ("dan_cu", {"Ngày, tháng, năm sinh": "1880", "Số định danh cá nhân": "001880012345"},
         "age.implausible"),
        ("dan_cu", {"Giới tính": "Khác"}, "sex.unknown"),
        ("dan_cu", {"Dân tộc": "Kinhh"}, "code.unknown"),
        ("dan_cu", {"Số điện thoại": "12345"}, "code.unknown"),
        ("dan_cu", {"Nơi thường trú": ""}, "required.missing"),
        ("dan_cu", {"Họ, chữ đệm và tên": "Nguyễn Văn An 2"}, "name.has_digits"),
        ("dan_cu", {"Nơi thường trú": "x" * 1_000_000}, "field.too_long"),
        ("khai_sinh", {"Ngày sinh mẹ": "10/10/2015"}, "birth.parent_age_implausible"),
        ("khai_sinh", {"Ngày đăng ký": "01/08/2025"}, "date.registration_before_event"),
        ("ket_hon", {"Ngày sinh vợ": "02/02/2009"}, "marriage.under_age"),
        ("giao_duc", {"Số định danh cá nhân": "TAM-0042"}, "id.temporary_code"),
        ("giao_duc", {"Số định danh cá nhân": "0123456"}, "id.temporary_code"),
        ("giao_duc", {"Số định danh cá nhân": "001185012345"}, "id.of_older_generation"),
        ("giao_duc", {"Số định danh cá nhân": ""}, "id.missing"),
        ("giao_duc", {"Quốc tịch": "Atlantis"}, "nationality.unknown"),
        ("giao_duc", {"Năm học": "2025-2027"}, "code.unknown"),
        ("ly_lich_tu_phap", {"Loại phiếu": "3"}, "code.unknown"),
        ("ly_lich_tu_phap", {"Quốc tịch": "Việt Nam; Xứ Đoài"}, "nationality.unknown"),
        ("ly_lich_tu_phap", {"Loại giấy tờ": "Bằng lái xe"}, "document.type_unknown"),
        ("ly_lich_tu_phap", {"Loại giấy tờ": ""}, "document.type_unknown"),
        ("ly_lich_tu_phap", {"Loại giấy tờ": "CMND", "Số giấy tờ": "0123456"},
         "document.number_misfit"),
        ("ly_lich_tu_phap", {"Số giấy tờ": "00108001234"}, "document.number_misfit"),
        ("ly_lich_tu_phap", {"Số giấy tờ": "0010800123AB"}, "document.number_misfit"),
        ("ly_lich_tu_phap", {"Loại giấy tờ": "Hộ chiếu", "Số giấy tờ": "B12",
                             "Nơi cấp": "Việt Nam"}, "document.passport_malformed"),
        ("ly_lich_tu_phap", {"Loại giấy tờ": "Hộ chiếu", "Số giấy tờ": "12345678",
                             "Nơi cấp": "Hàn Quốc"}, "document.passport_malformed"),
        ("ly_lich_tu_phap", {"Số giấy tờ": "001070012345"}, "id.birth_year_mismatch"),
        ("khai_sinh", {"Quốc tịch mẹ": "Nam Triều", "Số định danh mẹ": ""}, "nationality.unknown"),
        ("khai_sinh", {"Số định danh cá nhân": "001195012345"}, "id.a_parents_on_the_child"),
    ],
)  # fmt: skip
def test_doubtful_values_are_kept_with_a_flag(tmp_path, source, change, rule):
    frame = standardized(tmp_path, source, [change])
    assert frame[REASONS][0].to_list() == []
    assert rule in {r.split(":")[0] for r in frame[FLAGS][0]}


@pytest.mark.parametrize(
    ("source", "change"),
    [
        ("giao_duc", {"Số định danh cá nhân": "HS 2025 17"}),
        ("ly_lich_tu_phap", {"Loại giấy tờ": "Hộ chiếu", "Số giấy tờ": "M123A4567",
                             "Nơi cấp": "Hàn Quốc", "Quốc tịch": "KOR"}),
        ("ly_lich_tu_phap", {"Loại giấy tờ": "ho chieu", "Số giấy tờ": "c 1234567",
                             "Nơi cấp": "Cục Quản lý xuất nhập cảnh", "Quốc tịch": "Việt Nam"}),
        ("ly_lich_tu_phap", {"Loại giấy tờ": "Chứng minh nhân dân", "Số giấy tờ": "12345678"}),
        ("ly_lich_tu_phap", {"Quốc tịch": "Đài Loan (Trung Quốc)"}),
        ("ly_lich_tu_phap", {"Quốc tịch": "Không quốc tịch",
                             "Loại giấy tờ": "Giấy chứng nhận căn cước", "Số giấy tờ": "GCN0123"}),
    ],
)  # fmt: skip
def test_other_countries_and_documents_break_no_document_rule(tmp_path, source, change):
    frame = standardized(tmp_path, source, [change])
    assert frame[REASONS][0].to_list() == []
    broken = {r.split(":")[0] for r in frame[FLAGS][0]}
    assert not {r for r in broken if r.startswith(("document.", "nationality.", "id.non"))}


def test_a_personal_id_with_letters_is_quarantined_except_a_schools_code(tmp_path):
    register = standardized(tmp_path / "r", "dan_cu", [{"Số định danh cá nhân": "00108801234A"}])
    school = standardized(tmp_path / "s", "giao_duc", [{"Số định danh cá nhân": "00131501234A"}])
    assert {r.split(":")[0] for r in register[REASONS][0]} == {"id.non_digit"}
    assert school[REASONS][0].to_list() == []
    assert school["national_id_temporary"][0] == "00131501234A"


def test_full_width_digits_are_read_as_the_digits_they_are(tmp_path):
    # Typed with an East Asian input method: an id, a date and a record id that are whole.
    written = {
        "Số định danh cá nhân": "００１０８８０１２３４５",
        "Ngày, tháng, năm sinh": "１５/０３/１９８８",
        "Mã hồ sơ": "ＤＣ００１",
    }
    frame = standardized(tmp_path, "dan_cu", [written])
    assert frame[REASONS][0].to_list() == []
    assert frame.select("national_id", "birth_date", "source_record_id").rows() == [
        ("001088012345", date(1988, 3, 15), "DC001")
    ]


def test_record_id_repeated_in_one_extract_keeps_the_first(tmp_path):
    frame = standardized(tmp_path, "dan_cu", [{}, {"Họ, chữ đệm và tên": "Nguyễn Văn Ân"}])
    assert [len(r) for r in frame[REASONS]] == [0, 1]
    assert frame[REASONS][1][0].startswith("record_id.repeated_in_extract")


@pytest.mark.parametrize("source", ["dan_cu", "khai_sinh", "giao_duc"])
@pytest.mark.parametrize(
    "spelling",
    [
        # In capitals, and with tone marks apart from their letters, as Windows-1258 writes them.
        lambda label: unicodedata.normalize("NFD", label.upper()),
        strip_diacritics,  # as a system without Vietnamese writes its header
    ],
)
def test_a_header_repeated_inside_the_data_is_quarantined_as_such(tmp_path, source, spelling):
    header = {c.label: spelling(c.label) for c in SOURCES[source].columns}
    frame = standardized(tmp_path, source, [{}, header, {}])
    assert frame[REASONS][1][0].startswith("row.repeats_header")
    assert [r.split(":")[0] for r in frame[REASONS][2]] == ["record_id.repeated_in_extract"]
    assert frame[REASONS][0].to_list() == []


def test_rows_without_a_record_id_are_missing_it_not_repeats_of_each_other(tmp_path):
    # A blank line and a totals row in one extract.
    frame = standardized(tmp_path, "dan_cu", [{}, {"Mã hồ sơ": ""}, {"Mã hồ sơ": ""}])
    assert [[r.split(":")[0] for r in reasons] for reasons in frame[REASONS]] == [
        [],
        ["record_id.missing"],
        ["record_id.missing"],
    ]


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_in_a_cell_are_flagged_and_the_file_still_loads(tmp_path, seed):
    standardized(tmp_path, "dan_cu", [{"Mã hồ sơ": f"HS{i:05}"} for i in range(100)])
    path = next((tmp_path / "landing" / "dan_cu").iterdir())
    # Inside the quoted address cell of the first row; a quote would end the cell: none drawn.
    noise = random.Random(seed).randbytes(64).replace(b'"', b"")
    path.write_bytes(path.read_bytes().replace("Phường Hai Bà Trưng".encode(), noise, 1))
    raw, reports = read_source(tmp_path / "landing", SOURCES["dan_cu"])
    assert reports[0].encoding == "utf-8"
    frame = standardize(raw.lazy(), SOURCES["dan_cu"]).collect()
    assert frame.height == 100
    assert frame["full_name"][0] == "Nguyễn Văn An"  # the rest of the row is intact
    flags = {r.split(":")[0] for r in frame[FLAGS][0]}
    reasons = {r.split(":")[0] for r in frame[REASONS][0]}
    assert flags | reasons, "a corrupt cell must leave a reason or a flag"


def test_every_rule_has_a_unique_dotted_id_and_a_message():
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert all("." in rule.id and rule.message for rule in RULES)


@pytest.mark.parametrize("source", list(VALID))
def test_schema_accepts_standardised_valid_rows(tmp_path, source):
    frame = standardized(tmp_path, source, [{}])
    standardized_schema(SOURCES[source]).validate(frame, lazy=True)


@pytest.mark.parametrize(
    ("column", "bad_value"),
    [("sex", "X"), ("national_id", "12345"), ("phone", "0912345678"), ("ward_code", "256"),
     ("birth_year", 1700), ("full_name", None), ("full_name_key", "Nguyễn")],
)  # fmt: skip
def test_schema_rejects_what_standardisation_must_never_produce(tmp_path, column, bad_value):
    frame = standardized(tmp_path, "dan_cu", [{}])
    broken = frame.with_columns(pl.lit(bad_value, dtype=frame.schema[column]).alias(column))
    with pytest.raises(pa.errors.SchemaErrors):
        standardized_schema(SOURCES["dan_cu"]).validate(broken, lazy=True)


def test_the_auditors_guide_documents_every_rule():
    guide = Path(__file__).resolve().parent.parent / "docs" / "auditor.md"
    text = guide.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"| `{rule.id}` | {rule.severity} | {rule.message} |" in text, rule.id


def test_two_digit_years_take_each_holders_century_and_leave_the_row_valid(tmp_path):
    # The mother's id says 1925, the father has none (the latest century), the registration
    # date can only be this century's.
    change = {
        "Ngày sinh mẹ": "10/10/25", "Số định danh mẹ": "001125012345",
        "Ngày sinh cha": "15/03/88", "Số định danh cha": "", "Ngày đăng ký": "20/08/25",
    }  # fmt: skip
    frame = standardized(tmp_path, "khai_sinh", [change])
    assert frame.select("mother_birth_date", "father_birth_date", "registration_date").row(0) == (
        date(1925, 10, 10), date(1988, 3, 15), date(2025, 8, 20)
    )  # fmt: skip
    assert (frame["mother_birth_year"][0], frame["father_birth_year"][0]) == (1925, 1988)
    assert frame[REASONS][0].to_list() == []
    assert "date.two_digit_year" in {f.split(":")[0] for f in frame[FLAGS][0]}


def test_one_date_text_is_read_by_the_type_of_its_file(tmp_path):
    # Dates are parsed once per distinct text: the same text must still be an Excel serial in
    # an XLSX file alone.
    serial = {"Ngày, tháng, năm sinh": "32874"}  # 1990-01-01 as Excel counts days
    folder = tmp_path / "landing" / "dan_cu"
    folder.mkdir(parents=True)
    pl.DataFrame([{**VALID["dan_cu"], **serial, "Mã hồ sơ": "HS00013"}]).write_excel(
        folder / "dan_cu_20250916.xlsx"
    )
    frame = standardized(tmp_path, "dan_cu", [serial]).sort("file_name")
    assert frame["file_name"].to_list() == [
        "dan_cu/dan_cu_20250915.csv",
        "dan_cu/dan_cu_20250916.xlsx",
    ]
    assert frame[REASONS][0][0].startswith("date.impossible")
    assert frame["birth_date"].to_list() == [None, date(1990, 1, 1)]
