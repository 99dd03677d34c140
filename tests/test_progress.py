"""Progress: each asset's output says its rows and its step's own peak memory, and `dancu run`
prints per step its time, rows and peak, and how far the run is."""

import io
import logging
import sys
import time
from types import SimpleNamespace

import dagster as dg
import numpy as np
import polars as pl
import pytest

from dancu.memory import HELD_SAMPLE_SECONDS
from orchestration.privacy import masked_errors
from orchestration.resources import HELD_MEMORY, PEAK_MEMORY, StagingParquetIOManager
from pipelines.progress import ProgressHandler

HELD_MIB = 200


@dg.asset
@masked_errors
def holding() -> pl.DataFrame:
    """Holds `HELD_MIB` while it computes a frame of three rows."""
    held = np.ones(HELD_MIB * 2**20 // 8)
    time.sleep(4 * HELD_SAMPLE_SECONDS)  # what the step holds is sampled, not marked by the kernel
    return pl.DataFrame({"x": [1, 2, 3], "total": [held.sum()] * 3})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the peak resets on Linux")
def test_an_output_says_its_rows_and_the_peak_of_its_own_step(tmp_path):
    # A peak far above the step's, earlier in the process: the step must not report it.
    earlier = np.ones(1024 * 2**20 // 8)
    del earlier
    result = dg.materialize(
        [holding], resources={"io_manager": StagingParquetIOManager(data_dir=str(tmp_path))}
    )
    metadata = result.asset_materializations_for_node("holding")[0].metadata
    assert metadata["dagster/row_count"].value == 3
    peak = metadata[PEAK_MEMORY].value
    assert HELD_MIB < peak < 1024
    assert HELD_MIB < metadata[HELD_MEMORY].value <= peak


def record(kind: str, step: str, at: float, **data) -> logging.LogRecord:
    event = SimpleNamespace(event_type_value=kind, event_specific_data=SimpleNamespace(**data))
    line = logging.LogRecord("dagster", logging.DEBUG, "", 0, kind, None, None)
    line.created = at
    line.dagster_meta = {"dagster_event": event, "step_key": step}
    return line


def materialized(rows: int, peak_mib: float, held_mib: float | None = None) -> dict:
    metadata = {
        "dagster/row_count": dg.IntMetadataValue(rows),
        PEAK_MEMORY: dg.FloatMetadataValue(peak_mib),
    }
    if held_mib is not None:
        metadata[HELD_MEMORY] = dg.FloatMetadataValue(held_mib)
    return {"materialization": SimpleNamespace(metadata=metadata)}


def test_a_step_line_says_its_time_rows_peak_and_how_far_the_run_is():
    out = io.StringIO()
    handler = ProgressHandler(logging.INFO, stream=out)
    events = [
        record("STEP_START", "ingest", 1000.0),
        record("ASSET_MATERIALIZATION", "ingest", 1010.0, **materialized(1_200, 300.0)),
        record("ASSET_MATERIALIZATION", "ingest", 1011.0, **materialized(800, 2_048.0)),
        record("STEP_SUCCESS", "ingest", 1012.5),
        record("STEP_START", "resolve_persons", 1013.0),
        record("STEP_FAILURE", "resolve_persons", 1090.0),
        record("STEP_START", "link_events", 1091.0),
        record("ASSET_MATERIALIZATION", "link_events", 1099.0, **materialized(5, 3_072.0, 1_536.0)),
        record("STEP_SUCCESS", "link_events", 1100.0),
    ]
    for event in events:
        handler.emit(event)
    lines = [line.split(" ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == [
        "▸ ingest",
        "✓ ingest (12.5s, 2,000 rows, peak 2.0 GiB) · 1 done, 12s into the run",
        "▸ resolve_persons",
        "✗ resolve_persons (77.0s) · 2 done, 1m30s into the run",
        "▸ link_events",
        "✓ link_events (9.0s, 5 rows, peak 3.0 GiB, held 1.5 GiB) · 3 done, 1m40s into the run",
    ]
