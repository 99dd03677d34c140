"""`make bench-scale`: how each stage of `dancu run` grows with the register, at 1, 2, 5 and 10
million persons by default (`--persons 20000 50000` for a quick look).

Each size is generated once (kept under bench-data/ like `benchmarks.run`'s sets) and run cold
in a fresh process with `DANCU_MEMORY_LIMIT` as the environment sets it. Per stage it reports
the wall time (the sum of its steps) and the peak memory (the largest of its steps' own peaks,
which each step writes into its outputs' metadata); per run the wall and CPU time and the
process's sampled peaks: resident memory, and what the process held of its own (resident
memory less the pages of the files it maps, which the system can drop). A run that fails is
reported with the steps it finished.

`--enforce` makes the limit the kernel's: each run goes into a memory cgroup of its own (v2, or
v1) limited to `DANCU_MEMORY_LIMIT`, without swap, so a run that holds more is killed and
reported so (this needs the right to make cgroups, as root in a container has).
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
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
from dancu.memory import memory_limit

SIZES = (1_000_000, 2_000_000, 5_000_000, 10_000_000)
SEED = 7


def step_figures(data: Path) -> dict[str, dict[str, float]]:
    """Per step of the latest run in the data folder's Dagster instance: its wall seconds and
    the peak memory (MiB) its outputs and checks recorded."""
    import dagster as dg

    from pipelines.cli import dagster_home
    from pipelines.progress import HELD_MEMORY, PEAK_MEMORY

    figures = {
        step: {"seconds": seconds, "peak_mib": 0.0, "held_mib": 0.0}
        for step, seconds in step_seconds(data).items()
    }
    dagster_home(data)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        outputs = {
            dg.DagsterEventType.ASSET_MATERIALIZATION,
            dg.DagsterEventType.ASSET_CHECK_EVALUATION,
        }
        for entry in instance.all_logs(run.run_id, of_type=outputs):
            data = entry.dagster_event.event_specific_data
            metadata = (
                data.materialization.metadata if hasattr(data, "materialization") else data.metadata
            )
            if entry.step_key in figures and PEAK_MEMORY in metadata:
                step = figures[entry.step_key]
                step["peak_mib"] = max(step["peak_mib"], metadata[PEAK_MEMORY].value)
                held = metadata.get(HELD_MEMORY)
                step["held_mib"] = max(step["held_mib"], held.value if held else 0.0)
    return figures


def accuracy(out: Path, data: Path) -> dict[str, float]:
    """Pairwise precision, recall and F1 of the run's published persons against the truth, over
    every latest valid person record of the set (counted from cluster sizes: no sample)."""
    from benchmarks.noisy import judged_records
    from benchmarks.resolution import pairwise

    records = judged_records(out, splink=False, data=data)
    return pairwise(records["person_key"], records["dancu"])


def run_once(landing: Path, data: Path) -> dict:
    """`dancu run` cold on `landing` in this process, with its figures."""
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
        "held_peak_mib": sampled.held_peak_bytes / 2**20,
        "steps": step_figures(data),
    }
    return figures


def by_stage(steps: dict[str, dict[str, float]]) -> dict[str, tuple[float, float, float]]:
    """Per stage of STEP_GROUPS that ran: its seconds (summed), peak and held peak MiB (the
    largest)."""
    stages: dict[str, tuple[float, float, float]] = {}
    for step, figures in steps.items():
        stage = stage_of(step)
        if stage:
            seconds, peak, held = stages.get(stage, (0.0, 0.0, 0.0))
            stages[stage] = (
                seconds + figures["seconds"],
                max(peak, figures["peak_mib"]),
                max(held, figures.get("held_mib", 0.0)),
            )
    return stages


def measured(persons: int, seed: int, enforce: bool) -> dict:
    out = generated(persons, seed)
    command = [sys.executable, "-m", "benchmarks.scale", "--one", str(out)]
    with memory_cgroup(memory_limit()) if enforce else contextlib.nullcontext() as group:
        join = (lambda: (group / "cgroup.procs").write_text(str(os.getpid()))) if group else None
        done = subprocess.run(command, capture_output=True, text=True, preexec_fn=join)
    if done.returncode:  # killed (out of memory) before it could report
        return {"exit_code": done.returncode, "seconds": 0.0, "cpu_seconds": 0.0,
                "peak_rss_mib": 0.0, "steps": step_figures(out / "scale-run")}  # fmt: skip
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    # Scored here, outside the run's limit: the truth of ten million persons is no part of it.
    return figures | (
        {} if figures["exit_code"] else {"accuracy": accuracy(out, out / "scale-run")}
    )


@contextlib.contextmanager
def memory_cgroup(limit: int) -> Iterator[Path]:
    """A memory cgroup of its own that holds at most `limit` bytes and cannot swap (v2 when the
    machine has it, else v1), removed afterwards."""
    name = f"dancu-bench-{os.getpid()}"
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        group = Path("/sys/fs/cgroup") / name
        limits = {"memory.max": limit, "memory.swap.max": 0}
    else:
        group = Path("/sys/fs/cgroup/memory") / name
        limits = {"memory.limit_in_bytes": limit, "memory.swappiness": 0}
    group.mkdir()
    try:
        for setting, value in limits.items():
            (group / setting).write_text(str(value))
        yield group
    finally:
        emptied(group)
        group.rmdir()


def emptied(group: Path) -> None:
    """Kills what is left in the cgroup: a run killed for memory leaves its children behind
    (Dagster's compute-log `tail` and poller), and a cgroup with processes cannot be removed."""
    for _ in range(50):
        left = (group / "cgroup.procs").read_text().split()
        if not left:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.1)


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


def cell(seconds: float, peak_mib: float, held_mib: float) -> str:
    """A stage's figures; steps that write no frame (the report, the review export) record no
    peak."""
    peak = f" / {peak_mib / 1024:.1f} GiB (held {held_mib / 1024:.1f})" if peak_mib else ""
    return f"{seconds:,.0f} s{peak}"


def scored(result: dict) -> str:
    if "accuracy" not in result:
        return "—"
    return f"{result['accuracy']['precision']:.5f} / {result['accuracy']['recall']:.5f}"


def whole_run(result: dict) -> str:
    if result["exit_code"]:
        return f"failed (exit {result['exit_code']})"
    seconds, cpu, peak = result["seconds"], result["cpu_seconds"], result["peak_rss_mib"]
    held = result["held_peak_mib"]
    return f"{seconds:,.0f} s (cpu {cpu:,.0f} s) / {peak / 1024:.1f} GiB (held {held / 1024:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, nargs="+", default=SIZES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--enforce", action="store_true", help="run each size in a memory cgroup of the limit"
    )
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_once(args.one / "landing", args.one / "scale-run")))
        return
    results = {}
    for persons in args.persons:
        results[persons] = measured(persons, args.seed, args.enforce)
        print(f"{persons:,} persons done", flush=True)
    print(f"# dancu run per stage: wall seconds / peak memory (seed {args.seed}, "
          f"DANCU_MEMORY_LIMIT={os.environ.get('DANCU_MEMORY_LIMIT', 'default')}"
          f"{', enforced by a cgroup' if args.enforce else ''})")  # fmt: skip
    print("\n".join(table(results)))


if __name__ == "__main__":
    main()
