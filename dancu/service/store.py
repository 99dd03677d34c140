"""The service's own SQLite stores (clients, access log): shared by every worker process."""

import sqlite3
import time
from pathlib import Path

# A writer waits this long for another process's transaction before giving up.
BUSY_TIMEOUT_MS = 10_000
RETRY_SECONDS = 0.01


def connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode: readers never wait for the writer, nor the writer for readers.

    Autocommit unless a `with connection:` block opens a transaction.
    """
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    use_wal(connection)
    return connection


def use_wal(connection: sqlite3.Connection) -> None:
    """Switch the store to WAL, waiting for other processes doing the same.

    The switch fails at once with "database is locked", without the busy wait, when another
    connection switches a new store at the same moment: every worker of a starting server opens
    the access log, and a worker that fails its startup stops the whole server.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            connection.execute("pragma journal_mode = wal")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(RETRY_SECONDS)
