"""Step 2: one administrative part read, from the right, into unit codes of both schemes."""

import functools
from collections.abc import Container
from dataclasses import dataclass, replace

from dancu.address.tables import WORD, Unit, fold_word, unit_tables

HANOI_CODE = "01"  # the province this pipeline serves, first among look-alike names

# Type words by level, as folded word sequences, with the type they announce.
_MARKERS = {
    "province": {
        ("tinh",): "tinh", ("t",): "tinh", ("thanh", "pho"): "thanhpho", ("tp",): "thanhpho",
        ("t", "p"): "thanhpho", ("thu", "do"): "thanhpho",
    },
    "district": {
        ("quan",): "quan", ("q",): "quan", ("huyen",): "huyen", ("h",): "huyen",
        ("thi", "xa"): "thixa", ("tx",): "thixa", ("thanh", "pho"): "thanhpho", ("tp",): "thanhpho",
    },
    "ward": {
        ("phuong",): "phuong", ("p",): "phuong", ("xa",): "xa", ("x",): "xa",
        ("thi", "tran"): "thitran", ("tt",): "thitran", ("dac", "khu"): "dackhu",
    },
}  # fmt: skip
_COUNTRY = (("viet", "nam"), ("vietnam",), ("vn",))
_MAX_NAME_WORDS = 7  # "Văn Miếu - Quốc Tử Giám" has five


# Every type word, with the levels it may announce and the type it gives each.
_TYPE_WORDS_BY_LEVEL = {
    words: {level: markers[words] for level, markers in _MARKERS.items() if words in markers}
    for markers in _MARKERS.values()
    for words in markers
}


@dataclass(frozen=True)
class _Word:
    key: str
    start: int  # offset in the administrative part
    segment_start: bool  # first word after a comma
    # The type word right before this word, if any: its first word and its levels.
    marker_start: int | None = None
    marker_levels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Match:
    """Units whose name ends where the previous (right-hand) unit starts."""

    start: int  # first word, type word included
    units: tuple[Unit, ...]
    marked: bool
    aligned: bool  # starts a segment: a bare name in mid-segment may be street text
    alias: bool


@dataclass(frozen=True)
class ParsedAdmin:
    """What the administrative part of an address names, as codes of both schemes."""

    street: str | None = None  # leading text that named no unit
    admin: str | None = None  # the rest
    old_wards: tuple[str, ...] = ()
    new_wards: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()  # current codes of the named province, else of the district
    # The same words read as other units ("Hoài Đức, HN": a current commune or an old district),
    # for a ward code to choose.
    alternative: "ParsedAdmin | None" = None

    @property
    def names_anything(self) -> bool:
        return bool(self.old_wards or self.new_wards or self.districts or self.provinces)

    @property
    def scheme(self) -> str | None:
        """The scheme the text is written in, where it shows: a district only existed before."""
        if self.districts or (self.old_wards and not self.new_wards):
            return "old"
        return "new" if self.new_wards and not self.old_wards else None


def _words(admin: str) -> list[_Word]:
    keys, starts, segment_starts, previous_end = [], [], [], 0
    for m in WORD.finditer(admin):
        keys.append(fold_word(m.group()))
        starts.append(m.start())
        segment_starts.append(not starts[1:] or "," in admin[previous_end : m.start()])
        previous_end = m.end()
    words = []
    for at, key in enumerate(keys):
        marker = None if segment_starts[at] else _type_words_before(keys, at)
        words.append(
            _Word(
                key,
                starts[at],
                segment_starts[at],
                marker and marker[0],
                tuple(_TYPE_WORDS_BY_LEVEL[marker[1]].items()) if marker else (),
            )
        )
    return words


def _type_words_before(keys: list[str], at: int) -> tuple[int, tuple[str, ...]] | None:
    """(first word, words) of the longest type word right before word `at`.

    Longest, so that the "xã" of "Thị xã" is no ward's type word. Callers look only within a
    segment, so that the "Xá" ending "Phúc Xá, Ba Đình" is none."""
    for size in (2, 1):
        found = tuple(keys[at - size : at]) if at >= size else ()
        if found in _TYPE_WORDS_BY_LEVEL:
            return at - size, found
    return None


def _marker_before(words: list[_Word], at: int, level: str) -> tuple[int, str] | None:
    """(first word, type) of the type word of `level` right before word `at`, if any."""
    for found_level, type_key in words[at].marker_levels:
        if found_level == level:
            return words[at].marker_start, type_key
    return None


def _other_marker_before(words: list[_Word], at: int, level: str) -> bool:
    """A type word of another level opens the segment: "Phường Hoàn Kiếm" names no district.

    In mid-segment it may end a name instead ("Phuc Xa Ba Dinh")."""
    word = words[at]
    return (
        word.marker_start is not None
        and all(found_level != level for found_level, _ in word.marker_levels)
        and words[word.marker_start].segment_start
    )


def _narrowed(
    units: list[tuple[Unit, bool]], type_key: str | None, hanoi_first: bool
) -> tuple[tuple[Unit, ...], bool]:
    """Exact names before aliases, the written type if any unit has it, Hà Nội first if asked."""
    exact = [u for u, alias in units if not alias]
    chosen, alias = (exact, False) if exact else ([u for u, _ in units], True)
    typed = [u for u in chosen if u.type_key == type_key]
    chosen = typed or chosen
    if hanoi_first:
        chosen = [u for u in chosen if u.province == HANOI_CODE] or chosen
    return tuple(chosen), alias


def _name_matches(
    words: list[_Word], end: int, level: str, known: Container[str], candidates
) -> list[_Match]:
    """Matches of `level` ending before word `end`: names in `known`, then filtered by
    `candidates(key, type)`."""
    matches, key = [], ""
    for at in range(end - 1, max(end - _MAX_NAME_WORDS, 0) - 1, -1):
        key = words[at].key + key
        if key not in known:
            continue
        marker = _marker_before(words, at, level)
        if marker is None:
            # A bare one-word name must fill its segment ("Láng, Đống Đa"), but a province
            # closes the address anyway ("Quận Ba Đình HN").
            single_unaligned = (
                end - at == 1
                and level != "province"
                and not (
                    words[at].segment_start and (end == len(words) or words[end].segment_start)
                )
            )
            if key.isdigit() or single_unaligned or _other_marker_before(words, at, level):
                continue
        units, alias = candidates(key, marker[1] if marker else None)
        if units:
            start = marker[0] if marker else at
            aligned = words[start].segment_start
            matches.append(_Match(start, units, marker is not None, aligned, alias))
    return matches


def _province_matches(words: list[_Word], end: int) -> list[_Match]:
    def candidates(key: str, type_key: str | None):
        return _narrowed(list(unit_tables().provinces.get(key, ())), type_key, hanoi_first=False)

    return _name_matches(words, end, "province", unit_tables().provinces, candidates)


def _district_matches(words: list[_Word], end: int, province: _Match | None) -> list[_Match]:
    def candidates(key: str, type_key: str | None):
        found = list(unit_tables().districts.get(key, ()))
        if province is not None:
            old = {p.old_province for p in province.units}
            current = {p.province for p in province.units}
            found = [e for e in found if e[0].old_province in old] or [
                e for e in found if e[0].province in current
            ]
        return _narrowed(found, type_key, hanoi_first=province is None)

    return _name_matches(words, end, "district", unit_tables().districts, candidates)


def _ward_matches(
    words: list[_Word], end: int, province: _Match | None, district: _Match | None
) -> list[_Match]:
    tables = unit_tables()

    def candidates(key: str, type_key: str | None):
        old = list(tables.old_ward_keys.get(key, ()))
        new = list(tables.new_ward_keys.get(key, ()))
        if district is not None:
            codes = {d.code for d in district.units}
            old = [e for e in old if e[0].district in codes]
            new = [e for e in new if any(e[0].code in tables.reach_by_district[d] for d in codes)]
        elif province is not None:
            strict = {p.old_province for p in province.units}
            current = {p.province for p in province.units}
            old = [e for e in old if e[0].old_province in strict] or [
                e for e in old if e[0].province in current
            ]
            new = [e for e in new if e[0].province in current]
        units, alias = _narrowed(old + new, type_key, hanoi_first=province is None)
        if district is not None:
            # A district only existed before the reform: its own wards come first.
            units = tuple(u for u in units if u.district) or units
        return units, alias

    return _name_matches(words, end, "ward", tables.ward_keys, candidates)


def _unread_units(words: list[_Word]) -> list[int]:
    """For each word, how many segments before it open with a type word: a parse that starts
    after them left units unread."""
    keys = [w.key for w in words]
    counts = [0]
    for at, word in enumerate(words):
        opens = any(tuple(keys[at : at + size]) in _TYPE_WORDS_BY_LEVEL for size in (1, 2))
        counts.append(counts[-1] + (word.segment_start and opens))
    return counts


def _start(parse: tuple[_Match | None, ...], default: int) -> int:
    return min((m.start for m in parse if m is not None), default=default)


def _score(parse: tuple[_Match | None, ...], unread: list[int]) -> tuple:
    found = [m for m in parse if m is not None]
    start = _start(parse, len(unread) - 1)
    return (
        parse[-1] is not None,  # a ward
        -unread[start],
        len(found),
        sum(m.marked for m in found),
        -sum(m.alias for m in found),
        sum(m.aligned for m in found),
        len(unread) - start,  # longer names
    )


def _without_country(words: list[_Word]) -> int:
    keys = tuple(w.key for w in words)
    for country in _COUNTRY:
        if keys[-len(country) :] == country:
            return len(words) - len(country)
    return len(words)


@functools.lru_cache(maxsize=1 << 16)
def parse_admin_part(admin: str) -> ParsedAdmin:
    """Read "P. Láng Hạ, Q. Đống Đa, TP Hà Nội" and the like into unit codes of both schemes."""
    words = _words(admin)
    end = _without_country(words)
    parses = []
    for province in [None, *_province_matches(words, end)]:
        district_end = province.start if province else end
        for district in [None, *_district_matches(words, district_end, province)]:
            ward_end = district.start if district else district_end
            parses += [
                (province, district, ward)
                for ward in [None, *_ward_matches(words, ward_end, province, district)]
            ]
    unread = _unread_units(words)
    ranked = sorted(parses, key=lambda p: _score(p, unread), reverse=True)
    best = _parsed(admin, words, ranked[0])
    start = _start(ranked[0], len(words))
    same_words = (_parsed(admin, words, p) for p in ranked[1:] if _start(p, len(words)) == start)
    return replace(best, alternative=next((p for p in same_words if p != best), None))


def _parsed(admin: str, words: list[_Word], parse: tuple[_Match | None, ...]) -> ParsedAdmin:
    province, district, ward = parse
    found = [m for m in parse if m is not None]
    if not found:
        return ParsedAdmin(street=admin)
    cut = words[min(m.start for m in found)].start
    wards = ward.units if ward else ()
    named = province or district
    return ParsedAdmin(
        street=admin[:cut].strip(" ,-–.") or None,
        admin=admin[cut:],
        old_wards=tuple(u.code for u in wards if u.district),
        new_wards=tuple(u.code for u in wards if not u.district),
        districts=tuple(u.code for u in district.units) if district else (),
        provinces=tuple(sorted({u.province for u in named.units})) if named else (),
    )
