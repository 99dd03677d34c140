"""The published warehouse as the service reads it: read-only, one version at a time, moving to a
new one when it is published without failing a request or holding up the publish.

A publish builds a new file and renames it over `warehouse/dancu.duckdb` (dancu.warehouse). A
connection keeps reading the file it opened, even once renamed over or deleted (POSIX keeps the
inode until its last handle closes), and a read-only connection takes only a shared lock, which
the publish never waits on. So the service notices a new file by its identity (device, inode,
modification time, size), opens and indexes it in the background while the previous version
keeps answering, then switches; requests in flight finish on the version they started with, and
the old connection closes when the last of them lets go of it.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from dancu.mask import mask_message
from dancu.service.files import FileIdentity, WarehouseMissing, attach_identified
from dancu.service.index import IndexBuildFailed, shared_index
from dancu.service.verify import VerifyIndex

logger = logging.getLogger("dancu.service")


@dataclass(frozen=True)
class Version:
    """One published file, open read-only, and what the service derived from it."""

    identity: FileIdentity
    connection: duckdb.DuckDBPyConnection
    run_id: str
    published_at: datetime
    index: VerifyIndex

    def query(self, sql: str, parameters: list) -> list[dict]:
        """Rows as dicts, on a cursor of this request's own (a connection serves one thread).

        A cursor starts in the in-memory catalog: name tables `warehouse.<table>`.
        """
        with self.connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def open_version(path: Path, index_dir: Path) -> Version:
    """The file now at `path`, opened, with its verification index."""
    connection, identity = attach_identified(path)
    ((run_id, published_at),) = connection.execute(
        "select run_id, published_at from publish_run"
    ).fetchall()
    index = shared_index(path, identity, index_dir)
    return Version(identity, connection, run_id, published_at, index)


class PublishedWarehouse:
    """The newest published version ready to answer, for every request of one worker."""

    def __init__(self, path: Path, index_dir: Path):
        self._path = path
        self._index_dir = index_dir
        self._current: Version | None = None
        self._loading = threading.Lock()
        self._failed: FileIdentity | None = None  # a file that would not open: not retried

    def open(self) -> None:
        """Open what is published now, if anything: a server may start before the first run."""
        if FileIdentity.of(self._path) is not None:
            self._load()
        else:
            logger.warning("no warehouse published yet at %s", self._path)

    def current(self) -> Version | None:
        """The version to answer from. A new file on disk starts loading in the background; the
        version in hand keeps answering until the new one is ready."""
        identity = FileIdentity.of(self._path)
        if (
            identity is not None
            and identity != self._failed
            and (self._current is None or identity != self._current.identity)
            and self._loading.acquire(blocking=False)
        ):
            threading.Thread(target=self._load_then_release, name="warehouse-load").start()
        return self._current

    def _load_then_release(self) -> None:
        try:
            self._load()
        finally:
            self._loading.release()

    def _load(self) -> None:
        identity = FileIdentity.of(self._path)
        try:
            version = open_version(self._path, self._index_dir)
        except (duckdb.Error, WarehouseMissing, IndexBuildFailed) as error:
            self._failed = identity
            logger.error("cannot open the published warehouse: %s", mask_message(str(error)))
            return
        self._current = version
        logger.info(
            "answering from run %s, published %s: %d persons by national id",
            version.run_id,
            version.published_at,
            len(version.index),
        )

    def close(self) -> None:
        self._current = None
