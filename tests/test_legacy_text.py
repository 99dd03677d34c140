import itertools
import unicodedata

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.legacy_text import (
    VIETNAMESE_LETTERS,
    decode_tcvn3,
    decode_tcvn3_expr,
    decode_vni,
    decode_vni_expr,
    encode_tcvn3,
    encode_vni,
    fix_utf8_as_cp1252,
    looks_like_tcvn3,
    looks_like_vni,
    tcvn3_score,
    tcvn3_score_expr,
    to_cp1258_form,
    vni_score,
    vni_score_expr,
)
from dancu.text import repair_text

LOWER = sorted(c for c in VIETNAMESE_LETTERS if c.islower())
UPPER = sorted(c for c in VIETNAMESE_LETTERS if c.isupper())
TCVN3_CAPITALS = "ĂÂÊÔƠƯĐ"
ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,./-"

lower_text = st.text(alphabet=LOWER + list("abcdeghiklmnopqrstuvxy 0123456789,"))
viet_text = st.text(alphabet=LOWER + UPPER + list(ASCII))
tcvn3_representable = st.text(alphabet=LOWER + list(TCVN3_CAPITALS + ASCII))

# (Unicode, TCVN3 as cp1252, VNI as cp1252)
NAMES = [
    ("Nguyễn Thị Thu Hà", "NguyÔn ThÞ Thu Hµ", "Nguyeãn Thò Thu Haø"),
    ("Trần Văn Đức", "TrÇn V¨n §øc", "Traàn Vaên Ñöùc"),
    (
        "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội",
        "Ph\xadêng Phóc X¸, QuËn Ba §×nh, Thµnh phè Hµ Néi",
        "Phöôøng Phuùc Xaù, Quaän Ba Ñình, Thaønh phoá Haø Noäi",
    ),
    ("Lê Thị Ánh Tuyết", "Lª ThÞ ¸nh TuyÕt", "Leâ Thò AÙnh Tuyeát"),
    ("Hoàng Quốc Việt", "Hoµng Quèc ViÖt", "Hoaøng Quoác Vieät"),
    (
        "Ngõ 12 phố Huỳnh Thúc Kháng",
        "Ngâ 12 phè Huúnh Thóc Kh¸ng",
        "Ngoõ 12 phoá Huyønh Thuùc Khaùng",
    ),
]

# Strings as they appear in public code and data on GitHub, with the Unicode given there.
TCVN3_SEEN = [
    ("Hµ Néi", "Hà Nội"),
    ("NguyÔn V¨n", "Nguyễn Văn"),
    ("TiÕng ViÖt", "Tiếng Việt"),
    ("\xae\xadîc", "được"),
    ("Xin chµo c¸c b¹n", "Xin chào các bạn"),  # duydev/vietnamese-conversion tests
    ("T«i ®i häc", "Tôi đi học"),
    ("B¶o Th¾ng", "Bảo Thắng"),
    ("M\xadêng Kh\xad¬ng", "Mường Khương"),
    ("§ång b»ng s«ng Hång", "Đồng bằng sông Hồng"),
    ("Ng©n hµng TMCP Qu©n §éi", "Ngân hàng TMCP Quân Đội"),
]
VNI_SEEN = [
    ("Haø Noäi", "Hà Nội"),
    ("Tieáng Vieät", "Tiếng Việt"),
    ("Xin chaøo caùc baïn", "Xin chào các bạn"),
    ("Toâi ñi hoïc", "Tôi đi học"),
    ("P. THÔÙI BÌNH", "P. THỚI BÌNH"),
    ("ÑAÁT DU LÒCH", "ĐẤT DU LỊCH"),
    ("MAÏC ÑÓNH CHI", "MẠC ĐĨNH CHI"),
    ("HOÃN HÔÏP", "HỖN HỢP"),
]

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Thanh", "Quốc"]
GIVEN = ["Hà", "Đức", "Tuyết", "Việt", "Khương", "Hưởng", "Nguyệt", "Thuỷ", "Ánh", "Ước", "Yến"]
MANY_NAMES = [" ".join(p) for p in itertools.product(FAMILY, MIDDLE, GIVEN)]


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


def as_misread_utf8(s: str) -> str:
    # What a Windows reader shows for UTF-8 bytes: cp1252, undefined bytes kept as U+0080-U+009F.
    return "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in s.encode("utf-8"))


def column(values: list[str], expr) -> list[str]:
    df = pl.DataFrame({"x": values}, schema={"x": pl.String})
    return df.select(expr(pl.col("x"))).to_series().to_list()


@pytest.mark.parametrize(("text", "tcvn3", "vni"), NAMES)
def test_known_forms(text, tcvn3, vni):
    assert encode_tcvn3(text) == tcvn3
    assert encode_vni(text) == vni
    assert encode_tcvn3(nfd(text)) == tcvn3
    assert decode_vni(vni) == text
    assert decode_tcvn3(tcvn3).lower() == text.lower()  # exact, but for toned capitals


@pytest.mark.parametrize(("seen", "text"), TCVN3_SEEN)
def test_tcvn3_as_seen_in_public_data(seen, text):
    assert decode_tcvn3(seen) == text
    assert encode_tcvn3(text) == seen


@pytest.mark.parametrize(("seen", "text"), VNI_SEEN)
def test_vni_as_seen_in_public_data(seen, text):
    assert decode_vni(seen) == text
    assert encode_vni(text) == seen


def test_tcvn3_capitals_with_tones_lose_case():
    assert encode_tcvn3("HÀ NỘI") == "Hµ NéI"
    assert decode_tcvn3(encode_tcvn3("ĂN ĐỦ")) == "ĂN Đủ"
    assert decode_tcvn3("Lª ThÞ ¸nh TuyÕt") == "Lê Thị ánh Tuyết"


# libiconv lib/tcvn.h (TCVN 5712 VN1): byte -> code point, for bytes VN3 shares with VN1.
LIBICONV_VN3 = {
    0xA1: 0x0102, 0xA2: 0x00C2, 0xA3: 0x00CA, 0xA4: 0x00D4, 0xA5: 0x01A0, 0xA6: 0x01AF,
    0xA7: 0x0110, 0xA8: 0x0103, 0xA9: 0x00E2, 0xAA: 0x00EA, 0xAB: 0x00F4, 0xAC: 0x01A1,
    0xAD: 0x01B0, 0xAE: 0x0111, 0xB5: 0x00E0, 0xB6: 0x1EA3, 0xB7: 0x00E3, 0xB8: 0x00E1,
    0xB9: 0x1EA1, 0xBB: 0x1EB1, 0xBC: 0x1EB3, 0xBD: 0x1EB5, 0xBE: 0x1EAF, 0xC6: 0x1EB7,
    0xC7: 0x1EA7, 0xC8: 0x1EA9, 0xC9: 0x1EAB, 0xCA: 0x1EA5, 0xCB: 0x1EAD, 0xCC: 0x00E8,
    0xCE: 0x1EBB, 0xCF: 0x1EBD, 0xD0: 0x00E9, 0xD1: 0x1EB9, 0xD2: 0x1EC1, 0xD3: 0x1EC3,
    0xD4: 0x1EC5, 0xD5: 0x1EBF, 0xD6: 0x1EC7, 0xD7: 0x00EC, 0xD8: 0x1EC9, 0xDC: 0x0129,
    0xDD: 0x00ED, 0xDE: 0x1ECB, 0xDF: 0x00F2, 0xE1: 0x1ECF, 0xE2: 0x00F5, 0xE3: 0x00F3,
    0xE4: 0x1ECD, 0xE5: 0x1ED3, 0xE6: 0x1ED5, 0xE7: 0x1ED7, 0xE8: 0x1ED1, 0xE9: 0x1ED9,
    0xEA: 0x1EDD, 0xEB: 0x1EDF, 0xEC: 0x1EE1, 0xED: 0x1EDB, 0xEE: 0x1EE3, 0xEF: 0x00F9,
    0xF1: 0x1EE7, 0xF2: 0x0169, 0xF3: 0x00FA, 0xF4: 0x1EE5, 0xF5: 0x1EEB, 0xF6: 0x1EED,
    0xF7: 0x1EEF, 0xF8: 0x1EE9, 0xF9: 0x1EF1, 0xFA: 0x1EF3, 0xFB: 0x1EF7, 0xFC: 0x1EF9,
    0xFD: 0x00FD, 0xFE: 0x1EF5,
}  # fmt: skip


def test_tcvn3_table_matches_libiconv_byte_for_byte():
    glyphs = bytes(LIBICONV_VN3).decode("cp1252")
    assert decode_tcvn3(glyphs) == "".join(map(chr, LIBICONV_VN3.values()))
    assert encode_tcvn3("".join(map(chr, LIBICONV_VN3.values()))) == glyphs
    assert len(LIBICONV_VN3) == len(LOWER) + len(TCVN3_CAPITALS)


def test_tcvn3_leaves_windows_punctuation_alone():
    # 0x80-0x9F hold VN1 capitals in libiconv's TCVN, but real ABC files keep cp1252 punctuation
    # there (unikey maps them to themselves), and five of them are undefined in cp1252.
    punctuation = bytes(range(0x80, 0xA0)).decode("cp1252", "ignore") + "\x81\x8d\x8f\x90\x9d"
    assert decode_tcvn3(punctuation) == punctuation
    assert decode_vni(punctuation) == punctuation


@given(st.text())
def test_decoders_never_raise(text):
    decode_tcvn3(text)
    decode_vni(text)
    fix_utf8_as_cp1252(text)
    tcvn3_score(text)
    vni_score(text)


@given(lower_text)
def test_lowercase_round_trips(text):
    assert decode_tcvn3(encode_tcvn3(text)) == text
    assert decode_vni(encode_vni(text)) == text


@given(tcvn3_representable)
def test_tcvn3_round_trips_where_case_is_representable(text):
    assert decode_tcvn3(encode_tcvn3(text)) == text


@given(viet_text)
def test_mixed_case_round_trips(text):
    assert decode_vni(encode_vni(text)) == text
    assert decode_tcvn3(encode_tcvn3(text)).lower() == text.lower()


@given(viet_text)
def test_to_cp1258_form_round_trips(text):
    raw = to_cp1258_form(text).encode("cp1258")
    assert unicodedata.normalize("NFC", raw.decode("cp1258")) == text


def test_to_cp1258_form_covers_every_letter():
    letters = "".join(sorted(VIETNAMESE_LETTERS))
    form = to_cp1258_form(letters)
    assert unicodedata.normalize("NFC", form.encode("cp1258").decode("cp1258")) == letters
    assert to_cp1258_form("Ấn") == "Â\u0301n"
    assert to_cp1258_form(nfd("Đức")) == "Đư\u0301c"


def test_polars_replace_many_needs_leftmost_for_overlaps():
    # The reason decode_vni_expr passes leftmost=True with the longest patterns first.
    df = pl.DataFrame({"x": ["ôù"]})
    loose = df.select(pl.col("x").str.replace_many(["ôù", "ô"], ["ớ", "ơ"])).item()
    assert loose == "ơù"
    assert column(["ôù"], decode_vni_expr) == ["ớ"]


def test_exprs_match_scalars_on_names():
    values = (
        MANY_NAMES
        + [encode_tcvn3(n) for n in MANY_NAMES]
        + [encode_vni(n) for n in MANY_NAMES]
        + [encode_vni(n.upper()) for n in MANY_NAMES]
        + [s for pair in TCVN3_SEEN + VNI_SEEN for s in pair]
    )
    assert column(values, decode_tcvn3_expr) == [decode_tcvn3(v) for v in values]
    assert column(values, decode_vni_expr) == [decode_vni(v) for v in values]
    assert column(values, tcvn3_score_expr) == [tcvn3_score(v) for v in values]
    assert column(values, vni_score_expr) == [vni_score(v) for v in values]


@given(st.lists(st.text(alphabet=[chr(c) for c in range(0x20, 0x100)] + UPPER + LOWER)))
def test_exprs_match_scalars_on_latin1_garbage(values):
    assert column(values, decode_tcvn3_expr) == [decode_tcvn3(v) for v in values]
    assert column(values, decode_vni_expr) == [decode_vni(v) for v in values]
    assert column(values, tcvn3_score_expr) == [tcvn3_score(v) for v in values]
    assert column(values, vni_score_expr) == [vni_score(v) for v in values]


def test_exprs_keep_nulls():
    df = pl.DataFrame({"x": [None, "Hµ"]}, schema={"x": pl.String})
    assert df.select(decode_tcvn3_expr(pl.col("x"))).to_series().to_list() == [None, "Hà"]


@pytest.mark.parametrize("name", MANY_NAMES + [n for n, _, _ in NAMES])
def test_detection_never_points_the_wrong_way(name):
    for unicode_form in (name, nfd(name), name.upper(), name.lower()):
        assert not looks_like_tcvn3(unicode_form)
        assert not looks_like_vni(unicode_form)
    assert not looks_like_vni(encode_tcvn3(name))
    for vni in (encode_vni(name), encode_vni(name.upper())):
        assert not looks_like_tcvn3(vni)


def test_detection_finds_most_single_names():
    # Short values may carry no evidence ("Vò Ngäc Thuû" is all Latin-1 lowercase letters).
    tcvn3 = [looks_like_tcvn3(encode_tcvn3(n)) for n in MANY_NAMES]
    vni = [looks_like_vni(encode_vni(n)) for n in MANY_NAMES]
    assert sum(tcvn3) / len(tcvn3) > 0.95
    assert all(vni)


@pytest.mark.parametrize(
    ("encode", "tcvn3_wins"), [(encode_tcvn3, True), (encode_vni, False), (str, None)]
)
def test_detection_by_column(encode, tcvn3_wins):
    df = pl.DataFrame({"x": [encode(n) for n in MANY_NAMES]})
    scores = [
        tcvn3_score_expr(pl.col("x")).alias("tcvn3"),
        vni_score_expr(pl.col("x")).alias("vni"),
    ]
    tcvn3, vni = df.select([s.sum() for s in scores]).row(0)
    if tcvn3_wins is None:
        assert tcvn3 == vni == 0
    else:
        assert (tcvn3 > 10 * vni) if tcvn3_wins else (vni > 10 * tcvn3)


@pytest.mark.parametrize(
    ("text", "tcvn3", "vni"),
    [
        ("Ông Ích Khiêm", False, False),  # capital Ô of Unicode, word-initial
        ("NguyÔn", True, False),  # ễ of TCVN3 after a lowercase letter
        ("YÕn", True, False),  # Yến: "YÕ" would be VNI Ỹ, which never starts a longer word
        ("Ăn Ùng", False, False),
        ("AÊn UØng", False, True),  # VNI "Ăn Ùng": capital modifiers after A and U
        ("Hoà Khoá Hoãn", False, False),  # old-style tone placement looks like VNI "oà"
        ("Uû ban", False, False),  # TCVN3 "Uỷ" looks like VNI "uû" (ủ): no evidence either way
        ("Ñình", False, True),  # VNI Đ at the start of a word
        ("CÔNG", False, False),  # Unicode "CÔNG" or VNI "CƠNG": cannot tell
        ("", False, False),
    ],
)
def test_detection_edge_cases(text, tcvn3, vni):
    assert looks_like_tcvn3(text) is tcvn3
    assert looks_like_vni(text) is vni


@pytest.mark.parametrize(
    ("seen", "text"),
    [
        ("Nguyá»…n", "Nguyễn"),
        ("Tráº§n VÄƒn Ä\x90á»©c", "Trần Văn Đức"),  # Đ is C4 90: 0x90 is undefined in cp1252
        ("Há»\x8d", "Họ"),
        ("NgÆ°á»\x9di", "Người"),
    ],
)
def test_fix_utf8_as_cp1252(seen, text):
    assert as_misread_utf8(text) == seen
    assert fix_utf8_as_cp1252(seen) == text


@given(viet_text)
def test_fix_utf8_as_cp1252_inverts_the_misreading_and_spares_good_text(text):
    assert fix_utf8_as_cp1252(as_misread_utf8(text)) == text
    assert fix_utf8_as_cp1252(text) == text


def test_fix_utf8_as_cp1252_spares_legacy_encodings():
    # Random TCVN3 can happen to be valid UTF-8 ("ầà" is C7 B5), real names are not.
    for name in MANY_NAMES:
        for legacy in (encode_tcvn3(name), encode_vni(name), encode_vni(name.upper())):
            assert fix_utf8_as_cp1252(legacy) == legacy


@pytest.mark.parametrize(
    ("text", "repaired"),
    [
        ("  Nguyễn  Văn\tAn ", "Nguyễn Văn An"),
        ("Đinh\u200bVân\u00a0Hạnh\ufeff", "Đinh Vân Hạnh"),  # a zero-width space, no-break space
        ("Đinh \u200bVân", "Đinh Vân"),
        ("Nguye\u0302\u0303n", "Nguyễn"),  # decomposed: composed
        ("Nguyá»…n", "Nguyễn"),
        ("\u00d0ặng \u0189ức", "Đặng Đức"),  # look-alikes of Đ, at the start of a syllable
        ("GU\u00d0RÚN", "GU\u00d0RÚN"),  # an Icelandic eth inside a word stays
        ("   ", None),
        ("", None),
        (None, None),
    ],
)
def test_repair_text_composes_single_spaces_and_leaves_nothing_empty(text, repaired):
    values = pl.DataFrame({"v": [text]}, schema={"v": pl.String})
    assert values.select(repair_text(pl.col("v"))).item() == repaired
