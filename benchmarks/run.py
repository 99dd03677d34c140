"""`make bench`: speed and memory of each stage on a generated set of a million persons.

Each stage runs in a fresh process so that its peak memory is its own. The generated set is
kept under bench-data/ and reused while its size and seed are unchanged.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path("bench-data")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_generate(out: Path, persons: int, seed: int) -> dict:
    from dancu.generate import generate

    summary = generate(persons=persons, seed=seed, out=out)
    return {"rows": summary.total_rows, "persons": persons}


def stage_ingest(out: Path, persons: int, seed: int) -> dict:
    from dancu.contract import SOURCES
    from dancu.ingest import read_source

    rows, files = 0, 0
    for source in SOURCES.values():
        frame, reports = read_source(out / "landing", source)
        rows += frame.height
        files += len(reports)
    return {"rows": rows, "files": files}


STAGES = {"generate": stage_generate, "ingest": stage_ingest}


def run_stage(name: str, out: Path, persons: int, seed: int) -> dict:
    """Run one stage in this process and report its figures as JSON on stdout."""
    started = time.perf_counter()
    figures = STAGES[name](out, persons, seed)
    figures["seconds"] = time.perf_counter() - started
    figures["peak_rss_mib"] = peak_rss_mib()
    return figures


def measure(name: str, out: Path, persons: int, seed: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.run", "--stage", name, "--persons", str(persons)]
    command += ["--seed", str(seed), "--out", str(out)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--stage", choices=STAGES)
    args = parser.parse_args()
    out = args.out or BENCH_DIR / f"persons-{args.persons}-seed-{args.seed}"
    if args.stage:
        print(json.dumps(run_stage(args.stage, out, args.persons, args.seed)))
        return

    if not (out / "truth").is_dir():
        figures = measure("generate", out, args.persons, args.seed)
        print(f"generate  {args.persons:>9,} persons  {figures['rows']:>10,} rows  "
              f"{figures['seconds']:7.1f} s  peak {figures['peak_rss_mib']:7.0f} MiB")
    figures = measure("ingest", out, args.persons, args.seed)
    rate = figures["rows"] / figures["seconds"]
    print(f"ingest    {figures['files']:>9,} files    {figures['rows']:>10,} rows  "
          f"{figures['seconds']:7.1f} s  peak {figures['peak_rss_mib']:7.0f} MiB  "
          f"{rate:,.0f} rows/s")


if __name__ == "__main__":
    main()
