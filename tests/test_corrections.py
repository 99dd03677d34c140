"""Corrections sent back to each source: each kind of error found on hand-made persons, nothing
sent on weak evidence, and the table and per-source files of a whole run."""

import stat
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

import dancu.corrections as corrections_module
from dancu.contract import EVENT_SOURCES, PERSON_SOURCES, SOURCES
from dancu.corrections import (
    CORRECTION_COLUMNS,
    GOLDEN_COLUMNS,
    LINK_COLUMNS,
    MIN_CONFIDENCE,
    PRIOR_ERROR_RATE,
    PRIOR_RECORDS,
    SHEET_NAME,
    WORKBOOK_MODE,
    Corrections,
    agency_sheet,
    event_witnesses,
    find_corrections,
    malformed_ids,
    masked_value,
    write_workbook,
)
from dancu.text import fold

# The register's person: a woman born on 12/05/1988 (her id's digit 4 says female, 1900s, and
# digits 5-6 say 88).
REGISTER = {
    "national_id": "001188012345",
    "birth_date": "1988-05-12",
    "full_name": "Nguyễn Thị Hà",
    "sex": "F",
}
# Her father, also in the register.
PARENT = {
    "national_id": "001058054321",
    "birth_date": "1958-02-03",
    "full_name": "Nguyễn Văn Bình",
    "sex": "M",
}
STRONG_LINK = 30.0  # a match weight well above the match threshold


def std_row(source: str, record_id: str, values: dict, flags: tuple[str, ...] = ()) -> dict:
    birth = values["birth_date"]
    return {
        "source": source,
        "source_record_id": record_id,
        "file_name": f"{source}/{source}_20251001.csv",
        "row_number": 1,
        "national_id": values["national_id"],
        "full_name": values["full_name"],
        "birth_date": date.fromisoformat(birth) if birth and len(birth) == 10 else None,
        "birth_year": int(birth[:4]) if birth else None,
        "sex": values["sex"],
        "previous_national_id": values.get("previous_national_id"),
        "reasons": [],
        "flags": list(flags),
    }


def golden(person_id: str, values: dict, source: str = "dan_cu") -> dict:
    birth = values["birth_date"]
    return {
        "person_id": person_id,
        **{f: values[f] for f in ("national_id", "full_name", "sex")},
        "birth_date": date.fromisoformat(birth),
        "birth_year": int(birth[:4]),
        **{f"{f}_source": source for f in ("national_id", "full_name", "birth_date", "sex")},
    }


def run(
    rows: list[dict],
    persons: list[dict],
    review: pl.DataFrame | None = None,
    births: list[dict] = (),
):
    """`rows`: std rows with their `person_id` and `match_weight`; `births`: birth
    registrations (`birth`), whose parties name persons too."""
    frame = pl.DataFrame(
        [{k: v for k, v in r.items() if k not in ("person_id", "match_weight")} for r in rows],
        schema_overrides={
            "reasons": pl.List(pl.String),
            "flags": pl.List(pl.String),
            "birth_date": pl.Date,
            "previous_national_id": pl.String,
        },
    ).with_columns(fold(pl.col("full_name")).alias("full_name_key"))
    person_source = pl.DataFrame(
        {
            "source": [r["source"] for r in rows],
            "source_record_id": [r["source_record_id"] for r in rows],
            "person_id": [r["person_id"] for r in rows],
            "match_rule": "birth_date+given",
            "match_weight": [r["match_weight"] for r in rows],
        }
    )
    std = {s: frame.lazy().filter(pl.col("source") == s) for s in PERSON_SOURCES}
    person = pl.DataFrame(persons, schema_overrides={"birth_date": pl.Date})
    events = None
    if births:
        parties = pl.concat([party for _, party in births])
        events = event_witnesses(person, parties, {"khai_sinh": birth_frame(births)})
    return find_corrections(person_source, person, std, review, events)


def birth(record_id: str, **parties: tuple[str, str | None]) -> tuple[dict, pl.DataFrame]:
    """A birth registration naming `parties` (role: the person it was resolved to, and the id
    the registration wrote), as the standardised row and its `event_party` rows."""
    contract = SOURCES["khai_sinh"].event.parties
    row = {"source_record_id": record_id, "source": "khai_sinh", "reasons": [], "flags": []}
    for role, (_, national_id) in parties.items():
        row |= {
            contract[role].name: f"{role} of {record_id}",
            contract[role].national_id: national_id,
        }
    linked = pl.DataFrame(
        {
            "event_id": f"khai_sinh:{record_id}",
            "role": list(parties),
            "person_id": [person_id for person_id, _ in parties.values()],
        }
    )
    return row, linked


def birth_frame(births) -> pl.LazyFrame:
    """The standardised birth registrations, with every column a party is read from."""
    columns = {"source": pl.String, "source_record_id": pl.String, "reasons": pl.List(pl.String),
               "flags": pl.List(pl.String), "file_name": pl.String, "row_number": pl.Int64,
               "extract_date": pl.Date, "sex": pl.String, "father_name": pl.String,
               "mother_name": pl.String}  # fmt: skip
    for party in SOURCES["khai_sinh"].event.parties.values():
        columns |= {party.name: pl.String, f"{party.name}_key": pl.String,
                    party.national_id: pl.String, party.birth_date: pl.Date,
                    party.birth_year: pl.Int32}  # fmt: skip
    rows = [{c: row.get(c) for c in columns} for row, _ in births]
    return pl.DataFrame(rows, schema=columns, orient="row").lazy()


def record(source, record_id, values, person_id="P1", weight=STRONG_LINK, **changed) -> dict:
    flags = ("id.malformed: not a 12-digit id",) if changed.pop("malformed", False) else ()
    row = std_row(source, record_id, {**values, **changed}, flags)
    return {**row, "person_id": person_id, "match_weight": weight}


def one_person(field: str, delivered, witnesses: int, register: dict = REGISTER, **other_changes):
    """The register's person (`REGISTER` unless `register` is given) with a dan_cu record,
    `witnesses` y_te records agreeing with it and one bhxh record delivering `delivered` for
    `field`; her father is in the register too."""
    rows = [
        record("dan_cu", "HS1", register),
        *(record("y_te", f"BN{i}", register) for i in range(witnesses)),
        record("bhxh", "0101234567", register, **{field: delivered}, **other_changes),
        record("dan_cu", "HS2", PARENT, person_id="P2"),
    ]
    return run(rows, [golden("P1", register), golden("P2", PARENT)])


def bhxh_corrections(found) -> pl.DataFrame:
    return found.table.filter(pl.col("source") == "bhxh")


@pytest.mark.parametrize(
    "field, delivered, kind, witnesses",
    [
        ("national_id", "001188012346", "digit_typo", 1),  # in the serial: a witness decides
        ("national_id", "001198012345", "digit_typo", 0),  # the year digits no longer fit
        ("national_id", "001188013245", "transposed_digits", 1),
        ("national_id", None, "completion", 0),
        ("birth_date", "1988-12-05", "day_month_swapped", 1),
        ("birth_date", "1978-05-12", "year_off_by_ten", 0),  # the id says 1988
        ("birth_date", "1988-05-13", "one_digit", 1),
        ("birth_date", "1988-01-01", "first_of_january", 1),
        ("birth_date", "1988", "year_only", 0),
        ("birth_date", None, "completion", 0),
        ("full_name", "Nguyen Thi Ha", "diacritics", 0),  # nothing against the register's
        ("full_name", "Nguyễn Hà", "middle_name", 1),
        ("full_name", "Hà Thị Nguyễn", "order_swapped", 1),
        ("full_name", "Nguyễn Thị Hòa", "typo", 1),
        ("sex", "M", "other", 0),  # the id says female
        ("sex", None, "completion", 0),
    ],
)
def test_each_kind_of_error_is_found(field, delivered, kind, witnesses):
    found = bhxh_corrections(one_person(field, delivered, witnesses))
    assert found.select("field", "delivered_value", "kind").rows() == [(field, delivered, kind)]
    assert found["register_value"].item() == REGISTER[field]
    assert found["confidence"].item() >= MIN_CONFIDENCE
    assert found["register_source"].item() == "dan_cu"
    assert found.columns == CORRECTION_COLUMNS


@pytest.mark.parametrize(
    "register_name, delivered",
    [("Hoàng Thị Hà", "Huỳnh Thị Hà"), ("Võ Thị Hà", "Vũ Thị Hà")],
)
def test_a_family_name_in_its_other_regional_spelling_is_a_family_variant(register_name, delivered):
    # Huỳnh and Võ are the southern spellings of Hoàng and Vũ: the same family name, which a
    # clerk wrote as their region says it, not another person's name nor a typo.
    register = {**REGISTER, "full_name": register_name}
    found = bhxh_corrections(one_person("full_name", delivered, 1, register=register))
    assert found.select("delivered_value", "register_value", "kind").rows() == [
        (delivered, register_name, "family_variant")
    ]
    assert found["confidence"].item() >= MIN_CONFIDENCE


def test_a_parents_id_on_a_childs_record():
    child = {**REGISTER, "national_id": "001315123456", "birth_date": "2015-03-02"}
    rows = [
        record("dan_cu", "HS1", child),
        record("bhxh", "0101234567", child, national_id=PARENT["national_id"]),
        record("dan_cu", "HS2", PARENT, person_id="P2"),
    ]
    found = run(rows, [golden("P1", child), golden("P2", PARENT)]).table
    assert found.select("source", "kind", "register_value").rows() == [
        ("bhxh", "family_member_id", child["national_id"])
    ]


@pytest.mark.parametrize("register_names_it", [True, False])
def test_an_id_the_register_reissued_is_the_persons_former_id(register_names_it):
    """The register re-issued her id, and its record names the former one; the insurance
    record still carries it. The register's word against the insurance's alone, yet sure: the
    former id is hers no more. Unnamed, the same id (its digits fit her as well as the
    register's) is a difference nobody explains."""
    former = "001188654321"
    named = {"previous_national_id": former} if register_names_it else {}
    rows = [
        record("dan_cu", "HS1", REGISTER, **named),
        record("bhxh", "0101234567", REGISTER, national_id=former),
        record("dan_cu", "HS2", PARENT, person_id="P2"),
    ]
    found = run(rows, [golden("P1", REGISTER), golden("P2", PARENT)])
    reported = bhxh_corrections(found)
    if register_names_it:
        assert reported.select("kind", "delivered_value", "register_value").rows() == [
            ("reissued_id", former, REGISTER["national_id"])
        ]
        assert reported["confidence"].item() >= MIN_CONFIDENCE
    else:
        assert reported.is_empty()
        assert found.held.select("kind").rows() == [("other",)]


def test_an_old_id_where_the_personal_id_belongs_is_malformed():
    found = bhxh_corrections(one_person("national_id", None, 0, malformed=True))
    assert found.select("kind", "delivered_value").rows() == [("malformed", None)]


def test_one_witness_against_another_is_held_as_uncertain():
    """A slip in the serial digits, the register's record against the insurance record alone:
    the register is five times likelier right, not enough to tell the agency."""
    found = one_person("national_id", "001188012346", witnesses=0)
    assert bhxh_corrections(found).is_empty()
    held = found.held.filter(pl.col("source") == "bhxh")
    assert held.select("kind", "held_because").rows() == [("digit_typo", "uncertain")]
    assert held["confidence"].item() < MIN_CONFIDENCE


def test_a_record_that_disagrees_on_everything_is_no_evidence():
    found = one_person(
        "national_id", "001188012346", 2, full_name="Trần Văn Nam", birth_date="1990-01-01"
    )
    assert bhxh_corrections(found).is_empty()
    assert set(found.held.filter(source="bhxh")["held_because"]) == {"weak"}


def test_a_weak_link_is_no_evidence():
    rows = [
        record("dan_cu", "HS1", REGISTER),
        record("y_te", "BN1", REGISTER),
        record("bhxh", "0101234567", REGISTER, weight=-1.0, national_id="001188012346"),
    ]
    found = run(rows, [golden("P1", REGISTER)])
    assert found.table.is_empty()
    assert found.held["held_because"].to_list() == ["weak"]


def test_a_record_waiting_for_a_clerk_is_left_to_the_review_queue():
    rows = [
        record("dan_cu", "HS1", REGISTER),
        record("y_te", "BN1", REGISTER),
        record("bhxh", "0101234567", REGISTER, national_id="001188012346"),
    ]
    review = pl.DataFrame(
        {"source_l": ["dan_cu"], "source_record_id_l": ["HS9"], "source_r": ["bhxh"],
         "source_record_id_r": ["0101234567"]}
    )  # fmt: skip
    found = run(rows, [golden("P1", REGISTER)], review)
    assert found.table.is_empty()
    assert found.held["held_because"].to_list() == ["in_review"]


def test_nobody_is_corrected_by_a_worse_source():
    """The register's record lacks the id the insurance record holds: dan_cu is not told."""
    rows = [
        record("dan_cu", "HS1", REGISTER, national_id=None),
        record("bhxh", "0101234567", REGISTER),
    ]
    person = {**golden("P1", REGISTER), "national_id_source": "bhxh"}
    found = run(rows, [person])
    assert found.table.is_empty() and found.held.is_empty()


def test_the_registers_own_duplicate_is_told():
    """A second dan_cu registration, in another ward and without an id."""
    rows = [
        record("dan_cu", "HS1", REGISTER),
        record("dan_cu", "HT7", REGISTER, national_id=None),
        record("bhxh", "0101234567", REGISTER),
    ]
    found = run(rows, [golden("P1", REGISTER)]).table
    assert found.select("source", "source_record_id", "kind").rows() == [
        ("dan_cu", "HT7", "completion")
    ]


def test_a_value_more_precise_than_the_registers_is_no_correction():
    register = {**REGISTER, "birth_date": "1988"}
    person = {**golden("P1", REGISTER), "birth_date": None, "birth_date_source": None}
    rows = [record("dan_cu", "HS1", register), record("bhxh", "0101234567", REGISTER)]
    assert run(rows, [person]).table.is_empty()


@pytest.mark.parametrize(
    "field, value, shown",
    [
        ("national_id", "001188012345", "001*******45"),
        ("full_name", "Nguyễn Thị Hà", "N. T. H."),
        ("birth_date", "1988-05-12", "**/**/1988"),
        ("birth_date", "1988", "1988"),
        ("sex", "F", "F"),
        ("national_id", None, "–"),
    ],
)
def test_reports_show_masked_values(field, value, shown):
    assert masked_value(field, value) == shown


def test_the_agencys_workbook_never_holds_a_formula(tmp_path):
    corrections = pl.DataFrame(
        {
            "source": "bhxh", "source_record_id": "=HYPERLINK(\"http://x\")", "person_id": "P1",
            "field": ["full_name", "birth_date"], "delivered_value": ["=1+2", "1988-12-05"],
            "register_value": ["Nguyễn Thị Hà", "1988-05-12"],
            "kind": ["other", "day_month_swapped"], "confidence": [0.97, 0.99996],
            "register_source": ["bhxh", "dan_cu"], "file_name": "bhxh/b_20251001.csv",
            "row_number": [3, 3],
        }
    )  # fmt: skip
    path = tmp_path / "bhxh.xlsx"
    write_workbook(path, agency_sheet(corrections, "bhxh"))
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula, and every text cell an inline string
    assert "'=1+2" in sheet and "'=HYPERLINK(&quot;" not in sheet and "'=HYPERLINK" in sheet
    assert stat.S_IMODE(path.stat().st_mode) == WORKBOOK_MODE
    shown = pl.read_excel(path, engine="calamine")
    assert shown.columns[0] == "Mã số BHXH"  # the agency's own name for its record id
    assert shown["Trường"].to_list() == ["Ngày sinh", "Họ và tên"]  # its own column names
    assert shown["Giá trị đơn vị đã gửi"].to_list() == ["05/12/1988", "'=1+2"]
    # Where the proposed value comes from, in words; a confidence short of 1 never reads 100.
    assert shown["Nguồn của giá trị đề nghị"].to_list() == [
        "Dân cư (CSDL dân cư)",
        "Bảo hiểm xã hội",
    ]
    assert shown["Độ tin cậy (%)"].to_list() == [99.9, 97.0]


def test_corrections_past_a_sheets_last_row_go_on_in_further_sheets(tmp_path, monkeypatch):
    monkeypatch.setattr(corrections_module, "SHEET_ROWS", 2)
    corrections = pl.DataFrame(
        {
            "source": "bhxh", "source_record_id": [f"BH{i}" for i in range(5)],
            "person_id": "P1", "field": "full_name", "delivered_value": "Nguyen Thi Ha",
            "register_value": "Nguyễn Thị Hà", "kind": "diacritics", "confidence": 0.99,
            "register_source": "dan_cu", "file_name": "bhxh/b_20251001.csv",
            "row_number": range(1, 6),
        }
    )  # fmt: skip
    path = tmp_path / "bhxh.xlsx"
    write_workbook(path, agency_sheet(corrections, "bhxh"))

    sheets = pl.read_excel(path, engine="calamine", sheet_id=0)
    assert list(sheets) == [SHEET_NAME, f"{SHEET_NAME} (2)", f"{SHEET_NAME} (3)"]
    assert [sheet.height for sheet in sheets.values()] == [2, 2, 1]
    shown = pl.concat(sheets.values())["Mã số BHXH"].to_list()
    assert shown == [f"BH{i}" for i in range(5)]  # every correction once, in order


def test_a_run_publishes_the_table_and_one_private_workbook_per_source(sample_run: Path):
    with duckdb.connect(str(sample_run / "data/warehouse/dancu.duckdb"), read_only=True) as con:
        table = con.sql("select * from source_correction").pl()
        resolved = con.sql("select source, source_record_id, person_id from person_source").pl()
    assert set(CORRECTION_COLUMNS) <= set(table.columns)
    assert table.height > 0
    assert table["confidence"].min() >= MIN_CONFIDENCE
    # Every correction is about a resolved record, in the person it was resolved into.
    assert table.join(
        resolved, on=["source", "source_record_id", "person_id"], how="anti"
    ).is_empty()
    folder = sample_run / "data/reports/corrections"
    counts = dict(table["source"].value_counts().iter_rows())
    for source in PERSON_SOURCES:
        (path,) = folder.glob(f"corrections_{source}_*.xlsx")
        assert stat.S_IMODE(path.stat().st_mode) == WORKBOOK_MODE
        assert pl.read_excel(path, engine="calamine").height == counts.get(source, 0)
    assert len(list(folder.iterdir())) == len(PERSON_SOURCES)


def corrections_of_run(
    staging: Path, person: pl.DataFrame, shares: int = 1, spill: Path | None = None
) -> Corrections:
    """`find_corrections` on a run's staged tables, with its golden records `person`."""
    std = {name: pl.scan_parquet(staging / f"std_{name}.parquet") for name in SOURCES}
    events = event_witnesses(
        person,
        pl.read_parquet(staging / "event_party.parquet"),
        {name: std[name] for name in EVENT_SOURCES},
    )
    return find_corrections(
        pl.read_parquet(staging / "person_source.parquet").select(LINK_COLUMNS),
        person,
        {name: std[name] for name in PERSON_SOURCES},
        pl.read_parquet(staging / "review_queue.parquet"),
        events,
        shares=shares,
        spill=spill,
    )


def test_persons_compared_in_shares_give_the_corrections_of_all_at_once(
    sample_run: Path, tmp_path: Path
):
    staging = sample_run / "data/staging"
    person = pl.read_parquet(staging / "person.parquet").select(GOLDEN_COLUMNS)

    def corrections(shares: int, spill: Path | None = None) -> Corrections:
        return corrections_of_run(staging, person, shares, spill)

    whole = corrections(1)
    assert whole.table.height > 0 and whole.held.height > 0
    # Each share's judgement waiting mapped from a folder, or in memory: the same.
    for shared in (corrections(7), corrections(7, tmp_path)):
        assert shared.table.equals(whole.table)
        assert shared.held.equals(whole.held)
        assert shared.error_rates.equals(whole.error_rates)
    assert len(list(tmp_path.glob("*.arrow"))) > 7  # a file per column of each share


def test_the_error_rates_sample_the_same_persons_whatever_their_ids(sample_run, monkeypatch):
    # Another installation's key gives every person another id, and so another order: a sample
    # of one person in five must still be the same persons.
    monkeypatch.setattr(corrections_module, "ERROR_RATE_PERSONS", 400)
    staging = sample_run / "data/staging"
    person = pl.read_parquet(staging / "person.parquet").select(GOLDEN_COLUMNS)
    ours = corrections_of_run(staging, person)
    theirs = corrections_of_run(staging, person.reverse())
    assert ours.error_rates.equals(theirs.error_rates)
    assert ours.table.equals(theirs.table)
    assert ours.held.equals(theirs.held)
    sampled = corrections_of_run(staging, person.sample(fraction=1.0, shuffle=True, seed=3))
    assert sampled.error_rates.equals(ours.error_rates)


def test_a_difference_of_two_slips_is_held():
    """A transposition in the register's copy and a wrong key in the agency's: neither is
    the id, and the register's is no correction."""
    found = one_person("national_id", "001188102346", witnesses=1)
    assert bhxh_corrections(found).is_empty()
    assert found.held.filter(source="bhxh")["held_because"].to_list() == ["both_slipped"]


# A slip in the serial digits, which no encoded field shows: with the register's copy and the
# insurance's alone it is one witness against another (held as uncertain, above); civil
# registration's copy of her id decides.


def serial_slip(mother_id: str | None):
    """The register's person, her insurance record with a slip in the serial digits, and her
    child's birth registration naming her with `mother_id`."""
    rows = [
        record("dan_cu", "HS1", REGISTER),
        record("bhxh", "0101234567", REGISTER, national_id="001188012346"),
    ]
    births = [birth("KS1", mother=("P1", mother_id))]
    return run(rows, [golden("P1", REGISTER)], births=births)


def test_a_birth_registration_with_the_registers_id_decides_a_slip():
    found = serial_slip(mother_id=REGISTER["national_id"])
    assert bhxh_corrections(found).select("kind", "register_value").rows() == [
        ("digit_typo", REGISTER["national_id"])
    ]
    assert bhxh_corrections(found)["confidence"].item() >= MIN_CONFIDENCE


def test_a_birth_registration_with_the_insurances_id_makes_the_register_doubtful():
    found = serial_slip(mother_id="001188012346")
    assert found.table.is_empty()
    assert found.held.select("source", "held_because").rows() == [("bhxh", "register_doubtful")]


def test_a_birth_registration_without_an_id_is_no_witness():
    found = serial_slip(mother_id=None)
    assert found.table.is_empty()
    assert found.held["held_because"].to_list() == ["uncertain"]


def test_a_fathers_id_on_his_childs_birth_registration_witnesses_for_him_alone():
    """The child's insurance record carries the father's id, and the child's birth registration
    names the father with it: the child's record still holds another person's id, and the
    father, whose register id it is, is told nothing."""
    child = {**REGISTER, "national_id": "001315123456", "birth_date": "2015-03-02"}
    rows = [
        record("dan_cu", "HS1", child),
        record("bhxh", "0101234567", child, national_id=PARENT["national_id"]),
        record("dan_cu", "HS2", PARENT, person_id="P2"),
    ]
    births = [birth("KS1", child=("P1", None), father=("P2", PARENT["national_id"]))]
    found = run(rows, [golden("P1", child), golden("P2", PARENT)], births=births)
    assert found.table.select("source", "person_id", "kind", "register_value").rows() == [
        ("bhxh", "P1", "family_member_id", child["national_id"])
    ]
    assert found.held.is_empty()


def test_a_register_id_that_does_not_fit_its_person_corrects_nobody():
    """The register's copy says born in 1998 (digits 5-6), the insurance's 1988 as the person
    is: the register's copy is the doubtful one, and the insurance is not told to take it."""
    register = {**REGISTER, "national_id": "001198012345"}
    rows = [
        record("dan_cu", "HS1", register),
        record("bhxh", "0101234567", REGISTER),
    ]
    found = run(rows, [golden("P1", register)])
    assert found.table.is_empty()
    assert found.held.select("source", "kind", "held_because").rows() == [
        ("bhxh", "digit_typo", "register_doubtful")
    ]


# Error rates are measured on the run: a source whose value is the odd one out among a
# person's records, where at least two others agree, is wrong that often; the prior
# (`PRIOR_ERROR_RATE`, worth `PRIOR_RECORDS` records) holds until the records say otherwise.
FAMILY_NAMES = ["Trần", "Lê", "Phạm", "Đỗ", "Bùi"]
MIDDLE_GIVEN_SEX = [("Văn", "Nam", "M"), ("Thị", "Lan", "F"), ("Minh", "Tuấn", "M"),
                    ("Thị", "Hương", "F")]  # fmt: skip


def cohort_person(k: int) -> dict:
    """The `k`-th of up to 20 other persons of the register, each with a name, birth date and
    id of their own (the id's sex and year digits fitting them)."""
    middle, given, sex = MIDDLE_GIVEN_SEX[k % 4]
    year = 1960 + k
    century = "0" if sex == "M" else "1"
    return {
        "national_id": f"079{century}{year % 100:02d}{104233 + 7919 * k:06d}",
        "birth_date": f"{year}-{1 + k % 12:02d}-{1 + 3 * k % 28:02d}",
        "full_name": f"{FAMILY_NAMES[k % 5]} {middle} {given}",
        "sex": sex,
    }


def last_digit_slipped(national_id: str) -> str:
    return national_id[:-1] + str((int(national_id[-1]) + 1) % 10)


def cohort(persons: int, slipped: int) -> tuple[list[dict], list[dict]]:
    """`persons` persons (ids C0, C1, ...), each with a dan_cu, a y_te and a bhxh record that
    agree, but for the first `slipped`, whose bhxh id has its last digit wrong: the rows and
    the golden records."""
    rows, golden_records = [], []
    for k in range(persons):
        values, person_id = cohort_person(k), f"C{k}"
        bhxh_id = values["national_id"]
        if k < slipped:
            bhxh_id = last_digit_slipped(bhxh_id)
        rows += [
            record("dan_cu", f"HS{100 + k}", values, person_id),
            record("y_te", f"BN{100 + k}", values, person_id),
            record("bhxh", f"01{k:08d}", values, person_id, national_id=bhxh_id),
        ]
        golden_records.append(golden(person_id, values))
    return rows, golden_records


def measured(found: Corrections, source: str, field: str) -> tuple[int, float]:
    rate = found.error_rates.filter(source=source, field=field)
    return rate["checked"].item(), rate["error_rate"].item()


def with_prior(odd: int, checked: int) -> float:
    return (odd + PRIOR_ERROR_RATE * PRIOR_RECORDS) / (checked + PRIOR_RECORDS)


def test_a_sources_error_rate_is_how_often_its_value_is_the_odd_one_out():
    # Six persons; insurance's id is alone against the register's and health's for two of
    # them. Every insurance id is checked; the register's only where all three agree (where
    # insurance is the odd one out, only its record is checked). The rate is `error_rates`'
    # formula: the odd ones, plus the prior's, over the checked, plus the prior's records.
    found = run(*cohort(persons=6, slipped=2))
    assert measured(found, "bhxh", "national_id") == (6, pytest.approx(with_prior(2, 6)))
    assert measured(found, "dan_cu", "national_id") == (4, pytest.approx(with_prior(0, 4)))
    assert measured(found, "bhxh", "full_name") == (6, pytest.approx(with_prior(0, 6)))


@pytest.mark.parametrize("slipped, held_because", [(0, "uncertain"), (20, None)])
def test_a_source_measured_as_often_wrong_is_corrected_on_the_registers_word_alone(
    slipped, held_because
):
    """A slip in the serial digits, the register's record against the insurance record alone:
    where insurance's ids agree with the others', one witness against another is held; where
    the run measures insurance's id as often the odd one out, its word weighs little and the
    register's alone is enough to tell it."""
    # 20 of 20 insurance ids the odd one out: a measured rate of 0.3 where the prior says 0.02.
    rows, persons = cohort(persons=20, slipped=slipped)
    rows += [
        record("dan_cu", "HS1", REGISTER),
        record("bhxh", "0101234567", REGISTER, national_id="001188012346"),
    ]
    found = run(rows, [*persons, golden("P1", REGISTER)])
    judged = pl.concat([found.table, found.held], how="diagonal").filter(person_id="P1")
    assert judged.select("kind", "held_because").rows() == [("digit_typo", held_because)]


def test_civil_registration_ids_are_witnesses_with_a_measured_rate():
    """Five persons in the register and insurance, each named as a parent, with an id, on a
    child's birth registration; two registrations carry a slip in that id. Civil registration's
    copy of the id is measured like any source's, and it is told nothing."""
    rows, persons, births = [], [], []
    for k in range(5):
        values, person_id = cohort_person(k), f"C{k}"
        rows += [
            record("dan_cu", f"HS{100 + k}", values, person_id),
            record("bhxh", f"01{k:08d}", values, person_id),
        ]
        persons.append(golden(person_id, values))
        written = last_digit_slipped(values["national_id"]) if k < 2 else values["national_id"]
        parent = "mother" if values["sex"] == "F" else "father"
        births.append(birth(f"KS{k}", **{parent: (person_id, written)}))
    found = run(rows, persons, births=births)
    assert measured(found, "khai_sinh", "national_id") == (5, pytest.approx(with_prior(2, 5)))
    assert found.table.filter(source="khai_sinh").is_empty()
    assert found.held.filter(source="khai_sinh").is_empty()


def test_a_card_number_that_fits_no_card_is_malformed_not_left_empty():
    # A judicial-record request's CCCD with a letter in it: written, but no id (not a blank).
    request = pl.LazyFrame(
        {"source": ["ly_lich_tu_phap"], "source_record_id": ["TP1"], "national_id": [None],
         "reasons": [[]], "flags": [["document.number_misfit: a document number does not fit"]]},
        schema_overrides={"national_id": pl.String, "reasons": pl.List(pl.String)},
    )  # fmt: skip
    assert malformed_ids({"ly_lich_tu_phap": request}).rows() == [("ly_lich_tu_phap", "TP1")]
