"""Golden records: one row per person, each field taken from the best record that has it.

The rule, field by field: the most authoritative source first (dan_cu, then bhxh, then y_te,
then the civil registrations that name the person), then the latest extract, then the most
complete record, then the record's canonical position (source, then record id: so that ties are
settled the same way every run). Each field says which source it came from.
"""

from pathlib import Path

import polars as pl

from dancu.contract import EXTRACT_DATE, SOURCE, SOURCE_PRIORITY
from dancu.memory import mapped_column
from dancu.resolve.ids import id_order
from dancu.resolve.records import RECORD_KEY

GOLDEN_FIELDS = (
    "national_id", "full_name", "birth_date", "sex", "phone", "address", "ward_code",
    "father_name", "mother_name", "marital_status",
)  # fmt: skip
# Bits of each part of `preference`, most significant first after the source priority: days
# since 1970 run out in 2328, and `rk` is a UInt32.
DAY_BITS, FILLED_BITS, KEY_BITS = 17, 4, 32


def preference(empty_fields: pl.Expr) -> pl.Expr:
    """A record's place in the golden rule's order as one UInt64, smallest first, from its
    source, extract date, `empty_fields` (how many of `GOLDEN_FIELDS` it lacks) and record key.
    One number sorts several times faster than four keys; each key gets bits of its own."""
    priority = pl.col(SOURCE).replace_strict(
        SOURCE_PRIORITY, default=len(SOURCE_PRIORITY), return_dtype=pl.UInt64
    )
    latest_day = 2**DAY_BITS - 1
    days_before_latest = latest_day - pl.col(EXTRACT_DATE).cast(pl.Int64).clip(0, latest_day)
    key = priority * 2**DAY_BITS + days_before_latest.fill_null(latest_day).cast(pl.UInt64)
    key = key * 2**FILLED_BITS + empty_fields.cast(pl.UInt64)
    return key * 2**KEY_BITS + pl.col(RECORD_KEY).cast(pl.UInt64)


def golden_records(records: pl.DataFrame | pl.LazyFrame, spill: Path | None = None) -> pl.DataFrame:
    """One row per `person_id` of `records` (person records with their `rk` and `person_id`),
    in `person_id` order: each of `GOLDEN_FIELDS` and `<field>_source`, the source it came from;
    `birth_year` goes with the birth date chosen (or the best year where no record has a full
    date); `residence_ward_code` is the chosen `ward_code`; `marital_status_as_of` the extract
    date of the record that said the marital status (a marriage registered later supersedes
    it); `primary_source` (the source of the best record) and `record_count`. Records without
    a `person_id` are left out.

    Each field's record is found by row number and its value gathered once, one field at a
    time: records waiting on disk (a lazy frame) are read a column at a time, and nothing holds
    copies of the records' fields (15 GB at ten million persons). With `spill`, each golden
    field waits there, mapped (`memory.mapped_column`), while the next is gathered: the golden
    records of ten million persons take 5 GB."""
    records = records.lazy()

    def column(name: str) -> pl.Series:
        return records.select(name).collect().to_series()

    # Counted a field at a time: all the fields of the records at once would take 6 GB at ten
    # million persons.
    empty_fields = sum(column(field).is_null().cast(pl.UInt8) for field in GOLDEN_FIELDS)
    keys = pl.DataFrame(
        [column(c) for c in ("person_id", SOURCE, EXTRACT_DATE, RECORD_KEY)]
    ).select(
        id_order(pl.col("person_id")).alias("person"),
        preference(pl.lit(empty_fields)).alias("preference"),
    )
    # By preference, then stably by person: two sorts on one key each are six times faster
    # than one on both.
    by_preference = keys["preference"].arg_sort()
    persons_in_order = keys["person"].gather(by_preference).to_frame()
    order = by_preference.gather(
        persons_in_order.select(
            pl.arg_sort_by("person", nulls_last=True, maintain_order=True)
        ).to_series()
    )
    with_person = order.head(keys.height - keys["person"].null_count())
    # The rows with a person in the rule's order; a person's rows are next to each other, so a
    # run number groups them cheaply.
    ranked = pl.DataFrame({"row": with_person}).with_columns(
        keys["person"].gather(with_person).rle_id().alias("_person")
    )
    del keys, persons_in_order
    persons = ranked.group_by("_person", maintain_order=True).agg(
        pl.col("row").first(), pl.len().alias("record_count")
    )

    def first_row_with(values: pl.Series) -> pl.Series:
        """Per person, the row of its best record with a value, null where none has."""
        found = (
            ranked.filter(values.is_not_null().gather(ranked["row"]))
            .group_by("_person", maintain_order=True)
            .first()
        )
        return persons.join(found, on="_person", how="left", maintain_order="left")["row_right"]

    source = column(SOURCE)
    golden = {"person_id": mapped_column(column("person_id").gather(persons["row"]), spill)}
    for field in (*GOLDEN_FIELDS, "birth_year"):
        values = column(field)
        rows = first_row_with(values)
        golden[field] = mapped_column(values.gather(rows), spill)
        golden[f"{field}_source"] = mapped_column(source.gather(rows), spill)
        if field == "marital_status":
            golden["marital_status_as_of"] = mapped_column(column(EXTRACT_DATE).gather(rows), spill)
    best_year = golden.pop("birth_year")
    del golden["birth_year_source"]
    return (
        pl.DataFrame(golden)
        .with_columns(
            primary_source=source.gather(persons["row"]),
            record_count=persons["record_count"],
            birth_year=pl.coalesce(pl.col("birth_date").dt.year().cast(pl.Int32), best_year),
            residence_ward_code=pl.col("ward_code"),
        )
        .drop("ward_code")
        .rename({"ward_code_source": "residence_ward_code_source"})
    )
