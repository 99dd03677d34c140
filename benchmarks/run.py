"""`make bench`: speed and memory of each stage on a million-person set, the quality of the
repair on the 20,000-person sample, scored against the generator's ground truth, and the same
sample delivered in two days and run twice (`benchmarks/two_day.py`).

Each measurement runs in a fresh process so that its peak memory is its own. Generated sets
are kept under bench-data/ and reused while their size and seed are unchanged.
"""

import argparse
import json
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path("bench-data")
SAMPLE_PERSONS = 20_000


class ResidentPeak(threading.Thread):
    """The most memory this process held, sampled every `interval` seconds: `dancu run` resets
    the kernel's high-water mark as each step starts (`dancu.memory.start_peak`), so
    `ru_maxrss`, like `/usr/bin/time`, gives only the peak of the last step. `peak_bytes` is
    resident memory, the pages of memory-mapped files included; `held_peak_bytes` the process's
    own memory alone (`dancu.memory.held_bytes`), what the system cannot drop."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak_bytes, self.held_peak_bytes = interval, 0, 0

    def run(self) -> None:
        from dancu.memory import held_bytes, resident_bytes

        while True:
            self.peak_bytes = max(self.peak_bytes, resident_bytes())
            self.held_peak_bytes = max(self.held_peak_bytes, held_bytes())
            time.sleep(self.interval)


def peak_rss_mib(sampled: ResidentPeak) -> float:
    return (
        max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, sampled.peak_bytes) / 2**20
    )


def with_peak(stage: Callable[[], dict]) -> dict:
    """The figures `stage()` returns, with the most memory the process held while it ran."""
    sampled = ResidentPeak()
    sampled.start()
    figures = stage()
    return {**figures, "peak_rss_mib": peak_rss_mib(sampled)}


def cpu_seconds() -> float:
    """User and system time of this process, all threads: on a shared machine the wall time
    depends on the neighbours, this much less."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stage_generate(out: Path, persons: int, seed: int) -> dict:
    from dancu.generate import generate

    started = time.perf_counter()
    summary = generate(persons=persons, seed=seed, out=out)
    return {"rows": sum(summary.rows.values()), "seconds": time.perf_counter() - started}


def _read_all(out: Path) -> dict:
    from dancu.contract import SOURCES
    from dancu.ingest import read_source

    return {name: read_source(out / "landing", source)[0] for name, source in SOURCES.items()}


def stage_ingest(out: Path, persons: int, seed: int) -> dict:
    started = time.perf_counter()
    frames = _read_all(out)
    return {
        "rows": sum(f.height for f in frames.values()),
        "seconds": time.perf_counter() - started,
    }


def stage_standardize(out: Path, persons: int, seed: int) -> dict:
    from dancu.contract import SOURCES
    from dancu.standardize import standardize

    frames = _read_all(out)
    started = time.perf_counter()
    rows = sum(standardize(f.lazy(), SOURCES[n]).collect().height for n, f in frames.items())
    return {"rows": rows, "seconds": time.perf_counter() - started}


def stage_pipeline(out: Path, persons: int, seed: int) -> dict:
    """The whole graph through `dancu run`, then the repair scored against the ground truth."""
    from benchmarks.quality import score
    from pipelines.cli import main

    data = out / "run"
    started = time.perf_counter()
    code = main(["run", "--landing", str(out / "landing"), "--data", str(data),
                 "--log-level", "ERROR"])  # fmt: skip
    if code:
        raise SystemExit(code)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, **score(out, data)}


def step_seconds(data: Path) -> dict[str, float]:
    """Wall time of each step of the latest run in the data folder's Dagster instance."""
    import dagster as dg

    from pipelines.cli import dagster_home

    dagster_home(data)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_step_stats(run.run_id)
    return {s.step_key: s.end_time - s.start_time for s in stats if s.end_time and s.start_time}


def stage_whole_run(out: Path, persons: int, seed: int) -> dict:
    """`dancu run` from an empty data folder (cold caches) on the set, with each step's time."""
    from pipelines.cli import main

    data = out / "whole-run"
    shutil.rmtree(data, ignore_errors=True)
    started = time.perf_counter()
    code = main(["run", "--landing", str(out / "landing"), "--data", str(data),
                 "--log-level", "ERROR"])  # fmt: skip
    if code:
        raise SystemExit(code)
    return {"seconds": time.perf_counter() - started, "steps": step_seconds(data)}


# Steps of a run, grouped as the stages of the pipeline.
STEP_GROUPS = {
    "ingest": "ingest_", "standardize": "std_", "checks": "check_", "quarantine": "quarantine",
    "resolve": "resolve_persons", "link": "link_events", "publish": "warehouse",
    "report": "auditor_report", "review export": "review_queue_export",
}  # fmt: skip


def stage_of(step: str) -> str | None:
    """The stage of STEP_GROUPS a step belongs to (None for the steps outside them)."""
    return next((g for g, prefix in STEP_GROUPS.items() if step.startswith(prefix)), None)


def step_lines(steps: dict[str, float]) -> list[str]:
    totals = dict.fromkeys(STEP_GROUPS, 0.0)
    for step, seconds in steps.items():
        group = stage_of(step)
        if group:
            totals[group] += seconds
    return [f"  {group:<14} {seconds:7.1f} s" for group, seconds in totals.items()]


def stage_two_days(out: Path, persons: int, seed: int) -> dict:
    """A two-day set (generated once), day 1 and day 2 each through `dancu run`, then scored."""
    from benchmarks.two_day import run_two_days, two_day_scores
    from dancu.generate import generate

    if not (out / "truth").is_dir():
        generate(persons=persons, seed=seed, out=out, two_days=True)
    return two_day_scores(run_two_days(out, out / "runs", log_level="ERROR"))


STAGES = {
    "generate": stage_generate,
    "ingest": stage_ingest,
    "standardize": stage_standardize,
    "pipeline": stage_pipeline,
    "two_days": stage_two_days,
    "whole_run": stage_whole_run,
}


def measure(name: str, out: Path, persons: int, seed: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.run", "--stage", name, "--persons", str(persons)]
    command += ["--seed", str(seed), "--out", str(out)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def generated(persons: int, seed: int) -> Path:
    out = BENCH_DIR / f"persons-{persons}-seed-{seed}"
    if not (out / "truth").is_dir():
        figures = measure("generate", out, persons, seed)
        print(line("generate", figures))
    return out


def line(stage: str, figures: dict) -> str:
    rows = figures.get("rows")
    counted = f"{rows:>11,} rows {rows / figures['seconds']:>9,.0f} rows/s" if rows else " " * 28
    peak, cpu = figures["peak_rss_mib"], figures["cpu_seconds"]
    seconds = figures["seconds"]
    return f"{stage:<12} {counted} {seconds:8.1f} s  cpu {cpu:7.1f} s  peak {peak:>6,.0f} MiB"


def share(part: float, of: int) -> str:
    return f"{part:.2%} of {of:,}" if of else "none to judge"


def quality_lines(q: dict) -> list[str]:
    lines = [
        f"invalid rows caught          {q['invalid_caught']:,} of {q['invalid_rows']:,}",
        f"valid rows quarantined       {q['valid_quarantined']:,} of {q['valid_rows']:,}",
    ]
    for field in ("name", "national_id", "birth_date"):
        kept = share(q[f"{field}_clean_kept"], q[f"{field}_clean_kept_n"])
        restored = share(q[f"{field}_repairable_restored"], q[f"{field}_repairable_restored_n"])
        lines.append(
            f"{field:<12} clean values kept {kept}; repairable corruptions restored {restored}"
        )
    wards = share(q["ward_current"], q["ward_current_n"])
    before = share(q["ward_current_before_reform"], q["ward_current_before_reform_n"])
    lines.append(f"current ward right           {wards} dan_cu rows ({before} before the reform)")
    lines.append(
        f"deaths linked to the right person {q['deaths_linked_right']:,} of "
        f"{q['deaths_registered']:,} ({q['deaths_unlinked']} unlinked); deceased precision "
        f"{q['deceased_precision']:.4f}, recall {q['deceased_recall']:.4f}"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--stage", choices=STAGES)
    args = parser.parse_args()
    if args.stage:
        figures = with_peak(lambda: STAGES[args.stage](args.out, args.persons, args.seed))
        print(json.dumps({**figures, "cpu_seconds": cpu_seconds()}))
        return

    print(f"# speed and memory, {args.persons:,} persons (seed {args.seed})")
    big = generated(args.persons, args.seed)
    for stage in ("ingest", "standardize"):
        print(line(stage, measure(stage, big, args.persons, args.seed)))
    whole = measure("whole_run", big, args.persons, args.seed)
    print(line("dancu run", whole))
    print("\n".join(step_lines(whole["steps"])))

    print(f"\n# quality on the {SAMPLE_PERSONS:,}-person sample, against its ground truth")
    sample = generated(SAMPLE_PERSONS, args.seed)
    figures = measure("pipeline", sample, SAMPLE_PERSONS, args.seed)
    print(line("whole run", figures))
    for text in quality_lines(figures):
        print(f"  {text}")

    print(f"\n# the {SAMPLE_PERSONS:,}-person sample in two days: day 1, day 2 added, run again")
    from benchmarks.two_day import two_day_lines

    two_days = BENCH_DIR / f"two-days-{SAMPLE_PERSONS}-seed-{args.seed}"
    for text in two_day_lines(measure("two_days", two_days, SAMPLE_PERSONS, args.seed)):
        print(f"  {text}")


if __name__ == "__main__":
    main()
