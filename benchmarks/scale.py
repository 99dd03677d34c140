"""`make bench-scale`: how each stage of `dancu run` grows with the register, at 1, 2, 5 and 10
million persons by default (`--persons 20000 50000` for a quick look).

Each size is generated once (kept under bench-data/ like `benchmarks.run`'s sets) and run cold
in a fresh process with `DANCU_MEMORY_LIMIT` as the environment sets it. Per stage it reports
the wall time (the sum of its steps) and the peak memory (the largest of its steps' own peaks,
which each step writes into its outputs' metadata); per run the wall and CPU time and the
process's sampled peak. A run that fails is reported with the steps it finished.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.run import (
    STEP_GROUPS,
    ResidentPeak,
    cpu_seconds,
    generated,
    peak_rss_mib,
    stage_of,
    step_seconds,
)

SIZES = (1_000_000, 2_000_000, 5_000_000, 10_000_000)
SEED = 7


def step_figures(data: Path) -> dict[str, dict[str, float]]:
    """Per step of the latest run in the data folder's Dagster instance: its wall seconds and
    the peak memory (MiB) its outputs recorded."""
    import dagster as dg

    from pipelines.cli import dagster_home
    from pipelines.progress import PEAK_MEMORY

    figures = {
        step: {"seconds": seconds, "peak_mib": 0.0} for step, seconds in step_seconds(data).items()
    }
    dagster_home(data)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        for entry in instance.all_logs(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ):
            metadata = entry.dagster_event.event_specific_data.materialization.metadata
            if entry.step_key in figures and PEAK_MEMORY in metadata:
                step = figures[entry.step_key]
                step["peak_mib"] = max(step["peak_mib"], metadata[PEAK_MEMORY].value)
    return figures


def accuracy(out: Path, data: Path) -> dict[str, float]:
    """Pairwise precision, recall and F1 of the run's published persons against the truth, over
    every latest valid person record of the set (counted from cluster sizes: no sample)."""
    from benchmarks.noisy import judged_records
    from benchmarks.resolution import pairwise

    records = judged_records(out, splink=False, data=data)
    return pairwise(records["person_key"], records["dancu"])


def run_once(landing: Path, data: Path) -> dict:
    """`dancu run` cold on `landing` in this process, with its figures and accuracy."""
    from pipelines.cli import main

    shutil.rmtree(data, ignore_errors=True)
    sampled = ResidentPeak()
    sampled.start()
    started = time.perf_counter()
    code = main(["run", "--landing", str(landing), "--data", str(data), "--log-level", "ERROR"])
    figures = {
        "exit_code": code,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": cpu_seconds(),
        "peak_rss_mib": peak_rss_mib(sampled),
        "steps": step_figures(data),
    }
    return figures | ({} if code else {"accuracy": accuracy(landing.parent, data)})


def by_stage(steps: dict[str, dict[str, float]]) -> dict[str, tuple[float, float]]:
    """Per stage of STEP_GROUPS that ran: its seconds (summed) and peak MiB (the largest)."""
    stages: dict[str, tuple[float, float]] = {}
    for step, figures in steps.items():
        stage = stage_of(step)
        if stage:
            seconds, peak = stages.get(stage, (0.0, 0.0))
            stages[stage] = (seconds + figures["seconds"], max(peak, figures["peak_mib"]))
    return stages


def measured(persons: int, seed: int) -> dict:
    out = generated(persons, seed)
    command = [sys.executable, "-m", "benchmarks.scale", "--one", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ)
    if done.returncode:  # killed (out of memory) before it could report
        return {"exit_code": done.returncode, "seconds": 0.0, "cpu_seconds": 0.0,
                "peak_rss_mib": 0.0, "steps": step_figures(out / "scale-run")}  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: dict[int, dict]) -> list[str]:
    """A Markdown table: a row per stage, a column per size, `seconds s / peak GiB` in each."""
    sizes = list(results)
    header = "| stage | " + " | ".join(f"{n:,} persons" for n in sizes) + " |"
    lines = [header, "|---" * (len(sizes) + 1) + "|"]
    stages = {n: by_stage(r["steps"]) for n, r in results.items()}
    for stage in STEP_GROUPS:
        cells = [cell(*stages[n][stage]) if stage in stages[n] else "—" for n in sizes]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines.append("| whole run | " + " | ".join(whole_run(r) for r in results.values()) + " |")
    lines.append("| pairwise P / R | " + " | ".join(scored(r) for r in results.values()) + " |")
    return lines


def cell(seconds: float, peak_mib: float) -> str:
    """A stage's figures; steps that write no frame (the checks) record no peak."""
    peak = f" / {peak_mib / 1024:.1f} GiB" if peak_mib else ""
    return f"{seconds:,.0f} s{peak}"


def scored(result: dict) -> str:
    if "accuracy" not in result:
        return "—"
    return f"{result['accuracy']['precision']:.5f} / {result['accuracy']['recall']:.5f}"


def whole_run(result: dict) -> str:
    if result["exit_code"]:
        return f"failed (exit {result['exit_code']})"
    seconds, cpu, peak = result["seconds"], result["cpu_seconds"], result["peak_rss_mib"]
    return f"{seconds:,.0f} s (cpu {cpu:,.0f} s) / {peak / 1024:.1f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, nargs="+", default=SIZES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_once(args.one / "landing", args.one / "scale-run")))
        return
    results = {}
    for persons in args.persons:
        results[persons] = measured(persons, args.seed)
        print(f"{persons:,} persons done", flush=True)
    print(f"# dancu run per stage: wall seconds / peak memory (seed {args.seed}, "
          f"DANCU_MEMORY_LIMIT={os.environ.get('DANCU_MEMORY_LIMIT', 'default')})")  # fmt: skip
    print("\n".join(table(results)))


if __name__ == "__main__":
    main()
