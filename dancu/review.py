"""The clerk's review files: the review queue as an XLSX workbook in Vietnamese (and as a CSV),
which a clerk opens in Excel and fills in, and the decisions read back from either. The format
is written and read here alone.

Safe to open: no cell can start a formula. Per the OWASP CSV-injection guidance, a text cell
starting with `=`, `+`, `-`, `@`, tab or carriage return is prefixed with `'`, which Excel shows
as text. Numbers stay numbers (a number is never a formula). Written in UTF-8 with a BOM, without
which Excel reads Vietnamese names in the local code page.

A clerk needs names, dates and addresses to decide whether two records are one person, so those
show; national ids, insurance codes and phones are masked (a clerk compares their masked forms
and the per-field comparison levels). The source record ids stay whole: they are what a clerk's
decision names when it goes back to resolution (an insurance record's id is its insurance code,
so that code shows whole there).
"""

import io
from pathlib import Path

import fastexcel
import polars as pl
import xlsxwriter

from dancu.ingest import FileRejected, read_table
from dancu.mask import mask_id

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_ESCAPE = "'"
# Columns (before their _l / _r side suffix) that identify a person and are masked.
MASKED = ("national_id", "cmnd", "bhxh_code", "health_card", "phone")
DECISION = "decision"  # filled in by the clerk: match / no_match
DECISIONS = ["match", "no_match"]
# Excel's sheets end at row 1,048,576: past that many rows under the header, a workbook goes on
# in another sheet (`sheet_names`), and decisions are read from every sheet.
SHEET_ROWS = 1_048_575
SHEET_NAME = "Hàng chờ đối chiếu"
# What a decision names: the two records, by source and record id.
DECIDED_PAIR = ["source_l", "source_record_id_l", "source_r", "source_record_id_r"]

# The workbook's columns: the pair, the clerk's decision, then each field of the two records
# side by side, then each comparison's level in words with its weight.
PAIR_HEADERS = {
    "source_l": "Nguồn A",
    "source_record_id_l": "Mã hồ sơ A",
    "source_r": "Nguồn B",
    "source_record_id_r": "Mã hồ sơ B",
    DECISION: "Quyết định",
}
DECISION_WORDS = {"match": "Cùng một người", "no_match": "Hai người khác nhau"}
# Why a pair waits for a clerk (`dancu.resolve.decisions`, `dancu.resolve.clusters`).
REASON_WORDS = {
    "uncertain": "mô hình chưa chắc chắn",
    "clerk said no_match": "cán bộ đã quyết định khác người",
    "two national ids": "hai số định danh khác nhau",
    "two people": "bằng chứng là hai người khác nhau",
    "clear non-match inside the cluster": "hai hồ sơ rõ ràng khác nhau trong cùng một nhóm",
    "more than 50 records": "nhóm quá 50 hồ sơ",
}
FIELD_LABELS = {
    "full_name": "Họ tên",
    "birth_date": "Ngày sinh",
    "birth_year": "Năm sinh",
    "sex": "Giới tính",
    "national_id": "Số định danh",
    "bhxh_code": "Mã số BHXH",
    "phone": "Số điện thoại",
    "address": "Địa chỉ",
    "ward_code": "Mã xã",
    "father_name": "Họ tên cha",
    "mother_name": "Họ tên mẹ",
}
COMPARISON_LABELS = {
    "national_id": "số định danh",
    "bhxh_code": "mã số BHXH",
    "given_name": "tên",
    "family_name": "họ",
    "middle_name": "tên đệm",
    "birth_date": "ngày sinh",
    "sex": "giới tính",
    "phone": "điện thoại",
    "ward": "xã/phường",
    "address": "địa chỉ",
    "parents": "cha mẹ",
}
# The comparisons' levels in words a clerk reads; a level without one shows as the model names it.
LEVEL_WORDS = {
    "same": "giống nhau",
    "different": "khác nhau",
    "not comparable": "không so được (thiếu)",
    "same old id card or passport": "cùng số CMND hoặc hộ chiếu",
    "a non-citizen and a citizen's id": "người không quốc tịch Việt Nam và số định danh công dân",
    "other passports": "hộ chiếu khác nhau",
    "one digit slip": "lệch một chữ số",
    "same without diacritics": "giống khi bỏ dấu",
    "one letter slip": "sai một chữ cái",
    "one letter apart": "khác một chữ cái",
    "swapped with the family name": "đảo với họ",
    "swapped with the given name": "đảo với tên",
    "Hoàng/Huỳnh or Vũ/Võ": "Hoàng/Huỳnh hoặc Vũ/Võ",
    "similar": "gần giống",
    "dropped or added": "thiếu hoặc thừa",
    "day and month transposed": "đảo ngày và tháng",
    "year only, same year": "chỉ biết năm, cùng năm",
    "1 January for the day, same year": "ngày 01/01 thay cho ngày chưa biết, cùng năm",
    "same month": "cùng tháng",
    "same year": "cùng năm",
    "nearly the same (ratio ≥ 90)": "gần như giống (≥ 90%)",
    "both same": "cả cha và mẹ giống",
    "one same, other unknown": "một người giống, người kia không rõ",
    "one is another generation's": "số định danh của người thế hệ khác",
    "two letter slips": "sai hai chữ cái",
    "same words in another order": "cùng các chữ, khác thứ tự",
    "same letters, spaced otherwise": "cùng các chữ cái, khác dấu cách",
    "ten years apart, same day": "lệch mười năm, cùng ngày tháng",
    "a generation apart": "cách nhau một thế hệ",
    "similar, same ward (ratio ≥ 70)": "gần giống, cùng xã/phường (≥ 70%)",
    "same ward": "cùng xã/phường",
    "similar, other ward (ratio ≥ 70)": "gần giống, khác xã/phường (≥ 70%)",
}


def excel_safe(text: pl.Expr) -> pl.Expr:
    """Text Excel shows as it is, never evaluates."""
    starts_formula = text.str.slice(0, 1).is_in(list(FORMULA_STARTS))
    return pl.when(starts_formula).then(FORMULA_ESCAPE + text).otherwise(text)


def is_masked(column: str) -> bool:
    """A record's identifying value (`national_id_l`, `phone_r`); not a comparison's level,
    which the queue names after the field alone (`national_id`: "one digit slip")."""
    field, side = column[:-2], column[-2:]
    return side in ("_l", "_r") and field in MASKED


def clerk_sheet(queue: pl.DataFrame) -> pl.DataFrame:
    """Every column of the review queue, masked where it identifies, plus an empty decision."""
    columns = []
    for name, dtype in queue.schema.items():
        if dtype.is_numeric() or dtype == pl.Boolean:
            columns.append(pl.col(name))
            continue
        text = pl.col(name).cast(pl.String)
        if is_masked(name):
            text = mask_id(text)
        columns.append(excel_safe(text).alias(name))
    return queue.select(columns).with_columns(pl.lit("").alias(DECISION))


def write_csv(sheet: pl.DataFrame) -> bytes:
    return sheet.write_csv(include_bom=True).encode("utf-8")


def _shown(value) -> str | float | None:
    if value is None or isinstance(value, (int, float)):
        return value
    return value.strftime("%d/%m/%Y") if hasattr(value, "strftime") else str(value)


def workbook_sheet(queue: pl.DataFrame) -> pl.DataFrame:
    """The review queue as the workbook shows it, column by column, with Vietnamese headers:
    ids masked, levels in words with their weight rounded, dates as dd/mm/yyyy."""
    comparisons = [c for c in COMPARISON_LABELS if c in queue.columns]
    fields = [f for f in FIELD_LABELS if f"{f}_l" in queue.columns]
    levels = [
        pl.concat_str(
            pl.col(c).replace(LEVEL_WORDS),
            pl.lit(" ("),
            pl.col(f"w:{c}").round(1).cast(pl.String),
            pl.lit(")"),
        ).alias(f"So sánh {COMPARISON_LABELS[c]}")
        for c in comparisons
    ]
    sides = []
    for field in fields:
        for side, letter in (("_l", "A"), ("_r", "B")):
            value = pl.col(field + side)
            if queue.schema[field + side] == pl.Date:
                value = value.dt.strftime("%d/%m/%Y")
            elif is_masked(field + side):
                value = mask_id(value.cast(pl.String))
            sides.append(value.alias(f"{FIELD_LABELS[field]} {letter}"))
    return queue.select(
        *(pl.col(c).alias(PAIR_HEADERS[c]) for c in DECIDED_PAIR),
        pl.lit(None, dtype=pl.String).alias(PAIR_HEADERS[DECISION]),
        pl.col("reason").replace(REASON_WORDS).alias("Lý do"),
        (pl.col("match_probability") * 100).round(1).alias("Xác suất cùng người (%)"),
        *sides,
        *levels,
    )


def sheet_names(name: str, rows: int, per_sheet: int) -> list[str]:
    """The sheets of a workbook of `rows` rows: `name`, then `name (2)` and so on, one per
    `per_sheet` rows, at least one."""
    count = max(1, -(-rows // per_sheet))
    return [name, *(f"{name} ({n})" for n in range(2, count + 1))]


def write_workbook(queue: pl.DataFrame) -> bytes:
    """The clerk's workbook: on each sheet (`sheet_names`) a frozen header and pair columns, a
    drop-down of the two decisions, cells that Excel shows as text and never evaluates as
    formulas."""
    sheet = workbook_sheet(queue)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    header = book.add_format(
        {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#E8EEF4"}
    )
    decision_column = sheet.columns.index(PAIR_HEADERS[DECISION])
    for number, name in enumerate(sheet_names(SHEET_NAME, sheet.height, SHEET_ROWS)):
        rows = sheet.slice(number * SHEET_ROWS, SHEET_ROWS)
        page = book.add_worksheet(name)
        page.write_row(0, 0, sheet.columns, header)
        # Headers wrap over up to three lines: the row must be tall enough to show them.
        page.set_row(0, 45)
        for row, values in enumerate(rows.iter_rows(), start=1):
            page.write_row(row, 0, [_shown(v) for v in values])
        page.data_validation(
            1, decision_column, max(rows.height, 1), decision_column,
            {"validate": "list", "source": list(DECISION_WORDS.values())},
        )  # fmt: skip
        page.freeze_panes(1, decision_column + 1)
        page.set_column(0, len(sheet.columns) - 1, 18)
        page.set_column(decision_column, decision_column, 22)
    book.close()
    return out.getvalue()


def _filled_in(path: Path) -> pl.DataFrame:
    """Every row of a decision file as text: a CSV's, or each sheet's of a workbook."""
    data = path.read_bytes()
    first, encoding, _ = read_table(data, path.suffix)
    if encoding != "xlsx":
        return first
    reader = fastexcel.read_excel(data)
    further = [
        reader.load_sheet(number, dtypes="string").to_polars()
        for number in range(1, len(reader.sheet_names))
    ]
    return pl.concat([first, *further], how="diagonal")


def _decisions_of(path: Path) -> pl.DataFrame:
    """One decision file's decided pairs; FileRejected when it is no such file."""
    frame = _filled_in(path)
    frame = frame.rename({v: k for k, v in PAIR_HEADERS.items() if v in frame.columns})
    missing = [c for c in (*DECIDED_PAIR, DECISION) if c not in frame.columns]
    if missing:
        raise FileRejected(f"missing column(s) {', '.join(missing)} of the review export")
    columns = [*DECIDED_PAIR, DECISION]
    decided = frame.select(pl.col(c).cast(pl.String).str.strip_chars() for c in columns)
    words = {word.lower(): decision for decision, word in DECISION_WORDS.items()}
    decided = decided.with_columns(pl.col(DECISION).str.to_lowercase().replace(words))
    return decided.filter(pl.col(DECISION).str.to_lowercase().is_in(DECISIONS)).with_columns(
        pl.col(DECISION).str.to_lowercase(),
        # The export escaped cells that could start a formula; a decision read back drops it.
        *(pl.col(c).str.strip_prefix(FORMULA_ESCAPE) for c in DECIDED_PAIR),
    )


def clerk_decisions(folder: Path) -> tuple[pl.DataFrame | None, dict[str, str]]:
    """Every clerk decision file: the review export (CSV, separated by `,` or `;` as Excel saves
    it in a Vietnamese locale, or XLSX) with `decision` filled in. A file that cannot be read
    as one is left out with the reason, by name, and the others still count."""
    files = sorted(
        p for p in folder.glob("*") if p.is_file() and not p.name.startswith((".", "~$"))
    ) if folder.is_dir() else []  # fmt: skip
    frames, rejected = [], {}
    for path in files:
        try:
            frames.append(_decisions_of(path))
        except (FileRejected, OSError) as error:
            rejected[path.name] = str(error)
    return (pl.concat(frames) if frames else None), rejected
