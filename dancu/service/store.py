"""The service's own SQLite stores (clients, access log): shared by every worker process."""

import os
import sqlite3
import time
from pathlib import Path

# A writer waits this long for another process's transaction before giving up.
BUSY_TIMEOUT_MS = 10_000
RETRY_SECONDS = 0.01
# Who holds which key, and who asked for which person: the owner's alone.
STORE_MODE = 0o600


def connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode: readers never wait for the writer, nor the writer for readers.

    Autocommit unless a `with connection:` block opens a transaction.
    """
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    owner_only(path)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    use_wal(connection)
    return connection


def owner_only(path: Path) -> None:
    """Make the store owner-only before SQLite opens it, which would make it 644 under the
    usual umask (a store of an older dancu is narrowed); SQLite gives the -wal and -shm files
    the mode of the store.

    Never by opening and closing a descriptor of a store that exists: closing one drops every
    lock SQLite holds on the file in this process, and another connection would then take the
    WAL file for its own and delete it, with the rows not yet checkpointed.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, STORE_MODE))
    except FileExistsError:
        os.chmod(path, STORE_MODE)


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


def columns_of(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f"pragma table_info({table})")}


def add_column(connection: sqlite3.Connection, table: str, column: str, definition: str) -> None:
    """Add a column that a store made by an older dancu lacks. Checked again under the write
    lock: the workers of a starting server open the store at the same moment."""
    if column in columns_of(connection, table):
        return
    connection.execute("begin immediate")
    try:
        if column not in columns_of(connection, table):
            connection.execute(f"alter table {table} add column {column} {definition}")
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
