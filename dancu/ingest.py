"""Reading extract files as delivered: every format, encoding and header variant of the contract.

Values stay text here; repairing them is the standardisation stage's job. A file that cannot be
read becomes one `FileRejected` with the cause, never an exception that stops the run.
"""

import codecs
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import fastexcel
import polars as pl

from dancu.cache import FileCache, code_version, content_digest
from dancu.contract import EXTRACT_DATE, FILE_NAME, RECORD_ID, ROW_NUMBER, SOURCE, Source
from dancu.text import fold_label

FILE_ERROR = "file_error"
EXTRA_PREFIX = "extra:"
SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".parquet")

_EIGHT_DIGITS = re.compile(r"(?<!\d)(\d{8})(?!\d)")
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_SEPARATORS = (",", ";")
_ASCII = bytes(range(128))
UNDECODABLE = "\ufffd"
# Above this share of undecodable non-ASCII bytes a file is not UTF-8 with a bad cell.
MAX_UNDECODABLE_SHARE = 0.1
# A text file holds no NUL; a few may come from a corrupt cell, many mean binary content.
MAX_NUL_SHARE = 0.01
# Files are read side by side: the XLSX and CSV parsers and the hash release the GIL for most
# of their work (on 2 cores, 4 threads read a million persons' dan_cu files in 12 s, not 17 s).
READ_THREADS = 4


class FileRejected(Exception):
    """A whole file that cannot be loaded; the message names the cause, never a row's values."""


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


def _read_csv(data: bytes) -> tuple[pl.DataFrame, str, str]:
    encoding = detect_encoding(data)
    body = data.removeprefix(codecs.BOM_UTF8)
    if encoding.startswith("utf-8") and b"\x00" not in body:
        # Polars reads UTF-8 itself, turning undecodable bytes into U+FFFD as Python does: the
        # file is not decoded and encoded again in Python, which holds the other reading threads.
        separator = detect_separator(body.split(b"\n", 1)[0].decode("utf-8", errors="replace"))
        return _parsed_csv(body, separator, "utf8-lossy"), encoding, separator
    # Bytes that are no text in the file's encoding become U+FFFD, flagged on their row.
    text = data.decode(encoding, errors="replace")
    if text.count("\x00") > MAX_NUL_SHARE * len(text) or "\x00" in text.split("\n", 1)[0]:
        raise FileRejected("the content is binary, not CSV text")
    separator = detect_separator(text.split("\n", 1)[0])
    return _parsed_csv(text.encode("utf-8"), separator, "utf8"), encoding, separator


def _parsed_csv(data: bytes, separator: str, encoding: str) -> pl.DataFrame:
    try:
        return pl.read_csv(
            io.BytesIO(data), separator=separator, infer_schema=False, encoding=encoding
        )
    except pl.exceptions.PolarsError as err:
        raise FileRejected(f"the CSV cannot be parsed: {type(err).__name__}") from None


def _read_xlsx(data: bytes) -> pl.DataFrame:
    try:
        reader = fastexcel.read_excel(data)
        return reader.load_sheet(0, dtypes="string").to_polars()
    except Exception as err:  # fastexcel raises its own hierarchy, varying by version
        raise FileRejected(f"the XLSX workbook cannot be read: {type(err).__name__}") from None


def _read_parquet(data: bytes) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except pl.exceptions.PolarsError as err:
        raise FileRejected(f"the Parquet file cannot be read: {type(err).__name__}") from None
    return frame.select(pl.all().cast(pl.String))


def read_table(data: bytes, suffix: str) -> tuple[pl.DataFrame, str, str]:
    """Every cell of a file's first table as text, with the encoding and separator used.

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
        return _read_xlsx(data), "xlsx", ""
    return _read_parquet(data), "parquet", ""


def header_mapping(headers: list[str], source: Source) -> dict[str, str]:
    """Map each delivered header to its canonical column; headers the contract lacks become extras.

    Raises FileRejected naming every required column that no header matches.
    """
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
    missing = [c.label for c in source.columns if c.name not in mapping.values()]
    if missing:
        raise FileRejected("missing required column(s): " + ", ".join(f"'{m}'" for m in missing))
    return mapping


def parse_extract(data: bytes, file_name: str, source: Source) -> tuple[pl.DataFrame, ReadReport]:
    """One extract file's bytes as canonical text columns with lineage, or a one-row rejection.

    `file_name` is the path relative to the landing folder. The rejection row carries
    `file_error` and a null `row_number`, so that the quarantine can account for the file without
    the run stopping.
    """
    name = Path(file_name)
    extract_date = extract_date_from_name(name.name)
    try:
        if extract_date is None:
            raise FileRejected("no extract date (YYYYMMDD) in the file name")
        table, encoding, separator = read_table(data, name.suffix)
        mapping = header_mapping(table.columns, source)
    except FileRejected as rejection:
        rejected = pl.DataFrame(
            {
                SOURCE: [source.name],
                FILE_NAME: [file_name],
                ROW_NUMBER: pl.Series([None], dtype=pl.Int64),
                EXTRACT_DATE: pl.Series([extract_date], dtype=pl.Date),
                FILE_ERROR: [str(rejection)],
            }
        )
        report = ReadReport(source.name, file_name, extract_date, 0, "", "", str(rejection))
        return rejected, report
    frame = table.rename(mapping).with_columns(
        pl.lit(source.name).alias(SOURCE),
        pl.lit(file_name).alias(FILE_NAME),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW_NUMBER),
        pl.lit(extract_date, dtype=pl.Date).alias(EXTRACT_DATE),
        pl.lit(None, dtype=pl.String).alias(FILE_ERROR),
    )
    return frame, ReadReport(
        source.name, file_name, extract_date, frame.height, encoding, separator
    )


def _report_meta(report: ReadReport) -> dict:
    day = report.extract_date
    return {**vars(report), "extract_date": day.isoformat() if day else None}


def _report_of_meta(meta: dict) -> ReadReport:
    day = meta["extract_date"]
    return ReadReport(**{**meta, "extract_date": date.fromisoformat(day) if day else None})


def read_extract(
    path: Path, landing_dir: Path, source: Source, cache: FileCache | None = None
) -> tuple[pl.DataFrame, ReadReport]:
    """One extract file as canonical text columns with lineage, or a one-row file rejection.

    With a cache, the file is parsed only when this content under this name was not read before;
    a rejection is kept like a frame, so the same bytes are rejected again with the same error.
    """
    data = path.read_bytes()
    file_name = path.relative_to(landing_dir).as_posix()
    digest = content_digest(data)
    key = cache.key(file_name, digest) if cache is not None else ""
    hit = cache.load(key) if cache is not None else None
    if hit:
        frame, meta = hit
        return frame, _report_of_meta(meta)
    frame, report = parse_extract(data, file_name, source)
    report = replace(report, sha256=digest)
    if cache is not None:
        cache.store(key, frame, _report_meta(report))
    return frame, report


def extract_files(landing_dir: Path, source: Source) -> list[Path]:
    """The source's delivered files in name order (hidden and temporary files are no delivery)."""
    folder = landing_dir / source.name
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))


def mark_latest(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `is_latest`: the row of a record id from the latest extract (ties: later file name).

    Every row of the winning file is kept latest, so a record id repeated inside one extract
    reaches validation instead of silently disappearing.
    """
    # Files ranked once by (extract date, name): rows then compare an integer, not a string each.
    rank = "_file_rank"
    ranks = (
        frame.select(FILE_NAME, EXTRACT_DATE)
        .unique(FILE_NAME)
        .sort(EXTRACT_DATE, FILE_NAME)
        .with_row_index(rank)
        .select(FILE_NAME, rank)
    )
    ranked = frame.join(ranks, on=FILE_NAME, how="left", maintain_order="left")
    return ranked.with_columns(
        pl.when(pl.col(RECORD_ID).is_null() | pl.col(FILE_ERROR).is_not_null())
        .then(pl.lit(True))
        .otherwise(pl.col(rank) == pl.col(rank).max().over(RECORD_ID))
        .alias("is_latest")
    ).drop(rank)


def ingest_cache(cache_dir: Path, source: Source) -> FileCache:
    """Each file's parsed rows and read report, valid while the reading code is unchanged."""
    return FileCache(cache_dir / "ingest" / source.name, code_version(__name__))


def read_source(
    landing_dir: Path, source: Source, cache: FileCache | None = None
) -> tuple[pl.DataFrame, list[ReadReport]]:
    """Every row of every extract of one source, as text with lineage and `is_latest`.

    With a cache, only new or changed files are parsed; `is_latest` compares across files, so it
    is computed over all of them every time.
    """
    with ThreadPoolExecutor(READ_THREADS) as pool:
        read = list(
            pool.map(lambda path: read_extract(path, landing_dir, source, cache),
                     extract_files(landing_dir, source))
        )  # fmt: skip
    frames = [frame for frame, _ in read]
    reports = [report for _, report in read]
    empty = pl.DataFrame(
        schema={
            SOURCE: pl.String,
            FILE_NAME: pl.String,
            ROW_NUMBER: pl.Int64,
            EXTRACT_DATE: pl.Date,
            FILE_ERROR: pl.String,
            **{name: pl.String for name in source.column_names},
        }
    )
    combined = pl.concat([empty, *frames], how="diagonal_relaxed")
    lineage = [SOURCE, FILE_NAME, ROW_NUMBER, EXTRACT_DATE, FILE_ERROR]
    ordered = combined.select(lineage + [c for c in combined.columns if c not in lineage])
    return mark_latest(ordered), reports


def files_frame(reports: list[ReadReport], rows: pl.DataFrame) -> pl.DataFrame:
    """One row per delivered file (header-only ones too): how it was read, its rows, and how many
    of them are the latest of their record."""
    files = pl.DataFrame(
        [vars(r) for r in reports],
        schema={
            SOURCE: pl.String, FILE_NAME: pl.String, EXTRACT_DATE: pl.Date, "rows": pl.Int64,
            "encoding": pl.String, "separator": pl.String, "error": pl.String,
            "sha256": pl.String,
        },
    )  # fmt: skip
    latest = (
        rows.filter(pl.col(FILE_ERROR).is_null())
        .group_by(FILE_NAME)
        .agg(pl.col("is_latest").sum().cast(pl.Int64).alias("rows_latest"))
    )
    return files.join(latest, on=FILE_NAME, how="left").with_columns(
        pl.col("rows_latest").fill_null(0)
    )
