"""Pandera schemas of the standardised frames: what an accepted row of each source looks like.

They check the standardisation itself: types, nullability, code lists and ranges of the rows
that are published. Rows with quarantine reasons are out of their scope.
"""

import pandera.polars as pa
import polars as pl

from dancu import codes
from dancu.contract import EXTRACT_DATE, FILE_NAME, ROW_NUMBER, SOURCE, Column, Source
from dancu.parse import MAX_YEAR, MIN_YEAR


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


def column_schema(column: Column, source: Source) -> dict[str, pa.Column]:
    """The schema of one contract column after standardisation, with the columns it adds."""
    name = column.name
    match column.kind:
        case "record_id":
            return {name: _text(nullable=False)}
        case "name":
            key = pa.Column(pl.String, _folded(), nullable=True)
            return {name: _text(nullable=name not in source.required_names), f"{name}_key": key}
        case "national_id":
            return {name: _text(r"^\d{12}$")}
        case "date":
            return {name: pa.Column(pl.Date, nullable=True)}
        case "birth_date":
            year = pa.Column(pl.Int32, pa.Check.in_range(MIN_YEAR, MAX_YEAR), nullable=True)
            return {name: pa.Column(pl.Date, nullable=True), column.year_column: year}
        case "sex":
            return {name: _codes(["M", "F"])}
        case "phone":
            return {name: _text(r"^\+84[1-9]\d{8,9}$")}
        case "cmnd":
            return {name: _text(r"^\d{9}$")}
        case "ward_code" | "place_code":
            return {name: _text(r"^\d{5}$")}
        case "health_card":
            return {name: _text(), "bhxh_code": _text(r"^\d{10}$")}
        case "code":
            return {name: _codes(codes.CODE_LISTS[name])}
    return {name: _text()}


def standardized_schema(source: Source) -> pa.DataFrameSchema:
    lineage = {
        SOURCE: pa.Column(pl.String, pa.Check.eq(source.name)),
        FILE_NAME: _text(rf"^{source.name}/", nullable=False),
        ROW_NUMBER: pa.Column(pl.Int64, pa.Check.ge(1)),
        EXTRACT_DATE: pa.Column(pl.Date),
    }
    columns = {k: v for c in source.columns for k, v in column_schema(c, source).items()}
    return pa.DataFrameSchema(
        {**lineage, **columns}, name=f"std_{source.name}", strict=False, coerce=False
    )
