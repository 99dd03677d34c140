"""Standardise: each source's latest rows with values parsed to types and rule outcomes attached."""

import dagster as dg
import polars as pl

from checks.rules import in_excel_file, reasons
from dancu import parse
from dancu.contract import LINEAGE, RECORD_ID, SOURCES, Source
from dancu.ingest import FILE_ERROR

REASONS = "reasons"
FLAGS = "flags"
RAW = "raw"


def standardized_column(name: str) -> list[pl.Expr]:
    """The typed form of one contract column, chosen by the column's kind (its name's ending)."""
    text = pl.col(name)
    if name.endswith("_name"):
        return [parse.clean_name(text).alias(name)]
    if name.endswith("national_id"):
        return [parse.national_id(text).alias(name)]
    if name == "sex":
        return [parse.sex(text).alias(name)]
    if name.endswith("birth_date"):
        return [
            parse.parse_date(text, in_excel_file()).alias(name),
            parse.parse_year(text, in_excel_file()).alias(name.replace("_date", "_year")),
        ]
    if name.endswith("_date"):
        return [parse.parse_date(text, in_excel_file()).alias(name)]
    return [parse.clean_text(text).alias(name)]


def standardize(raw: pl.LazyFrame, source: Source) -> pl.LazyFrame:
    """The latest rows of a source, typed, with `reasons` (quarantine) and `flags` (advisory).

    A row with reasons also keeps its delivered values as JSON in `raw` for the quarantine,
    under the source's own header labels.
    """
    delivered = [c for c in source.column_names if c != RECORD_ID]
    latest = raw.filter(pl.col(FILE_ERROR).is_null() & pl.col("is_latest"))
    judged = latest.with_columns(
        reasons(source, "quarantine").alias(REASONS), reasons(source, "flag").alias(FLAGS)
    )
    raw_json = pl.struct(
        [pl.col(c.name).alias(c.label) for c in source.columns]
    ).struct.json_encode()
    return judged.select(
        *LINEAGE,
        parse.clean_text(pl.col(RECORD_ID)).alias(RECORD_ID),
        *[expr for name in delivered for expr in standardized_column(name)],
        REASONS,
        FLAGS,
        pl.when(pl.col(REASONS).list.len() > 0).then(raw_json).alias(RAW),
    )


def std_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"std_{source.name}",
        group_name="standardize",
        kinds={"polars", "parquet"},
        ins={"raw": dg.AssetIn(f"raw_{source.name}")},
        description=f"The latest {source.name} rows, standardised, each with the reasons it "
        "must be quarantined (if any) and its advisory flags.",
    )
    def std(raw: pl.LazyFrame) -> dg.Output[pl.DataFrame]:
        frame = standardize(raw, source).collect()
        quarantined = int((frame[REASONS].list.len() > 0).sum())
        flagged = int((frame[FLAGS].list.len() > 0).sum())
        return dg.Output(
            frame,
            metadata={"rows_to_quarantine": quarantined, "rows_flagged": flagged},
        )

    return std


std_assets = [std_asset(source) for source in SOURCES.values()]
