"""Domain rules as data: an id, a severity, a message, and the polars expression that finds the
rows breaking the rule.

Rules judge a standardised frame: typed values, plus what the parse left beside them (the repaired
text under `_text:<column>`, the date parse under `_parsed:<column>`). The same ids appear in
quarantine reasons, asset-check metadata and the report. "quarantine" rules follow the contract's
"What is rejected" section; every other rule is a "flag" that stays on the row.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import polars as pl

from dancu import documents, parse
from dancu.contract import EXTRACT_DATE, FILE_NAME, RECORD_ID, Source, temporary_code_of
from dancu.ingest import RAGGED, TRUNCATED, UNDECODABLE
from dancu.nationality import unknown_nationality
from dancu.parse import GENERATION
from dancu.text import fold, fold_label

Severity = Literal["quarantine", "flag"]
REASONS = "reasons"
FLAGS = "flags"
# Kinds of column whose value, when written but not parsed, is no known code.
CODED_KINDS = ("code", "cmnd", "phone", "ward_code", "certificate_form", "school_year")
MAX_AGE = 120
MAX_FIELD_CHARS = 500  # the longest address is far shorter; more is a corrupt cell
MOTHER_AGE = (12, 60)
FATHER_AGE = (12, 90)
MARRIAGE_AGE = {"husband": 20, "wife": 18}  # the legal minimum


def text_of(column: str) -> pl.Expr:
    """The repaired text a column was parsed from."""
    return pl.col(f"_text:{column}")


def parsed_date(column: str) -> pl.Expr:
    return pl.col(f"_parsed:{column}")


def date_columns(source: Source) -> list[str]:
    return source.of_kind("date", "birth_date")


def id_columns(source: Source) -> list[str]:
    return source.of_kind("national_id")


def is_rejected() -> pl.Expr:
    """Whether a standardised row broke a quarantine rule."""
    return pl.col(REASONS).list.len() > 0


def accepted(std: pl.LazyFrame) -> pl.LazyFrame:
    """The standardised rows that no quarantine rule rejected."""
    return std.filter(~is_rejected())


def is_held() -> pl.Expr:
    """Whether an accepted row is a record's earlier version that stands because its later
    delivery was quarantined (`PREVIOUS_VERSION_HELD`): published although not the latest."""
    return pl.col(FLAGS).list.contains(rule_message(PREVIOUS_VERSION_HELD))


def _any(exprs: list[pl.Expr]) -> pl.Expr:
    return pl.any_horizontal(exprs).fill_null(False) if exprs else pl.lit(False)


def _year(column: str) -> pl.Expr:
    return parsed_date(column).struct["year"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    message: str
    violated: Callable[[Source], pl.Expr]
    applies: Callable[[Source], bool] = lambda source: True


def _for(*sources: str) -> Callable[[Source], bool]:
    return lambda source: source.name in sources


def _has_subject(source: Source) -> bool:
    return source.subject is not None


def _registers_dated_event(source: Source) -> bool:
    """An event with a date of its own, which its registration cannot precede."""
    return source.event is not None and source.event.date != "registration_date"


def _has(column: str) -> Callable[[Source], bool]:
    return lambda source: column in source.column_names


def _delivers_subject_id(*kinds: str) -> Callable[[Source], bool]:
    """The source delivers its subject's personal id in a column of one of `kinds` (a judicial
    request derives it from its document instead)."""

    def delivers(source: Source) -> bool:
        subject = source.subject
        return subject is not None and any(
            c.name == subject.national_id and c.kind in kinds for c in source.columns
        )

    return delivers


def _has_kind(*kinds: str) -> Callable[[Source], bool]:
    return lambda source: bool(source.of_kind(*kinds))


def _has_documents(source: Source) -> bool:
    return bool(source.documents)


# --- quarantine: the row cannot be a true record ----------------------------------------------


def _cut_short(source: Source) -> pl.Expr:
    return pl.col(TRUNCATED)


def _ragged(source: Source) -> pl.Expr:
    return pl.col(RAGGED)


def _record_id_missing(source: Source) -> pl.Expr:
    return pl.col(RECORD_ID).is_null()


def _repeats_header(source: Source) -> pl.Expr:
    # Extracts joined into one file carry each one's header inside the data, spelt as that
    # extract's header was (in capitals, without diacritics, with a Windows-1258 file's tone
    # marks apart from their letters): compared as ingest matches headers, by `fold_label`.
    column = source.record_id
    labels = [fold_label(label) for label in (column.label, *column.aliases)]
    written = fold(pl.col(RECORD_ID)).str.replace_all(r"[^a-z0-9]", "")
    return written.is_in(labels).fill_null(False)


def _record_id_repeated(source: Source) -> pl.Expr:
    # The first row of a record id in a file stands; a later one in the same file cannot. Rows
    # without one (a blank line, a totals row) are `record_id.missing`, not repeats of each other.
    repeated = ~pl.struct(FILE_NAME, RECORD_ID).is_first_distinct()
    return pl.col(RECORD_ID).is_not_null() & repeated


def _name_empty(source: Source) -> pl.Expr:
    # A "name" without a single letter ("123456", "???") names nobody.
    no_letter = [~pl.col(c).str.contains(r"\p{L}").fill_null(False) for c in source.required_names]
    return _any(no_letter)


def _date_impossible(source: Source) -> pl.Expr:
    return _any([parsed_date(c).struct["impossible"] for c in date_columns(source)])


def _date_in_future(source: Source) -> pl.Expr:
    extract_year = pl.col(EXTRACT_DATE).dt.year()
    return _any(
        [
            (pl.col(c) > pl.col(EXTRACT_DATE)) | (_year(c) > extract_year)
            for c in date_columns(source)
        ]
    )


def _id_non_digit(source: Source) -> pl.Expr:
    return _any([parse.has_non_id_characters(text_of(c)) for c in id_columns(source)])


def _death_before_birth(source: Source) -> pl.Expr:
    by_day = pl.col("death_date") < pl.col("birth_date")
    return (by_day | (_year("death_date") < _year("birth_date"))).fill_null(False)


def id_of_another_party(source: Source, role: str) -> pl.Expr:
    """Whether the personal id of an event's party `role` is another party's of the same event
    (one person cannot be two of its parties)."""
    parties = source.event.parties
    own = pl.col(parties[role].national_id)
    others = [party.national_id for other, party in parties.items() if other != role]
    return pl.any_horizontal([(own == pl.col(other)).fill_null(False) for other in others])


def _marries_oneself(source: Source) -> pl.Expr:
    return id_of_another_party(source, "husband")


# --- flags: kept, but worth a look --------------------------------------------------------------


def _subject_id(source: Source) -> pl.Expr:
    return pl.col(source.subject.national_id)


def _id_missing(source: Source) -> pl.Expr:
    return text_of(source.subject.national_id).is_null()


def _id_malformed(source: Source) -> pl.Expr:
    column = source.subject.national_id
    written = text_of(column).is_not_null() & ~parse.has_non_id_characters(text_of(column))
    return written & pl.col(column).is_null()


def _id_province_unknown(source: Source) -> pl.Expr:
    national_id = _subject_id(source)
    return (national_id.is_not_null() & ~parse.is_valid_national_id(national_id)).fill_null(False)


def _id_sex_mismatch(source: Source) -> pl.Expr:
    return (parse.id_sex(_subject_id(source)) != pl.col(source.subject.sex)).fill_null(False)


def _parents_id_on_the_child(source: Source) -> pl.Expr:
    return id_of_another_party(source, "child")


def _id_birth_year_mismatch(source: Source) -> pl.Expr:
    birth_year = pl.col(source.subject.birth_year)
    return (parse.id_birth_year(_subject_id(source)) != birth_year).fill_null(False)


def _day_month_swapped(source: Source) -> pl.Expr:
    return _any([parsed_date(c).struct["day_month_swapped"] for c in date_columns(source)])


def _two_digit_year(source: Source) -> pl.Expr:
    return _any([parsed_date(c).struct["two_digit_year"] for c in date_columns(source)])


def _registration_before_event(source: Source) -> pl.Expr:
    return (pl.col("registration_date") < pl.col(source.event.date)).fill_null(False)


def _age_implausible(source: Source) -> pl.Expr:
    age = pl.col(EXTRACT_DATE).dt.year() - _year("birth_date")
    return (age > MAX_AGE).fill_null(False)


def _parent_age_implausible(source: Source) -> pl.Expr:
    child = _year("birth_date")
    mother_age = child - _year("mother_birth_date")
    father_age = child - _year("father_birth_date")
    return _any([~mother_age.is_between(*MOTHER_AGE), ~father_age.is_between(*FATHER_AGE)])


def _under_marriage_age(source: Source) -> pl.Expr:
    year = pl.col("registration_date").dt.year()
    return _any([year - _year(f"{role}_birth_date") < age for role, age in MARRIAGE_AGE.items()])


def _present(column: str) -> pl.Expr:
    # A bare birth year is a valid birth date.
    return (
        _year(column).is_not_null()
        if column.endswith("birth_date")
        else pl.col(column).is_not_null()
    )


def _required_missing(source: Source) -> pl.Expr:
    return _any([~_present(c) for c in source.required_fields])


def _name_has_digits(source: Source) -> pl.Expr:
    return _any([pl.col(c).str.contains(r"\d") for c in source.of_kind("name")])


def _text_undecodable(source: Source) -> pl.Expr:
    return _any([text_of(c).str.contains(UNDECODABLE, literal=True) for c in source.column_names])


def _field_too_long(source: Source) -> pl.Expr:
    return _any([text_of(c).str.len_chars() > MAX_FIELD_CHARS for c in source.column_names])


def _ward_unsettled(source: Source) -> pl.Expr:
    return pl.col("address_issue").is_not_null()


def _sex_unknown(source: Source) -> pl.Expr:
    return text_of("sex").is_not_null() & pl.col("sex").is_null()


def _code_unknown(source: Source) -> pl.Expr:
    fields = source.of_kind(*CODED_KINDS)
    return _any([text_of(c).is_not_null() & pl.col(c).is_null() for c in fields])


def _temporary_code(source: Source) -> pl.Expr:
    return _any(
        [pl.col(temporary_code_of(c)).is_not_null() for c in source.of_kind("provisional_id")]
    )


def _id_of_older_generation(source: Source) -> pl.Expr:
    birth_year = pl.col(source.subject.birth_year)
    return parse.is_older_generation_id(_subject_id(source), birth_year)


def _nationality_unknown(source: Source) -> pl.Expr:
    return _any([unknown_nationality(text_of(c)) for c in source.of_kind("nationality")])


def _written(column: str) -> pl.Expr:
    return text_of(column).str.strip_chars().fill_null("") != ""


def _document_type_unknown(source: Source) -> pl.Expr:
    # A type that names none, or a number without a type.
    return _any(
        [
            (_written(d.type) | _written(d.number)) & pl.col(d.type).is_null()
            for d in source.documents
        ]
    )


def _document_number_misfit(source: Source) -> pl.Expr:
    # Passports have a rule of their own, which knows each country's shape.
    return _any(
        [
            _written(d.number)
            & pl.col(d.type).is_not_null()
            & (pl.col(d.type) != documents.PASSPORT)
            & pl.col(d.number).is_null()
            for d in source.documents
        ]
    )


def _passport_malformed(source: Source) -> pl.Expr:
    return _any(
        [
            (pl.col(d.type) == documents.PASSPORT)
            & documents.passport_malformed(text_of(d.number), pl.col(d.issuing_country))
            for d in source.documents
        ]
    )


# --- judged across a record's deliveries, not row by row ----------------------------------------

# Set by `dancu.standardize.latest` on the earlier row that stands for a record whose latest
# delivery was quarantined.
HELD = "_held"


def _previous_version_held(source: Source) -> pl.Expr:
    return pl.col(HELD)


def _across_deliveries(source: Source) -> bool:
    # A row alone cannot tell that a later delivery of its record was refused: `apply_rules`
    # judges each file's rows on their own (and caches them so), `dancu.standardize.latest`
    # compares the deliveries.
    return False


PREVIOUS_VERSION_HELD = Rule(
    "record.previous_version_held",
    "flag",
    "a later delivery of this record was quarantined: this earlier version stands",
    _previous_version_held,
    _across_deliveries,
)


RULES: tuple[Rule, ...] = (
    Rule(
        "file.truncated",
        "quarantine",
        "the file ends inside this row: it was cut short",
        _cut_short,
    ),
    Rule(
        "row.ragged",
        "quarantine",
        "the row holds more fields than the header (a separator inside a value): its values"
        " may stand under other columns",
        _ragged,
    ),
    Rule(
        "row.repeats_header",
        "quarantine",
        "the row repeats the header: extracts were joined into one file",
        _repeats_header,
    ),
    Rule("record_id.missing", "quarantine", "the record id is empty", _record_id_missing),
    Rule(
        "record_id.repeated_in_extract",
        "quarantine",
        "the record id appears earlier in the same extract",
        _record_id_repeated,
    ),
    Rule("name.empty", "quarantine", "the name has no letter after repair", _name_empty),
    Rule("date.impossible", "quarantine", "a date is not a real day", _date_impossible),
    Rule("date.future", "quarantine", "a date lies after the extract date", _date_in_future),
    Rule(
        "id.non_digit",
        "quarantine",
        "a personal id holds characters other than digits and separators",
        _id_non_digit,
    ),
    Rule(
        "date.death_before_birth",
        "quarantine",
        "the death precedes the birth",
        _death_before_birth,
        _for("khai_tu"),
    ),
    Rule(
        "marriage.same_person",
        "quarantine",
        "husband and wife carry one personal id: no one marries themselves",
        _marries_oneself,
        _for("ket_hon"),
    ),
    Rule(
        "id.missing",
        "flag",
        "no personal id",
        _id_missing,
        _delivers_subject_id("national_id", "provisional_id"),
    ),
    Rule(
        "id.malformed",
        "flag",
        "the personal id is not 12 digits",
        _id_malformed,
        _delivers_subject_id("national_id"),
    ),
    Rule(
        "id.temporary_code",
        "flag",
        "the personal-id column holds a temporary code, not a 12-digit personal id",
        _temporary_code,
        _has_kind("provisional_id"),
    ),
    Rule(
        "id.of_older_generation",
        "flag",
        f"the personal id encodes a birth year {GENERATION} or more years before the record's: "
        "a parent's id",
        _id_of_older_generation,
        _delivers_subject_id("provisional_id"),
    ),
    Rule(
        "id.province_unknown",
        "flag",
        "the personal id does not start with one of the 63 province codes",
        _id_province_unknown,
        _has_subject,
    ),
    Rule(
        "id.sex_mismatch",
        "flag",
        "the personal id's sex digit disagrees with the recorded sex",
        _id_sex_mismatch,
        _has_subject,
    ),
    Rule(
        "id.a_parents_on_the_child",
        "flag",
        "the child's personal id is its mother's or father's: the child is linked without it",
        _parents_id_on_the_child,
        _for("khai_sinh"),
    ),
    Rule(
        "id.birth_year_mismatch",
        "flag",
        "the personal id's birth year disagrees with the recorded birth date",
        _id_birth_year_mismatch,
        _has_subject,
    ),
    Rule(
        "date.day_month_swapped",
        "flag",
        "a date was read as mm/dd, the only reading that is a real day",
        _day_month_swapped,
    ),
    Rule(
        "date.two_digit_year",
        "flag",
        "a date's year has two digits: its century is the one nearest the personal id's birth "
        "year, or else the latest that does not put the date after the extract date",
        _two_digit_year,
    ),
    Rule(
        "date.registration_before_event",
        "flag",
        "the registration precedes the event it registers",
        _registration_before_event,
        _registers_dated_event,
    ),
    Rule(
        "age.implausible",
        "flag",
        f"the person would be older than {MAX_AGE}",
        _age_implausible,
        _has("birth_date"),
    ),
    Rule(
        "birth.parent_age_implausible",
        "flag",
        f"a parent's age at the birth is outside {MOTHER_AGE} (mother) or {FATHER_AGE} (father)",
        _parent_age_implausible,
        _for("khai_sinh"),
    ),
    Rule(
        "marriage.under_age",
        "flag",
        "a spouse is under the legal age (men 20, women 18)",
        _under_marriage_age,
        _for("ket_hon"),
    ),
    Rule("required.missing", "flag", "a required field is empty", _required_missing),
    Rule("name.has_digits", "flag", "a name holds digits", _name_has_digits),
    Rule(
        "text.undecodable",
        "flag",
        "a field holds bytes that are no text in the file's encoding",
        _text_undecodable,
    ),
    Rule(
        "field.too_long",
        "flag",
        f"a field is longer than {MAX_FIELD_CHARS} characters",
        _field_too_long,
    ),
    Rule("sex.unknown", "flag", "sex is not Nam/Nữ", _sex_unknown, _has("sex")),
    Rule(
        "ward.unsettled",
        "flag",
        "the address and ward code do not settle one current ward (see address_issue)",
        _ward_unsettled,
        _has("address"),
    ),
    Rule(
        "code.unknown",
        "flag",
        "a coded field (ethnicity, marital status, phone, ward code, CMND, certificate form, "
        "school year) holds no known code",
        _code_unknown,
    ),
    Rule(
        "nationality.unknown",
        "flag",
        "a nationality names no country (nor statelessness)",
        _nationality_unknown,
        _has_kind("nationality"),
    ),
    Rule(
        "document.type_unknown",
        "flag",
        "a document's type is none of CCCD, CMND, passport, identity certificate",
        _document_type_unknown,
        _has_documents,
    ),
    Rule(
        "document.number_misfit",
        "flag",
        "a document number does not fit its type (CMND 9 digits, CCCD 12)",
        _document_number_misfit,
        _has_documents,
    ),
    Rule(
        "document.passport_malformed",
        "flag",
        "a passport number does not have the shape its country issues (6-9 letters and digits)",
        _passport_malformed,
        _has_documents,
    ),
    PREVIOUS_VERSION_HELD,
)


def rules_for(source: Source) -> list[Rule]:
    return [rule for rule in RULES if rule.applies(source)]


def _messages(rules: list[Rule], source: Source) -> pl.Expr:
    """The messages of the `rules` each row breaks, as a list.

    Rows break few combinations of rules: each row's combination is packed into the bits of one
    integer, and a list is built once per distinct combination, not once per row.
    """
    bits = [
        rule.violated(source).fill_null(False).cast(pl.UInt64) * 2**i
        for i, rule in enumerate(rules)
    ]
    texts = [rule_message(rule) for rule in rules]

    def lists(combinations: pl.Series) -> pl.Series:
        distinct = combinations.unique()
        chosen = [[t for i, t in enumerate(texts) if c >> i & 1] for c in distinct]
        table = pl.DataFrame(
            {"c": distinct, "messages": pl.Series(chosen, dtype=pl.List(pl.String))}
        )
        rows = combinations.to_frame("c").join(table, on="c", how="left", maintain_order="left")
        return rows["messages"]

    return pl.sum_horizontal(bits).map_batches(lists, return_dtype=pl.List(pl.String))


def rule_message(rule: Rule) -> str:
    """How a reason or flag names the rule: "rule.id: message"."""
    return f"{rule.id}: {rule.message}"


def flags_with(rule: Rule, source: Source) -> pl.Expr:
    """`FLAGS` with the message of `rule`, a flag that `apply_rules` does not apply, added on
    the rows that break it."""
    added = pl.col(FLAGS).list.concat(pl.lit(rule_message(rule)))
    return pl.when(rule.violated(source).fill_null(False)).then(added).otherwise(pl.col(FLAGS))


def apply_rules(frame: pl.LazyFrame, source: Source) -> pl.LazyFrame:
    """Attach `reasons` (quarantine rules broken) and `flags` (advisory rules broken)."""
    rules = rules_for(source)
    return frame.with_columns(
        _messages([r for r in rules if r.severity == "quarantine"], source).alias(REASONS),
        _messages([r for r in rules if r.severity == "flag"], source).alias(FLAGS),
    )


def rule_id(reason: pl.Expr) -> pl.Expr:
    """The rule id at the head of a "rule.id: message" reason."""
    return reason.str.extract(r"^([\w.]+):")


def rule_counts(frame: pl.DataFrame | pl.LazyFrame) -> dict[str, int]:
    """How many rows break each rule, reasons and flags together, most frequent first."""
    lists = (frame.lazy().select(pl.col(c).explode().alias("reason")) for c in (REASONS, FLAGS))
    ids = pl.concat(lists)
    counts = (
        ids.drop_nulls().select(rule_id(pl.col("reason"))).group_by("reason").len("count").collect()
    )
    return dict(counts.sort(["count", "reason"], descending=[True, False]).iter_rows())
