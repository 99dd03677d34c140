"""The extract contract (`shared/extracts.md`) as data: sources, their columns and header labels.

Every stage refers to source columns by the canonical English names below; the Vietnamese labels
are what the source systems write in their header rows.
"""

import os
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
    # A personal-id column where some writers type a temporary code of their own instead (a
    # school's): a 12-digit id is parsed, anything else is kept apart as a temporary code.
    "provisional_id",
    "nationality",  # one or two nationalities, as ISO 3166-1 alpha-3 codes (`dancu.nationality`)
    "document_type",  # `Loại giấy tờ`: a type of `dancu.documents`, settled with its number
    "document_number",  # normalised by the type of its `Document`
    "certificate_form",  # the judicial-record certificate form: 1 or 2
    "school_year",  # `2025-2026`
    # Criminal data, the most sensitive class: kept for the justice service alone, and never
    # written to the quarantine's delivered values, logs or metadata, not even masked.
    "criminal_record",
]
# Kinds written as Vietnamese words, where encodings, NFC and spacing matter.
TEXT_KINDS = frozenset(
    {"name", "address", "place", "sex", "code", "word", "nationality", "document_type",
     "certificate_form", "criminal_record"}
)  # fmt: skip
# Kinds that hold few distinct values: repaired and parsed once per value.
FEW_VALUE_KINDS = frozenset(
    {"sex", "code", "word", "place", "nationality", "document_type", "certificate_form"}
)
# Kinds whose values leave the standardised frame only towards the service entitled to them.
MOST_SENSITIVE_KINDS = frozenset({"criminal_record"})


def temporary_code_of(column: str) -> str:
    """Where standardisation puts the temporary code a provisional-id column holds."""
    return f"{column}_temporary"


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: ColumnKind
    aliases: tuple[str, ...] = ()
    # A code of this many digits: leading zeros a number type dropped are restored.
    digits: int | None = None
    # Some extracts carry the column, others do not: a file without it is read, not rejected.
    optional: bool = False

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
class Document:
    """An identity document a row names, other than in a personal-id column: its columns are
    `<holder>document_type`, `<holder>document_number` and `<holder>nationality` (the holder's,
    when the source has it), and standardisation adds `<holder>issuing_country` (alpha-3).

    `holder` is "" for the person the record is about, else a party's role and an underscore
    (`mother_`). Where the source has no personal-id column of the holder's, standardisation
    derives `<holder>national_id` and `<holder>cmnd` from a document of those types.
    """

    holder: str = ""
    issued_by: str | None = None  # the column naming the place of issue (`Nơi cấp`), if any

    @property
    def type(self) -> str:
        return f"{self.holder}document_type"

    @property
    def number(self) -> str:
        return f"{self.holder}document_number"

    @property
    def nationality(self) -> str:
        return f"{self.holder}nationality"

    @property
    def issuing_country(self) -> str:
        return f"{self.holder}issuing_country"

    @property
    def national_id(self) -> str:
        return f"{self.holder}national_id"

    @property
    def cmnd(self) -> str:
        return f"{self.holder}cmnd"


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
    documents: tuple[Document, ...] = ()

    @property
    def record_id(self) -> Column:
        return self.columns[0]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def of_kind(self, *kinds: ColumnKind) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]

    @property
    def withheld(self) -> list[str]:
        """The columns of the most sensitive kinds (`MOST_SENSITIVE_KINDS`)."""
        return self.of_kind(*MOST_SENSITIVE_KINDS)

    @property
    def derived_ids(self) -> dict[str, Document]:
        """The personal-id columns (`national_id`, `cmnd`) that standardisation derives from a
        document, because the source has no such column of its own for the holder."""
        return {
            column: document
            for document in self.documents
            if document.national_id not in self.column_names
            for column in (document.national_id, document.cmnd)
        }

    def column(self, name: str) -> Column:
        """The contract column `name`; for a derived personal id, the document number it is
        read from (its label is the one the agency knows)."""
        if name in self.derived_ids:
            name = self.derived_ids[name].number
        return next(c for c in self.columns if c.name == name)


def _col(name: str, label: str, kind: ColumnKind, *aliases: str) -> Column:
    return Column(name, label, kind, aliases)


def _optional(name: str, label: str, kind: ColumnKind, *aliases: str) -> Column:
    return Column(name, label, kind, aliases, optional=True)


def _foreign_party(role: str, label: str) -> tuple[Column, ...]:
    """The optional columns of a party who may be foreign: nationality and a document."""
    return (
        _optional(f"{role}_nationality", f"Quốc tịch {label}", "nationality"),
        _optional(f"{role}_document_type", f"Loại giấy tờ {label}", "document_type"),
        _optional(f"{role}_document_number", f"Số giấy tờ {label}", "document_number"),
    )


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
        _col("nationality", "Quốc tịch", "nationality"),
        _col("hometown", "Quê quán", "place"),
        _col("address", "Nơi thường trú", "address", "Địa chỉ thường trú"),
        _col("ward_code", "Mã xã thường trú", "ward_code", "Mã xã"),
        _col("marital_status", "Tình trạng hôn nhân", "code"),
        _col("father_name", "Họ tên cha", "name"),
        _col("mother_name", "Họ tên mẹ", "name"),
        _col("phone", "Số điện thoại", "phone"),
        _col("updated_date", "Ngày cập nhật", "date"),
        # A personal id re-issued after a correction of sex or birth year: the one before.
        _optional("previous_national_id", "Số định danh cá nhân cũ", "national_id"),
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
        _col("nationality", "Quốc tịch", "nationality"),
        _col("child_national_id", "Số định danh cá nhân", "national_id"),
        _col("mother_name", "Họ tên mẹ", "name"),
        _col("mother_birth_date", "Ngày sinh mẹ", "birth_date"),
        _col("mother_national_id", "Số định danh mẹ", "national_id"),
        _col("father_name", "Họ tên cha", "name"),
        _col("father_birth_date", "Ngày sinh cha", "birth_date"),
        _col("father_national_id", "Số định danh cha", "national_id"),
        *_foreign_party("mother", "mẹ"),
        *_foreign_party("father", "cha"),
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
    documents=(Document("mother_"), Document("father_")),
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
        *_foreign_party("husband", "chồng"),
        *_foreign_party("wife", "vợ"),
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
    documents=(Document("husband_"), Document("wife_")),
)

GIAO_DUC = Source(
    "giao_duc",
    "person",
    "student records of the education sector, one file per school",
    ("xlsx", "csv"),
    (
        _col(RECORD_ID, "Mã học sinh", "record_id", "Mã HS"),
        # Often empty; some schools type a code of their own or a parent's id into it.
        _col(
            "national_id",
            "Số định danh cá nhân",
            "provisional_id",
            "Số định danh",
            "Số CCCD",
            "Mã định danh",
        ),
        _col("full_name", "Họ và tên", "name", "Họ tên", "Họ, chữ đệm và tên", "Họ tên học sinh"),
        _col("birth_date", "Ngày sinh", "birth_date", "Ngày, tháng, năm sinh"),
        _col("sex", "Giới tính", "sex"),
        _col("ethnicity", "Dân tộc", "code"),
        _col("nationality", "Quốc tịch", "nationality"),
        _col("school_code", "Mã trường", "word"),
        _col("class_name", "Lớp", "word"),
        _col("school_year", "Năm học", "school_year"),
        _col("address", "Nơi thường trú", "address", "Địa chỉ thường trú", "Địa chỉ"),
        _col("ward_code", "Mã xã thường trú", "ward_code", "Mã xã"),
        _col("father_name", "Họ tên cha", "name"),
        _col("mother_name", "Họ tên mẹ", "name"),
        _col(
            "parent_phone",
            "Số điện thoại phụ huynh",
            "phone",
            "SĐT phụ huynh",
            "Điện thoại phụ huynh",
        ),
    ),
    required_names=("full_name",),
    required_fields=("birth_date", "sex", "school_code"),
    cadence_days=35,
    subject=_SUBJECT,
    priority=3,
)

LY_LICH_TU_PHAP = Source(
    "ly_lich_tu_phap",
    "person",
    "judicial-record requests and the records behind them",
    ("csv",),
    (
        _col(RECORD_ID, "Số hồ sơ", "record_id"),
        _col("received_date", "Ngày tiếp nhận", "date"),
        _col("certificate_form", "Loại phiếu", "certificate_form"),
        _col("full_name", "Họ và tên", "name", "Họ tên", "Họ, chữ đệm và tên"),
        _col("other_names", "Tên gọi khác", "name"),
        _col("birth_date", "Ngày sinh", "birth_date", "Ngày, tháng, năm sinh"),
        _col("sex", "Giới tính", "sex"),
        _col("birth_place", "Nơi sinh", "place"),
        _col("nationality", "Quốc tịch", "nationality"),
        _col("document_type", "Loại giấy tờ", "document_type", "Loại giấy tờ tùy thân"),
        _col("document_number", "Số giấy tờ", "document_number", "Số giấy tờ tùy thân"),
        _col("document_issued_by", "Nơi cấp", "place"),
        _col("address", "Nơi thường trú", "address", "Địa chỉ thường trú"),
        _col("father_name", "Họ tên cha", "name"),
        _col("mother_name", "Họ tên mẹ", "name"),
        _col("spouse_name", "Họ tên vợ/chồng", "name"),
        _col("criminal_record", "Án tích", "criminal_record"),
    ),
    required_names=("full_name",),
    required_fields=("birth_date", "sex", "received_date"),
    cadence_days=35,
    # The personal id is the document's number where the document is a CCCD (`derived_ids`).
    subject=_SUBJECT,
    priority=4,
    documents=(Document("", issued_by="document_issued_by"),),
)


SOURCES: dict[str, Source] = {
    s.name: s for s in (DAN_CU, BHXH, Y_TE, KHAI_SINH, KHAI_TU, KET_HON, GIAO_DUC, LY_LICH_TU_PHAP)
}
PERSON_SOURCES = tuple(name for name, s in SOURCES.items() if s.kind == "person")
EVENT_SOURCES = tuple(name for name, s in SOURCES.items() if s.kind == "event")
SOURCE_PRIORITY = {name: s.priority for name, s in SOURCES.items() if s.priority is not None}
# The person sources that only use the register: each of their records finds a person the
# register knows, or none (its match status says why). They bring no one into the register.
MATCHED_SOURCES = ("giao_duc", "ly_lich_tu_phap")


def as_of() -> date:
    """The day deliveries are judged on: today, or `DANCU_AS_OF` (ISO date) where extracts are
    replayed or generated for another day (the demo's sample ends on its as-of date)."""
    configured = os.environ.get("DANCU_AS_OF")
    return date.fromisoformat(configured) if configured else date.today()
