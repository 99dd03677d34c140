"""The resources assets ask for: where dancu reads and writes, and how stages hand frames on."""

import os
import shutil
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import PrivateAttr

from dancu.lock import run_lock
from dancu.memory import SPILL_DIR, held_peak_since_start, peak_since_start, run_memory_limit
from dancu.paths import (
    PRIVATE_UMASK,
    Folders,
    check_landing,
    check_writable,
    data_dir_from_env,
    landing_dir_from_env,
)
from dancu.warehouse import Keys
from orchestration.privacy import masked_failure


class DancuPaths(dg.ConfigurableResource, Folders):
    """The folders of the contract: landing (read only) and data (everything dancu writes)."""

    data_dir: str
    landing_dir: str
    _held: ExitStack = PrivateAttr(default_factory=ExitStack)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """A run holds the data folder alone, writes nothing others may read, and starts only
        from a landing folder that holds files, with memory enough."""
        os.umask(PRIVATE_UMASK)
        check_writable(Path(self.data_dir))
        run_memory_limit()
        self._held.enter_context(run_lock(Path(self.data_dir), f"run {context.run.run_id}"))
        # Holding the lock, no other run is using it: what waits there was left by a run that
        # died (a killed publish left the whole person table), and goes.
        shutil.rmtree(Path(self.data_dir) / SPILL_DIR, ignore_errors=True)
        check_landing(self.landing)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._held.close()

    @classmethod
    def from_env(cls) -> "DancuPaths":
        return cls(data_dir=str(data_dir_from_env()), landing_dir=str(landing_dir_from_env()))

    def secret_keys(self) -> Keys:
        return Keys.from_secret(self.person_id_secret())


# Output metadata: the most memory the step held until the output was written, in MiB: resident
# (with the pages of the files it maps), and of its own (what the system cannot drop).
PEAK_MEMORY = "peak_memory_mib"
HELD_MEMORY = "peak_held_memory_mib"


def peak_memory() -> dict[str, float]:
    """The step's peaks so far, as output metadata: what computing its outputs took."""
    return {
        PEAK_MEMORY: round(peak_since_start() / 2**20, 1),
        HELD_MEMORY: round(held_peak_since_start() / 2**20, 1),
    }


def staged(description: str) -> dg.AssetOut:
    """An output of a multi-asset that the staging I/O manager keeps as Parquet."""
    return dg.AssetOut(kinds={"polars", "parquet"}, description=description)


class StagingParquetIOManager(dg.ConfigurableIOManager):
    """Each asset's frame as `$DANCU_DATA_DIR/staging/<asset>.parquet`, read back lazily, with
    its rows and the step's peak memory (measured from the step's start, see
    `orchestration.privacy`) in the output's metadata."""

    data_dir: str

    def _path(self, key: dg.AssetKey) -> Path:
        return Path(self.data_dir, "staging", *key.path).with_suffix(".parquet")

    def handle_output(
        self, context: dg.OutputContext, obj: pl.DataFrame | pl.LazyFrame | None
    ) -> None:
        if obj is None:
            return
        path = self._path(context.asset_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".parquet.partial")
        # Read back by the next step within minutes, then replaced: speed over size.
        try:
            if isinstance(obj, pl.LazyFrame):  # streamed into the file, never held whole
                obj.sink_parquet(partial, compression="lz4")
            else:
                obj.write_parquet(partial, compression="lz4")
        except Exception as error:
            # A lazy frame's plan runs here, after the asset's masked compute has returned.
            raise masked_failure(error) from None
        # A reader never sees half a file: the new frame replaces the old one whole.
        partial.replace(path)
        rows = pl.scan_parquet(path).select(pl.len()).collect().item()
        context.add_output_metadata(
            {
                "dagster/row_count": rows,
                "path": dg.MetadataValue.path(str(path)),
                **peak_memory(),
            }
        )

    def load_input(self, context: dg.InputContext) -> pl.LazyFrame:
        return pl.scan_parquet(self._path(context.upstream_output.asset_key))
