"""The review queue as a CSV a clerk opens in Excel, and fills in.

Safe to open: no cell can start a formula. Per the OWASP CSV-injection guidance, a text cell
starting with `=`, `+`, `-`, `@`, tab or carriage return is prefixed with `'`, which Excel shows
as text. Numbers stay numbers (a number is never a formula). Written in UTF-8 with a BOM, without
which Excel reads Vietnamese names in the local code page.

A clerk needs names, dates and addresses to decide whether two records are one person, so those
show; national ids, insurance codes and phones are masked (a clerk compares their masked forms
and the per-field comparison levels). The source record ids stay whole: they are what a clerk's
decision names when it goes back to resolution.
"""

import polars as pl

from dancu.mask import mask_id

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Columns (before their _l / _r side suffix) that identify a person and are masked.
MASKED = ("national_id", "cmnd", "bhxh_code", "health_card", "phone")
DECISION = "decision"  # filled in by the clerk: match / no_match


def excel_safe(text: pl.Expr) -> pl.Expr:
    """Text Excel shows as it is, never evaluates."""
    starts_formula = text.str.slice(0, 1).is_in(list(FORMULA_STARTS))
    return pl.when(starts_formula).then("'" + text).otherwise(text)


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
