"""Runs driven by extracts landing: a sensor that starts one run per new batch of files."""

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from dancu.contract import SOURCES
from dancu.ingest import extract_date_from_name, extract_files
from dancu.paths import landing_dir_from_env

# A file modified this recently may still be being copied in; the next tick takes it.
SETTLE_SECONDS = 30
MAX_NAMES_IN_RUN_KEY = 5


@dataclass(frozen=True)
class Landed:
    name: str  # relative to the landing folder: "dan_cu/dan_cu_00001_20251015.csv"
    signature: str  # size and modification time: a re-delivered file counts as new


def landed_files(landing: Path, now: float, settle_seconds: float = SETTLE_SECONDS) -> list[Landed]:
    """Every settled file that ingest would read (or reject), in source and name order."""
    files = []
    for source in SOURCES.values():
        for path in extract_files(landing, source):
            stat = path.stat()
            if now - stat.st_mtime >= settle_seconds:
                name = path.relative_to(landing).as_posix()
                files.append(Landed(name, f"{stat.st_size}:{stat.st_mtime_ns}"))
    return files


def new_files(landed: list[Landed], cursor: str | None) -> list[Landed]:
    """Files not seen before, or seen with another size or time (delivered again)."""
    seen = json.loads(cursor) if cursor else {}
    return [f for f in landed if seen.get(f.name) != f.signature]


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


def landing_sensor_for(job) -> dg.SensorDefinition:
    @dg.sensor(
        name="new_extracts",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Starts one run for each batch of extract files that land in the landing "
        "folder (new files, or files delivered again).",
    )
    def new_extracts(context: dg.SensorEvaluationContext):
        landed = landed_files(landing_dir_from_env(), time.time())
        batch = new_files(landed, context.cursor)
        if not batch:
            return dg.SkipReason("no new extract files")
        context.update_cursor(json.dumps({f.name: f.signature for f in landed}))
        return dg.RunRequest(
            run_key=run_key(batch),
            tags={"dancu/new_files": str(len(batch)), "dancu/extract_dates": extract_dates(batch)},
        )

    return new_extracts
