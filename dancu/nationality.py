"""Nationalities as ISO 3166-1 alpha-3 codes, from whatever a source writes in `Quốc tịch`.

Sources write a Vietnamese name (`Hàn Quốc`, `Mỹ`, `Đài Loan (Trung Quốc)`), an English name or
demonym (`Korea, Republic of`, `Korean`), an ISO alpha-2 or alpha-3 code (`KR`, `KOR`) or an ICAO
code from a passport's machine-readable zone (`D`), in any case, with or without diacritics or
hyphens (`Cam-pu-chia`). Two nationalities are separated by `,` or `;`.

The country list and its English names come from `pycountry` (ISO 3166-1, with Debian's
Vietnamese translations); the tables below add what it lacks: colloquial Vietnamese names,
demonyms, and the ICAO codes that are not ISO codes.

ICAO codes that differ from ISO, and what they become here:

- `D` (Germany) -> `DEU`.
- `GBD`, `GBN`, `GBO`, `GBP`, `GBS` (British overseas territories citizen, British national
  (overseas), British overseas citizen, British protected person, British subject) -> `GBR`:
  they are classes of British nationality, all of them held from the United Kingdom.
- `RKS` (Kosovo, which ISO 3166-1 does not list) -> `XKX`, the user-assigned code the EU and
  CLDR use (`XK`); it is kept as a nationality although pycountry does not know it.
- `XXA` (stateless), `XXB`, `XXC` (refugees), `XXX` (unspecified nationality) are kept as they
  are (ISO reserves `XAA`-`XZZ` for such uses); Vietnamese `Không quốc tịch` gives `XXA` and
  `Chưa xác định` (undetermined, the holders of an identity certificate) gives `XXX`. They are
  statements, not errors: `unknown_nationality` is false for them. `NO_COUNTRY` lists them for
  a consumer that wants countries only.
- `UNO`, `UNA`, `UNK` (United Nations staff and agencies), `EUE` (European Union), `XOM`
  (Sovereign Military Order of Malta), `XPO` (Interpol) issue documents but confer no
  nationality: they give no code, and `unknown_nationality` is true.

One ambiguity is settled by case: a value of one to three capital ASCII letters is read as a
code first (`MY` Malaysia, `NGA` Nigeria, `AO` Angola, `BI` Burundi), anything else as a name
first (`Mỹ`, `My`, `my` the United States; `Nga` Russia; `Áo` Austria; `Bỉ` Belgium). A source
that writes Vietnamese names in capitals without diacritics (`NGA` for Russia) is read wrongly
on these four.
"""

import gettext
from collections.abc import Callable

import polars as pl
import pycountry

from dancu.text import on_distinct

NO_COUNTRY = ("XXA", "XXB", "XXC", "XXX")
KOSOVO = "XKX"

# ICAO Doc 9303 codes (and near-codes in common use) that are not the ISO alpha-2/alpha-3 code.
ICAO_CODES = {
    "D": "DEU",
    "GBD": "GBR", "GBN": "GBR", "GBO": "GBR", "GBP": "GBR", "GBS": "GBR", "UK": "GBR",
    "RKS": KOSOVO, "XK": KOSOVO, "XKX": KOSOVO,
    **{code: code for code in NO_COUNTRY},
}  # fmt: skip

# Vietnamese names (official, colloquial, transliterated, older), English names missing from
# ISO's list, and demonyms: the countries with many residents in Vietnam or many marriages with
# Vietnamese citizens first, then their neighbours. Each spelling also matches without
# diacritics, in any case, with or without spaces and hyphens.
NAMES = {
    "VNM": ("Việt Nam", "Vietnam", "Vietnamese", "CHXHCN Việt Nam",
            "Cộng hòa xã hội chủ nghĩa Việt Nam"),
    "KOR": ("Hàn Quốc", "Nam Hàn", "Đại Hàn", "Đại Hàn Dân Quốc", "Cộng hòa Hàn Quốc",
            "Nam Triều Tiên", "South Korea", "Korea", "Korea (South)", "Republic of Korea",
            "Korean", "ROK"),
    "PRK": ("Triều Tiên", "Bắc Triều Tiên", "Bắc Hàn", "CHDCND Triều Tiên",
            "Cộng hòa Dân chủ Nhân dân Triều Tiên", "North Korea", "Korea (North)", "DPRK"),
    "CHN": ("Trung Quốc", "Trung Hoa", "Cộng hòa Nhân dân Trung Hoa", "CHND Trung Hoa",
            "Chinese", "PRC", "China"),
    "TWN": ("Đài Loan", "Đài Loan (Trung Quốc)", "Đài Loan Trung Quốc", "Trung Quốc (Đài Loan)",
            "Trung Hoa Dân Quốc", "Taiwan", "Taiwanese", "Taiwan (China)", "Chinese Taipei",
            "Republic of China"),
    "HKG": ("Hồng Kông", "Hồng Công", "Hương Cảng", "Hồng Kông (Trung Quốc)", "Hong Kong (China)",
            "Hongkong"),
    "MAC": ("Ma Cao", "Ma Cao (Trung Quốc)", "Áo Môn", "Macau", "Macao (China)"),
    "JPN": ("Nhật Bản", "Nhật", "Japanese"),
    "USA": ("Hoa Kỳ", "Hoa Kì", "Mỹ", "Mĩ", "Hợp chủng quốc Hoa Kỳ", "Hợp chúng quốc Hoa Kỳ",
            "United States", "United States of America", "America", "American", "U.S.A."),
    "FRA": ("Pháp", "Cộng hòa Pháp", "French"),
    "DEU": ("Đức", "CHLB Đức", "Cộng hòa Liên bang Đức", "German", "Deutschland"),
    "GBR": ("Anh", "Anh Quốc", "Vương quốc Anh", "Liên hiệp Anh", "Liên hiệp Vương quốc Anh",
            "Vương quốc Liên hiệp Anh và Bắc Ireland", "Great Britain", "Britain", "British",
            "England", "Scotland", "Wales", "Northern Ireland"),
    "AUS": ("Úc", "Ô-xtrây-li-a", "Ốt-xtrây-li-a", "Australian"),
    "RUS": ("Nga", "Liên bang Nga", "Russia", "Russian"),
    "LAO": ("Lào", "CHDCND Lào", "Cộng hòa Dân chủ Nhân dân Lào", "Laos", "Laotian"),
    "KHM": ("Campuchia", "Cam-pu-chia", "Căm-pu-chia", "Căm Bốt", "Vương quốc Campuchia",
            "Kampuchea", "Cambodian"),
    "THA": ("Thái Lan", "Vương quốc Thái Lan", "Thai"),
    "SGP": ("Xin-ga-po", "Xinh-ga-po", "Singaporean"),
    "MYS": ("Ma-lai-xi-a", "Mã Lai", "Malaysian"),
    "IDN": ("In-đô-nê-xi-a", "Nam Dương", "Indonesian"),
    "PHL": ("Phi-líp-pin", "Philippin", "Phi Luật Tân", "Philippine", "Filipino"),
    "MMR": ("Mi-an-ma", "Miến Điện", "Burma"),
    "BRN": ("Bru-nây", "Brunei"),
    "TLS": ("Đông Ti-mo", "Đông Timor", "East Timor"),
    "IND": ("Ấn Độ", "Indian"),
    "BGD": ("Băng-la-đét", "Bangladeshi"),
    "PAK": ("Pa-ki-xtan",),
    "NPL": ("Nê-pan",),
    "LKA": ("Xri Lan-ca",),
    "MNG": ("Mông Cổ", "Mongolian"),
    "KAZ": ("Ca-dắc-xtan",),
    "UZB": ("U-dơ-bê-ki-xtan",),
    "CAN": ("Ca-na-đa", "Gia Nã Đại", "Canadian"),
    "NZL": ("Niu Di-lân", "Tân Tây Lan", "New Zealander"),
    "ITA": ("Ý", "Italia", "I-ta-li-a", "Italian"),
    "ESP": ("Tây Ban Nha", "Spanish"),
    "PRT": ("Bồ Đào Nha", "Portuguese"),
    "NLD": ("Hà Lan", "Holland", "Dutch"),
    "BEL": ("Bỉ", "Belgian"),
    "CHE": ("Thụy Sĩ", "Thụy Sỹ", "Swiss"),
    "AUT": ("Áo", "Austrian"),
    "SWE": ("Thụy Điển", "Swedish"),
    "NOR": ("Na Uy", "Norwegian"),
    "DNK": ("Đan Mạch", "Danish"),
    "FIN": ("Phần Lan", "Finnish"),
    "IRL": ("Ai-len", "Irish"),
    "GRC": ("Hy Lạp", "Greek"),
    "POL": ("Ba Lan", "Polish"),
    "CZE": ("Séc", "Cộng hòa Séc", "Czech Republic", "Czech"),
    "SVK": ("Xlô-va-ki-a",),
    "HUN": ("Hung-ga-ri", "Hungari", "Hungarian"),
    "ROU": ("Ru-ma-ni", "Rumani", "Romanian"),
    "BGR": ("Bun-ga-ri", "Bungari", "Bulgarian"),
    "UKR": ("U-crai-na", "Ukraina", "Ucraina", "Ukrainian"),
    "BLR": ("Bê-la-rút", "Belarusian"),
    "TUR": ("Thổ Nhĩ Kỳ", "Turkey", "Turkish"),
    "ISR": ("I-xra-en", "Israeli"),
    "SAU": ("Ả Rập Xê Út", "Ả Rập Saudi", "Saudi"),
    "ARE": ("Các Tiểu vương quốc Ả Rập Thống nhất", "UAE"),
    "IRN": ("I-ran", "Iran"),
    "EGY": ("Ai Cập", "Egyptian"),
    "ZAF": ("Nam Phi",),
    "NGA": ("Ni-giê-ri-a", "Nigerian"),
    "BRA": ("Bra-xin", "Braxin", "Brazilian"),
    "ARG": ("Ác-hen-ti-na",),
    "MEX": ("Mê-hi-cô", "Mê-xi-cô", "Mexican"),
    "CUB": ("Cu Ba", "Cuban"),
    "XXA": ("Không quốc tịch", "Không có quốc tịch", "Người không quốc tịch", "Stateless"),
    "XXX": ("Chưa xác định", "Chưa xác định quốc tịch", "Chưa xác định được quốc tịch",
            "Không xác định", "Unspecified"),
}  # fmt: skip

# Names whose comma does not separate two nationalities, beside ISO's ("Korea, Republic of").
NAMES_WITH_COMMA = {
    "TWN": ("Đài Loan, Trung Quốc", "Taiwan, China"),
    "HKG": ("Hồng Kông, Trung Quốc", "Hong Kong, China"),
    "MAC": ("Ma Cao, Trung Quốc", "Macao, China"),
}
_SEPARATORS = r"\s*[,;]\s*"
# Each piece of a value is boxed in bars (`|Hàn Quốc||Việt Nam|`) so that a name with a comma
# is matched only as whole pieces: `South Korea, Republic of Korea` holds no `Korea, Republic of`.
_BAR = "|"
# One to three capital letters, as a code is written; see the module docstring.
_CODE_SHAPE = r"^[A-Z]{1,3}$"
_CODE_MARK = "#"


def _bare(text: pl.Expr) -> pl.Expr:
    """Text without diacritics, case kept ("Đài Loan" -> "Dai Loan")."""
    return (
        text.str.normalize("NFD")
        .str.replace_all(r"\p{Mn}", "")
        .str.replace_all("đ", "d", literal=True)
        .str.replace_all("Đ", "D", literal=True)
    )


def _pieces_as_written(text: pl.Expr) -> pl.Expr:
    """The pieces a value is separated into by `,` and `;`, as written: a list."""
    return text.str.strip_chars().str.replace_all(_SEPARATORS, _BAR).str.split(_BAR)


def _boxed(pieces: pl.Expr) -> pl.Expr:
    """A list of pieces as bare lowercase text, each piece between bars."""
    return _bare(_BAR + pieces.list.join(_BAR * 2) + _BAR).str.to_lowercase()


def _key(text: pl.Expr) -> pl.Expr:
    """The lookup key: bare, lowercase, letters and digits only (and the code mark)."""
    return _bare(text).str.to_lowercase().str.replace_all(r"[^a-z0-9#]", "")


def _on_strings(transform: Callable[[pl.Expr], pl.Expr], texts: list[str]) -> list[str]:
    frame = pl.DataFrame({"v": texts}, schema={"v": pl.String})
    return frame.select(transform(pl.col("v"))).to_series().to_list()


def _spellings() -> dict[str, str]:
    """Each name of a country -> its alpha-3: ISO's English names, Debian's Vietnamese
    translation of them, and the tables above."""
    vietnamese = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["vi"])
    spellings: dict[str, str] = {}
    for country in pycountry.countries:
        english = (getattr(country, f, None) for f in ("name", "official_name", "common_name"))
        for name in (*english, vietnamese.gettext(country.name)):
            if name:
                spellings[name] = country.alpha_3
    for table in (NAMES, NAMES_WITH_COMMA):
        spellings.update({s: code for code, names in table.items() for s in names})
    return spellings


def _lookup_table(spellings: dict[str, str]) -> dict[str, str]:
    """Key -> alpha-3. A plain key reads names before codes; a key marked as code-shaped reads
    codes before names."""
    codes = {key.lower(): alpha_3 for key, alpha_3 in ICAO_CODES.items()}
    for country in pycountry.countries:
        codes[country.alpha_2.lower()] = country.alpha_3
        codes[country.alpha_3.lower()] = country.alpha_3
    names = dict(zip(_on_strings(_key, list(spellings)), spellings.values(), strict=True))
    codes_first = {_CODE_MARK + key: code for key, code in {**names, **codes}.items()}
    return {**codes, **names, **codes_first}


def _commas_kept(spellings: dict[str, str]) -> dict[str, str]:
    """Each name holding a comma, boxed as its pieces -> boxed as one piece."""
    with_comma = [name for name in spellings if "," in name]
    boxed = _on_strings(lambda v: _boxed(_pieces_as_written(v)), with_comma)
    return {name: name.replace(_BAR * 2, " ") for name in boxed}


_SPELLINGS = _spellings()
_LOOKUP = _lookup_table(_SPELLINGS)
_COMMAS_KEPT = _commas_kept(_SPELLINGS)


def _pieces(text: pl.Expr) -> pl.Expr:
    """The lookup key of each nationality a value names: a list, `#` before code-shaped ones."""
    # Mark code-shaped pieces as written: folding loses what tells `MY` from `Mỹ` and `My`.
    piece = pl.element()
    code_marked = pl.when(piece.str.contains(_CODE_SHAPE)).then(_CODE_MARK + piece).otherwise(piece)
    boxed = _boxed(_pieces_as_written(text).list.eval(code_marked))
    kept = boxed.str.replace_many(list(_COMMAS_KEPT), list(_COMMAS_KEPT.values()))
    keys = kept.str.strip_chars(_BAR).str.split(_BAR * 2).list.eval(_key(pl.element()))
    return keys.list.eval(pl.element().filter(pl.element() != ""))


def _read(text: pl.Expr) -> pl.Expr:
    """A struct of the codes a value names (`codes`) and whether some part named none
    (`unknown`)."""
    keys = _pieces(text)
    codes = keys.list.eval(pl.element().replace_strict(_LOOKUP, default=None))
    return pl.struct(
        codes.list.drop_nulls().list.unique(maintain_order=True).fill_null([]).alias("codes"),
        codes.list.eval(pl.element().is_null()).list.any().fill_null(False).alias("unknown"),
    )


def nationalities(text: pl.Expr) -> pl.Expr:
    """The ISO 3166-1 alpha-3 codes a `Quốc tịch` value names, in the order written, without
    repeats: `Hàn Quốc; Việt Nam` -> [KOR, VNM]. Empty for an empty value; parts that name no
    country are left out (see `unknown_nationality`). Computed once per distinct value."""
    return on_distinct(text, lambda v: _read(v).struct.field("codes"))


def unknown_nationality(text: pl.Expr) -> pl.Expr:
    """True where a written nationality (or one of two) names no country nor a recognised
    status (stateless, unspecified): the rule `nationality.unknown`. False for an empty value."""
    return on_distinct(text, lambda v: _read(v).struct.field("unknown"))
