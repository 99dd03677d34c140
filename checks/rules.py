"""Domain rules as data: an id, a severity and a message, and a polars expression that finds
the rows breaking the rule.

Rules read the delivered text (with lineage), so a rule can tell "no date given" from
"a date that is no real day". The same ids appear in quarantine reasons, check metadata and
the report. "quarantine" rules follow the contract's "What is rejected" section; everything
else is a "flag" that stays on the row.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import polars as pl

from dancu import parse
from dancu.contract import EXTRACT_DATE, FILE_NAME, RECORD_ID, Source

Severity = Literal["quarantine", "flag"]

# The name that must be present for a record to be about anyone at all.
REQUIRED_NAMES = {
    "dan_cu": ("full_name",),
    "bhxh": ("full_name",),
    "y_te": ("full_name",),
    "khai_sinh": ("child_name",),
    "khai_tu": ("full_name",),
    "ket_hon": ("husband_name", "wife_name"),
}
# The personal id of the record's own subject (the other ids name parents or spouses).
SUBJECT_ID = {
    "dan_cu": "national_id",
    "bhxh": "national_id",
    "y_te": "national_id",
    "khai_sinh": "child_national_id",
    "khai_tu": "national_id",
}


def date_columns(source: Source) -> list[str]:
    return [c for c in source.column_names if c.endswith("_date")]


def id_columns(source: Source) -> list[str]:
    return [c for c in source.column_names if c.endswith("national_id")]


def in_excel_file() -> pl.Expr:
    """Excel date serials are only believed in cells of XLSX files."""
    return pl.col(FILE_NAME).str.ends_with(".xlsx")


def _any(exprs: list[pl.Expr]) -> pl.Expr:
    return pl.any_horizontal(exprs) if exprs else pl.lit(False)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    message: str
    violated: Callable[[Source], pl.Expr]
    applies: Callable[[Source], bool] = lambda source: True


def _record_id_missing(source: Source) -> pl.Expr:
    return parse.clean_text(pl.col(RECORD_ID)).is_null()


def _record_id_repeated(source: Source) -> pl.Expr:
    # The first row of a record id in a file stands; later ones in the same file cannot.
    return pl.int_range(pl.len()).over(FILE_NAME, RECORD_ID) > 0


def _name_empty(source: Source) -> pl.Expr:
    return _any([parse.clean_name(pl.col(c)).is_null() for c in REQUIRED_NAMES[source.name]])


def _date_impossible(source: Source) -> pl.Expr:
    return _any(
        [parse.date_is_impossible(pl.col(c), in_excel_file()) for c in date_columns(source)]
    )


def _date_in_future(source: Source) -> pl.Expr:
    extract_year = pl.col(EXTRACT_DATE).dt.year()
    return _any(
        [
            (parse.parse_date(pl.col(c), in_excel_file()) > pl.col(EXTRACT_DATE))
            | (parse.parse_year(pl.col(c), in_excel_file()) > extract_year)
            for c in date_columns(source)
        ]
    ).fill_null(False)


def _id_has_letters(source: Source) -> pl.Expr:
    return _any([parse.has_non_id_characters(pl.col(c)) for c in id_columns(source)])


def _death_before_birth(source: Source) -> pl.Expr:
    birth = parse.parse_date(pl.col("birth_date"))
    death = parse.parse_date(pl.col("death_date"))
    birth_year = parse.parse_year(pl.col("birth_date"))
    return ((death < birth) | (death.dt.year() < birth_year)).fill_null(False)


def _subject_id_missing(source: Source) -> pl.Expr:
    return parse.clean_text(pl.col(SUBJECT_ID[source.name])).is_null()


def _subject_id_malformed(source: Source) -> pl.Expr:
    column = pl.col(SUBJECT_ID[source.name])
    written = parse.clean_text(column).is_not_null()
    return written & parse.national_id(column).is_null() & ~parse.has_non_id_characters(column)


def _sex_unknown(source: Source) -> pl.Expr:
    return parse.sex(pl.col("sex")).is_null()


RULES: tuple[Rule, ...] = (
    Rule("record_id.missing", "quarantine", "the record id is empty", _record_id_missing),
    Rule(
        "record_id.repeated_in_extract",
        "quarantine",
        "the record id appears earlier in the same extract",
        _record_id_repeated,
    ),
    Rule("name.empty", "quarantine", "the name is empty", _name_empty),
    Rule("date.impossible", "quarantine", "a date is not a real day", _date_impossible),
    Rule("date.future", "quarantine", "a date lies after the extract date", _date_in_future),
    Rule(
        "id.non_digit",
        "quarantine",
        "a personal id holds characters other than digits and separators",
        _id_has_letters,
    ),
    Rule(
        "date.death_before_birth",
        "quarantine",
        "the death precedes the birth",
        _death_before_birth,
        applies=lambda source: source.name == "khai_tu",
    ),
    Rule(
        "id.missing",
        "flag",
        "no personal id",
        _subject_id_missing,
        applies=lambda source: source.name in SUBJECT_ID,
    ),
    Rule(
        "id.malformed",
        "flag",
        "the personal id is not 12 digits",
        _subject_id_malformed,
        applies=lambda source: source.name in SUBJECT_ID,
    ),
    Rule(
        "sex.unknown",
        "flag",
        "sex is missing or not Nam/Nữ",
        _sex_unknown,
        applies=lambda source: "sex" in source.column_names,
    ),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}


def rules_for(source: Source) -> list[Rule]:
    return [rule for rule in RULES if rule.applies(source)]


def reasons(source: Source, severity: Severity) -> pl.Expr:
    """The list of "rule.id: message" of the rules of one severity that the row breaks."""
    hits = [
        pl.when(rule.violated(source)).then(pl.lit(f"{rule.id}: {rule.message}"))
        for rule in rules_for(source)
        if rule.severity == severity
    ]
    if not hits:
        return pl.lit([], dtype=pl.List(pl.String))
    return pl.concat_list(hits).list.drop_nulls()
