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

from dancu.mask import mask_id

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_ESCAPE = "'"
# Columns (before their _l / _r side suffix) that identify a person and are masked.
MASKED = ("national_id", "cmnd", "bhxh_code", "health_card", "phone")
DECISION = "decision"  # filled in by the clerk: match / no_match
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


def clerk_decisions(folder: Path) -> pl.DataFrame | None:
    """Every clerk decision file (CSV, as exported for review with `decision` filled in)."""
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not files:
        return None
    columns = [*DECIDED_PAIR, DECISION]
    frames = [
        pl.read_csv(f, infer_schema=False, encoding="utf8-lossy").select(columns) for f in files
    ]
    decided = pl.concat(frames).filter(pl.col(DECISION).is_in(["match", "no_match"]))
    # The export escaped cells that could start a formula; a decision read back drops it.
    return decided.with_columns(pl.col(c).str.strip_prefix(FORMULA_ESCAPE) for c in columns)
