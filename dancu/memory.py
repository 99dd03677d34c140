"""How much memory a run may use (`DANCU_MEMORY_LIMIT`), and how a stage keeps within it.

The setting is read once per process: `12GB`, `512MiB`, `75%` (of the machine's memory) or a
number of bytes; by default 75% of the machine, which leaves the rest to the system and to the
services reading the warehouse. DuckDB connections get it as their memory limit and spill to
`<data>/staging/spill` past it; a chunked stage asks `rows_within` how many rows it may hold.

A step's own peak memory (`start_peak`, `peak_since_start`) is read from the kernel's high-water
mark of the process, reset when the step starts: with the in-process executor every step runs
in one process, whose lifetime peak (`ru_maxrss`) only ever grows. That mark counts the pages
of the files a stage maps (`mapped_column`), which the system drops when memory runs short;
what the step held of its own (`held_peak_since_start`) is sampled beside it.
"""

import contextlib
import functools
import os
import re
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

MEMORY_LIMIT_ENV = "DANCU_MEMORY_LIMIT"
DEFAULT_LIMIT = "75%"
# DuckDB is given this share of what the limit leaves free beside what the process already
# holds: it allocates past its own limit (an index it builds, its results) and the pages of the
# files it writes wait in memory until they reach the disk. All of it killed a ten-million run
# under a kernel-enforced limit (`benchmarks.scale --enforce`).
DUCKDB_FREE_SHARE = 0.6
# ... but never less than this share of the limit: below that it would spill what fits in memory,
# nor than DuckDB needs to read a file at all (a limit of a few MB makes the tests chunk).
DUCKDB_LEAST_SHARE = 0.25
DUCKDB_LEAST_BYTES = 16 * 2**20
# Below this a run dies instead of spilling: the libraries hold some 300 MB, and what is left
# leaves DuckDB too little for one block of the warehouse (384 MB failed at publish on 2,000
# persons; 512 MiB ran 20,000).
LEAST_RUN_BYTES = 512 * 2**20
# A chunked stage holds this share of the limit in rows: the rest is the libraries' working
# memory (a sort or a join holds its input and its output at once) and the frames handed on.
CHUNK_SHARE = 0.25
# How often the memory a step holds is sampled for its peak (`held_peak_since_start`).
HELD_SAMPLE_SECONDS = 0.05
SPILL_DIR = Path("staging") / "spill"
CGROUP_ROOT = Path("/sys/fs/cgroup")

UNITS = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}
AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*|%)\s*$")


def machine_memory() -> int:
    """The bytes of memory of the machine, or of the process's memory cgroup (v2 or v1) when that
    is smaller."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        membership = Path("/proc/self/cgroup").read_text()
    except OSError:
        return physical
    return min(physical, *cgroup_limits(membership, CGROUP_ROOT))


def cgroup_limits(membership: str, root: Path) -> list[int]:
    """The memory limits set on the cgroup that `membership` (the text of /proc/self/cgroup) names
    and on its ancestors, under the cgroup file system mounted at `root`: v2's `memory.max`, or
    v1's `memory.limit_in_bytes` under the `memory` controller. A container often sees its own
    cgroup as the root, which is looked at too."""
    limits = []
    for line in membership.splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            folder, limit_file = root, "memory.max"
        elif "memory" in controllers.split(","):
            folder, limit_file = root / "memory", "memory.limit_in_bytes"
        else:
            continue
        nested = Path(path.lstrip("/"))
        for ancestor in {folder / nested, *(folder / parent for parent in nested.parents)}:
            with contextlib.suppress(OSError, ValueError):
                limits.append(int((ancestor / limit_file).read_text()))
    return limits


def parse_limit(text: str, total: int) -> int:
    """Bytes of a memory amount: a number with an optional unit (`B`, `KB`..`TB`, `KiB`..`TiB`,
    any case), or a percentage of `total`."""
    found = AMOUNT.match(text)
    unit = found.group(2).upper() if found else None
    if unit is None or (unit != "%" and unit not in UNITS):
        raise ValueError(
            f"{MEMORY_LIMIT_ENV}={text!r} is no memory amount: write e.g. 12GB, 512MiB or 75%"
        )
    number = float(found.group(1))
    limit = int(total * number / 100 if unit == "%" else number * UNITS[unit])
    if limit <= 0 or (unit == "%" and number > 100):
        raise ValueError(f"{MEMORY_LIMIT_ENV}={text!r} must be above 0 and at most 100%")
    return limit


@functools.cache
def memory_limit() -> int:
    """The bytes a run may use, from `DANCU_MEMORY_LIMIT` (read once)."""
    return parse_limit(os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_LIMIT, machine_memory())


def run_memory_limit() -> int:
    """`memory_limit()`, refused (ValueError) below what a whole run needs, which would die in
    DuckDB rather than spill."""
    limit = memory_limit()
    if limit < LEAST_RUN_BYTES:
        raise ValueError(
            f"{MEMORY_LIMIT_ENV}={os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_LIMIT!r} is "
            f"{limit / 2**20:,.0f} MiB, "
            f"less than a run needs ({LEAST_RUN_BYTES // 2**20} MiB: the libraries alone hold "
            "some 300 MB)"
        )
    return limit


def resident_bytes() -> int:
    """What the process holds in memory now."""
    try:
        pages = Path("/proc/self/statm").read_text().split()[1]
    except OSError:
        return 0
    return int(pages) * os.sysconf("SC_PAGE_SIZE")


def held_bytes() -> int:
    """What the process holds in memory of its own (Linux's `RssAnon`): resident memory less
    the pages of files it maps (`mapped_column`), which the system drops when memory runs short
    and reads again when they are used."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resident_bytes()
    kib = re.search(r"^RssAnon:\s+(\d+) kB", status, re.MULTILINE)
    return int(kib.group(1)) * 1024 if kib else resident_bytes()


def spill_dir(data_dir: Path) -> Path:
    """`<data_dir>/staging/spill`, made if missing: where a stage puts what waits on disk."""
    spill = Path(data_dir) / SPILL_DIR
    spill.mkdir(parents=True, exist_ok=True)
    return spill


def limit_duckdb(
    con: duckdb.DuckDBPyConnection, spill: Path, keeps_order: bool = True, share: float = 1.0
) -> duckdb.DuckDBPyConnection:
    """`con` kept within the run's memory limit, less what the process holds already and some
    room (`DUCKDB_FREE_SHARE`): past it, DuckDB spills to `spill` (`spill_dir`). With
    `keeps_order=False` (for queries whose result's order does not matter, or that sort it),
    DuckDB may also drop the insertion order, which lets it stream more and hold less. `share`:
    the part of that memory this connection takes, where several work side by side."""
    free = memory_limit() - resident_bytes()
    available = int(
        max(free * DUCKDB_FREE_SHARE, memory_limit() * DUCKDB_LEAST_SHARE, DUCKDB_LEAST_BYTES)
        * share
    )
    con.execute(f"SET memory_limit = '{available // 2**20}MiB'")
    con.execute(f"SET temp_directory = {sql_path(spill)}")
    con.execute(f"SET preserve_insertion_order = {'true' if keeps_order else 'false'}")
    return con


def sql_path(path: Path) -> str:
    """`path` as a DuckDB string literal."""
    return "'{}'".format(str(path).replace("'", "''"))


def rows_within(row_bytes: int, share: float = CHUNK_SHARE) -> int:
    """How many rows of about `row_bytes` bytes each a chunked stage may hold at once: `share`
    of the memory limit, at least one."""
    return max(1, int(memory_limit() * share) // max(row_bytes, 1))


def mapped(frame: pl.DataFrame | pl.LazyFrame, folder: Path | None) -> pl.DataFrame:
    """`frame` with every column `mapped_column` in `folder`; `frame` itself (collected)
    without one. A lazy frame (of files: each column is read anew) is read and mapped a column
    at a time, so that it is never held whole."""
    if isinstance(frame, pl.LazyFrame):
        if folder is None:
            return frame.collect()
        names = frame.collect_schema().names()
        return pl.DataFrame(
            [mapped_column(frame.select(name).collect().to_series(), folder) for name in names]
        )
    if folder is None:
        return frame
    return pl.DataFrame([mapped_column(frame[name], folder) for name in frame.columns])


def mapped_column(column: pl.Series, folder: Path | None) -> pl.Series:
    """`column` written to a file of its own in `folder` (Arrow IPC, uncompressed, in one piece)
    and read back memory-mapped: the system reads its pages in as they are used and, when memory
    runs short, drops them again rather than fail, where a column in memory is held to the end.
    A categorical or enum column is written as its codes (its strings stay in memory); the file
    goes with the folder, and may be removed while the column is still read (Linux). Without a
    folder, `column` stays in memory as it is."""
    if folder is None:
        return column
    as_codes = isinstance(column.dtype, pl.Categorical | pl.Enum)
    stored = column.to_physical() if as_codes else column
    array = stored.to_arrow(compat_level=pl.CompatLevel.newest())
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".arrow", delete=False) as file:
        path = file.name
    schema = pa.schema([pa.field(column.name, array.type)])
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        writer.write_batch(pa.record_batch([array], schema=schema))
    back = pl.from_arrow(pa.ipc.open_file(pa.memory_map(path)).read_all().column(0))
    return back.cat.to(column.dtype) if as_codes else back.alias(column.name)


class _HeldPeak(threading.Thread):
    """The most memory the process held of its own (`held_bytes`) since `reset`, sampled every
    `HELD_SAMPLE_SECONDS`: the kernel keeps a high-water mark of resident memory only, which
    counts the pages of mapped files too."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="dancu-held-peak")
        self.peak, self._since, self._lock = 0, 0, threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._since += 1
            self.peak = held_bytes()

    def run(self) -> None:
        while True:
            with self._lock:
                since = self._since
            sample = held_bytes()
            with self._lock:
                if since == self._since:  # a sample taken before a reset belongs to no peak
                    self.peak = max(self.peak, sample)
            time.sleep(HELD_SAMPLE_SECONDS)


@functools.cache
def _held_peak() -> _HeldPeak:
    sampler = _HeldPeak()
    sampler.start()
    return sampler


def start_peak() -> None:
    """Start measuring a peak here: resets the process's high-water mark of resident memory
    (Linux; elsewhere the peak stays the process's lifetime one) and the sampled peak of the
    memory it holds of its own."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    _held_peak().reset()


def held_peak_since_start() -> int:
    """The most memory the process held of its own since `start_peak` (sampled), in bytes."""
    return max(_held_peak().peak, held_bytes())


def peak_since_start() -> int:
    """The most resident memory the process held since `start_peak`, in bytes."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        lifetime = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return lifetime if sys.platform == "darwin" else lifetime * 1024  # bytes there, KiB here
    kib = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(kib.group(1)) * 1024
