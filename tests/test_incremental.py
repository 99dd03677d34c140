"""Incremental runs: a file is parsed and standardised once per content, and the output is the same
as reading everything afresh, whatever happened to the landing folder or the cache in between."""

import os
import shutil
import subprocess
import sys
import warnings
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_held_versions import version, write_extract

from assets.ingest import raw_asset
from assets.standardize import std_asset
from dancu.cache import ENTRY_SUFFIX, PARTIAL_SUFFIX, FileCache, _import_closure, code_version
from dancu.contract import DAN_CU, FILE_NAME, RECORD_ID
from dancu.generate import generate
from dancu.ingest import FILE_ERROR, files_frame, ingest_cache, read_source, scan_source
from dancu.rules import REASONS, is_held
from dancu.standardize import (
    LEGACY,
    batches,
    standardize,
    standardize_cache,
    standardize_cached,
)
from orchestration.resources import DancuPaths, StagingParquetIOManager

SOURCE = DAN_CU


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """Generated dan_cu files, the few hundred cut down to those of every case that matters here:
    records delivered again later, legacy encodings, quarantined rows, a rejected file, XLSX."""
    out = tmp_path_factory.mktemp("incremental")
    generate(persons=400, seed=11, out=out)
    raw, _ = read_source(out / "landing", SOURCE)
    std = standardize(raw.lazy(), SOURCE).collect()
    special = pl.col(LEGACY).is_not_null() | (pl.col(REASONS).list.len() > 0)
    wanted = pl.concat(
        [
            raw.filter(pl.col(RECORD_ID).is_duplicated() | pl.col(FILE_ERROR).is_not_null()),
            raw.filter(pl.col(FILE_NAME).str.ends_with(".xlsx")).head(5),
        ],
        how="diagonal_relaxed",
    )[FILE_NAME].append(std.filter(special)[FILE_NAME])
    subset = out / "subset"
    for name in wanted.unique().to_list():
        (subset / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(out / "landing" / name, subset / name)
    return subset


@pytest.fixture
def landing(sample, tmp_path) -> Path:
    """A copy of the sample's dan_cu files that a test may change."""
    copy = tmp_path / "landing"
    shutil.copytree(sample / SOURCE.name, copy / SOURCE.name)
    return copy


class Caches:
    def __init__(self, root: Path, version: str = ""):
        self.root = root
        self.version = version

    def ingest(self) -> FileCache:
        cache = ingest_cache(self.root, SOURCE)
        return FileCache(cache.root, cache.version + self.version)

    def standardize(self) -> FileCache:
        cache = standardize_cache(self.root, SOURCE)
        return FileCache(cache.root, cache.version + self.version)


@pytest.fixture
def caches(tmp_path) -> Caches:
    return Caches(tmp_path / "cache")


def fresh(landing: Path) -> tuple[pl.DataFrame, list, pl.DataFrame]:
    """Raw rows, read reports and standardised rows, computed without any cache."""
    raw, reports = read_source(landing, SOURCE)
    return raw, reports, standardize(raw.lazy(), SOURCE).collect()


def cached(landing: Path, caches: Caches) -> tuple[pl.DataFrame, list, pl.DataFrame, tuple]:
    """The same through the caches, as the assets run it, with how many files each stage redid."""
    ingest, std = caches.ingest(), caches.standardize()
    raw, reports = scan_source(landing, SOURCE, ingest)
    ingest.prune({ingest.key(r.file_name, r.sha256) for r in reports})
    files = files_frame(reports, raw)
    rows = standardize_cached(raw, files, SOURCE, std).collect()
    std.prune({std.key(r.file_name, r.sha256) for r in reports})
    return raw.collect(), reports, rows, (ingest.misses, std.misses)


def assert_same_as_fresh(landing: Path, caches: Caches) -> tuple[int, int]:
    raw, reports, rows = fresh(landing)
    raw_cached, reports_cached, rows_cached, redone = cached(landing, caches)
    assert_frame_equal(raw_cached, raw)
    assert reports_cached == reports
    assert_frame_equal(rows_cached, rows)
    return redone


def readable_csv(landing: Path) -> Path:
    """A CSV of the landing folder that is read, not rejected, and holds rows."""
    _, reports = read_source(landing, SOURCE)
    name = next(r.file_name for r in reports if r.file_name.endswith(".csv") and r.rows)
    return landing / name


def entries(cache: FileCache) -> list[Path]:
    return sorted(cache.root.glob(f"*{ENTRY_SUFFIX}"))


def test_cold_then_warm_cache_give_the_fresh_output_and_the_warm_run_reads_no_file(landing, caches):
    files = len(list((landing / SOURCE.name).iterdir()))
    raw, reports = read_source(landing, SOURCE)
    readable = files_frame(reports, raw).filter(pl.col("error").is_null() & (pl.col("rows") > 0))

    assert assert_same_as_fresh(landing, caches) == (files, readable.height)
    assert assert_same_as_fresh(landing, caches) == (0, 0)


@pytest.mark.parametrize(
    ("rows", "most_rows", "expected"),
    [
        ([3, 3, 3], 6, [["a", "b"], ["c"]]),
        ([3, 3, 3], 9, [["a", "b", "c"]]),
        ([3, 3, 3], 5, [["a"], ["b"], ["c"]]),
        ([8, 1, 1], 5, [["a"], ["b", "c"]]),  # a file over the cap is a batch of its own
        ([1, 8, 1], 5, [["a"], ["b"], ["c"]]),
    ],
)
def test_files_are_batched_in_order_within_the_rows_a_batch_may_hold(rows, most_rows, expected):
    names = ["a", "b", "c"]
    assert batches(names, rows, most_rows) == expected
    assert batches([], [], most_rows) == []


def test_files_standardised_in_small_batches_give_the_output_of_one_batch(landing, caches):
    raw, reports = read_source(landing, SOURCE)
    files = files_frame(reports, raw)
    whole = standardize_cached(raw.lazy(), files, SOURCE, caches.standardize()).collect()
    readable = files.filter(pl.col("error").is_null() & (pl.col("rows") > 0))
    smallest = int(readable["rows"].min())
    assert len(batches(readable[FILE_NAME].to_list(), readable["rows"].to_list(), smallest)) > 2
    in_batches = Caches(caches.root / "batched").standardize()
    batched = standardize_cached(
        raw.lazy(), files, SOURCE, in_batches, most_rows=smallest
    ).collect()

    assert in_batches.misses == readable.height
    assert_frame_equal(batched, whole)


def test_a_new_file_is_the_only_one_read_and_its_rows_supersede_older_ones(
    landing, caches, monkeypatch
):
    assert_same_as_fresh(landing, caches)
    delivered = readable_csv(landing)
    # The same records delivered again at the year's end, read on New Year's day: they become
    # the latest, the older rows do not.
    monkeypatch.setenv("DANCU_AS_OF", "2026-01-01")
    shutil.copy(delivered, delivered.with_name(f"{delivered.stem[:-8]}20251231.csv"))

    assert assert_same_as_fresh(landing, caches) == (1, 1)


def test_a_refused_correction_in_a_new_file_holds_the_earlier_row_as_a_fresh_run_does(
    landing, caches, monkeypatch
):
    _, _, std = fresh(landing)
    standing = std.filter(pl.col(REASONS).list.len() == 0, ~is_held()).row(0, named=True)
    assert_same_as_fresh(landing, caches)
    # The record delivered again at the year's end with a birth date that is no day.
    monkeypatch.setenv("DANCU_AS_OF", "2026-01-01")
    refused = version(SOURCE.name, standing[RECORD_ID], valid=False)
    write_extract(landing, SOURCE.name, "dan_cu_refused_20251231.csv", [refused])

    assert assert_same_as_fresh(landing, caches) == (1, 1)
    _, _, std = fresh(landing)
    record = std.filter(pl.col(RECORD_ID) == standing[RECORD_ID])
    assert record.filter(is_held())[FILE_NAME].to_list() == [standing[FILE_NAME]]
    assert record.filter(~is_held())[REASONS].list.len().to_list() == [1]


def test_content_replaced_under_the_same_name_size_and_mtime_is_read_again(landing, caches):
    assert_same_as_fresh(landing, caches)
    path = readable_csv(landing)
    before = path.stat()
    data = path.read_bytes()
    # A corrected delivery copied with its timestamps kept: one digit differs, nothing else.
    at = next(i for i, byte in enumerate(data) if chr(byte).isdigit() and i > data.index(b"\n"))
    changed = data[:at] + (b"1" if data[at : at + 1] != b"1" else b"2") + data[at + 1 :]
    path.write_bytes(changed)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size

    assert assert_same_as_fresh(landing, caches) == (1, 1)


def test_a_deleted_file_drops_out_and_its_entries_are_removed(landing, caches):
    assert_same_as_fresh(landing, caches)
    entries_before = len(entries(caches.ingest()))
    readable_csv(landing).unlink()

    assert assert_same_as_fresh(landing, caches) == (0, 0)
    assert len(entries(caches.ingest())) == entries_before - 1


def test_a_rejected_file_stays_rejected_with_the_same_error(landing, caches):
    undated = landing / SOURCE.name / "dan_cu_undated.csv"
    undated.write_text("Mã hồ sơ,Họ và tên\nHS1,A\n", encoding="utf-8")

    assert_same_as_fresh(landing, caches)
    _, reports, _, redone = cached(landing, caches)

    assert redone == (0, 0)
    assert [r.error for r in reports if r.file_name.endswith("undated.csv")] == [
        "no extract date (YYYYMMDD) in the file name"
    ]


def test_another_code_version_redoes_every_file(landing, caches):
    assert_same_as_fresh(landing, caches)
    files = len(list((landing / SOURCE.name).iterdir()))

    changed = Caches(caches.root, version="+edited")
    ingest_redone, _ = assert_same_as_fresh(landing, changed)

    assert ingest_redone == files
    # The previous version's entries are pruned, not kept forever beside the new ones.
    assert len(entries(changed.ingest())) == files


def test_a_corrupt_or_truncated_entry_is_ignored_and_rebuilt(landing, caches):
    assert_same_as_fresh(landing, caches)
    ingest_entries, std_entries = entries(caches.ingest()), entries(caches.standardize())
    ingest_entries[0].write_bytes(ingest_entries[0].read_bytes()[:100])
    std_entries[0].write_bytes(b"not parquet")

    assert assert_same_as_fresh(landing, caches) == (1, 1)
    assert assert_same_as_fresh(landing, caches) == (0, 0)


def test_a_source_without_files_gives_the_empty_frame_with_every_column(tmp_path, caches):
    assert_same_as_fresh(tmp_path / "nothing_landed", caches)


def test_a_temporary_file_left_by_a_crashed_writer_is_never_read_and_is_removed_when_stale(
    tmp_path,
):
    cache = FileCache(tmp_path, "v1")
    key = cache.key("dan_cu/a_20250101.csv", "digest")
    left = tmp_path / f".{key}.crashed{PARTIAL_SUFFIX}"
    left.write_bytes(b"half a parquet")

    assert cache.load(key) is None
    cache.prune(set())
    assert left.exists()  # it may belong to a writer still at work
    os.utime(left, (0, 0))
    cache.prune(set())
    assert not left.exists()


def test_entries_are_written_whole_under_their_key(tmp_path):
    cache = FileCache(tmp_path, "v1")
    frame = pl.DataFrame({"a": ["x", None], "b": [1, 2]})
    cache.store("k", frame, {"rows": 2})

    assert [p.name for p in tmp_path.iterdir()] == [f"k{ENTRY_SUFFIX}"]
    loaded, meta = cache.load("k")
    assert_frame_equal(loaded, frame)
    assert meta == {"rows": 2}


def test_the_code_version_covers_every_module_the_stage_runs():
    modules, libraries = _import_closure(("dancu.standardize",))

    assert {"dancu.rules", "dancu.address", "dancu.parse", "dancu.text", "dancu.ingest"} <= set(
        modules
    )
    assert "polars" in libraries
    assert not any(m.startswith(("assets", "orchestration", "pipelines")) for m in modules)
    assert code_version("dancu.ingest") != code_version("dancu.standardize")


def test_the_code_version_does_not_depend_on_where_python_runs(tmp_path):
    code = "from dancu.cache import code_version; print(code_version('dancu.standardize'))"
    versions = {
        subprocess.run(
            [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout
        for cwd in (Path(__file__).resolve().parent.parent, tmp_path)
    }
    assert len(versions) == 1


def test_the_assets_reuse_the_cache_of_the_previous_run(landing, tmp_path):
    paths = DancuPaths(data_dir=str(tmp_path / "data"), landing_dir=str(landing))
    assets = [raw_asset(SOURCE), std_asset(SOURCE)]
    resources = {"paths": paths, "io_manager": StagingParquetIOManager(data_dir=paths.data_dir)}

    def run() -> dict:
        result = dg.materialize(assets, resources=resources)
        materialized = result.get_asset_materialization_events()
        return {e.asset_key.to_user_string(): e.materialization.metadata for e in materialized}

    first, second = run(), run()
    staged = Path(paths.data_dir, "staging", f"std_{SOURCE.name}.parquet")

    assert first[f"files_{SOURCE.name}"]["files_parsed"].value > 0
    assert second[f"files_{SOURCE.name}"]["files_parsed"].value == 0
    assert second[f"std_{SOURCE.name}"]["files_standardised"].value == 0
    assert_frame_equal(pl.read_parquet(staged), fresh(landing)[2])


def test_a_thousand_files_of_mixed_columns_read_lazily_are_the_rows_read_eagerly(
    landing, caches, tmp_path
):
    delivered = sorted((landing / SOURCE.name).iterdir())
    for copy in range(1000):  # the wards' deliveries, again and again
        path = delivered[copy % len(delivered)]
        ward, _ = path.stem.rsplit("_", 1)
        day = date(2020, 1, 1) + timedelta(days=copy)
        shutil.copy(path, path.with_name(f"{ward}_{day:%Y%m%d}{path.suffix}"))

    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        raw, _ = scan_source(landing, SOURCE, caches.ingest())
        raw.sink_parquet(tmp_path / "raw.parquet")  # as the staging I/O manager writes it

    assert_frame_equal(pl.read_parquet(tmp_path / "raw.parquet"), read_source(landing, SOURCE)[0])
    assert [str(w.message) for w in warned] == []
