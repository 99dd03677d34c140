"""The whole graph on a small generated set, through `dancu run` as a data engineer runs it,
scored against the truth the generator wrote beside the extracts."""

from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import landing_rows

from benchmarks.resolution import pairwise

PLACES = ["person_source", "civil_event", "quarantine"]
KEY = ["file_name", "row_number"]

# The README ("Performance and quality") reports pairwise precision 1.0000 and recall 0.99997
# on the 20,000-person sample. This set has 2,000 persons and about 2,800 true pairs, so one
# wrong pair moves a score by about 0.00035: the margin of 0.001 forgives three.
PRECISION_FLOOR = 1.0 - 0.001
RECALL_FLOOR = 0.99997 - 0.001
# A wrong pair either way makes at most one person too many or too few: the same three, as a
# share of 2,000 persons, with room for two more.
PERSONS_TOLERANCE = 0.0025


@pytest.fixture(scope="module")
def run_dir(sample_run: Path) -> Path:
    return sample_run


def published(run_dir: Path, sql: str) -> pl.DataFrame:
    warehouse = run_dir / "data" / "warehouse" / "dancu.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def truth(run_dir: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(run_dir / "sample" / "truth" / f"{table}.parquet")


@pytest.fixture(scope="module")
def resolved(run_dir) -> pl.DataFrame:
    """Each published person record: its person_id, and the true person_key of its row."""
    records = published(run_dir, "select person_id, file_name, row_number from person_source")
    return records.join(truth(run_dir, "records").select(*KEY, "person_key"), on=KEY, how="left")


@pytest.fixture(scope="module")
def true_person_of(resolved) -> pl.DataFrame:
    """Each published person_id, and the true person most of its records are."""
    return (
        resolved.group_by("person_id", "person_key")
        .len()
        .sort("len", "person_key", descending=[True, False])
        .unique("person_id", keep="first")
        .select("person_id", "person_key")
    )


def registered_parties(run_dir: Path, role: str) -> pl.DataFrame:
    """Each accepted registration's party in `role`: the person it links to (or why none), that
    person's life status, and the true person registered (`true_key`)."""
    parties = published(
        run_dir,
        "select e.source_record_id, p.person_id, p.unmatched_reason, s.is_deceased,"
        " s.death_date from civil_event e join event_party p using (event_id)"
        f" left join person s using (person_id) where p.role = '{role}'",
    )
    truly = truth(run_dir, "event_parties").filter(pl.col("role") == role)
    return parties.join(
        truly.select("source_record_id", pl.col("person_key").alias("true_key")),
        on="source_record_id",
        how="left",
    )


def test_every_input_row_lands_in_exactly_one_place(run_dir):
    expected = landing_rows(truth(run_dir, "records"))
    landed = published(
        run_dir,
        " union all ".join(f"select file_name, row_number from {t}" for t in PLACES)
        + " where row_number is not null",
    )
    assert landed.height == expected.height
    assert landed.sort(pl.all()).equals(expected.sort(pl.all()))


def test_rejected_files_are_quarantined_whole(run_dir):
    bad = truth(run_dir, "bad_files")
    rejected = published(run_dir, "select file_name from quarantine where row_number is null")
    assert sorted(rejected["file_name"]) == sorted(bad["file_name"])


def test_invalid_rows_and_only_they_are_quarantined(run_dir):
    latest = truth(run_dir, "records").filter("is_latest")
    quarantined = published(
        run_dir, "select file_name, row_number from quarantine where row_number is not null"
    )
    invalid = latest.filter(pl.col("invalid_reason").is_not_null()).select(KEY)
    assert invalid.height > 0
    assert quarantined.sort(KEY).equals(invalid.sort(KEY))


def test_persons_are_the_true_persons_pairwise(resolved):
    assert resolved["person_key"].null_count() == 0, "person_source rows no delivered row is"
    scores = pairwise(resolved["person_key"], resolved["person_id"])
    assert scores["precision"] >= PRECISION_FLOOR, scores
    assert scores["recall"] >= RECALL_FLOOR, scores


def test_as_many_persons_as_the_records_truly_hold(run_dir, resolved):
    # Births add the children the register does not know yet.
    children = registered_parties(run_dir, "child")["true_key"]
    true_persons = pl.concat([resolved["person_key"], children]).n_unique()
    persons = published(run_dir, "select count(*) from person").item()
    assert abs(persons - true_persons) <= PERSONS_TOLERANCE * true_persons, (persons, true_persons)


def test_every_accepted_death_marks_its_true_person_deceased(run_dir, resolved, true_person_of):
    deaths = registered_parties(run_dir, "deceased").join(
        true_person_of, on="person_id", how="left"
    )
    true_deaths = truth(run_dir, "persons").select(
        pl.col("person_key").alias("true_key"), pl.col("death_date").alias("true_death_date")
    )
    deaths = deaths.join(true_deaths, on="true_key", how="left")
    in_register = pl.col("true_key").is_in(resolved["person_key"].implode())
    known, strangers = deaths.filter(in_register), deaths.filter(~in_register)

    assert deaths["true_key"].null_count() == 0, "a published death the generator never wrote"
    assert known.height > 0
    wrong = known.filter(
        (pl.col("person_key") != pl.col("true_key")).fill_null(True)
        | ~pl.col("is_deceased").fill_null(False)
        | (pl.col("death_date") != pl.col("true_death_date")).fill_null(True)
    )
    assert wrong.is_empty(), wrong.select("source_record_id", "unmatched_reason")
    # Nobody in the register is the person: the death links to nobody, and says why.
    assert strangers["person_id"].is_null().all(), strangers["source_record_id"]
    assert strangers["unmatched_reason"].is_not_null().all(), strangers["source_record_id"]


def test_only_persons_a_death_links_to_are_deceased(run_dir):
    deceased = published(run_dir, "select person_id from person where is_deceased")
    linked = registered_parties(run_dir, "deceased")["person_id"].drop_nulls().unique()
    assert sorted(deceased["person_id"]) == sorted(linked)


def test_the_folder_where_clerks_put_their_decisions_is_there_after_a_run(run_dir):
    assert (run_dir / "data" / "review" / "decisions").is_dir()


def test_the_run_is_in_the_persistent_instance(run_dir):
    assert (run_dir / "data" / "dagster" / "dagster.yaml").exists()
    assert any((run_dir / "data" / "dagster").rglob("*.db"))


def test_explain_shows_a_masked_waterfall_of_two_records(run_dir, capsys):
    from pipelines.cli import main

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
