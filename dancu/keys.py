"""Backing up and restoring the installation's secret: without it, the next run would give every
person a new id and every digest would change."""

import os
from pathlib import Path

from dancu.paths import SECRET_FORM, Folders


class KeyFileError(Exception):
    """A key file that cannot be written, read or restored."""


def _write_private(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret + "\n")
    partial.replace(path)


def backup_key(folders: Folders, target: Path) -> None:
    """Copy every key of the secrets folder to `target` (mode 600), one `<file> <key>` line each:
    the person-id key and the service's key of access-log digests. An existing file is never
    overwritten."""
    keys = sorted(folders.secret_file.parent.glob("*.key"))
    if not folders.secret_file.exists():
        raise KeyFileError(f"no key under {folders.secret_file.parent}: nothing to back up")
    if target.exists():
        raise KeyFileError(f"{target} exists: choose a new file for the backup")
    lines = (f"{key.name} {key.read_text(encoding='utf-8').strip()}" for key in keys)
    _write_private(target, "\n".join(lines))


def read_backup(source: Path) -> dict[str, str]:
    """The keys of a backup by file name; a backup of one bare key is the person-id key's."""
    try:
        lines = source.read_text(encoding="utf-8").split()
    except OSError as error:
        raise KeyFileError(f"cannot read {source}: {error.strerror}") from None
    if len(lines) == 1:
        lines = ["person_id.key", *lines]
    keys = dict(zip(lines[::2], lines[1::2], strict=False))
    if len(lines) % 2 or not keys or not all(SECRET_FORM.match(key) for key in keys.values()):
        raise KeyFileError(f"{source} holds no dancu key (64 hexadecimal digits)")
    return keys


def restore_key(folders: Folders, source: Path, force: bool = False) -> None:
    """Put the keys of `source` in place. A different key already in place is replaced only
    with `force`: the register it built would lose every person id, the access log the
    meaning of its digests."""
    keys = read_backup(source)
    folder = folders.secret_file.parent
    for name, secret in keys.items():
        current = folder / name
        if current.exists() and current.read_text(encoding="utf-8").strip() != secret and not force:
            raise KeyFileError(
                f"a different key is in place at {current}; restoring over it changes every "
                "person id of the register it built: pass --force if that is what you want"
            )
    for name, secret in keys.items():
        _write_private(folder / name, secret)
