"""The vectorised entry point: columns of addresses, ward codes and extract dates to units."""

import polars as pl

from dancu.address.parse import ParsedAdmin, parse_admin_part
from dancu.address.reconcile import resolve
from dancu.address.split import split_in_chunks
from dancu.address.tables import unit_tables
from dancu.contract import REFORM_DATE

OUTPUT_COLUMNS = (
    "street", "ward_code", "ward_name", "province_code", "province_name", "old_ward_code",
    "old_ward_name", "old_district_name", "address_issue", "ward_evidence",
)  # fmt: skip
_INVALID_CODE = "?"  # stands for every code that is not 1 to 5 digits


def _normalized_code(codes: pl.Expr) -> pl.Expr:
    """5-digit codes; Excel drops leading zeros ("1" is "00001") and may add ".0"."""
    raw = codes.cast(pl.String).str.strip_chars().str.replace(r"\.0+$", "")
    return (
        pl.when(raw.is_null() | (raw == ""))
        .then(None)
        .when(raw.str.contains(r"^\d{1,5}$"))
        .then(raw.str.zfill(5))
        .otherwise(pl.lit(_INVALID_CODE))
    )


def _only(codes: tuple[str, ...]) -> str | None:
    return codes[0] if len(codes) == 1 else None


def _resolved_row(admin: str | None, code: str | None, after_reform: bool | None) -> dict:
    tables = unit_tables()
    parsed = parse_admin_part(admin) if admin else ParsedAdmin()
    result = resolve(parsed, code, after_reform)
    parsed = result.text
    ward = tables.new_wards.get(result.ward) if result.ward else None
    old = tables.old_wards.get(result.old) if result.old else None
    district = old.district if old else _only(parsed.districts)
    province = ward.province if ward else _only(parsed.provinces)
    return {
        "street_extra": parsed.street,
        "ward_code": result.ward,
        "ward_name": ward.name if ward else None,
        "province_code": province,
        "province_name": tables.province_names.get(province),
        "old_ward_code": result.old,
        "old_ward_name": old.name if old else None,
        "old_district_name": tables.district_units[district].name if district else None,
        "address_issue": result.issue,
        "ward_evidence": result.evidence,
    }


def standardize_addresses(
    addresses: pl.Series, ward_codes: pl.Series | None, extract_dates: pl.Series
) -> pl.DataFrame:
    """One row per input row: street, current and old units, and the issue if any.

    `extract_dates` are dates (or datetimes); `ward_codes` text or numbers, None when absent.
    Columns: street, ward_code, ward_name, province_code, province_name (current units),
    old_ward_code, old_ward_name, old_district_name (the pre-2025 unit the input named or coded),
    address_issue (a rule id, see `dancu.address`) and ward_evidence ("text", "code" or
    "both": what settled ward_code). Python runs once per distinct (administrative part, code,
    period); everything per row is polars.
    """
    size = len(addresses)
    if ward_codes is None:
        ward_codes = pl.repeat(None, size, dtype=pl.String, eager=True)
    if len(ward_codes) != size or len(extract_dates) != size:
        raise ValueError("addresses, ward_codes and extract_dates must have the same length")
    rows = pl.DataFrame(
        {
            "address": addresses.cast(pl.String),
            "code": pl.select(_normalized_code(pl.lit(ward_codes))).to_series(),
            "after_reform": extract_dates.cast(pl.Date, strict=False) >= REFORM_DATE,
        }
    )
    # Addresses repeat (a household's members, a record in several extracts): each distinct
    # one is split once.
    addresses = rows.get_column("address").unique()
    split = pl.concat([addresses.to_frame(), split_in_chunks(addresses)], how="horizontal")
    rows = rows.join(split, on="address", how="left", nulls_equal=True, maintain_order="left")
    keys = ["admin_part", "code", "after_reform"]
    distinct = rows.select(keys).unique()
    resolved = pl.DataFrame(
        [_resolved_row(*row) for row in distinct.iter_rows()],
        schema=dict.fromkeys(["street_extra", *OUTPUT_COLUMNS[1:]], pl.String),
    )
    table = pl.concat([distinct, resolved], how="horizontal")
    joined = rows.join(table, on=keys, how="left", nulls_equal=True, maintain_order="left")
    street = pl.concat_str(["street", "street_extra"], separator=", ", ignore_nulls=True)
    return joined.select(
        pl.when(street == "").then(None).otherwise(street).alias("street"), *OUTPUT_COLUMNS[1:]
    )
