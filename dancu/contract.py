"""The extract contract (`shared/extracts.md`) as data: sources, their columns and header labels.

Every stage refers to source columns by the canonical English names below; the Vietnamese labels
are what the source systems write in their header rows.
"""

from dataclasses import dataclass
from datetime import date
from typing import Literal

SourceKind = Literal["person", "event"]

# Lineage columns carried by every row from ingest on.
SOURCE = "source"
FILE_NAME = "file_name"
ROW_NUMBER = "row_number"
EXTRACT_DATE = "extract_date"
RECORD_ID = "source_record_id"
LINEAGE = (SOURCE, FILE_NAME, ROW_NUMBER, EXTRACT_DATE)
# The administrative reform: extracts dated before it name old units and use the old ward codes.
REFORM_DATE = date(2025, 7, 1)


# What a column holds decides how it is repaired, parsed and checked (`dancu.standardize`,
# `dancu.schemas`, `dancu.rules`): a new column needs a kind, not code in each stage.
ColumnKind = Literal[
    "record_id",
    "name",  # a person's full name: repaired, title-cased, with a folded key beside it
    "national_id",  # a 12-digit personal id
    "date",
    "birth_date",  # a date that may be known by its year alone
    "cmnd",  # an old 9-digit id
    "phone",
    "sex",
    "ward_code",  # the 5-digit code of the address's ward, settled with the address
    "place_code",  # another 5-digit administrative code
    "health_card",
    "code",  # a value of one of `dancu.codes.CODE_LISTS`, written in words
    "word",  # a word of few values outside any code list (religion)
    "address",  # free text of many values
    "place",  # free text of few values (a hometown, a place of death)
]
# Kinds written as Vietnamese words, where encodings, NFC and spacing matter.
TEXT_KINDS = frozenset({"name", "address", "place", "sex", "code", "word"})
# Kinds that hold few distinct values: repaired and parsed once per value.
FEW_VALUE_KINDS = frozenset({"sex", "code", "word", "place"})


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: ColumnKind
    aliases: tuple[str, ...] = ()
    # A code of this many digits: leading zeros a number type dropped are restored.
    digits: int | None = None

    @property
    def year_column(self) -> str:
        """Where the year of a birth date goes: known alone for many elderly people."""
        return self.name.replace("_date", "_year")


@dataclass(frozen=True)
class Subject:
    """The columns about the person a record is about: their personal id, sex and birth year."""

    national_id: str
    sex: str
    birth_year: str


@dataclass(frozen=True)
class Party:
    """The columns of an event row that name one of its parties."""

    name: str
    national_id: str
    birth_date: str
    sex: str | None  # the column holding the party's sex, or the sex the role implies
    parents: tuple[str, str] | None = None  # the father's and mother's names, for a child

    @property
    def birth_year(self) -> str:
        return self.birth_date.replace("_date", "_year")


@dataclass(frozen=True)
class Event:
    """What a civil-registration source registers."""

    type: str  # birth, death, marriage
    date: str  # the column of the event's own date
    # Folded names that identify an event registered twice: its subject's, and a second party's.
    subject_key: str
    second_key: str | None
    parties: dict[str, Party]
    # The party an event brings into being: it founds a person when nobody in the register is it.
    founding_roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Source:
    name: str
    kind: SourceKind
    description: str
    formats: tuple[str, ...]
    columns: tuple[Column, ...]
    # The names that must be present for a record to be about anyone at all.
    required_names: tuple[str, ...]
    # Further fields the source owes; their absence is flagged, not quarantined.
    required_fields: tuple[str, ...]
    # How often the source delivers: a source whose newest extract is older is late.
    cadence_days: int
    subject: Subject | None = None
    # Person sources, most authoritative first: the golden record's source priority.
    priority: int | None = None
    event: Event | None = None

    @property
    def record_id(self) -> Column:
        return self.columns[0]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def of_kind(self, *kinds: ColumnKind) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _col(name: str, label: str, kind: ColumnKind, *aliases: str) -> Column:
    return Column(name, label, kind, aliases)


_SUBJECT = Subject("national_id", "sex", "birth_year")

DAN_CU = Source(
    "dan_cu",
    "person",
    "population registry, one file per ward",
    ("csv", "xlsx"),
    (
        _col(RECORD_ID, "Mã hồ sơ", "record_id"),
        _col("national_id", "Số định danh cá nhân", "national_id", "Số CCCD", "Số định danh"),
        _col("cmnd", "Số CMND", "cmnd"),
        _col("full_name", "Họ, chữ đệm và tên", "name", "Họ và tên", "Họ tên"),
        _col("birth_date", "Ngày, tháng, năm sinh", "birth_date", "Ngày sinh"),
        _col("sex", "Giới tính", "sex"),
        _col("ethnicity", "Dân tộc", "code"),
        _col("religion", "Tôn giáo", "word"),
        _col("nationality", "Quốc tịch", "code"),
        _col("hometown", "Quê quán", "place"),
        _col("address", "Nơi thường trú", "address", "Địa chỉ thường trú"),
        _col("ward_code", "Mã xã thường trú", "ward_code", "Mã xã"),
        _col("marital_status", "Tình trạng hôn nhân", "code"),
        _col("father_name", "Họ tên cha", "name"),
        _col("mother_name", "Họ tên mẹ", "name"),
        _col("phone", "Số điện thoại", "phone"),
        _col("updated_date", "Ngày cập nhật", "date"),
    ),
    required_names=("full_name",),
    required_fields=("birth_date", "sex", "address"),
    cadence_days=2,
    subject=_SUBJECT,
    priority=0,
)

BHXH = Source(
    "bhxh",
    "person",
    "social-insurance participants",
    ("parquet", "csv"),
    (
        Column(RECORD_ID, "Mã số BHXH", "record_id", digits=10),
        _col("full_name", "Họ và tên", "name", "Họ tên"),
        _col("birth_date", "Ngày sinh", "birth_date"),
        _col("sex", "Giới tính", "sex"),
        _col("national_id", "Số CCCD/CMND", "national_id", "Số CCCD", "Số định danh cá nhân"),
        _col("address", "Địa chỉ", "address"),
        _col("phone", "Số điện thoại", "phone"),
    ),
    required_names=("full_name",),
    required_fields=("birth_date", "sex"),
    cadence_days=35,
    subject=_SUBJECT,
    priority=1,
)

Y_TE = Source(
    "y_te",
    "person",
    "patient registers of health facilities",
    ("xlsx", "csv"),
    (
        _col(RECORD_ID, "Mã bệnh nhân", "record_id"),
        _col("full_name", "Họ tên", "name", "Họ và tên"),
        _col("birth_date", "Ngày sinh", "birth_date"),
        _col("sex", "Giới tính", "sex"),
        _col("national_id", "Số CCCD", "national_id", "Số định danh cá nhân"),
        _col("health_card", "Số thẻ BHYT", "health_card"),
        _col("address", "Địa chỉ", "address"),
        _col("phone", "Số điện thoại", "phone"),
        _col("visit_date", "Ngày khám", "date"),
    ),
    required_names=("full_name",),
    required_fields=("birth_date", "sex", "visit_date"),
    cadence_days=35,
    subject=_SUBJECT,
    priority=2,
)

KHAI_SINH = Source(
    "khai_sinh",
    "event",
    "birth registrations",
    ("csv",),
    (
        _col(RECORD_ID, "Số đăng ký", "record_id"),
        _col("registration_date", "Ngày đăng ký", "date"),
        _col("registration_place_code", "Mã nơi đăng ký", "place_code"),
        _col("child_name", "Họ tên trẻ", "name"),
        _col("birth_date", "Ngày sinh", "birth_date"),
        _col("sex", "Giới tính", "sex"),
        _col("ethnicity", "Dân tộc", "code"),
        _col("nationality", "Quốc tịch", "code"),
        _col("child_national_id", "Số định danh cá nhân", "national_id"),
        _col("mother_name", "Họ tên mẹ", "name"),
        _col("mother_birth_date", "Ngày sinh mẹ", "birth_date"),
        _col("mother_national_id", "Số định danh mẹ", "national_id"),
        _col("father_name", "Họ tên cha", "name"),
        _col("father_birth_date", "Ngày sinh cha", "birth_date"),
        _col("father_national_id", "Số định danh cha", "national_id"),
    ),
    required_names=("child_name",),
    required_fields=("birth_date", "sex", "registration_date", "mother_name"),
    cadence_days=35,
    subject=Subject("child_national_id", "sex", "birth_year"),
    event=Event(
        "birth",
        "birth_date",
        subject_key="child_name_key",
        second_key="mother_name_key",
        parties={
            "child": Party(
                "child_name",
                "child_national_id",
                "birth_date",
                "sex",
                parents=("father_name", "mother_name"),
            ),
            "mother": Party("mother_name", "mother_national_id", "mother_birth_date", "F"),
            "father": Party("father_name", "father_national_id", "father_birth_date", "M"),
        },
        founding_roles=frozenset({"child"}),
    ),
)

KHAI_TU = Source(
    "khai_tu",
    "event",
    "death registrations",
    ("csv",),
    (
        _col(RECORD_ID, "Số đăng ký", "record_id"),
        _col("registration_date", "Ngày đăng ký", "date"),
        _col("registration_place_code", "Mã nơi đăng ký", "place_code"),
        _col("full_name", "Họ tên người chết", "name"),
        _col("birth_date", "Ngày sinh", "birth_date"),
        _col("sex", "Giới tính", "sex"),
        _col("national_id", "Số định danh cá nhân", "national_id"),
        _col("death_date", "Ngày chết", "date"),
        _col("death_place", "Nơi chết", "place"),
    ),
    required_names=("full_name",),
    required_fields=("death_date", "registration_date"),
    cadence_days=35,
    subject=_SUBJECT,
    event=Event(
        "death",
        "death_date",
        subject_key="full_name_key",
        second_key=None,
        parties={"deceased": Party("full_name", "national_id", "birth_date", "sex")},
    ),
)

KET_HON = Source(
    "ket_hon",
    "event",
    "marriage registrations",
    ("csv",),
    (
        _col(RECORD_ID, "Số đăng ký", "record_id"),
        _col("registration_date", "Ngày đăng ký", "date"),
        _col("registration_place_code", "Mã nơi đăng ký", "place_code"),
        _col("husband_name", "Họ tên chồng", "name"),
        _col("husband_birth_date", "Ngày sinh chồng", "birth_date"),
        _col("husband_national_id", "Số định danh chồng", "national_id"),
        _col("wife_name", "Họ tên vợ", "name"),
        _col("wife_birth_date", "Ngày sinh vợ", "birth_date"),
        _col("wife_national_id", "Số định danh vợ", "national_id"),
    ),
    required_names=("husband_name", "wife_name"),
    required_fields=("registration_date", "husband_birth_date", "wife_birth_date"),
    cadence_days=35,
    event=Event(
        "marriage",
        "registration_date",
        subject_key="husband_name_key",
        second_key="wife_name_key",
        parties={
            "husband": Party("husband_name", "husband_national_id", "husband_birth_date", "M"),
            "wife": Party("wife_name", "wife_national_id", "wife_birth_date", "F"),
        },
    ),
)


SOURCES: dict[str, Source] = {s.name: s for s in (DAN_CU, BHXH, Y_TE, KHAI_SINH, KHAI_TU, KET_HON)}
PERSON_SOURCES = tuple(name for name, s in SOURCES.items() if s.kind == "person")
EVENT_SOURCES = tuple(name for name, s in SOURCES.items() if s.kind == "event")
SOURCE_PRIORITY = {name: s.priority for name, s in SOURCES.items() if s.priority is not None}
