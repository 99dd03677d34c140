"""Golden records: one row per person, each field taken from the best record that has it.

The rule, field by field: the most authoritative source first (dan_cu, then bhxh, then y_te,
then the civil registrations that name the person), then the latest extract, then the most
complete record, then the record's canonical position (source, then record id: so that ties are
settled the same way every run). Each field says which source it came from.
"""

import polars as pl

from dancu.contract import EXTRACT_DATE, SOURCE, SOURCE_PRIORITY
from dancu.resolve.ids import id_order
from dancu.resolve.records import RECORD_KEY

GOLDEN_FIELDS = (
    "national_id", "full_name", "birth_date", "sex", "phone", "address", "ward_code",
    "father_name", "mother_name", "marital_status",
)  # fmt: skip
# Bits of each part of `preference`, most significant first after the source priority: days
# since 1970 run out in 2328, and `rk` is a UInt32.
DAY_BITS, FILLED_BITS, KEY_BITS = 17, 4, 32


def preference() -> pl.Expr:
    """A record's place in the golden rule's order as one UInt64, smallest first. One number
    sorts several times faster than four keys; each key gets bits of its own."""
    priority = pl.col(SOURCE).replace_strict(
        SOURCE_PRIORITY, default=len(SOURCE_PRIORITY), return_dtype=pl.UInt64
    )
    latest_day = 2**DAY_BITS - 1
    days_before_latest = latest_day - pl.col(EXTRACT_DATE).cast(pl.Int64).clip(0, latest_day)
    empty_fields = len(GOLDEN_FIELDS) - pl.sum_horizontal(
        pl.col(f).is_not_null() for f in GOLDEN_FIELDS
    )
    key = priority * 2**DAY_BITS + days_before_latest.fill_null(latest_day).cast(pl.UInt64)
    key = key * 2**FILLED_BITS + empty_fields.cast(pl.UInt64)
    return key * 2**KEY_BITS + pl.col(RECORD_KEY).cast(pl.UInt64)


def golden_records(records: pl.DataFrame) -> pl.DataFrame:
    """One row per `person_id` of `records` (person records with their `rk` and `person_id`),
    in `person_id` order: each of `GOLDEN_FIELDS` and `<field>_source`, the source it came from;
    `birth_year` goes with the birth date chosen (or the best year where no record has a full
    date); `residence_ward_code` is the chosen `ward_code`; `marital_status_as_of` the extract
    date of the record that said the marital status (a marriage registered later supersedes
    it); `primary_source` (the source of the best record) and `record_count`. Records without
    a `person_id` are left out.

    Each field's record is found by row number and its value gathered once: ranking copies of
    the records' fields would hold them twice over (15 GB at ten million persons)."""
    person = id_order(pl.col("person_id"))
    order = records.select(pl.arg_sort_by(person, preference(), nulls_last=True)).to_series()
    with_person = order.head(records.height - records["person_id"].null_count())
    # The rows with a person in the rule's order; a person's rows are next to each other, so a
    # run number groups them cheaply.
    ranked = pl.DataFrame({"row": with_person}).with_columns(
        records.select(person).to_series().gather(with_person).rle_id().alias("_person")
    )
    persons = ranked.group_by("_person", maintain_order=True).agg(
        pl.col("row").first(), pl.len().alias("record_count")
    )

    def first_row_with(field: str) -> pl.Series:
        """Per person, the row of its best record that has `field`, null where none has."""
        present = records[field].is_not_null().gather(ranked["row"])
        found = ranked.filter(present).group_by("_person", maintain_order=True).first()
        return persons.join(found, on="_person", how="left", maintain_order="left")["row_right"]

    columns = {"person_id": records["person_id"].gather(persons["row"])}
    for field in (*GOLDEN_FIELDS, "birth_year"):
        rows = first_row_with(field)
        columns[field] = records[field].gather(rows)
        columns[f"{field}_source"] = records[SOURCE].gather(rows)
        if field == "marital_status":
            columns["marital_status_as_of"] = records[EXTRACT_DATE].gather(rows)
    best_year = columns.pop("birth_year")
    del columns["birth_year_source"]
    return (
        pl.DataFrame(columns)
        .with_columns(
            primary_source=records[SOURCE].gather(persons["row"]),
            record_count=persons["record_count"],
            birth_year=pl.coalesce(pl.col("birth_date").dt.year().cast(pl.Int32), best_year),
            residence_ward_code=pl.col("ward_code"),
        )
        .drop("ward_code")
        .rename({"ward_code_source": "residence_ward_code_source"})
    )
