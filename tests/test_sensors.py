"""The landing sensor: one run per new batch of files, named by its files, never twice while it
succeeds; asked again when it fails; none while another run holds the data folder."""

import json
import os
import shutil
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster._core.utils import make_new_run_id

from dancu.contract import SOURCES
from dancu.generate import generate
from dancu.lock import run_lock
from pipelines.cli import dagster_home
from pipelines.definitions import build_definitions
from pipelines.sensors import MAX_ATTEMPTS, MAX_NAMES_IN_RUN_KEY

SOURCE_ORDER = list(SOURCES)  # the sensor lists files source by source, then by name

DAY_1 = ["dan_cu/dan_cu_00001_20251015.csv", "bhxh/bhxh_badinh_20251015.parquet"]
DAY_2 = ["khai_tu/khai_tu_20251016.csv"]


@pytest.fixture
def landing(tmp_path, monkeypatch):
    monkeypatch.setenv("DANCU_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("DANCU_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "landing"


@pytest.fixture(autouse=True)
def instance():
    """The instance `DagsterInstance.get()` returns during the test: the runs the sensor asks for
    are looked up there."""
    with dg.instance_for_test() as instance:
        yield instance


def land(landing, names, age_seconds=120, content=b"x"):
    for name in names:
        path = landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        past = time.time() - age_seconds
        os.utime(path, (past, past))


def tick(cursor=None, ran=dg.DagsterRunStatus.SUCCESS):
    """The sensor's next tick, once the run it asked for at the last one (if it did) has reached
    `ran` (None: Dagster never made it)."""
    instance = dg.DagsterInstance.get()
    if cursor and ran is not None and (key := json.loads(cursor).get("run_key")):
        run = dg.DagsterRun(
            "refresh_register", make_new_run_id(), tags={"dagster/run_key": key}, status=ran
        )
        instance.add_run(run)
    sensor = build_definitions().resolve_sensor_def("new_extracts")
    result = sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, instance=instance))
    return result.run_requests or [], result.skip_message, result.cursor or cursor


def test_one_run_per_new_batch_and_none_for_files_already_seen(landing):
    land(landing, DAY_1)
    runs, _, cursor = tick()
    assert len(runs) == 1
    assert all(name in runs[0].run_key for name in DAY_1)
    assert runs[0].tags["dancu/extract_dates"] == "2025-10-15"

    runs, skipped, cursor = tick(cursor)
    assert runs == [] and "no new" in skipped

    land(landing, DAY_2)
    runs, _, cursor = tick(cursor)
    assert len(runs) == 1
    assert runs[0].run_key.startswith("khai_tu/khai_tu_20251016.csv#")
    assert runs[0].tags["dancu/new_files"] == "1"


def test_a_file_delivered_again_starts_a_run(landing):
    land(landing, DAY_1)
    _, _, cursor = tick()
    land(landing, DAY_1[:1], content=b"corrected")
    runs, _, _ = tick(cursor)
    assert len(runs) == 1 and DAY_1[0] in runs[0].run_key


def test_a_file_still_being_copied_waits_for_the_next_tick(landing):
    land(landing, DAY_1, age_seconds=0)
    runs, skipped, _ = tick()
    assert runs == [] and skipped


@pytest.fixture(scope="module")
def two_days(tmp_path_factory):
    """A small generated two-day set: OUT/landing (day 1), OUT/day2 and OUT/truth."""
    out = tmp_path_factory.mktemp("two_days")
    generate(persons=300, seed=7, out=out, two_days=True)
    return out


def deliver(source: Path, landing: Path, age_seconds=120) -> None:
    """Copy a delivery into the landing folder, settled (older than the sensor's wait)."""
    shutil.copytree(source, landing, dirs_exist_ok=True)
    past = time.time() - age_seconds
    for path in landing.rglob("*"):
        if path.is_file() and path.stat().st_mtime > past:
            os.utime(path, (past, past))


def test_a_second_days_files_start_exactly_one_run(landing, two_days):
    deliver(two_days / "landing", landing)
    runs, _, cursor = tick()
    assert len(runs) == 1

    deliver(two_days / "day2", landing)
    runs, _, cursor = tick(cursor)
    files = pl.read_parquet(two_days / "truth" / "files.parquet").filter(pl.col("day") == 2)
    day_2 = sorted(
        files["file_name"], key=lambda name: (SOURCE_ORDER.index(name.split("/")[0]), name)
    )
    assert len(runs) == 1
    shown = runs[0].run_key.split("#")[0].split(",")
    assert shown == [*day_2[:MAX_NAMES_IN_RUN_KEY], f"+{len(day_2) - MAX_NAMES_IN_RUN_KEY} more"]
    assert runs[0].tags["dancu/new_files"] == str(len(day_2))
    dates = sorted({d.isoformat() for d in files["extract_date"]})
    assert runs[0].tags["dancu/extract_dates"] == ",".join(dates)

    runs, skipped, _ = tick(cursor)
    assert runs == [] and "no new" in skipped


def test_a_batch_whose_run_failed_is_asked_again_then_left_to_the_schedule(landing):
    land(landing, DAY_1)
    runs, _, cursor = tick()
    first = runs[0].run_key
    for attempt in range(2, MAX_ATTEMPTS + 1):
        runs, _, cursor = tick(cursor, ran=dg.DagsterRunStatus.FAILURE)
        assert [r.run_key for r in runs] == [f"{first} (attempt {attempt})"]
    runs, skipped, cursor = tick(cursor, ran=dg.DagsterRunStatus.FAILURE)
    assert runs == [] and f"failed {MAX_ATTEMPTS} times" in skipped
    runs, skipped, cursor = tick(cursor)
    assert runs == [] and "failed" in skipped

    land(landing, DAY_2)
    runs, _, cursor = tick(cursor)
    assert len(runs) == 1 and "attempt" not in runs[0].run_key
    assert all(name in runs[0].run_key for name in DAY_1 + DAY_2)


def test_a_run_dagster_never_made_counts_as_failed(landing):
    land(landing, DAY_1)
    runs, _, cursor = tick()
    again, _, _ = tick(cursor, ran=None)
    assert [r.run_key for r in again] == [f"{runs[0].run_key} (attempt 2)"]


def test_nothing_is_asked_while_the_asked_run_goes_on(landing):
    land(landing, DAY_1)
    _, _, cursor = tick()
    land(landing, DAY_2)
    runs, skipped, same = tick(cursor, ran=dg.DagsterRunStatus.STARTED)
    assert runs == [] and "waiting for run" in skipped and same == cursor


def test_nothing_is_asked_while_another_run_holds_the_data_folder(landing):
    land(landing, DAY_1)
    data = Path(os.environ["DANCU_DATA_DIR"])
    with run_lock(data, "a run by hand"):
        runs, skipped, cursor = tick()
    assert runs == [] and "busy (a run by hand" in skipped
    runs, _, _ = tick(cursor)
    assert len(runs) == 1 and "attempt" not in runs[0].run_key


def test_a_file_copied_over_with_its_old_size_and_time_counts_as_delivered_again(landing):
    land(landing, DAY_1)
    _, _, cursor = tick()
    path = landing / DAY_1[0]
    old = path.stat()
    path.write_bytes(b"y")  # `cp -p` of a corrected file of the same size
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))
    runs, _, _ = tick(cursor)
    assert len(runs) == 1 and DAY_1[0] in runs[0].run_key


def test_the_cursor_of_earlier_versions_is_read_as_files_already_read(landing):
    land(landing, DAY_1)
    _, _, cursor = tick()
    earlier = json.dumps(json.loads(cursor)["asked"])
    runs, skipped, _ = tick(earlier)
    assert runs == [] and "no new" in skipped


def test_runs_the_daemon_starts_queue_one_behind_the_other(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    dagster_home(tmp_path)
    with dg.DagsterInstance.get() as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
