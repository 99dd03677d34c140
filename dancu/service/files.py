"""The published file as the service sees it: which file it is, and a read-only attachment."""

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

# Each version's DuckDB: point lookups need no parallel plans, and a few versions may be open
# at once in each worker.
DUCKDB_CONFIG = {"threads": 1, "memory_limit": "1GB"}


@dataclass(frozen=True)
class FileIdentity:
    device: int
    inode: int
    modified_ns: int
    size: int

    @classmethod
    def of(cls, path: Path) -> "FileIdentity | None":
        try:
            status = os.stat(path)
        except FileNotFoundError:
            return None
        return cls(status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size)


def attach_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory database with the file attached read-only.

    Not `duckdb.connect(path)`: DuckDB keeps one database per path in a process and hands it back
    to the next connect of that path, which after a publish is the replaced file.
    """
    connection = duckdb.connect(":memory:", config=DUCKDB_CONFIG)
    quoted = str(path).replace("'", "''")
    connection.execute(f"attach '{quoted}' as warehouse (read_only)")
    connection.execute("use warehouse")
    return connection


class WarehouseMissing(Exception):
    """No warehouse has been published yet."""


def attach_identified(path: Path) -> tuple[duckdb.DuckDBPyConnection, FileIdentity]:
    """The file now at `path`, attached read-only, and its identity. Retried if a publish renames
    another file over it meanwhile, so that the identity is the identity of what was attached."""
    while True:
        identity = FileIdentity.of(path)
        if identity is None:
            raise WarehouseMissing(f"no warehouse at {path}")
        connection = attach_read_only(path)
        if FileIdentity.of(path) == identity:
            return connection, identity
        connection.close()
