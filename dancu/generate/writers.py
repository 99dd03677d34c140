"""File writers: one rendered table in, one extract file out, byte-identical for identical input.

CSV text is encoded whole (UTF-8 with or without BOM, UTF-16 LE with BOM, or Windows-1258), so
no per-row Python work happens outside the XLSX writer, where xlsxwriter's API is per cell. Text
bound for Windows-1258 must already be in `legacy_text.to_cp1258_form` (the caller converts each
distinct value once rather than every character of the file). XLSX documents carry a fixed
creation time (xlsxwriter otherwise stamps the wall clock into docProps/core.xml); Parquet files
hold no timestamps.
"""

import codecs
import itertools
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

EXCEL_DATE_FORMAT = "dd/mm/yyyy"
# The sheet an office puts before the data of a workbook of several sheets.
INSTRUCTIONS_SHEET = "Hướng dẫn"
INSTRUCTIONS = ("HƯỚNG DẪN", "Mỗi trang tính một phần danh sách; không sửa dòng tiêu đề.")


def encode_text(text: str, encoding: str) -> bytes:
    if encoding == "utf-16":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    return text.encode(encoding)


def write_csv(
    path: Path,
    table: pl.DataFrame,
    style: dict,
    title: Sequence[str] = (),
    joined_at: int | None = None,
) -> None:
    """`title`: lines above the header; `joined_at`: the row after which the header comes again,
    as when two extracts are joined into one file."""
    line = style["line_ending"]
    options = {"separator": style["separator"], "line_terminator": line, "quote_style": "necessary"}
    parts = [table] if joined_at is None else [table.head(joined_at), table.slice(joined_at)]
    text = "".join(f"{title_line}{line}" for title_line in title) + "".join(
        part.write_csv(**options) for part in parts
    )
    if style["text_form"] == "nfd":
        text = unicodedata.normalize("NFD", text)
    path.write_bytes(encode_text(text, style["encoding"]))


def write_parquet(path: Path, table: pl.DataFrame) -> None:
    table.write_parquet(path, compression="zstd", statistics=True)


def _cells(text: pl.Series, number: pl.Series | None) -> list:
    """One column's cells: a float where the cell holds a number, else the text (or None)."""
    if number is None:
        return text.to_list()
    values = text.to_numpy().astype(object)
    is_number = number.is_not_null().to_numpy()
    values[is_number] = number.to_numpy()[is_number]
    return values.tolist()


def write_xlsx(
    path: Path,
    table: pl.DataFrame,
    numbers: dict[str, pl.Series],
    date_columns: set[str],
    created: datetime,
    title: Sequence[str] = (),
    sheets: int = 1,
) -> None:
    """The table under its header; `numbers` holds the cells typed as numbers per column, and
    those of `date_columns` get a date format (Excel serials shown as dates). `title`: lines
    above the header; `sheets` > 1: a sheet of instructions first, then the rows over that many
    sheets, each under the title and the header."""
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    workbook.set_properties({"created": created})
    if sheets > 1:
        workbook.add_worksheet(INSTRUCTIONS_SHEET).write_column(0, 0, INSTRUCTIONS)
    date_format = workbook.add_format({"num_format": EXCEL_DATE_FORMAT})
    formats = [date_format if name in date_columns else None for name in table.columns]
    columns = [_cells(table[name], numbers.get(name)) for name in table.columns]
    rows = list(zip(*columns, strict=True))
    bounds = [len(rows) * part // sheets for part in range(sheets + 1)]
    for part, (start, end) in enumerate(itertools.pairwise(bounds), start=1):
        sheet = workbook.add_worksheet(f"Phần {part}" if sheets > 1 else None)
        for row, line in enumerate(title):
            if line:
                sheet.write_string(row, 0, line)
        sheet.write_row(len(title), 0, table.columns)
        write_string, write_number = sheet.write_string, sheet.write_number
        for row, values in enumerate(rows[start:end], start=len(title) + 1):
            for col, value in enumerate(values):
                if isinstance(value, float):
                    write_number(row, col, value, formats[col])
                elif value:
                    write_string(row, col, value)
    workbook.close()


def with_row_numbers(
    table: pl.DataFrame, numbers: dict[str, pl.Series], label: str
) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """Prepend the "STT" ordinal column some exports carry (a number in XLSX)."""
    ordinal = pl.Series(label, np.arange(1, table.height + 1))
    numbers = {**numbers, label: ordinal.cast(pl.Float64)}
    return table.insert_column(0, ordinal.cast(pl.String)), numbers
