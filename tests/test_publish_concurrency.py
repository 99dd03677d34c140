"""Publishing while services read: readers never fail and never see half a version, a publish
never waits on a reader, and a publish killed at any step leaves the published warehouse whole."""

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from test_warehouse import tables

from dancu.warehouse import STEPS, WAREHOUSE_FILE, publish

READERS = 4
# Which run built the version, and what that run loaded: one query, so one version.
VERSION_QUERY = """
    select (select run_id from publish_run) as run,
           (select count(*) from person) as persons,
           (select count(distinct run_id) from dq_metric) as runs_in_history
"""


def version_tables(k: int):
    """Run k publishes k persons, so a query can tell whether its tables agree."""
    return tables(person_ids=tuple(f"P{i}" for i in range(k)), quarantined_rows=(k + 1,))


def read_loop(path: str, stop, results, errors, counter) -> None:
    """A service: short read-only connections, reopened for every query."""
    while not stop.is_set():
        try:
            with duckdb.connect(path, read_only=True) as con:
                results.put(con.execute(VERSION_QUERY).fetchall()[0])
            with counter.get_lock():
                counter.value += 1
        except Exception as error:  # every failure is the finding
            errors.put(repr(error))


def wait_for_queries(counter, more: int) -> None:
    target = counter.value + more
    deadline = time.monotonic() + 30
    while counter.value < target and time.monotonic() < deadline:
        time.sleep(0.01)


def test_readers_see_whole_versions_while_two_publishes_swap(tmp_path):
    publish(tmp_path, "run1", version_tables(1))
    ctx = multiprocessing.get_context("spawn")
    stop, results, errors = ctx.Event(), ctx.Queue(), ctx.Queue()
    counter = ctx.Value("i", 0)
    path = str(tmp_path / WAREHOUSE_FILE)
    readers = [
        ctx.Process(target=read_loop, args=(path, stop, results, errors, counter))
        for _ in range(READERS)
    ]
    for reader in readers:
        reader.start()
    try:
        wait_for_queries(counter, 20)
        for k in (2, 3):
            publish(tmp_path, f"run{k}", version_tables(k))
            wait_for_queries(counter, 20)
    finally:
        stop.set()
        seen = []
        for reader in readers:
            while reader.is_alive():
                while not results.empty():
                    seen.append(results.get())
                reader.join(timeout=0.1)
    while not results.empty():
        seen.append(results.get())
    failures = []
    while not errors.empty():
        failures.append(errors.get())

    assert failures == []
    assert len(seen) >= 60
    for run, persons, runs_in_history in seen:
        k = int(run.removeprefix("run"))
        assert (persons, runs_in_history) == (k, k), "a query saw parts of two versions"
    assert {run for run, *_ in seen} == {"run1", "run2", "run3"}


# How long a reader holds its version open for a publish to return: a publish that waited on the
# reader would wait this long, then be seen to have waited.
PATIENCE_SECONDS = 120


def hold_version(path: str, holding, published, seen) -> None:
    """A service in the middle of a transaction: it reads its version, and reads it again once
    the publish has returned, before it lets go."""
    with duckdb.connect(path, read_only=True) as con:
        con.execute("begin transaction")
        seen.put(con.execute(VERSION_QUERY).fetchall()[0])
        holding.set()
        returned = published.wait(timeout=PATIENCE_SECONDS)
        seen.put(con.execute(VERSION_QUERY).fetchall()[0])
        con.execute("commit")
    seen.put(returned)


def test_a_publish_swaps_while_a_reader_holds_the_old_version_open(tmp_path):
    publish(tmp_path, "run1", version_tables(1))
    ctx = multiprocessing.get_context("spawn")
    holding, published, seen = ctx.Event(), ctx.Event(), ctx.Queue()
    path = str(tmp_path / WAREHOUSE_FILE)
    reader = ctx.Process(target=hold_version, args=(path, holding, published, seen))
    reader.start()
    try:
        assert holding.wait(timeout=60), "the reader never opened the warehouse"
        publish(tmp_path, "run2", version_tables(2))
        with duckdb.connect(path, read_only=True) as con:
            now_published = con.execute(VERSION_QUERY).fetchall()[0]
    finally:
        published.set()
        reader.join(timeout=60)
    assert reader.exitcode == 0
    before, during, returned = seen.get(timeout=5), seen.get(timeout=5), seen.get(timeout=5)
    assert returned, "the publish returned only once the reader had let go"
    assert now_published == ("run2", 2, 2)
    # The reader's version stays whole under it: the publish wrote a file it never opened.
    assert before == during == ("run1", 1, 1)


CRASHING_PUBLISH = """
import os, signal, sys
import polars as pl
sys.path[:0] = [{tests!r}, {root!r}]
from test_warehouse import tables
from dancu.warehouse import publish

def die_at(step):
    if step == {step!r}:
        os.kill(os.getpid(), signal.SIGKILL)

from pathlib import Path
new = tables(person_ids=("P1", "P2"), quarantined_rows=(3,))
publish(Path({folder!r}), "run2", new, on_step=die_at)
"""


@pytest.mark.parametrize("step", STEPS)
def test_a_publish_killed_at_any_step_leaves_a_whole_warehouse(tmp_path, step):
    publish(tmp_path, "run1", tables())
    script = CRASHING_PUBLISH.format(
        tests=str(Path(__file__).parent),
        root=str(Path(__file__).parent.parent),
        step=step,
        folder=str(tmp_path),
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()

    with duckdb.connect(str(tmp_path / WAREHOUSE_FILE), read_only=True) as con:
        run, persons = con.execute(
            "select (select run_id from publish_run), (select count(*) from person)"
        ).fetchall()[0]
    # Until the swap the old version stands; from it on, the new one, whole.
    swapped = STEPS.index(step) >= STEPS.index("swapped")
    assert (run, persons) == (("run2", 2) if swapped else ("run1", 1))
    # And the next publish goes through.
    publish(tmp_path, "run3", tables())
    assert os.path.exists(tmp_path / WAREHOUSE_FILE)
