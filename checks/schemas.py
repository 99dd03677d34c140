"""Pandera schemas of the standardised frames: what an accepted row of each source looks like.

They check the standardisation itself: types, nullability, code lists and ranges of the rows
that are published. Rows with quarantine reasons are out of their scope.
"""

import pandera.polars as pa
import polars as pl

from checks.rules import REQUIRED_NAMES
from dancu import codes
from dancu.contract import (
    EXTRACT_DATE,
    FILE_NAME,
    RECORD_ID,
    ROW_NUMBER,
    SOURCE,
    Source,
    is_date,
    is_name,
    is_national_id,
)

MIN_YEAR, MAX_YEAR = 1800, 2299  # the centuries the personal-id scheme can express


def _text(pattern: str | None = None, nullable: bool = True) -> pa.Column:
    checks = [pa.Check.str_matches(pattern)] if pattern else []
    return pa.Column(pl.String, checks, nullable=nullable)


def _folded() -> pa.Check:
    """A matching key: no capitals and no diacritics left."""

    def check(data) -> pl.LazyFrame:
        decomposed = pl.col(data.key).str.normalize("NFD")
        return data.lazyframe.select(~decomposed.str.contains(r"\p{Lu}|\p{M}").fill_null(False))

    return pa.Check(check, name="folded")


def _codes(values) -> pa.Column:
    return pa.Column(pl.String, pa.Check.isin(sorted(values)), nullable=True)


def column_schema(column: str, source: Source) -> dict[str, pa.Column]:
    """The schema of one contract column after standardisation, with the columns it adds."""
    if column == RECORD_ID:
        return {column: _text(nullable=False)}
    if is_name(column):
        required = column in REQUIRED_NAMES[source.name]
        key = pa.Column(pl.String, _folded(), nullable=True)
        return {column: _text(nullable=not required), f"{column}_key": key}
    if is_national_id(column):
        return {column: _text(r"^\d{12}$")}
    if is_date(column):
        schema = {column: pa.Column(pl.Date, nullable=True)}
        if column.endswith("birth_date"):
            year = pa.Check.in_range(MIN_YEAR, MAX_YEAR)
            schema[column.replace("_date", "_year")] = pa.Column(pl.Int32, year, nullable=True)
        return schema
    if column == "sex":
        return {column: _codes(["M", "F"])}
    if column == "phone":
        return {column: _text(r"^\+84[1-9]\d{8,9}$")}
    if column == "cmnd":
        return {column: _text(r"^\d{9}$")}
    if column in ("ward_code", "registration_place_code"):
        return {column: _text(r"^\d{5}$")}
    if column == "health_card":
        return {column: _text(), "bhxh_code": _text(r"^\d{10}$")}
    if column == "ethnicity":
        return {column: _codes(codes.ETHNIC_GROUPS)}
    if column == "nationality":
        return {column: _codes(codes.NATIONALITY)}
    if column == "marital_status":
        return {column: _codes(codes.MARITAL_STATUS)}
    return {column: _text()}


def standardized_schema(source: Source) -> pa.DataFrameSchema:
    lineage = {
        SOURCE: pa.Column(pl.String, pa.Check.eq(source.name)),
        FILE_NAME: _text(rf"^{source.name}/", nullable=False),
        ROW_NUMBER: pa.Column(pl.Int64, pa.Check.ge(1)),
        EXTRACT_DATE: pa.Column(pl.Date),
    }
    columns = {k: v for c in source.column_names for k, v in column_schema(c, source).items()}
    return pa.DataFrameSchema(
        {**lineage, **columns}, name=f"std_{source.name}", strict=False, coerce=False
    )
