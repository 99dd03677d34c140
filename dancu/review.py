"""The clerk's review file: the review queue as a CSV a clerk opens in Excel and fills in, and
the decisions read back from it. The format is written and read here alone.

Safe to open: no cell can start a formula. Per the OWASP CSV-injection guidance, a text cell
starting with `=`, `+`, `-`, `@`, tab or carriage return is prefixed with `'`, which Excel shows
as text. Numbers stay numbers (a number is never a formula). Written in UTF-8 with a BOM, without
which Excel reads Vietnamese names in the local code page.

A clerk needs names, dates and addresses to decide whether two records are one person, so those
show; national ids, insurance codes and phones are masked (a clerk compares their masked forms
and the per-field comparison levels). The source record ids stay whole: they are what a clerk's
decision names when it goes back to resolution.
"""

from pathlib import Path

import polars as pl

from dancu.ingest import FileRejected, read_table
from dancu.mask import mask_id

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_ESCAPE = "'"
# Columns (before their _l / _r side suffix) that identify a person and are masked.
MASKED = ("national_id", "cmnd", "bhxh_code", "health_card", "phone")
DECISION = "decision"  # filled in by the clerk: match / no_match
DECISIONS = ["match", "no_match"]
# What a decision names: the two records, by source and record id.
DECIDED_PAIR = ["source_l", "source_record_id_l", "source_r", "source_record_id_r"]


def excel_safe(text: pl.Expr) -> pl.Expr:
    """Text Excel shows as it is, never evaluates."""
    starts_formula = text.str.slice(0, 1).is_in(list(FORMULA_STARTS))
    return pl.when(starts_formula).then(FORMULA_ESCAPE + text).otherwise(text)


def is_masked(column: str) -> bool:
    return column.removesuffix("_l").removesuffix("_r") in MASKED


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


def _decisions_of(path: Path) -> pl.DataFrame:
    """One decision file's decided pairs; FileRejected when it is no such file."""
    frame, _, _ = read_table(path.read_bytes(), path.suffix)
    missing = [c for c in (*DECIDED_PAIR, DECISION) if c not in frame.columns]
    if missing:
        raise FileRejected(f"missing column(s) {', '.join(missing)} of the review export")
    columns = [*DECIDED_PAIR, DECISION]
    decided = frame.select(pl.col(c).cast(pl.String).str.strip_chars() for c in columns)
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
