"""Vietnamese administrative units before and after the July 2025 reorganisation, offline.

Everything comes from the data files bundled with the `vietnamadminunits` package
(`data/dataset.db` and `data/converter_2025.json`), read directly: importing the package itself
pulls in its geocoding parser, and nothing here may go online.

Two code sets live side by side and must not be mixed: the old 5-digit GSO ward codes (63
provinces, with districts) and the current ones (34 provinces, no districts). Almost every current
code also existed as an old code with another ward behind it (old 00004 is Phường Trúc Bạch, current
00004 is Phường Ba Đình), so every table keeps them in separately named columns.
"""

import functools
import importlib.util
import json
import sqlite3
from pathlib import Path

import polars as pl

HANOI = "thanhphohanoi"


def _data_dir() -> Path:
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("vietnamadminunits is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _query(sql: str) -> pl.DataFrame:
    with sqlite3.connect(f"file:{_data_dir() / 'dataset.db'}?mode=ro", uri=True) as conn:
        cursor = conn.execute(sql)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String), orient="row")


@functools.cache
def _converter() -> dict:
    return json.loads((_data_dir() / "converter_2025.json").read_text(encoding="utf-8"))


@functools.cache
def old_wards() -> pl.DataFrame:
    """The 10,035 wards of the 63-province scheme, all provinces, with 5-digit GSO codes.

    Island districts without wards (Bạch Long Vĩ, Cồn Cỏ, ...) carry no ward code and are left out.
    """
    return _query(
        """
            SELECT wardCode AS old_ward_code, ward AS old_ward_name, wardType AS old_ward_type,
                   districtCode AS old_district_code, district AS old_district_name,
                   provinceCode AS old_province_code, province AS old_province_name,
                   provinceKey || '_' || districtKey || '_' || wardKey AS old_key
            FROM admin_units_legacy
            WHERE wardCode IS NOT NULL
            """
    ).sort("old_ward_code")


@functools.cache
def all_current_wards() -> pl.DataFrame:
    """The 3,321 wards and communes of the 34-province scheme."""
    return _query(
        """
        SELECT wardCode AS ward_code, ward AS ward_name, wardType AS ward_type,
               provinceCode AS province_code, province AS province_name,
               provinceKey AS province_key, wardKey AS ward_key
        FROM admin_units
        """
    ).sort("ward_code")


@functools.cache
def current_wards(province_key: str = HANOI) -> pl.DataFrame:
    """Current wards of one province (126 for Hà Nội)."""
    return all_current_wards().filter(pl.col("province_key") == province_key)


def _old_to_new_keys(province_key: str) -> pl.DataFrame:
    """Old ward key -> current ward key, from the converter's two dictionaries.

    A divided old ward is mapped to its default new ward: that is the converter's own answer when no
    street address is given, and the only one it gives without geocoding.
    """
    kept = _converter()["DICT_PROVINCE_WARD_NO_DIVIDED"].get(province_key, {})
    divided = _converter()["DICT_PROVINCE_WARD_DIVIDED"].get(province_key, {})
    old_keys = [old for olds in kept.values() for old in olds] + list(divided)
    new_keys = [new for new, olds in kept.items() for _ in olds] + [
        next(c["newWardKey"] for c in candidates if c["isDefaultNewWard"])
        for candidates in divided.values()
    ]
    return pl.DataFrame(
        {
            "old_key": old_keys,
            "ward_key": new_keys,
            "is_divided": [False] * (len(old_keys) - len(divided)) + [True] * len(divided),
        }
    )


@functools.cache
def ward_conversion(province_key: str = HANOI) -> pl.DataFrame:
    """One row per old ward that now lies in `province_key`, with the current ward it became.

    Columns: old_ward_code, old_ward_name, old_ward_type, old_district_name, old_province_name,
    old_province_code, ward_code, ward_name, ward_type, province_name, province_code, is_divided.
    """
    current = current_wards(province_key).drop("province_key")
    return (
        _old_to_new_keys(province_key)
        .join(old_wards(), on="old_key", how="inner", validate="1:1")
        .join(current, on="ward_key", how="inner", validate="m:1")
        .select(
            "old_ward_code",
            "old_ward_name",
            "old_ward_type",
            "old_district_name",
            "old_province_name",
            "old_province_code",
            "ward_code",
            "ward_name",
            "ward_type",
            "province_name",
            "province_code",
            "is_divided",
        )
        .sort("old_ward_code")
    )


@functools.cache
def id_province_codes() -> list[str]:
    """The 63 pre-2025 province codes as personal ids write them: "001" Hà Nội ... "096" Cà Mau."""
    codes = old_wards().get_column("old_province_code").unique().sort()
    return ["0" + code for code in codes]


@functools.cache
def ward_successors() -> pl.DataFrame:
    """Every current ward each old ward may now lie in: one row per (old_ward_code, ward_code).

    An old ward that was divided has several rows, `is_default` marking the converter's answer
    when nothing else is known; an undivided one has a single default row. A current ward code
    read together with an old ward name can thus settle which part of a divided ward is meant.
    """
    rows: list[tuple[str, str, bool]] = []
    for province_key, kept in _converter()["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        rows += [(old, f"{province_key}|{new}", True) for new, olds in kept.items() for old in olds]
    for province_key, divided in _converter()["DICT_PROVINCE_WARD_DIVIDED"].items():
        rows += [
            (old, f"{province_key}|{c['newWardKey']}", c["isDefaultNewWard"])
            for old, candidates in divided.items()
            for c in candidates
        ]
    current = all_current_wards().select(
        "ward_code", new_key=pl.concat_str("province_key", "ward_key", separator="|")
    )
    return (
        pl.DataFrame(rows, schema=["old_key", "new_key", "is_default"], orient="row")
        .join(old_wards().select("old_key", "old_ward_code"), on="old_key", how="inner")
        .join(current, on="new_key", how="inner")
        .select("old_ward_code", "ward_code", "is_default")
        .unique()
        .sort("old_ward_code", "ward_code")
    )


@functools.cache
def unit_aliases() -> pl.DataFrame:
    """Other names of old units (pre-merger names, alternative spellings) as folded keys.

    Columns: level ("province", "district" or "ward"), code (old GSO code of that level), alias.
    """
    parts = []
    for level, code, alias in (
        ("province", "provinceCode", "provinceAlias"),
        ("district", "districtCode", "districtAlias"),
        ("ward", "wardCode", "wardAlias"),
    ):
        frame = _query(
            f"SELECT DISTINCT {code} AS code, {alias} AS aliases FROM admin_units_legacy "
            f"WHERE {alias} IS NOT NULL AND {code} IS NOT NULL"
        )
        parts.append(
            frame.select(
                level=pl.lit(level),
                code="code",
                alias=pl.col("aliases").str.json_decode(pl.List(pl.String)),
            ).explode("alias")
        )
    return pl.concat(parts).drop_nulls().unique().sort("level", "code", "alias")
