"""File writers: one rendered table in, one extract file out, byte-identical for identical input.

CSV text is encoded whole (UTF-8 with or without BOM, UTF-16 LE with BOM, or Windows-1258), so
no per-row Python work happens outside the XLSX writer, where xlsxwriter's API is per cell. Text
bound for Windows-1258 must already be in `legacy_text.to_cp1258_form` (the caller converts each
distinct value once rather than every character of the file). XLSX documents carry a fixed
creation time (xlsxwriter otherwise stamps the wall clock into docProps/core.xml); Parquet files
hold no timestamps.
"""

import codecs
import unicodedata
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

EXCEL_DATE_FORMAT = "dd/mm/yyyy"


def encode_text(text: str, encoding: str) -> bytes:
    if encoding == "utf-16":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    return text.encode(encoding)


def write_csv(path: Path, table: pl.DataFrame, style: dict) -> None:
    text = table.write_csv(
        separator=style["separator"],
        line_terminator=style["line_ending"],
        quote_style="necessary",
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
) -> None:
    """First sheet, header in row 1; `numbers` holds the cells typed as numbers per column, and
    those of `date_columns` get a date format (Excel serials shown as dates)."""
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    workbook.set_properties({"created": created})
    sheet = workbook.add_worksheet()
    date_format = workbook.add_format({"num_format": EXCEL_DATE_FORMAT})
    sheet.write_row(0, 0, table.columns)
    formats = [date_format if name in date_columns else None for name in table.columns]
    columns = [_cells(table[name], numbers.get(name)) for name in table.columns]
    write_string, write_number = sheet.write_string, sheet.write_number
    for row, values in enumerate(zip(*columns, strict=True), start=1):
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
