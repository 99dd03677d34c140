"""Masking personal data for logs, metadata and reports: enough to recognise, not to identify."""

import re

import polars as pl

MAX_MASKED = 64  # ids are far shorter; longer text is cut, which hides it all the same


def mask_id(text: pl.Expr, keep_start: int = 3, keep_end: int = 2) -> pl.Expr:
    """ "001088012345" -> "001*******45": the province stays readable, the person does not."""
    hidden = text.str.len_chars().cast(pl.Int64) - keep_start - keep_end
    stars = pl.lit("*" * MAX_MASKED).str.slice(0, hidden)
    shown = pl.concat_str(text.str.slice(0, keep_start), stars, text.str.slice(-keep_end))
    # Too short to show any part safely: hide it whole.
    return pl.when(hidden > 0).then(shown).when(text.is_not_null()).then(pl.lit("***"))


def mask_name(text: pl.Expr) -> pl.Expr:
    """ "Nguyễn Thị Thu Hà" -> "N. T. T. H.": initials only."""
    return text.str.split(" ").list.eval(pl.element().str.slice(0, 1) + ".").list.join(" ")


def masked(value: str | None, kind: str = "id") -> str:
    """The scalar form, for the odd value in a message."""
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.String})
    expr = mask_name(pl.col("v")) if kind == "name" else mask_id(pl.col("v"))
    return frame.select(expr.alias("v")).item() or ""


_QUOTED = re.compile(r"""(["'])((?:(?!\1).){3,}?)\1""")
# Quoted text no person's value looks like, which an engineer needs to read: a column, rule or
# group name (words joined by `_` or `.`: no name is written so), an absolute path (the landing
# layout names no one), and the value given to a setting (`DANCU_MEMORY_LIMIT='lots'`).
_IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(?:[._][a-z0-9]+)+")
_PATH = re.compile(r"/[^/\s]+(?:/[^/\s]+)+/?")
_SETTING = re.compile(r"\bDANCU_[A-Z0-9_]+=$")
# Polars puts dtypes and columns in backticks (`str`, `birth_date`), and sometimes a value: one
# with a space or a letter outside ASCII is a name, not a dtype.
_BACKTICKED = re.compile(r"`([^`]*)`")
_NO_DTYPE = re.compile(r"\s|[^\x00-\x7F]")
# Six digits or more, each group of them parted by at most one space, dot or dash, as ids and
# phones are written ("001 088 012 345", "0912.345.678") and dates too.
_LONG_NUMBER = re.compile(r"\d(?:[ .\-]?\d){5,}")


def mask_message(message: str) -> str:
    """An error message fit for a terminal or a log: quoted values, values in backticks and
    long numbers (ids, insurance codes, phones, dates) hidden, the rest kept so the error still
    says what went wrong (with the quoted names, paths and settings that no person's value
    looks like)."""
    unquoted = _BACKTICKED.sub(_masked_backticked, _QUOTED.sub(_masked_quoted, message))
    return _LONG_NUMBER.sub(lambda m: masked(m.group(), "id"), unquoted)


def _masked_quoted(found: re.Match) -> str:
    quote, text = found.groups()
    setting = _SETTING.search(found.string, 0, found.start())
    if setting or _IDENTIFIER.fullmatch(text) or _PATH.fullmatch(text):
        return found.group()
    return f"{quote}…{quote}"


def _masked_backticked(found: re.Match) -> str:
    return "`…`" if _NO_DTYPE.search(found.group(1)) else found.group()
