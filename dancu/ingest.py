"""Reading extract files as delivered: every format, encoding and header variant of the contract.

Values stay text here; repairing them is the standardisation stage's job. A file that cannot be
read, or lies outside the landing layout, becomes one `FileRejected` with the cause, never an
exception that stops the run.
"""

import codecs
import csv
import functools
import io
import itertools
import os
import re
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TypeVar

import fastexcel
import polars as pl

from dancu.cache import FileCache, code_version, content_digest
from dancu.contract import (
    EXTRACT_DATE,
    FILE_NAME,
    RECORD_ID,
    ROW_NUMBER,
    SOURCE,
    SOURCES,
    Source,
    as_of,
)
from dancu.text import code_text, fold_label

FILE_ERROR = "file_error"
# True on the last row of a file that ends inside it (rule `file.truncated`).
TRUNCATED = "_truncated"
# True on a CSV row of more fields than its header (rule `row.ragged`).
RAGGED = "_ragged"
EXTRA_PREFIX = "extra:"
SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".parquet")
# The source of a file outside every source's folder.
NO_SOURCE = "(no source)"
# How the reason for rejecting a file outside the layout begins.
OUTSIDE_LAYOUT = "outside the layout"
EXTRACT_NAME = "<name>_<YYYYMMDD>.<csv|xlsx|parquet>"

_EIGHT_DIGITS = re.compile(r"(?<!\d)(\d{8})(?!\d)")
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_SEPARATORS = (",", ";")
_ASCII = bytes(range(128))
# What polars says of a CSV row of more fields than the header.
RAGGED_ROWS = "found more fields than defined"
# A line ending of a classic Mac (a carriage return alone), or of a file that Python's csv
# module wrote on Windows (\r\r\n): one line ending each.
_CARRIAGE_RETURNS = re.compile(rb"\r+\n?")
_SOURCE_OF_FOLDED = {fold_label(name): name for name in SOURCES}
UNDECODABLE = "\ufffd"
# Above this share of undecodable non-ASCII bytes a file is not UTF-8 with a bad cell.
MAX_UNDECODABLE_SHARE = 0.1
# A text file holds no NUL; a few may come from a corrupt cell, many mean binary content.
MAX_NUL_SHARE = 0.01
# Files are read side by side: the XLSX and CSV parsers and the hash release the GIL for most
# of their work (on 2 cores, 4 threads read a million persons' dan_cu files in 12 s, not 17 s).
READ_THREADS = 4
# The top rows of a sheet (or of a CSV saved from one) where its header is looked for when the
# first row is not it: exports put a title above the table (the national motto, "DANH SÁCH ...").
HEADER_SEARCH_ROWS = 20

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


class FileRejected(Exception):
    """A whole file that cannot be loaded; the message names the cause, never a row's values.

    `rows` are the data rows of a file that was read before it was rejected (a header short of a
    required column): `extract_file.rows` counts them, so that the rows delivered add up to what
    the landing files hold."""

    def __init__(self, reason: str, rows: int = 0):
        super().__init__(reason)
        self.rows = rows


class ExtractUnreadable(Exception):
    """Reading a file failed in a way that may pass (a network share, a full disk): the run
    stops, and may be retried; the message names the file."""


@dataclass(frozen=True)
class ReadReport:
    """How a file was read: for the run's metadata and the warehouse's `extract_file` table."""

    source: str
    file_name: str
    extract_date: date | None
    rows: int
    encoding: str
    separator: str
    error: str | None = None
    sha256: str = ""  # of the file's bytes: what was read, and the cache's key
    # Rows above the header (a title): `row_number` counts from the header all the same.
    title_rows: int = 0
    # A workbook read from more sheets than its first, or from another: each sheet and the
    # rows it gave (`row_number` runs on from one sheet to the next), and those without the
    # header, which were not read ("Lớp 1A: rows 1-35; Lớp 1B: rows 36-70; Hướng dẫn: no header").
    sheets: str = ""


@dataclass(frozen=True)
class Delivered:
    """A file's first table as delivered: text cells, except in Parquet, which keeps its types."""

    frame: pl.DataFrame
    encoding: str
    separator: str = ""
    cut_short: bool = False  # the file ends inside its last row: it was cut
    title_rows: int = 0  # rows above its header (a title)
    sheet: int | str = 0  # a workbook's sheet, by position or name
    sheet_names: tuple[str, ...] = ()  # every sheet of the workbook
    sheets: str = ""  # `ReadReport.sheets`
    ragged: tuple[int, ...] = ()  # a CSV's rows (from 0) of more fields than its header


def extract_date_from_name(name: str) -> date | None:
    """The extract date: the last 8-digit group of the file name, when it is a real date."""
    groups = _EIGHT_DIGITS.findall(Path(name).stem)
    if not groups:
        return None
    digits = groups[-1]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def detect_encoding(data: bytes) -> str:
    """The codec of a CSV as the source systems write them: UTF-8 (BOM or not), UTF-16, cp1258.

    A UTF-8 file with a few undecodable bytes (a corrupt cell) stays UTF-8: those bytes become
    U+FFFD, which the rules flag on their row. Windows-1258 text is undecodable almost wherever
    it leaves ASCII.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    undecodable = data.decode("utf-8", errors="replace").count(UNDECODABLE)
    non_ascii_bytes = len(data.translate(None, _ASCII))
    if undecodable > MAX_UNDECODABLE_SHARE * non_ascii_bytes:
        return "cp1258"
    return "utf-8"


def detect_separator(header_line: str) -> str:
    """`;` or `,`: whichever splits the header into more fields."""
    return max(_SEPARATORS, key=header_line.count)


def _sniff_content_error(data: bytes, suffix: str) -> str | None:
    """Why the bytes cannot be what the file extension says, or None."""
    if not data.strip():
        return "the file is empty: no header row"
    looks_zip = data.startswith(_ZIP_MAGIC)
    looks_parquet = data.startswith(_PARQUET_MAGIC)
    if suffix == ".csv" and (looks_zip or looks_parquet):
        kind = "an XLSX/ZIP archive" if looks_zip else "a Parquet file"
        return f"the content is {kind}, not CSV text"
    if suffix == ".xlsx" and not looks_zip:
        return "the content is not an XLSX workbook"
    if suffix == ".parquet" and not looks_parquet:
        return "the content is not a Parquet file"
    return None


def _read_csv(data: bytes, title_rows: int = 0) -> Delivered:
    """The CSV, its header `title_rows` lines down."""
    encoding = detect_encoding(data)
    body = data.removeprefix(codecs.BOM_UTF8)
    if encoding.startswith("utf-8") and b"\x00" not in body:
        # Polars reads UTF-8 itself, turning undecodable bytes into U+FFFD as Python does: the
        # file is not decoded and encoded again in Python, which holds the other reading threads.
        body = _without_lines(_line_feeds(body), title_rows)
        separator = detect_separator(body.split(b"\n", 1)[0].decode("utf-8", errors="replace"))
        return _parsed_csv(body, separator, encoding, "utf8-lossy", title_rows)
    # Bytes that are no text in the file's encoding become U+FFFD, flagged on their row; half a
    # character at the very end (a file cut short) is dropped, as the decoder waits for the rest.
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(data)
    if text.count("\x00") > MAX_NUL_SHARE * len(text) or "\x00" in text.split("\n", 1)[0]:
        raise FileRejected("the content is binary, not CSV text")
    body = _without_lines(_line_feeds(text.encode("utf-8")), title_rows)
    separator = detect_separator(body.split(b"\n", 1)[0].decode("utf-8"))
    return _parsed_csv(body, separator, encoding, "utf8", title_rows)


def _line_feeds(data: bytes) -> bytes:
    """Lines ended by carriage returns that are not one before a line feed ended by a line
    feed, as polars and the title's line count read lines (a file of such lines was one line
    to them, or had a blank line after every line)."""
    stray = data.count(b"\r") > data.count(b"\r\n")
    return _CARRIAGE_RETURNS.sub(b"\n", data) if stray else data


def _without_lines(data: bytes, count: int) -> bytes:
    """`data` from its line `count` on."""
    start = 0
    for _ in range(count):
        start = data.find(b"\n", start) + 1
        if start == 0:
            return b""
    return data[start:]


def _csv_below_its_title(data: bytes, source: Source) -> Delivered | None:
    """The CSV read from the first of its top lines that holds the source's header, when a
    title stands above it (a sheet saved as CSV); None when no line does."""
    head = data[: 2**16].decode(detect_encoding(data), errors="replace")
    lines = head.splitlines()[:HEADER_SEARCH_ROWS]
    rows = [next(csv.reader([line], delimiter=detect_separator(line)), []) for line in lines]
    row = _header_row(rows, source)
    return _read_csv(data, title_rows=row) if row else None


def _last_record(data: bytes) -> bytes:
    """The CSV's last record: after the last line break that is outside quotes."""
    start = data.rfind(b"\n") + 1
    # A line break with an odd number of quotes after it is inside a quoted cell.
    while start > 0 and data.count(b'"', start) % 2:
        start = data.rfind(b"\n", 0, start - 1) + 1
    return data[start:]


def _ends_inside_a_row(data: bytes, separator: str, width: int) -> bool:
    """Whether a CSV whose quotes are all closed was cut inside its last row: no line break
    after it, and fewer fields than the header. (A file may well end without a line break; a
    cut inside the last field, outside quotes, leaves every field and cannot be told apart.)"""
    if data.endswith((b"\n", b"\r")):
        return False
    record = io.StringIO(_last_record(data).decode("utf-8", errors="replace"), newline="")
    fields = next(csv.reader(record, delimiter=separator), [])
    return len(fields) < width


def _parsed_csv(
    data: bytes, separator: str, encoding: str, polars_encoding: str, title_rows: int = 0
) -> Delivered:
    """The CSV in `data` (UTF-8 bytes) parsed; `encoding` is the one the file was delivered in,
    `title_rows` the lines above its header that were cut off."""
    # A file cut inside a quoted cell is closed where it was cut, so that its other rows load.
    inside_quotes = data.count(b'"') % 2 == 1
    closed = data + b'"' if inside_quotes else data
    ragged: tuple[int, ...] = ()
    try:
        frame = pl.read_csv(
            io.BytesIO(closed), separator=separator, infer_schema=False, encoding=polars_encoding
        )
    except pl.exceptions.PolarsError as err:
        rejected = FileRejected(f"the CSV cannot be parsed: {type(err).__name__}")
        if RAGGED_ROWS not in str(err):
            raise rejected from None
        try:
            frame, ragged = _read_ragged_csv(closed, separator, polars_encoding)
        except (csv.Error, pl.exceptions.PolarsError, ValueError):
            raise rejected from None
    cut_short = frame.height > 0 and (
        inside_quotes or _ends_inside_a_row(data, separator, frame.width)
    )
    return Delivered(frame, encoding, separator, cut_short, title_rows, ragged=ragged)


def _read_ragged_csv(
    data: bytes, separator: str, polars_encoding: str
) -> tuple[pl.DataFrame, tuple[int, ...]]:
    """A CSV that polars refused because some rows hold more fields than the header (a
    separator typed inside an unquoted value): polars cuts them to the header's width, and
    Python's reader, which counts each row's fields, says which rows were cut, so that they
    alone are rejected. Raises ValueError where the two do not see the same rows, or where
    the first line is one field: a title above the table, which is looked for below it."""
    reader = csv.reader(
        io.StringIO(data.decode("utf-8", errors="replace"), newline=""), delimiter=separator
    )
    width = len(next(reader, []))
    if width < 2:
        raise ValueError("a title, not a header")
    ragged, rows = [], 0
    for rows, row in enumerate(reader, start=1):  # counted, not kept: a file may be large
        if len(row) > width:
            ragged.append(rows - 1)
    frame = pl.read_csv(
        io.BytesIO(data),
        separator=separator,
        infer_schema=False,
        encoding=polars_encoding,
        truncate_ragged_lines=True,
    )
    if frame.width != width or frame.height != rows:
        raise ValueError("polars and Python's reader see other rows")
    return frame, tuple(ragged)


def _read_xlsx(data: bytes, title_rows: int = 0, sheet: int | str = 0) -> Delivered:
    """A sheet (the first unless named), its header `title_rows` rows down."""
    try:
        workbook = fastexcel.read_excel(data)
        table = workbook.load_sheet(sheet, header_row=title_rows, dtypes="string").to_polars()
        names = tuple(workbook.sheet_names)
        return Delivered(table, "xlsx", title_rows=title_rows, sheet=sheet, sheet_names=names)
    except Exception as err:  # fastexcel raises its own hierarchy, varying by version
        raise FileRejected(f"the XLSX workbook cannot be read: {type(err).__name__}") from None


def _from_its_header(sheet: Delivered, data: bytes, source: Source) -> Delivered | None:
    """A sheet read with its first row as the header, or, when a title stands above the header,
    read again from the first of its top rows that holds it; None when no row does."""
    if _holds_header(sheet.frame.columns, source):
        return sheet
    row = _header_row(_top_rows(data, sheet.sheet), source)
    return _read_xlsx(data, title_rows=row, sheet=sheet.sheet) if row else None


def _reject_a_sheet_short_of_columns(
    data: bytes, names: Sequence[str], found: list[Delivered | None], source: Source
) -> None:
    """Raise FileRejected, naming the sheet by its position (its name is whatever the office
    typed, a person's maybe), where a sheet not `found` to hold the header holds a table short
    of required columns."""
    for position, (name, sheet) in enumerate(zip(names, found, strict=True), start=1):
        missing = None if sheet else _columns_missing_from_its_table(data, name, source)
        if missing:
            raise FileRejected(
                f"sheet {position} of {len(names)} holds a table without required column(s): "
                + ", ".join(f"'{m}'" for m in missing)
            )


def _columns_missing_from_its_table(data: bytes, sheet: str, source: Source) -> list[str]:
    """The required columns of `source` missing from the sheet's table: from the first of its
    top rows that holds at least half of them (a header, short of some), or none when no row
    does (a sheet of instructions, a chart, a summary by school and class)."""
    try:
        rows = _top_rows(data, sheet)
    except Exception:  # a sheet fastexcel cannot read holds no table either
        return []
    required = len(_missing_columns({}, source))
    for cells in rows:
        missing = _missing_columns(_mapping([c for c in cells if c], source), source)
        if required - len(missing) >= max(2, -(-required // 2)):
            return missing
    return []


def _top_rows(data: bytes, sheet: int | str) -> list[tuple[str | None, ...]]:
    """A sheet's first `HEADER_SEARCH_ROWS` rows, counted as `header_row` counts them."""
    # From its first row, empty or not: a sheet read with its header at row 0 starts at its
    # first row that is not empty, but a header at row n > 0 is the sheet's row n (fastexcel
    # 0.21), so rows counted from the first that is not empty miss the header by the empty
    # rows above it.
    workbook = fastexcel.read_excel(data)
    top = workbook.load_sheet(
        sheet, header_row=None, skip_rows=0, n_rows=HEADER_SEARCH_ROWS, dtypes="string"
    )
    return top.to_polars().rows()


def _sheet_from_its_header(data: bytes, source: Source, sheet: str) -> Delivered | None:
    """`_from_its_header` of a workbook's sheet other than the first; None for one that cannot
    be read (a chart, a sheet of macros)."""
    try:
        return _from_its_header(_read_xlsx(data, sheet=sheet), data, source)
    except FileRejected:
        return None


def _xlsx_number_columns(
    data: bytes, labels: list[str], title_rows: int, sheet: int | str
) -> set[str]:
    """The columns of `labels` that the sheet holds as numbers in every row."""
    table = fastexcel.read_excel(data).load_sheet(
        sheet, header_row=title_rows, use_columns=labels, schema_sample_rows=None
    )
    return {c.name for c in table.selected_columns if c.dtype in ("int", "float")}


def _read_parquet(data: bytes) -> Delivered:
    try:
        return Delivered(pl.read_parquet(io.BytesIO(data)), "parquet")
    except pl.exceptions.PolarsError as err:
        raise FileRejected(f"the Parquet file cannot be read: {type(err).__name__}") from None


def read_delivered(data: bytes, suffix: str) -> Delivered:
    """A file's first table, as its format delivers it.

    `suffix` is the file name's extension, which says what the bytes should be.
    """
    suffix = suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileRejected(
            f"unsupported file type {suffix or '(none)'}: expected csv, xlsx or parquet"
        )
    content_error = _sniff_content_error(data, suffix)
    if content_error:
        raise FileRejected(content_error)
    if suffix == ".csv":
        return _read_csv(data)
    if suffix == ".xlsx":
        return _read_xlsx(data)
    return _read_parquet(data)


def _json_text(column: pl.Series) -> pl.Series:
    """Each value of a nested column (list, struct) as JSON text."""
    wrapped = pl.struct(pl.col(column.name).alias("v")).struct.json_encode()
    value = wrapped.str.strip_prefix('{"v":').str.strip_suffix("}")
    return (
        column.to_frame()
        .select(pl.when(pl.col(column.name).is_not_null()).then(value).alias(column.name))
        .to_series()
    )


def _text_column(column: pl.Series, needed: bool) -> pl.Series:
    """A column as text; an extra one that has no plain text form (a list) as JSON."""
    try:
        return column.cast(pl.String)
    except pl.exceptions.PolarsError:
        if needed:
            raise FileRejected(
                f"column '{column.name}' has type {column.dtype}, not one text value per row"
            ) from None
    try:
        return _json_text(column)
    except pl.exceptions.PolarsError:
        raise FileRejected(
            f"column '{column.name}' has type {column.dtype}, which has no text form"
        ) from None


def as_text(frame: pl.DataFrame, needed: Collection[str]) -> pl.DataFrame:
    """Every column as text. The `needed` columns must have a plain text form; FileRejected
    names the first that has not."""
    typed = [name for name, dtype in frame.schema.items() if dtype != pl.String]
    if not typed:  # CSV and XLSX are read as text
        return frame
    return frame.with_columns(_text_column(frame[name], name in needed) for name in typed)


def read_table(data: bytes, suffix: str) -> tuple[pl.DataFrame, str, str]:
    """Every cell of a file's first table as text, with the encoding and separator used.

    `suffix` is the file name's extension, which says what the bytes should be.
    """
    delivered = read_delivered(data, suffix)
    return as_text(delivered.frame, ()), delivered.encoding, delivered.separator


def _code_of_number(text: pl.Expr, digits: int) -> pl.Expr:
    """A code that a number type held, with the leading zeros the number dropped."""
    integer = text.str.replace(r"^(\d+)\.0$", "${1}")
    return pl.when(integer.str.contains(r"^\d+$")).then(integer.str.zfill(digits)).otherwise(text)


def _number_columns(delivered: Delivered, data: bytes, labels: list[str]) -> set[str]:
    """The columns of `labels` that arrive as numbers, whose leading zeros are lost."""
    if not labels:
        return set()
    if delivered.encoding == "parquet":
        return {label for label in labels if delivered.frame.schema[label].is_numeric()}
    if delivered.encoding == "xlsx":
        return _xlsx_number_columns(data, labels, delivered.title_rows, delivered.sheet)
    return set()


def _declared_digits(mapping: dict[str, str], source: Source) -> dict[str, int]:
    """The delivered labels of the contract columns that declare their number of digits."""
    declared = {c.name: c.digits for c in source.columns if c.digits}
    return {label: declared[name] for label, name in mapping.items() if name in declared}


def header_mapping(headers: list[str], source: Source) -> dict[str, str]:
    """Map each delivered header to its canonical column; headers the contract lacks become extras.

    Raises FileRejected naming every required (not `optional`) column that no header matches.
    """
    mapping = _mapping(headers, source)
    missing = _missing_columns(mapping, source)
    if missing:
        raise FileRejected("missing required column(s): " + ", ".join(f"'{m}'" for m in missing))
    return mapping


def _mapping(headers: list[str], source: Source) -> dict[str, str]:
    by_folded = {}
    for column in source.columns:
        for label in (column.label, *column.aliases):
            by_folded.setdefault(fold_label(label), column.name)
    mapping: dict[str, str] = {}
    for header in headers:
        canonical = by_folded.get(fold_label(header))
        if canonical is None or canonical in mapping.values():
            mapping[header] = EXTRA_PREFIX + header
        else:
            mapping[header] = canonical
    return mapping


def _missing_columns(mapping: dict[str, str], source: Source) -> list[str]:
    """The labels of the required columns that `mapping` (of `_mapping`) leaves without a header."""
    return [c.label for c in source.columns if not c.optional and c.name not in mapping.values()]


def _holds_header(cells: list[str], source: Source) -> bool:
    """Whether `cells` hold a header of every required column of `source`."""
    return not _missing_columns(_mapping(cells, source), source)


def _header_row(rows: Sequence[Sequence[str | None]], source: Source, start: int = 1) -> int | None:
    """The first of `rows` from `start` on (by default below the first, already looked at) that
    holds the header of `source` (empty cells left out), or None."""
    candidates = enumerate(rows[start:], start=start)
    held = (row for row, cells in candidates if _holds_header([c for c in cells if c], source))
    return next(held, None)


def _rejected(
    source: str, file_name: str, extract_date: date | None, reason: str, rows: int = 0
) -> tuple[pl.DataFrame, ReadReport]:
    """A file rejected whole: one row with `file_error` and a null `row_number`, so that the
    quarantine can account for the file without the run stopping; `rows` are its data rows,
    where it was read before it was rejected."""
    rejected = pl.DataFrame(
        {
            SOURCE: [source],
            FILE_NAME: [file_name],
            ROW_NUMBER: pl.Series([None], dtype=pl.Int64),
            EXTRACT_DATE: pl.Series([extract_date], dtype=pl.Date),
            FILE_ERROR: [reason],
        }
    )
    return rejected, ReadReport(source, file_name, extract_date, rows, "", "", reason)


def _delivered(data: bytes, suffix: str, source: Source) -> Delivered:
    """`read_delivered`, or, where a title stands above the header of a CSV saved from a sheet
    (whose title line may not even parse as CSV), the table read from its header."""
    try:
        delivered = read_delivered(data, suffix)
    except FileRejected:
        titled = _csv_below_its_title(data, source) if suffix.lower() == ".csv" else None
        if titled is None:
            raise
        return titled
    if suffix.lower() != ".csv" or _holds_header(delivered.frame.columns, source):
        return delivered
    return _csv_below_its_title(data, source) or delivered


def _table(data: bytes, suffix: str, source: Source) -> tuple[pl.DataFrame, Delivered]:
    """A file's table under the contract's column names, every cell as text, and codes that a
    number type shortened restored to their length; how it was delivered."""
    if suffix.lower() == ".xlsx":
        return _workbook_table(data, source)
    delivered = _delivered(data, suffix, source)
    return _canonical(delivered, data, source), delivered


def _canonical(delivered: Delivered, data: bytes, source: Source) -> pl.DataFrame:
    """The delivered table under the contract's column names, every cell as text, codes that a
    number type shortened restored."""
    try:
        mapping = header_mapping(delivered.frame.columns, source)
    except FileRejected as rejection:
        raise FileRejected(str(rejection), rows=delivered.frame.height) from None
    needed = [label for label, name in mapping.items() if not name.startswith(EXTRA_PREFIX)]
    text = as_text(delivered.frame, needed)
    digits = _declared_digits(mapping, source)
    numbers = _number_columns(delivered, data, list(digits))
    if numbers:
        text = text.with_columns(_code_of_number(pl.col(label), digits[label]) for label in numbers)
    return text.rename(mapping)


def _workbook_table(data: bytes, source: Source) -> tuple[pl.DataFrame, Delivered]:
    """The rows of every sheet that holds the source's header (below a title or not), one sheet
    after another in the workbook's order: a school's file may hold a sheet per class, or begin
    with a sheet of instructions. Sheets without the header are not read; `Delivered.sheets`
    says what became of each sheet of a workbook of more than one. A sheet whose table lacks
    required columns rejects the workbook, as a CSV without them is: its rows would be lost."""
    first = read_delivered(data, ".xlsx")
    names = first.sheet_names
    found = [_from_its_header(first, data, source)]
    found += [_sheet_from_its_header(data, source, name) for name in names[1:]]
    if len(names) > 1:  # one sheet without the columns is rejected below, as a CSV would be
        _reject_a_sheet_short_of_columns(data, names, found, source)
    read = [sheet for sheet in found if sheet]
    if len(names) == 1:
        only = read[0] if read else first  # without the header: `_canonical` rejects it
        return _canonical(only, data, source), only
    if not read:
        try:
            header_mapping(first.frame.columns, source)
        except FileRejected as rejection:
            reason = f"{rejection} in the first sheet, and no other sheet holds them"
            raise FileRejected(reason) from None
    tables = [_canonical(sheet, data, source) for sheet in read]
    ends = itertools.accumulate(table.height for table in tables)
    rows = {
        names[sheet.sheet] if isinstance(sheet.sheet, int) else sheet.sheet: (end - t.height, end)
        for sheet, t, end in zip(read, tables, ends, strict=True)
    }

    def became(name: str) -> str:
        if name not in rows:
            return f"{name}: no header"
        start, end = rows[name]
        return f"{name}: rows {start + 1}-{end}" if end > start else f"{name}: no rows"

    sheets = "; ".join(became(name) for name in names)
    return pl.concat(tables, how="diagonal"), replace(read[0], sheets=sheets)


def _data_rows(data: bytes, suffix: str, source: Source) -> int:
    """The data rows of a file rejected for its name, counted where it can be read: the rows
    delivered add up to what the landing files hold."""
    try:
        return _table(data, suffix, source)[0].height
    except FileRejected as rejection:
        return rejection.rows
    except MemoryError:
        raise
    except Exception:  # a file no reader can read has no rows to count
        return 0


def parse_extract(data: bytes, file_name: str, source: Source) -> tuple[pl.DataFrame, ReadReport]:
    """One extract file's bytes as canonical text columns with lineage, or a one-row rejection.

    `file_name` is the path relative to the landing folder. The last row of a file that ends
    inside it is marked `_truncated`.
    """
    extract_date = extract_date_from_name(Path(file_name).name)
    try:
        if extract_date is None:
            rows = _data_rows(data, Path(file_name).suffix, source)
            raise FileRejected("no extract date (YYYYMMDD) in the file name", rows=rows)
        table, delivered = _table(data, Path(file_name).suffix, source)
    except FileRejected as rejection:
        return _rejected(source.name, file_name, extract_date, str(rejection), rejection.rows)
    except MemoryError:
        raise
    except Exception as error:  # a case no reader foresaw: it costs this file, not the run
        reason = f"the file cannot be read: unexpected {type(error).__name__}"
        return _rejected(source.name, file_name, extract_date, reason)
    last_row = pl.int_range(pl.len()) == pl.len() - 1
    truncated = last_row if delivered.cut_short else pl.lit(False)
    frame = table.with_columns(
        pl.lit(source.name).alias(SOURCE),
        pl.lit(file_name).alias(FILE_NAME),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW_NUMBER),
        pl.lit(extract_date, dtype=pl.Date).alias(EXTRACT_DATE),
        pl.lit(None, dtype=pl.String).alias(FILE_ERROR),
        truncated.alias(TRUNCATED),
        pl.int_range(pl.len()).is_in(delivered.ragged).alias(RAGGED),
    )
    return frame, ReadReport(
        source.name, file_name, extract_date, frame.height, delivered.encoding,
        delivered.separator, title_rows=delivered.title_rows, sheets=delivered.sheets,
    )  # fmt: skip


def _report_meta(report: ReadReport) -> dict:
    day = report.extract_date
    return {**vars(report), "extract_date": day.isoformat() if day else None}


def _report_of_meta(meta: dict) -> ReadReport:
    day = meta["extract_date"]
    return ReadReport(**{**meta, "extract_date": date.fromisoformat(day) if day else None})


def _parsed_file(
    path: Path, file_name: str, source: Source, cache: FileCache | None, lazily: bool = False
) -> tuple[pl.DataFrame | Path, ReadReport]:
    """`read_extract` of a file in the layout; `lazily` (with a cache), its rows as the cache
    entry's path, parsed into the cache first when missing."""
    try:
        data = path.read_bytes()
    except (PermissionError, FileNotFoundError) as error:
        # A file nobody may read, or one taken away while the run read: it waits in quarantine.
        reason = f"the file cannot be opened: {error.strerror}"
        return _rejected(source.name, file_name, extract_date_from_name(path.name), reason)
    digest = content_digest(data)
    if cache is None:
        frame, report = parse_extract(data, file_name, source)
        return frame, replace(report, sha256=digest)
    key = cache.key(file_name, digest)
    hit = cache.locate(key) if lazily else cache.load(key)
    if hit:
        frame, meta = hit
        return frame, _report_of_meta(meta)
    frame, report = parse_extract(data, file_name, source)
    report = replace(report, sha256=digest)
    cache.store(key, frame, _report_meta(report))
    return (cache.path(key) if lazily else frame), report


def read_extract(
    path: Path,
    landing_dir: Path,
    source: Source,
    cache: FileCache | None = None,
    lazily: bool = False,
) -> tuple[pl.DataFrame | Path, ReadReport]:
    """One file of the landing tree as canonical text columns with lineage, or a one-row file
    rejection: when it cannot be read, lies outside the layout (then it is not read, and its
    source is the one `source_of` finds), or is dated after today (`as_of`).

    With a cache, the file is parsed only when this content under this name was not read before;
    a rejection is kept like a frame, so the same bytes are rejected again with the same error.
    `lazily` (with a cache): the rows as the path of the cache entry that holds them.
    Raises ExtractUnreadable, naming the file, when reading fails in a way that may pass.
    """
    file_name = path.relative_to(landing_dir).as_posix()
    outside = outside_layout(file_name)
    if outside:
        return _rejected(source_of(file_name), file_name, None, f"{OUTSIDE_LAYOUT}: {outside}")
    try:
        parsed, report = _parsed_file(path, file_name, source, cache, lazily)
    except OSError as error:
        raise ExtractUnreadable(
            f"reading {file_name} failed: {error.strerror or type(error).__name__}"
        ) from error
    # Judged after the cache, which keeps the file's rows: the same file is read once its day
    # has come.
    if report.extract_date and report.extract_date > as_of():
        reason = (
            f"its extract date {report.extract_date.isoformat()} is after today "
            f"({as_of().isoformat()}): a mistyped date in its name, or a clock set wrong"
        )
        return _rejected(source.name, file_name, report.extract_date, reason, report.rows)
    return parsed, report


def _ignored(name: str) -> bool:
    """Hidden files and folders and Office lock files: no delivery."""
    return name.startswith((".", "~$"))


def landing_files(landing_dir: Path) -> list[str]:
    """Every file in the landing tree, at any depth, as its path relative to it, in order.

    Raises ExtractUnreadable, naming the folder, when a folder cannot be listed: its files
    would otherwise vanish without a trace.
    """

    def unlistable(error: OSError) -> None:
        folder = Path(error.filename).relative_to(landing_dir).as_posix()
        raise ExtractUnreadable(f"listing the landing folder {folder}/ failed: {error.strerror}")

    if not landing_dir.is_dir():
        return []
    found = []
    for folder, subfolders, names in os.walk(landing_dir, onerror=unlistable, followlinks=True):
        subfolders[:] = [d for d in subfolders if not _ignored(d)]
        # Plain strings, not Paths: pathlib costs more than the walk on a thousand files.
        prefix = Path(folder).relative_to(landing_dir).as_posix()
        found += [
            name if prefix == "." else f"{prefix}/{name}"
            for name in names
            if not _ignored(name) and os.path.isfile(os.path.join(folder, name))
        ]
    return sorted(found)


@functools.cache  # folders are few, files many
def _source_named_like(folder: str) -> str | None:
    """The source whose name the folder's is, up to case, diacritics and punctuation."""
    return _SOURCE_OF_FOLDED.get(fold_label(folder))


def source_of(file_name: str) -> str:
    """The source a file of the landing tree is accounted under: its folder's, the one its
    folder's name looks like (`Dan_Cu/`), or NO_SOURCE."""
    folder, *rest = file_name.split("/")
    return (_source_named_like(folder) if rest else None) or NO_SOURCE


def outside_layout(file_name: str) -> str | None:
    """Why a file of the landing tree (`file_name` relative to it) is not where the layout
    puts an extract, or None when it is."""
    folder, *rest = file_name.split("/")
    if not rest:
        return f"a file at the landing root; expected <source>/{EXTRACT_NAME}"
    if folder in SOURCES:
        if len(rest) == 1:
            return None
        return f"in a sub-folder of {folder}/; expected {folder}/{EXTRACT_NAME}"
    looks_like = _source_named_like(folder)
    if looks_like:
        return (
            f"the folder {folder}/ is no source folder; it looks like {looks_like}/, but a "
            "source folder's name must be exact"
        )
    sources = ", ".join(f"{name}/" for name in SOURCES)
    return f"the folder {folder}/ is no source folder; expected one of {sources}"


def accounted_by(file_name: str) -> str:
    """The source whose ingest accounts for a file of the landing tree: the file's source; the
    first source's for a file of no source, so that each file is counted once."""
    source = source_of(file_name)
    return next(iter(SOURCES)) if source == NO_SOURCE else source


def extract_files(landing_dir: Path, source: Source) -> list[Path]:
    """The files the source's ingest reads or rejects, in path order: its folder's extracts,
    and the files outside the layout that it accounts for (`accounted_by`)."""
    return [
        landing_dir / name
        for name in landing_files(landing_dir)
        if accounted_by(name) == source.name
    ]


def mark_latest(frame: Frame) -> Frame:
    """Add `is_latest`: the row of a record id from the latest extract (ties: later file name).

    Every row of the winning file is kept latest, so a record id repeated inside one extract
    reaches validation instead of silently disappearing. Lazily, in bounded memory: the latest
    file of each record is found on the ids alone, then joined back.
    """
    # Files ranked once by (extract date, name): rows then compare an integer, not a string each.
    # The ranks and each record's latest are collected on their own, a few columns read each
    # time: a plan that read the rows twice would cache them whole.
    rank, latest_rank, record = "_file_rank", "_latest_rank", "_record"
    # Record ids compared as standardisation will write them ("HS1 " is "HS1"): otherwise both
    # rows of one record stay latest, and standardisation finds the id twice.
    rows = frame.lazy().with_columns(code_text(pl.col(RECORD_ID)).alias(record))
    ranks = (
        rows.select(FILE_NAME, EXTRACT_DATE)
        .unique(FILE_NAME)
        .sort(EXTRACT_DATE, FILE_NAME)
        .with_row_index(rank)
        .select(FILE_NAME, rank)
        .collect()
        .lazy()
    )
    latest_ranks = (
        rows.select(record, FILE_NAME, FILE_ERROR)
        .filter(pl.col(record).is_not_null() & pl.col(FILE_ERROR).is_null())
        .join(ranks, on=FILE_NAME)
        .group_by(record)
        .agg(pl.col(rank).max().alias(latest_rank))
        .collect(engine="streaming")
        .lazy()
    )
    marked = (
        rows.join(ranks, on=FILE_NAME, how="left", maintain_order="left")
        .join(latest_ranks, on=record, how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col(record).is_null() | pl.col(FILE_ERROR).is_not_null())
            .then(pl.lit(True))
            .otherwise(pl.col(rank) == pl.col(latest_rank))
            .alias("is_latest")
        )
        .drop(rank, latest_rank, record)
    )
    return marked if isinstance(frame, pl.LazyFrame) else marked.collect()


def ingest_cache(cache_dir: Path, source: Source) -> FileCache:
    """Each file's parsed rows and read report, valid while the reading code is unchanged."""
    return FileCache(cache_dir / "ingest" / source.name, code_version(__name__))


def read_source(
    landing_dir: Path, source: Source, cache: FileCache | None = None
) -> tuple[pl.DataFrame, list[ReadReport]]:
    """Every row of every extract of one source, as text with lineage and `is_latest`, and a
    rejection row for each file that cannot be read or lies outside the layout (`extract_files`).

    With a cache, only new or changed files are parsed; `is_latest` compares across files, so it
    is computed over all of them every time.
    """
    frames, reports = _read_files(landing_dir, source, cache, lazily=False)
    return mark_latest(_combined(frames, source)), reports


def scan_source(
    landing_dir: Path, source: Source, cache: FileCache
) -> tuple[pl.LazyFrame, list[ReadReport]]:
    """`read_source`, its rows read lazily from the cache's entries: each file is parsed into
    the cache first when it is missing, and no more than a few files are held at once (the
    register's rows are 10 GB at ten million persons)."""
    parts, reports = _read_files(landing_dir, source, cache, lazily=True)
    return mark_latest(_combined(_scanned(parts), source).lazy()), reports


def _scanned(parts: list[pl.DataFrame | Path]) -> list[pl.LazyFrame]:
    """The files' rows (frames, or cache entries' paths) read lazily, each run of cache entries
    in one scan: a concat of one scan per file made polars start a blocking thread per file
    (it warns of a deadlock past 512, 896 `dan_cu` files at 20,000 persons) and sink 15 times
    slower."""
    frames = []
    for are_entries, run in itertools.groupby(parts, key=lambda part: isinstance(part, Path)):
        if not are_entries:
            frames.extend(frame.lazy() for frame in run)
            continue
        entries = list(run)
        columns = {}  # each column at its first appearance, as a diagonal concat orders them
        for entry in entries:
            for name, dtype in pl.read_parquet_schema(entry).items():
                columns.setdefault(name, dtype)
        frames.append(pl.scan_parquet(entries, schema=columns, missing_columns="insert"))
    return frames


def _read_files(
    landing_dir: Path, source: Source, cache: FileCache | None, lazily: bool
) -> tuple[list, list[ReadReport]]:
    """Each extract file of the source read (`read_extract`), in order: frames and reports."""
    with ThreadPoolExecutor(READ_THREADS) as pool:
        read = list(
            pool.map(lambda path: read_extract(path, landing_dir, source, cache, lazily),
                     extract_files(landing_dir, source))
        )  # fmt: skip
    return [frame for frame, _ in read], [report for _, report in read]


def _combined(frames: list[Frame], source: Source) -> Frame:
    """The files' rows one after the other, under every column of the source, lineage first."""
    empty = pl.DataFrame(
        schema={
            SOURCE: pl.String,
            FILE_NAME: pl.String,
            ROW_NUMBER: pl.Int64,
            EXTRACT_DATE: pl.Date,
            FILE_ERROR: pl.String,
            TRUNCATED: pl.Boolean,
            RAGGED: pl.Boolean,
            **{name: pl.String for name in source.column_names},
        }
    )
    first = empty.lazy() if frames and isinstance(frames[0], pl.LazyFrame) else empty
    combined = pl.concat([first, *frames], how="diagonal_relaxed")
    lineage = [SOURCE, FILE_NAME, ROW_NUMBER, EXTRACT_DATE, FILE_ERROR]
    names = combined.collect_schema().names()
    return combined.select(lineage + [c for c in names if c not in lineage])


def files_frame(reports: list[ReadReport], rows: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """One row per delivered file (header-only ones too): how it was read, its rows, and how many
    of them are the latest of their record."""
    files = pl.DataFrame(
        [vars(r) for r in reports],
        schema={
            SOURCE: pl.String, FILE_NAME: pl.String, EXTRACT_DATE: pl.Date, "rows": pl.Int64,
            "encoding": pl.String, "separator": pl.String, "error": pl.String,
            "sha256": pl.String, "title_rows": pl.Int64, "sheets": pl.String,
        },
    )  # fmt: skip
    latest = (
        rows.lazy()
        .filter(pl.col(FILE_ERROR).is_null())
        .group_by(FILE_NAME)
        .agg(pl.col("is_latest").sum().cast(pl.Int64).alias("rows_latest"))
        .collect()
    )
    return files.join(latest, on=FILE_NAME, how="left").with_columns(
        pl.col("rows_latest").fill_null(0)
    )
