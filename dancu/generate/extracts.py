"""From placed records to extract files on disk, and the truth row for every data row written.

Per source and chunk of the population (`chunks.Chunk`): draw the file styles (the same for
every chunk), add value noise, make a few rows invalid, render every value as the source system
writes it, apply the file-level legacy text form, then stage each file's rows of the chunk
(`write_source`). Once every chunk is staged, `write_files` writes each file from its staged
parts in chunk order, one file in memory at a time: a file whose rows come from several chunks
(a facility's register, a month of births) is whole, and a row's number counts the rows the
chunks before it staged. Each step runs over the chunk's whole source at once; only the loops
over files and xlsxwriter's per-cell API are Python loops.
"""

import shutil
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from dancu.contract import REFORM_DATE
from dancu.generate import noise, render, styles, writers
from dancu.generate.chunks import Chunk
from dancu.generate.layouts import LAYOUTS
from dancu.generate.records import DUPLICATE_ID_PREFIX, EVENT_ROLES, Placement
from dancu.generate.rng import stream
from dancu.legacy_text import encode_tcvn3, to_cp1258_form

NAME_COLUMNS = (
    "full_name",
    "father_name",
    "mother_name",
    "child_name",
    "husband_name",
    "wife_name",
    "spouse_name",
)
ID_COLUMNS = (
    "national_id",
    "cmnd",
    "child_national_id",
    "mother_national_id",
    "father_national_id",
    "husband_national_id",
    "wife_national_id",
    "previous_national_id",
    "document_number",
)
DATE_COLUMNS = (
    "birth_date",
    "updated_date",
    "visit_date",
    "registration_date",
    "mother_birth_date",
    "father_birth_date",
    "death_date",
    "husband_birth_date",
    "wife_birth_date",
    "received_date",
)
# Columns typed in the legacy TCVN3 font in older files: names and places.
LEGACY_TEXT_COLUMNS = (*NAME_COLUMNS, "hometown", "address", "death_place", "other_name",
                       "birth_place")  # fmt: skip
YEAR_SUFFIX = "__year"  # companion column: the birth year where only the year is known
OVERRIDE_SUFFIX = "__text"  # companion column: a date written as text that is no date at all
ROW_NUMBER_LABEL = "STT"

# What an office writes above the header of an extract (`styles.OFFICE_EDIT_SHARES`): the
# national motto, and the list's name; a blank line before the table.
_MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
OFFICE_TITLE = {
    source: (*_MOTTO, f"DANH SÁCH {kind}", "")
    for source, kind in {
        "dan_cu": "NHÂN KHẨU", "bhxh": "NGƯỜI THAM GIA BẢO HIỂM XÃ HỘI",
        "y_te": "LƯỢT KHÁM CHỮA BỆNH", "khai_sinh": "ĐĂNG KÝ KHAI SINH",
        "khai_tu": "ĐĂNG KÝ KHAI TỬ", "ket_hon": "ĐĂNG KÝ KẾT HÔN", "giao_duc": "HỌC SINH",
        "ly_lich_tu_phap": "YÊU CẦU CẤP PHIẾU LÝ LỊCH TƯ PHÁP",
    }.items()
}  # fmt: skip
ODD_SEX_SPELLING = 0.01
PHONE_STYLES = (0.6, 0.2, 0.2)  # "0912 345 678", "+84912345678", "84-912-345-678"
PHONE_TYPED_AS_NUMBER = 0.7  # in XLSX files whose clerks type digits into plain cells
DUPLICATE_NOISE_SCALE = 3.0  # a second registration was typed by another clerk, less carefully
EVENT_NAME_NOISE_SCALE = 0.5
# Sources whose minors' records may carry a parent's id: insurance and health, where a parent
# fills in the form for a child who had no identity card.
FAMILY_ID_SOURCES = ("bhxh", "y_te", "giao_duc")
# Agencies that have not caught up with a re-issued personal id still hold the previous one.
PREVIOUS_ID_SOURCES = ("bhxh", "y_te")
PREVIOUS_ID_STILL_HELD = 0.5  # of their records of persons whose id was re-issued, at level 1
# Sources whose person id column holds documents of other kinds too: only the personal ids and
# old CMND numbers among them get digit noise.
DOCUMENT_ID_COLUMN = {"ly_lich_tu_phap": "document_number"}
STUDENT_SOURCE = "giao_duc"  # whose record id is the student's code, a document of its own
NUMERIC_DOCUMENTS = ("national_id", "cmnd", "previous_national_id", "identity_certificate")
EVENT_ID_MISSING = {
    "child_national_id": 0.25,
    "father_national_id": 0.05,
    "mother_national_id": 0.03,
}

INVALID_RATE = 0.002  # at noise level 1; scales with the level like every value error
# Per source: each rejection rule of the contract and the column it breaks.
INVALID_RULES = {
    "dan_cu": {"name.empty": "full_name", "date.impossible": "birth_date",
               "date.future": "birth_date", "id.non_digit": "national_id"},
    "bhxh": {"name.empty": "full_name", "date.impossible": "birth_date",
             "date.future": "birth_date", "id.non_digit": "national_id"},
    "y_te": {"name.empty": "full_name", "date.impossible": "birth_date",
             "date.future": "visit_date", "id.non_digit": "national_id"},
    "khai_sinh": {"name.empty": "child_name", "date.impossible": "birth_date",
                  "date.future": "registration_date", "id.non_digit": "mother_national_id"},
    "khai_tu": {"name.empty": "full_name", "date.impossible": "death_date",
                "date.future": "registration_date", "id.non_digit": "national_id",
                "date.death_before_birth": "death_date"},
    "ket_hon": {"name.empty": "wife_name", "date.impossible": "husband_birth_date",
                "date.future": "registration_date", "id.non_digit": "husband_national_id"},
    # A school's id column may hold a temporary code of its own: a letter there is no error.
    "giao_duc": {"name.empty": "full_name", "date.impossible": "birth_date",
                 "date.future": "birth_date"},
    "ly_lich_tu_phap": {"name.empty": "full_name", "date.impossible": "birth_date",
                        "date.future": "received_date"},
}  # fmt: skip
IMPOSSIBLE_DAYS = ((31, 2), (30, 2), (31, 4), (31, 6), (31, 9), (31, 11))
ID_LETTERS = np.asarray(list("ABCDEGHKMNPX"))
# How far the broken values go, each drawn from [low, high).
FUTURE_DAYS = (400, 3650)  # after the later of the extract date and as_of
DEATH_BEFORE_BIRTH_DAYS = (30, 3650)
ID_LETTER_AT = (3, 11)  # the digit a letter replaces
IMPOSSIBLE_DATE_YEAR = 1990  # when the row holds no year of its own

RECORD_COLUMNS = (
    "source",
    "file_name",
    "row_number",
    "source_record_id",
    "extract_date",
    "person_key",
    "is_latest",
    "invalid_reason",
    "corruptions",
    "true_full_name",
    "true_national_id",
    "true_birth_date",
    "true_birth_year",
    "true_sex",
    "true_ward_code",
)
FILE_COLUMNS = (
    "file_name",
    "source",
    "extract_date",
    "rows",
    "scheme",
    "optional_columns",
    *styles.STYLE_COLUMNS,
)


NUMBER_PREFIX = "#"  # staged column of the cells typed as numbers in a column


@dataclass(frozen=True)
class Written:
    """What staging one source of one chunk produced: truth rows, parties of events, documents
    the records name, the chunk's rows per file, a text sample."""

    records: pl.DataFrame
    parties: pl.DataFrame
    documents: pl.DataFrame  # source, source_record_id, person_key, document_type and _number
    files: pl.DataFrame  # file_name, rows, optional_columns (whether this chunk's rows need them)
    sample: pl.DataFrame  # a few rendered rows, with contract labels, to build the bad files from


def write_source(
    source: str,
    placement: Placement,
    chunk: Chunk,
    staging: Path,
    rows_before: dict[str, int],
    as_of: date,
    level: float = 1.0,
    office_edits: bool = False,
) -> Written:
    """Stage one source's rows of a chunk under `staging`; `rows_before` holds the rows earlier
    chunks staged per file, `level` multiplies every value-noise rate (0: none), `office_edits`
    draws the edits of `styles.OFFICE_EDIT_SHARES`."""
    files = styled_files(source, placement.files, chunk.seed, office_edits)
    before = pl.DataFrame(
        {"file_name": list(rows_before), "rows_before": list(rows_before.values())},
        schema={"file_name": pl.String, "rows_before": pl.Int64},
    )
    rows = (
        placement.rows.join(
            files.select("file_key", "file_name", *styles.STYLE_COLUMNS),
            on="file_key",
            how="left",
            maintain_order="left",
        )
        .sort("file_name", "source_record_id")
        .join(before, on="file_name", how="left", maintain_order="left")
        .with_columns(
            source=pl.lit(source),
            row_number=pl.int_range(1, pl.len() + 1).over("file_name")
            + pl.col("rows_before").fill_null(0),
            is_latest=~pl.col("superseded"),
        )
        .drop("rows_before")
    )
    rows = _add_noise(rows, source, chunk.stream(f"noise.{source}"), level)
    if source in PREVIOUS_ID_SOURCES:
        rows = _previous_ids(rows, chunk.stream(f"previous_ids.{source}"), level)
    rows = _add_invalid(rows, source, chunk.stream(f"invalid.{source}"), as_of, level)
    text, numbers = _render(rows, source, chunk.stream(f"render.{source}"))
    text = _windows_1258(_legacy_text(_new_tone_placement(text, rows), rows), rows)
    rows = _tag_file_forms(rows, numbers)
    counts = rows.group_by("file_name", maintain_order=True).len("rows")
    counts = counts.join(
        _carries_optional(rows, source), on="file_name", how="left", maintain_order="left"
    )
    _stage(counts, text, numbers, staging, chunk.index)
    records = noise.collect_corruptions(rows).select(RECORD_COLUMNS)
    return Written(
        records=records,
        parties=_parties(rows, source),
        documents=_documents_named(rows, source),
        files=counts,
        sample=_labelled_columns(text.head(20), source, "exact"),
    )


def delivered_files(source: str, files: pl.DataFrame, totals: pl.DataFrame) -> pl.DataFrame:
    """The truth's table of a source's files (`styled_files`) that hold rows: `totals` has
    file_name, rows and optional_columns over all chunks."""
    return (
        files.join(totals, on="file_name", how="inner", maintain_order="left")
        .with_columns(source=pl.lit(source))
        .select(FILE_COLUMNS)
    )


def _carries_optional(rows: pl.DataFrame, source: str) -> pl.DataFrame:
    """Per file, whether it has the source's optional columns: files of the systems in use
    since the reform, and any file with a value in one of them."""
    optional = LAYOUTS[source].optional
    if not optional:
        return rows.select("file_name").unique().with_columns(optional_columns=pl.lit(False))
    valued = pl.any_horizontal(pl.col(c).is_not_null() for c in optional)
    return rows.group_by("file_name").agg(
        optional_columns=(pl.col("extract_date") >= REFORM_DATE).all() | valued.any()
    )


def styled_files(
    source: str, files: pl.DataFrame, seed: int, office_edits: bool = False
) -> pl.DataFrame:
    """The source's files of the whole city, with their styles and names, and with
    `office_edits` the edits each file takes (from a stream of their own, so that the styles
    drawn before stay the same)."""
    styled = styles.draw_styles(stream(seed, f"styles.{source}"), files.sort("file_key"), source)
    if office_edits:
        styled = styles.draw_office_edits(stream(seed, f"office.{source}"), styled)
    return styles.with_file_names(styled, source).sort("file_name")


# --- noise and invalid rows -------------------------------------------------------------------


def _add_noise(
    rows: pl.DataFrame, source: str, rng: np.random.Generator, level: float
) -> pl.DataFrame:
    if LAYOUTS[source].kind == "person":
        return _person_noise(rows, source, rng, level)
    columns = set(LAYOUTS[source].column_names)
    for name in NAME_COLUMNS:
        if name in columns:
            rows = noise.name_noise(rows, name, rng, EVENT_NAME_NOISE_SCALE * level)
    # A correction lacks an id only as often as any record does; a first report, more often.
    usual = noise.ID_NOISE_RATES["missing"]
    first_report = ~rows["correction"].to_numpy()
    for column in ID_COLUMNS:
        if column in columns:
            missing = EVENT_ID_MISSING.get(column, usual)
            rows = noise.id_noise(rows, column, rng, level, np.where(first_report, missing, usual))
    return rows


def _person_noise(
    rows: pl.DataFrame, source: str, rng: np.random.Generator, level: float
) -> pl.DataFrame:
    """The errors of the persons' own records: names, ids, birth dates, sex, phones."""
    # Duplicate registrations were typed by another clerk.
    second = rows["source_record_id"].str.starts_with(DUPLICATE_ID_PREFIX).to_numpy()
    rows = noise.name_noise(
        rows, "full_name", rng, level * np.where(second, DUPLICATE_NOISE_SCALE, 1.0)
    )
    columns = LAYOUTS[source].column_names
    id_column = DOCUMENT_ID_COLUMN.get(source, "national_id")
    numeric = _holds_an_id(rows, id_column)
    typo_scale = level * numeric * (noise.REGISTRY_ID_ERROR_SCALE if source == "dan_cu" else 1.0)
    family_column = "family_" + id_column
    has_family_id = rows[family_column].is_not_null().to_numpy()
    family_scale = level * (has_family_id & (source in FAMILY_ID_SOURCES))
    rows = noise.id_errors(rows, id_column, rng, typo_scale, family_scale)
    # An id whose digits went wrong was written down, not left out.
    erred = np.any(
        [rows[noise.TAG_PREFIX + f"{id_column}:{k}"].to_numpy() for k in noise.ID_ERROR_RATES],
        axis=0,
    )
    missing = np.where(erred, 0.0, noise.ID_NOISE_RATES["missing"])
    rows = noise.id_noise(rows, id_column, rng, level * numeric, missing)
    rows = noise.date_noise(rows, "birth_date", "extract_date", rng, level)
    rows = noise.sex_noise(rows, rng, level)
    if "phone" in columns:
        rows = noise.phone_noise(rows, rng, level)
    for relative in ("father_name", "mother_name", "spouse_name"):
        if relative in columns:
            rows = noise.name_noise(rows, relative, rng, EVENT_NAME_NOISE_SCALE * level)
    return rows


def _holds_an_id(rows: pl.DataFrame, id_column: str) -> np.ndarray:
    """Rows whose id column holds a personal id or an old CMND (not a passport, not a school's
    temporary code): only those get the id's typing errors."""
    holds = np.ones(rows.height, dtype=bool)
    if "document_kind" in rows.columns:
        holds &= rows["document_kind"].is_in(NUMERIC_DOCUMENTS).to_numpy()
    temporary = noise.TAG_PREFIX + f"{id_column}:temporary_code"
    if temporary in rows.columns:
        holds &= ~rows[temporary].to_numpy()
    return holds


def _previous_ids(rows: pl.DataFrame, rng: np.random.Generator, level: float) -> pl.DataFrame:
    """The id before a re-issue, where the record still holds the person's (current) id as it
    is (not left out, mistyped or written with separators)."""
    holds_current = (pl.col("national_id") == pl.col("true_national_id")).fill_null(False)
    eligible = rows.select(holds_current & pl.col("previous_national_id").is_not_null())
    mask = eligible.to_series().to_numpy() & (
        rng.random(rows.height) < noise.scaled(PREVIOUS_ID_STILL_HELD, level)
    )
    return noise.rewrite(rows, "national_id", mask, pl.col("previous_national_id"), "previous_id")


def _pick_invalid(
    rows: pl.DataFrame, source: str, rng: np.random.Generator, level: float
) -> np.ndarray:
    """A reason for ~0.2% (times `level`) of the rows that reach validation (latest ones), else
    None. Small sources still get one unless the level is 0, so that every kind shows up in small
    test runs."""
    latest = np.flatnonzero(rows["is_latest"].to_numpy())
    share = noise.scaled(INVALID_RATE, level)
    count = max(1, round(share * len(latest))) if len(latest) >= 10 and level > 0 else 0
    chosen = np.sort(rng.choice(latest, size=count, replace=False))
    reasons = np.asarray(list(INVALID_RULES[source]), dtype=object)
    picked = np.full(rows.height, None, dtype=object)
    picked[chosen] = reasons[rng.integers(0, len(reasons), count)]
    return picked


def _add_invalid(
    rows: pl.DataFrame, source: str, rng: np.random.Generator, as_of: date, level: float
) -> pl.DataFrame:
    """Break the chosen rows one rule each, obviously: the validator must catch every one.

    A rule that needs a value the row lacks (an id left out) falls back to the empty name."""
    rules = INVALID_RULES[source]
    reason = pl.Series(
        "invalid_reason", _pick_invalid(rows, source, rng, level).tolist(), dtype=pl.String
    )
    rows = rows.with_columns(reason)
    if "id.non_digit" in rules:
        no_id = (pl.col("invalid_reason") == "id.non_digit") & pl.col(
            rules["id.non_digit"]
        ).is_null()
        rows = rows.with_columns(
            invalid_reason=pl.when(no_id).then(pl.lit("name.empty")).otherwise("invalid_reason")
        )
    rows = rows.with_columns(**_broken_values(rows, rules, rng, as_of))
    # Noise recorded on a value that the invalid rule then replaced no longer describes the row.
    broken = {*rules.values(), "death_date"}
    tags = [c for c in rows.columns if c.startswith(noise.TAG_PREFIX)]
    stale = [c for c in tags if c.removeprefix(noise.TAG_PREFIX).split(":")[0] in broken]
    return rows.with_columns(pl.col(c) & pl.col("invalid_reason").is_null() for c in stale)


def _broken_values(
    rows: pl.DataFrame, rules: dict[str, str], rng: np.random.Generator, as_of: date
) -> dict[str, pl.Expr]:
    """The new value of each column a rule breaks, where `invalid_reason` names that rule."""
    size = rows.height
    reason = pl.col("invalid_reason")
    name_column = rules["name.empty"]
    far = pl.max_horizontal(pl.col("extract_date"), pl.lit(as_of)) + pl.duration(
        days=pl.lit(pl.Series(rng.integers(*FUTURE_DAYS, size)))
    )
    at = pl.lit(pl.Series(rng.integers(*ID_LETTER_AT, size)))
    letter = pl.lit(pl.Series(ID_LETTERS[rng.integers(0, len(ID_LETTERS), size)]))
    impossible = np.asarray(IMPOSSIBLE_DAYS)[rng.integers(0, len(IMPOSSIBLE_DAYS), size)]
    bad_date = rules["date.impossible"]
    year = pl.coalesce(
        pl.col(bad_date).dt.year(), _year_of(rows, bad_date), pl.lit(IMPOSSIBLE_DATE_YEAR)
    )
    changes = {
        name_column: pl.when(reason == "name.empty").then(pl.lit("")).otherwise(name_column),
        bad_date + OVERRIDE_SUFFIX: pl.when(reason == "date.impossible").then(
            render.impossible_date_text(
                pl.lit(pl.Series(impossible[:, 0])), pl.lit(pl.Series(impossible[:, 1])), year
            )
        ),
    }
    if "id.non_digit" in rules:
        value = pl.col(rules["id.non_digit"])
        with_letter = value.str.slice(0, at) + letter + value.str.slice(at + 1)
        changes[rules["id.non_digit"]] = (
            pl.when(reason == "id.non_digit").then(with_letter).otherwise(value)
        )
    future = rules["date.future"]
    changes[future] = pl.when(reason == "date.future").then(far).otherwise(future)
    if "date.death_before_birth" in rules:
        born = pl.coalesce("birth_date", pl.date(pl.col("birth_date" + YEAR_SUFFIX), 1, 1))
        days = pl.lit(pl.Series(rng.integers(*DEATH_BEFORE_BIRTH_DAYS, size)))
        earlier = born - pl.duration(days=days)
        died = changes.get("death_date", pl.col("death_date"))
        changes["death_date"] = (
            pl.when(reason == "date.death_before_birth").then(earlier).otherwise(died)
        )
    return changes


def _year_of(rows: pl.DataFrame, column: str) -> pl.Expr:
    companion = column + YEAR_SUFFIX
    return pl.col(companion) if companion in rows.columns else pl.lit(None, dtype=pl.Int32)


# --- rendering --------------------------------------------------------------------------------


def _render(rows: pl.DataFrame, source: str, rng: np.random.Generator):
    """Every contract column as text, and the XLSX cells typed as numbers (column -> Float64)."""
    size = rows.height
    text, numbers = {}, {}
    typed = pl.col("numbers_typed")
    edits = pl.col("office_edits")
    for column in LAYOUTS[source].column_names:
        col = pl.col(column)
        if column in DATE_COLUMNS:
            override = (
                pl.col(column + OVERRIDE_SUFFIX)
                if column + OVERRIDE_SUFFIX in rows.columns
                else pl.lit(None, dtype=pl.String)
            )
            written = render.date_text(col)
            if column + YEAR_SUFFIX in rows.columns:
                written = pl.coalesce(written, render.year_text(pl.col(column + YEAR_SUFFIX)))
            text[column] = pl.coalesce(override, written)
            serial = pl.col("date_cells").is_in(["serial", "serial_plain"]) & override.is_null()
            numbers[column] = pl.when(serial).then(render.excel_serial(col))
        elif column == "sex":
            text[column] = render.sex_text(
                col, pl.lit(pl.Series(rng.random(size) < ODD_SEX_SPELLING))
            )
        elif column == "phone":
            style = pl.lit(pl.Series(rng.choice(3, size=size, p=PHONE_STYLES)))
            kept_old = edits.list.contains("old_mobile_numbers")
            old_number = pl.when(kept_old).then(render.old_mobile_number(col))
            text[column] = pl.coalesce(old_number, render.phone_text(col, style))
            as_number = typed & pl.lit(pl.Series(rng.random(size) < PHONE_TYPED_AS_NUMBER))
            numbers[column] = pl.when(as_number).then(pl.coalesce(old_number, col).cast(pl.Float64))
        elif column == "address":
            text[column] = render.address_text(pl.col("street_address"), pl.col("scheme"))
        elif column in ID_COLUMNS:
            apostrophe = edits.list.contains("excel_apostrophe") & col.is_not_null()
            text[column] = pl.when(apostrophe).then("'" + col).otherwise(col)
            numbers[column] = pl.when(typed).then(render.digits_as_number(col))
        else:
            text[column] = col
    rendered = rows.select(**text)
    typed_cells = rows.select(**numbers)
    return rendered, {
        c: typed_cells[c] for c in typed_cells.columns if typed_cells[c].null_count() < size
    }


def _new_tone_placement(text: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Names and places of files an input method set to the new convention typed ("Thuý")."""
    edited = rows["office_edits"].list.contains("new_tone_placement").to_numpy()
    where = np.flatnonzero(edited)
    if len(where) == 0:
        return text
    return text.with_columns(
        text[column].scatter(
            where, _converted(text[column].gather(where), render.new_tone_placement)
        )
        for column in LEGACY_TEXT_COLUMNS
        if column in text.columns
    )


def _legacy_text(text: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Names and places of TCVN3 files as their glyphs read through cp1252 ("Hµ Néi")."""
    where = np.flatnonzero((rows["text_form"] == "tcvn3").to_numpy())
    if len(where) == 0:
        return text
    return text.with_columns(
        text[column].scatter(where, _converted(text[column].gather(where), encode_tcvn3))
        for column in LEGACY_TEXT_COLUMNS
        if column in text.columns
    )


def _converted(values: pl.Series, convert) -> pl.Series:
    """`convert` applied to each distinct non-ASCII value, in one call over them all joined by
    newlines (both conversions work character by character and leave newlines alone)."""
    distinct = values.filter(values.str.contains(r"[^\x00-\x7F]")).unique(maintain_order=True)
    if distinct.len() == 0:
        return values
    converted = pl.Series(convert("\n".join(distinct.to_list())).split("\n"), dtype=pl.String)
    return values.replace(distinct, converted)


def _windows_1258(text: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Text of Windows-1258 files in the form that code page holds (tones as combining marks)."""
    where = np.flatnonzero((rows["encoding"] == "cp1258").fill_null(False).to_numpy())
    if len(where) == 0:
        return text
    return text.with_columns(
        text[column].scatter(where, _converted(text[column].gather(where), to_cp1258_form))
        for column in text.columns
    )


def _tag_file_forms(rows: pl.DataFrame, numbers: dict[str, pl.Series]) -> pl.DataFrame:
    """Record the corruptions that happen at file level: legacy text form, typed numbers."""
    rows = noise.tag_rows(rows, "file:tcvn3", pl.col("text_form") == "tcvn3")
    rows = noise.tag_rows(rows, "file:nfd", pl.col("text_form") == "nfd")
    for column in ID_COLUMNS:
        if column in numbers:
            rows = noise.tag_rows(
                rows, f"{column}:as_number", pl.lit(numbers[column].is_not_null())
            )
    return rows


# --- files ------------------------------------------------------------------------------------


def _labelled_columns(text: pl.DataFrame, source: str, style: str) -> pl.DataFrame:
    """`text` (some of the source's columns) under the labels a system of `style` writes."""
    layout = dict(LAYOUTS[source].columns)
    labels = render.header_labels([layout[c] for c in text.columns], style)
    return text.rename(dict(zip(text.columns, labels, strict=True)))


def _stage(
    counts: pl.DataFrame,
    text: pl.DataFrame,
    numbers: dict[str, pl.Series],
    staging: Path,
    chunk: int,
) -> None:
    """Each file's rows of the chunk (`text` and `numbers` in file order, `counts` per file) as
    `staging/<file name>/<chunk>.arrow`: the text columns, and the typed cells as `#<column>`."""
    staged = text.with_columns(
        series.alias(NUMBER_PREFIX + name) for name, series in numbers.items()
    )
    offset = 0
    for file_name, rows in counts.select("file_name", "rows").iter_rows():
        folder = staging / file_name
        folder.mkdir(parents=True, exist_ok=True)
        staged.slice(offset, rows).write_ipc(folder / f"{chunk:05d}.arrow", compression="lz4")
        offset += rows


def _staged(staging: Path, file_name: str) -> tuple[pl.DataFrame, dict[str, pl.Series]]:
    """A file's text and typed cells, from its staged parts in chunk order."""
    parts = sorted((staging / file_name).glob("*.arrow"))
    staged = pl.concat([pl.read_ipc(part) for part in parts], how="diagonal_relaxed")
    typed = [c for c in staged.columns if c.startswith(NUMBER_PREFIX)]
    numbers = {c.removeprefix(NUMBER_PREFIX): staged[c] for c in typed}
    return staged.drop(typed), numbers


def write_files(source: str, files: pl.DataFrame, staging: Path, landing: Path) -> None:
    """Write each file of `files` (`delivered_files`) from its staged parts, then drop them."""
    (landing / source).mkdir(parents=True, exist_ok=True)
    layout = LAYOUTS[source]
    date_labels = {label for name, label in layout.columns if name in DATE_COLUMNS}
    for style in files.iter_rows(named=True):
        named, numbers = _staged(staging, style["file_name"])
        if not style["optional_columns"]:
            named = named.drop(layout.optional)
        table = _labelled_columns(named, source, style["header_style"])
        typed = {
            label: numbers[name]
            for name, label in zip(named.columns, table.columns, strict=True)
            if name in numbers
        }
        if style["row_number_column"]:
            table, typed = writers.with_row_numbers(table, typed, ROW_NUMBER_LABEL)
        path = landing / style["file_name"]
        edits = style["office_edits"]
        title = OFFICE_TITLE[source] if "title_above_header" in edits else ()
        if style["format"] == "csv":
            if style["encoding"] == "cp1258":
                table = table.rename(to_cp1258_form)
                title = [to_cp1258_form(line) for line in title]
            joined_at = table.height // 2 if "joined" in edits else None
            writers.write_csv(path, table, style, title, joined_at)
        elif style["format"] == "parquet":
            writers.write_parquet(path, table)
        else:
            dated = (
                {render.header_labels([d], style["header_style"])[0] for d in date_labels}
                if style["date_cells"] == "serial"
                else set()
            )
            created = datetime.combine(style["extract_date"], time(7, 30))
            sheets = min(3, max(2, table.height // 100)) if "sheets" in edits else 1
            writers.write_xlsx(path, table, typed, dated, created, title, sheets)
        shutil.rmtree(staging / style["file_name"])


def _parties(rows: pl.DataFrame, source: str) -> pl.DataFrame:
    """Who is who in each civil event (one row per record id and role)."""
    roles = EVENT_ROLES.get(source, {})
    parts = [
        rows.filter(pl.col("is_latest")).select(
            source=pl.lit(source),
            source_record_id="source_record_id",
            role=pl.lit(role),
            person_key=pl.col(key),
        )
        for role, key in roles.items()
    ]
    schema = {
        "source": pl.String,
        "source_record_id": pl.String,
        "role": pl.String,
        "person_key": pl.String,
    }
    return (
        pl.concat(parts).filter(pl.col("person_key").is_not_null())
        if parts
        else pl.DataFrame(schema=schema)
    )


DOCUMENT_SCHEMA = {
    "source": pl.String,
    "source_record_id": pl.String,
    "person_key": pl.String,
    "document_type": pl.String,
    "document_number": pl.String,
}


def _documents_named(rows: pl.DataFrame, source: str) -> pl.DataFrame:
    """The documents other than the personal id that the latest records name, with the true
    number: a request's document, a foreign party's passport, a student's code."""
    latest = rows.filter(pl.col("is_latest"))
    base = [pl.lit(source).alias("source"), pl.col("source_record_id")]
    parts = [pl.DataFrame(schema=DOCUMENT_SCHEMA)]
    if "document_kind" in rows.columns:
        parts.append(
            latest.select(
                *base,
                "person_key",
                document_type="document_kind",
                document_number="true_document_number",
            )
        )
    for role, key in EVENT_ROLES.get(source, {}).items():
        number = f"{role}_document_number"
        if number in rows.columns:
            named = latest.filter(pl.col(number).is_not_null())
            parts.append(
                named.select(
                    *base,
                    person_key=pl.col(key),
                    document_type=pl.lit("passport"),
                    document_number=pl.col(number),
                )
            )
    if source == STUDENT_SOURCE:
        parts.append(
            latest.select(
                *base,
                "person_key",
                document_type=pl.lit("student_code"),
                document_number="source_record_id",
            )
        )
    return pl.concat(parts, how="vertical_relaxed")


# --- files the ingest must reject -------------------------------------------------------------


def write_bad_files(samples: dict[str, pl.DataFrame], landing: Path, as_of: date) -> pl.DataFrame:
    """A dan_cu CSV without its record-id column, a bhxh CSV without a date in its name, and a
    y_te workbook without the health-card column."""
    stamp = (as_of - timedelta(days=3)).strftime("%Y%m%d")
    dan_cu_id = LAYOUTS["dan_cu"].label("source_record_id")
    card = LAYOUTS["y_te"].label("health_card")
    bad = [
        ("dan_cu", f"dan_cu/dan_cu_bosung_{stamp}.csv", samples["dan_cu"].drop(dan_cu_id),
         f"file.missing_column: {dan_cu_id}"),
        ("bhxh", "bhxh/bhxh_tonghop.csv", samples["bhxh"], "file.no_extract_date"),
        ("y_te", f"y_te/y_te_bosung_{stamp}.xlsx", samples["y_te"].drop(card),
         f"file.missing_column: {card}"),
    ]  # fmt: skip
    plain = {"separator": ",", "line_ending": "\n", "text_form": "unicode", "encoding": "utf-8"}
    for _, name, table, _ in bad:
        path = landing / name
        if path.suffix == ".csv":
            writers.write_csv(path, table, plain)
        else:
            writers.write_xlsx(path, table, {}, set(), datetime.combine(as_of, time(7, 30)))
    return pl.DataFrame(
        {
            "file_name": [name for _, name, _, _ in bad],
            "source": [source for source, _, _, _ in bad],
            "reason": [reason for _, _, _, reason in bad],
            "rows": [table.height for _, _, table, _ in bad],
        }
    )
