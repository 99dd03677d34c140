"""`make bench-serve`: identity verifications against the real server under load, while the
warehouse is published twice.

The server (`dancu serve`, several workers) serves a copy of a published warehouse, never the
original; wrk drives POST /v1/verify over loopback with real persons of that warehouse, their names
in capitals without diacritics or with extra spaces, one in ten with a wrong birth date. A third
of the way and two thirds of the way through, a new version is published: built beforehand by the
pipeline's own `publish` (fed the tables of the version served), copied beside the served file
and renamed over it during the load, which is what the server sees of a publish
(`--publish rebuild` runs the whole publish during the load, on the same two cores). A failure
is any answer but a 200, and any error or timeout (2 s) of a connection. Bounded: `--seconds`
and `--requests`.

    .venv/bin/python -m benchmarks.serve [--warehouse PATH] [--seconds 30] [--workers 2]

wrk comes from Debian (`apt-get install wrk`); without it an httpx client drives the load, which
measures the client as much as the server on two cores.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import httpx
import polars as pl

from benchmarks.run import BENCH_DIR
from dancu.paths import Paths, data_dir_from_env
from dancu.service import access_log
from dancu.service.keys import add_client
from dancu.service.paths import ServicePaths
from dancu.text import fold
from dancu.warehouse import SQL_DIR, WAREHOUSE_FILE, Keys, publish

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATE = 2_000  # verifications a second, at a million persons
TARGET_P99_MS = 50
STARTUP_SECONDS = 300  # each worker indexes the register before it answers
BENCH_CLIENT = "bench-serve"
WRK_SCRIPT = """
-- POST /v1/verify with the bodies of a file, one JSON object a line, until each thread has had
-- its share of the answers. Arguments: the bodies file, the answers per thread.
local bodies, sent, received, limit, headers = {}, 0, 0, 0, {}

function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  limit = tonumber(args[2])
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. os.getenv("DANCU_BENCH_KEY")
end

function request()
  sent = sent + 1
  return wrk.format("POST", "/v1/verify", headers, bodies[sent % #bodies + 1])
end

function response(status, headers, body)
  received = received + 1
  if received >= limit then wrk.thread:stop() end
end
"""


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int
    detail: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass
class Publishes:
    runs: list[str] = field(default_factory=list)
    at_seconds: list[float] = field(default_factory=list)
    took_seconds: list[float] = field(default_factory=list)
    error: str | None = None


# ---------------------------------------------------------------------------- publishing


def warehouse_tables() -> tuple[list[str], list[str]]:
    """The tables a publish is fed (sql/warehouse.sql, sql/optional_tables.sql), less those it
    makes itself."""
    created = re.compile(r"create table (?:if not exists )?(\w+)")
    made_by_publish = {"publish_run", "dq_metric"}
    core = created.findall((SQL_DIR / "warehouse.sql").read_text(encoding="utf-8"))
    optional = created.findall((SQL_DIR / "optional_tables.sql").read_text(encoding="utf-8"))
    return [t for t in core if t not in made_by_publish], optional


def republish(data_dir: Path, run_id: str) -> None:
    """Publish the served version's tables again as run `run_id`, through the pipeline's own
    `publish` and with the data folder's key: a new file built, gated and renamed over the
    served one."""
    paths = Paths.of(data_dir)
    core, optional = warehouse_tables()
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        # A version older than sql/ lacks the newest tables: the publish makes them, empty.
        served = {row[0] for row in con.sql("select table_name from duckdb_tables()").fetchall()}
        tables = {t: con.sql(f"select * from {t}").pl() for t in core if t in served}
        optional_tables = {t: con.sql(f"select * from {t}").pl() for t in optional if t in served}
    keys = Keys.from_secret(paths.person_id_secret())
    publish(paths.warehouse_dir, run_id, tables, optional_tables, keys=keys)


def prepare_versions(data_dir: Path, scratch: Path, runs: list[str]) -> list[Path]:
    """Versions built before the load, for `--publish swap`, in a data folder of their own."""
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(data_dir, scratch, ignore=shutil.ignore_patterns("service"))
    versions = []
    for run in runs:
        republish(scratch, run)
        versions.append(scratch / f"{run}.duckdb")
        os.link(Paths.of(scratch).warehouse, versions[-1])
    return versions


def swap_in(warehouse_dir: Path, version: Path) -> None:
    """The last steps of a publish: the new file copied beside the served one, renamed over it."""
    building = warehouse_dir / "building" / version.name
    building.parent.mkdir(exist_ok=True)
    shutil.copy2(version, building)
    os.replace(building, warehouse_dir / WAREHOUSE_FILE)


def publish_during(
    data_dir: Path, seconds: float, runs: list[str], prepared: list[Path] | None
) -> tuple[threading.Thread, Publishes]:
    """A thread that publishes `runs` at even intervals of the load."""
    done = Publishes()
    started = time.monotonic()

    def publishes() -> None:
        try:
            publish_all()
        except Exception as error:  # reported by the benchmark, which then fails
            done.error = f"{type(error).__name__}: {error}"

    def publish_all() -> None:
        for k, run in enumerate(runs):
            time.sleep(max(0.0, started + seconds * (k + 1) / (len(runs) + 1) - time.monotonic()))
            begun = time.monotonic()
            if prepared:
                swap_in(Paths.of(data_dir).warehouse_dir, prepared[k])
            else:
                republish(data_dir, run)
            done.runs.append(run)
            done.at_seconds.append(round(begun - started, 1))
            done.took_seconds.append(round(time.monotonic() - begun, 1))

    thread = threading.Thread(target=publishes, name="publisher")
    thread.start()
    return thread, done


# ---------------------------------------------------------------------------- the server


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`dancu serve` in a process of its own, on a free loopback port, until the block ends."""

    def __init__(self, data_dir: Path, workers: int, log: Path):
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{free_port()}"
        self._command = [
            sys.executable, "-m", "dancu.service.cli", "serve", "--data", str(data_dir),
            "--port", self.url.rsplit(":", 1)[1], "--workers", str(workers),
        ]  # fmt: skip
        self._log = log

    def __enter__(self) -> "Server":
        with open(self._log, "wb") as log:
            self._process = subprocess.Popen(
                self._command,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,  # its workers stop with it, whatever happens here
            )
        self.wait_healthy()
        return self

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the server stopped: see {self._log}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer in {STARTUP_SECONDS} s: see {self._log}")

    def run_id(self) -> str:
        return httpx.get(f"{self.url}/v1/health", timeout=5).json()["warehouse"]["run_id"]

    def wait_for_run(self, run_id: str, seconds: float) -> str:
        """The run answering once `run_id` answers, or once `seconds` have passed."""
        deadline = time.monotonic() + seconds
        while (answering := self.run_id()) != run_id and time.monotonic() < deadline:
            time.sleep(0.2)
        return answering

    def __exit__(self, *_) -> None:
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()


# ---------------------------------------------------------------------------- the load


def verification_bodies(warehouse: Path, count: int, seed: int = 1) -> list[str]:
    """Requests for real persons, typed as clerks type them; one in ten with a wrong day."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        persons = con.sql(
            "select national_id, full_name, birth_date from person "
            "where regexp_full_match(national_id, '[0-9]{12}') and birth_date is not null"
        ).pl()
    persons = persons.sample(min(count, persons.height), seed=seed, shuffle=True)
    k = pl.int_range(pl.len())
    typed_name = (
        pl.when(k % 3 == 0)
        .then(fold(pl.col("full_name")).str.to_uppercase())
        .when(k % 3 == 1)
        .then(pl.col("full_name").str.replace_all(" ", "  "))
        .otherwise(pl.col("full_name"))
    )
    day = pl.when(k % 10 == 9).then(pl.col("birth_date") + pl.duration(days=1))
    typed_date = (
        pl.when(k % 2 == 0)
        .then(day.otherwise(pl.col("birth_date")).dt.strftime("%d/%m/%Y"))
        .otherwise(day.otherwise(pl.col("birth_date")).dt.strftime("%Y-%m-%d"))
    )
    bodies = persons.select(
        pl.struct(
            pl.col("national_id"), typed_name.alias("full_name"), typed_date.alias("birth_date")
        ).struct.json_encode()
    )
    return bodies.to_series().to_list()


def milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[unit]


def parse_wrk(output: str) -> Load:
    requests, duration = re.search(r"(\d+) requests in ([\d.]+\w+),", output).groups()
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    failed = (int(non_2xx.group(1)) if non_2xx else 0) + sum(
        int(n) for n in (errors.groups() if errors else ())
    )
    return Load(
        requests=int(requests),
        seconds=milliseconds(duration) / 1000,
        p50_ms=milliseconds(re.search(r"50%\s+(\S+)", output).group(1)),
        p99_ms=milliseconds(re.search(r"99%\s+(\S+)", output).group(1)),
        failed=failed,
        detail=" ".join((non_2xx.group(0) if non_2xx else "", errors.group(0) if errors else "")),
    )


def wrk_load(url: str, key: str, bodies: Path, seconds: int, requests: int, connections: int):
    threads = 2
    script = bodies.with_suffix(".lua")
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "2s",
        "-s", str(script), f"{url}/v1/verify", "--", str(bodies), str(requests // threads),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        env={**os.environ, "DANCU_BENCH_KEY": key},
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr[-2000:]}")
    return parse_wrk(done.stdout)


def httpx_load(url: str, key: str, bodies: Path, seconds: int, requests: int, connections: int):
    """The same load from Python, where wrk is missing."""
    lines = bodies.read_text(encoding="utf-8").splitlines()
    latencies: list[float] = []
    failures = [0]
    deadline = time.monotonic() + seconds

    async def one_connection(client: httpx.AsyncClient, offset: int) -> None:
        k = offset
        while time.monotonic() < deadline and len(latencies) + failures[0] < requests:
            sent = time.perf_counter()
            try:
                answer = await client.post("/v1/verify", content=lines[k % len(lines)])
                answered = answer.status_code == 200
            except httpx.HTTPError:
                answered = False
            if answered:
                latencies.append((time.perf_counter() - sent) * 1000)
            else:
                failures[0] += 1
            k += connections

    async def load() -> float:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        limits = httpx.Limits(max_connections=connections)
        async with httpx.AsyncClient(
            base_url=url, headers=headers, limits=limits, timeout=2
        ) as client:
            started = time.perf_counter()
            await asyncio.gather(*(one_connection(client, k) for k in range(connections)))
            return time.perf_counter() - started

    elapsed = asyncio.run(load())
    ordered = sorted(latencies) or [float("nan")]
    return Load(
        requests=len(latencies) + failures[0],
        seconds=elapsed,
        p50_ms=ordered[len(ordered) // 2],
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        failed=failures[0],
        detail="httpx client",
    )


# ---------------------------------------------------------------------------- the benchmark


def prepare_data(source: Path, work: Path) -> Path:
    """A data folder of the benchmark's own, serving a copy of the warehouse `source`, with the
    key of the data folder it comes from (a publish refuses another key)."""
    shutil.rmtree(work, ignore_errors=True)
    data = (work / "data").resolve()
    copied = Paths.of(data)
    copied.warehouse_dir.mkdir(parents=True)
    shutil.copy2(source, copied.warehouse)
    secret = Paths.of(source.resolve().parent.parent).secret_file
    if secret.exists():
        copied.secret_file.parent.mkdir(mode=0o700)
        shutil.copy2(secret, copied.secret_file)
    return data


def persons_indexed(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(
            "select count(*) from person where regexp_full_match(national_id, '[0-9]{12}')"
        ).fetchall()[0][0]


def report(figures: dict) -> str:
    load = figures["load"]
    rate, p99 = load["requests"] / load["seconds"], load["p99_ms"]
    checks = [
        f"≥ {TARGET_RATE:,}/s {'met' if rate >= TARGET_RATE else 'missed'}",
        f"p99 ≤ {TARGET_P99_MS} ms {'met' if p99 <= TARGET_P99_MS else 'missed'}",
        f"no failure {'met' if load['failed'] == 0 else 'missed'}",
    ]
    publishes = figures["publishes"]
    when = ", ".join(
        f"{run} at {at} s, took {took} s"
        for run, at, took in zip(
            publishes["runs"], publishes["at_seconds"], publishes["took_seconds"], strict=True
        )
    )
    return "\n".join(
        [
            f"serve benchmark: {figures['persons']:,} persons by national id, "
            f"{figures['workers']} workers, {figures['connections']} connections "
            f"({figures['client']}), {load['seconds']:.1f} s",
            f"  verifications  {load['requests']:,} ({rate:,.0f}/s)",
            f"  latency        p50 {load['p50_ms']:.1f} ms, p99 {p99:.1f} ms",
            f"  failed         {load['failed']:,} {load['detail'].strip()}",
            f"  publishes      {len(publishes['runs'])} ({figures['publish']}): {when}",
            f"  answering from {figures['answering_run']} after the load",
            f"  access log     {figures['logged']:,} rows for the benchmark's client",
            f"  targets at a million persons: {', '.join(checks)}",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=data_dir_from_env() / "warehouse" / WAREHOUSE_FILE,
        help="the published warehouse to copy and serve (default: $DANCU_DATA_DIR's)",
    )
    parser.add_argument("--work", type=Path, default=BENCH_DIR / "serve")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--requests", type=int, default=200_000, help="at most this many")
    parser.add_argument(
        "--publish",
        choices=["swap", "rebuild"],
        default="swap",
        help="swap: versions built before the load renamed in during it (what the server sees "
        "of a publish); rebuild: the pipeline's whole publish during the load, on the same cores",
    )
    parser.add_argument("--client", choices=["wrk", "httpx"], default=None)
    args = parser.parse_args()
    if not args.warehouse.exists():
        print(f"no warehouse at {args.warehouse}: run `make demo` first", file=sys.stderr)
        return 1
    client = args.client or ("wrk" if shutil.which("wrk") else "httpx")

    data = prepare_data(args.warehouse, args.work)
    paths = ServicePaths(data.resolve())
    key = add_client(paths.clients, BENCH_CLIENT, "health", rate=1e9)
    bodies = args.work / "bodies.jsonl"
    bodies.write_text("\n".join(verification_bodies(paths.warehouse, 20_000)), encoding="utf-8")
    runs = [f"bench-publish-{k}-{int(time.time())}" for k in (1, 2)]
    prepared = None
    if args.publish == "swap":
        prepared = prepare_versions(data, args.work / "prepared", runs)

    with Server(paths.data_dir, args.workers, args.work / "server.log") as server:
        publisher, publishes = publish_during(data, args.seconds, runs, prepared)
        drive = wrk_load if client == "wrk" else httpx_load
        load = drive(server.url, key, bodies, args.seconds, args.requests, args.connections)
        publisher.join()
        if publishes.error:
            raise RuntimeError(f"a publish failed: {publishes.error}")
        # Each worker indexes the last version in the background before answering from it.
        answering_run = server.wait_for_run(runs[-1], STARTUP_SECONDS)

    logged = sum(
        row["requests"] for row in access_log.count_requests(paths.access_log, BENCH_CLIENT)
    )
    figures = {
        "persons": persons_indexed(paths.warehouse),
        "workers": args.workers,
        "connections": args.connections,
        "client": client,
        "publish": args.publish,
        "load": asdict(load),
        "publishes": asdict(publishes),
        "answering_run": answering_run,
        "logged": logged,
    }
    (args.work / "result.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(report(figures))
    switched = answering_run == runs[-1] and publishes.runs == runs
    return 0 if load.failed == 0 and switched else 1


if __name__ == "__main__":
    sys.exit(main())
