"""The service API against what a security review tried: WebSocket handshakes, a lost key of the
access log, harvesting persons by guessed national ids, extreme or undecodable input, the modes of
the stores, and requests without a key. The real server (`dancu serve`, two workers) over a
copy of the sample run's warehouse, as in test_service.py."""

import asyncio
import base64
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import duckdb
import httpx
import pytest
from helpers import copy_published
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from test_service import (
    ROOT,
    Person,
    bearer,
    client_of,
    fresh_connection,
    living,
    log_rows,
    server_log,
)

from benchmarks.serve import Server
from dancu.service import access_log
from dancu.service.access_log import Access, AccessLog
from dancu.service.app import create_app
from dancu.service.cli import LOG_CONFIG, HideRequestTargets
from dancu.service.keys import (
    DEFAULT_MISSES_PER_HOUR,
    ServerSecretMissing,
    access_log_secret,
    add_client,
    list_clients,
)
from dancu.service.paths import ServicePaths
from dancu.service.ratelimit import KEYLESS_RATE, MissBudget, address_slot


@pytest.fixture(scope="module")
def paths(sample_run, tmp_path_factory) -> ServicePaths:
    data = tmp_path_factory.mktemp("service_security") / "data"
    return ServicePaths(copy_published(sample_run / "data", data))


@pytest.fixture(scope="module")
def server(paths) -> Server:
    with Server(paths.data_dir, workers=2, log=server_log(paths)) as running:
        yield running


@pytest.fixture(scope="module")
def person(paths) -> Person:
    return living(paths)


def logged_row(paths: ServicePaths, since: int) -> dict:
    (row,) = log_rows(paths)[since:]
    return row


def access_row(at: str = "2026-12-01T00:00:00+00:00") -> tuple:
    return Access(at, "GET", "/v1/health").row(200, 1.0)


def write_log_row(log: Path) -> None:
    async def append() -> None:
        writer = AccessLog(log)
        try:
            await writer.append(access_row())
        finally:
            writer.close()

    asyncio.run(append())


# ---------------------------------------------------------------------------- WebSockets


def websocket_handshake(server: Server, target: str) -> bytes:
    """The status line answered to a WebSocket handshake."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(
            f"GET {target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        return connection.recv(200).split(b"\r\n")[0]


def server_log_once_it_holds(paths: ServicePaths, text: str, seconds: float = 30) -> str:
    """The server's log once `text` is in it, or as it is after `seconds`: the workers write
    their lines in their own time."""
    deadline = time.monotonic() + seconds
    while text not in (output := server_log(paths).read_text(encoding="utf-8")):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return output


def test_a_websocket_handshake_goes_through_the_gate_and_its_url_is_logged_nowhere(
    server, paths, person
):
    before = len(log_rows(paths))
    name = quote(person.full_name)
    query = f"national_id={person.national_id}&full_name={name}"
    status_line = websocket_handshake(server, f"/v1/persons?{query}")
    assert b" 401 " in status_line  # refused for want of a key, as any request
    row = logged_row(paths, before)
    assert (row["endpoint"], row["status"], row["outcome"]) == ("/v1/persons", 401, "unauthorized")
    output = server_log_once_it_holds(paths, "Unsupported upgrade request")
    assert "Unsupported upgrade request" in output  # it was seen and logged, without its URL
    assert person.national_id not in output
    assert name not in output


def test_the_gate_refuses_a_websocket_scope_and_logs_it(server, paths, person):
    """Under any ASGI server, one that offers WebSockets included."""
    before = len(log_rows(paths))
    with (
        TestClient(create_app(paths)) as client,
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(f"/v1/persons?national_id={person.national_id}"),
    ):
        pass
    assert refused.value.code == 1008
    row = logged_row(paths, before)
    assert (row["method"], row["endpoint"], row["status"]) == ("GET", "/v1/persons", 403)
    assert (row["outcome"], row["client"]) == ("websocket", None)


def test_uvicorn_log_lines_lose_the_request_targets_they_quote():
    record = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" %d',
        ("127.0.0.1:50000", "/v1/persons?national_id=001088012345&full_name=Nguyen%20Van", 403),
        None,
    )  # fmt: skip
    assert HideRequestTargets().filter(record)
    assert record.getMessage() == '127.0.0.1:50000 - "WebSocket /…" 403'
    running = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, "Uvicorn running on %s",
        ("http://127.0.0.1:8080",), None,
    )  # fmt: skip
    HideRequestTargets().filter(running)
    assert running.getMessage() == "Uvicorn running on http://127.0.0.1:8080"
    assert LOG_CONFIG["loggers"]["uvicorn"]["handlers"] == ["uvicorn"]
    assert LOG_CONFIG["handlers"]["uvicorn"]["filters"] == ["no_targets"]


# ---------------------------------------------------------------------------- the service key


def test_a_lost_service_key_is_an_error_once_the_log_holds_rows(tmp_path):
    paths = ServicePaths(tmp_path / "data")
    first = access_log_secret(paths)  # a new log: a new key
    assert access_log_secret(paths) == first
    AccessLog(paths.access_log).close()
    paths.secret.unlink()
    assert access_log_secret(paths) != first  # a log without rows has no digest to keep
    write_log_row(paths.access_log)
    paths.secret.unlink()
    with pytest.raises(ServerSecretMissing) as missing:
        access_log_secret(paths)
    assert str(paths.secret) in str(missing.value)
    assert "dancu keys restore" in str(missing.value)
    assert not paths.secret.exists()


def test_dancu_audit_and_serve_refuse_to_replace_a_lost_key(tmp_path):
    paths = ServicePaths(tmp_path / "data")
    access_log_secret(paths)
    write_log_row(paths.access_log)
    paths.secret.unlink()
    for command in (["audit", "--national-id", "001088012345"], ["serve", "--port", "1"]):
        done = subprocess.run(
            [sys.executable, "-m", "dancu.service.cli", *command, "--data", str(paths.data_dir)],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
        )  # fmt: skip
        assert done.returncode == 1, done.stdout
        assert str(paths.secret) in done.stderr and "dancu keys restore" in done.stderr
        assert not paths.secret.exists()


# ---------------------------------------------------------------------------- the miss budget


def test_a_miss_budget_holds_an_hour_of_misses_and_only_misses_spend_it(tmp_path):
    budget = MissBudget(tmp_path / "misses.bin")
    assert budget.wait(7, per_hour=2) == 0
    budget.spend(7, per_hour=2)
    assert budget.wait(7, per_hour=2) == 0
    budget.spend(7, per_hour=2)
    assert 1_790 < budget.wait(7, per_hour=2) <= 1_800  # one miss back every half hour
    assert budget.wait(8, per_hour=2) == 0  # each client its own
    budget.close()


def test_past_its_miss_budget_a_client_looks_up_no_national_id_whichever_worker_answers(
    server, paths, person
):
    key = add_client(paths.clients, "guessing-clinic", "health", rate=500, misses_per_hour=3)
    before = len(log_rows(paths))

    def by_national_id(national_id: str) -> httpx.Response:
        return fresh_connection(
            server, key, "GET", "/v1/persons", params={"national_id": national_id}
        )

    found = [by_national_id(person.national_id) for _ in range(3)]  # hits cost nothing
    misses = [by_national_id(f"0010990{serial:05d}") for serial in range(3)]
    refused = [by_national_id(person.national_id), by_national_id("001099000009")]
    assert [a.status_code for a in found + misses] == [200] * 3 + [404] * 3
    assert [a.status_code for a in refused] == [429, 429]
    assert 1_190 <= int(refused[0].headers["retry-after"]) <= 1_200  # a miss back in 20 minutes
    assert "national id" in refused[0].json()["detail"]
    assert person.national_id not in refused[0].text
    # Reading by person id and verifying are not lookups by national id.
    assert (
        fresh_connection(server, key, "GET", f"/v1/persons/{person.person_id}").status_code == 200
    )
    verified = fresh_connection(server, key, "POST", "/v1/verify", json=person.verify_body())
    assert verified.json()["match"]

    rows = log_rows(paths)[before:]
    assert [r["outcome"] for r in rows] == ["ok"] * 3 + ["not_found"] * 3 + ["miss_budget"] * 2 + [
        "ok",
        "match",
    ]
    assert set(rows[-3]["query_digests"]) == {"national_id"}  # which ids it went on trying
    counts = access_log.count_requests(paths.access_log, client="guessing-clinic")
    assert {
        "client": "guessing-clinic",
        "scope": "health",
        "outcome": "miss_budget",
        "requests": 2,
    } in counts


def test_dancu_client_add_sets_the_miss_budget(paths):
    done = subprocess.run(
        [sys.executable, "-m", "dancu.service.cli", "client", "add", "er-bach-mai",
         "--scope", "health", "--misses", "120", "--data", str(paths.data_dir)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "120 national-id lookups finding nobody an hour" in done.stdout
    clients = {name: misses for name, _, _, misses, _, _ in list_clients(paths.clients)}
    assert clients["er-bach-mai"] == 120


def test_stores_of_an_older_dancu_gain_the_new_columns(tmp_path):
    clients, log = tmp_path / "clients.sqlite", tmp_path / "access_log.sqlite"
    with closing(sqlite3.connect(clients)) as connection, connection:
        connection.execute(
            "create table client (id integer primary key autoincrement, name text not null, "
            "scope text not null, key_digest text not null unique, rate real not null, "
            "created_at text not null, revoked_at text)"
        )
        connection.execute(
            "insert into client (name, scope, key_digest, rate, created_at) "
            "values ('old-clinic', 'health', 'x', 20, '2026-01-01')"
        )
    old_schema = access_log.SCHEMA.replace(",\n    address        text", "")
    with closing(sqlite3.connect(log)) as connection:
        connection.executescript(old_schema)
    assert [row[3] for row in list_clients(clients)] == [DEFAULT_MISSES_PER_HOUR]
    write_log_row(log)
    (row,) = access_log.read_entries(log)
    assert "address" in row


# ---------------------------------------------------------------------------- small ones


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"])
def test_a_time_outside_utc_is_an_explained_422(server, paths, since):
    key = add_client(paths.clients, f"auditor-{since[:4]}", "audit", rate=500)
    with client_of(server, key) as auditor:
        for endpoint in ("/v1/audit/summary", "/v1/audit/access-log"):
            answer = auditor.get(endpoint, params={"since": since})
            assert answer.status_code == 422, answer.text
            (problem,) = answer.json()["problems"]
            assert problem["field"] == "since" and "UTC" in problem["problem"]


def test_a_body_that_is_not_utf8_is_an_explained_422(server, paths, person):
    key = add_client(paths.clients, "latin1-clinic", "health", rate=500)
    # Windows-1258, as an office's old software writes: "Nguyên Văn" is no UTF-8.
    body = (
        b'{"national_id": "%s", "full_name": "Nguy\xean V\xe3n", "birth_date": "01/01/1990"}'
        % person.national_id.encode()
    )
    with client_of(server, key) as clinic:
        answer = clinic.post(
            "/v1/verify", content=body, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_request"
    assert answer.json()["problems"] == [
        {"in": "body", "field": None, "problem": "the body is not JSON in UTF-8"}
    ]
    assert person.national_id not in answer.text


def test_the_log_keeps_every_person_an_answer_names_parents_too(server, paths):
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        child, mother, father = con.execute(
            "select person_id, mother_person_id, father_person_id from svc_education "
            "where mother_person_id is not null and father_person_id is not null "
            "order by person_id limit 1"
        ).fetchone()
    key = add_client(paths.clients, "parents-school", "education", rate=500)
    before = len(log_rows(paths))
    assert fresh_connection(server, key, "GET", f"/v1/persons/{child}").status_code == 200
    assert logged_row(paths, before)["person_ids"] == sorted({child, mother, father})


def test_the_stores_are_their_owners_alone(server, paths, tmp_path):
    assert httpx.get(f"{server.url}/v1/health").status_code == 200
    stores = [p for p in paths.store.iterdir() if ".sqlite" in p.name]
    assert {"clients.sqlite", "access_log.sqlite", "access_log.sqlite-wal"} <= {
        p.name for p in stores
    }
    assert {p.name: p.stat().st_mode & 0o777 for p in stores} == {p.name: 0o600 for p in stores}
    # And made by the commands, whatever the umask they are run with.
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "dancu.service.cli", "client", "add", "ward-office",
         "--scope", "civil_status", "--data", str(data)],
        capture_output=True, text=True, cwd=ROOT, timeout=60, preexec_fn=lambda: os.umask(0o022),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (ServicePaths(data).clients.stat().st_mode & 0o777) == 0o600


@pytest.fixture
def own_paths(sample_run, tmp_path) -> ServicePaths:
    return ServicePaths(copy_published(sample_run / "data", tmp_path / "data"))


@pytest.fixture
def own_server(own_paths) -> Server:
    """A server of one test's own, whose buckets no other test has spent."""
    with Server(own_paths.data_dir, workers=2, log=server_log(own_paths)) as running:
        yield running


def keyless_until_refused(server: Server, address: str) -> list[httpx.Response]:
    """Requests without a key from `address`, each on a new connection (either worker answers),
    one at a time until one is refused for the address's rate: far faster than its bucket
    refills, so the refusal comes long before the bound."""
    no_keep_alive = httpx.HTTPTransport(
        local_address=address, limits=httpx.Limits(max_keepalive_connections=0)
    )
    with httpx.Client(base_url=server.url, transport=no_keep_alive, timeout=30) as client:
        answers = [client.post("/v1/verify", json={})]
        while answers[-1].status_code != 429 and len(answers) < 1_000:
            answers.append(client.post("/v1/verify", json={}))
    return answers


def test_requests_without_a_key_are_logged_with_their_address_and_limited_per_address(
    own_server, own_paths, person
):
    before = len(log_rows(own_paths))
    # The second address right after the first: a bucket shared with it would be all but empty.
    first = keyless_until_refused(own_server, "127.0.0.1")
    second = keyless_until_refused(own_server, "127.0.0.2")
    assert address_slot("127.0.0.1") != address_slot("127.0.0.2")
    for answers in (first, second):
        statuses = [answer.status_code for answer in answers]
        # A full bucket holds a second of refusals for want of a key; the rate refusal follows.
        assert statuses == [401] * (len(statuses) - 1) + [429]
        assert len(statuses) > KEYLESS_RATE
        assert int(answers[-1].headers["retry-after"]) >= 1
    rows = log_rows(own_paths)[before:]
    assert [(r["client"], r["address"], r["status"]) for r in rows] == [
        (None, "127.0.0.1", answer.status_code) for answer in first
    ] + [(None, "127.0.0.2", answer.status_code) for answer in second]
    # A valid key from a limited address is not held back.
    key = add_client(own_paths.clients, "same-host-clinic", "health", rate=500)
    with httpx.Client(base_url=own_server.url, headers=bearer(key), timeout=30) as clinic:
        assert clinic.post("/v1/verify", json=person.verify_body()).status_code == 200
