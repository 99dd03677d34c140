"""Vietnamese legacy text encodings as they surface in extracts, and their repair.

- TCVN3 (ABC, TCVN 5712:1993 VN3, ".VnTime" fonts): one byte per letter. Only Ă Â Ê Ô Ơ Ư Đ have
  capitals; other capitals come from separate all-caps fonts (".VnTimeH") over the lowercase codes.
  Read as Windows-1252 it looks like "Hµ Néi". Every VN3 letter sits in 0xA1-0xFE, where cp1252 and
  Latin-1 agree, so 0x80-0x9F (cp1252 punctuation there, or undefined) are never decoded as letters.
- VNI-Windows: a base letter followed by a modifier byte for hat and tone ("Haø Noäi"); capitals
  take capital modifiers. A few letters are single bytes (đ ñ, ơ ô, ư ö, ì í ỉ ĩ ị ỵ).
- Windows-1258: base letters with their hat precomposed (â ă ê ô ơ ư đ) and tone marks as
  combining characters; Python's cp1258 codec cannot encode most precomposed letters.
- UTF-8 read as cp1252: "Nguyá»…n", repaired by reversing the misreading.
Encoders take any Unicode text and normalise it to NFC first; decoders return NFC.
"""

import re
import unicodedata

import polars as pl

_TONES = "\u0300\u0309\u0303\u0301\u0323"  # grave, hook, tilde, acute, dot: the order of every row


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _toned(vowel: str) -> list[str]:
    return [vowel] + [_nfc(vowel + tone) for tone in _TONES]


_LOWER_LETTERS = [c for v in "aăâeêioôơuưy" for c in _toned(v) if not c.isascii()] + ["đ"]
# The 134 letters beyond ASCII, lowercase and capital.
VIETNAMESE_LETTERS = frozenset(_LOWER_LETTERS + [c.upper() for c in _LOWER_LETTERS])

# --- TCVN3 ------------------------------------------------------------------------------------
# Glyphs (the byte as cp1252 shows it) for each vowel untoned and with the five tones; from unikey
# (ukengine/data.cpp) and checked against libiconv's TCVN-5712 table (lib/tcvn.h).
_TCVN3_ROWS = {
    "a": "aµ¶·¸¹", "ă": "¨»¼½¾Æ", "â": "©ÇÈÉÊË", "e": "eÌÎÏÐÑ", "ê": "ªÒÓÔÕÖ", "i": "i×ØÜÝÞ",
    "o": "oßáâãä", "ô": "«åæçèé", "ơ": "¬êëìíî", "u": "uïñòóô", "ư": "\xadõö÷øù", "y": "yúûüýþ",
}  # fmt: skip
_TCVN3_SINGLES = {"đ": "®", "Ă": "¡", "Â": "¢", "Ê": "£", "Ô": "¤", "Ơ": "¥", "Ư": "¦", "Đ": "§"}

_TCVN3_DECODE = {g: c for c, g in _TCVN3_SINGLES.items()} | {
    g: c
    for v, glyphs in _TCVN3_ROWS.items()
    for c, g in zip(_toned(v), glyphs, strict=True)
    if not c.isascii()  # plain vowels are themselves; their capitals must stay capitals
}
# Toned capitals have no code of their own: they take the lowercase glyph (case is lost).
_TCVN3_ENCODE = {c.upper(): g for g, c in _TCVN3_DECODE.items()} | {
    c: g for g, c in _TCVN3_DECODE.items()
}

# --- VNI --------------------------------------------------------------------------------------
# From unikey (ukengine/data.cpp, VNI-WIN: low byte base, high byte mark), checked against
# duydev/vietnamese-conversion (src/charsets.ts). Capitals are the Latin-1 capitals of the
# lowercase bytes ("aø" -> "AØ"), which is how both tables have them.
_PLAIN = ("", "ø", "û", "õ", "ù", "ï")
_HAT = ("â", "à", "å", "ã", "á", "ä")
_BREVE = ("ê", "è", "ú", "ü", "é", "ë")
_VNI_ROWS = {
    "a": ["a" + m for m in _PLAIN], "ă": ["a" + m for m in _BREVE], "â": ["a" + m for m in _HAT],
    "e": ["e" + m for m in _PLAIN], "ê": ["e" + m for m in _HAT],
    "i": ["i", "ì", "æ", "ó", "í", "ò"],
    "o": ["o" + m for m in _PLAIN], "ô": ["o" + m for m in _HAT], "ơ": ["ô" + m for m in _PLAIN],
    "u": ["u" + m for m in _PLAIN], "ư": ["ö" + m for m in _PLAIN],
    "y": ["y" + m for m in _PLAIN[:5]] + ["î"],
}  # fmt: skip
_VNI_LOWER = {"đ": "ñ"} | {
    c: g
    for v, glyphs in _VNI_ROWS.items()
    for c, g in zip(_toned(v), glyphs, strict=True)
    if not c.isascii()
}
_VNI_ENCODE = _VNI_LOWER | {c.upper(): g.upper() for c, g in _VNI_LOWER.items()}
_VNI_DECODE = {g: c for c, g in _VNI_ENCODE.items()}


def _longest_first(mapping: dict[str, str]) -> dict[str, str]:
    return dict(sorted(mapping.items(), key=lambda kv: -len(kv[0])))


def _alternation(patterns: list[str]) -> str:
    return "|".join(sorted(patterns, key=len, reverse=True))


_TCVN3_ENCODE_TABLE = str.maketrans(_TCVN3_ENCODE)
_TCVN3_DECODE_TABLE = str.maketrans(_TCVN3_DECODE)
_VNI_ENCODE_TABLE = str.maketrans(_VNI_ENCODE)
# "ôù" (ớ) must win over "ô" (ơ): longest pattern first, and the first listed wins.
_VNI_DECODE_RE = re.compile(_alternation([re.escape(g) for g in _VNI_DECODE]))


def encode_tcvn3(text: str) -> str:
    """Unicode -> TCVN3 glyphs as read through cp1252 ("Hà Nội" -> "Hµ Néi").

    Capitals with a tone mark become the lowercase glyph: TCVN3 has no code for them.
    """
    return _nfc(text).translate(_TCVN3_ENCODE_TABLE)


def decode_tcvn3(text: str) -> str:
    """TCVN3 glyphs as read through cp1252 -> Unicode NFC ("Hµ Néi" -> "Hà Nội")."""
    return _nfc(text.translate(_TCVN3_DECODE_TABLE))


def encode_vni(text: str) -> str:
    """Unicode -> VNI-Windows glyphs as read through cp1252 ("Hà Nội" -> "Haø Noäi")."""
    return _nfc(text).translate(_VNI_ENCODE_TABLE)


def decode_vni(text: str) -> str:
    """VNI-Windows glyphs as read through cp1252 -> Unicode NFC ("Haø Noäi" -> "Hà Nội")."""
    return _nfc(_VNI_DECODE_RE.sub(lambda m: _VNI_DECODE[m.group()], text))


def _replace_many(expr: pl.Expr, mapping: dict[str, str]) -> pl.Expr:
    # Without leftmost=True Aho-Corasick reports the match that ends first ("ô" inside "ôù").
    ordered = _longest_first(mapping)
    return expr.str.replace_many(list(ordered), list(ordered.values()), leftmost=True)


def decode_tcvn3_expr(expr: pl.Expr) -> pl.Expr:
    """`decode_tcvn3` over a string column."""
    return _replace_many(expr, _TCVN3_DECODE).str.normalize("NFC")


def decode_vni_expr(expr: pl.Expr) -> pl.Expr:
    """`decode_vni` over a string column."""
    return _replace_many(expr, _VNI_DECODE).str.normalize("NFC")


def to_cp1258_form(text: str) -> str:
    """Unicode -> the form Windows-1258 holds: hat letters precomposed, tones combining.

    `to_cp1258_form(s).encode("cp1258")` succeeds for Vietnamese text, and NFC of its decoding
    gives `s` back.
    """
    return "".join(_CP1258_FORM.get(c, c) for c in _nfc(text))


def _cp1258_form(letter: str) -> str:
    marks = unicodedata.normalize("NFD", letter)
    tones = "".join(m for m in marks if m in _TONES)
    return _nfc("".join(m for m in marks if m not in _TONES)) + tones


_CP1258_FORM = {c: _cp1258_form(c) for c in VIETNAMESE_LETTERS}


# --- detection ----------------------------------------------------------------------------------
# Scores count evidence; they are meant to be summed over a column or file, since a short value
# ("Ñình", "Lý") often carries none. Run `fix_utf8_as_cp1252` first: its mojibake has TCVN3 glyphs.
_TCVN3_GLYPHS = set(_TCVN3_DECODE)
_VNI_GLYPHS = set("".join(_VNI_DECODE))
# Glyphs that are neither Vietnamese letters nor VNI bytes: ¡-¾, Ç ç Ð × Þ ß ÷ þ.
_TCVN3_ONLY = _TCVN3_GLYPHS - VIETNAMESE_LETTERS - _VNI_GLYPHS
# The other capital-looking glyphs betray TCVN3 only inside a word: after a lowercase letter
# ("NguyÔn"), or between a capital and a lowercase letter ("YÕn", "TÕt"). Unicode has "Ông" and
# "ÔNG" but neither "yÔ" nor "YÕn"; the capital must not be A E O U, whose VNI capital modifiers
# make "AÊn" (Ăn) and "UØng" (Ùng).
_TCVN3_CAPLIKE = "".join(sorted(g for g in _TCVN3_GLYPHS - _TCVN3_ONLY if g.isupper()))
_LOWER = "a-zß-öø-ÿ"
TCVN3_PATTERN = (
    f"[{''.join(sorted(_TCVN3_ONLY))}]"
    f"|[{_LOWER}][{_TCVN3_CAPLIKE}]"
    f"|[B-DF-NP-TV-Z][{_TCVN3_CAPLIKE}][{_LOWER}]"
)

# Base + modifier pairs, except those that also occur in Unicode (old-style "hoà", "khoá",
# "hoãn") or in TCVN3 ("uû" is the "uỷ" of "Uỷ ban", "YÕ" the "Yế" of "Yến"). "öô" is ươ; a
# word-initial "Ñ" is Đ. Words start after a plain space: Python's and polars' regex engines
# disagree on what `\b` is next to signs such as "¼".
_VNI_AMBIGUOUS = {"oà", "oá", "oã", "OÀ", "OÁ", "OÃ", "uû", "YÕ"}
_VNI_MARKERS = ({g for g in _VNI_DECODE if len(g) == 2} - _VNI_AMBIGUOUS) | {"öô", "ÖÔ"}
VNI_PATTERN = _alternation([re.escape(m) for m in _VNI_MARKERS]) + r"|(?:^| )Ñ"

_TCVN3_RE = re.compile(TCVN3_PATTERN)
_VNI_RE = re.compile(VNI_PATTERN)


def tcvn3_score(text: str) -> int:
    """How many spots in `text` look like TCVN3 and not like Unicode or VNI."""
    return len(_TCVN3_RE.findall(text))


def vni_score(text: str) -> int:
    """How many spots in `text` look like VNI and not like Unicode or TCVN3."""
    return len(_VNI_RE.findall(text))


def tcvn3_score_expr(expr: pl.Expr) -> pl.Expr:
    """`tcvn3_score` over a string column (UInt32)."""
    return expr.str.count_matches(TCVN3_PATTERN)


def vni_score_expr(expr: pl.Expr) -> pl.Expr:
    """`vni_score` over a string column (UInt32)."""
    return expr.str.count_matches(VNI_PATTERN)


def looks_like_tcvn3(text: str) -> bool:
    """More TCVN3 than VNI evidence; False when there is none."""
    return tcvn3_score(text) > vni_score(text)


def looks_like_vni(text: str) -> bool:
    """More VNI than TCVN3 evidence; False when there is none."""
    return vni_score(text) > tcvn3_score(text)


# --- UTF-8 read as cp1252 ---------------------------------------------------------------------
# Windows (like ftfy's "sloppy-windows-1252") reads the five bytes cp1252 leaves undefined
# (0x81 0x8D 0x8F 0x90 0x9D) as U+0081 ... U+009D, and Vietnamese needs them back: "ề" is
# E1 BB 81, "ọ" E1 BB 8D, "ờ" E1 BB 9D, "Đ" C4 90. Python's strict cp1252 would refuse them.
_CP1252_BYTE = {bytes([b]).decode("cp1252", "ignore") or chr(b): b for b in range(256)}


def fix_utf8_as_cp1252(text: str) -> str:
    """Undo UTF-8 read as cp1252 ("Nguyá»…n" -> "Nguyễn"); other text comes back unchanged."""
    try:
        fixed = bytes(_CP1252_BYTE[c] for c in text).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return text
    return text if fixed == text else _nfc(fixed)
