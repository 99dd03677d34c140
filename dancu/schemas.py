"""Pandera schemas of the standardised frames: what an accepted row of each source looks like.

They check the standardisation itself: types, nullability, code lists and ranges of the rows
that are published. Rows with quarantine reasons are out of their scope.
"""

import pandera.polars as pa
import polars as pl

from dancu import codes
from dancu.contract import (
    EXTRACT_DATE,
    FILE_NAME,
    ROW_NUMBER,
    SOURCE,
    Column,
    Document,
    Source,
    temporary_code_of,
)
from dancu.documents import DOCUMENT_TYPES
from dancu.parse import MAX_YEAR, MIN_YEAR
from dancu.standardize import HAS_CRIMINAL_RECORD

_ALPHA_3 = r"^[A-Z]{3}$"


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
        case "provisional_id":
            return {name: _text(r"^\d{12}$"), temporary_code_of(name): _text(r"^[^\s]+$")}
        case "nationality":
            return {name: _alpha_3_list()}
        case "document_type":
            return {name: _codes(DOCUMENT_TYPES)}
        case "document_number":
            return {name: _text(r"^[A-Z0-9]+$")}
        case "certificate_form":
            return {name: _codes(["1", "2"])}
        case "school_year":
            return {name: _text(r"^\d{4}-\d{4}$")}
        case "criminal_record":
            return {name: _text(), HAS_CRIMINAL_RECORD: pa.Column(pl.Boolean)}
    return {name: _text()}


def _alpha_3_list() -> pa.Column:
    """Nationalities: a list (empty when none is written) of ISO 3166-1 alpha-3 codes."""

    def check(data) -> pl.LazyFrame:
        codes = pl.col(data.key).list.eval(pl.element().str.contains(_ALPHA_3)).list.all()
        return data.lazyframe.select(codes.fill_null(True))

    return pa.Column(pl.List(pl.String), pa.Check(check, name="alpha_3"), nullable=True)


def document_schema(document: Document, source: Source) -> dict[str, pa.Column]:
    """The columns standardisation adds for a document: its issuing country, and the personal
    ids derived from it where the source has no column of them."""
    columns = {document.issuing_country: _text(_ALPHA_3)}
    if document.national_id in source.derived_ids:
        columns |= {document.national_id: _text(r"^\d{12}$"), document.cmnd: _text(r"^\d{9}$")}
    return columns


def standardized_schema(source: Source) -> pa.DataFrameSchema:
    lineage = {
        SOURCE: pa.Column(pl.String, pa.Check.eq(source.name)),
        FILE_NAME: _text(rf"^{source.name}/", nullable=False),
        ROW_NUMBER: pa.Column(pl.Int64, pa.Check.ge(1)),
        EXTRACT_DATE: pa.Column(pl.Date),
    }
    columns = {k: v for c in source.columns for k, v in column_schema(c, source).items()}
    for document in source.documents:
        columns |= document_schema(document, source)
    return pa.DataFrameSchema(
        {**lineage, **columns}, name=f"std_{source.name}", strict=False, coerce=False
    )
