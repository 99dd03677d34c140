"""The generator chunk by chunk: whole wards per chunk, ids unique across chunks, files that
several chunks fill written whole, and the same bytes for the same seed."""

import hashlib
from pathlib import Path

import polars as pl
import pytest
from helpers import read_extract

from dancu.admin_units import ward_conversion
from dancu.generate import STAGING, generate
from dancu.generate.chunks import plan

PERSONS = 3_000
SEED = 5
CHUNK_PERSONS = 1_000


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("chunked")
    generate(PERSONS, SEED, folder, chunk_persons=CHUNK_PERSONS)
    return folder


@pytest.fixture(scope="module")
def truth(out) -> dict[str, pl.DataFrame]:
    return {p.stem: pl.read_parquet(p) for p in (out / "truth").glob("*.parquet")}


@pytest.fixture(scope="module")
def chunk_of_ward() -> pl.DataFrame:
    return pl.DataFrame(
        [(ward, c.index) for c in plan(PERSONS, SEED, CHUNK_PERSONS) for ward in c.wards],
        schema={"ward_code": pl.String, "chunk": pl.Int64},
        orient="row",
    )


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _rows_on_disk(path: Path) -> int:
    if path.suffix == ".parquet":
        return pl.read_parquet(path).height
    return read_extract(path).height


def test_the_city_is_cut_into_chunks_of_whole_wards():
    chunks = plan(PERSONS, SEED, CHUNK_PERSONS)
    assert len(chunks) == 3
    assert sum(c.persons for c in chunks) == PERSONS
    assert [c.first_person for c in chunks] == [0, chunks[0].persons, PERSONS - chunks[2].persons]
    wards = [ward for c in chunks for ward in c.wards]
    assert len(set(wards)) == len(wards)
    assert set(wards) == set(ward_conversion()["ward_code"])  # wards where anyone lives
    (whole,) = plan(PERSONS, SEED)
    assert whole.persons == PERSONS and set(whole.wards) == set(wards)


def test_a_chunked_run_writes_the_same_bytes_again(out, tmp_path):
    generate(PERSONS, SEED, tmp_path, chunk_persons=CHUNK_PERSONS)
    assert _digest(tmp_path) == _digest(out)
    assert not (out / STAGING).exists()


def test_households_and_marriages_stay_in_their_chunk(truth, chunk_of_ward):
    persons = truth["persons"].filter("in_register").join(chunk_of_ward, on="ward_code")
    assert persons.height == PERSONS
    assert persons.group_by("chunk").len()["len"].sort().to_list() == sorted(
        c.persons for c in plan(PERSONS, SEED, CHUNK_PERSONS)
    )
    assert persons.group_by("household_id").agg(pl.col("chunk").n_unique())["chunk"].max() == 1
    spouses = persons.join(
        persons.select(spouse_key="person_key", spouse_chunk="chunk"), on="spouse_key"
    )
    assert spouses.height > 0
    assert (spouses["chunk"] == spouses["spouse_chunk"]).all()


def test_keys_and_ids_are_unique_across_chunks(truth):
    persons = truth["persons"]
    assert persons["person_key"].is_unique().all()
    register = persons.filter("in_register")
    assert register["national_id"].is_unique().all()
    assert register["bhxh_code"].drop_nulls().is_unique().all()
    previous = register["previous_national_id"].drop_nulls()
    assert previous.len() > 0
    assert not previous.is_in(register["national_id"].implode()).any()
    latest = truth["records"].filter("is_latest")
    assert latest.select("source", "source_record_id").is_unique().all()


def test_files_that_several_chunks_fill_are_written_whole(out, truth, chunk_of_ward):
    records = truth["records"]
    chunk_of_person = (
        truth["persons"].select("person_key", "ward_code").join(chunk_of_ward, on="ward_code")
    )
    chunks_per_file = (
        records.join(chunk_of_person, on="person_key")
        .group_by("file_name")
        .agg(pl.col("chunk").n_unique())
    )
    shared = set(chunks_per_file.filter(pl.col("chunk") > 1)["file_name"])
    assert {name.split("/")[0] for name in shared} >= {"bhxh", "y_te", "ly_lich_tu_phap"}
    numbers = records.group_by("file_name").agg(
        pl.col("row_number").sort().alias("numbers"), pl.len().alias("count")
    )
    files = truth["files"].join(numbers, on="file_name")
    assert files.height == truth["files"].height
    for name, rows, numbered in files.select("file_name", "rows", "numbers").iter_rows():
        assert numbered == list(range(1, rows + 1))
        if name in shared:
            assert _rows_on_disk(out / "landing" / name) == rows


def test_chunks_keep_the_sources_sizes(out, truth, tmp_path):
    """A city cut into chunks holds as many records per source as one generated whole."""
    whole = generate(PERSONS, SEED, tmp_path)
    chunked = truth["records"].group_by("source").len()
    for source, rows in chunked.iter_rows():
        if whole.rows[source] >= 500:
            assert 0.9 < rows / whole.rows[source] < 1.1, source
