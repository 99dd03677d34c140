"""Building the published DuckDB warehouse in a new file and swapping it in whole.

DuckDB admits one writer or many readers per file, never both; so a publish never writes the
file services read. It builds `building/dancu.<run>.duckdb` from `sql/`, gates it, closes it,
hard-links it into `versions/` and renames it over `dancu.duckdb`. A reader sees the old version
or the new one, never a mix; a reader with an open connection keeps the inode it opened; and a
crash at any point leaves the published file as it was.

Layout of the warehouse folder:

    dancu.duckdb                           the published version (what services open)
    versions/dancu.<utc time>.<run>.duckdb the last `keep` published versions, newest last;
                                           the newest is the same file (a hard link) as
                                           dancu.duckdb, so keeping it costs no space
    building/dancu.<run>.duckdb            a build in progress; left behind only by a crash,
                                           and removed by a later publish
"""

import os
import re
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from sql import SQL_DIR

WAREHOUSE_FILE = "dancu.duckdb"
VERSIONS_DIR = "versions"
BUILDING_DIR = "building"
DEFAULT_KEEP_VERSIONS = 3
# A build this old was left by a crashed publish: no publish takes hours.
STALE_BUILD_SECONDS = 6 * 3600
# The points a publish passes, in order; `on_step` hears each (tests kill a publish at them).
STEPS = ("created", "loaded", "built", "gated", "closed", "kept", "swapped", "pruned")
LOAD_THREADS = 2
_QUERY_HEADER = re.compile(r"^-- name: (\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Gate:
    name: str
    sql: str


@dataclass(frozen=True)
class GateResult:
    name: str
    violations: int
    sample: list[tuple]


@dataclass(frozen=True)
class Published:
    path: Path  # the published file
    version: Path  # its kept version
    gates: list[GateResult]


class GateFailed(Exception):
    """A gate check found violations; the new warehouse was not published."""


def load_queries(path: Path) -> dict[str, str]:
    """The named queries of a file whose queries each follow a `-- name: <name>` line."""
    parts = _QUERY_HEADER.split(path.read_text(encoding="utf-8"))
    return {name: sql.strip() for name, sql in zip(parts[1::2], parts[2::2], strict=True)}


def load_gates(path: Path = SQL_DIR / "gates.sql") -> list[Gate]:
    """The named queries of gates.sql; each returns one row per violation."""
    return [Gate(name, sql) for name, sql in load_queries(path).items()]


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_catalog = current_database() and table_name = ? "
            "order by ordinal_position",
            [table],
        ).fetchall()
    ]


def load_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pl.DataFrame]) -> None:
    """Insert each frame into its table by column name, then build the table's keys and indexes
    (sql/keys.sql); the keys of tables without a frame are built last, over no rows.

    Frame columns the table lacks are not published; table columns the frame lacks stay null,
    which the table's NOT NULL constraints refuse where a value is owed.
    """
    keys = load_queries(SQL_DIR / "keys.sql")

    def load(table: str) -> None:
        frame = tables[table]
        with con.cursor() as cursor:
            incoming = frame.select(c for c in table_columns(cursor, table) if c in frame.columns)
            cursor.register(f"incoming_{table}", incoming)
            cursor.execute(f"insert into {table} by name select * from incoming_{table}")
            if table in keys:
                cursor.execute(keys[table])

    # Tables load side by side, each on a cursor of its own: DuckDB converts one table's rows
    # and builds its indexes on one core. The largest start first.
    with ThreadPoolExecutor(LOAD_THREADS) as pool:
        list(pool.map(load, sorted(tables, key=lambda table: -tables[table].height)))
    for table in (t for t in keys if t not in tables):
        con.execute(keys[table])


def load_optional_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pl.DataFrame]) -> None:
    """Tables of sql/optional_tables.sql: from their frame, with every column it has, when given;
    else empty with the columns that file names."""
    con.execute((SQL_DIR / "optional_tables.sql").read_text(encoding="utf-8"))
    for table, frame in tables.items():
        missing = [c for c in table_columns(con, table) if c not in frame.columns]
        if missing:
            raise ValueError(f"{table} lacks the columns {missing} of sql/optional_tables.sql")
        con.register("incoming", frame)
        con.execute(f"create or replace table {table} as select * from incoming")
        con.unregister("incoming")


def carry_history(con: duckdb.DuckDBPyConnection, previous: Path, run_id: str) -> None:
    """Copy the earlier runs' dq_metric rows from the previous published version.

    The previous file is only ever replaced, never written, so attaching it read-only takes no
    lock a reader holds and waits on nobody.
    """
    if not previous.exists():
        return
    quoted = str(previous).replace("'", "''")
    con.execute(f"attach '{quoted}' as previous (read_only)")
    try:
        has_history = con.execute(
            "select count(*) from duckdb_tables() "
            "where database_name = 'previous' and table_name = 'dq_metric'"
        ).fetchall()[0][0]
        if has_history:
            con.execute(
                "insert into dq_metric by name select * from previous.dq_metric where run_id <> ?",
                [run_id],
            )
    finally:
        con.execute("detach previous")


def run_gates(con: duckdb.DuckDBPyConnection, gates: list[Gate]) -> list[GateResult]:
    results = []
    for gate in gates:
        rows = con.sql(gate.sql).fetchall()
        results.append(GateResult(gate.name, len(rows), rows[:5]))
    return results


def build(
    path: Path,
    run_id: str,
    run_time: datetime,
    tables: dict[str, pl.DataFrame],
    optional_tables: dict[str, pl.DataFrame],
    previous: Path,
    on_step: Callable[[str], None],
) -> list[GateResult]:
    """Create the warehouse file at `path` from sql/ and the frames, and gate it."""
    with duckdb.connect(str(path)) as con:
        con.execute((SQL_DIR / "warehouse.sql").read_text(encoding="utf-8"))
        on_step("created")
        load_tables(con, tables)
        load_optional_tables(con, optional_tables)
        con.execute("insert into publish_run values (?, ?)", [run_id, run_time])
        on_step("loaded")
        con.execute((SQL_DIR / "views.sql").read_text(encoding="utf-8"))
        carry_history(con, previous, run_id)
        con.execute(
            (SQL_DIR / "dq_metric.sql").read_text(encoding="utf-8"),
            {"run_id": run_id, "run_time": run_time},
        )
        on_step("built")
        results = run_gates(con, load_gates())
        on_step("gated")
        con.execute("checkpoint")
    on_step("closed")
    return results


def version_name(run_id: str, run_time: datetime) -> str:
    """Sorts by publish time, so the newest versions are the last names."""
    return f"dancu.{run_time:%Y%m%dT%H%M%S%f}Z.{run_id}.duckdb"


def keep_version(built: Path, version: Path) -> None:
    """The version shares the built file's bytes (a hard link), or copies them where the file
    system has no hard links."""
    version.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(built, version)
    except OSError:
        shutil.copy2(built, version)


def sync_dir(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut, not only a process crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def prune(warehouse_dir: Path, keep: int, now: float) -> list[Path]:
    """Remove versions beyond the newest `keep` and builds left by crashed publishes.

    A reader with an open connection to a removed version keeps reading it: on POSIX the file
    lives on until its last handle closes. The published version is never removed, even when a
    crash between keeping and swapping left a newer one that was never published.
    """
    published = warehouse_dir / WAREHOUSE_FILE
    versions = [
        p
        for p in sorted((warehouse_dir / VERSIONS_DIR).glob("dancu.*.duckdb"))
        if not (published.exists() and p.samefile(published))
    ]
    # The published version counts among those kept.
    others = keep - 1 if published.exists() else keep
    stale = [
        p
        for p in (warehouse_dir / BUILDING_DIR).glob("dancu.*.duckdb*")
        if now - p.stat().st_mtime > STALE_BUILD_SECONDS
    ]
    removed = versions[: max(len(versions) - others, 0)] + stale
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def publish(
    warehouse_dir: Path,
    run_id: str,
    tables: dict[str, pl.DataFrame],
    optional_tables: dict[str, pl.DataFrame] | None = None,
    keep: int = DEFAULT_KEEP_VERSIONS,
    on_step: Callable[[str], None] = lambda step: None,
) -> Published:
    """Build a new warehouse from `tables`, gate it, and swap it in; raise GateFailed otherwise.

    `optional_tables`: frames for the tables of sql/optional_tables.sql that this run has.
    `keep`: how many published versions stay in `versions/` (at least 1: the published one).
    """
    if keep < 1:
        raise ValueError("keep at least the published version")
    run_time = datetime.now(UTC).replace(tzinfo=None)
    building = warehouse_dir / BUILDING_DIR / f"dancu.{run_id}.duckdb"
    building.parent.mkdir(parents=True, exist_ok=True)
    building.unlink(missing_ok=True)
    published = warehouse_dir / WAREHOUSE_FILE
    version = warehouse_dir / VERSIONS_DIR / version_name(run_id, run_time)
    try:
        results = build(
            building, run_id, run_time, tables, optional_tables or {}, published, on_step
        )
        failed = [r for r in results if r.violations]
        if failed:
            raise GateFailed(", ".join(f"{r.name}: {r.violations} violations" for r in failed))
        keep_version(building, version)
        on_step("kept")
        os.replace(building, published)
        sync_dir(warehouse_dir)
        on_step("swapped")
    finally:
        building.unlink(missing_ok=True)
        building.with_name(building.name + ".wal").unlink(missing_ok=True)
    prune(warehouse_dir, keep, time.time())
    on_step("pruned")
    return Published(published, version, results)
