"""The Definitions load whole, and every asset, check, job and schedule resolves."""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from assets.ingest import PROBLEM_FILES_SHOWN, raw_asset
from dancu.contract import DAN_CU, SOURCES
from dancu.schemas import standardized_schema
from dancu.warehouse import SERVICE_VIEWS
from orchestration.resources import DancuPaths, StagingParquetIOManager
from pipelines.definitions import build_definitions, nightly_refresh, refresh_register


def test_definitions_load_and_resolve():
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}

    expected = {f"raw_{s}" for s in SOURCES} | {f"std_{s}" for s in SOURCES}
    expected |= {"quarantine", "person_source", "person_golden", "civil_event", "event_party"}
    expected |= {"person", "warehouse"} | {f"files_{s}" for s in SOURCES}
    expected |= {"auditor_report", "review_queue_export", "review_queue", "person_id_history"}
    expected |= {"relationship", "consistency_issue"} | set(SERVICE_VIEWS)
    assert keys >= expected
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


def test_the_ui_tells_owners_pii_columns_code_versions_and_freshness():
    graph = build_definitions().resolve_asset_graph()
    nodes = {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}

    assert all(node.owners for node in nodes.values())
    assert nodes["std_dan_cu"].tags["pii"] == "sensitive"
    assert nodes["warehouse"].tags["pii"] == "sensitive"
    for source in SOURCES:
        columns = nodes[f"std_{source}"].metadata["dagster/column_schema"].columns
        declared = standardized_schema(SOURCES[source]).columns
        assert {c.name for c in columns} >= set(declared)
    assert all(node.code_version for name, node in nodes.items() if name.startswith("std_"))
    policy = nodes["warehouse"].freshness_policy
    assert policy is not None
    assert policy.fail_window.to_timedelta().total_seconds() <= 36 * 3600
    for view in SERVICE_VIEWS:
        assert dg.AssetKey("warehouse") in {dep for dep in nodes[view].parent_keys}


def test_gate_checks_say_what_they_guard():
    graph = build_definitions().resolve_asset_graph()
    checks = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    gates = [check for check in checks if check.asset_key == dg.AssetKey("warehouse")]
    assert gates
    assert all(check.description and "sql/gates.sql" not in check.description for check in gates)


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


def delivered_csv(values: dict[str, str]) -> str:
    """A dan_cu extract of one row, under the contract's column labels."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(column.label for column in DAN_CU.columns)
    writer.writerow(values.get(column.name, "") for column in DAN_CU.columns)
    return text.getvalue()


def test_ingest_metadata_stays_small_however_many_files_arrive(tmp_path):
    """Counts, and a short table of the files with a problem: not a row per delivered file."""
    folder = tmp_path / "landing" / DAN_CU.name
    folder.mkdir(parents=True)
    delivered = [folder / f"dan_cu_202510{day:02}.csv" for day in range(1, 31)]
    for n, path in enumerate(delivered):
        path.write_text(delivered_csv({"source_record_id": f"HS{n}", "full_name": "Lê Văn An"}))
    broken = [folder / f"dan_cu_no_date_{n:02}.csv" for n in range(PROBLEM_FILES_SHOWN + 4)]
    broken.append(folder / "dan_cu_20251031.txt")
    for path in broken:
        path.write_text("x\n1\n")
    paths = DancuPaths(data_dir=str(tmp_path / "data"), landing_dir=str(tmp_path / "landing"))
    resources = {"paths": paths, "io_manager": StagingParquetIOManager(data_dir=paths.data_dir)}

    result = dg.materialize([raw_asset(DAN_CU)], resources=resources)
    (files,) = [
        event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey(f"files_{DAN_CU.name}")
    ]

    assert files["files"].value == len(delivered) + len(broken)
    assert files["files_read"].value == len(delivered)
    assert files["files_rejected"].value == len(broken)
    assert files["files/csv"].value == len(delivered) + len(broken) - 1
    # A file rejected for its name still counts the rows it holds (one each here).
    assert files["rows/csv"].value == len(delivered) + len(broken) - 1
    assert files["files/txt"].value == 1
    problems = files["files_with_problems"].value.splitlines()
    assert len(problems) == 2 + PROBLEM_FILES_SHOWN + 1  # header, files shown, "and 5 more"
    assert problems[-1].startswith("| … and 5 more")
    assert not any(path.name in "\n".join(problems) for path in delivered)
    assert len(str({key: value.value for key, value in files.items()})) < 4000
