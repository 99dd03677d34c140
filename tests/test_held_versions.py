"""A refused correction does not replace its record: where the latest delivery of a record is
quarantined, its latest accepted earlier version stays published, flagged, and the person stays
in the register. Unit tests through ingest and standardisation, then two days of `dancu run`."""

import csv
import io
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import run_dancu
from test_rules import VALID

from dancu.contract import FILE_NAME, RECORD_ID, SOURCES
from dancu.ingest import read_source
from dancu.rules import FLAGS, REASONS, is_held, rule_id
from dancu.standardize import standardize
from dancu.warehouse import load_gates, run_gates

HELD = "record.previous_version_held"
IMPOSSIBLE = {
    "dan_cu": {"Ngày, tháng, năm sinh": "31/02/1999"}, "khai_tu": {"Ngày chết": "31/02/2025"},
}  # fmt: skip


def write_extract(landing: Path, source: str, name: str, rows: list[dict[str, str]]) -> None:
    """Rows of `source` written as a delivered UTF-8 CSV, each the valid row with its changes."""
    folder = landing / source
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(VALID[source]))
    writer.writeheader()
    writer.writerows({**VALID[source], **row} for row in rows)
    (folder / name).write_text(buffer.getvalue(), encoding="utf-8")


def version(source: str, record_id: str, valid: bool, **changes: str) -> dict[str, str]:
    """A row of the record; an invalid one carries an impossible date."""
    id_label = SOURCES[source].record_id.label
    return {id_label: record_id, **changes, **({} if valid else IMPOSSIBLE[source])}


def standardized(landing: Path, source: str) -> pl.DataFrame:
    raw, _ = read_source(landing, SOURCES[source])
    return standardize(raw.lazy(), SOURCES[source]).collect()


def places(std: pl.DataFrame) -> dict[str, list[tuple[str, str, bool]]]:
    """Each record's published rows: (file, "accepted" or "quarantined", held)."""
    rows = std.sort(RECORD_ID, FILE_NAME).with_columns(is_held().alias("held"))
    found: dict[str, list[tuple[str, str, bool]]] = {}
    for record, file_name, reasons, held in rows.select(
        RECORD_ID, FILE_NAME, REASONS, "held"
    ).iter_rows():
        place = "quarantined" if reasons else "accepted"
        found.setdefault(record, []).append((file_name.split("/")[1], place, held))
    return found


def test_the_latest_accepted_earlier_version_of_a_refused_record_is_held(tmp_path):
    landing = tmp_path / "landing"
    ward = "Mã xã thường trú"
    write_extract(landing, "dan_cu", "a_20250901.csv", [
        version("dan_cu", "HS1", True, **{ward: "00001"}),
        version("dan_cu", "HS3", False),
        version("dan_cu", "HS4", False),
    ])  # fmt: skip
    write_extract(landing, "dan_cu", "a_20250910.csv", [
        version("dan_cu", "HS1", True, **{ward: "00002"}),
        version("dan_cu", "HS2", True),
        version("dan_cu", "HS3", True),
        version("dan_cu", "HS5", True),
    ])  # fmt: skip
    # Same extract date, a later file name: it is the later delivery.
    write_extract(landing, "dan_cu", "b_20250910.csv", [version("dan_cu", "HS2", False)])
    write_extract(landing, "dan_cu", "a_20250920.csv", [
        version("dan_cu", "HS1", False),
        # The record's accepted row and its repeat, refused, in one extract: the row stands.
        version("dan_cu", "HS5", True),
        version("dan_cu", "HS5", True),
    ])  # fmt: skip

    assert places(standardized(landing, "dan_cu")) == {
        # valid, valid, invalid: the second is held and flagged, the third quarantined.
        "HS1": [("a_20250910.csv", "accepted", True), ("a_20250920.csv", "quarantined", False)],
        "HS2": [("a_20250910.csv", "accepted", True), ("b_20250910.csv", "quarantined", False)],
        # Invalid, then valid: the valid row is the latest, nothing is held.
        "HS3": [("a_20250910.csv", "accepted", False)],
        # Its only row is invalid: nothing to hold.
        "HS4": [("a_20250901.csv", "quarantined", False)],
        "HS5": [("a_20250920.csv", "accepted", False), ("a_20250920.csv", "quarantined", False)],
    }


def test_the_held_row_carries_its_values_and_the_flag_with_its_message(tmp_path):
    landing = tmp_path / "landing"
    write_extract(landing, "khai_tu", "kt_20250905.csv", [version("khai_tu", "KT1", True)])
    write_extract(landing, "khai_tu", "kt_20250920.csv", [version("khai_tu", "KT1", False)])
    std = standardized(landing, "khai_tu")
    held = std.filter(is_held())
    assert held[FILE_NAME].to_list() == ["khai_tu/kt_20250905.csv"]
    assert held["death_date"].cast(pl.String).to_list() == ["2025-09-01"]
    assert held[FLAGS].to_list() == [[
        f"{HELD}: a later delivery of this record was quarantined: this earlier version stands"
    ]]  # fmt: skip
    refused = std.filter(pl.col(REASONS).list.len() > 0)
    assert refused.select(rule_id(pl.col(REASONS).list.first())).item() == "date.impossible"


# --- two days of `dancu run` ---------------------------------------------------------------------

# Another person of the register, so that the first is not the whole register.
ANOTHER_PERSON = {
    "Số định danh cá nhân": "001190012346", "Số CMND": "", "Họ, chữ đệm và tên": "Lê Thị Hồng",
    "Ngày, tháng, năm sinh": "20/11/1990", "Giới tính": "Nữ", "Họ tên cha": "Lê Văn Tâm",
    "Họ tên mẹ": "Phạm Thị Lan", "Số điện thoại": "0987 654 321",
}  # fmt: skip
DAY_1, DAY_2 = "dan_cu/dan_cu_00256_20251001.csv", "dan_cu/dan_cu_00256_20251015.csv"


def published(data: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(data / "warehouse" / "dancu.duckdb"), read_only=True) as con:
        return con.sql(sql).pl()


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    """The data folders after day 1 (a person known by one register record, and another
    person) and after day 2 (that record delivered again with an impossible birth date), each
    day's `dancu run` log beside its folder."""
    out = tmp_path_factory.mktemp("held_versions")
    landing = out / "landing"
    write_extract(landing, "dan_cu", Path(DAY_1).name, [
        version("dan_cu", "HS1", True), version("dan_cu", "HS2", True, **ANOTHER_PERSON),
    ])  # fmt: skip
    run_dancu(landing, out / "day1")
    shutil.copytree(out / "day1" / "data", out / "day2" / "data")
    write_extract(landing, "dan_cu", Path(DAY_2).name, [version("dan_cu", "HS1", False)])
    run_dancu(landing, out / "day2")
    return out / "day1" / "data", out / "day2" / "data"


def test_a_refused_correction_keeps_the_person_its_id_and_its_golden_record(two_runs):
    day1, day2 = two_runs
    record = (
        "select person_id, file_name, row_number from person_source where source_record_id = 'HS1'"
    )
    assert published(day2, record).rows() == published(day1, record).rows()
    assert published(day2, "select * from person").equals(published(day1, "select * from person"))
    assert published(day2, "select * from person_id_history").is_empty()


def test_the_refused_row_waits_in_quarantine_and_the_held_row_is_flagged(two_runs):
    _, day2 = two_runs
    refused = published(day2, "select file_name, row_number, reasons from quarantine")
    assert refused.select(FILE_NAME, "row_number").rows() == [(DAY_2, 1)]
    assert refused["reasons"].item()[0].startswith("date.impossible:")
    flagged = published(
        day2, f"select file_name, row_number from record_flag where rule_id = '{HELD}'"
    )
    assert flagged.rows() == [(DAY_1, 1)]
    files = published(day2, "select file_name, rows_latest, rows_held from extract_file order by 1")
    assert files.rows() == [(DAY_1, 1, 1), (DAY_2, 1, 0)]


def test_every_gate_and_blocking_check_passes(two_runs):
    _, day2 = two_runs
    log = (day2.parent / "run.log").read_text(encoding="utf-8")
    assert "check:     ERROR" not in log
    with duckdb.connect(str(day2 / "warehouse" / "dancu.duckdb"), read_only=True) as con:
        failed = [gate.name for gate in run_gates(con, load_gates()) if gate.violations]
    assert failed == []
