"""Where the service reads and keeps its state: all of it below the data folder, none of it in
the warehouse, which each publish replaces whole."""

from dataclasses import dataclass
from pathlib import Path

from dancu.paths import Paths, data_dir_from_env


@dataclass(frozen=True)
class ServicePaths:
    data_dir: Path

    @classmethod
    def from_env(cls) -> "ServicePaths":
        return cls(data_dir_from_env())

    @property
    def warehouse(self) -> Path:
        """The published warehouse, only ever opened read-only."""
        return Paths.of(self.data_dir).warehouse

    @property
    def store(self) -> Path:
        return self.data_dir / "service"

    @property
    def clients(self) -> Path:
        return self.store / "clients.sqlite"

    @property
    def access_log(self) -> Path:
        return self.store / "access_log.sqlite"

    @property
    def index_dir(self) -> Path:
        """The verification index of each published version (national ids: owner only)."""
        return self.store / "index"

    @property
    def rate_buckets(self) -> Path:
        return self.store / "rate_buckets.bin"

    @property
    def miss_buckets(self) -> Path:
        return self.store / "miss_buckets.bin"

    @property
    def keyless_buckets(self) -> Path:
        """Refusals of requests without a valid key, by address."""
        return self.store / "keyless_buckets.bin"

    @property
    def secret(self) -> Path:
        """The key of the access log's digests of query values: keep it with the data."""
        return self.data_dir / "secrets" / "service.key"
