"""The service API as its clients meet it: the real server (`dancu serve`, two worker processes,
on a free loopback port) over a copy of the sample run's warehouse, driven with httpx."""

import http.client
import json
import multiprocessing
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import httpx
import polars as pl
import pytest
from helpers import copy_published
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.serve import Server, republish
from dancu.service import access_log
from dancu.service.app import MAX_BODY_BYTES
from dancu.service.keys import SCOPE_VIEWS, add_client, key_digest, revoke_client, server_secret
from dancu.service.paths import ServicePaths
from dancu.service.ratelimit import refill, take
from dancu.service.store import connect
from dancu.service.verify import name_key, name_keys, parse_birth_date

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Person:
    person_id: str
    national_id: str
    full_name: str
    birth_date: date
    is_deceased: bool

    def verify_body(self, **changes) -> dict:
        body = {
            "national_id": self.national_id,
            "full_name": self.full_name,
            "birth_date": self.birth_date.strftime("%d/%m/%Y"),
        }
        return {**body, **changes}


def one_person(warehouse: Path, condition: str) -> Person:
    """A person whose id no one else carries, with a full birth date."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.sql(
            f"""
            select person_id, national_id, full_name, birth_date, is_deceased
            from person
            where regexp_full_match(national_id, '[0-9]{{12}}') and birth_date is not null
              and national_id in (select national_id from person group by 1 having count(*) = 1)
              and {condition}
            order by person_id limit 1
            """
        ).fetchall()
    assert row, f"the sample holds no person with {condition}"
    return Person(*row[0])


@pytest.fixture(scope="module")
def data_dir(sample_run, tmp_path_factory) -> Path:
    """A data folder of the tests' own: the sample run's warehouse, and its key (for publishes)."""
    return copy_published(sample_run / "data", tmp_path_factory.mktemp("service") / "data")


@pytest.fixture(scope="module")
def paths(data_dir) -> ServicePaths:
    return ServicePaths(data_dir)


@pytest.fixture(scope="module")
def keys(paths) -> dict[str, str]:
    """A key for each scope, named after it, with room for the tests' bursts."""
    return {scope: add_client(paths.clients, scope, scope, rate=500) for scope in SCOPE_VIEWS}


@pytest.fixture(scope="module")
def server(paths, keys) -> Server:
    with Server(paths.data_dir, workers=2, log=server_log(paths)) as running:
        yield running


def server_log(paths: ServicePaths) -> Path:
    return paths.data_dir.parent / "server.log"


def living(paths: ServicePaths) -> Person:
    return one_person(paths.warehouse, "not is_deceased and full_name <> strip_accents(full_name)")


def deceased(paths: ServicePaths) -> Person:
    return one_person(paths.warehouse, "is_deceased")


@pytest.fixture(scope="module")
def person(paths) -> Person:
    return living(paths)


def bearer(key: str | None) -> dict:
    return {"Authorization": f"Bearer {key}"} if key else {}


def client_of(server: Server, key: str | None) -> httpx.Client:
    """One keep-alive connection: one worker answers all its requests."""
    return httpx.Client(base_url=server.url, headers=bearer(key), timeout=30)


def fresh_connection(server: Server, key: str, method: str, path: str, **kw) -> httpx.Response:
    """A request on a new connection, which either worker may accept."""
    return httpx.request(method, server.url + path, headers=bearer(key), timeout=30, **kw)


def stored_bytes(paths: ServicePaths, store: str) -> bytes:
    """A SQLite store as on disk, its write-ahead log included."""
    return b"".join(
        p.read_bytes() for p in paths.store.glob(f"{store}*") if p.suffix != ".sqlite-shm"
    )


@pytest.fixture(scope="module")
def health(server, keys) -> httpx.Client:
    with client_of(server, keys["health"]) as client:
        yield client


def assert_no_echo(answer: httpx.Response, *sent: str) -> None:
    for value in sent:
        assert value not in answer.text


def log_rows(paths: ServicePaths) -> list[dict]:
    return access_log.read_entries(paths.access_log)


# ---------------------------------------------------------------------------- pure parts


# Names as registers write them: Latin letters with any marks, digits, spaces and punctuation.
NAME_CHARACTERS = (
    st.characters(min_codepoint=0x20, max_codepoint=0x24F, categories=["L", "Nd", "Zs", "P"])
    | st.characters(min_codepoint=0x300, max_codepoint=0x36F)
    | st.sampled_from("ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĐđ\u00a0\t")
)


@given(st.text(alphabet=NAME_CHARACTERS))
def test_name_key_of_one_name_is_the_key_of_the_register_column(name):
    register = pl.select(name_keys(pl.lit(name, dtype=pl.String))).item()
    assert name_key(name) == register


def test_name_keys_ignore_diacritics_case_and_spacing():
    assert name_key("  NGUYỄN   Đức\thải ") == name_key("Nguyen Duc Hai") == "nguyen duc hai"
    # NFD input, as some keyboards and Windows-1258 files give it.
    assert name_key("Nguye\u0302\u0303n") == "nguyen"


@pytest.mark.parametrize(
    ("text", "day"),
    [("28/03/2001", date(2001, 3, 28)), ("2001-03-28", date(2001, 3, 28)),
     ("8/3/2001", date(2001, 3, 8)), (" 29/02/2024 ", date(2024, 2, 29))],
)  # fmt: skip
def test_birth_dates_are_read_as_dd_mm_yyyy_or_iso(text, day):
    assert parse_birth_date(text) == day


@pytest.mark.parametrize("text", ["31/02/2001", "29/02/2023", "2001-13-01", "03-28-2001", "2001"])
def test_a_birth_date_that_is_no_day_is_refused_without_quoting_it(text):
    with pytest.raises(ValueError) as refused:
        parse_birth_date(text)
    assert text.strip() not in str(refused.value)


def test_a_token_bucket_holds_one_second_and_refills_at_its_rate():
    tokens = refill(0.0, 0.0, now=1_000.0, rate=5, capacity=5)  # never used: full
    assert tokens == 5
    for _ in range(5):
        tokens, wait = take(tokens, 5)
        assert wait == 0
    tokens, wait = take(tokens, 5)
    assert wait == pytest.approx(0.2)
    assert take(refill(tokens, 1_000.0, now=1_000.2, rate=5, capacity=5), 5)[1] == 0
    # A clock set back adds nothing.
    assert refill(1.0, 1_000.0, now=999.0, rate=5, capacity=5) == 1.0


def test_keys_are_stored_only_as_digests(paths, keys):
    stored = stored_bytes(paths, "clients.sqlite")
    for key in keys.values():
        assert key.encode() not in stored
        assert key_digest(key).encode() in stored


def test_the_server_secret_and_the_indexes_are_their_owners_alone(server, paths):
    assert paths.secret.stat().st_mode & 0o777 == 0o600
    assert paths.store.stat().st_mode & 0o777 == 0o700
    indexes = list(paths.index_dir.glob("persons.*.arrow"))
    assert indexes and {index.stat().st_mode & 0o777 for index in indexes} == {0o600}


@pytest.mark.parametrize("change", ["delete from access_log", "update access_log set client = 'x'"])
def test_the_access_log_refuses_updates_and_deletes(server, health, paths, change):
    assert health.get("/v1/health").status_code == 200  # a row at least
    with (
        closing(sqlite3.connect(paths.access_log)) as connection,
        pytest.raises(sqlite3.DatabaseError, match="append-only"),
    ):
        connection.execute(change)


def open_new_stores(folder: Path, ready, count: int) -> None:
    ready.wait()
    for number in range(count):
        connect(folder / f"{number}.sqlite").close()


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path):
    """As a starting server's workers do with the access log: a worker that fails its startup
    stops them all. (SQLite refuses the switch of a new store to WAL at once, without its busy
    wait, while another connection switches it.)"""
    fork = multiprocessing.get_context("fork")
    ready = fork.Barrier(3)
    workers = [fork.Process(target=open_new_stores, args=(tmp_path, ready, 1000)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]


# ---------------------------------------------------------------------------- the endpoints


def test_health_needs_no_key_and_names_the_published_version(server, paths):
    answer = httpx.get(f"{server.url}/v1/health")
    assert answer.status_code == 200
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        (run_id,) = con.sql("select run_id from publish_run").fetchall()[0]
    assert answer.json()["warehouse"]["run_id"] == run_id
    assert answer.headers["x-dancu-warehouse"] == run_id


def test_the_api_is_described_at_docs(server):
    assert httpx.get(f"{server.url}/docs").status_code == 200
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert {"/v1/health", "/v1/verify", "/v1/persons/{person_id}", "/v1/persons"} <= set(paths)


def test_verify_matches_whatever_the_diacritics_case_and_spacing(health, person):
    typed = "  " + name_key(person.full_name).upper().replace(" ", "   ") + " "
    for body in (
        person.verify_body(),
        person.verify_body(full_name=typed, birth_date=person.birth_date.isoformat()),
    ):
        answer = health.post("/v1/verify", json=body)
        assert answer.status_code == 200
        assert answer.json() == {
            "match": True,
            "is_deceased": False,
            "person_id": person.person_id,
        }


def test_verify_says_a_person_has_died(server, keys, paths):
    dead = deceased(paths)
    with client_of(server, keys["justice"]) as justice:  # any scope may verify
        answer = justice.post("/v1/verify", json=dead.verify_body())
    assert answer.json() == {"match": True, "is_deceased": True, "person_id": dead.person_id}


@pytest.mark.parametrize(
    "change",
    [{"full_name": "Trịnh Văn Không"}, {"birth_date": "01/01/1901"}, {"national_id": "0" * 12}],
)
def test_a_mismatch_reveals_nothing_of_the_register(health, person, change):
    answer = health.post("/v1/verify", json=person.verify_body(**change))
    assert answer.status_code == 200
    assert answer.json() == {"match": False, "is_deceased": None, "person_id": None}
    assert_no_echo(answer, person.full_name, person.birth_date.isoformat(), person.person_id)


@pytest.mark.parametrize(
    ("body", "field", "explanation"),
    [
        ('{"national_id": "0010880', None, "not valid JSON"),
        ('["001088012345"]', None, "JSON object"),
        ({"national_id": "00108801234"}, "national_id", "exactly 12 digits"),
        ({"birth_date": "31/02/1990"}, "birth_date", "not a real day"),
        ({"birth_date": "1990/02/03"}, "birth_date", "dd/mm/yyyy or yyyy-mm-dd"),
        ({"national_id": 1088012345}, "national_id", "JSON string"),
        ({"full_name": "12 34"}, "full_name", "letter"),
        ({"nickname": "Tí"}, None, "not a field"),  # a key made up is not named back:
        ({"Nguyễn Văn Tí": "x"}, None, "not a field"),  # it may be a name or an id
        ({"cccd001088012345": "x"}, None, "not a field"),
    ],
)
def test_malformed_requests_get_an_explained_422_that_echoes_nothing(
    health, person, body, field, explanation
):
    if isinstance(body, dict):
        content = json.dumps(person.verify_body(**body), ensure_ascii=False)
    else:
        content = body
    answer = health.post(
        "/v1/verify", content=content.encode(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert any(field == p["field"] and explanation in p["problem"] for p in problems), problems
    sent = [person.national_id, person.full_name, "00108801234", "31/02/1990", "1088012345", "Tí"]
    sent += ["001088012345", "nickname"]
    assert_no_echo(answer, *sent)


def answer_to_a_body_never_finished(server: Server, key: str, framing: str, sent: bytes):
    """The answer to a POST /v1/verify of which only `sent` arrives, the connection then held
    open: the server must answer from what it has, for the rest of the body never comes."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(
            f"POST /v1/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\n{framing}\r\n\r\n".encode()
            + sent
        )
        answer = http.client.HTTPResponse(connection)
        try:
            answer.begin()
        except TimeoutError:
            pytest.fail("the server waited for the rest of the body before answering")
        return answer.status, answer.read().decode()


def test_a_body_declared_past_the_limit_is_refused_with_413_before_it_arrives(keys, server, person):
    sent = json.dumps(person.verify_body())
    status, answer = answer_to_a_body_never_finished(
        server, keys["health"], f"Content-Length: {10**9}", sent.encode()
    )
    assert status == 413
    assert json.loads(answer)["error"] == "body_too_large"
    assert person.national_id not in answer and person.full_name not in answer


def test_a_chunked_body_is_refused_with_413_once_past_the_limit_not_read_to_its_end(
    keys, server, person
):
    sent = json.dumps(person.verify_body(nickname="x" * MAX_BODY_BYTES)).encode()
    first_chunk = b"%x\r\n%s\r\n" % (len(sent), sent)  # and no last chunk ever follows
    status, answer = answer_to_a_body_never_finished(
        server, keys["health"], "Transfer-Encoding: chunked", first_chunk
    )
    assert status == 413
    assert json.loads(answer)["error"] == "body_too_large"
    assert person.national_id not in answer and person.full_name not in answer


def test_a_person_is_read_through_the_scopes_own_view_only(server, keys, person):
    with client_of(server, keys["health"]) as health, client_of(server, keys["insurance"]) as bhxh:
        own = health.get(f"/v1/persons/{person.person_id}")
        assert own.status_code == 200
        assert own.json()["view"] == "svc_health"
        (row,) = own.json()["rows"]
        assert row["person_id"] == person.person_id
        assert "national_id" not in row  # svc_health compares digests, never reads the id
        by_id = health.get("/v1/persons", params={"national_id": person.national_id})
        assert by_id.json() == own.json()
        assert (
            bhxh.get("/v1/persons", params={"national_id": person.national_id}).json()["rows"][0][
                "national_id"
            ]
            == person.national_id
        )

        outside = health.get(f"/v1/persons/{person.person_id}", params={"view": "svc_insurance"})
        assert outside.status_code == 403
        assert outside.json()["error"] == "forbidden"
        assert_no_echo(outside, person.person_id)


def test_the_audit_scope_reads_no_person(server, keys, person):
    with client_of(server, keys["audit"]) as client:
        assert client.get(f"/v1/persons/{person.person_id}").status_code == 403


def test_justice_reads_requests_and_their_convictions_through_its_own_view(server, keys, paths):
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        (person_id,) = con.execute(
            "select min(person_id) from svc_justice where not is_candidate"
        ).fetchone()
    assert person_id, "the sample holds no request matched to a person"
    with client_of(server, keys["justice"]) as justice, client_of(server, keys["health"]) as health:
        own = justice.get(f"/v1/persons/{person_id}")
        assert own.status_code == 200
        assert own.json()["view"] == "svc_justice"
        assert all("criminal_record" in row for row in own.json()["rows"])
        other_view = justice.get(f"/v1/persons/{person_id}", params={"view": "svc_health"})
        assert other_view.status_code == 403
        not_health = health.get(f"/v1/persons/{person_id}", params={"view": "svc_justice"})
        assert not_health.status_code == 403


def test_an_unknown_person_is_404_and_named_nowhere(health):
    unknown = health.get("/v1/persons/PFFFFFFFFFFFFFFF")
    assert unknown.status_code == 404
    assert_no_echo(unknown, "PFFFFFFFFFFFFFFF")
    nobody = health.get("/v1/persons", params={"national_id": "999999999999"})
    assert nobody.status_code == 404
    assert_no_echo(nobody, "999999999999")
    bad = health.get("/v1/persons", params={"national_id": "99999999999"})
    assert bad.status_code == 422
    assert_no_echo(bad, "99999999999")


def test_requests_without_a_valid_key_are_401(server, person):
    for key in (None, "dancu_not-a-key"):
        with client_of(server, key) as client:
            answer = client.post("/v1/verify", json=person.verify_body())
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"


def test_a_revoked_key_is_refused_from_the_next_request_by_every_worker(server, paths, person):
    key = add_client(paths.clients, "school-revoked", "education", rate=500)
    body = person.verify_body()
    before = [fresh_connection(server, key, "POST", "/v1/verify", json=body) for _ in range(6)]
    revoke_client(paths.clients, "school-revoked")
    after = [fresh_connection(server, key, "POST", "/v1/verify", json=body) for _ in range(6)]
    assert [answer.status_code for answer in before] == [200] * 6
    assert [answer.status_code for answer in after] == [401] * 6


def test_past_its_rate_a_client_gets_429_whichever_worker_answers(server, paths, person):
    # A bucket of one request, refilled once a day: no token comes back while the test runs.
    key = add_client(paths.clients, "slow-clinic", "health", rate=1 / 86_400)
    answers = [
        fresh_connection(server, key, "POST", "/v1/verify", json=person.verify_body())
        for _ in range(10)
    ]
    # Only the one token: the bucket spans the workers, which would each let one through if each
    # kept its own.
    assert [answer.status_code for answer in answers] == [200] + [429] * 9
    limited = answers[1]
    assert limited.json()["error"] == "rate_limited"
    assert 86_000 < int(limited.headers["retry-after"]) <= 86_400  # when the next token comes


def test_every_request_is_in_the_access_log_with_digests_not_values(server, paths, person):
    school_key = add_client(paths.clients, "logged-school", "education", rate=500)
    slow_key = add_client(paths.clients, "logged-slow", "education", rate=1)
    before = len(log_rows(paths))
    with (
        client_of(server, school_key) as school,
        client_of(server, slow_key) as slow,
        client_of(server, None) as anonymous,
    ):
        sent = [
            ("POST", "/v1/verify", school.post("/v1/verify", json=person.verify_body())),
            ("GET", "/v1/persons", school.get("/v1/persons", params={"national_id": "1" * 11})),
            ("GET", "/v1/persons/{person_id}", school.get("/v1/persons/P1?view=svc_health")),
            ("GET", "/v1/persons", school.get("/v1/persons", params={"national_id": "1" * 12})),
            ("GET", "/v1/health", slow.get("/v1/health")),  # public: no token taken
            ("POST", "/v1/verify", slow.post("/v1/verify", json=person.verify_body())),
            ("POST", "/v1/verify", slow.post("/v1/verify", json=person.verify_body())),
            ("POST", "/v1/verify", anonymous.post("/v1/verify", json=person.verify_body())),
            ("GET", "(no route)", anonymous.get(f"/v1/nothing/{person.national_id}")),
        ]
    rows = log_rows(paths)[before:]
    assert [(r["method"], r["endpoint"], r["status"]) for r in rows] == [
        (method, endpoint, answer.status_code) for method, endpoint, answer in sent
    ]
    assert [r["status"] for r in rows] == [200, 422, 403, 404, 200, 200, 429, 401, 401]
    verified, refused = rows[0], rows[-2]
    assert (verified["client"], verified["scope"], verified["outcome"]) == (
        "logged-school",
        "education",
        "match",
    )
    assert verified["person_ids"] == [person.person_id]
    assert set(verified["query_digests"]) == {"national_id", "full_name", "birth_date"}
    digest = access_log.query_digest(server_secret(paths.secret), "national_id", person.national_id)
    assert verified["query_digests"]["national_id"] == digest
    assert (refused["client"], refused["outcome"]) == (None, "unauthorized")
    # Values sent are kept as digests only, and no URL is kept.
    stored = stored_bytes(paths, "access_log.sqlite")
    for value in (person.national_id, "1" * 12, person.full_name, name_key(person.full_name)):
        assert value.encode() not in stored


def test_the_audit_scope_reads_the_log_and_the_counts(server, keys, paths, person):
    with client_of(server, keys["audit"]) as auditor, client_of(server, keys["health"]) as health:
        assert health.get("/v1/audit/access-log").status_code == 403
        entries = auditor.get(
            "/v1/audit/access-log", params={"client": "health", "since": "2000-01-01"}
        ).json()
        counts = auditor.get("/v1/audit/summary").json()["counts"]
        future = auditor.get("/v1/audit/summary", params={"since": "2999-01-01T00:00:00+07:00"})
        files = auditor.get(
            "/v1/audit/records", params={"file_name": first_file(paths), "limit": 5}
        )
    assert entries["entries"] and {e["client"] for e in entries["entries"]} == {"health"}
    assert any(
        (c["client"], c["scope"], c["outcome"]) == ("health", "health", "forbidden") for c in counts
    )
    assert files.status_code == 200 and len(files.json()["rows"]) == 5
    assert future.json()["counts"] == []


def first_file(paths: ServicePaths) -> str:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        return con.sql("select min(file_name) from extract_file where rows > 10").fetchall()[0][0]


def test_dancu_audit_prints_the_log_and_counts(server, health, paths, person):
    assert health.post("/v1/verify", json=person.verify_body()).json()["match"]
    assert health.get("/v1/persons/P1", params={"view": "svc_insurance"}).status_code == 403
    done = subprocess.run(
        [sys.executable, "-m", "dancu.service.cli", "audit", "--data", str(paths.data_dir),
         "--national-id", person.national_id],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.search(r"POST /v1/verify\s+200 match", done.stdout)
    assert re.search(r"health\s+health\s+forbidden\s+\d+", done.stdout)
    assert person.national_id not in done.stdout


def test_dancu_client_add_prints_the_key_once(paths):
    done = subprocess.run(
        [sys.executable, "-m", "dancu.service.cli", "client", "add", "ward-office",
         "--scope", "civil_status", "--data", str(paths.data_dir)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (key,) = re.findall(r"^dancu_\S+$", done.stdout, re.MULTILINE)
    assert key_digest(key).encode() in stored_bytes(paths, "clients.sqlite")


# ---------------------------------------------------------------------------- publishing


def test_publishes_during_requests_fail_none_and_are_answered_from_at_once(server, paths, person):
    """Two publishes through the pipeline's own `publish` while clients verify without pause."""
    # A rate no loopback client reaches: pause-less clients past a 500/s key get 429s, rightly.
    key = add_client(paths.clients, "publish-watcher", "insurance", rate=1_000_000)
    stop = threading.Event()
    answers: list[tuple[bool, str | None]] = []
    statuses: list[int] = []

    def verify_without_pause() -> None:
        with client_of(server, key) as client:
            while not stop.is_set():
                answer = client.post("/v1/verify", json=person.verify_body())
                matched = answer.status_code == 200 and answer.json()["match"]
                answers.append((matched, answer.headers.get("x-dancu-warehouse")))
                statuses.append(answer.status_code)

    first_run = server.run_id()
    clients = [threading.Thread(target=verify_without_pause) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        for run in ("republished-1", "republished-2"):
            time.sleep(1)
            republish(paths.data_dir, run)
            assert server.wait_for_run(run, seconds=60) == run
        time.sleep(1)
    finally:
        stop.set()
        for client in clients:
            client.join()

    assert answers and all(matched for matched, _ in answers), sorted(set(statuses))
    assert {first_run, "republished-1", "republished-2"} <= {run for _, run in answers}


def test_the_server_logs_no_personal_data_of_the_requests_it_answers(server, keys, paths):
    persons = [living(paths), deceased(paths)]
    for person in persons:
        national_id = {"national_id": person.national_id}
        for scope, method, path, sent, status in [
            ("health", "POST", "/v1/verify", {"json": person.verify_body()}, 200),
            ("health", "POST", "/v1/verify", {"json": person.verify_body(birth_date="0")}, 422),
            ("insurance", "GET", f"/v1/persons/{person.person_id}", {}, 200),
            ("insurance", "GET", "/v1/persons", {"params": national_id}, 200),
            ("health", "GET", f"/v1/persons/{person.person_id}?view=svc_justice", {}, 403),
        ]:
            answer = fresh_connection(server, keys[scope], method, path, **sent)
            assert answer.status_code == status, (method, path, answer.text)
    # Read once every answer is in: a line about a request is written before its answer leaves.
    output = server_log(paths).read_text(encoding="utf-8")
    assert "answering from run" in output  # it does log, and what it logs is this
    for person in persons:
        for value in (person.national_id, person.full_name, person.person_id):
            assert value not in output
