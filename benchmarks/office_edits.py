"""Extracts as offices edit them, through the whole pipeline.

`python -m benchmarks.office_edits --persons 20000 --seed 303` generates one set twice, plain
and with `--office-edits` (`dancu.generate.styles.OFFICE_EDIT_SHARES`: a title above the
header, a workbook of several sheets after a sheet of instructions, two extracts joined into
one file, dates with a two-digit year or a midnight time, names and places typed in the new
tone placement, eleven-digit mobile numbers of before 2018, Excel's apostrophe before ids),
kept in `bench-data/office-<persons>-seed-<seed>/{plain,edited}`; runs `dancu run` on each; and
says what the edits changed in what was published.

The edits change how values are written, never what they say, so the published persons, links
and corrections should be the same. Expected differences: a joined file's second header is
quarantined (`row.repeats_header`); addresses are published as written; and a two-digit year
takes the century nearest its holder's id's birth year, else the latest that fits
(`parse.settle_century`), which no evidence makes right where the id's year digits or the
year itself were mistyped, or a date mistyped into the future has no id beside it.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.noisy import judged_records
from benchmarks.resolution import pairwise
from benchmarks.run import BENCH_DIR

KEY = ["source", "source_record_id"]
# What a person is across two runs, whose person ids differ: the records it holds.
MEMBERS = "string_agg(source || ':' || source_record_id, ' ' order by source, source_record_id)"
GOLDEN_FIELDS = ["national_id", "full_name", "birth_date", "sex", "residence_ward_code", "phone",
                 "address", "is_deceased", "marital_status"]  # fmt: skip
CORRECTION_FIELDS = [*KEY, "field", "kind", "delivered_value", "register_value"]


def published(data: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(data / "warehouse" / "dancu.duckdb"), read_only=True) as con:
        return con.sql(sql).pl()


def persons(data: Path) -> pl.DataFrame:
    """Each published person's golden fields, under `members`, the records it holds."""
    return published(
        data,
        f"select m.members, {', '.join(GOLDEN_FIELDS)} from person join (select person_id, "
        f"{MEMBERS} as members from person_source group by person_id) m using (person_id)",
    )


def quarantined(data: Path) -> pl.DataFrame:
    """Each quarantined row (a file rejected whole by its name) and its first rule."""
    return published(
        data,
        "select source, coalesce(source_record_id, file_name) as source_record_id,"
        " split_part(reasons[1], ':', 1) as rule from quarantine",
    )


def event_links(data: Path) -> pl.DataFrame:
    """Each civil event's parties and the records of the person each is linked to."""
    return published(
        data,
        f"select e.source, e.source_record_id, p.role, m.members from civil_event e"
        f" join event_party p using (event_id) left join (select person_id, {MEMBERS} as members"
        f" from person_source group by person_id) m using (person_id)",
    )


@dataclass(frozen=True)
class Changes:
    """What the office edits changed in a run's published tables."""

    persons: int  # published persons of the plain run
    persons_changed: int  # persons of the plain run whose records differ in the edited one
    persons_added: int  # persons of the edited run whose records differ in the plain one
    quarantined_only_edited: pl.DataFrame  # rule, rows
    quarantined_only_plain: pl.DataFrame  # rule, rows
    golden_differing: dict[str, int]  # field -> persons whose golden value differs
    corrections: int
    corrections_changed: int  # in one run's source_correction and not the other's
    links_changed: int  # civil-event parties linked to another person's records, or to none


def _unmatched(rows: pl.DataFrame, others: pl.DataFrame) -> int:
    """The rows of `rows` that `others` lacks, every column compared (nulls equal)."""
    return rows.join(others, on=rows.columns, how="anti", nulls_equal=True).height


def _rules(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.group_by("rule").len("rows").sort("rule")


def changes(plain: Path, edited: Path) -> Changes:
    """Compare the published tables of the run on the plain set (data folder `plain`) with those
    of the run on the edited one."""
    before, after = persons(plain), persons(edited)
    kept = before.join(after, on="members", suffix="_edited")
    differing = {
        field: kept.filter(pl.col(field).ne_missing(pl.col(f"{field}_edited"))).height
        for field in GOLDEN_FIELDS
    }
    quarantine = quarantined(plain), quarantined(edited)
    corrections = [
        published(run, f"select {', '.join(CORRECTION_FIELDS)} from source_correction")
        for run in (plain, edited)
    ]
    links = event_links(plain), event_links(edited)
    return Changes(
        persons=before.height,
        persons_changed=before.height - kept.height,
        persons_added=after.height - kept.height,
        quarantined_only_edited=_rules(quarantine[1].join(quarantine[0], on=KEY, how="anti")),
        quarantined_only_plain=_rules(quarantine[0].join(quarantine[1], on=KEY, how="anti")),
        golden_differing={field: n for field, n in differing.items() if n},
        corrections=corrections[0].height,
        corrections_changed=_unmatched(*corrections) + _unmatched(*reversed(corrections)),
        links_changed=_unmatched(*links),
    )


def run_apart(out: Path) -> float:
    """`dancu run` on OUT/landing into a fresh OUT/run, in a process of its own (a run's paths
    are read once per process), its output in OUT/run.log; the wall seconds."""
    shutil.rmtree(out / "run", ignore_errors=True)
    env = {**os.environ, "DAGSTER_HOME": str((out / "run" / "dagster").resolve())}
    command = [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(out / "landing"),
               "--data", str(out / "run"), "--log-level", "ERROR"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    (out / "run.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode:
        raise SystemExit(f"dancu run failed ({done.returncode}): see {out / 'run.log'}")
    return time.perf_counter() - started


def main() -> None:
    from dancu.generate import generate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=303)
    args = parser.parse_args()
    root = BENCH_DIR / f"office-{args.persons}-seed-{args.seed}"
    scores = {}
    for kind in ("plain", "edited"):
        out = root / kind
        if not (out / "truth" / "files.parquet").exists():
            generate(args.persons, args.seed, out, office_edits=kind == "edited")
        wall = run_apart(out)
        judged = judged_records(out, splink=False)
        scores[kind] = wall, pairwise(judged["person_key"], judged["dancu"])
    found = changes(root / "plain" / "run", root / "edited" / "run")
    files = pl.read_parquet(root / "edited" / "truth" / "files.parquet")
    edits = files.explode("office_edits")["office_edits"].drop_nulls().value_counts(sort=True)
    print(f"# office edits, {args.persons:,} persons, seed {args.seed}: {files.height} files")
    print(", ".join(f"{edit} {n}" for edit, n in edits.iter_rows()))
    print("| set | wall | precision | recall |\n| --- | ---: | ---: | ---: |")
    for kind, (wall, score) in scores.items():
        print(f"| {kind} | {wall:.0f} s | {score['precision']:.5f} | {score['recall']:.5f} |")
    print(
        f"persons: {found.persons:,}; {found.persons_changed} with other records in the edited "
        f"run, which has {found.persons_added} persons the plain run has not"
    )
    print(f"golden values that differ: {found.golden_differing}")
    print(f"quarantined in the edited run only: {found.quarantined_only_edited.rows()}")
    print(f"quarantined in the plain run only: {found.quarantined_only_plain.rows()}")
    print(f"corrections: {found.corrections:,}, {found.corrections_changed} differ")
    print(f"civil-event parties linked otherwise: {found.links_changed}")


if __name__ == "__main__":
    main()
