"""The service's own SQLite stores (clients, access log): shared by every worker process."""

import sqlite3
from pathlib import Path

# A writer waits this long for another process's transaction before giving up.
BUSY_TIMEOUT_MS = 10_000


def connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode: readers never wait for the writer, nor the writer for readers.

    Autocommit unless a `with connection:` block opens a transaction.
    """
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    connection.execute("pragma journal_mode = wal")
    return connection
