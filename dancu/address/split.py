"""Step 1, vectorised: each address cut into its street and its candidate administrative part."""

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from dancu.address.parse import parse_admin_part

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


def split_in_chunks(addresses: pl.Series) -> pl.DataFrame:
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
