"""The memory setting: how it is read, what DuckDB connections get from it, and a step's peak."""

import gc
import mmap
import sys
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from dancu import memory

GIB = 2**30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12GB", 12 * 10**9),
        ("12gb", 12 * 10**9),
        ("1.5GiB", int(1.5 * GIB)),
        ("512 MiB", 512 * 2**20),
        ("75%", 12 * GIB),
        ("100%", 16 * GIB),
        ("1000000", 1_000_000),
    ],
)
def test_a_limit_is_an_amount_or_a_share_of_the_machine(text, expected):
    assert memory.parse_limit(text, total=16 * GIB) == expected


@pytest.mark.parametrize("text", ["", "lots", "12 parsecs", "0GB", "150%", "-1GB", "GB"])
def test_a_limit_that_is_no_amount_is_refused_with_the_variable_named(text):
    with pytest.raises(ValueError, match="DANCU_MEMORY_LIMIT"):
        memory.parse_limit(text, total=16 * GIB)


def test_the_limit_is_read_once_and_defaults_to_three_quarters_of_the_machine(limit, monkeypatch):
    limit(None)
    assert memory.memory_limit() == int(memory.machine_memory() * 0.75)
    monkeypatch.setenv(memory.MEMORY_LIMIT_ENV, "1GB")
    assert memory.memory_limit() == int(memory.machine_memory() * 0.75)
    limit("1GB")
    assert memory.memory_limit() == 10**9


@pytest.mark.parametrize(
    ("membership", "limit_file", "expected"),
    [
        # v1, as in a container whose memory controller is nested (a limit of 8 GB on it)
        (
            "9:name=systemd:/\n4:memory:/jobs/run-7\n3:cpuset:/\n0::/",
            "memory/jobs/run-7/memory.limit_in_bytes",
            [8 * 10**9],
        ),
        # v1, the limit set on a parent group
        ("4:cpu,memory:/jobs/run-7\n", "memory/jobs/memory.limit_in_bytes", [8 * 10**9]),
        # v2, nested
        ("0::/jobs/run-7\n", "jobs/run-7/memory.max", [8 * 10**9]),
        # v2, the container's own cgroup seen as the root
        ("0::/\n", "memory.max", [8 * 10**9]),
        # v2 without a limit
        ("0::/jobs\n", None, []),
    ],
)
def test_the_machine_is_as_large_as_the_cgroup_allows(tmp_path, membership, limit_file, expected):
    if limit_file:
        (tmp_path / limit_file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / limit_file).write_text(f"{8 * 10**9}\n")
    (tmp_path / "jobs").mkdir(exist_ok=True)
    (tmp_path / "jobs" / "memory.max").write_text("max\n")
    assert memory.cgroup_limits(membership, tmp_path) == expected


def test_rows_within_holds_a_share_of_the_limit(limit):
    limit("400MiB")
    assert memory.rows_within(row_bytes=100) == 100 * 2**20 // 100
    assert memory.rows_within(row_bytes=100, share=0.5) == 200 * 2**20 // 100
    assert memory.rows_within(row_bytes=10 * GIB) == 1


def setting(con: duckdb.DuckDBPyConnection, name: str):
    return con.sql(f"select current_setting('{name}')").fetchall()[0][0]


def test_a_duckdb_connection_keeps_within_the_limit_and_spills_in_the_data_folder(limit, tmp_path):
    limit("64MiB")  # less than the test process holds: DuckDB gets a quarter of it, 16 MiB
    spill = memory.spill_dir(tmp_path)
    with memory.limit_duckdb(duckdb.connect(), spill, keeps_order=False) as con:
        assert setting(con, "memory_limit") == "16.0 MiB"
        assert setting(con, "preserve_insertion_order") is False
        assert Path(setting(con, "temp_directory")) == spill
        # A table several times the limit: its blocks are written out, not refused.
        con.execute(
            "create table t as select i, repeat('x', 40) || i as s from range(2000000) t(i)"
        )
        spilled = con.sql("select count(*), sum(size) from duckdb_temporary_files()").fetchall()[0]
        assert spilled[0] > 0 and spilled[1] > 16 * 2**20
        files = con.sql("select path from duckdb_temporary_files()").fetchall()
        assert {Path(path).parent for (path,) in files} == {spill}
        assert con.sql("select count(*), max(i) from t").fetchall() == [(2_000_000, 1_999_999)]


def test_a_duckdb_connection_leaves_room_beside_what_the_process_holds(limit, tmp_path):
    held = memory.resident_bytes()
    # 8 GiB free: DuckDB gets 4.8 of them (the floor, a quarter of the limit, is lower; all of
    # them would be 8), give or take what the process takes or lets go of meanwhile.
    limit(str(held + 8 * GIB))
    with memory.limit_duckdb(duckdb.connect(), tmp_path) as con:
        shown = setting(con, "memory_limit")  # "4.8 GiB"
    assert shown.endswith(" GiB") and 4.6 <= float(shown.removesuffix(" GiB")) <= 4.9


def test_a_duckdb_connection_keeps_order_unless_told_otherwise(limit, tmp_path):
    limit("2GB")
    with memory.limit_duckdb(duckdb.connect(), tmp_path) as con:
        assert setting(con, "preserve_insertion_order") is True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the peak resets on Linux")
def test_the_peak_is_measured_from_its_start():
    memory.start_peak()
    before = memory.peak_since_start()
    # 256 MiB of fresh pages, touched: mapped here, not taken from what the allocator already
    # holds, which a long test session leaves resident and which would not raise the peak.
    held = mmap.mmap(-1, 256 * 2**20)
    held.write(b"\1" * len(held))
    grown = memory.peak_since_start()
    # Not all 256 MiB: in a long test session other threads may free memory meanwhile.
    assert grown - before >= 200 * 2**20
    held.close()
    memory.start_peak()
    assert memory.peak_since_start() < grown - 150 * 2**20


def test_without_a_folder_a_frame_stays_in_memory_as_it_is():
    frame = pl.DataFrame({"number": [1, 2], "text": ["Hà Nội", None]})
    assert memory.mapped(frame, None) is frame
    column = frame["text"]
    assert memory.mapped_column(column, None) is column


def test_a_mapped_frame_is_the_frame_and_its_values_are_not_held(tmp_path):
    frame = pl.DataFrame(
        {
            "number": [1, None, 3],
            "text": ["Hà Nội", None, "Huế"],
            "category": pl.Series(["Nguyễn", "Lê", None], dtype=pl.Categorical),
            "decided_by": pl.Series(["clerk", "model", "model"], dtype=pl.Enum(["clerk", "model"])),
            "flag": [True, None, False],
            "day": [date(1990, 5, 12), None, date(2001, 1, 31)],
        }
    )
    assert memory.mapped(frame, tmp_path).equals(frame)
    assert memory.mapped(frame.clear(), tmp_path).equals(frame.clear())

    column = pl.Series("big", np.arange(32 * 2**20, dtype=np.int64))  # 256 MiB
    before = memory.held_bytes()
    on_disk = memory.mapped_column(column, tmp_path)
    del column
    gc.collect()
    assert on_disk.sum() == 32 * 2**20 * (32 * 2**20 - 1) // 2  # every page read
    assert memory.held_bytes() < before - 200 * 2**20


def test_a_lazy_frame_is_read_and_mapped_column_by_column(tmp_path):
    frame = pl.DataFrame(
        {
            "rk": pl.Series([0, 1, 2], dtype=pl.UInt32),
            "text": ["Hà Nội", None, "Huế"],
            "day": [date(1990, 5, 12), None, date(2001, 1, 31)],
        }
    )
    frame.write_parquet(tmp_path / "records.parquet")
    on_disk = pl.scan_parquet(tmp_path / "records.parquet")
    spill = tmp_path / "spill"
    spill.mkdir()
    assert memory.mapped(on_disk, None).equals(frame)
    assert memory.mapped(on_disk.select("day", "rk"), spill).equals(frame.select("day", "rk"))
    assert len(list(spill.glob("*.arrow"))) == 2  # mapped, not collected


@pytest.mark.parametrize("path", ["/data/dancu/spill", "/data/Hà Nội's run/spill", "/tmp/''"])
def test_a_path_is_a_duckdb_literal_of_itself(path):
    assert duckdb.execute(f"select {memory.sql_path(Path(path))}").fetchone()[0] == path
