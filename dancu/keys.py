"""Backing up and restoring the installation's secret: without it, the next run would give every
person a new id and every digest would change."""

import os
import re
from pathlib import Path

from dancu.paths import Folders

SECRET_FORM = re.compile(r"^[0-9a-f]{64}$")


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
    """Copy the secret to `target` (mode 600); an existing file is never overwritten."""
    if not folders.secret_file.exists():
        raise KeyFileError(f"no key under {folders.secret_file.parent}: nothing to back up")
    if target.exists():
        raise KeyFileError(f"{target} exists: choose a new file for the backup")
    _write_private(target, folders.secret_file.read_text(encoding="utf-8").strip())


def restore_key(folders: Folders, source: Path, force: bool = False) -> None:
    """Put the secret of `source` in place. A different key already in place is replaced only
    with `force`: the register it built would lose every person id."""
    try:
        secret = source.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise KeyFileError(f"cannot read {source}: {error.strerror}") from None
    if not SECRET_FORM.match(secret):
        raise KeyFileError(f"{source} holds no dancu key (64 hexadecimal digits)")
    current = folders.secret_file
    if current.exists() and current.read_text(encoding="utf-8").strip() != secret and not force:
        raise KeyFileError(
            f"a different key is in place at {current}; restoring over it changes every person "
            "id of the register it built: pass --force if that is what you want"
        )
    _write_private(current, secret)
