"""Golden records: one row per person, each field taken from the best record that has it.

The rule, field by field: the most authoritative source first (dan_cu, then bhxh, then y_te,
then the civil registrations that name the person), then the latest extract, then the most
complete record, then the record id (so that ties are settled the same way every run). Each
field says which source it came from.
"""

import polars as pl

from dancu.contract import EXTRACT_DATE, RECORD_ID, SOURCE
from dancu.resolve.records import SOURCE_PRIORITY

GOLDEN_FIELDS = (
    "national_id", "full_name", "birth_date", "sex", "phone", "address", "ward_code",
    "father_name", "mother_name", "marital_status",
)  # fmt: skip


def best_first(records: pl.DataFrame) -> pl.DataFrame:
    """Records in the golden rule's order of preference."""
    filled = pl.sum_horizontal(pl.col(f).is_not_null().cast(pl.Int32) for f in GOLDEN_FIELDS)
    return records.sort(
        pl.col(SOURCE).replace_strict(SOURCE_PRIORITY, default=len(SOURCE_PRIORITY)),
        pl.col(EXTRACT_DATE),
        filled,
        pl.col(RECORD_ID),
        descending=[False, True, True, False],
        nulls_last=True,
    )


def golden_records(records: pl.DataFrame) -> pl.DataFrame:
    """One row per `person_id` of `records` (person records with their `person_id`): each of
    `GOLDEN_FIELDS` and `<field>_source`, the source it came from; `birth_year` goes with the
    birth date chosen (or the best year where no record has a full date); `residence_ward_code`
    is the chosen `ward_code`; `marital_status_as_of` the extract date of the record that said
    the marital status (a marriage registered later supersedes it); `primary_source` (the
    source of the best record) and `record_count`."""
    ranked = best_first(records)
    fields = [
        expr
        for f in GOLDEN_FIELDS
        for expr in (
            pl.col(f).drop_nulls().first().alias(f),
            pl.col(SOURCE).filter(pl.col(f).is_not_null()).first().alias(f"{f}_source"),
        )
    ]
    return (
        ranked.group_by("person_id", maintain_order=True)
        .agg(
            *fields,
            pl.col("birth_year").drop_nulls().first().alias("_best_year"),
            pl.col(EXTRACT_DATE)
            .filter(pl.col("marital_status").is_not_null())
            .first()
            .alias("marital_status_as_of"),
            pl.col(SOURCE).first().alias("primary_source"),
            pl.len().alias("record_count"),
        )
        .with_columns(
            pl.coalesce(pl.col("birth_date").dt.year().cast(pl.Int32), "_best_year").alias(
                "birth_year"
            ),
            pl.col("ward_code").alias("residence_ward_code"),
        )
        .drop("_best_year", "ward_code")
        .rename({"ward_code_source": "residence_ward_code_source"})
        .sort("person_id")
    )
