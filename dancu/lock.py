"""One run at a time per data folder: two runs at once would mix their staged frames and
publish a warehouse made of both."""

import fcntl
import os
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCK_FILE = "run.lock"


class DataFolderBusy(Exception):
    """Another run holds the data folder."""


# A process holds the lock once, however many of its parts ask for it (`dancu run` and the
# resources of the run it starts): a second open of the file would wait on the first.
_held: dict[Path, int] = {}
_holding = threading.Lock()


@contextmanager
def run_lock(data_dir: Path, who: str):
    """Hold the data folder's lock while the block runs; refuse at once, naming the holder, when
    another process holds it. The operating system releases it when a holder dies."""
    path = (data_dir / LOCK_FILE).resolve()
    with _holding:
        if path in _held:
            _held[path] += 1
        else:
            _held[path] = 1
            try:
                _acquire(path, who)
            except BaseException:
                del _held[path]
                raise
    try:
        yield
    finally:
        with _holding:
            _held[path] -= 1
            if not _held[path]:
                del _held[path]
                _release(path)


_descriptors: dict[Path, int] = {}


def _acquire(path: Path, who: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _words_in(fd) or "another process"
        os.close(fd)
        raise DataFolderBusy(
            f"another dancu run holds the data folder {path.parent} ({holder}); "
            "wait for it to end, or stop it"
        ) from None
    os.ftruncate(fd, 0)
    os.write(
        fd, f"{who}, pid {os.getpid()}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC".encode()
    )
    _descriptors[path] = fd


def _words_in(fd: int) -> str:
    """What the holder wrote of itself into the lock file (empty when none holds it)."""
    return os.read(fd, 200).decode("utf-8", errors="replace").strip()


def holder(data_dir: Path) -> str | None:
    """Who holds the data folder's lock (as it wrote itself in), or None when no process does.
    Asks the operating system without waiting; meant for another process than the holder's, as
    the landing sensor is."""
    path = (data_dir / LOCK_FILE).resolve()
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        written = _words_in(fd)
        if not written:  # a holder writes itself in, and empties the file when it lets go
            return None
        # Words left by a holder that died: the lock is free. Taking it for a moment could
        # refuse a run starting in that instant, hence only here.
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return written
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _release(path: Path) -> None:
    fd = _descriptors.pop(path)
    os.ftruncate(fd, 0)
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
