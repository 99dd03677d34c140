"""Free-text addresses and 5-digit ward codes to current administrative units, offline.

An address reads "số nhà, đường/phố, phường/xã, quận/huyện, tỉnh/thành phố", in the units of either
side of the July 2025 reorganisation, with or without diacritics and in many abbreviations. It is
read in three steps:

1. Split (polars, every row): separators are normalised, a comma goes before each unit word that
   opens a unit inside a segment ("... phố Huế Phường Láng Hạ"), unless it follows a street word
   ("phố Xã Đàn", "đường Thị Trấn"), and the trailing run of segments that can name units (a unit
   word, or neither a street word nor a house number) becomes the candidate administrative part.
   That part repeats across rows: a few thousand distinct values in a million.
2. Parse (Python, once per distinct part): its folded words are matched from the right against the
   tables of `dancu.admin_units`: province, then old district, then ward (old or current), every
   combination scored. Leading words that name no unit go back to the street.
3. Reconcile (Python, once per distinct part, code and period): the text's units are read together
   with the code in each scheme the extract date allows.

Rules, with the `address_issue` ids they set (one per row):

- `ward.code_unknown`: a code is given but is in no scheme the extract date allows (before
  2025-07-01 only the old one); the ward then comes from the text alone.
- `ward.code_conflicts_with_address`: the text names units and no reading of the code lies within
  them, nor within another reading of the same words ("Hoài Đức, HN": a current commune or an old
  district). The text wins: it is what the resident declared and the clerk checked in words, while
  a 5-digit code is easily mistyped, and after the reform easily written in the wrong scheme.
- `ward.ambiguous`: the ward cannot be settled. Either the code fits in both schemes, as two
  different current wards, and the text names neither: the reading in the scheme the text is
  written in is chosen (an old-style address with its district most likely came with its old
  code), and the current scheme when the text does not show one. Or the text names a ward that
  several units carry, nothing narrows it, and then no ward is chosen.
- `ward.unknown`: neither the text nor the code identify a ward.

Names are looked up in Hà Nội first when the address gives no province. An address without a
district is read in the current scheme first; before the reform, a name both schemes know is the
old unit's. An old ward that was divided becomes the current ward the `vietnamadminunits` converter
names by default, unless a current code says which part is meant. A missing extract date allows
both schemes.
"""

import functools
import re
from collections.abc import Callable, Container, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from dancu import admin_units
from dancu.text import strip_diacritics

REFORM_DATE = date(2025, 7, 1)
HANOI_CODE = "01"  # the province this pipeline serves, first among look-alike names

CODE_UNKNOWN = "ward.code_unknown"
CODE_CONFLICT = "ward.code_conflicts_with_address"
AMBIGUOUS = "ward.ambiguous"
UNKNOWN = "ward.unknown"

OUTPUT_COLUMNS = (
    "street", "ward_code", "ward_name", "province_code", "province_name", "old_ward_code",
    "old_ward_name", "old_district_name", "address_issue", "ward_evidence",
)  # fmt: skip

# --- step 1: split, vectorised ---------------------------------------------------------------

# Words that open a unit, as written with diacritics, and the unambiguous ones without: bare
# "xa", "tinh" or "quan" would also cut through names ("Xa La", "Quán Thánh").
_UNIT_WORDS = (
    "phường", "xã", "thị trấn", "đặc khu", "quận", "huyện", "thị xã", "thành phố", "tỉnh",
    "thủ đô", "phuong", "thi tran", "dac khu", "huyen", "thi xa", "thanh pho", "tp", "tx", "tt",
)  # fmt: skip
# Words that open a street segment. Without diacritics they also open unit names ("Dương Nội",
# "Ngô Quyền"), so they count only in a segment that holds a number ("so 5", "ngo 34").
_STREET_WORDS = (
    "số", "ngõ", "ngách", "hẻm", "kiệt", "phố", "đường", "thôn", "xóm", "tổ", "khu", "ấp", "bản",
    "làng", "cụm", "khối", "tòa", "lô", "km",
)  # fmt: skip
_ASCII_STREET_WORDS = (
    "so", "ngo", "ngach", "hem", "kiet", "pho", "duong", "thon", "xom", "to", "khoi", "toa", "lo",
)  # fmt: skip
# No pattern here uses \b: a Unicode word boundary takes the regex engine off its fast path.
_UNIT_START = rf"(?:(?:{'|'.join(_UNIT_WORDS)})(?:[ .]|$)|[pqhx]\.|[pq]\d)"
# Words after which a unit word is part of a name: "phố Xã Đàn", "đường Thị Trấn", "Thị xã".
_GLUE_WORDS = "|".join((*_STREET_WORDS, *_ASCII_STREET_WORDS, "thị", "thi"))
_GLUE = "\u00a0"
_UNIT_MARK, _STREET_MARK = "\x01", "\x02"  # put before segments while splitting
_MIN_CHUNK = 50_000  # rows worth a thread of their own


def _openings(words: Iterable[str], endings: Iterable[str], mark: str) -> dict[str, str]:
    """ ", Phường " -> ", <mark>Phường ", in every case a segment may open with. Literal
    patterns, matched all at once, are several times faster than one regular expression."""
    forms = {form for w in words for form in (w, w.capitalize(), w.title(), w.upper())}
    return {f", {form}{end}": f", {mark}{form}{end}" for form in forms for end in endings}


_SEGMENT_MARKS = (
    _openings(_UNIT_WORDS, " .", _UNIT_MARK)
    | _openings("pqhx", ".", _UNIT_MARK)
    | _openings("pq", "0123456789", _UNIT_MARK)
    | _openings(_STREET_WORDS, " .", _STREET_MARK)
    | _openings(["đ"], ".", _STREET_MARK)
)


def _where(text: pl.Series, pattern: str, fix: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`fix` applied to the values that contain `pattern` only: most need none, and a
    replacement costs far more than a search."""
    hits = text.str.contains(pattern).fill_null(False)
    if not hits.any():
        return text
    return text.scatter(hits.arg_true(), fix(text.filter(hits)))


def _regular_separators(text: pl.Series) -> pl.Series:
    return (
        text.str.replace_all(r"[\s\p{Cc}]+", " ")
        .str.replace_all(r" [-–]+ (\pL)", ", $1")
        .str.replace_all(r" ?[,;|][ ,;|]*", ", ")
    )


def _normalized(text: pl.Series) -> pl.Series:
    """NFC, single spaces, and ", " between non-empty segments, for ";", "|" and a dash
    between words too."""
    text = _where(text, r"[\u0300-\u036f]", lambda t: t.str.normalize("NFC"))
    irregular = r"[^\S ]|\p{Cc}|\s\s|\s,|,[^ ]|, [,;|]|[;|]| [-–]+ \pL"
    return _where(text, irregular, _regular_separators).str.strip_chars(" ,-–")


def _with_unit_commas(text: pl.Series) -> pl.Series:
    """A comma before each unit word inside a segment, except right after a street word."""
    inside = rf"(?i)([^, ]) ({_UNIT_START})"

    def fix(text: pl.Series) -> pl.Series:
        glued = text.str.replace_all(
            rf"(?i)(^|[^\pL])({_GLUE_WORDS}) ({_UNIT_START})", f"$1$2{_GLUE}$3"
        )
        return glued.str.replace_all(inside, "$1, $2").str.replace_all(_GLUE, " ", literal=True)

    return _where(text, inside, fix)


def _split_frame(addresses: pl.Series) -> pl.DataFrame:
    """Columns `street` and `admin_part` (the candidate, before parsing), null when empty.

    The part is the trailing run of segments that can name a unit: those that open with a unit
    word, and those that open with no street word and hold no house number. Street segments
    get a mark, and the part starts after the segment of the last one."""
    text = ", " + _with_unit_commas(_normalized(addresses.cast(pl.String)))
    # A number makes a street segment when it comes first, is followed by letters, or follows a
    # street word; a name ending in a number is a unit's ("Mỹ Đình 1", "Hà Giang 2").
    unmarked_digits = (
        rf", ((?:\d|[^,{_UNIT_MARK}{_STREET_MARK}\d][^,]*\d[^,]*\pL"
        rf"|(?i:{'|'.join(_ASCII_STREET_WORDS)})[ .][^,]*\d)[^,]*)"
    )
    marked = _where(
        text.str.replace_many(_SEGMENT_MARKS),
        unmarked_digits,
        lambda t: t.str.replace_all(unmarked_digits, f", {_STREET_MARK}$1"),
    )
    after_last_mark = marked.str.split(_STREET_MARK).list.last()
    frame = pl.DataFrame({"text": text, "marked": marked, "last": after_last_mark})
    # The rest of the last street segment is the street's; with no mark, all may name units.
    rest = pl.col("last").str.splitn(", ", 2).struct.field("field_1")
    admin = (
        pl.when(pl.col("marked").str.contains(_STREET_MARK, literal=True))
        .then(", " + rest)
        .otherwise("last")
    )
    frame = frame.select("text", admin=admin.str.replace_all(_UNIT_MARK, "", literal=True))
    street = pl.col("text").str.head(
        pl.col("text").str.len_chars() - pl.col("admin").str.len_chars().fill_null(0)
    )
    return frame.select(street=street, admin_part="admin").select(
        pl.when(pl.all().str.len_bytes() > 2).then(pl.all().str.strip_chars(", ")).name.keep()
    )


def _split_in_chunks(addresses: pl.Series) -> pl.DataFrame:
    """`_split_frame` on chunks side by side: polars runs a string operation on one core, and
    releases the GIL while it does."""
    size = max(-(-len(addresses) // pl.thread_pool_size()), _MIN_CHUNK)
    chunks = [addresses.slice(start, size) for start in range(0, len(addresses), size)]
    if len(chunks) < 2:
        return _split_frame(addresses)
    with ThreadPoolExecutor(len(chunks)) as pool:
        return pl.concat(pool.map(_split_frame, chunks))


def split_address(text: str | None) -> tuple[str | None, str | None]:
    """The street part and the administrative part of one address, each cleaned or None.

    "Số 12, phố Xã Đàn, P. Nam Đồng, Q. Đống Đa, HN" -> ("Số 12, phố Xã Đàn",
    "P. Nam Đồng, Q. Đống Đa, HN"). Words that name no unit stay with the street.
    """
    row = _split_frame(pl.Series([text], dtype=pl.String)).row(0, named=True)
    if row["admin_part"] is None:
        return row["street"], None
    parsed = parse_admin_part(row["admin_part"])
    return _joined_street(row["street"], parsed.street), parsed.admin


def _joined_street(street: str | None, extra: str | None) -> str | None:
    parts = [p for p in (street, extra) if p]
    return ", ".join(parts) or None


# --- tables ----------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+|\d+")
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
    return "".join(fold_word(w) for w in _WORD.findall(_TYPE_WORDS.sub("", name)))


def _type_key(name: str) -> str:
    """ "Thị xã Sơn Tây" -> "thixa"."""
    found = _TYPE_WORDS.match(name)
    return "".join(fold_word(w) for w in _WORD.findall(found.group())) if found else ""


def _alias_keys(name: str, aliases: list[str]) -> list[str]:
    """A unit's aliases as name keys. They come with and without the type word
    ("phuongtrucbach", "trucbach"); the typed forms go, but "phuonglien" (Phương Liên) stays."""
    bare = {name_key(name), *aliases}
    typed = {t + b for t in _ALIAS_TYPE_KEYS for b in bare}
    return [a for a in aliases if a not in typed]


@dataclass(frozen=True)
class _Unit:
    """A unit of any level and scheme. `province` is always the current province code."""

    code: str
    name: str
    type_key: str
    province: str
    old_province: str | None = None
    district: str | None = None


def _unit(code: str, name: str, province: str, *old: str | None) -> _Unit:
    return _Unit(code, name, _type_key(name), province, *old)


_Entries = tuple[tuple[_Unit, bool], ...]  # (unit, found by an alias)


@dataclass(frozen=True)
class _Tables:
    provinces: dict[str, _Entries]
    districts: dict[str, _Entries]
    old_ward_keys: dict[str, _Entries]
    new_ward_keys: dict[str, _Entries]
    ward_keys: frozenset[str]  # of both schemes
    old_wards: dict[str, _Unit]
    new_wards: dict[str, _Unit]
    district_units: dict[str, _Unit]
    successors: dict[str, tuple[str, ...]]  # old ward code -> current codes, the default first
    reach_by_district: dict[str, frozenset[str]]  # old district -> current wards it overlaps
    province_names: dict[str, str]


def _index(entries: Iterable[tuple[str, _Unit, bool]]) -> dict[str, _Entries]:
    index: dict[str, list[tuple[_Unit, bool]]] = {}
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
def _tables() -> _Tables:
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

    def keyed(level: str, units: dict[str, _Unit]) -> list[tuple[str, _Unit, bool]]:
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
    return _Tables(
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


# --- step 2: parse one administrative part ---------------------------------------------------

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
    units: tuple[_Unit, ...]
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
    for m in _WORD.finditer(admin):
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
    units: list[tuple[_Unit, bool]], type_key: str | None, hanoi_first: bool
) -> tuple[tuple[_Unit, ...], bool]:
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
        return _narrowed(list(_tables().provinces.get(key, ())), type_key, hanoi_first=False)

    return _name_matches(words, end, "province", _tables().provinces, candidates)


def _district_matches(words: list[_Word], end: int, province: _Match | None) -> list[_Match]:
    def candidates(key: str, type_key: str | None):
        found = list(_tables().districts.get(key, ()))
        if province is not None:
            old = {p.old_province for p in province.units}
            current = {p.province for p in province.units}
            found = [e for e in found if e[0].old_province in old] or [
                e for e in found if e[0].province in current
            ]
        return _narrowed(found, type_key, hanoi_first=province is None)

    return _name_matches(words, end, "district", _tables().districts, candidates)


def _ward_matches(
    words: list[_Word], end: int, province: _Match | None, district: _Match | None
) -> list[_Match]:
    tables = _tables()

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


# --- step 3: reconcile text, code and extract date -------------------------------------------

_INVALID_CODE = "?"  # stands for every code that is not 1 to 5 digits


@dataclass(frozen=True)
class _Reading:
    ward: str  # current ward code
    old: str | None = None  # old ward code, where the input named or coded one
    scheme: str | None = None  # scheme the code was read in


@dataclass(frozen=True)
class Resolution:
    """The outcome for one (administrative part, ward code, period)."""

    ward: str | None
    old: str | None
    issue: str | None
    evidence: str | None  # "text", "code" or "both": what settled the ward
    text: ParsedAdmin = ParsedAdmin()  # the reading of the text that was used


def _text_resolution(parsed: ParsedAdmin, after_reform: bool | None) -> Resolution:
    """The text alone: the period's scheme first; a district or an old extract means the old one."""
    successors = _tables().successors
    old = [_Reading(successors[o][0], o) for o in parsed.old_wards]
    new = [_Reading(n) for n in parsed.new_wards]
    old_first = after_reform is False or bool(parsed.districts)
    readings = (old or new) if old_first else (new or old)
    settled = _settled(readings, "text") or Resolution(
        None, None, AMBIGUOUS if readings else UNKNOWN, None
    )
    return replace(settled, text=parsed)


def _settled(readings: list[_Reading], evidence: str) -> Resolution | None:
    """The one current ward all readings agree on, with the old ward if they name only one."""
    if len({r.ward for r in readings}) != 1:
        return None
    olds = {r.old for r in readings}
    return Resolution(readings[0].ward, olds.pop() if len(olds) == 1 else None, None, evidence)


def _code_readings(parsed: ParsedAdmin, code: str, after_reform: bool | None) -> list[_Reading]:
    """The code read in each scheme the period allows, where that reading fits the text."""
    tables = _tables()
    readings = []
    if code in tables.old_wards:
        readings.append(_old_code_reading(parsed, code))
    if after_reform is not False and code in tables.new_wards:
        readings.append(_new_code_reading(parsed, code))
    return [r for r in readings if r is not None]


def _old_code_reading(parsed: ParsedAdmin, code: str) -> _Reading | None:
    tables = _tables()
    successors = tables.successors[code]
    if parsed.old_wards or parsed.new_wards:
        named_next = [n for n in successors if n in parsed.new_wards]
        if code in parsed.old_wards or named_next:
            return _Reading((named_next or successors)[0], code, "old")
        return None
    if _in_region(parsed, old_ward=code):
        return _Reading(successors[0], code, "old")
    return None


def _new_code_reading(parsed: ParsedAdmin, code: str) -> _Reading | None:
    successors = _tables().successors
    if parsed.old_wards or parsed.new_wards:
        olds = [o for o in parsed.old_wards if code in successors[o]]
        if code in parsed.new_wards or olds:
            return _Reading(code, olds[0] if len(olds) == 1 else None, "new")
        return None
    return _Reading(code, None, "new") if _in_region(parsed, new_ward=code) else None


def _in_region(parsed: ParsedAdmin, old_ward: str = "", new_ward: str = "") -> bool:
    """Whether a ward lies in the district or province the text names (any, if it names none)."""
    tables = _tables()
    if parsed.districts:
        if old_ward:
            return tables.old_wards[old_ward].district in parsed.districts
        return any(new_ward in tables.reach_by_district[d] for d in parsed.districts)
    if parsed.provinces:
        unit = tables.old_wards[old_ward] if old_ward else tables.new_wards[new_ward]
        return unit.province in parsed.provinces
    return True


def _in_period(parsed: ParsedAdmin, after_reform: bool | None) -> ParsedAdmin:
    """Before the reform no current ward had its name yet: a name both schemes know is old."""
    if after_reform is not False or not parsed.old_wards:
        return parsed
    alternative = parsed.alternative and _in_period(parsed.alternative, after_reform)
    return replace(parsed, new_wards=(), alternative=alternative)


def resolve(parsed: ParsedAdmin, code: str | None, after_reform: bool | None) -> Resolution:
    """Settle the current ward from the parsed text, a normalised code and the extract period.

    `after_reform` is None when the extract date is unknown: both schemes are then allowed.
    """
    tables = _tables()
    parsed = _in_period(parsed, after_reform)
    if code is None:
        return _text_resolution(parsed, after_reform)
    known = code in tables.old_wards or (after_reform is not False and code in tables.new_wards)
    if not known:
        return replace(_text_resolution(parsed, after_reform), issue=CODE_UNKNOWN)
    readings = _code_readings(parsed, code, after_reform)
    if not readings and parsed.alternative is not None:
        readings = _code_readings(parsed.alternative, code, after_reform)
        parsed = parsed.alternative if readings else parsed
    if not readings:
        return replace(_text_resolution(parsed, after_reform), issue=CODE_CONFLICT)
    evidence = "both" if parsed.names_anything else "code"
    # Both schemes may fit. The text settles it where it names the current ward one reading
    # gives; else the scheme the text is written in is taken, else the current one.
    named = [r for r in readings if r.ward in parsed.new_wards]
    settled = _settled(readings, evidence) or _settled(named, evidence)
    if settled is None:
        scheme = parsed.scheme or "new"
        chosen = [r for r in readings if r.scheme == scheme]
        settled = replace(_settled(chosen, evidence), issue=AMBIGUOUS)
    return replace(settled, text=parsed)


# --- the vectorised entry point --------------------------------------------------------------


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
    tables = _tables()
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
    address_issue (a rule id, see the module docstring) and ward_evidence ("text", "code" or
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
    rows = rows.hstack(_split_in_chunks(rows.get_column("address")))
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
