"""Clients of the service, their scopes and keys, and the server's secret.

A key is 256 random bits, printed once when its client is added; the store keeps only its
SHA-256. Nobody guesses 256 random bits, so the digest needs neither a slow hash nor a secret of
the server's: a copied store opens nothing, and no lost server file locks every client out.
"""

import hashlib
import os
import re
import secrets
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dancu.service.access_log import holds_rows
from dancu.service.paths import ServicePaths
from dancu.service.store import add_column, connect

# What each scope may read. `justice` reads svc_justice, the one view of criminal data
# (judicial records, Law on Judicial Records 2009). `audit` reads the access log and svc_audit,
# and no person.
SCOPE_VIEWS: dict[str, str | None] = {
    "health": "svc_health",
    "insurance": "svc_insurance",
    "education": "svc_education",
    "civil_status": "svc_civil_status",
    "justice": "svc_justice",
    "audit": None,
}
AUDIT_SCOPE = "audit"
DEFAULT_RATE = 20.0  # requests per second
# National-id lookups that find nobody, an hour: a hospital mistypes an id now and then, while a
# harvest by guessed ids misses 98 times in 100.
DEFAULT_MISSES_PER_HOUR = 60.0
KEY_PREFIX = "dancu_"  # lets secret scanners and people recognise a leaked key
_CLIENT_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")

SCHEMA = """
create table if not exists client (
    id          integer primary key autoincrement,  -- never reused: it also names the rate bucket
    name        text not null,
    scope       text not null,
    key_digest  text not null unique,               -- SHA-256 of the key, hex
    rate        real not null,                      -- requests per second
    misses_per_hour real not null,                  -- national-id lookups finding nobody
    created_at  text not null,                      -- UTC
    revoked_at  text                                -- UTC; a revoked key is refused
);
-- One active client per name; revoked ones stay, so that the access log's names keep a meaning.
create unique index if not exists client_active_name on client (name) where revoked_at is null;
"""


@dataclass(frozen=True)
class Client:
    id: int
    name: str
    scope: str
    rate: float  # requests per second
    misses_per_hour: float  # national-id lookups that find nobody

    @property
    def view(self) -> str | None:
        return SCOPE_VIEWS[self.scope]


class ClientError(Exception):
    """A client cannot be added or revoked as asked."""


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_clients(path: Path) -> sqlite3.Connection:
    connection = connect(path)
    connection.executescript(SCHEMA)
    add_column(
        connection, "client", "misses_per_hour", f"real not null default {DEFAULT_MISSES_PER_HOUR}"
    )
    return connection


def add_client(
    path: Path,
    name: str,
    scope: str,
    rate: float = DEFAULT_RATE,
    misses_per_hour: float = DEFAULT_MISSES_PER_HOUR,
) -> str:
    """Register a client and return its new key: the only time the key exists in clear."""
    if not _CLIENT_NAME.fullmatch(name):
        raise ClientError("a client name is 1 to 64 of a-z, 0-9, '_', '.', '-', not a person's")
    if scope not in SCOPE_VIEWS:
        raise ClientError(f"unknown scope {scope}: one of {', '.join(SCOPE_VIEWS)}")
    if not rate > 0:
        raise ClientError("the rate limit is a positive number of requests per second")
    if not misses_per_hour > 0:
        raise ClientError("the miss budget is a positive number of lookups an hour")
    key = new_key()
    with closing(open_clients(path)) as connection, connection:
        try:
            connection.execute(
                "insert into client (name, scope, key_digest, rate, misses_per_hour, created_at) "
                "values (?, ?, ?, ?, ?, ?)",
                [name, scope, key_digest(key), rate, misses_per_hour, _utc_now()],
            )
        except sqlite3.IntegrityError:
            raise ClientError(f"a client named {name} exists: revoke it first") from None
    return key


def revoke_client(path: Path, name: str) -> None:
    with closing(open_clients(path)) as connection, connection:
        revoked = connection.execute(
            "update client set revoked_at = ? where name = ? and revoked_at is null",
            [_utc_now(), name],
        ).rowcount
    if not revoked:
        raise ClientError(f"no active client named {name}")


def list_clients(path: Path) -> list[tuple]:
    """(name, scope, rate, misses_per_hour, created_at, revoked_at) of every client ever
    added, oldest first."""
    with closing(open_clients(path)) as connection:
        return connection.execute(
            "select name, scope, rate, misses_per_hour, created_at, revoked_at from client "
            "order by id"
        ).fetchall()


class ClientRegistry:
    """The active clients by key digest, as one worker process sees them: read again as soon as
    another connection has changed the store, so that a revocation holds from the next request."""

    def __init__(self, path: Path):
        self._connection = open_clients(path)
        self._seen_version: int | None = None
        self._by_digest: dict[str, Client] = {}

    def find(self, key: str) -> Client | None:
        # data_version changes exactly when another connection commits: one cheap pragma per
        # request instead of a query, or of a cache that would honour a revoked key for a while.
        version = self._connection.execute("pragma data_version").fetchone()[0]
        if version != self._seen_version:
            rows = self._connection.execute(
                "select key_digest, id, name, scope, rate, misses_per_hour from client "
                "where revoked_at is null"
            ).fetchall()
            self._by_digest = {digest: Client(*client) for digest, *client in rows}
            self._seen_version = version
        return self._by_digest.get(key_digest(key))

    def close(self) -> None:
        self._connection.close()


class ServerSecretMissing(Exception):
    """The key of the access log's digests is gone while the log holds digests made with it."""


def access_log_secret(paths: ServicePaths) -> bytes:
    """The key of the access log's digests, made for a new log only: made again for a log that
    holds rows, it would silently make every digest of the log match nothing."""
    if not paths.secret.exists() and holds_rows(paths.access_log):
        raise ServerSecretMissing(
            f"the key of the access log's digests, {paths.secret}, is missing, and the access "
            f"log at {paths.access_log} holds requests made with it: restore it with `dancu keys "
            "restore FILE` from the backup `dancu keys backup` wrote; a new key would make every "
            "digest of the log meaningless"
        )
    return server_secret(paths.secret)


def server_secret(path: Path) -> bytes:
    """The server's secret, 256 random bits made on first use and readable by its owner only.

    Made in a file of its own and linked into place, so that worker processes starting together
    agree on one secret and none reads a half-written file.
    """
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return bytes.fromhex(path.read_text(encoding="utf-8").strip())
