"""Names of people with a foreign element, whose order no source agrees on.

A passport may put the family name first (`KIM MIN JUN`, `SMITH JOHN`) or last (`John Smith`);
a Korean given name may be hyphenated (`Kim Min-jun`). `order_free_name_key` gives all of these
one key. Vietnamese names are compared in order: twins are often `Nguyễn Minh Anh` and
`Nguyễn Anh Minh`, which an order-free key would merge. So resolution compares two records
order-free only when either carries a foreign element: a nationality other than `VNM`, a
passport, or a name that `is_probably_vietnamese_name` rejects. It must decide per pair, not
per record: `Kim Min Ho` reads as Vietnamese and `MIN HO KIM` does not.

How names are judged:

- Vietnamese: the first word is one of the common Vietnamese family names and every word is one
  Vietnamese syllable (`Nguyễn Thị Thu Hà`, `NGUYEN VAN AN`). Every word, not most: `KIM MIN
  JUN` has two syllables of Vietnamese shape out of three and is Korean.
- Chinese names in their Sino-Vietnamese reading (`Lý Tiểu Minh`) are Vietnamese here: they are
  written family-first like Vietnamese names, so in-order comparison suits them. The same person
  written in pinyin (`Li Xiaoming`) shares no key with that reading; other fields must link them.
- Mixed names of children with a foreign parent (`Nguyễn Anna`, `Anna Nguyễn Minh`) are not
  Vietnamese: the foreign part moves between sources, so order-free comparison fits them.
- Korean names built from Vietnamese-shaped syllables family-first (`Kim Min Ho`)
  read as Vietnamese; the nationality or the document tells them apart. Names of the ethnic
  minorities written outside Kinh spelling (`H'Hen Niê`, `Ksor`) read as foreign, which costs
  only an order-free comparison.

Both functions cost more than the usual folded key (sorting words per row): compute them for
the records and candidate pairs that may hold a foreign element, not for the whole register.
"""

import polars as pl

from dancu.text import fold

# About 110 family names that cover nearly every Vietnamese person, folded (Kinh names first,
# then common ones of the Tày, Thái, Mông and Hoa communities). Folding merges a few pairs
# (Đường/Dương, Lữ/Lư): the key is no weaker for it.
VIETNAMESE_FAMILY_NAMES = frozenset((
    "nguyen", "tran", "le", "pham", "hoang", "huynh", "vu", "vo", "phan", "dang", "bui", "do",
    "ho", "ngo", "duong", "ly", "dinh", "dao", "trinh", "doan", "truong", "luong", "mai", "cao",
    "ha", "ta", "luu", "chu", "phung", "kieu", "to", "trieu", "lam", "vuong", "khuat", "nghiem",
    "quach", "thai", "dam", "lai", "nong", "giang", "tong", "than", "dong", "van", "hua", "kim",
    "au", "mac", "tang", "la", "khong", "tu", "bach", "cu", "tieu", "luc", "quan", "ninh", "han",
    "ong", "man", "khuc", "lo", "sam", "mong", "thach", "cong", "ung", "diep", "dieu", "ton", "vi",
    "lu", "lang", "pho", "giap", "be", "hau", "hoa", "banh", "ma", "chau", "khuong", "lac", "nham",
    "vien", "phi", "kha", "cung", "thieu", "yen", "sai", "co", "doi", "dau", "leu", "nhu", "on",
    "tao", "du", "vang", "sung", "thao", "lau", "mua", "cham", "cam", "quang", "lieu", "ngan",
))  # fmt: skip

# One Vietnamese syllable, folded: an onset, a vowel nucleus and a final consonant where the
# nucleus can take one. Nuclei ending in a vowel (ai, ao, oi, ieu, ...) take none.
_ONSET = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
_OPEN_NUCLEUS = r"(?:ai|ao|au|ay|eo|eu|ia|iu|oi|ui|uu|ieu|yeu|oai|oay|oeo|uay|uoi|uou|uya|uyu)"
_CLOSABLE_NUCLEUS = r"(?:uye|ie|ye|uo|oa|oe|ua|ue|uy|a|e|i|o|u|y)"
_CODA = r"(?:ch|nh|ng|[cmnpt])?"
_SYLLABLE = rf"{_ONSET}(?:{_OPEN_NUCLEUS}|{_CLOSABLE_NUCLEUS}{_CODA})"
_ALL_SYLLABLES = rf"^{_SYLLABLE}(?: {_SYLLABLE})*$"
# Spellings Vietnamese never writes although they fit the pattern above: k, gh, ngh before a,
# o, u; c and q otherwise; ng or c after i or y (Vietnamese writes inh, ich).
_NOT_VIETNAMESE = r"(?:^| )(?:(?:k|gh|ngh)[aou]|c[eiy]|q[^u])|[iy](?:ng|c)(?: |$)"


def _words(name: pl.Expr) -> pl.Expr:
    """The folded words of a name, hyphenated parts apart and other signs dropped, one space
    between them: `Kim Min-jun` -> `kim min jun`."""
    folded = fold(name).str.replace_all(r"[-‐‑–]", " ").str.replace_all(r"[^\p{L}\p{N}\s]", "")
    return folded.str.replace_all(r"\s+", " ").str.strip_chars()


def order_free_name_key(name: pl.Expr) -> pl.Expr:
    """The words of a name folded and sorted: `KIM MIN JUN`, `Kim Min-jun` and `MIN JUN KIM`
    all give `jun kim min`. Null where the name has no word.

    A given name written in one word or two (`Minjun`, `Min Jun`) still gives two keys: compare
    keys with a fuzzy token measure, not only for equality."""
    words = _words(name)
    return pl.when(words != "").then(words.str.split(" ").list.sort().list.join(" "))


def is_probably_vietnamese_name(name: pl.Expr) -> pl.Expr:
    """True where a name reads as Vietnamese: a common Vietnamese family name first, and every
    word a Vietnamese syllable. Null for an empty name. See the module docstring for how
    Chinese, mixed and Korean names fall."""
    words = _words(name)
    family_first = words.str.extract(r"^(\S+)").is_in(list(VIETNAMESE_FAMILY_NAMES))
    syllables = words.str.contains(_ALL_SYLLABLES) & ~words.str.contains(_NOT_VIETNAMESE)
    return pl.when(words != "").then(family_first & syllables)
