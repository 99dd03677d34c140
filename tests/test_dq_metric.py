"""sql/dq_metric.sql on a warehouse built by hand: what each dimension counts."""

from datetime import date, datetime

import duckdb
import pytest

from dancu.admin_units import current_wards
from dancu.contract import REFORM_DATE
from dancu.publish import ward_conversion_table
from sql import SQL_DIR

DQ_METRIC = (SQL_DIR / "dq_metric.sql").read_text(encoding="utf-8")
# A replay: extracts judged on the day they were delivered for, run a year later.
AS_OF = date(2025, 10, 31)
RUN_TIME = datetime(2026, 12, 8, 2)
PARAMETERS = {"run_id": "r1", "run_time": RUN_TIME, "reform_date": REFORM_DATE, "as_of": AS_OF}


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute((SQL_DIR / "warehouse.sql").read_text(encoding="utf-8"))
    con.execute((SQL_DIR / "optional_tables.sql").read_text(encoding="utf-8"))
    con.register("wards", ward_conversion_table())
    con.execute("insert into ward_conversion select * from wards")
    return con


def add_death(con, record: str, place: str, registered: date, linked: bool, row: int) -> None:
    event = f"khai_tu:{record}"
    con.execute(
        "insert into civil_event values (?, 'death', 'khai_tu', ?, ?, ?, ?,"
        " 'khai_tu/a_20251031.csv', ?, date '2025-10-31', null)",
        [event, record, registered, registered, place, row],
    )
    con.execute(
        "insert into event_party values (?, 'deceased', ?, null, null, null)",
        [event, "P1" if linked else None],
    )


def metrics(con, source: str = "all", ward: str = "all") -> dict[str, float]:
    con.execute(DQ_METRIC, PARAMETERS)
    rows = con.execute(
        "select metric, value from dq_metric where source = ? and ward_code = ?", [source, ward]
    ).fetchall()
    return dict(rows)


def test_a_refused_death_registration_counts_against_live(con):
    add_death(con, "KT1", "00004", date(2025, 9, 1), linked=True, row=1)
    con.execute(
        "insert into quarantine values ('khai_tu', 'khai_tu/a_20251031.csv', 2, 'KT2',"
        " date '2025-10-31', ['date.impossible: a date is not a real day'], null)"
    )
    live = metrics(con, "khai_tu")
    assert (live["parties"], live["parties_linked"], live["live_share"]) == (2, 1, 0.5)


def test_a_refused_delivery_of_a_held_registration_is_known_through_it(con):
    add_death(con, "KT1", "00004", date(2025, 9, 1), linked=True, row=1)
    con.execute(
        "insert into quarantine values ('khai_tu', 'khai_tu/b_20251031.csv', 1, 'KT1',"
        " date '2025-10-31', ['date.impossible: a date is not a real day'], null)"
    )
    assert metrics(con, "khai_tu")["live_share"] == 1


def test_the_rows_of_a_file_rejected_whole_are_delivered_and_quarantined(con):
    add_death(con, "KT1", "00004", date(2025, 9, 1), linked=True, row=1)
    con.execute(
        "insert into extract_file values ('khai_tu', 'khai_tu/c_20251031.csv', date '2025-10-31',"
        " 20, 0, 0, 'missing required column(s): ''Mã hồ sơ''', 0, '')"
    )
    con.execute(
        "insert into quarantine values ('khai_tu', 'khai_tu/c_20251031.csv', null, null,"
        " date '2025-10-31', ['file.rejected: missing required column(s)'], null)"
    )
    counts = metrics(con, "khai_tu")
    assert (counts["rows_delivered"], counts["rows_quarantined"]) == (21, 20)
    assert (counts["parties"], counts["parties_linked"]) == (21, 1)


def rows_by_ward(con) -> list[tuple[str, float]]:
    """Rows delivered per ward (all sources), in ward order."""
    con.execute(DQ_METRIC, PARAMETERS)
    return con.execute(
        "select ward_code, value from dq_metric where source = 'all' "
        "and metric = 'rows_delivered' and ward_code <> 'all' order by ward_code"
    ).fetchall()


def test_an_old_registering_ward_code_counts_under_the_current_ward(con):
    # Old 00001 (Phường Phúc Xá), registered before the reform, lies in current 00097.
    add_death(con, "KT1", "00001", date(2025, 3, 1), linked=True, row=1)
    add_death(con, "KT2", "00097", date(2025, 9, 1), linked=True, row=2)
    assert rows_by_ward(con) == [("00097", 2)]


def test_a_current_code_registered_since_the_reform_is_the_current_ward(con):
    # 00118 is the old code of Phường Ngọc Thụy (now in 00097) and the current Phường Bồ Đề.
    assert "00118" in set(current_wards()["ward_code"])
    add_death(con, "KT1", "00118", date(2025, 9, 1), linked=True, row=1)
    add_death(con, "KT2", "00118", date(2025, 2, 1), linked=True, row=2)
    assert rows_by_ward(con) == [("00097", 1), ("00118", 1)]


def test_days_since_the_newest_extract_count_to_the_day_deliveries_are_judged_on(con):
    add_death(con, "KT1", "00004", date(2025, 10, 20), linked=True, row=1)
    con.execute("update civil_event set extract_date = date '2025-10-20'")
    assert metrics(con, "khai_tu")["days_since_extract"] == 11  # not 414, to the run's day


def test_a_student_that_matched_no_one_is_of_no_person_record_clean_or_not(con):
    # A register record and a student record that may be the same child, in the review queue;
    # the student has no person. Clean counts person records: the register's alone, waiting.
    con.execute(
        "insert into person (person_id, residence_ward_code, is_deceased, primary_source,"
        " record_count) values ('P1', '00004', false, 'dan_cu', 1)"
    )
    con.execute(
        "insert into person_source values"
        " ('dan_cu', 'HS1', 'P1', 'single', 'dan_cu/a_20251031.csv', 1, date '2025-10-31'),"
        " ('giao_duc', 'S1', null, 'single', 'giao_duc/b_20251031.csv', 1, date '2025-10-31')"
    )
    con.execute("insert into review_queue values ('giao_duc', 'S1', 'dan_cu', 'HS1', 'uncertain')")
    shares = metrics(con)
    assert shares["rows_delivered"] == 2
    assert shares["clean_share"] == 0.0  # one person record, waiting for a clerk
    assert "clean_share" not in metrics(con, "giao_duc")
