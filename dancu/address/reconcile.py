"""Step 3: the parsed text, a ward code and the extract period settled into one current ward."""

from dataclasses import dataclass, field, replace

from dancu.address.parse import ParsedAdmin
from dancu.address.tables import unit_tables

# The `address_issue` ids; `dancu.address` says when each is set.
CODE_UNKNOWN = "ward.code_unknown"
CODE_CONFLICT = "ward.code_conflicts_with_address"
AMBIGUOUS = "ward.ambiguous"
UNKNOWN = "ward.unknown"


@dataclass(frozen=True)
class _Reading:
    ward: str  # current ward code
    old: str | None = None  # old ward code, where the input named or coded one
    scheme: str | None = None  # scheme the code was read in


@dataclass(frozen=True)
class Resolution:
    """The outcome for one (administrative part, ward code, period)."""

    ward: str | None
    old: str | None
    issue: str | None
    evidence: str | None  # "text", "code" or "both": what settled the ward
    text: ParsedAdmin = field(default_factory=ParsedAdmin)  # the reading of the text that was used


def _text_resolution(parsed: ParsedAdmin, after_reform: bool | None) -> Resolution:
    """The text alone: the period's scheme first; a district or an old extract means the old one."""
    successors = unit_tables().successors
    old = [_Reading(successors[o][0], o) for o in parsed.old_wards]
    new = [_Reading(n) for n in parsed.new_wards]
    old_first = after_reform is False or bool(parsed.districts)
    readings = (old or new) if old_first else (new or old)
    settled = _settled(readings, "text") or Resolution(
        None, None, AMBIGUOUS if readings else UNKNOWN, None
    )
    return replace(settled, text=parsed)


def _settled(readings: list[_Reading], evidence: str) -> Resolution | None:
    """The one current ward all readings agree on, with the old ward if they name only one."""
    if len({r.ward for r in readings}) != 1:
        return None
    olds = {r.old for r in readings}
    return Resolution(readings[0].ward, olds.pop() if len(olds) == 1 else None, None, evidence)


def _code_readings(parsed: ParsedAdmin, code: str, after_reform: bool | None) -> list[_Reading]:
    """The code read in each scheme the period allows, where that reading fits the text."""
    tables = unit_tables()
    readings = []
    if code in tables.old_wards:
        readings.append(_old_code_reading(parsed, code))
    if after_reform is not False and code in tables.new_wards:
        readings.append(_new_code_reading(parsed, code))
    return [r for r in readings if r is not None]


def _old_code_reading(parsed: ParsedAdmin, code: str) -> _Reading | None:
    tables = unit_tables()
    successors = tables.successors[code]
    if parsed.old_wards or parsed.new_wards:
        named_next = [n for n in successors if n in parsed.new_wards]
        if code in parsed.old_wards or named_next:
            return _Reading((named_next or successors)[0], code, "old")
        return None
    if _in_region(parsed, old_ward=code):
        return _Reading(successors[0], code, "old")
    return None


def _new_code_reading(parsed: ParsedAdmin, code: str) -> _Reading | None:
    successors = unit_tables().successors
    if parsed.old_wards or parsed.new_wards:
        olds = [o for o in parsed.old_wards if code in successors[o]]
        if code in parsed.new_wards or olds:
            return _Reading(code, olds[0] if len(olds) == 1 else None, "new")
        return None
    return _Reading(code, None, "new") if _in_region(parsed, new_ward=code) else None


def _in_region(parsed: ParsedAdmin, old_ward: str = "", new_ward: str = "") -> bool:
    """Whether a ward lies in the district or province the text names (any, if it names none)."""
    tables = unit_tables()
    if parsed.districts:
        if old_ward:
            return tables.old_wards[old_ward].district in parsed.districts
        return any(new_ward in tables.reach_by_district[d] for d in parsed.districts)
    if parsed.provinces:
        unit = tables.old_wards[old_ward] if old_ward else tables.new_wards[new_ward]
        return unit.province in parsed.provinces
    return True


def _in_period(parsed: ParsedAdmin, after_reform: bool | None) -> ParsedAdmin:
    """Before the reform no current ward had its name yet: a name both schemes know is old."""
    if after_reform is not False or not parsed.old_wards:
        return parsed
    alternative = parsed.alternative and _in_period(parsed.alternative, after_reform)
    return replace(parsed, new_wards=(), alternative=alternative)


def resolve(parsed: ParsedAdmin, code: str | None, after_reform: bool | None) -> Resolution:
    """Settle the current ward from the parsed text, a normalised code and the extract period.

    `after_reform` is None when the extract date is unknown: both schemes are then allowed.
    """
    tables = unit_tables()
    parsed = _in_period(parsed, after_reform)
    if code is None:
        return _text_resolution(parsed, after_reform)
    known = code in tables.old_wards or (after_reform is not False and code in tables.new_wards)
    if not known:
        return replace(_text_resolution(parsed, after_reform), issue=CODE_UNKNOWN)
    readings = _code_readings(parsed, code, after_reform)
    if not readings and parsed.alternative is not None:
        readings = _code_readings(parsed.alternative, code, after_reform)
        parsed = parsed.alternative if readings else parsed
    if not readings:
        return replace(_text_resolution(parsed, after_reform), issue=CODE_CONFLICT)
    evidence = "both" if parsed.names_anything else "code"
    # Both schemes may fit. The text settles it where it names the current ward one reading
    # gives; else the scheme the text is written in is taken, else the current one.
    named = [r for r in readings if r.ward in parsed.new_wards]
    settled = _settled(readings, evidence) or _settled(named, evidence)
    if settled is None:
        scheme = parsed.scheme or "new"
        chosen = [r for r in readings if r.scheme == scheme]
        settled = replace(_settled(chosen, evidence), issue=AMBIGUOUS)
    return replace(settled, text=parsed)
