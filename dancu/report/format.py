"""Numbers and dates as a reader of each language writes them, and shares that never flatter.

A share is rounded down to two decimals, so a register with 11 unresolved records among 40,000
reads 99,97%, never 100%: the report exists to show what is left to do.
"""

import math
from datetime import date, datetime

import polars as pl

from dancu.report.labels import Language

SHARE_DECIMALS = 2
FULL = "full"
HIGH = "high"  # 95% to below 100%
MID = "mid"  # 80% to below 95%
LOW = "low"
STALE = "stale"
BANDS = (FULL, HIGH, MID, LOW, STALE)  # the legend's order
HIGH_FROM, MID_FROM = 0.95, 0.80


def _separators(text: str, language: Language) -> str:
    """Python writes 1,234.5; Vietnamese writes 1.234,5."""
    if language == "en":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def count(value: float | int | None, language: Language) -> str:
    if value is None:
        return "–"
    return _separators(f"{int(value):,}", language)


# Keeps 0.29 (stored as 0.28999...) at 29,00%, not 28,99%.
_FLOOR_EPSILON = 1e-6


def floored_percent(value: float) -> float:
    """The share in percent, rounded down to SHARE_DECIMALS; below 100 whenever value < 1."""
    scale = 10**SHARE_DECIMALS
    percent = math.floor(value * 100 * scale + _FLOOR_EPSILON) / scale
    if value < 1:
        percent = min(percent, 100 - 1 / scale)
    return percent


def floored_percents(values: pl.Expr, decimals: int) -> pl.Expr:
    """`floored_percent` over a column, to `decimals`."""
    scale = 10**decimals
    percent = (values * 100 * scale + _FLOOR_EPSILON).floor() / scale
    return pl.when(values < 1).then(percent.clip(upper_bound=100 - 1 / scale)).otherwise(percent)


def floored_share(value: float) -> float:
    """The share as the report shows it, as a fraction: 0.99997 is 0.9999, never 1."""
    return round(floored_percent(value) / 100, SHARE_DECIMALS + 2)


def share(value: float | None, language: Language) -> str:
    """ "99,97%"; exactly 1 reads "100%"."""
    if value is None:
        return "–"
    if value >= 1:
        return "100%"
    return _separators(f"{floored_percent(value):.{SHARE_DECIMALS}f}", language) + "%"


def axis_share(value: float, decimals: int, language: Language) -> str:
    """An axis tick: as many decimals as the axis' range needs."""
    if value >= 1:
        return "100%"
    return _separators(f"{value * 100:.{decimals}f}", language) + "%"


def band(value: float | None) -> str:
    """The colour a reader scans for; the legend explains each."""
    if value is None:
        return ""
    if value >= 1:
        return FULL
    return HIGH if value >= HIGH_FROM else MID if value >= MID_FROM else LOW


def day(value: date | datetime | None, language: Language) -> str:
    if value is None:
        return "–"
    return f"{value:%d/%m/%Y}" if language == "vi" else f"{value:%Y-%m-%d}"


def moment(value: datetime, language: Language) -> str:
    return f"{day(value, language)} {value:%H:%M}"


def share_change(value: float, language: Language, points: str) -> str:
    """A change of a share in percentage points, with its sign: "+0,03 điểm %"; a change too
    small for two decimals gets four, so that no listed change reads as zero."""
    decimals = SHARE_DECIMALS if abs(value * 100) >= 0.005 else 4
    return _separators(f"{value * 100:+.{decimals}f}", language) + f" {points}"


def count_change(value: float, language: Language) -> str:
    return _separators(f"{int(value):+,}", language)
