"""Where dancu reads and writes, and how stages hand frames to each other."""

import os
import secrets
from pathlib import Path

import dagster as dg
import polars as pl

DEFAULT_DATA_DIR = "data"


def data_dir_from_env() -> Path:
    return Path(os.environ.get("DANCU_DATA_DIR") or DEFAULT_DATA_DIR).resolve()


def landing_dir_from_env() -> Path:
    landing = os.environ.get("DANCU_LANDING_DIR")
    return Path(landing).resolve() if landing else data_dir_from_env() / "landing"


class DancuPaths(dg.ConfigurableResource):
    """The folders of the contract: landing (read only) and data (everything dancu writes)."""

    data_dir: str
    landing_dir: str

    @classmethod
    def from_env(cls) -> "DancuPaths":
        return cls(data_dir=str(data_dir_from_env()), landing_dir=str(landing_dir_from_env()))

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def warehouse_dir(self) -> Path:
        return Path(self.data_dir) / "warehouse"

    @property
    def reports_dir(self) -> Path:
        return Path(self.data_dir) / "reports"

    @property
    def cache_dir(self) -> Path:
        """Per-file results of earlier runs (`dancu.cache`); deleting it only makes a run cold."""
        return Path(self.data_dir) / "staging" / "cache"

    @property
    def model_dir(self) -> Path:
        """The resolution model of the latest run, kept so that `dancu explain` can use it."""
        return Path(self.data_dir) / "staging" / "resolution_model"

    @property
    def review_dir(self) -> Path:
        """Where clerks drop their decided review-queue files (CSV with `decision` filled in)."""
        return Path(self.data_dir) / "review" / "decisions"

    def person_id_secret(self) -> str:
        """The installation's secret behind new person ids, made on first use.

        Ids are keyed digests of a founding record, so that nobody can tell from a person id
        which insurance code or record it came from; keep this file with the data.
        """
        path = Path(self.data_dir) / "secrets" / "person_id.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()


def staged(description: str) -> dg.AssetOut:
    """An output of a multi-asset that the staging I/O manager keeps as Parquet."""
    return dg.AssetOut(kinds={"polars", "parquet"}, description=description)


class StagingParquetIOManager(dg.ConfigurableIOManager):
    """Each asset's frame as `$DANCU_DATA_DIR/staging/<asset>.parquet`, read back lazily."""

    data_dir: str

    def _path(self, key: dg.AssetKey) -> Path:
        return Path(self.data_dir, "staging", *key.path).with_suffix(".parquet")

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | None) -> None:
        if obj is None:
            return
        path = self._path(context.asset_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".parquet.partial")
        # Read back by the next step within minutes, then replaced: speed over size.
        obj.write_parquet(partial, compression="lz4")
        # A reader never sees half a file: the new frame replaces the old one whole.
        partial.replace(path)
        context.add_output_metadata(
            {"dagster/row_count": obj.height, "path": dg.MetadataValue.path(str(path))}
        )

    def load_input(self, context: dg.InputContext) -> pl.LazyFrame:
        return pl.scan_parquet(self._path(context.upstream_output.asset_key))
