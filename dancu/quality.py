"""Measures of a standardised source that tell an engineer whether it can be trusted: what is
lost, what breaks the schema, how complete the required fields are, which rules rows break, and
whether the source delivers on time."""

from datetime import date

import pandera.polars as pa
import polars as pl

from dancu.contract import EXTRACT_DATE, FILE_NAME, ROW_NUMBER, Source
from dancu.mask import mask_id, mask_name
from dancu.memory import rows_within
from dancu.rules import FLAGS, REASONS, is_rejected, rule_id
from dancu.schemas import standardized_schema

EXAMPLES_PER_RULE = 3
# What a standardised row takes while the schema validates it: its values and pandera's
# working copies of a column's checks (the register's rows are about 1 kB in memory).
VALIDATED_ROW_BYTES = 4_000


def required_fields(source: Source) -> list[str]:
    subject_id = [source.subject.national_id] if source.subject else []
    return [*source.required_names, *source.required_fields, *subject_id]


def completeness(frame: pl.LazyFrame, fields: list[str]) -> dict[str, float]:
    """Share of rows where each field holds a value (a bare birth year counts as a birth date)."""
    present = []
    for field in fields:
        if field.endswith("birth_date"):
            present.append(pl.col(field.replace("_date", "_year")).is_not_null().mean())
        else:
            present.append(pl.col(field).is_not_null().mean())
    shares = frame.select(expr.alias(f) for expr, f in zip(present, fields, strict=True))
    row = shares.collect(engine="streaming").row(0, named=True)
    return {k: 1.0 if v is None else round(v, 4) for k, v in row.items()}  # no rows: none lacks it


def masked_example(source: Source) -> pl.Expr:
    """Where a row is, and who it is about, masked: "dan_cu/x.csv:12 N. V. A. 001*******45"."""
    name = source.required_names[0]
    parts = [pl.col(FILE_NAME) + ":" + pl.col(ROW_NUMBER).cast(pl.String), mask_name(pl.col(name))]
    if source.subject:
        parts.append(mask_id(pl.col(source.subject.national_id)))
    return pl.concat_str(parts, separator=" ", ignore_nulls=True)


def top_rules(frame: pl.LazyFrame, source: Source, limit: int = 10) -> pl.DataFrame:
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
        .collect()
    )


def schema_failures(std: pl.LazyFrame, source: Source, rows: int | None = None) -> pl.DataFrame:
    """Per column and check, how many accepted rows of the standardised frame `std` fail the
    schema (values are not shown). Validated `rows` at a time, the accepted rows of each slice
    (by default as many as `VALIDATED_ROW_BYTES` fit in the memory limit; slicing before the
    filter reads the frame once): the schema checks each value alone, so the chunks fail as the
    whole would. A failure of the schema itself (a column missing, or of another type) has no
    row, and each chunk reports it: it is counted once."""
    rows = rows or rows_within(VALIDATED_ROW_BYTES)
    size = std.select(pl.len()).collect().item()
    found = []
    for start in range(0, max(size, 1), rows):  # an empty frame may fail the schema itself
        accepted = std.slice(start, rows).filter(~is_rejected()).collect()
        try:
            standardized_schema(source).validate(accepted, lazy=True)
        except pa.errors.SchemaErrors as errors:
            cases = errors.failure_cases
            found.append(cases if start == 0 else cases.filter(pl.col("index").is_not_null()))
    if not found:
        return pl.DataFrame(schema={"column": pl.String, "check": pl.String, "len": pl.UInt32})
    return (
        pl.concat(found)
        .group_by("column", "check")
        .len()
        .sort(["len", "column", "check"], descending=[True, False, False])
    )


def newest_extract(files: pl.LazyFrame) -> date | None:
    """The newest extract date among a source's files (`files_<source>`) that were read: a
    rejected file, one dated in the future among them, delivered nothing."""
    read = files.filter(pl.col("error").is_null())
    return read.select(pl.col(EXTRACT_DATE).max()).collect().item()


def days_late(newest_extract: date | None, cadence_days: int, today: date) -> int | None:
    """Days past the expected next delivery (0 when on time), None when nothing was delivered."""
    if newest_extract is None:
        return None
    return max((today - newest_extract).days - cadence_days, 0)
