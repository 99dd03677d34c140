"""Incremental runs on the million-person set: ingest and standardisation through the per-file
caches, cold, then again after one more day of extracts landed.

    .venv/bin/python -m benchmarks.incremental   # after `make bench` generated the set

The landing folder is a tree of hard links under `<set>/incremental/`, so no extract is copied;
the new day is a few files delivered again under the next date (every record in them supersedes
its older row). Each run is a fresh process, so that its peak memory is its own.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.run import BENCH_DIR, with_peak

# One day of deltas: a few wards' registry files, an insurance and a health-facility file.
NEW_DAY = {"dan_cu": 5, "bhxh": 1, "y_te": 1}


def cached_run(landing: Path, cache_dir: Path) -> dict:
    """Every source through ingest and standardisation, as the assets run them."""
    from dancu.contract import SOURCES
    from dancu.ingest import files_frame, ingest_cache, scan_source
    from dancu.standardize import standardize_cache, standardize_cached

    figures = dict.fromkeys(["ingest_s", "standardize_s", "rows", "parsed", "standardised"], 0)
    for source in SOURCES.values():
        started = time.perf_counter()
        ingest = ingest_cache(cache_dir, source)
        raw, reports = scan_source(landing, source, ingest)
        ingest.prune({ingest.key(r.file_name, r.sha256) for r in reports})
        files = files_frame(reports, raw)
        read = time.perf_counter()
        std = standardize_cache(cache_dir, source)
        figures["rows"] += standardize_cached(raw, files, source, std).collect().height
        std.prune({std.key(r.file_name, r.sha256) for r in reports})
        figures["ingest_s"] += read - started
        figures["standardize_s"] += time.perf_counter() - read
        figures["parsed"] += ingest.misses
        figures["standardised"] += std.misses
    return figures


def deliver_next_day(landing: Path) -> None:
    """Copy the last files of some sources under the day after the newest extract date."""
    from datetime import timedelta

    from dancu.ingest import extract_date_from_name

    paths = sorted(p for p in landing.rglob("*") if p.is_file())
    dates = [d for p in paths if (d := extract_date_from_name(p.name))]
    next_day = (max(dates) + timedelta(days=1)).strftime("%Y%m%d")
    for source, count in NEW_DAY.items():
        dated = [p for p in sorted((landing / source).iterdir()) if extract_date_from_name(p.name)]
        for path in dated[-count:]:
            shutil.copyfile(path, path.with_name(f"{path.stem[:-8]}{next_day}{path.suffix}"))


def measure(work: Path) -> dict:
    command = [sys.executable, "-m", "benchmarks.incremental", "--work", str(work), "--run"]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def line(name: str, f: dict) -> str:
    return (
        f"{name:<18} ingest {f['ingest_s']:6.1f} s ({f['parsed']:>4} files parsed)  "
        f"standardise {f['standardize_s']:6.1f} s ({f['standardised']:>4} files)  "
        f"{f['rows']:>10,} rows  peak {f['peak_rss_mib']:>6,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = args.work or BENCH_DIR / f"persons-{args.persons}-seed-{args.seed}" / "incremental"
    if args.run:
        print(json.dumps(with_peak(lambda: cached_run(work / "landing", work / "cache"))))
        return

    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(work.parent / "landing", work / "landing", copy_function=os.link)
    print(line("cold cache", measure(work)))
    deliver_next_day(work / "landing")
    print(line("one new day", measure(work)))


if __name__ == "__main__":
    main()
