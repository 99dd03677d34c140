"""Measures of a standardised source that tell an engineer whether it can be trusted: what is
lost, what breaks the schema, how complete the required fields are, which rules rows break, and
whether the source delivers on time."""

import os
from datetime import date

import pandera.polars as pa
import polars as pl

from dancu.contract import FILE_NAME, ROW_NUMBER, Source
from dancu.mask import mask_id, mask_name
from dancu.rules import FLAGS, REASONS, rule_id
from dancu.schemas import standardized_schema

EXAMPLES_PER_RULE = 3


def required_fields(source: Source) -> list[str]:
    subject_id = [source.subject.national_id] if source.subject else []
    return [*source.required_names, *source.required_fields, *subject_id]


def completeness(frame: pl.DataFrame, fields: list[str]) -> dict[str, float]:
    """Share of rows where each field holds a value (a bare birth year counts as a birth date)."""
    if frame.is_empty():
        return dict.fromkeys(fields, 1.0)
    present = []
    for field in fields:
        if field.endswith("birth_date"):
            present.append(
                pl.col(field.replace("_date", "_year")).is_not_null().mean().alias(field)
            )
        else:
            present.append(pl.col(field).is_not_null().mean().alias(field))
    return {k: round(v, 4) for k, v in frame.select(present).row(0, named=True).items()}


def masked_example(source: Source) -> pl.Expr:
    """Where a row is, and who it is about, masked: "dan_cu/x.csv:12 N. V. A. 001*******45"."""
    name = source.required_names[0]
    parts = [pl.col(FILE_NAME) + ":" + pl.col(ROW_NUMBER).cast(pl.String), mask_name(pl.col(name))]
    if source.subject:
        parts.append(mask_id(pl.col(source.subject.national_id)))
    return pl.concat_str(parts, separator=" ", ignore_nulls=True)


def top_rules(frame: pl.DataFrame, source: Source, limit: int = 10) -> pl.DataFrame:
    """The rules most rows break (`rule`, `rows`), with a few masked `example`s each."""
    # A few rows in a hundred break a rule: only they are masked.
    breaking = frame.filter(pl.col(REASONS).list.len() + pl.col(FLAGS).list.len() > 0)
    return (
        breaking.select(
            masked_example(source).alias("example"),
            pl.concat_list(REASONS, FLAGS).alias("rule"),
        )
        .explode("rule")
        .drop_nulls("rule")
        .with_columns(rule_id(pl.col("rule")).alias("rule"))
        .group_by("rule")
        .agg(pl.len().alias("rows"), pl.col("example").head(EXAMPLES_PER_RULE))
        .sort(["rows", "rule"], descending=[True, False])
        .head(limit)
    )


def schema_failures(accepted: pl.DataFrame, source: Source) -> pl.DataFrame:
    """Per column and check, how many accepted rows fail the schema (values are not shown)."""
    try:
        standardized_schema(source).validate(accepted, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return errors.failure_cases.group_by("column", "check").len().sort("len", descending=True)
    return pl.DataFrame(schema={"column": pl.String, "check": pl.String, "len": pl.UInt32})


def days_late(newest_extract: date | None, cadence_days: int, today: date) -> int | None:
    """Days past the expected next delivery (0 when on time), None when nothing was delivered."""
    if newest_extract is None:
        return None
    return max((today - newest_extract).days - cadence_days, 0)


def as_of() -> date:
    """The day deliveries are judged on: today, or `DANCU_AS_OF` (ISO date) where extracts are
    replayed or generated for another day (the demo's sample ends on its as-of date)."""
    configured = os.environ.get("DANCU_AS_OF")
    return date.fromisoformat(configured) if configured else date.today()
