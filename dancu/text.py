"""Small text helpers shared by every stage."""

import re
import unicodedata

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def strip_diacritics(text: str) -> str:
    """'Đặng Thị Ánh' -> 'Dang Thi Anh', as typed on a keyboard without Vietnamese."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.replace("đ", "d").replace("Đ", "D")


def fold_label(label: str) -> str:
    """A label as lowercase ASCII letters and digits only, so "HỌ VÀ TÊN" == "Ho va ten"."""
    return _NOT_ALNUM.sub("", strip_diacritics(label).lower())
