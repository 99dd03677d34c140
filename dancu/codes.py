"""Code lists for coded fields, keyed by the folded form of what sources write.

Ethnic groups keep their names: the agencies' numeric code lists disagree (GSO 2008 and the
1979 list diverge from code 04), so a name is the only code every consumer reads alike.
"""

import polars as pl

from dancu.text import fold, strip_diacritics

MARITAL_STATUS = {
    "single": ("Độc thân", "Chưa kết hôn", "Chưa có vợ", "Chưa có chồng"),
    "married": ("Đã kết hôn", "Có vợ", "Có chồng", "Kết hôn"),
    "divorced": ("Ly hôn", "Đã ly hôn"),
    "widowed": ("Góa", "Goá", "Góa vợ", "Góa chồng", "Goá vợ", "Goá chồng"),
}
# The 54 recognised ethnic groups, with spellings sources also use.
ETHNIC_GROUPS = {
    "Kinh": ("Việt",), "Tày": (), "Thái": (), "Hoa": ("Hán",), "Khmer": ("Khơ-me", "Khơ Me"),
    "Mường": (), "Nùng": (), "Mông": ("H'Mông", "Hmông", "Mèo"), "Dao": (), "Gia Rai": ("Gia-rai",),
    "Ê Đê": ("Ê-đê",), "Ba Na": ("Ba-na",), "Sán Chay": ("Cao Lan",), "Chăm": (),
    "Cơ Ho": ("Cơ-ho",), "Xơ Đăng": ("Xơ-đăng",), "Sán Dìu": ("Sán dìu",), "Hrê": ("H'rê",),
    "Ra Glai": ("Ra-glai",), "Mnông": ("M'Nông",), "Thổ": (), "Xtiêng": ("Xtiêng", "X'tiêng"),
    "Khơ Mú": ("Khơ-mú",), "Bru - Vân Kiều": ("Bru Vân Kiều", "Vân Kiều"), "Cơ Tu": ("Cơ-tu",),
    "Giáy": (), "Tà Ôi": ("Tà-ôi",), "Mạ": (), "Giẻ Triêng": ("Giẻ-triêng",), "Co": (),
    "Chơ Ro": ("Chơ-ro",), "Xinh Mun": ("Xinh-mun",), "Hà Nhì": (), "Chu Ru": ("Chu-ru",),
    "Lào": (), "La Chí": (), "Kháng": (), "Phù Lá": (), "La Hủ": (), "La Ha": (), "Pà Thẻn": (),
    "Lự": (), "Ngái": (), "Chứt": (), "Lô Lô": (), "Mảng": (), "Cơ Lao": (), "Bố Y": (),
    "Cống": (), "Si La": (), "Pu Péo": (), "Rơ Măm": (), "Brâu": (), "Ơ Đu": (),
}  # fmt: skip


def _key(text: str) -> str:
    """The scalar twin of the key `coded` computes: folded, hyphens as spaces, other signs gone."""
    bare = strip_diacritics(text).lower().replace("-", " ")
    return " ".join("".join(ch for ch in bare if ch.isalnum() or ch == " ").split())


def _lookup(codes: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {
        _key(spelling): code for code, spellings in codes.items() for spelling in (code, *spellings)
    }


def coded(text: pl.Expr, codes: dict[str, tuple[str, ...]]) -> pl.Expr:
    """The code of a written value (any case, spacing or diacritics), or null when unknown."""
    key = fold(text).str.replace_all("-", " ").str.replace_all(r"[^0-9a-z ]", "")
    key = key.str.replace_all(r"\s+", " ").str.strip_chars()
    return key.replace_strict(_lookup(codes), default=None, return_dtype=pl.String)


# The code list of each column of kind "code", by column name.
CODE_LISTS = {
    "ethnicity": ETHNIC_GROUPS,
    "marital_status": MARITAL_STATUS,
}
