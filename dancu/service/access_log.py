"""The access log: one row for every request the service answered, refused ones included.

It lives in its own SQLite file under $DANCU_DATA_DIR/service/, not in the warehouse, which
each publish replaces. Rows are only ever inserted: triggers refuse updates and deletes made
through SQL (they stop mistakes; a person with write access to the file is stopped by its
permissions). A row holds who asked, what, the outcome and the person ids answered; the values
the client sent (ids, names, dates) only as keyed digests.
"""

import asyncio
import hashlib
import hmac
import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from dancu.service.store import add_column, connect

SCHEMA = """
create table if not exists access_log (
    id             integer primary key,
    at             text not null,      -- UTC, ISO 8601: when the request arrived
    client         text,               -- null when the request carried no valid key
    scope          text,
    method         text not null,
    endpoint       text not null,      -- the route, e.g. /v1/persons/{person_id}; never the URL
    view           text,               -- the view read, if any
    status         integer not null,   -- the HTTP status answered
    outcome        text not null,      -- ok, match, no_match, unauthorized, miss_budget, ...
    person_ids     text not null,      -- JSON list: the persons the answer named
    query_digests  text not null,      -- JSON object: field -> HMAC-SHA256 of the value sent
    warehouse_run  text,               -- the published run that answered
    duration_ms    real not null,
    address        text                -- the connection's peer address: who tried, keyless too
);
create index if not exists access_log_at on access_log (at);
create trigger if not exists access_log_no_update before update on access_log
begin select raise(abort, 'the access log is append-only'); end;
create trigger if not exists access_log_no_delete before delete on access_log
begin select raise(abort, 'the access log is append-only'); end;
"""
COLUMNS = (
    "at", "client", "scope", "method", "endpoint", "view", "status", "outcome", "person_ids",
    "query_digests", "warehouse_run", "duration_ms", "address",
)  # fmt: skip
_INSERT = f"insert into access_log ({', '.join(COLUMNS)}) values ({', '.join('?' * len(COLUMNS))})"
# How often the log is synced to disk: what a crash of the machine can lose at most.
SYNC_SECONDS = 1.0
OUTCOME_OF_STATUS = {
    200: "ok",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}


def query_digest(secret: bytes, field_name: str, value: str) -> str:
    """A value a client sent, as the log keeps it. Keyed, because the 12-digit id space is small
    enough to hash whole: a plain digest would hide nothing. With the server's secret an auditor
    can still find every request about one id (`dancu audit --national-id`)."""
    return hmac.new(secret, f"{field_name}:{value}".encode(), hashlib.sha256).hexdigest()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass
class Access:
    """What the log keeps of one request, filled in as the request goes."""

    at: str
    method: str
    endpoint: str
    address: str | None = None
    client: str | None = None
    scope: str | None = None
    view: str | None = None
    # Set by an endpoint that knows better than the status, for an answer of `outcome_status`:
    # an answer that fails after it was set keeps the status's outcome.
    outcome: str | None = None
    outcome_status: int = 200
    person_ids: list[str] = field(default_factory=list)
    query_digests: dict[str, str] = field(default_factory=dict)
    warehouse_run: str | None = None

    def row(self, status: int, duration_ms: float) -> tuple:
        said = self.outcome if status == self.outcome_status else None
        outcome = said or outcome_of(status)
        return (
            self.at, self.client, self.scope, self.method, self.endpoint, self.view, status,
            outcome, json.dumps(self.person_ids), json.dumps(self.query_digests),
            self.warehouse_run, round(duration_ms, 3), self.address,
        )  # fmt: skip


def outcome_of(status: int) -> str:
    return OUTCOME_OF_STATUS.get(status) or ("error" if status >= 500 else f"status_{status}")


class AccessLog:
    """The log's writer in one worker process.

    Requests queue their rows on the event loop; one flush at a time commits whatever has queued
    up, in a single transaction on a thread of its own (a group commit), and only then lets their
    answers go. No answer leaves before its row is committed, and a busy server pays one commit
    and one thread hand-off per batch instead of per request.

    A commit is not synced to disk (WAL, synchronous=NORMAL): a committed row survives a crash of
    the server, and another thread syncs the log every second (a checkpoint), so that a crash of
    the machine loses at most that second. Syncing each commit would make every answer wait for
    the disk, and a publish writing a new warehouse makes a sync take hundreds of milliseconds.
    """

    def __init__(self, path: Path):
        self._path = path
        with closing(connect(path)) as connection:
            connection.executescript(SCHEMA)
            add_column(connection, "access_log", "address", "text")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="access-log")
        self._connection: sqlite3.Connection | None = None  # the writer thread's
        self._queued: list[tuple[tuple, asyncio.Future]] = []
        self._flushing: asyncio.Task | None = None
        self._stopping = threading.Event()
        self._syncer = threading.Thread(target=self._sync, name="access-log-sync", daemon=True)
        self._syncer.start()

    async def append(self, row: tuple) -> None:
        """Return once the row is committed; raise sqlite3.Error if it could not be."""
        loop = asyncio.get_running_loop()
        committed = loop.create_future()
        self._queued.append((row, committed))
        if self._flushing is None or self._flushing.done():
            self._flushing = loop.create_task(self._flush())
        await committed

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                await loop.run_in_executor(self._writer, self._commit, [r for r, _ in batch])
            except sqlite3.Error as error:
                for _, committed in batch:
                    if not committed.done():
                        committed.set_exception(error)
            else:
                for _, committed in batch:
                    if not committed.done():
                        committed.set_result(None)

    def _commit(self, rows: list[tuple]) -> None:
        if self._connection is None:
            self._connection = connect(self._path)
            self._connection.execute("pragma synchronous = normal")
            # Checkpoints, which sync, are the syncing thread's: never in an answer's way.
            self._connection.execute("pragma wal_autocheckpoint = 0")
        with self._connection:
            self._connection.executemany(_INSERT, rows)

    def _sync(self) -> None:
        with closing(connect(self._path)) as connection:
            while not self._stopping.wait(SYNC_SECONDS):
                connection.execute("pragma wal_checkpoint(passive)")
            connection.execute("pragma wal_checkpoint(passive)")

    def close(self) -> None:
        """Once the server has stopped taking requests: nothing is queued any more."""
        if self._connection is not None:
            self._writer.submit(self._connection.close).result()
        self._writer.shutdown()
        self._stopping.set()
        self._syncer.join()


def _filters(
    client: str | None, since: date | datetime | None, national_id_digest: str | None
) -> tuple[str, list]:
    conditions, parameters = [], []
    if client is not None:
        conditions.append("client = ?")
        parameters.append(client)
    if since is not None:
        # `at` is ISO 8601 in UTC, so text order is time order and a date compares as its midnight.
        conditions.append("at >= ?")
        parameters.append(since.isoformat())
    if national_id_digest is not None:
        conditions.append("json_extract(query_digests, '$.national_id') = ?")
        parameters.append(national_id_digest)
    return (" where " + " and ".join(conditions)) if conditions else "", parameters


def _read(path: Path, sql: str, parameters: list) -> list[sqlite3.Row]:
    if not path.exists():
        return []
    with closing(connect(path, read_only=True)) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute(sql, parameters).fetchall()


def holds_rows(path: Path) -> bool:
    """Whether the log holds a row, and so digests made with the server's secret."""
    if not _read(path, "select 1 from sqlite_master where name = 'access_log'", []):
        return False
    return _read(path, "select exists (select 1 from access_log)", [])[0][0] == 1


def read_entries(
    path: Path,
    client: str | None = None,
    since: date | datetime | None = None,
    national_id_digest: str | None = None,
    limit: int | None = None,
) -> list[dict]:
    """The log's rows, oldest first; with `limit`, the latest `limit` of them."""
    where, parameters = _filters(client, since, national_id_digest)
    latest = f"select * from access_log{where} order by id desc"
    if limit is not None:
        latest += " limit ?"
        parameters.append(limit)
    rows = _read(path, f"select * from ({latest}) order by id", parameters)
    return [
        {
            **dict(row),
            "person_ids": json.loads(row["person_ids"]),
            "query_digests": json.loads(row["query_digests"]),
        }
        for row in rows
    ]


def count_requests(
    path: Path, client: str | None = None, since: date | datetime | None = None
) -> list[dict]:
    """The auditor's summary: requests per client, scope and outcome."""
    where, parameters = _filters(client, since, None)
    rows = _read(
        path,
        f"select client, scope, outcome, count(*) as requests from access_log{where} "
        "group by client, scope, outcome order by client nulls first, scope, outcome",
        parameters,
    )
    return [dict(row) for row in rows]
