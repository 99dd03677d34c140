"""Truth tables beyond the records: the documents of each person and their nationalities.

`documents.parquet` has the contract's `person_document` columns. Rows without a source are the
documents a person holds (the personal id, an old CMND, the id before a re-issue, a passport with
its issuing country, a stateless person's identity certificate); rows with a source and record
id are the documents a delivered record names besides a personal-id column: a judicial request's
document, a foreign party's passport in a birth or marriage registration, a school record's
student code. `nationalities.parquet` lists each person's nationalities as ISO 3166-1 alpha-3
codes (none for a stateless person, two for a dual national).
"""

import polars as pl

from dancu.generate.foreign import VIETNAM

# Document type of the contract -> the persons column holding its number.
HELD_DOCUMENTS = {
    "national_id": "national_id",
    "cmnd": "cmnd",
    "previous_national_id": "previous_national_id",
    "passport": "passport_number",
    "identity_certificate": "identity_certificate",
}
COLUMNS = (
    "person_key", "document_type", "document_number", "issuing_country", "source",
    "source_record_id",
)  # fmt: skip


def documents(persons: pl.DataFrame, named: pl.DataFrame) -> pl.DataFrame:
    """Documents held by each person, then those the records name (`named`: source,
    source_record_id, person_key, document_type, document_number)."""
    held = pl.concat(
        persons.filter(pl.col(column).is_not_null()).select(
            "person_key",
            document_type=pl.lit(kind),
            document_number=pl.col(column),
            source=pl.lit(None, dtype=pl.String),
            source_record_id=pl.lit(None, dtype=pl.String),
        )
        for kind, column in HELD_DOCUMENTS.items()
    )
    every = pl.concat([held, named.select(held.columns)])
    countries = persons.select("person_key", "passport_country")
    passport = pl.col("document_type") == "passport"
    return (
        every.join(countries, on="person_key", how="left", maintain_order="left")
        .with_columns(
            issuing_country=pl.when(passport).then("passport_country").otherwise(pl.lit(VIETNAM))
        )
        .select(COLUMNS)
        .sort("person_key", "document_type", "source", "source_record_id", nulls_last=False)
    )


def nationalities(persons: pl.DataFrame) -> pl.DataFrame:
    return (
        persons.select("person_key", nationality="nationalities")
        .explode("nationality")
        .drop_nulls("nationality")
    )
