"""Runs driven by extracts landing: a sensor that starts one run per new batch of files, and asks
again for a batch whose run failed."""

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from dancu.contract import SOURCES
from dancu.ingest import extract_date_from_name, extract_files
from dancu.lock import holder
from dancu.paths import data_dir_from_env, landing_dir_from_env

# A file modified this recently may still be being copied in; the next tick takes it.
SETTLE_SECONDS = 30
MAX_NAMES_IN_RUN_KEY = 5
# Runs asked for one batch: a run that fails for a moment (a share offline) is asked again; one
# that fails every time waits for its files to change, the schedule, or a run by hand.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Landed:
    name: str  # relative to the landing folder: "dan_cu/dan_cu_00001_20251015.csv"
    # Size, modification and change times: a re-delivered file counts as new, even copied with
    # its old size and mtime (`cp -p`), since no copy can set the change time.
    signature: str


def landed_files(landing: Path, now: float, settle_seconds: float = SETTLE_SECONDS) -> list[Landed]:
    """Every settled file that ingest would read (or reject), in source and name order."""
    files = []
    for source in SOURCES.values():
        for path in extract_files(landing, source):
            stat = path.stat()
            if now - stat.st_mtime >= settle_seconds:
                name = path.relative_to(landing).as_posix()
                signature = f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"
                files.append(Landed(name, signature))
    return files


@dataclass(frozen=True)
class SensorState:
    """The sensor's cursor. `read`: the files as a run that succeeded found them; `asked`: the
    files as they were when the sensor asked for the run named `run_key`, not yet seen to end;
    `failures`: how many runs failed for the batch of that key (without its attempt)."""

    read: dict[str, str]
    asked: dict[str, str]
    run_key: str | None
    batch: str | None
    failures: int

    @classmethod
    def parse(cls, cursor: str | None) -> "SensorState":
        state = json.loads(cursor) if cursor else {}
        if "read" not in state:  # the cursor of earlier versions: the files it asked for
            return cls(state, {}, None, None, 0)
        return cls(**state)

    def dumps(self) -> str:
        return json.dumps(self.__dict__)

    def ran(self, run: dg.DagsterRun | None) -> "SensorState":
        """The state once the asked run ended: its files read when it succeeded; when it
        failed, or never started, one more failure of its batch."""
        if run is not None and run.is_success:
            return SensorState(self.asked, {}, None, None, 0)
        return SensorState(self.read, {}, None, self.batch, self.failures + 1)

    def failures_of(self, batch: str) -> int:
        return self.failures if batch == self.batch else 0

    def asking(self, landed: list[Landed], batch: str, key: str) -> "SensorState":
        asked = {f.name: f.signature for f in landed}
        return SensorState(self.read, asked, key, batch, self.failures_of(batch))


def new_files(landed: list[Landed], read: dict[str, str]) -> list[Landed]:
    """Files not read before, or read with another size or time (delivered again)."""
    return [f for f in landed if read.get(f.name) != f.signature]


def run_key(batch: list[Landed]) -> str:
    """A key that names the files, so the same batch never starts two runs."""
    names = [f.name for f in batch]
    digest = hashlib.sha256(
        "\n".join(f"{f.name}@{f.signature}" for f in batch).encode()
    ).hexdigest()[:12]
    shown = ",".join(names[:MAX_NAMES_IN_RUN_KEY])
    more = (
        f",+{len(names) - MAX_NAMES_IN_RUN_KEY} more" if len(names) > MAX_NAMES_IN_RUN_KEY else ""
    )
    return f"{shown}{more}#{digest}"


def extract_dates(batch: list[Landed]) -> str:
    dates = {extract_date_from_name(f.name) for f in batch}
    return ",".join(sorted(d.isoformat() for d in dates if d))


def asked_run(instance: dg.DagsterInstance, key: str) -> dg.DagsterRun | None:
    """The run the sensor asked for under `key`, if Dagster made it."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/run_key": key}), limit=1)
    return runs[0] if runs else None


def landing_sensor_for(job) -> dg.SensorDefinition:
    @dg.sensor(
        name="new_extracts",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Starts one run for each batch of extract files that land in the landing "
        "folder (new files, or files delivered again); asks again for a batch whose run failed "
        f"(up to {MAX_ATTEMPTS} runs), and waits while another run holds the data folder.",
    )
    def new_extracts(context: dg.SensorEvaluationContext):
        state = SensorState.parse(context.cursor)
        if state.run_key:
            run = asked_run(context.instance, state.run_key)
            if run is not None and not run.is_finished:
                return dg.SkipReason(f"waiting for run {run.run_id} to end")
            state = state.ran(run)

        def skipped(reason: str) -> dg.SensorResult:
            return dg.SensorResult(skip_reason=reason, cursor=state.dumps())

        landed = landed_files(landing_dir_from_env(), time.time())
        batch = new_files(landed, state.read)
        if not batch:
            return skipped("no new extract files")
        if busy := holder(data_dir_from_env()):
            return skipped(f"the data folder is busy ({busy}); asking again at the next tick")
        key = run_key(batch)
        failures = state.failures_of(key)
        if failures >= MAX_ATTEMPTS:
            return skipped(
                f"the runs for these {len(batch)} files failed {failures} times: see the last "
                "failed run; the schedule, a run by hand or a change of files runs them again"
            )
        attempt = f" (attempt {failures + 1})" if failures else ""
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=key + attempt,
                    tags={
                        "dancu/new_files": str(len(batch)),
                        "dancu/extract_dates": extract_dates(batch),
                    },
                )
            ],
            cursor=state.asking(landed, key, key + attempt).dumps(),
        )

    return new_extracts
