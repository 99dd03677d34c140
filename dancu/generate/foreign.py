"""Foreign persons as Vietnamese registrations write them: countries, names, passports, spellings.

Countries are those of Hà Nội's foreign-element births and marriages (Korea first, then China,
Taiwan, Japan, the United States and France) and Germany, whose ICAO code `D` differs from its
ISO codes. Names follow each country's order: Korean, Chinese, Taiwanese and Japanese family name
first, Western given name first. Chinese and Taiwanese names carry their Sino-Vietnamese reading
("Lý Tiểu Minh"), which Vietnamese clerks often write instead of the romanised one. A registration
writes a foreign name in one of the forms of `WRITTEN_FORM_SHARES`; a nationality in one of the
spellings of `SPELLING_SHARES`.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from dancu.generate.rng import choice

VIETNAM = "VNM"


@dataclass(frozen=True)
class Country:
    alpha3: str
    alpha2: str
    vietnamese: tuple[str, ...]  # the names Vietnamese clerks write, most common first
    english: str
    icao: str | None  # the ICAO code where it differs from alpha-3
    weight: float  # share among Hà Nội's foreign parties
    family_first: bool  # the name order of the country
    passport: str  # pattern: L a letter, D a digit, A either


COUNTRIES = (
    Country("KOR", "KR", ("Hàn Quốc",), "Korea, Republic of", None, 34.0, True, "LDDDDDDDD"),
    Country("CHN", "CN", ("Trung Quốc",), "China", None, 20.0, True, "LDDDDDDDD"),
    Country("TWN", "TW", ("Đài Loan (Trung Quốc)", "Đài Loan"), "Taiwan", None, 14.0, True,
            "DDDDDDDDD"),
    Country("JPN", "JP", ("Nhật Bản",), "Japan", None, 12.0, True, "LLDDDDDDD"),
    Country("USA", "US", ("Hoa Kỳ", "Mỹ"), "United States", None, 10.0, False, "DDDDDDDDD"),
    Country("FRA", "FR", ("Pháp",), "France", None, 7.0, False, "DDLLDDDDD"),
    Country("DEU", "DE", ("Đức", "CHLB Đức"), "Germany", "D", 3.0, False, "LAAAAAAAA"),
)  # fmt: skip
BY_CODE = {c.alpha3: c for c in COUNTRIES}
VIETNAM_SPELLINGS = ("Việt Nam", "Vietnam", "VNM", "VN")

# How a nationality is spelled: the Vietnamese name mostly, else English, ISO or ICAO codes.
SPELLING_SHARES = {"vietnamese": 0.62, "english": 0.12, "alpha3": 0.14, "alpha2": 0.06,
                   "icao": 0.06}  # fmt: skip
VIETNAM_SPELLING_SHARES = (0.9, 0.04, 0.04, 0.02)  # of VIETNAM_SPELLINGS
DUAL_SEPARATORS = (", ", "; ", ",", ";")

# How a registration writes a foreign name: as the passport prints it (capitals, family name
# first for every country), in the country's own order, or in the other order; a Chinese or
# Taiwanese name also in its Sino-Vietnamese reading.
WRITTEN_FORM_SHARES = {"passport": 0.45, "own_order": 0.3, "other_order": 0.15,
                       "vietnamese_reading": 0.1}  # fmt: skip
READING_SHARE_CHINESE = 0.4  # Chinese and Taiwanese names written in their Vietnamese reading

# Family names, given names (male, female): romanised, and for Chinese and Taiwanese names the
# Sino-Vietnamese reading of each syllable.
FAMILY_NAMES = {
    "KOR": ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han"),
    "JPN": ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
            "Kobayashi", "Kato"),
    "USA": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
            "Anderson", "Taylor"),
    "FRA": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Leroy", "Moreau"),
    "DEU": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"),
}  # fmt: skip
GIVEN_NAMES = {
    "KOR": (("Min Jun", "Ji Hoon", "Hyun Woo", "Dong Hyun", "Sung Min", "Young Ho", "Jae Won"),
            ("Seo Yeon", "Ji Woo", "Soo Jin", "Eun Ji", "Min Ji", "Ha Eun", "Yu Na")),
    "JPN": (("Hiroshi", "Takashi", "Kenji", "Daisuke", "Akira", "Yuki", "Kazuki"),
            ("Yuko", "Aiko", "Keiko", "Yumi", "Naoko", "Sakura", "Haruka")),
    "USA": (("John", "Michael", "David", "James", "Robert", "William", "Daniel"),
            ("Mary", "Jennifer", "Sarah", "Emily", "Jessica", "Anna", "Elizabeth")),
    "FRA": (("Jean", "Pierre", "Nicolas", "Thomas", "Julien", "Philippe", "Louis"),
            ("Marie", "Sophie", "Camille", "Julie", "Claire", "Léa", "Anne")),
    "DEU": (("Thomas", "Michael", "Andreas", "Stefan", "Lukas", "Jonas"),
            ("Anna", "Julia", "Katrin", "Sabine", "Laura", "Lena")),
}  # fmt: skip
# (romanised, Sino-Vietnamese) per country.
CHINESE_FAMILY_NAMES = {
    "CHN": (("Li", "Lý"), ("Wang", "Vương"), ("Zhang", "Trương"), ("Liu", "Lưu"),
            ("Chen", "Trần"), ("Yang", "Dương"), ("Huang", "Hoàng"), ("Zhao", "Triệu"),
            ("Wu", "Ngô"), ("Zhou", "Chu"), ("Lin", "Lâm"), ("Ma", "Mã")),
    "TWN": (("Chen", "Trần"), ("Lin", "Lâm"), ("Huang", "Hoàng"), ("Chang", "Trương"),
            ("Lee", "Lý"), ("Wang", "Vương"), ("Wu", "Ngô"), ("Liu", "Lưu"), ("Tsai", "Thái"),
            ("Yang", "Dương")),
}  # fmt: skip
CHINESE_GIVEN_NAMES = {
    "CHN": ((("Xiaoming", "Tiểu Minh"), ("Wei", "Vĩ"), ("Jun", "Tuấn"), ("Jie", "Kiệt"),
             ("Qiang", "Cường"), ("Hao", "Hạo"), ("Zhiwei", "Chí Vĩ")),
            (("Mei", "Mỹ"), ("Fang", "Phương"), ("Xiaohong", "Tiểu Hồng"), ("Ling", "Linh"),
             ("Yan", "Yến"), ("Hui", "Huệ"), ("Lili", "Lệ Lệ"))),
    "TWN": ((("Chia-Hao", "Gia Hạo"), ("Chih-Wei", "Chí Vĩ"), ("Chun-Hung", "Tuấn Hùng"),
             ("Kuan-Ting", "Quán Đình"), ("Yu-Hsiang", "Vũ Tường")),
            (("Mei-Ling", "Mỹ Linh"), ("Shu-Fen", "Thục Phân"), ("Yi-Chun", "Nghi Quân"),
             ("Hsiao-Wen", "Tiểu Văn"), ("Ya-Ting", "Nhã Đình"))),
}  # fmt: skip
# Given names a Vietnamese mother and a foreign father give a child: "Nguyễn Anna", "Kim Minh".
MIXED_GIVEN_NAMES = (("Daniel", "Leo", "Minh", "Ken", "Jun", "Louis"),
                     ("Anna", "Emma", "Yuna", "Mia", "Sophie", "Hana"))  # fmt: skip

PASSPORT_LENGTH = 9  # every pattern of `COUNTRIES`
PASSPORT_LETTERS = np.asarray(list("ABCDEFGHJKLMNPRSTUVWXYZ"))
PASSPORT_LABELS = ("Hộ chiếu", "HỘ CHIẾU", "Ho chieu", "hộ chiếu")
PASSPORT_LABEL_SHARES = (0.7, 0.15, 0.1, 0.05)


def draw_countries(rng: np.random.Generator, size: int) -> np.ndarray:
    return np.asarray([c.alpha3 for c in COUNTRIES])[
        choice(rng, [c.weight for c in COUNTRIES], size)
    ]


def _pick(rng: np.random.Generator, values: tuple, size: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.integers(0, len(values), size)]


def foreign_names(rng: np.random.Generator, country: np.ndarray, female: np.ndarray):
    """Family name, given name and Sino-Vietnamese reading (Chinese and Taiwanese only) per
    person, as polars Series."""
    size = len(country)
    family, given = np.empty(size, dtype=object), np.empty(size, dtype=object)
    reading = np.full(size, None, dtype=object)
    for code in BY_CODE:
        for is_female in (False, True):
            rows = np.flatnonzero((country == code) & (female == is_female))
            if code in CHINESE_FAMILY_NAMES:
                fam = _pick(rng, CHINESE_FAMILY_NAMES[code], len(rows))
                giv = _pick(rng, CHINESE_GIVEN_NAMES[code][is_female], len(rows))
                fam_pairs = np.asarray([tuple(p) for p in fam], dtype=object).reshape(-1, 2)
                giv_pairs = np.asarray([tuple(p) for p in giv], dtype=object).reshape(-1, 2)
                family[rows], given[rows] = fam_pairs[:, 0], giv_pairs[:, 0]
                reading[rows] = fam_pairs[:, 1] + " " + giv_pairs[:, 1]
            else:
                family[rows] = _pick(rng, FAMILY_NAMES[code], len(rows))
                given[rows] = _pick(rng, GIVEN_NAMES[code][is_female], len(rows))
    return (
        pl.Series(family.tolist(), dtype=pl.String),
        pl.Series(given.tolist(), dtype=pl.String),
        pl.Series(reading.tolist(), dtype=pl.String),
    )


def own_order(family: pl.Expr, given: pl.Expr, country: pl.Expr) -> pl.Expr:
    """The name in its country's order: "Kim Min Jun", "John Smith"."""
    family_first = country.is_in([c.alpha3 for c in COUNTRIES if c.family_first])
    return (
        pl.when(family_first)
        .then(pl.concat_str([family, given], separator=" "))
        .otherwise(pl.concat_str([given, family], separator=" "))
    )


def written_name(prefix: str, u: pl.Series) -> pl.Expr:
    """A foreign person's name (columns `<prefix>family_name`, `given_name`, `nationality_code`,
    `vietnamese_reading`) as one registration writes it, by the uniform draws `u`."""
    family, given = pl.col(prefix + "family_name"), pl.col(prefix + "given_name")
    country = pl.col(prefix + "nationality_code")
    reading = pl.col(prefix + "vietnamese_reading")
    own = own_order(family, given, country)
    other = own_order(
        family, given, pl.when(country == "USA").then(pl.lit("KOR")).otherwise(pl.lit("USA"))
    )
    passport = pl.concat_str([family, given], separator=" ").str.to_uppercase()
    shares = np.cumsum(list(WRITTEN_FORM_SHARES.values()))
    draw = pl.lit(u)
    chinese_reading = reading.is_not_null() & (draw < READING_SHARE_CHINESE)
    return (
        pl.when(chinese_reading)
        .then(reading)
        .when(draw < shares[0])
        .then(passport)
        .when(draw < shares[1])
        .then(own)
        .when(draw < shares[2])
        .then(other)
        .otherwise(pl.coalesce(reading, own))
    )


def passport_numbers(rng: np.random.Generator, country: np.ndarray) -> pl.Series:
    """Passport numbers in the pattern of each issuing country."""
    size = len(country)
    if size == 0:
        return pl.Series([], dtype=pl.String)
    pattern = pl.Series(country, dtype=pl.String).replace_strict(
        {c.alpha3: c.passport for c in COUNTRIES}
    )
    shape = (size, PASSPORT_LENGTH)
    letters = PASSPORT_LETTERS[rng.integers(0, len(PASSPORT_LETTERS), shape)]
    digits = rng.integers(0, 10, shape).astype(str)
    either = np.where(rng.random(shape) < 0.5, letters, digits)
    characters = []
    for at in range(PASSPORT_LENGTH):
        kind = pattern.str.slice(at, 1).to_numpy()
        chosen = np.where(
            kind == "L", letters[:, at], np.where(kind == "D", digits[:, at], either[:, at])
        )
        characters.append(pl.lit(pl.Series(chosen.tolist(), dtype=pl.String)))
    return pl.select(pl.concat_str(characters)).to_series().alias("passport_number")


def spell(code: str, kind: str, vietnamese_variant: int = 0) -> str:
    """One spelling of a country (alpha-3 `code`)."""
    if code == VIETNAM:
        return VIETNAM_SPELLINGS[{"vietnamese": 0, "english": 1, "alpha3": 2}.get(kind, 3)]
    country = BY_CODE[code]
    return {
        "vietnamese": country.vietnamese[vietnamese_variant % len(country.vietnamese)],
        "english": country.english,
        "alpha3": country.alpha3,
        "alpha2": country.alpha2,
        "icao": country.icao or country.alpha3,
    }[kind]


def nationality_text(rng: np.random.Generator, codes: pl.Series) -> pl.Series:
    """Each row's nationalities (a list of alpha-3 codes) written as a registration writes
    them: one spelling per country drawn from `SPELLING_SHARES`, two joined by `,` or `;`."""
    size = codes.len()
    kinds = np.asarray(list(SPELLING_SHARES))[choice(rng, list(SPELLING_SHARES.values()), size)]
    variant = rng.integers(0, 2, size)
    separator = np.asarray(DUAL_SEPARATORS)[rng.integers(0, len(DUAL_SEPARATORS), size)]
    table = {
        (code, kind, v): spell(code, kind, v)
        for code in (VIETNAM, *BY_CODE)
        for kind in SPELLING_SHARES
        for v in (0, 1)
    }
    lookup = {"|".join(map(str, key)): text for key, text in table.items()}
    frame = pl.DataFrame({"codes": codes, "kind": kinds, "variant": variant, "sep": separator})

    def spelled(at: int) -> pl.Expr:
        key = pl.concat_str(
            [pl.col("codes").list.get(at, null_on_oob=True), "kind", pl.col("variant")],
            separator="|",
        )
        return key.replace_strict(lookup, default=None)

    first, second = spelled(0), spelled(1)
    text = pl.when(second.is_null()).then(first).otherwise(first + pl.col("sep") + second)
    return frame.select(text.alias("nationality")).to_series()


def vietnamese_names(codes: pl.Series) -> pl.Series:
    """Nationalities as the register writes them: Vietnamese names joined by ", "."""
    table = {code: spell(code, "vietnamese") for code in (VIETNAM, *BY_CODE)}
    return codes.list.eval(pl.element().replace_strict(table)).list.join(", ").replace("", None)
