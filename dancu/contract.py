"""The extract contract (`shared/extracts.md`) as data: sources, their columns and header labels.

Every stage refers to source columns by the canonical English names below; the Vietnamese labels
are what the source systems write in their header rows.
"""

from dataclasses import dataclass
from typing import Literal

SourceKind = Literal["person", "event"]

# Lineage columns carried by every row from ingest on.
SOURCE = "source"
FILE_NAME = "file_name"
ROW_NUMBER = "row_number"
EXTRACT_DATE = "extract_date"
RECORD_ID = "source_record_id"
LINEAGE = (SOURCE, FILE_NAME, ROW_NUMBER, EXTRACT_DATE)


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    name: str
    kind: SourceKind
    description: str
    formats: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def record_id(self) -> Column:
        return self.columns[0]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _col(name: str, label: str, *aliases: str) -> Column:
    return Column(name, label, aliases)


DAN_CU = Source(
    "dan_cu",
    "person",
    "population registry, one file per ward",
    ("csv", "xlsx"),
    (
        _col(RECORD_ID, "Mã hồ sơ"),
        _col("national_id", "Số định danh cá nhân", "Số CCCD", "Số định danh"),
        _col("cmnd", "Số CMND"),
        _col("full_name", "Họ, chữ đệm và tên", "Họ và tên", "Họ tên"),
        _col("birth_date", "Ngày, tháng, năm sinh", "Ngày sinh"),
        _col("sex", "Giới tính"),
        _col("ethnicity", "Dân tộc"),
        _col("religion", "Tôn giáo"),
        _col("nationality", "Quốc tịch"),
        _col("hometown", "Quê quán"),
        _col("address", "Nơi thường trú", "Địa chỉ thường trú"),
        _col("ward_code", "Mã xã thường trú", "Mã xã"),
        _col("marital_status", "Tình trạng hôn nhân"),
        _col("father_name", "Họ tên cha"),
        _col("mother_name", "Họ tên mẹ"),
        _col("phone", "Số điện thoại"),
        _col("updated_date", "Ngày cập nhật"),
    ),
)

BHXH = Source(
    "bhxh",
    "person",
    "social-insurance participants",
    ("parquet", "csv"),
    (
        _col(RECORD_ID, "Mã số BHXH"),
        _col("full_name", "Họ và tên", "Họ tên"),
        _col("birth_date", "Ngày sinh"),
        _col("sex", "Giới tính"),
        _col("national_id", "Số CCCD/CMND", "Số CCCD", "Số định danh cá nhân"),
        _col("address", "Địa chỉ"),
        _col("phone", "Số điện thoại"),
    ),
)

Y_TE = Source(
    "y_te",
    "person",
    "patient registers of health facilities",
    ("xlsx", "csv"),
    (
        _col(RECORD_ID, "Mã bệnh nhân"),
        _col("full_name", "Họ tên", "Họ và tên"),
        _col("birth_date", "Ngày sinh"),
        _col("sex", "Giới tính"),
        _col("national_id", "Số CCCD", "Số định danh cá nhân"),
        _col("health_card", "Số thẻ BHYT"),
        _col("address", "Địa chỉ"),
        _col("phone", "Số điện thoại"),
        _col("visit_date", "Ngày khám"),
    ),
)

KHAI_SINH = Source(
    "khai_sinh",
    "event",
    "birth registrations",
    ("csv",),
    (
        _col(RECORD_ID, "Số đăng ký"),
        _col("registration_date", "Ngày đăng ký"),
        _col("registration_place_code", "Mã nơi đăng ký"),
        _col("child_name", "Họ tên trẻ"),
        _col("birth_date", "Ngày sinh"),
        _col("sex", "Giới tính"),
        _col("ethnicity", "Dân tộc"),
        _col("nationality", "Quốc tịch"),
        _col("child_national_id", "Số định danh cá nhân"),
        _col("mother_name", "Họ tên mẹ"),
        _col("mother_birth_date", "Ngày sinh mẹ"),
        _col("mother_national_id", "Số định danh mẹ"),
        _col("father_name", "Họ tên cha"),
        _col("father_birth_date", "Ngày sinh cha"),
        _col("father_national_id", "Số định danh cha"),
    ),
)

KHAI_TU = Source(
    "khai_tu",
    "event",
    "death registrations",
    ("csv",),
    (
        _col(RECORD_ID, "Số đăng ký"),
        _col("registration_date", "Ngày đăng ký"),
        _col("registration_place_code", "Mã nơi đăng ký"),
        _col("full_name", "Họ tên người chết"),
        _col("birth_date", "Ngày sinh"),
        _col("sex", "Giới tính"),
        _col("national_id", "Số định danh cá nhân"),
        _col("death_date", "Ngày chết"),
        _col("death_place", "Nơi chết"),
    ),
)

KET_HON = Source(
    "ket_hon",
    "event",
    "marriage registrations",
    ("csv",),
    (
        _col(RECORD_ID, "Số đăng ký"),
        _col("registration_date", "Ngày đăng ký"),
        _col("registration_place_code", "Mã nơi đăng ký"),
        _col("husband_name", "Họ tên chồng"),
        _col("husband_birth_date", "Ngày sinh chồng"),
        _col("husband_national_id", "Số định danh chồng"),
        _col("wife_name", "Họ tên vợ"),
        _col("wife_birth_date", "Ngày sinh vợ"),
        _col("wife_national_id", "Số định danh vợ"),
    ),
)


def is_name(column: str) -> bool:
    """Column kinds follow the canonical names: every stage parses and judges by them."""
    return column.endswith("_name")


def is_date(column: str) -> bool:
    return column.endswith("_date")


def is_national_id(column: str) -> bool:
    return column.endswith("national_id")


SOURCES: dict[str, Source] = {s.name: s for s in (DAN_CU, BHXH, Y_TE, KHAI_SINH, KHAI_TU, KET_HON)}
PERSON_SOURCES = tuple(name for name, s in SOURCES.items() if s.kind == "person")
EVENT_SOURCES = tuple(name for name, s in SOURCES.items() if s.kind == "event")
