"""Realistically noisy generated sets through the whole pipeline, beside Splink 5.

`python -m benchmarks.noisy --persons 20000 --seed 101 --noise 2`:

1. generates the set (kept in `bench-data/noisy-<persons>-seed-<seed>-noise-<noise>/` and reused
   while persons, seed and noise are the same: `--regenerate` after the generator changed),
   with `noise` when the generator takes it;
2. `dancu run` into a fresh data folder beside it (its output in `run.log`);
3. scores the published person partition against the truth: pairwise precision, recall and F1
   over the latest valid records of dan_cu, bhxh and y_te, a record the pipeline quarantined
   being a person of its own;
4. runs Splink 5 on the same standardised records (`staging/std_*.parquet`, accepted rows) with
   the model of `benchmarks.resolution.person_settings` (one-edit levels on the ids, term
   frequencies on names), scored the same way; above 100,000 persons only with `--splink`;
5. per kind of corruption in the truth's `corruptions` (`field:kind`): the true pairs one of
   whose records carries it, how many dancu and Splink split, and the pairs of two persons
   each merged where a record carries it; `(quarantined)` counts the pairs with a record the
   pipeline rejected, `(none)` the pairs with no corruption at all.

Generating, the run and Splink each run in a fresh process, so that their time and peak memory
are their own; scoring runs here, after them.
"""

import argparse
import inspect
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.resolution import (
    PERSON_SOURCES,
    output_to,
    pairwise,
    run_dancu,
    run_splink,
    splink_frame,
)
from benchmarks.run import BENCH_DIR, with_peak

SPLINK_UP_TO = 100_000  # persons; above, Splink runs only when asked
KEY = ["source", "source_record_id"]
QUARANTINED, CLEAN = "(quarantined)", "(none)"


def noise_taken() -> bool:
    """Whether `dancu.generate.generate` takes a `noise` rate (issue 14)."""
    from dancu.generate import generate

    return "noise" in inspect.signature(generate).parameters


def set_dir(persons: int, seed: int, noise: float | None) -> Path:
    level = "default" if noise is None else f"{noise:g}"
    return BENCH_DIR / f"noisy-{persons}-seed-{seed}-noise-{level}"


def stage_generate(out: Path, persons: int, seed: int, noise: float | None) -> dict:
    from dancu.generate import generate

    started = time.perf_counter()
    extra = {} if noise is None else {"noise": noise}
    summary = generate(persons=persons, seed=seed, out=out, **extra)
    return {"rows": sum(summary.rows.values()), "seconds": time.perf_counter() - started}


def stage_pipeline(out: Path, persons: int, seed: int, noise: float | None) -> dict:
    return {"seconds": run_dancu(out / "landing", out / "run")}


def stage_splink(out: Path, persons: int, seed: int, noise: float | None) -> dict:
    """Splink on the run's standardised person records; clusters to `splink_clusters.parquet`."""
    from dancu.paths import Paths
    from dancu.resolve import person_records

    staging = Paths.of(out / "run").staging_dir
    frames = {name: pl.scan_parquet(staging / f"std_{name}.parquet") for name in PERSON_SOURCES}
    records = person_records(frames).collect()
    frame = splink_frame(records)
    started = time.perf_counter()
    with output_to(out / "splink.log"):
        clusters = run_splink(frame)
    seconds = time.perf_counter() - started
    labelled = frame.select("unique_id", *(records[c] for c in KEY)).join(clusters, on="unique_id")
    labelled.select(*KEY, pl.col("cluster_id").cast(pl.String)).write_parquet(
        out / "splink_clusters.parquet"
    )
    return {"records": records.height, "seconds": seconds}


STAGES = {"generate": stage_generate, "pipeline": stage_pipeline, "splink": stage_splink}


def measure(stage: str, out: Path, args: argparse.Namespace) -> dict:
    command = [sys.executable, "-m", "benchmarks.noisy", "--stage", stage, "--out", str(out),
               "--persons", str(args.persons), "--seed", str(args.seed)]  # fmt: skip
    if args.noise is not None:
        command += ["--noise", str(args.noise)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"benchmarks.noisy: stage {stage} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def judged_records(out: Path, splink: bool, data: Path | None = None) -> pl.DataFrame:
    """Each latest valid person record of the truth, numbered `i`, with its `KEY`: its true person
    (`person_key`), its `corruptions`, whether the pipeline `quarantined` it, and its person in
    dancu's published `person_source` (`dancu`) and in Splink's clusters (`splink`), one of its
    own where it has none. Persons are numbered, so that pairs are joined on integers. `data`:
    the run's data folder (by default `out`/run)."""
    from dancu.paths import Paths

    truth = (
        pl.scan_parquet(out / "truth" / "records.parquet")
        .filter(
            pl.col("source").is_in(PERSON_SOURCES),
            pl.col("is_latest"),
            pl.col("invalid_reason").is_null(),
        )
        .select(*KEY, "person_key", "corruptions")
        .collect()
    )
    with duckdb.connect(str(Paths.of(data or out / "run").warehouse), read_only=True) as con:
        published = con.sql(f"select {', '.join(KEY)}, person_id from person_source").pl()
    judged = truth.select(*KEY, "person_key", "corruptions").join(
        published.rename({"person_id": "dancu"}), on=KEY, how="left"
    )
    if splink:
        clusters = pl.read_parquet(out / "splink_clusters.parquet")
        judged = judged.join(clusters.rename({"cluster_id": "splink"}), on=KEY, how="left")
    own = pl.format("unresolved:{}:{}", *KEY)
    labels = [c for c in ("person_key", "dancu", "splink") if c in judged.columns]
    return judged.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("i"),
        *KEY,
        *(pl.coalesce(c, own).rank("dense").cast(pl.UInt32).alias(c) for c in labels),
        "corruptions",
        pl.col("dancu").is_null().alias("quarantined"),
    )


def pairs_within(records: pl.DataFrame, label: str) -> pl.DataFrame:
    """Every pair (`i` < `j`) of records that share `label`."""
    sides = records.select("i", label)
    return (
        sides.join(sides, on=label, suffix="_r")
        .filter(pl.col("i") < pl.col("i_r"))
        .select("i", j="i_r")
    )


def record_kinds(records: pl.DataFrame) -> pl.DataFrame:
    """(`i`, `kind`): each kind of corruption a record carries, `(quarantined)` if rejected."""
    rejected = pl.when("quarantined").then(pl.lit(QUARANTINED))
    return (
        records.select("i", kind=pl.concat_list("corruptions", rejected))
        .explode("kind")
        .drop_nulls("kind")
    )


def count_per_kind(pairs: pl.DataFrame, kinds: pl.DataFrame, name: str) -> pl.DataFrame:
    """Per kind of corruption, the pairs (`i`, `j`, flags) either of whose records carries it
    (`name`) and the sum of each flag; `(none)` for the pairs where neither carries one."""
    numbered = pairs.with_row_index("pair")
    flags = numbered.drop("i", "j")
    sides = pl.concat([numbered.select("pair", i=side) for side in ("i", "j")])
    attributed = sides.join(kinds, on="i").select("pair", "kind").unique()
    clean = flags.join(attributed, on="pair", how="anti").with_columns(kind=pl.lit(CLEAN))
    return (
        pl.concat([attributed.join(flags, on="pair"), clean], how="diagonal")
        .group_by("kind")
        .agg(pl.len().alias(name), *(pl.col(c).sum() for c in flags.columns if c != "pair"))
    )


def per_kind(records: pl.DataFrame) -> pl.DataFrame:
    """Per kind of corruption: the true pairs one of whose records carries it, those dancu (and
    Splink) split, and the pairs of two persons dancu (and Splink) merged."""
    systems = [c for c in ("dancu", "splink") if c in records.columns]
    kinds = record_kinds(records)
    true = pairs_within(records, "person_key")
    for system in systems:
        labels = records.select("i", l=system)
        true = (
            true.join(labels, on="i")
            .join(labels.select(j="i", r="l"), on="j")
            .with_columns((pl.col("l") != pl.col("r")).alias(f"{system}_split"))
            .drop("l", "r")
        )
    counts = count_per_kind(true, kinds, "true_pairs")
    persons = records.select("i", "person_key")
    for system in systems:
        wrong = (
            pairs_within(records, system)
            .join(persons, on="i")
            .join(persons.select(j="i", other="person_key"), on="j")
            .filter(pl.col("person_key") != pl.col("other"))
            .select("i", "j")
        )
        merged = count_per_kind(wrong, kinds, f"{system}_false_links")
        counts = counts.join(merged, on="kind", how="full", coalesce=True)
    return counts.fill_null(0).sort(
        "dancu_split", "dancu_false_links", "true_pairs", descending=True
    )


def kind_lines(table: pl.DataFrame) -> list[str]:
    splink = "splink_split" in table.columns
    columns = ["true pairs", "dancu split", "recall"]
    columns += ["splink split", "recall"] if splink else []
    columns += ["dancu false", "splink false"] if splink else ["dancu false"]
    lines = [f"{'kind of corruption':<34}" + "".join(f" {c:>12}" for c in columns)]
    for row in table.iter_rows(named=True):
        n = row["true_pairs"]

        def recall(split: int, n: int = n) -> str:
            return f"{1 - split / n:12.4f}" if n else " " * 12

        cells = [f"{n:12,}", f"{row['dancu_split']:12,}", recall(row["dancu_split"])]
        if splink:
            cells += [f"{row['splink_split']:12,}", recall(row["splink_split"])]
        cells += [f"{row['dancu_false_links']:12,}"]
        if splink:
            cells += [f"{row['splink_false_links']:12,}"]
        lines.append(f"{row['kind']:<34} " + " ".join(cells))
    return lines


def figure_line(label: str, figures: dict, seconds: float, peak: float | None) -> str:
    memory = f" peak {peak:>7,.0f} MiB" if peak is not None else ""
    return (
        f"{label:<32} {figures['precision']:9.5f} {figures['recall']:8.5f} {figures['f1']:8.5f}"
        f" {seconds:8.1f} s{memory}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--noise", type=float, help="error rates × this (default: generator's)")
    parser.add_argument("--splink", action="store_true", help="Splink above 100,000 persons too")
    parser.add_argument("--no-splink", action="store_true", help="dancu alone")
    parser.add_argument("--regenerate", action="store_true", help="generate the set again")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        stage = STAGES[args.stage]
        print(json.dumps(with_peak(lambda: stage(args.out, args.persons, args.seed, args.noise))))
        return

    if args.noise is not None and not noise_taken():
        print("the generator takes no noise rate yet: generating at its default noise")
        args.noise = None
    out = set_dir(args.persons, args.seed, args.noise)
    noise = "default" if args.noise is None else f"{args.noise:g}"
    print(f"# {args.persons:,} persons, seed {args.seed}, noise {noise} ({out})")
    if args.regenerate or not (out / "truth").is_dir():
        generated = measure("generate", out, args)
        print(f"generated {generated['rows']:,} rows in {generated['seconds']:.1f} s")
    run = measure("pipeline", out, args)
    with_splink = not args.no_splink and (args.splink or args.persons <= SPLINK_UP_TO)
    splink = measure("splink", out, args) if with_splink else None
    records = judged_records(out, with_splink)

    print(f"{records.height:,} latest valid person records, {records['quarantined'].sum():,} "
          f"of them quarantined")  # fmt: skip
    print(f"{'':<32} {'precision':>9} {'recall':>8} {'F1':>8}")
    ours = pairwise(records["person_key"], records["dancu"])
    print(figure_line("dancu, whole run", ours, run["seconds"], run["peak_rss_mib"]))
    if splink:
        theirs = pairwise(records["person_key"], records["splink"])
        label = "splink 5 (duckdb), same records"
        print(figure_line(label, theirs, splink["seconds"], splink["peak_rss_mib"]))
    print()
    for line in kind_lines(per_kind(records)):
        print(line)


if __name__ == "__main__":
    main()
