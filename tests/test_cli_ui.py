"""`dancu ui` serves the auditor reports over http beside the Dagster UI, and nothing else."""

import http.client
import socket
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from dagster._utils.error import SerializableErrorInfo

from pipelines import cli

REPORT = "dancu_report_20251031T020000_run1.html"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port: int, path: str, method: str = "GET") -> tuple[int, bytes]:
    """The path is sent as written: no client-side clean-up of `..` or of escapes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


@pytest.fixture
def data_folder(tmp_path) -> Path:
    """A data folder whose reports folder holds a report, a clerk's workbook and an agency's
    workbook, beside files outside the reports folder."""
    reports = tmp_path / "data" / "reports"
    (reports / "corrections").mkdir(parents=True)
    (reports / REPORT).write_text("<h1>Báo cáo</h1>", encoding="utf-8")
    (reports / "review_queue_run1.xlsx").write_bytes(b"PK names and ids")
    (reports / "corrections" / "corrections_bhxh.html").write_text("whole ids", encoding="utf-8")
    (tmp_path / "data" / "outside.html").write_text("not a report", encoding="utf-8")
    (reports / "link.html").symlink_to(tmp_path / "data" / "outside.html")
    return tmp_path / "data"


@pytest.fixture
def served(data_folder):
    port = free_port()
    server = cli.serve_reports(data_folder / "reports", port)
    yield port
    server.shutdown()
    server.server_close()


def test_a_report_is_served_whole(served):
    status, body = fetch(served, f"/{REPORT}")
    assert status == 200
    assert body.decode() == "<h1>Báo cáo</h1>"


def test_the_folder_lists_the_reports(served):
    status, body = fetch(served, "/")
    assert status == 200
    assert REPORT in body.decode()
    assert "review_queue" not in body.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/../outside.html",
        "/%2e%2e/outside.html",
        "/..%2foutside.html",
        "/link.html",  # a link inside the folder that leads out of it
        "/review_queue_run1.xlsx",  # a clerk's workbook: whole names
        "/corrections/corrections_bhxh.html",  # an agency's corrections
        "/missing.html",
    ],
)
def test_nothing_else_is_served(served, path):
    status, body = fetch(served, path)
    assert status == 404
    assert b"not a report" not in body and b"whole ids" not in body


def test_it_is_read_only(served):
    for method in ("POST", "PUT", "DELETE"):
        assert fetch(served, f"/{REPORT}", method)[0] == 501


def test_dancu_ui_serves_the_reports_while_the_dagster_ui_runs(data_folder, monkeypatch, capsys):
    """`dagster dev` stands in as a process that fetches the report while `dancu ui` waits on it:
    it exits 0 only when the report came back."""
    port = free_port()
    fetch_report = (
        "import sys, urllib.request;"
        f"page = urllib.request.urlopen('http://127.0.0.1:{port}/{REPORT}', timeout=10).read();"
        "sys.exit(0 if 'Báo cáo' in page.decode() else 3)"
    )
    monkeypatch.setattr(
        cli, "dagster_dev_command", lambda host, p: [sys.executable, "-c", fetch_report]
    )
    monkeypatch.setenv("DANCU_DATA_DIR", str(data_folder))
    monkeypatch.setenv("DAGSTER_HOME", str(data_folder / "dagster"))
    monkeypatch.setenv("DANCU_REPORT_PORT", str(port))

    assert cli.main(["ui", "--port", str(free_port())]) == 0
    printed = capsys.readouterr().out
    assert f"http://localhost:{port}/" in printed
    assert "start off" in printed
    with pytest.raises(ConnectionRefusedError):  # stopped with the UI
        fetch(port, "/")


def test_a_busy_report_port_still_starts_the_ui(data_folder, monkeypatch, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setattr(cli, "dagster_dev_command", lambda host, p: [sys.executable, "-c", ""])
        monkeypatch.setenv("DANCU_DATA_DIR", str(data_folder))
        monkeypatch.setenv("DAGSTER_HOME", str(data_folder / "dagster"))
        monkeypatch.setenv("DANCU_REPORT_PORT", str(taken.getsockname()[1]))

        assert cli.main(["ui"]) == 0
    assert "DANCU_REPORT_PORT" in capsys.readouterr().err


def step_failure(error: SerializableErrorInfo) -> SimpleNamespace:
    return SimpleNamespace(step_failure_data=SimpleNamespace(error=error))


def test_a_failed_step_names_the_error_dancu_stood_for_without_dagsters_wrapper():
    masked = SerializableErrorInfo(
        "dagster._core.definitions.events.Failure: OutOfMemoryException: could not allocate\n",
        stack=[],
        cls_name="Failure",
    )
    assert cli.root_cause(step_failure(masked)) == "OutOfMemoryException: could not allocate"
    inner = SerializableErrorInfo("ValueError: cannot parse 'Lê Văn An'\n", [], "ValueError")
    outer = SerializableErrorInfo("dagster.DagsterExecutionStepExecutionError: in op\n", [],
                                  "DagsterExecutionStepExecutionError", cause=inner)  # fmt: skip
    assert cli.root_cause(step_failure(outer)) == "ValueError: cannot parse '…'"
