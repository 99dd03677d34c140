"""Personal identifiers as the issuing agencies build them, vectorised over whole populations.

- Personal id (CCCD) `PPP G YY NNNNNN`: birth-registration province, sex and century, the last two
  digits of the birth year, and a serial (unique within its PPP G YY group).
- Old id (CMND): 9 digits, a 2-digit issuing-province prefix and a serial; not unique nationally.
- Social-insurance code (BHXH): 10 digits, "01" (Hà Nội) then a unique 8-digit serial.
- Health-insurance card (BHYT): 2-letter beneficiary group, benefit level digit, 2-digit province,
  then the holder's social-insurance code: 15 characters.
- Phones: canonical digits, mobile `0` + 9 digits or Hà Nội landline `024` + 8 digits.
"""

import numpy as np
import polars as pl

from dancu.generate.rng import choice, unique_serials

HANOI_INSURANCE_PROVINCE = "01"

# Mobile prefixes of the Vietnamese networks (Viettel 03x/09x, Vina 08x/09x, Mobi 07x/09x, ...).
MOBILE_PREFIXES = (
    "096", "097", "098", "086", "032", "033", "034", "035", "036", "037", "038", "039",
    "091", "094", "088", "081", "082", "083", "084", "085", "090", "093", "089", "070",
    "076", "077", "078", "079", "092", "056", "058", "099", "059", "052",
)  # fmt: skip
LANDLINE_SHARE = 0.03

# Beneficiary groups printed on health-insurance cards, with their usual benefit level.
CARD_GROUPS = {
    "TE": "1", "HS": "4", "SV": "4", "DN": "4", "HC": "4", "GD": "4", "HN": "2", "CN": "2",
    "HT": "3", "BT": "2", "CB": "1",
}  # fmt: skip
# The group a card shows, by the holder's age band [from, to): children, pupils, students and
# young workers, working age, retirement.
CARD_GROUP_SHARES_BY_AGE = (
    (0, 6, {"TE": 1.0}),
    (6, 18, {"HS": 0.9, "GD": 0.1}),
    (18, 23, {"SV": 0.45, "DN": 0.3, "GD": 0.25}),
    (23, 60, {"DN": 0.55, "HC": 0.12, "GD": 0.25, "HN": 0.05, "CN": 0.03}),
    (60, np.inf, {"HT": 0.5, "GD": 0.28, "BT": 0.15, "CB": 0.07}),
)


def century_digit(birth_year: np.ndarray, female: np.ndarray) -> np.ndarray:
    """Digit 4 of the personal id: even for men, +2 per century from 1900; 8/9 for the 1800s."""
    century = np.where(birth_year < 1900, 8, 2 * ((birth_year - 1900) // 100))
    return century + female.astype(np.int64)


def national_ids(
    rng: np.random.Generator,
    province: np.ndarray,
    birth_year: np.ndarray,
    female: np.ndarray,
    share: tuple[int, int] = (0, 1),
) -> pl.Series:
    """12-digit personal ids; `province` holds the 3-digit codes as integers (1 for "001"); the
    serials in the `share` of their range (`rng.unique_serials`)."""
    prefix = (province * 10 + century_digit(birth_year, female)) * 100 + birth_year % 100
    serial = unique_serials(rng, prefix, 1_000_000, share)
    return pl.Series(prefix * 1_000_000 + serial).cast(pl.String).str.zfill(12)


def cmnd_numbers(rng: np.random.Generator, province: np.ndarray) -> pl.Series:
    """9-digit old ids; the issuing prefix reuses the province code's last two digits."""
    number = (province % 100) * 10_000_000 + rng.integers(0, 10_000_000, size=len(province))
    return pl.Series(number).cast(pl.String).str.zfill(9)


def bhxh_codes(rng: np.random.Generator, size: int, share: tuple[int, int] = (0, 1)) -> pl.Series:
    """Unique 10-digit social-insurance codes issued in Hà Nội."""
    serial = unique_serials(rng, np.zeros(size, dtype=np.int64), 100_000_000, share)
    return pl.Series(100_000_000 + serial).cast(pl.String).str.zfill(10)


def card_groups(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """The beneficiary group a person's card would show, by age band (ages are never negative)."""
    groups = np.empty(len(age), dtype=object)
    for low, high, shares in CARD_GROUP_SHARES_BY_AGE:
        mask = (age >= low) & (age < high)
        labels = np.asarray(list(shares), dtype=object)
        groups[mask] = labels[choice(rng, list(shares.values()), int(mask.sum()))]
    return groups


def health_cards(groups: np.ndarray, bhxh: pl.Series) -> pl.Series:
    """15-character cards: group, benefit level, province, then the social-insurance code."""
    prefix = pl.Series(groups.astype(str)).replace_strict(
        {g: g + level + HANOI_INSURANCE_PROVINCE for g, level in CARD_GROUPS.items()}
    )
    return prefix + bhxh


def phone_numbers(rng: np.random.Generator, size: int) -> pl.Series:
    """Canonical phone digits: mostly mobiles, a few Hà Nội landlines."""
    mobile_prefix = np.asarray(MOBILE_PREFIXES)[rng.integers(0, len(MOBILE_PREFIXES), size=size)]
    mobile = pl.Series(mobile_prefix) + pl.Series(rng.integers(0, 10_000_000, size=size)).cast(
        pl.String
    ).str.zfill(7)
    landline = "024" + pl.Series(rng.integers(30_000_000, 40_000_000, size=size)).cast(pl.String)
    is_landline = pl.Series(rng.random(size) < LANDLINE_SHARE)
    return pl.select(pl.when(is_landline).then(landline).otherwise(mobile)).to_series()
