"""The columns each generated source writes: the generator's own reading of the contract text.

The six first sources take their columns from `dancu.contract`; the two sources of education and
justice, and the optional columns the contract adds to `dan_cu`, `khai_sinh` and `ket_hon`, are
declared here from the contract's text, so that the files follow the contract whatever the
pipeline reads yet. Names are the generator's canonical names; labels are the contract's headers.
A file carries its source's optional columns when it is dated on or after the reform (the systems
exporting them are the new ones) or when one of its rows has a value in them.
"""

from dataclasses import dataclass

from dancu.contract import SOURCES


@dataclass(frozen=True)
class Layout:
    source: str
    kind: str  # "person": a record describes one person; "event": a civil registration
    formats: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, label), the record id first
    optional: tuple[str, ...] = ()  # names of the columns a file may leave out

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def labels(self) -> list[str]:
        return [label for _, label in self.columns]

    def label(self, name: str) -> str:
        return dict(self.columns)[name]


def _party_columns(role: str, label: str) -> tuple[tuple[str, str], ...]:
    return (
        (f"{role}_nationality", f"Quốc tịch {label}"),
        (f"{role}_document_type", f"Loại giấy tờ {label}"),
        (f"{role}_document_number", f"Số giấy tờ {label}"),
    )


OPTIONAL_COLUMNS = {
    "dan_cu": (("previous_national_id", "Số định danh cá nhân cũ"),),
    "khai_sinh": (*_party_columns("mother", "mẹ"), *_party_columns("father", "cha")),
    "ket_hon": (*_party_columns("husband", "chồng"), *_party_columns("wife", "vợ")),
}

GIAO_DUC = Layout(
    "giao_duc",
    "person",
    ("xlsx", "csv"),
    (
        ("source_record_id", "Mã học sinh"),
        ("national_id", "Số định danh cá nhân"),
        ("full_name", "Họ và tên"),
        ("birth_date", "Ngày sinh"),
        ("sex", "Giới tính"),
        ("ethnicity", "Dân tộc"),
        ("nationality", "Quốc tịch"),
        ("school_code", "Mã trường"),
        ("class_name", "Lớp"),
        ("school_year", "Năm học"),
        ("address", "Nơi thường trú"),
        ("ward_code", "Mã xã thường trú"),
        ("father_name", "Họ tên cha"),
        ("mother_name", "Họ tên mẹ"),
        ("phone", "Số điện thoại phụ huynh"),
    ),
)

LY_LICH_TU_PHAP = Layout(
    "ly_lich_tu_phap",
    "person",
    ("csv",),
    (
        ("source_record_id", "Số hồ sơ"),
        ("received_date", "Ngày tiếp nhận"),
        ("certificate_type", "Loại phiếu"),
        ("full_name", "Họ và tên"),
        ("other_name", "Tên gọi khác"),
        ("birth_date", "Ngày sinh"),
        ("sex", "Giới tính"),
        ("birth_place", "Nơi sinh"),
        ("nationality", "Quốc tịch"),
        ("document_type", "Loại giấy tờ"),
        ("document_number", "Số giấy tờ"),
        ("issued_by", "Nơi cấp"),
        ("address", "Nơi thường trú"),
        ("father_name", "Họ tên cha"),
        ("mother_name", "Họ tên mẹ"),
        ("spouse_name", "Họ tên vợ/chồng"),
        ("convictions", "Án tích"),
    ),
)


def _from_contract(source: str) -> Layout:
    """The contract's columns of `source`, then the optional ones under the generator's names
    (whether or not the contract module declares them yet)."""
    declared = SOURCES[source]
    extra = OPTIONAL_COLUMNS.get(source, ())
    optional_labels = {label for _, label in extra}
    columns = tuple((c.name, c.label) for c in declared.columns if c.label not in optional_labels)
    return Layout(
        source, declared.kind, declared.formats, columns + extra, tuple(n for n, _ in extra)
    )


# In the order the generator writes them.
LAYOUTS: dict[str, Layout] = {
    **{s: _from_contract(s) for s in ("dan_cu", "bhxh", "y_te", "khai_sinh", "khai_tu", "ket_hon")},
    "giao_duc": GIAO_DUC,
    "ly_lich_tu_phap": LY_LICH_TU_PHAP,
}
