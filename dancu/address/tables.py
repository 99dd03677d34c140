"""The unit tables of both schemes, indexed by the folded keys an address's words are matched by."""

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from dancu import admin_units
from dancu.text import strip_diacritics

WORD = re.compile(r"[^\W\d_]+|\d+")
_TYPE_WORDS = re.compile(r"^(?:Thành phố|Tỉnh|Quận|Huyện|Thị xã|Phường|Xã|Thị trấn|Đặc khu) ")
# Common ways of writing a province that the bundled tables do not list.
_PROVINCE_ALIASES = {"tphn": "01", "tphcm": "79", "saigon": "79", "thuathienhue": "46"}
_ALIAS_TYPE_KEYS = (
    "thanhpho", "thitran", "phuong", "huyen", "thixa", "quan", "tinh", "xa", "tx", "tp",
)  # fmt: skip


@functools.lru_cache(maxsize=1 << 16)
def fold_word(word: str) -> str:
    """A word as compared: lowercase ASCII, numbers without leading zeros ("Phường 01")."""
    return str(int(word)) if word.isdecimal() else strip_diacritics(word).lower()


def name_key(name: str) -> str:
    """The key a unit is looked up by, its type word dropped: "Quận Đống Đa" -> "dongda"."""
    return "".join(fold_word(w) for w in WORD.findall(_TYPE_WORDS.sub("", name)))


def _type_key(name: str) -> str:
    """ "Thị xã Sơn Tây" -> "thixa"."""
    found = _TYPE_WORDS.match(name)
    return "".join(fold_word(w) for w in WORD.findall(found.group())) if found else ""


def _alias_keys(name: str, aliases: list[str]) -> list[str]:
    """A unit's aliases as name keys. They come with and without the type word
    ("phuongtrucbach", "trucbach"); the typed forms go, but "phuonglien" (Phương Liên) stays."""
    bare = {name_key(name), *aliases}
    typed = {t + b for t in _ALIAS_TYPE_KEYS for b in bare}
    return [a for a in aliases if a not in typed]


@dataclass(frozen=True)
class Unit:
    """A unit of any level and scheme. `province` is always the current province code."""

    code: str
    name: str
    type_key: str
    province: str
    old_province: str | None = None
    district: str | None = None


def _unit(code: str, name: str, province: str, *old: str | None) -> Unit:
    return Unit(code, name, _type_key(name), province, *old)


_Entries = tuple[tuple[Unit, bool], ...]  # (unit, found by an alias)


@dataclass(frozen=True)
class UnitTables:
    provinces: dict[str, _Entries]
    districts: dict[str, _Entries]
    old_ward_keys: dict[str, _Entries]
    new_ward_keys: dict[str, _Entries]
    ward_keys: frozenset[str]  # of both schemes
    old_wards: dict[str, Unit]
    new_wards: dict[str, Unit]
    district_units: dict[str, Unit]
    successors: dict[str, tuple[str, ...]]  # old ward code -> current codes, the default first
    reach_by_district: dict[str, frozenset[str]]  # old district -> current wards it overlaps
    province_names: dict[str, str]


def _index(entries: Iterable[tuple[str, Unit, bool]]) -> dict[str, _Entries]:
    index: dict[str, list[tuple[Unit, bool]]] = {}
    for key, unit, alias in entries:
        found = index.setdefault(key, [])
        if key and all(u != unit for u, _ in found):
            found.append((unit, alias))
    return {key: tuple(units) for key, units in index.items() if units}


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for key, value in pairs:
        groups.setdefault(key, set()).add(value)
    return {key: frozenset(values) for key, values in groups.items()}


@functools.cache
def unit_tables() -> UnitTables:
    successors = admin_units.ward_successors().sort(
        ["old_ward_code", "is_default", "ward_code"], descending=[False, True, False]
    )
    next_ward: dict[str, tuple[str, ...]] = {}
    for old_code, new_code in successors.select("old_ward_code", "ward_code").iter_rows():
        next_ward[old_code] = (*next_ward.get(old_code, ()), new_code)
    current = admin_units.all_current_wards()
    new_wards = {
        code: _unit(code, name, province)
        for code, name, province in current.select(
            "ward_code", "ward_name", "province_code"
        ).iter_rows()
    }
    old_wards, districts, provinces = {}, {}, {}
    for r in admin_units.old_wards().iter_rows(named=True):
        province = new_wards[next_ward[r["old_ward_code"]][0]].province
        old_province, district = r["old_province_code"], r["old_district_code"]
        old_wards[r["old_ward_code"]] = _unit(
            r["old_ward_code"], r["old_ward_name"], province, old_province, district
        )
        if district not in districts:
            districts[district] = _unit(district, r["old_district_name"], province, old_province)
        if old_province not in provinces:
            provinces[old_province] = _unit(
                old_province, r["old_province_name"], province, old_province
            )
    aliases = admin_units.unit_aliases()

    def keyed(level: str, units: dict[str, Unit]) -> list[tuple[str, Unit, bool]]:
        listed = aliases.filter(pl.col("level") == level).group_by("code").agg("alias")
        return [(name_key(u.name), u, False) for u in units.values()] + [
            (key, units[code], True)
            for code, names in listed.iter_rows()
            if code in units
            for key in _alias_keys(units[code].name, names)
        ]

    extra = [(key, provinces[code], True) for key, code in _PROVINCE_ALIASES.items()]
    old_ward_keys = _index(keyed("ward", old_wards))
    new_ward_keys = _index((name_key(u.name), u, False) for u in new_wards.values())
    return UnitTables(
        provinces=_index(keyed("province", provinces) + extra),
        districts=_index(keyed("district", districts)),
        old_ward_keys=old_ward_keys,
        new_ward_keys=new_ward_keys,
        ward_keys=frozenset(old_ward_keys) | frozenset(new_ward_keys),
        old_wards=old_wards,
        new_wards=new_wards,
        district_units=districts,
        successors=next_ward,
        reach_by_district=_grouped(
            (u.district, n) for u in old_wards.values() for n in next_ward[u.code]
        ),
        province_names=dict(current.select("province_code", "province_name").unique().iter_rows()),
    )
