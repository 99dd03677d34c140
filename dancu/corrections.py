"""Corrections sent back to each source (`source_correction` of the extract contract): the
personal ids, birth dates, names and sexes a source delivered that the register, after
resolution, shows to be wrong or missing, each with the register's value, what kind of error it
looks like and how sure dancu is.

**Who is told what.** A record's value is compared with the golden record of the person it was
matched to (the register value). A source hears of a difference only when the register value
came from a source at least as authoritative as itself, in the golden rule's order (dan_cu >
bhxh > y_te): bhxh and y_te are told what the population register says, y_te what social
insurance says where the register is silent, and dan_cu only of its own duplicate registrations
(a value that came from another dan_cu record). Nobody is corrected by a worse source, nor by a
civil registration.

**What counts.** Values are compared as standardised (ids without separators, names in title
case, dates parsed), so a format that standardisation repaired is no correction, and
`delivered_value` is that standardised form (dates `yyyy-mm-dd`, or `yyyy` when only the year
is known; sex `M`/`F`). A value delivered empty is a completion, not a correction (`kind`
`completion`); a birth year where the register knows the day is `year_only`; a value more
precise than the register's (a full date where the register knows the year) is no correction.
`KINDS` lists the kinds.

**Confidence** (0-1) is the product of three probabilities:
- that the record belongs to its person: its match weight (log2 odds of the strongest link
  holding it in its person) as a probability, 1 for a clerk's match;
- that the register value, and not the delivered one, is right: every record of the person
  that delivered a value is a witness for it, weighing the log odds that its source is right on
  that field (its error rate is measured on this run: how often the source's value is the odd
  one out where at least two other records of the person agree). The ids civil registration
  wrote for the parties of its events (a birth's child, mother and father, a death, a
  marriage's spouses) witness the ids of the persons those parties were resolved to, and are
  told nothing. The id's own digits witness too: an id whose province, sex or birth-year
  digits do not fit the person, that is another person's in the register, or that the
  register re-issued (`reissued_id`), is unlikely to be theirs, and the register's id speaks
  for the year and sex it encodes. A lossy delivered value (empty, a bare year, a name without
  any diacritics) is no rival of the register's.
  With one witness on each side and sources equally reliable, this is about one half: the
  register's authority alone does not make it right;
- that the record belongs there by its other identity fields: the share of them that agree
  with the register, out of at least two (a field either side lacks, and a slip such as a typo
  or swapped day and month, which a clerk makes in anyone's record, count neither way). A
  record that disagrees on them outright may be in the wrong person.

A difference is reported from `MIN_CONFIDENCE`. Otherwise it is held, not sent, and says why
(`held_because`): `in_review` when the record waits in the review queue; `both_slipped` when an
id or date differs from the register's by two slips' worth of digits (each side likely holds
one); `register_doubtful` when the values against the register's weigh more (the register may
be the one to fix); `weak` when the record's own identity is in doubt (match probability times
the agreement of its other fields below `MIN_IDENTITY`); and otherwise `uncertain`: the
evidence is close, one witness against another, and the difference is left to the review
queue.
"""

import itertools
import math
import os
import zipfile
from dataclasses import dataclass
from html import escape
from pathlib import Path

import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from dancu.contract import (
    FILE_NAME,
    PERSON_SOURCES,
    RECORD_ID,
    ROW_NUMBER,
    SOURCE,
    SOURCE_PRIORITY,
    SOURCES,
)
from dancu.link import ROLE_SEPARATOR, party_records
from dancu.mask import masked
from dancu.memory import mapped
from dancu.parse import id_birth_year, id_sex, is_valid_national_id
from dancu.report.format import floored_percents
from dancu.report.labels import SOURCES as SOURCE_NAMES
from dancu.resolve.records import FAMILY_VARIANTS, reissued_ids
from dancu.review import SHEET_ROWS, excel_safe, sheet_names
from dancu.rules import FLAGS, accepted, rule_id
from dancu.text import fold

FIELDS = ("national_id", "birth_date", "full_name", "sex")
KINDS = {
    "completion": "the source left the value empty; the register knows it",
    "malformed": "the source's personal id is no 12-digit id (an old CMND, a code of its own, "
    "a card number that fits no card)",
    "family_member_id": "the id is another person's in the register (a parent's, a sibling's)",
    "reissued_id": "the person's former personal id, which the register has re-issued",
    "digit_typo": "one digit of the id differs",
    "transposed_digits": "two neighbouring digits of the id are swapped",
    "year_only": "only the birth year was delivered; the register knows the day",
    "day_month_swapped": "day and month are swapped",
    "year_off_by_ten": "the birth year is ten years off",
    "one_digit": "one digit of the date differs",
    "first_of_january": "1 January written for a day the source did not know",
    "diacritics": "the name differs in its diacritics alone",
    "family_variant": "the family name in its other regional spelling (Hoàng/Huỳnh, Vũ/Võ)",
    "order_swapped": "the same words in another order (family and given name swapped)",
    "typo": "one or two letters differ",
    "middle_name": "the middle name is missing, extra or another",
    "other": "any other difference",
}
# Slips a clerk makes in a value that is otherwise the person's: they say nothing of whose record
# it is, where an unexplained difference says it may be someone else's.
SLIPS = frozenset({
    "digit_typo", "transposed_digits", "day_month_swapped", "year_off_by_ten", "one_digit",
    "first_of_january",
    "diacritics", "family_variant", "order_swapped", "typo", "middle_name",
})  # fmt: skip
NOT_COMPARED = frozenset({"completion", "malformed"})
# Values the person really held once: like a slip, they say nothing against the record's being
# theirs.
FORMER_VALUES = frozenset({"reissued_id"})

MIN_CONFIDENCE = 0.9
# Below this, the record itself may be another person's: its differences are no evidence.
MIN_IDENTITY = 0.5
# What a record takes while it is compared: its fields and its person's as `resolved_records`
# holds them (600 bytes at ten million persons), and the differences and support made of them.
RECORD_BYTES = 1_000
# Two slips, one on each side, change at most this many digits of an id or a date (a transposition
# and a wrong key); another person's id or birth date differs in more.
MAX_DIGITS_OF_TWO_SLIPS = 3
# Identity fields, besides the corrected one, that must agree before a record's confidence can
# be whole: a record agreeing on one field alone gets half.
MIN_FIELDS_BEHIND = 2
# A source's error rate on a field before the run's records say otherwise: 1 in 50, worth 50
# records of evidence; the measured rate is kept within these bounds.
PRIOR_ERROR_RATE, PRIOR_RECORDS = 0.02, 50
ERROR_RATE_BOUNDS = (0.001, 0.5)
# Rates are measured on a sample of about this many persons (`rate_sample`). Chosen by person id,
# the sample was the key's: another installation's key measured other rates, and sent 2% more or
# fewer corrections for the same extracts.
ERROR_RATE_PERSONS = 200_000
# The id's digits as witnesses, in natural-log odds. A slip lands in the province, sex or year
# digits (6 of 12, a province slip sometimes giving another valid code) a little under half the
# time, and the id then no longer fits the person; a right id fails to fit only where the
# register's sex or birth year is wrong, about 1 in 50.
SLIP_SHOWS, REGISTER_FIELD_WRONG = 0.45, 0.02
ID_FITS = math.log((1 - REGISTER_FIELD_WRONG) / (1 - SLIP_SHOWS))
ID_DOES_NOT_FIT = math.log(REGISTER_FIELD_WRONG / SLIP_SHOWS)
# A right id is almost never another person's in the register, nor one the register replaced; a
# wrong one often is (a parent's, the id before a re-issue).
ID_NOT_THEIRS = math.log(1 / 100)
# The register's id encodes the birth year and sex: a value that agrees with it gains, one that
# does not loses, as much as the register's field is right (49 in 50) makes it worth.
REGISTER_ID_SAYS = math.log((1 - REGISTER_FIELD_WRONG) / REGISTER_FIELD_WRONG) / 2

KIND_LABELS = {
    "completion": "Bổ sung: bản ghi để trống",
    "malformed": "Không phải số định danh 12 chữ số",
    "family_member_id": "Số định danh của người khác (người thân)",
    "reissued_id": "Số định danh cũ, đã được cấp lại",
    "digit_typo": "Sai một chữ số",
    "transposed_digits": "Đảo hai chữ số liền nhau",
    "year_only": "Chỉ có năm sinh",
    "day_month_swapped": "Đảo ngày và tháng",
    "year_off_by_ten": "Năm sinh lệch 10 năm",
    "one_digit": "Sai một chữ số",
    "first_of_january": "Ghi 01/01 thay cho ngày sinh chưa biết",
    "diacritics": "Sai hoặc thiếu dấu",
    "family_variant": "Họ viết theo vùng miền (Hoàng/Huỳnh, Vũ/Võ)",
    "order_swapped": "Đảo thứ tự họ và tên",
    "typo": "Sai chính tả",
    "middle_name": "Thiếu, thừa hoặc sai tên đệm",
    "other": "Sai lệch khác",
}
WORKBOOK_HEADERS = {
    FILE_NAME: "Tệp",
    ROW_NUMBER: "Dòng",
    "field": "Trường",
    "delivered_value": "Giá trị đơn vị đã gửi",
    "register_value": "Giá trị đề nghị",
    "register_source": "Nguồn của giá trị đề nghị",
    "kind": "Loại sai lệch",
    "confidence": "Độ tin cậy (%)",
    "person_id": "Mã công dân (dancu)",
}
WORKBOOK_MODE = 0o640  # the owner writes it, the staff who send it to the agency read it

CORRECTION_COLUMNS = [
    SOURCE, RECORD_ID, "person_id", "field", "delivered_value", "register_value", "kind",
    "confidence", "register_source", FILE_NAME, ROW_NUMBER,
]  # fmt: skip
RECORD = [SOURCE, RECORD_ID]
# The standardised columns the four fields come from.
PERSON_FIELDS = ["national_id", "birth_date", "birth_year", "full_name", "sex"]
# What corrections read of the resolved records and of the golden records.
LINK_COLUMNS = [*RECORD, "person_id", "match_rule", "match_weight"]
GOLDEN_COLUMNS = ["person_id", *PERSON_FIELDS, *(f"{field}_source" for field in FIELDS)]


@dataclass(frozen=True)
class Corrections:
    """`table`: the corrections reported (`CORRECTION_COLUMNS`), one per record and field;
    `held`: the differences not reported, with `held_because`; `error_rates`: per source and
    field, the measured rate at which its value is the odd one out (`error_rate`, `checked`)."""

    table: pl.DataFrame
    held: pl.DataFrame
    error_rates: pl.DataFrame


def value_of(field: str, side: str = "") -> pl.Expr:
    """A field as text, from the standardised columns of one side (`""`, or `"register_"` in
    `resolved_records`): dates `yyyy-mm-dd`, or the year alone when only that is known."""
    if field == "birth_date":
        return pl.coalesce(
            pl.col(f"{side}birth_date").dt.strftime("%Y-%m-%d"),
            pl.col(f"{side}birth_year").cast(pl.String),
        )
    return pl.col(side + field)


def _known(field: str, side: str) -> pl.Expr:
    return pl.col(side + ("birth_year" if field == "birth_date" else field)).is_not_null()


def _says_more(field: str, more: str, less: str) -> pl.Expr:
    """Side `more` holds the day of a birth whose year is all side `less` knows."""
    if field != "birth_date":
        return pl.lit(False)
    return (
        pl.col(f"{more}birth_date").is_not_null()
        & pl.col(f"{less}birth_date").is_null()
        & (pl.col(f"{more}birth_year") == pl.col(f"{less}birth_year"))
    )


def _same(field: str) -> pl.Expr:
    """Both sides say the same (null where either says nothing)."""
    if field == "birth_date":
        day, register_day = pl.col("birth_date"), pl.col("register_birth_date")
        same_year = pl.col("birth_year") == pl.col("register_birth_year")
        return (
            pl.when(day.is_null() & register_day.is_null())
            .then(same_year)
            .otherwise(day == register_day)
        )
    return pl.col(field) == pl.col(f"register_{field}")


def accepted_fields(std_frame: pl.LazyFrame) -> pl.LazyFrame:
    """A source's accepted records: each field as standardised, and `folded`, the name's key."""
    return accepted(std_frame).select(
        RECORD_ID, FILE_NAME, ROW_NUMBER, pl.col("full_name_key").alias("folded"),
        *PERSON_FIELDS,
    )  # fmt: skip


def resolved_records(
    person_source: pl.DataFrame, person: pl.DataFrame, std_frames: dict[str, pl.LazyFrame]
) -> pl.DataFrame:
    """One row per resolved record: `r`, its number; `source`, `source_record_id`, lineage,
    `match_rule` and `match_weight`; `p`, its person's row in `person`; each field as delivered
    (`PERSON_FIELDS`, `folded`) and as the register holds it (`register_<column>`, with
    `register_<field>_source`, the source the golden rule took it from: null for a birth year
    known alone, which `register_odds` finds); `agreeing`, how many fields say the same on
    both sides (a bare year the same as a date of that year)."""
    register = person.with_row_index("p").select(
        "p",
        "person_id",
        *(pl.col(c).alias(f"register_{c}") for c in PERSON_FIELDS),
        *(pl.col(f"{field}_source").alias(f"register_{field}_source") for field in FIELDS),
    )
    linked = person_source.lazy().select(LINK_COLUMNS)
    # One source at a time: its records join on their id alone, in one query (a third of the
    # CPU of joining collected frames).
    records = pl.concat(
        [
            linked.filter(pl.col(SOURCE) == source).join(accepted_fields(frame), on=RECORD_ID)
            for source, frame in std_frames.items()
        ]
    ).collect()

    def agree(field: str) -> pl.Expr:
        same = (
            _same(field) | _says_more(field, "", "register_") | _says_more(field, "register_", "")
        )
        return same.fill_null(False).cast(pl.UInt8)

    return (
        records.join(register, on="person_id")
        .with_row_index("r")
        .with_columns(pl.sum_horizontal(agree(field) for field in FIELDS).alias("agreeing"))
    )


def _digit(text: pl.Expr, position: int) -> pl.Expr:
    return text.str.slice(position, 1)


def _digits_differing(a: pl.Expr, b: pl.Expr, width: int) -> pl.Expr:
    """How many of the first `width` places differ, where the two are as long (else null)."""
    differing = pl.sum_horizontal(
        (_digit(a, i) != _digit(b, i)).cast(pl.Int8) for i in range(width)
    )
    return pl.when(a.str.len_chars() == b.str.len_chars()).then(differing)


def _one_digit_differs(a: pl.Expr, b: pl.Expr, width: int) -> pl.Expr:
    return _digits_differing(a, b, width) == 1


def _neighbours_swapped(a: pl.Expr, b: pl.Expr, width: int) -> pl.Expr:
    """Two neighbouring digits swapped, the rest the same."""
    swapped = pl.any_horizontal(
        (_digit(a, i) != _digit(a, i + 1))
        & (_digit(a, i) == _digit(b, i + 1))
        & (_digit(a, i + 1) == _digit(b, i))
        for i in range(width - 1)
    )
    return (_digits_differing(a, b, width) == 2) & swapped


def id_kind(
    delivered: pl.Expr, register: pl.Expr, of_another_person: pl.Expr, replaced: pl.Expr
) -> pl.Expr:
    """How a delivered personal id differs from the register's; `replaced`: the register
    re-issued the delivered id as its own."""
    return (
        pl.when(replaced)
        .then(pl.lit("reissued_id"))
        .when(of_another_person)
        .then(pl.lit("family_member_id"))
        .when(_one_digit_differs(delivered, register, 12))
        .then(pl.lit("digit_typo"))
        .when(_neighbours_swapped(delivered, register, 12))
        .then(pl.lit("transposed_digits"))
        .otherwise(pl.lit("other"))
    )


def date_kind(delivered: pl.Expr, register: pl.Expr) -> pl.Expr:
    """How a delivered birth date differs from the register's, either written `yyyy-mm-dd` or,
    when only the year is known, `yyyy` (the years are compared then)."""
    both_days = (delivered.str.len_chars() == 10) & (register.str.len_chars() == 10)
    years = delivered.str.slice(0, 4), register.str.slice(0, 4)
    same_year = years[0] == years[1]
    same_day = delivered.str.slice(5) == register.str.slice(5)
    swapped = (
        both_days
        & same_year
        & (delivered.str.slice(5, 2) == register.str.slice(8, 2))
        & (delivered.str.slice(8, 2) == register.str.slice(5, 2))
    )
    ten_years = ((years[0].cast(pl.Int32) - years[1].cast(pl.Int32)).abs() == 10) & (
        same_day | ~both_days
    )
    one_digit = (
        pl.when(both_days)
        .then(
            _one_digit_differs(
                delivered.str.replace_all("-", ""), register.str.replace_all("-", ""), 8
            )
        )
        .otherwise(_one_digit_differs(*years, 4))
    )
    first_of_january = both_days & same_year & delivered.str.ends_with("-01-01")
    return (
        pl.when(swapped)
        .then(pl.lit("day_month_swapped"))
        .when(first_of_january)
        .then(pl.lit("first_of_january"))
        .when(ten_years)
        .then(pl.lit("year_off_by_ten"))
        .when(one_digit)
        .then(pl.lit("one_digit"))
        .otherwise(pl.lit("other"))
    )


def _family_canonical(folded: pl.Expr) -> pl.Expr:
    """The folded name with Huỳnh read as Hoàng and Võ as Vũ."""
    family = folded.str.extract(r"^(\S+)").replace(FAMILY_VARIANTS)
    return family + folded.str.extract(r"^\S+(.*)$").fill_null("")


def _words_sorted(folded: pl.Expr) -> pl.Expr:
    return folded.str.split(" ").list.sort().list.join(" ")


def name_kinds(names: pl.DataFrame) -> pl.Series:
    """How each delivered name (`delivered_value`) differs from the register's
    (`register_value`), both in title case and different."""
    folded = names.select(
        fold(pl.col("delivered_value")).alias("d"), fold(pl.col("register_value")).alias("g")
    )
    edits = process.cpdist(
        folded["d"].to_list(), folded["g"].to_list(), scorer=Levenshtein.distance, workers=-1
    )
    d, g = pl.col("d"), pl.col("g")
    words = d.str.count_matches(" ") == g.str.count_matches(" ")
    ends = (d.str.extract(r"^(\S+)") == g.str.extract(r"^(\S+)")) & (
        d.str.extract(r"(\S+)$") == g.str.extract(r"(\S+)$")
    )
    kind = (
        pl.when(d == g)
        .then(pl.lit("diacritics"))
        .when(_family_canonical(d) == _family_canonical(g))
        .then(pl.lit("family_variant"))
        .when(_words_sorted(d) == _words_sorted(g))
        .then(pl.lit("order_swapped"))
        .when(words & (pl.col("edits") <= 2))
        .then(pl.lit("typo"))
        .when(ends)
        .then(pl.lit("middle_name"))
        .otherwise(pl.lit("other"))
    )
    return folded.with_columns(pl.Series("edits", edits, dtype=pl.Int64)).select(kind).to_series()


def another_persons_id(ids: pl.DataFrame, person: pl.DataFrame) -> pl.Series:
    """Whether each row's `delivered_value` is the register id of a person other than its own
    (`person_id`)."""
    holders = person.select(
        pl.col("national_id").alias("delivered_value"), pl.col("person_id").alias("_holder")
    ).drop_nulls()
    held = (
        ids.select("person_id", "delivered_value")
        .with_row_index("_row")
        .join(holders, on="delivered_value")
        .filter(pl.col("_holder") != pl.col("person_id"))
    )
    return pl.int_range(ids.height, eager=True, dtype=pl.UInt32).is_in(held["_row"].implode())


def classify(differing: pl.DataFrame, person: pl.DataFrame, reissued: pl.DataFrame) -> pl.DataFrame:
    """`differing` (rows whose `delivered_value` and `register_value` are both present and
    differ) with the `kind` of each difference. `reissued`: the ids the register re-issued,
    `old` and `new` (`dancu.resolve.records.reissued_ids`)."""
    delivered, register = pl.col("delivered_value"), pl.col("register_value")
    of_field = {field: differing.filter(pl.col("field") == field) for field in FIELDS}
    ids = of_field["national_id"]
    names = of_field["full_name"]
    old_and_new = pl.struct(delivered_value="old", register_value="new")
    replaced = pl.struct(delivered, register).is_in(
        reissued.select(old_and_new).to_series().implode()
    )
    return pl.concat(
        [
            ids.with_columns(
                id_kind(
                    delivered, register, pl.lit(another_persons_id(ids, person)), replaced
                ).alias("kind")
            ),
            of_field["birth_date"].with_columns(date_kind(delivered, register).alias("kind")),
            names.with_columns(
                (name_kinds(names) if names.height else pl.lit(None, pl.String)).alias("kind")
            ),
            of_field["sex"].with_columns(pl.lit("other").alias("kind")),
        ]
    )


# Flags of a personal id written but no id: in an id's column, or as an identity card's number
# (a judicial-record request's CCCD with a letter in it).
NO_ID_FLAGS = ["id.malformed", "document.number_misfit"]


def malformed_ids(std_frames: dict[str, pl.LazyFrame]) -> pl.DataFrame:
    """The accepted records whose personal id was written but is none (`NO_ID_FLAGS`)."""
    malformed = pl.col(FLAGS).list.eval(rule_id(pl.element()).is_in(NO_ID_FLAGS)).list.any()
    return pl.concat(
        accepted(frame)
        .filter(pl.col("national_id").is_null())
        .filter(malformed)
        .select(SOURCE, RECORD_ID)
        .collect()
        for frame in std_frames.values()
    )


def _reissued(std_frames: dict[str, pl.LazyFrame]) -> pl.DataFrame:
    """The ids the register re-issued, `old` and `new`, as its accepted records say."""
    if "dan_cu" not in std_frames:
        return pl.DataFrame(schema={"old": pl.String, "new": pl.String})
    return reissued_ids(accepted(std_frames["dan_cu"]))


def differences(
    records: pl.DataFrame, person: pl.DataFrame, malformed: pl.DataFrame, reissued: pl.DataFrame
) -> pl.DataFrame:
    """One row per record and field whose register value is known and the delivered one empty,
    less precise or different: `field`, `delivered_value`, `register_value` (as `value_of`
    writes them), `register_source`, `kind`, the person's register id, sex and birth year
    (`register_id`, `register_sex`, `register_year`) and the record's `r`, `p`, `match_rule`,
    `match_weight` and `agreeing`. `malformed`: the records whose id was no id; `reissued`: the
    ids the register re-issued (`classify`)."""
    kept = [*RECORD, FILE_NAME, ROW_NUMBER, "r", "person_id", "p", "match_rule", "match_weight",
            "agreeing"]  # fmt: skip
    facts = [
        pl.col("register_national_id").alias("register_id"),
        pl.col("register_sex"),
        pl.col("register_birth_year").alias("register_year"),
    ]
    parts = []
    for field in FIELDS:
        differs = ~_known(field, "") | (~_same(field) & ~_says_more(field, "", "register_"))
        parts.append(
            records.filter(_known(field, "register_") & differs.fill_null(True)).select(
                *kept, *facts,
                pl.lit(field).alias("field"),
                value_of(field).alias("delivered_value"),
                value_of(field, "register_").alias("register_value"),
                pl.col(f"register_{field}_source").alias("register_source"),
            )
        )  # fmt: skip
    found = pl.concat(parts)
    d, g = pl.col("delivered_value"), pl.col("register_value")
    year_only = (pl.col("field") == "birth_date") & (d.str.len_chars() == 4) & g.str.starts_with(d)
    no_id = (pl.col("field") == "national_id") & pl.struct(RECORD).is_in(
        malformed.select(pl.struct(RECORD)).to_series().implode()
    )
    plain = found.filter(d.is_null() | year_only).with_columns(
        pl.when(year_only)
        .then(pl.lit("year_only"))
        .when(no_id)
        .then(pl.lit("malformed"))
        .otherwise(pl.lit("completion"))
        .alias("kind")
    )
    compared = found.filter(d.is_not_null() & ~year_only)
    return pl.concat([plain, classify(compared, person, reissued)])


def fields_behind() -> pl.Expr:
    """Per difference, the share of its record's other identity fields that agree with the
    register, out of those that count and at least `MIN_FIELDS_BEHIND`. A field agrees when
    it says the same, or less with nothing against it (a bare year, a name without any
    diacritics); a slip counts neither way; an outright difference counts against."""
    kind = pl.col("kind")
    bare_name = (kind == "diacritics") & ~pl.col("delivered_value").str.contains(r"[^\x00-\x7F]")
    agrees = ((kind == "year_only") | bare_name).cast(pl.UInt32)
    neither_way = [*SLIPS, *NOT_COMPARED, *FORMER_VALUES, "year_only"]
    differs = (~kind.is_in(neither_way) & ~bare_name).cast(pl.UInt32)
    # `agreeing` already counts a bare year; a bare name differs from the register's value.
    agreeing = pl.col("agreeing").cast(pl.UInt32) + bare_name.cast(pl.UInt32).sum().over("r")
    counted = agreeing + differs.sum().over("r")
    return (agreeing - agrees) / pl.max_horizontal(counted - agrees - differs, MIN_FIELDS_BEHIND)


def rate_sample(person: pl.DataFrame) -> pl.Series:
    """The rows (`p`) of the persons whose records measure the error rates: one in so many,
    about `ERROR_RATE_PERSONS` in all, chosen by a hash of their golden values, which do not
    depend on the installation's key as person ids do."""
    every = -(-person.height // ERROR_RATE_PERSONS)
    chosen = pl.struct(PERSON_FIELDS).hash(seed=0) % every == 0
    return person.select(pl.int_range(pl.len(), dtype=pl.UInt32).filter(chosen)).to_series()


def error_counts(records: pl.DataFrame, sample: pl.Series) -> pl.DataFrame:
    """Per source and field, how many records were checked (those whose person has two or more
    other records agreeing on one value; full dates only) and how many of them were the odd one
    out (`odd`), over the persons of `sample` (`rate_sample`) among `records`."""
    # Only a person with three records can show an odd one out; a sample of persons measures
    # rates well enough.
    several = (
        records.filter(pl.col("p").is_in(sample.implode()))
        .select(SOURCE, "p", *FIELDS)
        .filter(pl.len().over("p") >= 3)
    )
    # With two or more others, they agree on one value when the record is alone against them
    # all, or when every record agrees.
    odd_one_out = (pl.col("same") == 1) & (pl.col("distinct") == 2)
    checked = (pl.col("all") >= 3) & ((pl.col("same") == pl.col("all")) | odd_one_out)
    measured = []
    for field in FIELDS:
        # A birth date is measured on the day: a bare year (a null `birth_date`) is no rival.
        value = pl.col(field)
        valued = several.filter(value.is_not_null()).select(SOURCE, "p", value.hash().alias("h"))
        measured.append(
            valued.select(
                SOURCE,
                pl.len().over("p").alias("all"),
                pl.len().over("p", "h").alias("same"),
                pl.col("h").n_unique().over("p").alias("distinct"),
            )
            .group_by(SOURCE)
            .agg(checked.sum().alias("checked"), (checked & odd_one_out).sum().alias("odd"))
            .with_columns(pl.lit(field).alias("field"))
        )
    return pl.concat(measured)


def delivered_fields(
    std_frames: dict[str, pl.LazyFrame], event_ids: pl.DataFrame | None
) -> pl.DataFrame:
    """Each source and field of `FIELDS` it delivers: a value in one of its accepted records, or
    for civil registration, which witnesses ids alone, an id it gave a party of its events."""
    delivered = [
        accepted_fields(frame).select(
            pl.lit(source).alias(SOURCE),
            *(value_of(field).is_not_null().any().alias(field) for field in FIELDS),
        )
        for source, frame in std_frames.items()
    ]
    if event_ids is not None:
        delivered.append(
            event_ids.lazy().group_by(SOURCE).agg(pl.col("national_id").is_not_null().any())
        )
    return (
        pl.concat(delivered, how="diagonal")
        .unpivot(index=SOURCE, variable_name="field", value_name="delivered")
        .filter("delivered")
        .select(SOURCE, "field")
        .collect(engine="streaming")
    )


def error_rates(counts: pl.DataFrame, delivered: pl.DataFrame) -> pl.DataFrame:
    """Per source and field it delivers (`delivered_fields`), from `error_counts`: how often its
    value is the odd one out among a person's records (`error_rate`, with the prior
    `PRIOR_ERROR_RATE`), how many records were `checked`, and the `weight` of the source's word
    on that field: the natural-log odds that it is right."""
    rate = (pl.col("odd") + PRIOR_ERROR_RATE * PRIOR_RECORDS) / (pl.col("checked") + PRIOR_RECORDS)
    return (
        delivered.join(counts, on=[SOURCE, "field"], how="left")
        .group_by(SOURCE, "field")
        .agg(pl.col("checked", "odd").sum())
        .sort(SOURCE, "field")
        .with_columns(rate.clip(*ERROR_RATE_BOUNDS).alias("error_rate"))
        .with_columns(((1 - pl.col("error_rate")) / pl.col("error_rate")).log().alias("weight"))
    )


def support(records: pl.DataFrame, differences: pl.DataFrame, rates: pl.DataFrame) -> pl.DataFrame:
    """For each person and field with a difference, per delivered `value`: the summed `weight`
    of the records that delivered it, its `folded` form (names) and `best_source`, the most
    authoritative of them."""
    priority = pl.col(SOURCE).replace_strict(SOURCE_PRIORITY, default=len(SOURCE_PRIORITY))
    values = []
    for field in FIELDS:
        involved = differences.filter(pl.col("field") == field)["p"].unique().implode()
        values.append(
            records.filter(pl.col("p").is_in(involved)).select(
                SOURCE,
                "p",
                pl.lit(field).alias("field"),
                value_of(field).alias("value"),
                pl.col("folded")
                if field == "full_name"
                else pl.lit(None, pl.String).alias("folded"),
            )
        )
    return (
        pl.concat(values)
        .drop_nulls("value")
        .join(rates.select(SOURCE, "field", "weight"), on=[SOURCE, "field"])
        .group_by("p", "field", "value")
        .agg(
            pl.col("weight").sum().alias("support"),
            pl.col("folded").first(),
            pl.col(SOURCE).sort_by(priority).first().alias("best_source"),
        )
    )


def _fits_person(national_id: pl.Expr) -> pl.Expr:
    """A personal id whose province, sex and birth-year digits fit the person's register."""
    sex_fits = (id_sex(national_id) == pl.col("register_sex")).fill_null(True)
    year_fits = (id_birth_year(national_id) == pl.col("register_year")).fill_null(True)
    return is_valid_national_id(national_id).fill_null(False) & sex_fits & year_fits


def digits_witness(value: pl.Expr) -> pl.Expr:
    """What the id digits say of a value (natural-log odds): of an id, whether it fits the
    person; of a birth date or sex, whether the register's id encodes the same year or sex."""
    field = pl.col("field")
    register_id = pl.col("register_id")
    readable = is_valid_national_id(register_id).fill_null(False)

    def said(encoded: pl.Expr, delivered: pl.Expr) -> pl.Expr:
        return (
            pl.when(~readable)
            .then(0.0)
            .when(encoded == delivered)
            .then(REGISTER_ID_SAYS)
            .otherwise(-REGISTER_ID_SAYS)
        )

    return (
        pl.when(field == "national_id")
        .then(pl.when(_fits_person(value)).then(ID_FITS).otherwise(ID_DOES_NOT_FIT))
        .when(field == "birth_date")
        .then(said(id_birth_year(register_id), value.str.slice(0, 4).cast(pl.Int32, strict=False)))
        .when(field == "sex")
        .then(said(id_sex(register_id), value))
        .otherwise(0.0)
    )


def _compatible(value: pl.Expr, register: pl.Expr, register_folded: pl.Expr) -> pl.Expr:
    """A value that says less than the register's but nothing against it: the same birth year
    (or a day where the register knows only the year), the name without any diacritics."""
    field = pl.col("field")
    same_year = ((value.str.len_chars() == 4) & register.str.starts_with(value + "-")) | (
        (register.str.len_chars() == 4) & value.str.starts_with(register + "-")
    )
    bare_name = ~value.str.contains(r"[^\x00-\x7F]") & (pl.col("folded") == register_folded)
    return ((field == "birth_date") & same_year) | ((field == "full_name") & bare_name)


def register_odds(differences: pl.DataFrame, supported: pl.DataFrame) -> pl.DataFrame:
    """Per difference (`c`, its number): `p_register`, the probability that the register value
    is the true one among the values the person's records delivered (and one nobody delivered,
    of score 0), each value scored by its witnesses; `outweighed`, whether the values against
    it weigh more; `best_source`, the most authoritative source that delivered the register
    value."""
    value, register = pl.col("value"), pl.col("register_value")
    is_register = value == register
    register_folded = pl.col("folded").filter(is_register).first().over("c")
    not_theirs = (value == pl.col("delivered_value")) & pl.col("kind").is_in(
        ["family_member_id", "reissued_id"]
    )
    score = (
        pl.col("support")
        + digits_witness(value)
        + pl.when(not_theirs).then(ID_NOT_THEIRS).otherwise(0.0)
    )
    rival = ~is_register & ~_compatible(value, register, register_folded).fill_null(False)
    facts = ["register_id", "register_sex", "register_year"]
    return (
        differences.select("c", "p", "field", "delivered_value", "register_value", "kind", *facts)
        .join(supported, on=["p", "field"])
        .with_columns(score.alias("score"), rival.alias("rival"), is_register.alias("own"))
        .group_by("c")
        .agg(
            pl.col("score").filter("own").first().fill_null(0.0).alias("_register"),
            pl.col("score").filter("rival").exp().sum().alias("_rivals"),
            pl.col("best_source").filter("own").first(),
        )
        .select(
            "c",
            "best_source",
            (1 / (1 + (pl.col("_rivals") + 1) * (-pl.col("_register")).exp())).alias("p_register"),
            (pl.col("_rivals") > pl.col("_register").exp()).alias("outweighed"),
        )
    )


def match_probability() -> pl.Expr:
    """The record's place in its person as a probability: its match weight is log2 odds; a
    clerk's match is certain; a record without a link has no weight of evidence."""
    weight = pl.col("match_weight")
    return (
        pl.when(pl.col("match_rule") == "clerk")
        .then(1.0)
        .otherwise(1 / (1 + pl.lit(2.0).pow(-weight)))
        .fill_null(0.0)
    )


def in_review(review_queue: pl.DataFrame | None) -> pl.DataFrame:
    """The records of pairs waiting for a clerk."""
    if review_queue is None or review_queue.is_empty():
        return pl.DataFrame(schema={SOURCE: pl.String, RECORD_ID: pl.String})
    sides = [
        review_queue.select(
            pl.col(f"source_{side}").alias(SOURCE), pl.col(f"{RECORD_ID}_{side}").alias(RECORD_ID)
        )
        for side in ("l", "r")
    ]
    return pl.concat(sides).unique()


def both_slipped() -> pl.Expr:
    """An id or birth date that differs from the register's in a few digits, no single slip
    explaining it: another person's would differ in most, so each side likely holds a slip of
    its own and the register's is no correction."""
    digits = [pl.col(c).str.replace_all("-", "") for c in ("delivered_value", "register_value")]
    differing = _digits_differing(*digits, width=12)
    return (
        (pl.col("kind") == "other")
        & pl.col("field").is_in(["national_id", "birth_date"])
        & (differing <= MAX_DIGITS_OF_TWO_SLIPS)
    ).fill_null(False)


def _priority(column: str) -> pl.Expr:
    """A source's rank in the golden rule's order, smallest first; other sources come last."""
    return pl.col(column).replace_strict(
        SOURCE_PRIORITY, default=len(SOURCE_PRIORITY), return_dtype=pl.Int32
    )


def event_witnesses(
    person: pl.DataFrame, event_party: pl.DataFrame, event_frames: dict[str, pl.LazyFrame]
) -> pl.DataFrame:
    """The personal ids civil registration wrote for the persons its events name: one row per
    party resolved to a person (`source`, `p`, its person's row in `person`, and the
    `national_id` the registration gave it). Another agency's copy of the id, typed apart from
    the register's and the insurance's: a third witness where those two disagree."""
    parties = (
        party_records(event_frames)
        .filter(pl.col("national_id").is_not_null())
        .select(SOURCE, (pl.col(SOURCE) + ":" + pl.col(RECORD_ID)).alias("party"), "national_id")
        .collect()
    )
    linked = event_party.filter(pl.col("person_id").is_not_null()).select(
        pl.concat_str("event_id", pl.lit(ROLE_SEPARATOR), "role").alias("party"), "person_id"
    )
    rows = person.select("person_id").with_row_index("p")
    return (
        parties.join(linked, on="party")
        .join(rows, on="person_id")
        .select(SOURCE, "p", "national_id")
    )


def find_corrections(
    person_source: pl.DataFrame,
    person: pl.DataFrame,
    std_frames: dict[str, pl.LazyFrame],
    review_queue: pl.DataFrame | None = None,
    event_ids: pl.DataFrame | None = None,
    shares: int = 1,
    spill: Path | None = None,
) -> Corrections:
    """The corrections to send back to each source, and the differences held back.

    `person_source`: each resolved record (`source`, `source_record_id`, `person_id`,
    `match_rule`, `match_weight`); `person`: the golden records; `std_frames`: the
    standardised frames of the person sources; `review_queue`: the pairs waiting for a clerk;
    `event_ids`: the ids civil registration gave the persons (`event_witnesses`), witnesses
    that are told nothing. `shares`: in how many shares of persons (runs of rows of `person`)
    the records are compared, one share after another: a record is judged against its own
    person's records alone, and every record at once takes 14 GB at ten million persons. The
    error rates are counted first, on the records of a sample of the persons (`rate_sample`).
    `spill`: where each share's judgement waits, mapped (`memory.mapped`), while the next
    share is judged; in memory without it.
    """
    bounds = [person.height * share // shares for share in range(shares + 1)]
    persons_of_shares = [
        pl.int_range(first, end, dtype=pl.UInt32, eager=True)
        for first, end in itertools.pairwise(bounds)
    ]

    def witnesses(rows: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The resolved records of the persons at `rows` of `person`, and those with the event
        witnesses."""
        ids = person["person_id"].gather(rows).implode()
        records = resolved_records(
            person_source.filter(pl.col("person_id").is_in(ids)), person, std_frames
        )
        if event_ids is None:
            return records, records
        witnessing = event_ids.filter(pl.col("p").is_in(rows.implode()))
        return records, pl.concat([records, witnessing], how="diagonal_relaxed")

    # One share's records serve counting and judging. Shares are made one at a time, after the
    # rates were counted on the records of the persons of the sample alone.
    sample = rate_sample(person)
    whole = [witnesses(persons_of_shares[0])] if shares == 1 else []
    counted = whole[0][1] if whole else witnesses(sample)[1]
    rates = error_rates(error_counts(counted, sample), delivered_fields(std_frames, event_ids))
    malformed = malformed_ids(std_frames)
    reissued = _reissued(std_frames)
    waiting = in_review(review_queue).with_columns(pl.lit(True).alias("in_review"))
    judged = pl.concat(
        mapped(_judged(records, witnessing, person, malformed, reissued, rates, waiting), spill)
        for records, witnessing in (whole or map(witnesses, persons_of_shares))
    ).sort(SOURCE, RECORD_ID, "field")
    return Corrections(
        table=judged.filter(pl.col("held_because").is_null()).select(CORRECTION_COLUMNS),
        held=judged.filter(pl.col("held_because").is_not_null()).select(
            *CORRECTION_COLUMNS, "held_because"
        ),
        error_rates=rates.select(SOURCE, "field", "error_rate", "checked"),
    )


def _judged(
    records: pl.DataFrame,
    witnesses: pl.DataFrame,
    person: pl.DataFrame,
    malformed: pl.DataFrame,
    reissued: pl.DataFrame,
    rates: pl.DataFrame,
    waiting: pl.DataFrame,
) -> pl.DataFrame:
    """The differences of `records` (`resolved_records`) with their confidence and why each is
    held back, if it is (`held_because`); `witnesses`: the records with the event witnesses of
    the same persons."""
    found = (
        differences(records, person, malformed, reissued)
        .with_columns(fields_behind().alias("fields_behind"))
        .with_row_index("c")
    )
    odds = register_odds(found, support(witnesses, found, rates))
    identity = match_probability() * pl.col("fields_behind")
    held_because = (
        pl.when(pl.col("in_review"))
        .then(pl.lit("in_review"))
        .when(both_slipped())
        .then(pl.lit("both_slipped"))
        .when(pl.col("confidence") >= MIN_CONFIDENCE)
        .then(None)
        .when(pl.col("outweighed"))
        .then(pl.lit("register_doubtful"))
        .when(identity < MIN_IDENTITY)
        .then(pl.lit("weak"))
        .otherwise(pl.lit("uncertain"))
    )
    return (
        found.join(odds, on="c", how="left")
        .with_columns(pl.coalesce("register_source", "best_source").alias("register_source"))
        .filter(_priority("register_source") <= _priority(SOURCE))
        .join(waiting, on=RECORD, how="left")
        .with_columns(
            pl.col("in_review").fill_null(False),
            pl.col("p_register").fill_null(0.0),
            pl.col("outweighed").fill_null(True),
        )
        .with_columns((identity * pl.col("p_register")).round(4).alias("confidence"))
        .with_columns(held_because.alias("held_because"))
    )


def masked_value(field: str, value: str | None) -> str:
    """A delivered or register value fit for a report or the UI: ids as `001*******45`, names
    as initials, a birth date as its year; sex as it is."""
    if value is None:
        return "–"
    if field == "national_id":
        return masked(value)
    if field == "full_name":
        return masked(value, "name")
    if field == "birth_date":
        return value[:4] if len(value) == 4 else f"**/**/{value[:4]}"
    return value


def _as_agency_writes(value: pl.Expr) -> pl.Expr:
    """Dates as dd/mm/yyyy, sex as Nam / Nữ: how the agency's own files write them."""
    field = pl.col("field")
    day_first = pl.concat_str(
        value.str.slice(8, 2), value.str.slice(5, 2), value.str.slice(0, 4), separator="/"
    )
    return (
        pl.when((field == "birth_date") & (value.str.len_chars() == 10))
        .then(day_first)
        .when(field == "sex")
        .then(value.replace({"M": "Nam", "F": "Nữ"}))
        .otherwise(value)
    )


def agency_sheet(corrections: pl.DataFrame, source: str) -> pl.DataFrame:
    """One source's corrections as its agency reads them: in the order of its files, under
    Vietnamese headers, its own column names for the fields, the kinds in words, values whole
    (they are the agency's own records) and no cell Excel could take for a formula."""
    contract = SOURCES[source]
    labels = {field: contract.column(field).label for field in FIELDS}
    text = {
        RECORD_ID: pl.col(RECORD_ID),
        FILE_NAME: pl.col(FILE_NAME),
        "field": pl.col("field").replace_strict(labels),
        "delivered_value": _as_agency_writes(pl.col("delivered_value")),
        "register_value": _as_agency_writes(pl.col("register_value")),
        # The register's value came from the population register, or where it was silent from
        # insurance: the agency is told which.
        "register_source": pl.col("register_source").replace(SOURCE_NAMES["vi"]),
        "kind": pl.col("kind").replace_strict(KIND_LABELS),
        "person_id": pl.col("person_id"),
    }
    headers = {RECORD_ID: contract.record_id.label, **WORKBOOK_HEADERS}
    columns = [RECORD_ID, FILE_NAME, ROW_NUMBER, "field", "delivered_value", "register_value",
               "register_source", "kind", "confidence", "person_id"]  # fmt: skip
    shown = {
        **{name: excel_safe(expr) for name, expr in text.items()},
        ROW_NUMBER: pl.col(ROW_NUMBER),
        # Rounded down as the report rounds: a confidence short of certain never reads 100.
        "confidence": floored_percents(pl.col("confidence"), decimals=1),
    }
    return (
        corrections.filter(pl.col(SOURCE) == source)
        .sort(FILE_NAME, ROW_NUMBER, "field")
        .select(shown[name].alias(headers[name]) for name in columns)
    )


# The workbook is written as SpreadsheetML directly, its rows built as text over whole columns:
# xlsxwriter, cell by cell, took 9 s of CPU per 100,000 corrections, this takes 1.2 s (most of
# it compressing). Text goes in as inline strings, which Excel never evaluates.
SHEET_NAME = "Đề nghị điều chỉnh"
ROWS_PER_CHUNK = 50_000
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Control characters XML 1.0 cannot hold.
_NOT_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"
_STYLES = (
    f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFE8EEF4"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"'
    ' applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_HEADER_STYLE = 1


def _xml_text(text: pl.Expr) -> pl.Expr:
    return (
        text.str.replace_all(_NOT_XML, "")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _column_letter(index: int) -> str:
    return chr(ord("A") + index)  # a sheet of at most 26 columns


def _rows(sheet: pl.DataFrame, first_row: int) -> str:
    """The rows of `sheet` as SpreadsheetML from row number `first_row` on: text as inline
    strings, numbers as numbers, nulls as no cell."""
    row = (pl.int_range(pl.len()) + first_row).cast(pl.String)
    cells = []
    for index, (name, dtype) in enumerate(sheet.schema.items()):
        ref = pl.concat_str(pl.lit(f'<c r="{_column_letter(index)}'), row)
        if dtype.is_numeric():
            cell = pl.concat_str(
                ref, pl.lit('"><v>'), pl.col(name).cast(pl.String), pl.lit("</v></c>")
            )
        else:
            cell = pl.concat_str(
                ref,
                pl.lit('" t="inlineStr"><is><t xml:space="preserve">'),
                _xml_text(pl.col(name).cast(pl.String)),
                pl.lit("</t></is></c>"),
            )
        cells.append(cell.fill_null(""))
    rows = pl.concat_str(pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>"))
    return sheet.select(rows.str.join("")).item() if sheet.height else ""


def _header(columns: list[str]) -> str:
    frame = pl.DataFrame({"header": columns})
    cells = frame.select(
        pl.concat_str(
            pl.lit('<c r="'),
            pl.Series([_column_letter(i) for i in range(len(columns))]),
            pl.lit(f'1" s="{_HEADER_STYLE}" t="inlineStr"><is><t>'),
            _xml_text(pl.col("header")),
            pl.lit("</t></is></c>"),
        ).str.join("")
    ).item()
    return f'<row r="1">{cells}</row>'


def _package(width: int, heights: list[int]) -> dict[str, str]:
    """Every part of the workbook but its sheets' rows; `heights`: each sheet's rows."""
    names = [escape(name) for name in sheet_names(SHEET_NAME, sum(heights), SHEET_ROWS)]
    sheets = range(1, len(heights) + 1)
    areas = [f"$A$1:${_column_letter(width - 1)}${height + 1}" for height in heights]
    return {
        "[Content_Types].xml": _XML
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{_TYPE}.worksheet'
            '+xml"/>'
            for n in sheets
        )
        + f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/></Types>',
        "_rels/.rels": _XML + f'<Relationships xmlns="{_PACKAGE}"><Relationship Id="rId1" '
        f'Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": _XML
        + f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}"><sheets>'
        + "".join(f'<sheet name="{names[n - 1]}" sheetId="{n}" r:id="rId{n}"/>' for n in sheets)
        + "</sheets><definedNames>"
        + "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n - 1}" hidden="1">'
            f"&apos;{names[n - 1]}&apos;!{areas[n - 1]}</definedName>"
            for n in sheets
        )
        + "</definedNames></workbook>",
        "xl/_rels/workbook.xml.rels": _XML
        + f'<Relationships xmlns="{_PACKAGE}">'
        + "".join(
            f'<Relationship Id="rId{n}" Type="{_RELATIONSHIPS}/worksheet" '
            f'Target="worksheets/sheet{n}.xml"/>'
            for n in sheets
        )
        + f'<Relationship Id="rId{len(heights) + 1}" Type="{_RELATIONSHIPS}/styles" '
        'Target="styles.xml"/></Relationships>',
        "xl/styles.xml": _XML + _STYLES,
    }


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry dated like every other: the same workbook gives the same bytes."""
    entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def write_workbook(path: Path, sheet: pl.DataFrame) -> None:
    """`sheet` as an XLSX at `path`: a bold, frozen header row with a filter, every cell text
    Excel shows as it is, `SHEET_ROWS` rows a sheet (`dancu.review.sheet_names`): at ten
    million persons insurance and schools each had about a million corrections. Written whole
    or not at all, readable by its owner and group alone (`WORKBOOK_MODE`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    parts = [sheet.slice(start, SHEET_ROWS) for start in range(0, max(sheet.height, 1), SHEET_ROWS)]
    head = (
        _XML + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}"><sheetViews>'
        '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
        ' state="frozen"/></sheetView></sheetViews>'
        f'<cols><col min="1" max="{sheet.width}" width="22" customWidth="1"/></cols>'
        f"<sheetData>{_header(sheet.columns)}"
    )
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, WORKBOOK_MODE)
    with os.fdopen(descriptor, "wb") as file, zipfile.ZipFile(file, "w") as book:
        for name, xml in _package(sheet.width, [part.height for part in parts]).items():
            book.writestr(_entry(name), xml)
        for number, rows in enumerate(parts, start=1):
            last = f"{_column_letter(sheet.width - 1)}{rows.height + 1}"
            with book.open(_entry(f"xl/worksheets/sheet{number}.xml"), "w") as part:
                part.write(head.encode())
                for start in range(0, rows.height, ROWS_PER_CHUNK):
                    part.write(_rows(rows.slice(start, ROWS_PER_CHUNK), start + 2).encode())
                part.write(f'</sheetData><autoFilter ref="A1:{last}"/></worksheet>'.encode())
    partial.chmod(WORKBOOK_MODE)  # whatever the umask took away
    partial.replace(path)


def write_workbooks(corrections: pl.DataFrame, folder: Path, stamp: str) -> dict[str, Path]:
    """One XLSX per person source, `corrections_<source>_<stamp>.xlsx` in `folder`, with that
    source's corrections alone (a header alone when it has none): each agency gets its own."""
    written = {}
    for source in PERSON_SOURCES:
        path = folder / f"corrections_{source}_{stamp}.xlsx"
        write_workbook(path, agency_sheet(corrections, source))
        written[source] = path
    return written
