"""Publishing: a new warehouse is built beside the old one and replaces it only when gated."""

from datetime import date

import duckdb
import polars as pl
import pytest

from dancu.warehouse import WAREHOUSE_FILE, GateFailed, load_gates, publish


def tables(person_ids=("P1",), quarantined_rows=(2,)) -> dict[str, pl.DataFrame]:
    day = date(2025, 9, 15)
    file_name = "dan_cu/dan_cu_00001_20250915.csv"
    person_source = pl.DataFrame(
        {
            "source": "dan_cu", "source_record_id": [f"HS{i}" for i in range(len(person_ids))],
            "person_id": list(person_ids), "match_rule": "national_id", "file_name": file_name,
            "row_number": [1 + i for i in range(len(person_ids))], "extract_date": day,
        }
    )  # fmt: skip
    person = pl.DataFrame(
        {
            "person_id": sorted(set(person_ids)), "is_deceased": False,
            "primary_source": "dan_cu", "record_count": 1,
        }
    )  # fmt: skip
    quarantine = pl.DataFrame(
        {
            "source": "dan_cu", "file_name": file_name, "row_number": list(quarantined_rows),
            "reasons": [["name.empty: no letter"]] * len(quarantined_rows),
        },
        schema_overrides={"row_number": pl.Int64},
    )  # fmt: skip
    delivered = len(person_ids) + len(quarantined_rows)
    extract_file = pl.DataFrame(
        {"source": ["dan_cu"], "file_name": [file_name], "extract_date": [day],
         "rows": [delivered], "rows_latest": [delivered]}
    )  # fmt: skip
    empty_events = pl.DataFrame(
        schema={"event_id": pl.String, "event_type": pl.String, "source": pl.String,
                "source_record_id": pl.String, "file_name": pl.String, "row_number": pl.Int64,
                "extract_date": pl.Date}
    )  # fmt: skip
    parties = pl.DataFrame(schema={"event_id": pl.String, "role": pl.String})
    return {
        "person": person, "person_source": person_source, "civil_event": empty_events,
        "event_party": parties, "quarantine": quarantine, "extract_file": extract_file,
    }  # fmt: skip


def count(path, table: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


def test_publish_builds_gates_and_swaps(tmp_path):
    results = publish(tmp_path, "run1", tables())

    assert {r.name for r in results} == {g.name for g in load_gates()}
    assert all(r.violations == 0 for r in results)
    assert count(tmp_path / WAREHOUSE_FILE, "person") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [WAREHOUSE_FILE]


def test_a_failing_gate_leaves_the_published_warehouse_untouched(tmp_path):
    publish(tmp_path, "run1", tables())
    lost_row = tables(quarantined_rows=())  # extract_file still counts the row: it was lost
    lost_row["extract_file"] = tables()["extract_file"]

    with pytest.raises(GateFailed, match="nothing_lost"):
        publish(tmp_path, "run2", lost_row)

    assert count(tmp_path / WAREHOUSE_FILE, "quarantine") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [WAREHOUSE_FILE]


def test_a_row_in_two_places_fails_the_gate(tmp_path):
    twice = tables(quarantined_rows=(1,))  # row 1 is also in person_source
    twice["extract_file"] = twice["extract_file"].with_columns(rows_latest=pl.lit(2))
    with pytest.raises(GateFailed, match="one_place_per_row"):
        publish(tmp_path, "run1", twice)
    assert not (tmp_path / WAREHOUSE_FILE).exists()
