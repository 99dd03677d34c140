"""The verification index of a published version, built once for every worker.

Each worker verifies against the register's persons sorted by national id (verify.VerifyIndex).
Built by each worker, a million persons would cost a second of CPU per worker at each publish,
taken from the answers in flight. So the first worker to see a new version builds its index in
a process of its own, at a lower priority than the answers, into an Arrow file named after the
version's file identity (75 MB at a million persons); the other workers wait for that file, and
each reads it (a fifth of a second).

    python -m dancu.service.index WAREHOUSE TARGET DEVICE INODE MODIFIED_NS SIZE

builds one, refusing (exit 3) when the file at WAREHOUSE is no longer the one identified.
"""

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from dancu.mask import mask_message
from dancu.service.files import FileIdentity, attach_identified
from dancu.service.verify import VerifyIndex, register_persons

# Above the workers' 0: the builder gets what the answers leave of the CPU.
BUILDER_NICENESS = 10
# Indexes kept: the published version's, and those of versions that requests may still hold.
KEEP_INDEXES = 3
REPLACED = 3  # the builder's exit status when a publish replaced the file meanwhile


class IndexBuildFailed(Exception):
    """The index of a version could not be built."""


def index_file(folder: Path, identity: FileIdentity) -> Path:
    return folder / (
        f"persons.{identity.device}.{identity.inode}.{identity.modified_ns}.{identity.size}.arrow"
    )


def shared_index(warehouse: Path, identity: FileIdentity, folder: Path) -> VerifyIndex:
    """The index of the version `identity`, built by whichever worker asks first."""
    target = index_file(folder, identity)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(folder / "build.lock", "a") as lock:
        # Held while a worker builds: the others wait here, in their loading thread.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            build_in_background(warehouse, identity, target)
            prune(folder, KEEP_INDEXES)
    return VerifyIndex(pl.read_ipc(target))


def build_in_background(warehouse: Path, identity: FileIdentity, target: Path) -> None:
    fields = (identity.device, identity.inode, identity.modified_ns, identity.size)
    done = subprocess.run(
        [sys.executable, "-m", "dancu.service.index", str(warehouse), str(target)]
        + [str(field) for field in fields],
        capture_output=True,
        text=True,
    )
    if done.returncode == REPLACED:
        raise IndexBuildFailed("the warehouse was published again while its index was built")
    if done.returncode != 0:
        last_line = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise IndexBuildFailed(f"the index builder failed: {mask_message(last_line)}")


def prune(folder: Path, keep: int) -> None:
    """Remove all but the newest `keep` indexes: workers hold what they read in memory."""
    indexes = sorted(folder.glob("persons.*.arrow"), key=lambda path: path.stat().st_mtime_ns)
    for old in indexes[:-keep]:
        old.unlink(missing_ok=True)


def build(warehouse: Path, identity: FileIdentity, target: Path) -> bool:
    """Write the index of the file at `warehouse` to `target`, whole or not at all; False when
    that file is no longer the version `identity`."""
    connection, attached = attach_identified(warehouse)
    with connection:
        if attached != identity:
            return False
        persons = register_persons(connection)
    draft = target.with_name(f".{target.name}.{os.getpid()}")
    # Uncompressed: workers read it as it is, in a fifth of a second at a million persons.
    persons.write_ipc(draft, compression="uncompressed")
    os.replace(draft, target)
    return True


def main(argv: list[str]) -> int:
    os.nice(BUILDER_NICENESS)
    os.umask(0o077)  # national ids and names: the owner's alone
    warehouse, target, *fields = argv
    identity = FileIdentity(*(int(field) for field in fields))
    return 0 if build(Path(warehouse), identity, Path(target)) else REPLACED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
