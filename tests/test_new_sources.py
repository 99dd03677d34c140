"""The education and justice sources, and the foreign-element columns of births, marriages and
the register: read in every format the contract allows, standardised, judged by their rules,
and accounted for (nothing lost), on small hand-made extracts; then `dancu run` on a landing
folder of all eight sources, where a conviction must be written nowhere but the justice
sector's own staged frames."""

import csv
import io
import json
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl
import pytest
import xlsxwriter
from helpers import run_dancu

from dancu.contract import SOURCES
from dancu.ingest import read_source
from dancu.rules import FLAGS, REASONS, accepted, rule_id
from dancu.schemas import standardized_schema
from dancu.standardize import standardize
from dancu.validate import rejected_input

EXTRACT = "20250915"

SCHOOL_HEADER = [
    "Mã học sinh", "Số định danh cá nhân", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc",
    "Quốc tịch", "Mã trường", "Lớp", "Năm học", "Nơi thường trú", "Mã xã thường trú",
    "Họ tên cha", "Họ tên mẹ", "Số điện thoại phụ huynh",
]  # fmt: skip
ADDRESS = "Số 5, phố Huế, Phường Hai Bà Trưng, Hà Nội"
# One school's students: an id, none, a temporary code of the school's, a parent's id (the
# father's, born 1985), and a child born abroad with a Korean father and two nationalities.
SCHOOL_ROWS = [
    ["0100100001", "001315012345", "Nguyễn Minh Anh", "03/04/2015", "Nữ", "Kinh", "Việt Nam",
     "01001001", "4A1", "2025-2026", ADDRESS, "00256", "Nguyễn Văn An", "Trần Thị Cúc",
     "0912 345 678"],
    ["0100100002", "", "Lê Gia Bảo", "12/11/2015", "Nam", "Kinh", "Việt Nam", "01001001", "4A1",
     "2025-2026", ADDRESS, "00256", "Lê Văn Hải", "Đỗ Thị Mai", "0987654321"],
    ["0100100003", "HS-2025-17", "Trần Bảo Ngọc", "2015", "Nữ", "Kinh", "Việt Nam", "01001001",
     "4A2", "2025 - 2026", ADDRESS, "00256", "Trần Quốc Toản", "Phạm Thị Lan", ""],
    ["0100100004", "001085012345", "Phạm Đức Minh", "20/01/2014", "Nam", "Kinh", "Việt Nam",
     "01001001", "5B", "2025-2026", ADDRESS, "00256", "Phạm Đức Long", "Vũ Thị Hằng", ""],
    ["0100100005", "", "Kim Min Seo", "15/06/2016", "Nữ", "", "Hàn Quốc; Việt Nam", "01001001",
     "3C", "2025-2026", ADDRESS, "00256", "KIM JI HOON", "Nguyễn Thị Thảo", ""],
]  # fmt: skip

JUSTICE_HEADER = [
    "Số hồ sơ", "Ngày tiếp nhận", "Loại phiếu", "Họ và tên", "Tên gọi khác", "Ngày sinh",
    "Giới tính", "Nơi sinh", "Quốc tịch", "Loại giấy tờ", "Số giấy tờ", "Nơi cấp",
    "Nơi thường trú", "Họ tên cha", "Họ tên mẹ", "Họ tên vợ/chồng", "Án tích",
]  # fmt: skip
CONVICTION = "Năm 2005 bị Tòa án nhân dân quận Đống Đa xử phạt 24 tháng tù về tội trộm cắp tài sản"
JUSTICE_ROWS = [
    ["LLTP-2025-0001", "10/09/2025", "1", "Trần Văn Hùng", "", "12/05/1980", "Nam", "Hà Nội",
     "Việt Nam", "CMND", "012 345 678", "Công an TP Hà Nội", ADDRESS, "Trần Văn Long",
     "Lê Thị Mai", "Ngô Thị Hạnh", CONVICTION],
    ["LLTP-2025-0002", "11/09/2025", "Phiếu số 2", "KIM MIN JUN", "", "1985-03-02", "Nam", "Seoul",
     "Hàn Quốc", "Hộ chiếu", "M12345678", "Hàn Quốc", ADDRESS, "KIM SUNG HO", "LEE MI KYUNG",
     "Nguyễn Thị Lan", ""],
    ["LLTP-2025-0003", "11/09/2025", "2", "Nguyễn Thị Hoa", "Hoa Nguyễn", "02/09/1990", "Nữ",
     "Hà Nội", "Việt Nam, Hoa Kỳ", "Chứng minh thư", "001190012345", "Cục Cảnh sát QLHC về TTXH",
     ADDRESS, "Nguyễn Văn Nam", "Bùi Thị Thu", "", "Không"],
    ["LLTP-2025-0004", "12/09/2025", "1", "John Smith", "", "04/07/1975", "Nam", "New York",
     "USA", "Passport", "12AB", "Hoa Kỳ", ADDRESS, "", "", "", ""],
    ["LLTP-2025-0005", "12/09/2025", "1", "Đinh Văn Tùng", "", "01/01/1970", "Nam", "Nam Định",
     "Xứ Đoài", "CCCD", "0010700123", "", ADDRESS, "", "", "", ""],
    ["LLTP-2025-0006", "12/09/2025", "1", "Lò Văn Pá", "", "31/02/1988", "Nam", "Sơn La",
     "Việt Nam", "Thẻ quân nhân", "QN123456", "", ADDRESS, "", "", "", CONVICTION],
]  # fmt: skip

REGISTER = {
    "Mã hồ sơ": "HS00012", "Số định danh cá nhân": "001088012345", "Số CMND": "012345678",
    "Họ, chữ đệm và tên": "Nguyễn Văn An", "Ngày, tháng, năm sinh": "15/03/1988",
    "Giới tính": "Nam", "Dân tộc": "Kinh", "Tôn giáo": "Không", "Quốc tịch": "Việt Nam",
    "Quê quán": "Nam Định", "Nơi thường trú": ADDRESS, "Mã xã thường trú": "00256",
    "Tình trạng hôn nhân": "Có vợ", "Họ tên cha": "Nguyễn Văn Bình", "Họ tên mẹ": "Trần Thị Cúc",
    "Số điện thoại": "0912 345 678", "Ngày cập nhật": "01/09/2025",
}  # fmt: skip
BIRTH = {
    "Số đăng ký": "KS2025-001", "Ngày đăng ký": "20/08/2025", "Mã nơi đăng ký": "00256",
    "Họ tên trẻ": "Park Min Khang", "Ngày sinh": "02/08/2025", "Giới tính": "Nam",
    "Dân tộc": "Kinh", "Quốc tịch": "Việt Nam", "Số định danh cá nhân": "001225012345",
    "Họ tên mẹ": "Lê Thị Hoa", "Ngày sinh mẹ": "10/10/1995", "Số định danh mẹ": "001195012345",
    "Họ tên cha": "Nguyễn Văn An", "Ngày sinh cha": "15/03/1988",
    "Số định danh cha": "001088012345",
}  # fmt: skip
MARRIAGE = {
    "Số đăng ký": "KH2025-001", "Ngày đăng ký": "05/09/2025", "Mã nơi đăng ký": "00256",
    "Họ tên chồng": "Phạm Quốc Huy", "Ngày sinh chồng": "01/01/1995",
    "Số định danh chồng": "001095012345", "Họ tên vợ": "Đỗ Thu Trang",
    "Ngày sinh vợ": "02/02/1997", "Số định danh vợ": "001197012345",
}  # fmt: skip


def write_csv(path: Path, header: list[str], rows: list[list[str]], sep: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """As a school's spreadsheet: ids and codes typed as numbers lose their leading zeros."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, header)
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            if value.isdigit() and header[j] in ("Số định danh cá nhân", "Mã trường"):
                sheet.write_number(i, j, int(value))
            else:
                sheet.write_string(i, j, value)
    workbook.close()
    return path


def standardized(landing: Path, source: str) -> pl.DataFrame:
    raw, _ = read_source(landing, SOURCES[source])
    return standardize(raw.lazy(), SOURCES[source]).collect()


def by_record(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["source_record_id"]: row for row in frame.iter_rows(named=True)}


def rule_ids(messages: list[str]) -> set[str]:
    return {m.split(":", 1)[0] for m in messages}


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def school_frame(landing: Path) -> pl.DataFrame:
    write_csv(landing / "giao_duc" / f"truong_01001001_{EXTRACT}.csv", SCHOOL_HEADER, SCHOOL_ROWS)
    return standardized(landing, "giao_duc")


@pytest.fixture
def justice_frame(landing: Path) -> pl.DataFrame:
    write_csv(landing / "ly_lich_tu_phap" / f"lltp_{EXTRACT}.csv", JUSTICE_HEADER, JUSTICE_ROWS)
    return standardized(landing, "ly_lich_tu_phap")


@pytest.fixture
def school(school_frame) -> dict[str, dict]:
    return by_record(school_frame)


@pytest.fixture
def justice(justice_frame) -> dict[str, dict]:
    return by_record(justice_frame)


# --- giao_duc -----------------------------------------------------------------------------------


def test_school_ids_empty_temporary_or_a_parents_are_flags_never_quarantine(school):
    assert all(row[REASONS] == [] for row in school.values())
    with_id, without, temporary, parents = (school[f"010010000{i}"] for i in range(1, 5))
    assert with_id["national_id"] == "001315012345" and with_id[FLAGS] == []
    assert without["national_id"] is None and rule_ids(without[FLAGS]) == {"id.missing"}
    assert temporary["national_id"] is None
    assert temporary["national_id_temporary"] == "HS202517"
    assert "id.temporary_code" in rule_ids(temporary[FLAGS])
    assert "id.malformed" not in rule_ids(temporary[FLAGS])
    # A father's id (born 1985) on a child born in 2014: kept for resolution, flagged.
    assert parents["national_id"] == "001085012345"
    assert "id.of_older_generation" in rule_ids(parents[FLAGS])
    assert "id.of_older_generation" not in rule_ids(with_id[FLAGS])


def test_school_values_are_standardised(school):
    first, _, year_only, _, born_abroad = (school[f"010010000{i}"] for i in range(1, 6))
    assert first["full_name_key"] == "nguyen minh anh"
    assert first["parent_phone"] == "+84912345678"
    assert first["ward_code"] == first["ward_code_delivered"] == "00256"
    assert first["nationality"] == ["VNM"]
    assert year_only["birth_date"] is None and year_only["birth_year"] == 2015
    assert year_only["school_year"] == "2025-2026"
    assert born_abroad["nationality"] == ["KOR", "VNM"]
    assert born_abroad["father_name"] == "Kim Ji Hoon"


def test_a_school_spreadsheet_with_other_header_spellings_reads_as_its_csv(landing):
    spelled = [h.upper() for h in SCHOOL_HEADER]
    spelled[0], spelled[2] = "Ma hoc sinh", "Ho ten hoc sinh"
    write_xlsx(landing / "giao_duc" / f"truong_01001001_{EXTRACT}.xlsx", spelled, SCHOOL_ROWS)
    from_xlsx = standardized(landing, "giao_duc")
    csv_landing = landing.parent / "csv"
    write_csv(csv_landing / "giao_duc" / f"truong_01001001_{EXTRACT}.csv", SCHOOL_HEADER,
              SCHOOL_ROWS, sep=";")  # fmt: skip
    from_csv = standardized(csv_landing, "giao_duc")
    compared = ["source_record_id", "national_id", "national_id_temporary", "full_name",
                "birth_date", "birth_year", "school_code", "nationality", FLAGS]  # fmt: skip
    assert from_xlsx.select(compared).equals(from_csv.select(compared))
    # The id typed as a number lost its leading zeros in Excel: restored.
    assert from_xlsx["national_id"][0] == "001315012345"


def test_a_student_in_two_schools_is_two_records_and_nothing_is_lost(landing):
    transferred = SCHOOL_ROWS[1]
    write_csv(landing / "giao_duc" / f"truong_01001001_{EXTRACT}.csv", SCHOOL_HEADER, [transferred])
    # The second school gave the child a code of its own: another record of the same child.
    other_school = ["0100200077", *transferred[1:7], "01002001", "4D", *transferred[9:]]
    write_csv(
        landing / "giao_duc" / f"truong_01002001_{EXTRACT}.csv", SCHOOL_HEADER, [other_school]
    )
    # The same code in a later extract of the first school: the later row wins.
    moved = [transferred[0], *transferred[1:7], "01003001", "4E", *transferred[9:]]
    write_csv(landing / "giao_duc" / "truong_01003001_20251001.csv", SCHOOL_HEADER, [moved])
    raw, _ = read_source(landing, SOURCES["giao_duc"])
    std = standardize(raw.lazy(), SOURCES["giao_duc"]).collect()
    assert sorted(std["school_code"]) == ["01002001", "01003001"]
    assert std.height == raw["is_latest"].sum()
    assert std[FLAGS].to_list() == [["id.missing: no personal id"]] * 2


# --- ly_lich_tu_phap ----------------------------------------------------------------------------


def test_documents_are_typed_numbered_and_give_the_personal_id(justice):
    cmnd, passport, id_card, *_ = justice.values()
    assert (cmnd["document_type"], cmnd["document_number"]) == ("cmnd", "012345678")
    assert (cmnd["cmnd"], cmnd["national_id"], cmnd["issuing_country"]) == (
        "012345678", None, "VNM",
    )  # fmt: skip
    assert (passport["document_type"], passport["document_number"]) == ("passport", "M12345678")
    assert passport["issuing_country"] == "KOR" and passport["nationality"] == ["KOR"]
    assert passport["national_id"] is None and passport["full_name"] == "Kim Min Jun"
    assert passport["certificate_form"] == "2"
    # "Chứng minh thư" with a 12-digit number is a CCCD: the personal id.
    assert id_card["document_type"] == "national_id"
    assert id_card["national_id"] == "001190012345"
    assert id_card["nationality"] == ["VNM", "USA"]


def test_document_and_nationality_rules_flag_and_do_not_quarantine(justice):
    flagged = {rid: rule_ids(row[FLAGS]) for rid, row in justice.items()}
    assert "document.passport_malformed" in flagged["LLTP-2025-0004"]
    assert "document.passport_malformed" not in flagged["LLTP-2025-0002"]
    assert {"document.number_misfit", "nationality.unknown"} <= flagged["LLTP-2025-0005"]
    assert "document.type_unknown" in flagged["LLTP-2025-0006"]
    clean = ("LLTP-2025-0001", "LLTP-2025-0002", "LLTP-2025-0003")
    assert all(not flagged[rid] & {"document.number_misfit", "document.type_unknown",
               "document.passport_malformed", "nationality.unknown"} for rid in clean)  # fmt: skip
    assert [rid for rid, row in justice.items() if row[REASONS]] == ["LLTP-2025-0006"]


def test_convictions_are_kept_for_justice_and_never_in_the_quarantine(landing, justice):
    assert justice["LLTP-2025-0001"]["criminal_record"] == CONVICTION
    assert justice["LLTP-2025-0001"]["has_criminal_record"] is True
    assert justice["LLTP-2025-0003"]["has_criminal_record"] is False  # "Không"
    assert justice["LLTP-2025-0002"]["has_criminal_record"] is False  # empty
    raw, _ = read_source(landing, SOURCES["ly_lich_tu_phap"])
    std = standardize(raw.lazy(), SOURCES["ly_lich_tu_phap"])
    quarantined = rejected_input([raw.lazy()], [std])
    assert quarantined["source_record_id"].to_list() == ["LLTP-2025-0006"]
    delivered = json.loads(quarantined["raw"][0])
    assert delivered["Họ và tên"] == "Lò Văn Pá" and "Án tích" not in delivered
    assert "trộm cắp" not in str(quarantined.rows())


# --- foreign elements in the register, births and marriages -------------------------------------


def test_dan_cu_reads_with_and_without_the_previous_id_column(landing):
    header = list(REGISTER)
    row = list(REGISTER.values())
    write_csv(landing / "dan_cu" / f"phuong_a_{EXTRACT}.csv", header, [row])
    reissued = [*row, "001188012345"]
    reissued[0] = "HS00013"
    write_csv(landing / "dan_cu" / f"phuong_b_{EXTRACT}.csv",
              [*header, "Số định danh cá nhân cũ"], [reissued])  # fmt: skip
    std = standardized(landing, "dan_cu")
    assert std["previous_national_id"].to_list() == [None, "001188012345"]
    assert std["nationality"].to_list() == [["VNM"], ["VNM"]]
    assert std[REASONS].to_list() == [[], []]


def test_a_birth_with_a_korean_father_and_a_marriage_with_an_american(landing):
    birth = {**BIRTH, "Quốc tịch": "Việt Nam; Hàn Quốc", "Họ tên cha": "PARK JI SUNG",
             "Số định danh cha": "", "Quốc tịch cha": "KOR", "Loại giấy tờ cha": "HO CHIEU",
             "Số giấy tờ cha": "m 1234 5678"}  # fmt: skip
    write_csv(landing / "khai_sinh" / f"ks_{EXTRACT}.csv", list(birth), [list(birth.values())])
    marriage = {**MARRIAGE, "Họ tên chồng": "John Smith", "Số định danh chồng": "",
                "Quốc tịch chồng": "Hoa Kỳ", "Loại giấy tờ chồng": "Passport",
                "Số giấy tờ chồng": "A12345678"}  # fmt: skip
    write_csv(landing / "ket_hon" / f"kh_{EXTRACT}.csv", list(marriage), [list(marriage.values())])
    [born] = standardized(landing, "khai_sinh").iter_rows(named=True)
    assert born["nationality"] == ["VNM", "KOR"]
    assert (born["father_document_type"], born["father_document_number"]) == (
        "passport", "M12345678",
    )  # fmt: skip
    # No place of issue: the passport's country is the holder's one nationality.
    assert born["father_issuing_country"] == "KOR" and born["father_nationality"] == ["KOR"]
    assert born["mother_document_type"] is None and born["mother_nationality"] == []
    assert born[REASONS] == [] and born[FLAGS] == []
    [married] = standardized(landing, "ket_hon").iter_rows(named=True)
    assert married["husband_issuing_country"] == "USA"
    assert married[REASONS] == [] and married[FLAGS] == []


# --- every source: schema and nothing lost ------------------------------------------------------


def test_accepted_rows_of_the_new_sources_match_their_schemas(school_frame, justice_frame):
    for source, frame in (("giao_duc", school_frame), ("ly_lich_tu_phap", justice_frame)):
        rows = accepted(frame.lazy()).collect()
        standardized_schema(SOURCES[source]).validate(rows, lazy=True)


def test_the_schema_rejects_a_nationality_that_is_no_code(school_frame):
    frame = school_frame.with_columns(
        pl.lit(["Korea"], dtype=pl.List(pl.String)).alias("nationality")
    )
    with pytest.raises(pa.errors.SchemaErrors):
        standardized_schema(SOURCES["giao_duc"]).validate(frame, lazy=True)


def test_every_row_of_the_new_sources_is_accepted_or_quarantined(landing):
    write_csv(landing / "giao_duc" / f"truong_01001001_{EXTRACT}.csv", SCHOOL_HEADER, SCHOOL_ROWS)
    write_xlsx(landing / "giao_duc" / f"truong_01002001_{EXTRACT}.xlsx", SCHOOL_HEADER,
               [["0100200001", *SCHOOL_ROWS[0][1:]]])  # fmt: skip
    write_csv(landing / "ly_lich_tu_phap" / f"lltp_{EXTRACT}.csv", JUSTICE_HEADER, JUSTICE_ROWS)
    # A justice file without `Án tích` misses a required column: rejected whole, and counted.
    write_csv(landing / "ly_lich_tu_phap" / "lltp_20250916.csv", JUSTICE_HEADER[:-1],
              [row[:-1] for row in JUSTICE_ROWS])  # fmt: skip
    for source in ("giao_duc", "ly_lich_tu_phap"):
        raw, _ = read_source(landing, SOURCES[source])
        std = standardize(raw.lazy(), SOURCES[source])
        latest_rows = raw.filter(pl.col("file_error").is_null() & pl.col("is_latest")).height
        quarantined = rejected_input([raw.lazy()], [std])
        published = accepted(std).collect().height
        rows_quarantined = quarantined["row_number"].is_not_null().sum()
        assert latest_rows == published + rows_quarantined, source
    files_rejected = quarantined.filter(pl.col("row_number").is_null())
    assert files_rejected["reasons"].to_list() == [
        ["file.rejected: missing required column(s): 'Án tích'"]
    ]
    assert set(quarantined.select(rule_id(pl.col(REASONS).list.first()))["reasons"]) == {
        "file.rejected", "date.impossible",
    }  # fmt: skip


# --- `dancu run` on all eight sources -----------------------------------------------------------

DEATH = {
    "Số đăng ký": "KT2025-001", "Ngày đăng ký": "03/09/2025", "Mã nơi đăng ký": "00256",
    "Họ tên người chết": "Trần Văn Đức", "Ngày sinh": "1940", "Giới tính": "Nam",
    "Số định danh cá nhân": "001040012345", "Ngày chết": "01/09/2025", "Nơi chết": "Tại nhà",
}  # fmt: skip
INSURED = {
    "Mã số BHXH": "0123456789", "Họ và tên": "NGUYEN VAN AN", "Ngày sinh": "15/03/1988",
    "Giới tính": "Nam", "Số CCCD/CMND": "001 088 012 345", "Địa chỉ": REGISTER["Nơi thường trú"],
    "Số điện thoại": "0912345678",
}  # fmt: skip
PATIENT = {
    "Mã bệnh nhân": "BN0001", "Họ tên": "Nguyễn Minh Anh", "Ngày sinh": "03/04/2015",
    "Giới tính": "Nữ", "Số CCCD": "", "Số thẻ BHYT": "TE1010123456789",
    "Địa chỉ": REGISTER["Nơi thường trú"], "Số điện thoại": "", "Ngày khám": "05/09/2025",
}  # fmt: skip
# The register's people: the father and the daughter of the school's first record.
RESIDENTS = [
    REGISTER,
    {**REGISTER, "Mã hồ sơ": "HS00013", "Số định danh cá nhân": "001315012345", "Số CMND": "",
     "Họ, chữ đệm và tên": "Nguyễn Minh Anh", "Ngày, tháng, năm sinh": "03/04/2015",
     "Giới tính": "Nữ", "Tình trạng hôn nhân": "Độc thân", "Họ tên cha": "Nguyễn Văn An",
     "Số điện thoại": ""},
]  # fmt: skip
NEW_SOURCES = ("giao_duc", "ly_lich_tu_phap")


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    header = list(dict.fromkeys(label for row in rows for label in row))
    write_csv(path, header, [[row.get(label, "") for label in header] for row in rows])


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("eight_sources")
    landing = out / "landing"
    write_rows(landing / "dan_cu" / "phuong_00256_20250915.csv", RESIDENTS)
    write_rows(landing / "bhxh" / "bhxh_20250915.csv", [INSURED])
    write_rows(landing / "y_te" / "benh_vien_20250915.csv", [PATIENT])
    write_rows(landing / "khai_sinh" / "khai_sinh_20250915.csv", [BIRTH])
    write_rows(landing / "khai_tu" / "khai_tu_20250915.csv", [DEATH])
    write_rows(landing / "ket_hon" / "ket_hon_20250915.csv", [MARRIAGE])
    write_xlsx(landing / "giao_duc" / "truong_01001001_20250915.xlsx", SCHOOL_HEADER, SCHOOL_ROWS)
    transferred = ["0100200077", *SCHOOL_ROWS[1][1:7], "01002001", "4D", *SCHOOL_ROWS[1][9:]]
    write_csv(landing / "giao_duc" / "truong_01002001_20250915.csv", SCHOOL_HEADER, [transferred])
    write_csv(landing / "ly_lich_tu_phap" / "lltp_20250915.csv", JUSTICE_HEADER, JUSTICE_ROWS)
    run_dancu(landing, out)
    return out


def published(run: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(run / "data" / "warehouse" / "dancu.duckdb"), read_only=True) as con:
        return con.sql(sql).pl()


def test_every_row_of_the_new_sources_is_published_or_quarantined(run):
    landed = published(
        run,
        "select source, source_record_id, 'person_source' as place from person_source "
        "union all select source, source_record_id, 'quarantine' from quarantine",
    ).filter(pl.col("source").is_in(NEW_SOURCES))
    expected = {("giao_duc", row[0]) for row in SCHOOL_ROWS} | {("giao_duc", "0100200077")}
    expected |= {("ly_lich_tu_phap", row[0]) for row in JUSTICE_ROWS}
    assert set(landed.select("source", "source_record_id").iter_rows()) == expected
    assert landed.height == len(expected)  # each in one place
    quarantined = landed.filter(pl.col("place") == "quarantine")
    assert quarantined["source_record_id"].to_list() == ["LLTP-2025-0006"]


def test_students_and_requesters_find_a_person_of_the_register_or_none(run):
    """Schools and judicial records only use the register: a record joins a person it knows, or
    stays without one, its match status saying why; none brings a person of its own."""
    records = published(
        run,
        "select s.source, s.source_record_id, s.person_id, m.match_status, p.full_name "
        "from person_source s join record_match m using (source, source_record_id) "
        "left join person p on p.person_id = s.person_id order by all",
    )
    matched = records.filter(pl.col("match_status") == "matched")
    assert matched.filter(pl.col("source") == "giao_duc")["full_name"].to_list() == [
        "Nguyễn Minh Anh"
    ]
    unmatched = records.filter(pl.col("person_id").is_null())
    assert "matched" not in unmatched["match_status"]
    requester = records.row(by_predicate=pl.col("source_record_id") == "LLTP-2025-0002", named=True)
    assert requester["person_id"] is None and requester["match_status"] == "not_in_register"
    founded = (
        "select count(*) as n from person where primary_source in ('giao_duc', 'ly_lich_tu_phap')"
    )
    assert published(run, founded)["n"][0] == 0


def test_a_conviction_is_only_in_the_justice_tables(run):
    needle = CONVICTION.encode()
    # The justice sector's frames between stages, and the warehouse files whose justice tables
    # hold it for the justice service alone (tests/test_publish_new_sources.py checks which).
    kept = {"staging", "warehouse"}
    for path in (run / "data").rglob("*"):
        if path.is_file() and not kept & set(path.relative_to(run / "data").parts):
            assert needle not in path.read_bytes(), path
    assert CONVICTION not in (run / "run.log").read_text(encoding="utf-8")
    # The warehouse file may compress its text: each table's text columns, as read.
    tables = published(run, "select table_name, column_name from information_schema.columns "
                            "where data_type = 'VARCHAR' "
                            "and table_name not in ('justice_request', 'svc_justice')")  # fmt: skip
    for table, column in tables.iter_rows():
        found = f"""select count(*) as n from "{table}" where "{column}" like '%trộm cắp%'"""
        assert published(run, found)["n"][0] == 0, (table, column)
