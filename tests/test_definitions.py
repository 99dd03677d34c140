"""The Definitions load whole, and every asset, check, job and schedule resolves."""

import os
import subprocess
import sys
from pathlib import Path

from dancu.contract import SOURCES
from pipelines.definitions import build_definitions, nightly_refresh, refresh_register


def test_definitions_load_and_resolve():
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}

    expected = {f"raw_{s}" for s in SOURCES} | {f"std_{s}" for s in SOURCES}
    expected |= {"quarantine", "person_source", "person_golden", "civil_event", "event_party"}
    expected |= {"person", "warehouse"} | {f"files_{s}" for s in SOURCES}
    expected |= {"auditor_report", "review_queue_export", "review_queue", "person_id_history"}
    expected |= {"relationship", "consistency_issue"}
    assert keys == expected
    assert {c.name for c in graph.asset_check_keys} >= {"nothing_lost", "one_place_per_row"}
    job = defs.resolve_job_def(refresh_register.name)
    assert {n.name for n in job.nodes} >= {"ingest_dan_cu", "warehouse"}
    assert defs.resolve_schedule_def(nightly_refresh.name).job_name == refresh_register.name
    assert defs.resolve_sensor_def("new_extracts").job_name == refresh_register.name


def test_every_asset_says_what_it_is():
    graph = build_definitions().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, f"{key.to_user_string()} has no description"
        assert node.group_name != "default", f"{key.to_user_string()} has no group"


def test_workspace_loads_in_dagster_tooling(tmp_path):
    """`dagster dev -w workspace.yaml` loads the same code location the tests use."""
    project = Path(__file__).resolve().parent.parent
    dagster = Path(sys.executable).parent / "dagster"
    done = subprocess.run(
        [dagster, "definitions", "validate", "-w", "workspace.yaml"],
        cwd=project,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path), "DANCU_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Validation successful for code location dancu" in done.stderr + done.stdout
