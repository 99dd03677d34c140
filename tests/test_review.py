"""The clerk's workbook: Vietnamese, the two records side by side, levels in words, a decision
drop-down, formula-safe, and read back as decisions."""

import io
import zipfile
from datetime import date

import fastexcel
import polars as pl
import pytest
import xlsxwriter

from dancu import review
from dancu.resolve.comparisons import COMPARISONS
from dancu.review import (
    DECISION_WORDS,
    LEVEL_WORDS,
    PAIR_HEADERS,
    clerk_decisions,
    write_workbook,
)


@pytest.fixture
def queue() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source_l": ["dan_cu", "bhxh"], "source_record_id_l": ["HS1", "=1+2"],
            "source_r": ["khai_sinh", "y_te"], "source_record_id_r": ["KS9:child", "BN7"],
            "reason": ["uncertain", "two national ids"], "match_weight": [0.087, -3.2],
            "match_probability": [0.5151, 0.1],
            "national_id": ["not comparable", "one digit slip"],
            "w:national_id": [0.0, 4.61],
            "given_name": ["different", "same"], "w:given_name": [-11.2496, 3.1],
            "full_name_l": ["Nguyễn Thị Linh", "Trần Văn An"],
            "full_name_r": ["Nguyễn Thị Hương", "Tran Van An"],
            "birth_date_l": [date(2025, 5, 2), date(1990, 1, 9)],
            "birth_date_r": [date(2025, 5, 2), date(1990, 9, 1)],
            "national_id_l": ["001325778424", "001090012345"],
            "national_id_r": [None, "001090012354"],
        }
    )  # fmt: skip


def cells(workbook: bytes) -> pl.DataFrame:
    return fastexcel.read_excel(workbook).load_sheet(0, dtypes="string").to_polars()


def test_the_workbook_speaks_vietnamese_and_masks_ids(queue):
    sheet = cells(write_workbook(queue))

    assert sheet.columns[:5] == ["Nguồn A", "Mã hồ sơ A", "Nguồn B", "Mã hồ sơ B", "Quyết định"]
    row = sheet.row(1, named=True)
    assert row["So sánh số định danh"] == "lệch một chữ số (4.6)"
    assert row["So sánh tên"] == "giống nhau (3.1)"
    assert row["Ngày sinh A"] == "09/01/1990" and row["Ngày sinh B"] == "01/09/1990"
    assert row["Số định danh A"] == "001*******45"
    assert row["Lý do"] == "hai số định danh khác nhau"
    assert row["Xác suất cùng người (%)"] == "10"
    assert "001090012345" not in str(sheet.rows())


def test_the_workbook_has_a_decision_drop_down_a_frozen_header_and_no_formula(queue):
    workbook = write_workbook(queue)
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<dataValidation" in xml and all(word in xml for word in DECISION_WORDS.values())
    assert 'state="frozen"' in xml
    assert "<f>" not in xml  # "=1+2" is a string, never a formula
    assert cells(workbook).row(1, named=True)["Mã hồ sơ A"] == "=1+2"


def test_decisions_are_read_back_from_the_workbook(queue, tmp_path):
    filled = cells(write_workbook(queue)).with_columns(
        pl.Series(PAIR_HEADERS["decision"], list(DECISION_WORDS.values()))
    )
    folder = tmp_path / "decisions"
    folder.mkdir()
    filled.write_excel(folder / "reviewed.xlsx")

    decisions, rejected = clerk_decisions(folder)

    assert rejected == {}
    assert decisions.select("source_record_id_l", "decision").rows() == [
        ("HS1", "match"),
        ("=1+2", "no_match"),
    ]


def test_a_queue_past_a_sheets_last_row_goes_on_in_further_sheets_and_is_read_back_whole(
    queue, tmp_path, monkeypatch
):
    monkeypatch.setattr(review, "SHEET_ROWS", 1)
    workbook = fastexcel.read_excel(write_workbook(queue))
    assert workbook.sheet_names == [review.SHEET_NAME, f"{review.SHEET_NAME} (2)"]
    filled = xlsxwriter.Workbook(tmp_path / "reviewed.xlsx", {"strings_to_formulas": False})
    for number, name in enumerate(workbook.sheet_names):
        sheet = workbook.load_sheet(number, dtypes="string").to_polars()
        sheet = sheet.with_columns(pl.lit(DECISION_WORDS["match"]).alias(PAIR_HEADERS["decision"]))
        sheet.write_excel(filled, worksheet=name)
    filled.close()

    decisions, rejected = clerk_decisions(tmp_path)

    assert rejected == {}
    assert decisions.select("source_record_id_l", "decision").rows() == [
        ("HS1", "match"),
        ("=1+2", "match"),
    ]


def test_every_level_of_every_comparison_has_words():
    labels = {label for comparison in COMPARISONS for label in comparison.labels}
    assert labels - set(LEVEL_WORDS) == set()
