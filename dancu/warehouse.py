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
    services/<view>.duckdb                 one file per service view holding that view's rows
                                           alone, for services that read DuckDB directly

The full warehouse is readable by its owner alone (mode 600), and so are the builds and kept
versions (folders of mode 700: a publish that dies leaves no register readable by others). A
service's file is readable by the group `DANCU_SERVICE_GROUP` names for it (mode 640; see
`service_access`). A sidecar a dead read-write client left beside the
published file (`dancu.duckdb.wal`) would make every open fail once a new file is renamed in:
it is removed before the swap.
"""

import grp
import hashlib
import hmac
import itertools
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from dancu.contract import REFORM_DATE, as_of
from dancu.memory import (
    MEMORY_LIMIT_ENV,
    limit_duckdb,
    machine_memory,
    parse_limit,
    spill_dir,
    sql_path,
)
from sql import SQL_DIR

WAREHOUSE_FILE = "dancu.duckdb"
VERSIONS_DIR = "versions"
BUILDING_DIR = "building"
SERVICES_DIR = "services"
DEFAULT_KEEP_VERSIONS = 3
# A publish that would lose more than this share of the persons, or of one source's records,
# against the published version is refused: an empty or half-delivered landing folder, not
# a city that emptied overnight.
DEFAULT_MAX_DROP_SHARE = 0.5
# The views a service reads directly get a file of their own (see `service_files`), largest
# first: two writers then finish together.
SERVICE_VIEWS = (
    "svc_insurance", "svc_audit", "svc_health", "svc_education", "svc_civil_status", "svc_justice",
)  # fmt: skip
# DuckDB's files beside a database: a write-ahead log, and a folder for spilled data.
SIDECARS = (".wal", ".tmp")
OWNER_ONLY, GROUP_READS, PRIVATE_FOLDER = 0o600, 0o640, 0o700
# A build this old was left by a crashed publish: no publish takes hours.
STALE_BUILD_SECONDS = 6 * 3600
# The points a publish passes, in order; `on_step` hears each (tests kill a publish at them).
STEPS = (
    "created", "loaded", "built", "gated", "closed", "kept", "swapped", "services", "pruned",
)  # fmt: skip
LOAD_THREADS = 2
# About what a row's key takes in DuckDB's memory while its index is built: person_document's
# key of five texts takes 165 bytes (7.6 million rows in 1.2 GiB, measured).
KEY_ROW_BYTES = 200
_KEY_COLUMNS = re.compile(r"\(([^()]*)\)\s*;?\s*$")
_QUERY_HEADER = re.compile(r"^-- name: (\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Gate:
    name: str
    sql: str

    @property
    def description(self) -> str:
        """What the gate guards: the comment lines that open its query."""
        lines = self.sql.strip().splitlines()
        opening = itertools.takewhile(lambda line: line.startswith("--"), lines)
        return " ".join(line.removeprefix("--").strip() for line in opening)


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
    rows: dict[str, int]  # the rows of each table published from a frame


class GateFailed(Exception):
    """A gate check found violations; the new warehouse was not published."""


class KeyMismatch(Exception):
    """The installation's secret is not the one the published register was built with."""


@dataclass(frozen=True)
class Computed:
    """A column of `table` that `sql` computes from the table's `inputs` as its rows load,
    rather than a frame bringing it; null when the frame lacks an input."""

    table: str
    column: str
    inputs: tuple[str, ...]
    sql: str
    parameters: dict[str, str]


@dataclass(frozen=True)
class Keys:
    """What a publish keys with the installation's secret: the digests of national ids that
    views expose (HMAC-SHA256, so nobody without the key can compute one from an id), and a
    fingerprint of the key kept in `publish_run`, so a run with another key is noticed."""

    digest_key: bytes
    fingerprint: str

    @classmethod
    def from_secret(cls, secret: str) -> "Keys":
        derive = lambda purpose: hmac.new(secret.encode(), purpose, hashlib.sha256)  # noqa: E731
        return cls(derive(b"national_id_digest").digest(), derive(b"fingerprint").hexdigest()[:16])

    def digest(self, national_id: str) -> str:
        """The digest a view shows for `national_id`: what a service holding the key compares."""
        return hmac.new(self.digest_key, national_id.encode(), hashlib.sha256).hexdigest()

    def digest_column(self) -> Computed:
        """`person.national_id_digest`: `digest` of each national id, computed by DuckDB over the
        whole column as the persons load (an HMAC is two SHA-256 over the key's padded blocks;
        a null id has a null digest). The key is a parameter of that statement alone: nothing in
        the file can recompute a digest."""
        block = self.digest_key.ljust(64, b"\0")
        inner, outer = (bytes(b ^ pad for b in block).hex() for pad in (0x36, 0x5C))
        return Computed(
            "person",
            "national_id_digest",
            ("national_id",),
            "sha256(unhex($outer) || unhex(sha256(unhex($inner) || encode(national_id))))",
            {"inner": inner, "outer": outer},
        )


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


Frame = pl.DataFrame | pl.LazyFrame


def stage_tables(tables: dict[str, Frame], folder: Path) -> dict[str, Path]:
    """Each table written to a Parquet file of its own in `folder`, one after the other: a
    lazy table streams there, so the build never holds more than one table's plan in memory,
    and DuckDB then reads the files within its own memory limit."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for table, frame in tables.items():
        files[table] = folder / f"{table}.parquet"
        frame.lazy().sink_parquet(files[table])
    return files


@contextmanager
def staged(
    folder: Path, tables: dict[str, Frame], optional_tables: dict[str, Frame]
) -> Iterator[tuple[dict[str, Path], dict[str, Path]]]:
    """`tables` and `optional_tables` staged in `folder` (`stage_tables`), removed on leaving."""
    shutil.rmtree(folder, ignore_errors=True)
    try:
        yield (
            stage_tables(tables, folder / "tables"),
            stage_tables(optional_tables, folder / "optional"),
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _read(path: Path) -> str:
    return f"read_parquet({sql_path(path)})"


def key_columns(statement: str) -> str:
    """The columns of a key or index that `statement` (sql/keys.sql) builds, as written."""
    found = _KEY_COLUMNS.search(statement)
    if found is None:
        raise ValueError(f"no column list closes the key statement: {statement!r}")
    return found.group(1).strip()


def load_tables(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, Path],
    computed: tuple[Computed, ...] = (),
) -> None:
    """Insert each staged table (`stage_tables`) into its table by column name, with the
    `computed` columns of that table, then build the table's keys and indexes (sql/keys.sql);
    the keys of tables without a file are built last, over no rows.

    File columns the table lacks are not published, nor those a computed column replaces;
    table columns the file lacks stay null, which the table's NOT NULL constraints refuse where
    a value is owed.
    """
    keys = load_queries(SQL_DIR / "keys.sql")

    def statements(
        cursor: duckdb.DuckDBPyConnection, table: str, path: Path | None = None
    ) -> list[tuple[str, dict | None]]:
        """The table's insert (from its staged file, or `path`) and the statements of its keys,
        each with its parameters."""
        path = path or tables[table]
        columns = pl.read_parquet_schema(path).keys()
        replaced = {c.column for c in computed if c.table == table}
        added = [c for c in computed if c.table == table and set(c.inputs) <= set(columns)]
        incoming = [
            f'"{c}"' for c in table_columns(cursor, table) if c in columns and c not in replaced
        ]
        selected = ", ".join([*incoming, *(f"{c.sql} as {c.column}" for c in added)])
        parameters = {k: v for c in added for k, v in c.parameters.items()}
        insert = f"insert into {table} by name select {selected} from {_read(path)}"
        indexes = cursor.extract_statements(keys[table]) if table in keys else []
        return [(insert, parameters or None), *((index.query, None) for index in indexes)]

    done = dict.fromkeys(tables, 0)
    short_of_memory = []

    def load(table: str) -> None:
        """The table's statements not done yet, each on its own (a failed one leaves nothing)."""
        with con.cursor() as cursor:
            for sql, parameters in statements(cursor, table)[done[table] :]:
                cursor.execute(sql, parameters)
                done[table] += 1

    def load_side_by_side(table: str) -> None:
        try:
            load(table)
        except duckdb.OutOfMemoryException:
            short_of_memory.append(table)

    def rows(table: str) -> int:
        return con.execute(f"select count(*) from {_read(tables[table])}").fetchone()[0]

    def load_in_key_order(table: str, key_rows: int) -> None:
        """The table loaded in the order of its first key, declared over no rows, `key_rows` at a
        time with a checkpoint after each; then its other keys. DuckDB builds an index in memory
        and never spills it, but keys that arrive in order only add to the index's last leaves,
        and leaves checkpointed may leave memory (five million persons' documents: 0.7 GiB held
        against more than 1.4 GiB for the index built over the loaded table)."""
        in_order = tables[table].with_suffix(".in-key-order.parquet")
        _, (first_key, _), *other_keys = statements(con, table)
        con.execute(
            f"copy (select * from {_read(tables[table])} order by {key_columns(first_key)}) "
            f"to {sql_path(in_order)} (format parquet)"
        )
        (insert, parameters), *_ = statements(con, table, in_order)
        con.execute(first_key)
        for start in range(0, rows(table), key_rows):
            con.execute(f"{insert} limit {key_rows} offset {start}", parameters)
            con.execute("checkpoint")
        for sql, _ in other_keys:
            con.execute(sql)
        in_order.unlink()

    duckdb_memory = parse_limit(
        con.execute("select current_setting('memory_limit')").fetchone()[0], machine_memory()
    )
    key_rows = max(1, duckdb_memory // (LOAD_THREADS * KEY_ROW_BYTES))
    by_size = sorted(tables, key=lambda table: -tables[table].stat().st_size)
    too_large = [t for t in by_size if t in keys and rows(t) > key_rows]
    # Tables load side by side, the largest first, each on a cursor of its own and one DuckDB
    # thread: the loaders keep the cores busy without contending. Measured at a million
    # persons against DuckDB's own threads: the load 12 s of CPU instead of 14 to 16, the
    # closing checkpoint 0.1 s instead of 1 to 3, the peak 300 MB lower. Tables whose keys
    # would not fit in half of DuckDB's memory load alone after them, in key order.
    con.execute("set threads = 1")
    try:
        with ThreadPoolExecutor(LOAD_THREADS) as pool:
            list(pool.map(load_side_by_side, [t for t in by_size if t not in too_large]))
        for table in too_large:
            load_in_key_order(table, key_rows)
        # An index is built in memory, never spilled: within a small memory limit (a million
        # persons in 2 GB) two built side by side do not fit, one after the other they do.
        for table in (t for t in by_size if t in short_of_memory):
            con.execute("checkpoint")  # the indexes built so far go to the file
            try:
                load(table)
            except duckdb.OutOfMemoryException as error:
                limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
                raise MemoryError(
                    f"the warehouse table {table} and its keys do not fit in DuckDB's memory "
                    f"limit of {limit}: raise {MEMORY_LIMIT_ENV}"
                ) from error
    finally:
        con.execute("reset threads")
    for table in (t for t in keys if t not in tables):
        con.execute(keys[table])


def load_optional_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, Path]) -> None:
    """Tables of sql/optional_tables.sql: from their staged file, with every column it has, when
    given; else empty with the columns that file names."""
    con.execute((SQL_DIR / "optional_tables.sql").read_text(encoding="utf-8"))
    for table, path in tables.items():
        columns = pl.read_parquet_schema(path).keys()
        missing = [c for c in table_columns(con, table) if c not in columns]
        if missing:
            raise ValueError(f"{table} lacks the columns {missing} of sql/optional_tables.sql")
        con.execute(f"create or replace table {table} as select * from {_read(path)}")


def row_counts(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, int]:
    return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


@contextmanager
def attached(con: duckdb.DuckDBPyConnection, previous: Path):
    """The previous published version as the database `previous`, read-only: it is only ever
    replaced, never written, so this takes no lock a reader holds and waits on nobody."""
    con.execute(f"attach {sql_path(previous)} as previous (read_only)")
    try:
        yield
    finally:
        con.execute("detach previous")


# The tables that keep every run's rows, and the column naming the run: a run adds its own to
# those the previous published version carried.
HISTORIES = {"dq_metric": "run_id", "person_id_history": "run"}


def carry_history(con: duckdb.DuckDBPyConnection, previous: Path, run_id: str) -> None:
    """Copy the earlier runs' rows of `HISTORIES` from the previous published version, but for
    the runs whose rows this build already holds (a publish run again on a resolution of an
    earlier run): a service holding a retired person id finds its successor however many runs
    later."""
    if not previous.exists():
        return
    with attached(con, previous):
        for table, run in HISTORIES.items():
            kept = con.execute(
                "select count(*) from duckdb_tables() "
                "where database_name = 'previous' and table_name = ?",
                [table],
            ).fetchall()[0][0]
            if kept:
                con.execute(
                    f"insert into {table} by name "
                    f"select * from previous.{table} where {run} <> ? "
                    f"and {run} not in (select {run} from main.{table})",
                    [run_id],
                )


def check_key(published: Path, keys: Keys) -> None:
    """Refuse to go on with a key other than the published register's: every person would get a
    new id and every digest would change. A register published before fingerprints were kept
    passes."""
    if not published.exists():
        return
    with duckdb.connect(str(published), read_only=True) as con:
        columns = table_columns(con, "publish_run")
        if "key_fingerprint" not in columns:
            return
        (fingerprint,) = con.execute("select key_fingerprint from publish_run").fetchone()
    if fingerprint != keys.fingerprint:
        raise KeyMismatch(
            f"the secret key (fingerprint {keys.fingerprint}) is not the one that built the "
            f"published register at {published} (fingerprint {fingerprint}): restore the "
            "register's key with `dancu keys restore FILE`, or move the register away to start "
            "a new one"
        )


def collapses(con: duckdb.DuckDBPyConnection, max_drop_share: float) -> list[tuple]:
    """What the new build holds far less of than the published version attached as `previous`:
    persons, and each source's accepted records (`table`, `source`, before, now)."""
    counts = """
        select 'person' as what, '' as source, count(*) as n from {db}.person
        union all
        select 'records', source, count(*) from {db}.person_source group by source
        union all
        select 'records', source, count(*) from {db}.civil_event group by source
    """
    return con.execute(
        f"select b.what, b.source, b.n, coalesce(a.n, 0) from ({counts.format(db='previous')}) b "
        f"left join ({counts.format(db='main')}) a using (what, source) "
        "where coalesce(a.n, 0) < b.n * (1 - ?) order by all",
        [max_drop_share],
    ).fetchall()


def vanished_files(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per source, the files the new build did not read (taken out of landing, or unreadable
    now) whose records the published version attached as `previous` held and the build holds
    nowhere (`"files"`, source, files, records). Every run rebuilds the register from
    landing: those records would leave it, and persons whose only records they were."""
    return con.execute(
        """
        with published as (
            select source, source_record_id, file_name from previous.person_source
            union all select source, source_record_id, file_name from previous.civil_event
        ), held as (
            select source, source_record_id from main.person_source
            union all select source, source_record_id from main.civil_event
            union all select source, source_record_id from main.quarantine
        ), read as (
            select file_name from main.extract_file where error is null
        )
        select 'files', source, count(distinct file_name), count(*)
        from published anti join held using (source, source_record_id)
        where file_name not in (select file_name from read)
        group by source order by source
        """
    ).fetchall()


def collapse_gate(
    con: duckdb.DuckDBPyConnection, previous: Path, max_drop_share: float
) -> GateResult:
    """The `no_collapse` gate: nothing shrinks beyond `max_drop_share` against `previous`, and
    no file whose rows it published has gone from landing or become unreadable (unless
    `max_drop_share` is 1, which admits anything)."""
    if not previous.exists():
        return GateResult("no_collapse", 0, [])
    with attached(con, previous):
        rows = collapses(con, max_drop_share)
        if max_drop_share < 1:
            rows += vanished_files(con)
    return GateResult("no_collapse", len(rows), rows)


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
    tables: dict[str, Frame],
    optional_tables: dict[str, Frame],
    previous: Path,
    keys: Keys,
    max_drop_share: float,
    on_step: Callable[[str], None],
    data_dir: Path,
) -> tuple[list[GateResult], dict[str, int]]:
    """Create the warehouse file at `path` from sql/ and the frames, and gate it, within the
    run's memory limit (spilling under `data_dir`). Returns the gates' results and the rows
    each table of `tables` and `optional_tables` holds."""
    folder = spill_dir(data_dir) / f"warehouse.{path.stem}"
    with (
        staged(folder, tables, optional_tables) as (files, optional),
        limit_duckdb(duckdb.connect(str(path)), spill_dir(data_dir)) as con,
    ):
        con.execute((SQL_DIR / "warehouse.sql").read_text(encoding="utf-8"))
        on_step("created")
        load_tables(con, files, (keys.digest_column(),))
        load_optional_tables(con, optional)
        rows = row_counts(con, [*files, *optional])
        con.execute(
            "insert into publish_run values (?, ?, ?)", [run_id, run_time, keys.fingerprint]
        )
        on_step("loaded")
        con.execute((SQL_DIR / "views.sql").read_text(encoding="utf-8"))
        carry_history(con, previous, run_id)
        con.execute(
            (SQL_DIR / "dq_metric.sql").read_text(encoding="utf-8"),
            {"run_id": run_id, "run_time": run_time, "reform_date": REFORM_DATE, "as_of": as_of()},
        )
        on_step("built")
        results = [*run_gates(con, load_gates()), collapse_gate(con, previous, max_drop_share)]
        on_step("gated")
        con.execute("checkpoint")
    on_step("closed")
    return results, rows


def version_name(run_id: str, run_time: datetime) -> str:
    """Sorts by publish time, so the newest versions are the last names."""
    return f"dancu.{run_time:%Y%m%dT%H%M%S%f}Z.{run_id}.duckdb"


def private_folder(folder: Path) -> Path:
    """`folder`, created if need be, that its owner alone may enter: what it holds is the whole
    register, whatever mode the files in it were created with."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, PRIVATE_FOLDER)
    return folder


def keep_version(built: Path, version: Path) -> None:
    """The version shares the built file's bytes (a hard link), or copies them where the file
    system has no hard links."""
    private_folder(version.parent)
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


def remove_sidecars(database: Path) -> list[Path]:
    """Remove what a client left beside `database` (a write-ahead log of a read-write open that
    died): it belongs to the file being replaced, and DuckDB refuses to open the new one beside
    it. Returns what was removed."""
    removed = []
    for suffix in SIDECARS:
        sidecar = database.with_name(database.name + suffix)
        if sidecar.is_dir():
            shutil.rmtree(sidecar, ignore_errors=True)
        elif sidecar.exists():
            sidecar.unlink(missing_ok=True)
        else:
            continue
        removed.append(sidecar)
    return removed


def group_id(group: str) -> int:
    """The id of the group named `group`."""
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise ValueError(f"the service group {group!r} does not exist on this machine") from None


# A service view's file: its group id (-1: the group it was created with, the owner's) and mode.
Access = tuple[int, int]


def service_access(setting: str | None) -> dict[str, Access]:
    """Who reads each service view's file, from `setting` (`DANCU_SERVICE_GROUP`):

    - nothing: the owner's group, for every view;
    - a group's name: that group, for every view (one account serves every service);
    - `view=group` pairs separated by commas (`svc_health=bv,svc_justice=tp`): each service's
      own group reads its own view, and a view left out is its owner's alone.

    A group or view that does not exist is an error, raised before anything is published."""
    if not setting:
        return dict.fromkeys(SERVICE_VIEWS, (-1, GROUP_READS))
    if "=" not in setting:
        return dict.fromkeys(SERVICE_VIEWS, (group_id(setting.strip()), GROUP_READS))
    access = dict.fromkeys(SERVICE_VIEWS, (-1, OWNER_ONLY))
    for pair in filter(None, (part.strip() for part in setting.split(","))):
        view, _, group = (text.strip() for text in pair.partition("="))
        if view not in access or not group:
            raise ValueError(
                f"DANCU_SERVICE_GROUP: {pair!r} is not view=group with a view among "
                f"{', '.join(SERVICE_VIEWS)}"
            )
        access[view] = (group_id(group), GROUP_READS)
    return access


def _let_services_through(warehouse_dir: Path) -> None:
    """Let other users pass through (not list) the folders above the service files, those this
    user owns: a service's group is not the owner's, and reaches its file only so."""
    for folder in (warehouse_dir.parent, warehouse_dir, warehouse_dir / SERVICES_DIR):
        status = folder.stat()
        if status.st_uid == os.getuid():
            os.chmod(folder, stat.S_IMODE(status.st_mode) | stat.S_IXOTH)


def service_files(
    warehouse_dir: Path,
    run_id: str,
    access: dict[str, Access] | None = None,
    data_dir: Path | None = None,
) -> list[Path]:
    """One file per service view of the published warehouse, holding that view's rows as a table
    of the same name and nothing else (its comment names the run), readable as `access` says
    (`service_access`; by default by the owner's group): a service that opens DuckDB directly
    reads its own file, never the register. Each replaces the old one whole. The writers keep
    within the run's memory limit, spilling under `data_dir` (by default the warehouse's
    building folder), as `build` does."""
    access = access or service_access(None)
    folder = warehouse_dir / SERVICES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    if any(gid != -1 for gid, _ in access.values()):
        _let_services_through(warehouse_dir)
    spill = spill_dir(data_dir or warehouse_dir / BUILDING_DIR)

    def write(view: str) -> Path:
        target = folder / f"{view}.duckdb"
        building = folder / f".{view}.{run_id}.duckdb"
        building.unlink(missing_ok=True)
        try:
            # One thread each: the writers already keep both cores busy, and a file's writer
            # spends most of its time compressing, which more threads only contend for. Without
            # a limit, each could take 80% of the machine's memory.
            writer = duckdb.connect(str(building), config={"threads": 1})
            with limit_duckdb(writer, spill, share=1 / LOAD_THREADS) as con:
                con.execute(
                    f"attach {sql_path(warehouse_dir / WAREHOUSE_FILE)} as register (read_only)"
                )
                con.execute(f"create table {view} as select * from register.{view}")
                con.execute(f"comment on table {view} is 'dancu run {run_id}'")
                con.execute("detach register")
            gid, mode = access[view]
            os.chmod(building, mode)
            os.chown(building, -1, gid)
            remove_sidecars(target)
            os.replace(building, target)
        finally:
            building.unlink(missing_ok=True)
        return target

    with ThreadPoolExecutor(LOAD_THREADS) as pool:
        written = list(pool.map(write, SERVICE_VIEWS))
    sync_dir(folder)
    return written


def swap_in(built: Path, warehouse_dir: Path) -> Path:
    """Rename `built` over the published file, whole, with no stale sidecar beside it."""
    published = warehouse_dir / WAREHOUSE_FILE
    os.chmod(built, OWNER_ONLY)
    remove_sidecars(published)
    os.replace(built, published)
    sync_dir(warehouse_dir)
    return published


def publish(
    warehouse_dir: Path,
    run_id: str,
    tables: dict[str, Frame],
    optional_tables: dict[str, Frame] | None = None,
    keep: int = DEFAULT_KEEP_VERSIONS,
    on_step: Callable[[str], None] = lambda step: None,
    keys: Keys | None = None,
    max_drop_share: float = DEFAULT_MAX_DROP_SHARE,
    service_group: str | None = None,
    data_dir: Path | None = None,
) -> Published:
    """Build a new warehouse from `tables`, gate it, and swap it in; raise GateFailed otherwise.
    Lazy tables stream to disk one at a time before DuckDB loads them.

    `optional_tables`: frames for the tables of sql/optional_tables.sql that this run has.
    `keep`: how many published versions stay in `versions/` (at least 1: the published one).
    `keys`: what digests and fingerprints are keyed with (a random key when none is given).
    `max_drop_share`: the share of persons or of a source's records a publish may lose against
    the published version (1 admits anything).
    `service_group`: who may read the per-service files (`service_access`).
    `data_dir`: the data folder, whose staging folder takes what the build spills past the
    memory limit (by default the warehouse's building folder).
    """
    keys = keys or Keys.from_secret(os.urandom(32).hex())
    if keep < 1:
        raise ValueError("keep at least the published version")
    access = service_access(service_group)
    run_time = datetime.now(UTC).replace(tzinfo=None)
    building = private_folder(warehouse_dir / BUILDING_DIR) / f"dancu.{run_id}.duckdb"
    building.unlink(missing_ok=True)
    published = warehouse_dir / WAREHOUSE_FILE
    version = warehouse_dir / VERSIONS_DIR / version_name(run_id, run_time)
    try:
        results, rows = build(
            building, run_id, run_time, tables, optional_tables or {}, published, keys,
            max_drop_share, on_step, data_dir or building.parent,
        )  # fmt: skip
        failed = [r for r in results if r.violations]
        if failed:
            raise GateFailed("; ".join(describe_failure(r) for r in failed))
        keep_version(building, version)
        on_step("kept")
        swap_in(building, warehouse_dir)
        on_step("swapped")
    finally:
        building.unlink(missing_ok=True)
        remove_sidecars(building)
    service_files(warehouse_dir, run_id, access, data_dir)
    on_step("services")
    prune(warehouse_dir, keep, time.time())
    on_step("pruned")
    return Published(published, version, results, rows)


def _shrunk(what: str, source: str, before: int, now: int) -> str:
    if what == "files":  # `vanished_files`: the files, and the records that went with them
        return (
            f"{before:,} file(s) of {source} gone from landing or unreadable, {now:,} records "
            "with them"
        )
    return f"{what}{f' of {source}' if source else ''} {before:,} -> {now:,}"


def describe_failure(result: GateResult) -> str:
    """A failed gate with its first violations: counts and names of tables or sources only (no
    gate returns a person's values)."""
    if result.name == "no_collapse":
        shrunk = ", ".join(_shrunk(*row) for row in result.sample)
        return (
            f"no_collapse: {shrunk} (set max_drop_share to publish it all the same; files gone "
            "from landing only with 1)"
        )
    return f"{result.name}: {result.violations} violations"


@dataclass(frozen=True)
class Version:
    path: Path
    published_at: str  # as its name gives it, UTC
    run_id: str
    is_published: bool


def versions(warehouse_dir: Path) -> list[Version]:
    """The kept versions, oldest first, and which one is published."""
    published = warehouse_dir / WAREHOUSE_FILE
    found = []
    for path in sorted((warehouse_dir / VERSIONS_DIR).glob("dancu.*.duckdb")):
        _, stamp, run_id, _ = path.name.split(".", 3)
        is_published = published.exists() and path.samefile(published)
        found.append(Version(path, stamp, run_id, is_published))
    return found


def rollback(
    warehouse_dir: Path, name: str | None = None, service_group: str | None = None
) -> Version:
    """Publish a kept version again, atomically: the one named (its file name or run id), or
    the newest one older than the published version."""
    kept = versions(warehouse_dir)
    if name:
        chosen = [v for v in kept if name in (v.path.name, v.run_id)]
    else:
        current = [i for i, v in enumerate(kept) if v.is_published]
        chosen = kept[current[0] - 1 : current[0]] if current and current[0] > 0 else []
    if not chosen:
        wanted = f"no version {name!r}" if name else "no version older than the published one"
        raise ValueError(f"{wanted} in {warehouse_dir / VERSIONS_DIR}")
    (version,) = chosen
    access = service_access(service_group)
    staged = private_folder(warehouse_dir / BUILDING_DIR) / f"rollback.{version.path.name}"
    staged.unlink(missing_ok=True)
    keep_version(version.path, staged)
    swap_in(staged, warehouse_dir)
    service_files(warehouse_dir, f"rollback-{version.run_id}", access)
    return Version(version.path, version.published_at, version.run_id, True)
