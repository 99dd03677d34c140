"""Resolve: which records are the same person, and that person's golden record.

This first version links records that share a valid national id, and nothing else; records
without one stand alone. The fuzzy model replaces `cluster_key` without changing the tables.
"""

import dagster as dg
import duckdb
import polars as pl

from assets.standardize import REASONS
from dancu.contract import EXTRACT_DATE, FILE_NAME, PERSON_SOURCES, RECORD_ID, ROW_NUMBER, SOURCE

# Golden-record fields come from the most authoritative source first, then the latest extract.
SOURCE_PRIORITY = {"dan_cu": 0, "bhxh": 1, "y_te": 2}
PERSON_FIELDS = ["national_id", "full_name", "birth_date", "birth_year", "sex", "address", "phone"]
GOLDEN_FIELDS = [*PERSON_FIELDS, "residence_ward_code"]


def accepted(std: pl.LazyFrame) -> pl.LazyFrame:
    return std.filter(pl.col(REASONS).list.len() == 0)


def person_records(std_frames: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
    """Every accepted record of a person-bearing source, in one shape."""
    parts = []
    for name in PERSON_SOURCES:
        frame = accepted(std_frames[name])
        ward = pl.col("ward_code") if name == "dan_cu" else pl.lit(None, dtype=pl.String)
        parts.append(
            frame.select(
                SOURCE,
                RECORD_ID,
                FILE_NAME,
                ROW_NUMBER,
                EXTRACT_DATE,
                *PERSON_FIELDS,
                ward.alias("residence_ward_code"),
            )
        )
    return pl.concat(parts, how="vertical_relaxed")


def cluster_key() -> pl.Expr:
    """Records with the same valid national id are one person; others are their own."""
    own = pl.concat_str([pl.col(SOURCE), pl.col(RECORD_ID)], separator=":")
    return (
        pl.when(pl.col("national_id").is_not_null())
        .then("id:" + pl.col("national_id"))
        .otherwise(own)
    )


def with_person_ids(records: pl.DataFrame) -> pl.DataFrame:
    """Each record with its `person_id`: a digest of its cluster's key, the same every run.

    The digest is salted with the namespace so that a person id does not reveal a national id
    by a plain hash look-up.
    """
    keyed = records.with_columns(cluster_key().alias("cluster_key"))
    digests = duckdb.sql(
        "select cluster_key, 'P' || upper(substr(md5('dancu.person:' || cluster_key), 1, 15)) "
        "as person_id from keyed group by cluster_key"
    ).pl()
    return keyed.join(digests, on="cluster_key", how="left").drop("cluster_key")


def golden_records(records: pl.DataFrame) -> pl.DataFrame:
    """One row per person: each field from the best record that has it (priority, then recency)."""
    ranked = records.sort(
        pl.col(SOURCE).replace_strict(SOURCE_PRIORITY, return_dtype=pl.Int8),
        pl.col(EXTRACT_DATE),
        descending=[False, True],
    )
    return (
        ranked.group_by("person_id", maintain_order=True)
        .agg(
            *[pl.col(f).drop_nulls().first().alias(f) for f in GOLDEN_FIELDS],
            pl.col(SOURCE).first().alias("primary_source"),
            pl.len().alias("record_count"),
        )
        .sort("person_id")
    )


@dg.multi_asset(
    group_name="resolve",
    ins={f"std_{name}": dg.AssetIn(f"std_{name}") for name in PERSON_SOURCES},
    outs={
        "person_source": dg.AssetOut(
            kinds={"polars", "parquet"},
            description="Each accepted dan_cu, bhxh and y_te record with the person it belongs to.",
        ),
        "person_golden": dg.AssetOut(
            kinds={"polars", "parquet"},
            description="One row per resolved person: the golden record before life events.",
        ),
    },
)
def resolve_persons(**std_frames: pl.LazyFrame):
    """Group person records into persons and choose each person's golden values."""
    frames = {name.removeprefix("std_"): frame for name, frame in std_frames.items()}
    records = with_person_ids(person_records(frames).collect())
    persons = golden_records(records)
    yield dg.Output(
        records.with_columns(
            pl.when(pl.col("national_id").is_not_null())
            .then(pl.lit("national_id"))
            .otherwise(pl.lit("unmatched"))
            .alias("match_rule")
        )
        .select(SOURCE, RECORD_ID, "person_id", "match_rule", FILE_NAME, ROW_NUMBER, EXTRACT_DATE)
        .sort(SOURCE, RECORD_ID),
        output_name="person_source",
        metadata={"records": records.height},
    )
    yield dg.Output(
        persons,
        output_name="person_golden",
        metadata={
            "persons": persons.height,
            "records_per_person": round(records.height / max(persons.height, 1), 3),
        },
    )
