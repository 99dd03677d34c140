"""The whole graph on a small generated set, through `dancu run` as a data engineer runs it."""

from pathlib import Path

import duckdb
import polars as pl
import pytest

PLACES = ["person_source", "civil_event", "quarantine"]


@pytest.fixture(scope="module")
def run_dir(sample_run: Path) -> Path:
    return sample_run


def published(run_dir: Path, sql: str) -> pl.DataFrame:
    warehouse = run_dir / "data" / "warehouse" / "dancu.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def test_every_input_row_lands_in_exactly_one_place(run_dir):
    truth = pl.read_parquet(run_dir / "sample" / "truth" / "records.parquet")
    expected = truth.filter("is_latest").select("file_name", pl.col("row_number").cast(pl.Int64))
    landed = published(
        run_dir,
        " union all ".join(f"select file_name, row_number from {t}" for t in PLACES)
        + " where row_number is not null",
    )
    assert landed.height == expected.height
    assert landed.sort(pl.all()).equals(expected.sort(pl.all()))


def test_rejected_files_are_quarantined_whole(run_dir):
    bad = pl.read_parquet(run_dir / "sample" / "truth" / "bad_files.parquet")
    rejected = published(run_dir, "select file_name from quarantine where row_number is null")
    assert sorted(rejected["file_name"]) == sorted(bad["file_name"])


def test_invalid_rows_are_quarantined(run_dir):
    truth = pl.read_parquet(run_dir / "sample" / "truth" / "records.parquet").filter("is_latest")
    quarantined = published(run_dir, "select file_name, row_number from quarantine")
    key = ["file_name", "row_number"]
    truth = truth.with_columns(pl.col("row_number").cast(pl.Int64))
    invalid = truth.filter(pl.col("invalid_reason").is_not_null()).select(key)
    assert invalid.height > 0
    assert invalid.join(quarantined, on=key, how="anti").height == 0


def test_persons_are_resolved_and_deaths_applied(run_dir):
    counts = published(
        run_dir,
        "select count(*) as persons, count(*) filter (where is_deceased) as deceased from person",
    ).row(0, named=True)
    assert counts["persons"] > 1_000
    assert counts["deceased"] > 0


def test_the_run_is_in_the_persistent_instance(run_dir):
    assert (run_dir / "data" / "dagster" / "dagster.yaml").exists()
    assert any((run_dir / "data" / "dagster").rglob("*.db"))


def test_explain_shows_a_masked_waterfall_of_two_records(run_dir, capsys):
    from dancu.cli import main

    pair = published(
        run_dir,
        "select a.source || ':' || a.source_record_id as l, b.source || ':' || b.source_record_id"
        " as r, p.national_id, p.full_name from person_source a join person_source b"
        " using (person_id) join person p using (person_id)"
        " where a.source = 'dan_cu' and b.source = 'bhxh' and p.national_id is not null limit 1",
    ).row(0, named=True)

    assert main(["explain", pair["l"], pair["r"], "--data", str(run_dir / "data")]) == 0

    shown = capsys.readouterr().out
    assert "match weight" in shown and "national_id" in shown
    assert pair["national_id"] not in shown and pair["full_name"] not in shown
