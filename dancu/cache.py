"""A per-file cache of frames, so that a run redoes only the files that are new or changed.

An entry is keyed by the file's path relative to the landing folder, the SHA-256 of its bytes and
the version of the code that made the frame. The content hash makes a replaced file a miss even
when its size and mtime are unchanged (`cp -p`, `rsync -t`), and costs about half a second for
the 400 MB of the million-person set; mtime is left out of the key, since it would only turn a
`touch` or a re-copy into a miss.

The code version hashes the source of the modules that compute the frame and of every first-party
module they import, with the versions of the libraries they import: a change anywhere in that
code is a miss without anyone remembering to bump a constant, at the price of a cold run after an
edit that did not change the output.
"""

import ast
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import sys
import threading
import time
import uuid
from pathlib import Path

import polars as pl

# The library: what computes cached frames (the Dagster layers above it only wire it).
FIRST_PARTY = ("dancu",)
ENTRY_SUFFIX = ".parquet"
PARTIAL_SUFFIX = ".partial"
META = "dancu_cache_meta"
# A temporary file this old was left by a crashed writer, not one still writing.
STALE_PARTIAL_SECONDS = 24 * 3600


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _imported_names(tree: ast.AST) -> set[str]:
    """Absolute module names an import statement may bind, submodules of `from x import y` too."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_file(name: str) -> Path | None:
    """The source file of a first-party module, wherever it is installed (a checkout, an
    editable or a plain install): the version depends on the code, not on where it lies."""
    try:
        spec = importlib.util.find_spec(name)
    except ImportError:  # a name imported from a module, not a module
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _import_closure(roots: tuple[str, ...]) -> tuple[dict[str, Path], set[str]]:
    """First-party modules reachable from `roots` with their files, and the other top-level
    packages they import."""
    modules: dict[str, Path] = {}
    others: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        top = name.partition(".")[0]
        if name in modules:
            continue
        if top not in FIRST_PARTY:
            others.add(top)
            continue
        path = _module_file(name)
        if path is None:
            continue
        modules[name] = path
        pending.extend(_imported_names(ast.parse(path.read_bytes())))
    return modules, others - set(sys.stdlib_module_names)


def _distribution_versions(packages: set[str]) -> list[str]:
    by_package = importlib.metadata.packages_distributions()
    distributions = {d for p in packages for d in by_package.get(p, [])}
    return sorted(f"{d}=={importlib.metadata.version(d)}" for d in distributions)


@functools.cache
def code_version(*roots: str, data_packages: tuple[str, ...] = ()) -> str:
    """A digest of the code behind `roots` (module names): the source of every first-party module
    they reach, the versions of the libraries those import and of `data_packages` (packages read
    as data rather than imported), and the Python version."""
    modules, libraries = _import_closure(roots)
    digest = hashlib.sha256(sys.version.encode())
    for name in sorted(modules):
        digest.update(name.encode() + b"\0" + modules[name].read_bytes() + b"\0")
    for pinned in _distribution_versions(libraries | set(data_packages)):
        digest.update(pinned.encode() + b"\0")
    return digest.hexdigest()


class FileCache:
    """Frames keyed by (file name, content digest) under `root`, for one code version.

    Entries are Parquet files written whole under a temporary name and renamed, so a reader never
    sees half an entry; an entry that cannot be read all the same is a miss, rebuilt by the run.
    """

    def __init__(self, root: Path, version: str):
        self.root = root
        self.version = version
        self.hits = 0
        self.misses = 0
        self._counting = threading.Lock()  # files are read by several threads at once

    def key(self, file_name: str, digest: str) -> str:
        return hashlib.sha256(f"{self.version}\0{file_name}\0{digest}".encode()).hexdigest()

    def path(self, key: str) -> Path:
        """Where the entry of `key` is (or will be) stored."""
        return self.root / f"{key}{ENTRY_SUFFIX}"

    def _counted(self, hit: bool) -> None:
        with self._counting:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def load(self, key: str) -> tuple[pl.DataFrame, dict[str, str]] | None:
        """The entry's frame and the metadata stored with it, or None when there is no sound one."""
        path = self.path(key)
        try:
            meta = json.loads(pl.read_parquet_metadata(path).get(META, "{}"))
            frame = pl.read_parquet(path)
        except (OSError, ValueError, pl.exceptions.PolarsError):
            self._counted(hit=False)
            return None
        self._counted(hit=True)
        return frame, meta

    def locate(self, key: str) -> tuple[Path, dict[str, str]] | None:
        """The entry's path and the metadata stored with it, or None when there is no entry
        whose file reads as Parquet (counted as `load` counts)."""
        path = self.path(key)
        try:
            meta = json.loads(pl.read_parquet_metadata(path).get(META, "{}"))
        except (OSError, ValueError, pl.exceptions.PolarsError):
            self._counted(hit=False)
            return None
        self._counted(hit=True)
        return path, meta

    def store(self, key: str, frame: pl.DataFrame, meta: dict | None = None) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".{key}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}"
        try:
            # Read back whole every run: speed over size, and no statistics for skipping parts
            # (10-20% of the writing time).
            frame.write_parquet(
                partial,
                compression="lz4",
                statistics=False,
                metadata={META: json.dumps(meta or {})},
            )
            partial.replace(self.path(key))
        finally:
            partial.unlink(missing_ok=True)

    def prune(self, keep: set[str]) -> None:
        """Remove entries not in `keep` (files gone from the landing folder, replaced content, an
        older code version) and temporary files a crashed writer left."""
        if not self.root.is_dir():
            return
        now = time.time()
        for path in self.root.iterdir():
            if path.name.endswith(ENTRY_SUFFIX):
                stale = path.name.removesuffix(ENTRY_SUFFIX) not in keep
            else:
                stale = path.name.endswith(PARTIAL_SUFFIX) and (
                    now - _mtime(path) > STALE_PARTIAL_SECONDS
                )
            if stale:
                path.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # another run's writer renamed it meanwhile
        return time.time()
