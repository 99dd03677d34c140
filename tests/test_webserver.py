"""A real client: `dagster dev` on the project's workspace.yaml, driven through its GraphQL API."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dancu.generate import generate

PROJECT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 180
RUN_SECONDS = 300

OVERVIEW = """
{
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        name
        location { name }
        assetNodes {
          assetKey { path }
          assetChecksOrError { ... on AssetChecks { checks { name } } }
        }
        schedules { name }
        sensors { name }
        jobs { name }
      }
    }
  }
}
"""
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
STATUS = "query Status($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
DONE = {"SUCCESS", "FAILURE", "CANCELED"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    assert "errors" not in body, body["errors"]
    return body["data"]


def wait_until_serving(port: int, server: subprocess.Popen) -> dict:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, "dagster dev exited"
        try:
            repositories = graphql(port, OVERVIEW)["repositoriesOrError"].get("nodes")
            if repositories:
                return repositories[0]
        except (urllib.error.URLError, ConnectionError, AssertionError):
            pass
        time.sleep(2)
    raise TimeoutError("the webserver did not serve the code location in time")


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    root = tmp_path_factory.mktemp("webserver")
    generate(persons=500, seed=3, out=root / "sample")
    (root / "dagster").mkdir()
    (root / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(root / "dagster"),
        "DANCU_DATA_DIR": str(root / "data"),
        "DANCU_LANDING_DIR": str(root / "sample" / "landing"),
    }
    port = free_port()
    dagster = Path(sys.executable).parent / "dagster"
    server = subprocess.Popen(
        [dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield port, wait_until_serving(port, server), root
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            # Under a full test run `dagster dev` has once taken longer than a minute to stop
            # its code server and daemon; what is under test ran already.
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_the_ui_serves_every_asset_check_job_and_schedule(webserver):
    _, repository, _ = webserver
    assert repository["location"]["name"] == "dancu"
    assets = {"/".join(node["assetKey"]["path"]) for node in repository["assetNodes"]}
    assert {"raw_dan_cu", "std_dan_cu", "quarantine", "person", "warehouse"} <= assets
    checks = {
        check["name"]
        for node in repository["assetNodes"]
        for check in node["assetChecksOrError"].get("checks", [])
    }
    assert {"nothing_lost", "schema", "completeness", "validity"} <= checks
    assert "refresh_register" in {job["name"] for job in repository["jobs"]}
    assert "nightly_refresh" in {schedule["name"] for schedule in repository["schedules"]}


def test_a_run_launched_through_graphql_succeeds(webserver):
    port, repository, root = webserver
    params = {
        "selector": {
            "repositoryLocationName": "dancu",
            "repositoryName": repository["name"],
            "jobName": "refresh_register",
        },
        "runConfigData": {},
    }
    launched = graphql(port, LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    deadline = time.monotonic() + RUN_SECONDS
    status = None
    while time.monotonic() < deadline and status not in DONE:
        time.sleep(3)
        status = graphql(port, STATUS, {"id": run_id})["runOrError"]["status"]
    assert status == "SUCCESS"
    assert (root / "data" / "warehouse" / "dancu.duckdb").exists()
