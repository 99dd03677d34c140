"""How each extract file is written: format, encoding, separator, text form, date and sex styles.

A source system writes a whole file one way, so these are drawn per file (one row of the files
table each); rows join them. Shares are the generator's assumptions about the systems feeding the
registry, chosen so that every quirk of the contract shows up even in small runs.
"""

import numpy as np
import polars as pl

from dancu.contract import REFORM_DATE
from dancu.generate.rng import choice

FORMAT_SHARES = {
    "dan_cu": {"csv": 0.7, "xlsx": 0.3},
    "bhxh": {"parquet": 0.6, "csv": 0.4},
    "y_te": {"xlsx": 0.6, "csv": 0.4},
    "khai_sinh": {"csv": 1.0},
    "khai_tu": {"csv": 1.0},
    "ket_hon": {"csv": 1.0},
    "giao_duc": {"xlsx": 0.6, "csv": 0.4},
    "ly_lich_tu_phap": {"csv": 1.0},
}
ENCODINGS = {"utf-8": 0.35, "utf-8-sig": 0.25, "utf-16": 0.15, "cp1258": 0.25}
SEPARATORS = {",": 0.6, ";": 0.4}
LINE_ENDINGS = {"\n": 0.5, "\r\n": 0.5}
TCVN3_SHARE_BEFORE_REFORM = 0.3  # of CSV/XLSX files dated before the reform
NFD_SHARE = 0.1  # of CSV files in Unicode
DATE_FORMATS = {"dd/mm/yyyy": 0.6, "d/m/yyyy": 0.1, "yyyy-mm-dd": 0.2, "yyyymmdd": 0.1}
YEAR_ONLY_FORMATS = {"yyyy": 0.5, "00/00/yyyy": 0.5}
SEX_STYLES = {"Nam/Nữ": 0.7, "NAM/NỮ": 0.1, "nam/nu": 0.05, "M/F": 0.15}
HEADER_STYLES = {"exact": 0.8, "upper": 0.1, "ascii": 0.1}
ROW_NUMBER_COLUMN_SHARE = 0.15  # files with a leading "STT" column the contract does not know
NUMBERS_TYPED_SHARE = 0.7  # of XLSX files: ids and phones typed as numbers
DATE_CELLS = {"text": 0.4, "serial": 0.45, "serial_plain": 0.15}  # XLSX date cells

# Edits an office makes to an extract before it is delivered (`generate(office_edits=True)`;
# none otherwise): they change how values are written, never what they say, so a run on the
# edited set should publish what it publishes on the plain one. Each file takes each edit its
# format allows with this share.
OFFICE_EDIT_SHARES = {
    "title_above_header": 0.3,  # CSV, XLSX: the national motto and the list's name above it
    "sheets": 0.4,  # XLSX: a sheet of instructions, then the rows over two or three sheets
    "joined": 0.2,  # CSV: two extracts joined into one, the second's header inside the data
    "new_tone_placement": 0.3,  # an input method set to "hoà, thuý": names and places so
    "old_mobile_numbers": 0.3,  # mobile numbers as they were before 2018, eleven digits
    "excel_apostrophe": 0.2,  # CSV: ids saved with Excel's mark of text, '001088012345
}
OFFICE_EDIT_FORMATS = {
    "title_above_header": ("csv", "xlsx"), "sheets": ("xlsx",), "joined": ("csv",),
    "excel_apostrophe": ("csv",),
}  # fmt: skip
# Dates as office software writes them: a two-digit year, or a date-and-time column's midnight.
OFFICE_DATE_FORMATS = {"dd/mm/yy": 0.15, "dd/mm/yyyy 00:00:00": 0.15}

STYLE_COLUMNS = (
    "format", "encoding", "separator", "line_ending", "text_form", "date_format",
    "year_only_format", "sex_style", "header_style", "row_number_column", "numbers_typed",
    "date_cells", "office_edits",
)  # fmt: skip


def _draw(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    labels = np.asarray(list(shares), dtype=object)
    return labels[choice(rng, list(shares.values()), size)].astype(str)


def _only(mask: np.ndarray, values: np.ndarray) -> pl.Series:
    """The values where `mask`, null elsewhere (a CSV setting means nothing for XLSX)."""
    return pl.Series(values, dtype=pl.String).set(pl.Series(~mask), None)


def draw_styles(rng: np.random.Generator, files: pl.DataFrame, source: str) -> pl.DataFrame:
    """Add the style columns to a files table (one row per file, with its extract_date).

    `format` may already be set (a facility keeps one system for all its files)."""
    size = files.height
    fmt = (
        files["format"].to_numpy().astype(str)
        if "format" in files.columns
        else _draw(rng, FORMAT_SHARES[source], size)
    )
    before_reform = (files["extract_date"] < REFORM_DATE).to_numpy()
    text_file = fmt != "parquet"
    tcvn3 = text_file & before_reform & (rng.random(size) < TCVN3_SHARE_BEFORE_REFORM)
    encoding = _draw(rng, ENCODINGS, size)
    # TCVN3 glyphs are cp1252 characters that cp1258 partly lacks; such files travel as Unicode.
    encoding[tcvn3 & (encoding == "cp1258")] = "utf-8"
    nfd = (fmt == "csv") & ~tcvn3 & (encoding != "cp1258") & (rng.random(size) < NFD_SHARE)
    text_form = np.where(tcvn3, "tcvn3", np.where(nfd, "nfd", "unicode"))
    xlsx = fmt == "xlsx"
    csv = fmt == "csv"
    return files.with_columns(
        format=pl.Series(fmt),
        encoding=_only(csv, encoding),
        separator=_only(csv, _draw(rng, SEPARATORS, size)),
        line_ending=_only(csv, _draw(rng, LINE_ENDINGS, size)),
        text_form=pl.Series(text_form),
        date_format=pl.Series(_draw(rng, DATE_FORMATS, size)),
        year_only_format=pl.Series(_draw(rng, YEAR_ONLY_FORMATS, size)),
        sex_style=pl.Series(_draw(rng, SEX_STYLES, size)),
        header_style=pl.Series(_draw(rng, HEADER_STYLES, size)),
        row_number_column=pl.Series(rng.random(size) < ROW_NUMBER_COLUMN_SHARE),
        numbers_typed=pl.Series(xlsx & (rng.random(size) < NUMBERS_TYPED_SHARE)),
        date_cells=pl.Series(np.where(xlsx, _draw(rng, DATE_CELLS, size), "text")),
        office_edits=pl.Series([[]] * size, dtype=pl.List(pl.String)),
    )


def draw_office_edits(rng: np.random.Generator, files: pl.DataFrame) -> pl.DataFrame:
    """`office_edits` drawn for a files table with its styles, and some files' `date_format`
    replaced by one of `OFFICE_DATE_FORMATS`."""
    size = files.height
    fmt = files["format"].to_numpy().astype(str)
    drawn = {
        edit: np.isin(fmt, OFFICE_EDIT_FORMATS.get(edit, fmt)) & (rng.random(size) < share)
        for edit, share in OFFICE_EDIT_SHARES.items()
    }
    edits = [[edit for edit, on in drawn.items() if on[i]] for i in range(size)]
    kept = 1 - sum(OFFICE_DATE_FORMATS.values())
    dates = _draw(rng, {**OFFICE_DATE_FORMATS, "": kept}, size)
    return files.with_columns(
        office_edits=pl.Series(edits, dtype=pl.List(pl.String)),
        date_format=pl.when(pl.Series(dates != ""))
        .then(pl.Series(dates))
        .otherwise(pl.col("date_format")),
    )


def with_file_names(files: pl.DataFrame, source: str) -> pl.DataFrame:
    """`<source>/<source>[_<part>]_<YYYYMMDD>.<ext>`, the path relative to the landing folder."""
    part = pl.when(pl.col("part").is_null()).then(pl.lit("")).otherwise("_" + pl.col("part"))
    return files.with_columns(
        file_name=pl.format(
            "{}/{}{}_{}.{}",
            pl.lit(source),
            pl.lit(source),
            part,
            pl.col("extract_date").dt.strftime("%Y%m%d"),
            pl.col("format"),
        )
    )
