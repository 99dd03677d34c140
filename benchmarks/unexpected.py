"""Errors the generator does not make, through the whole pipeline, beside Splink 5.

Resolution tuned on our own generator's errors can fail on errors it never saw. This benchmark
takes a generated noisy set (`benchmarks.noisy`'s, default noise), writes some of its insurance
and health records as offices we did not model write them, runs `dancu run` and Splink on the
result and scores both, overall and on the true pairs that touch each kind:

- `birth_date:first_of_january`: 1 January for the day and month (a form that wants a day
  nobody knew);
- `full_name:space_inside_word`: a space typed inside one word of the name ("Ngu yễn Văn An"),
  as FEBRL's errors have it;
- `full_name:words_run_together`: the last two words without the space between them
  ("Nguyễn VănAn"), as systems that strip diacritics and spaces leave names.

Each kind is drawn for `--share` of the records (5% by default), a record carrying at most one;
only Parquet and UTF-8 CSV files are rewritten (XLSX, legacy-encoded files, CSVs with a title
above the header and files cut short stay as they are). The set is copied to
`bench-data/unexpected-<persons>-seed-<seed>/` first.

`python -m benchmarks.unexpected [--persons 20000] [--seed 101] [--share 0.05]`
"""

import argparse
import csv
import io
import random
import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

from benchmarks.noisy import (
    KEY,
    judged_records,
    kind_lines,
    per_kind,
    set_dir,
    stage_generate,
    stage_splink,
)
from benchmarks.resolution import pairwise, run_dancu
from benchmarks.run import BENCH_DIR
from dancu.contract import RECORD_ID, SOURCES
from dancu.text import fold_label

SOURCES_WRITTEN = ("bhxh", "y_te")
_DAY_MONTH_YEAR = re.compile(r"^\s*\d{1,2}[/.\-]\d{1,2}[/.\-](\d{4})\s*$")
_YEAR_MONTH_DAY = re.compile(r"^\s*(\d{4})-\d{1,2}-\d{1,2}")


def first_of_january(value: str | date | None, rng: random.Random) -> str | date | None:
    """The date's year with 1 January, in the form it was written; as it was when it holds no
    day (a bare year, a date no pattern reads)."""
    if isinstance(value, date):
        return date(value.year, 1, 1)
    if value is None:
        return None
    if found := _DAY_MONTH_YEAR.match(value):
        return f"01/01/{found.group(1)}"
    if found := _YEAR_MONTH_DAY.match(value):
        return f"{found.group(1)}-01-01"
    return value


def space_inside_word(name: str | None, rng: random.Random) -> str | None:
    """A space typed inside the name's longest word, where it has four letters or more."""
    words = (name or "").split(" ")
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) < 4:
        return name
    at = rng.randrange(2, len(word) - 1)
    words[longest] = f"{word[:at]} {word[at:]}"
    return " ".join(words)


def words_run_together(name: str | None, rng: random.Random) -> str | None:
    """The name's last two words without the space between them."""
    words = (name or "").split()
    if len(words) < 3:
        return name
    return " ".join([*words[:-2], words[-2] + words[-1]])


KINDS: dict[str, tuple[str, Callable]] = {
    "birth_date:first_of_january": ("birth_date", first_of_january),
    "full_name:space_inside_word": ("full_name", space_inside_word),
    "full_name:words_run_together": ("full_name", words_run_together),
}


def header_of(columns: list[str], source: str, name: str) -> str | None:
    """Which of a file's headers is the contract column `name` of `source`."""
    column = next(c for c in SOURCES[source].columns if c.name == name)
    labels = {fold_label(label) for label in (column.label, *column.aliases)}
    return next((h for h in columns if fold_label(h) in labels), None)


def rewritten(
    rows: list[dict], source: str, share: float, rng: random.Random
) -> tuple[list[dict], list[tuple[str, str, str]]]:
    """`rows` (header -> value) with each kind drawn for `share` of them, and what was written:
    (source, record id, kind) of each row a kind changed."""
    headers = list(rows[0]) if rows else []
    record_id = header_of(headers, source, RECORD_ID)
    changed = []
    for row in rows:
        draw = rng.random()
        kind = next((k for i, k in enumerate(KINDS) if draw < share * (i + 1)), None)
        if kind is None:
            continue
        field, write = KINDS[kind]
        header = header_of(headers, source, field)
        if header is None:
            continue
        new = write(row[header], rng)
        if new != row[header]:
            row[header] = new
            changed.append((source, str(row[record_id]).strip(), kind))
    return rows, changed


def rewrite_landing(landing: Path, share: float, seed: int) -> pl.DataFrame:
    """Rewrite the insurance and health files of `landing` in place; what was written where
    (`source`, `source_record_id`, `kind`)."""
    rng = random.Random(seed)
    written = []
    for source in SOURCES_WRITTEN:
        for path in sorted((landing / source).iterdir()):
            if path.suffix == ".parquet":
                frame = pl.read_parquet(path)
                rows, changed = rewritten(frame.rows(named=True), source, share, rng)
                pl.DataFrame(rows, schema=frame.schema, orient="row").write_parquet(path)
            elif path.suffix == ".csv":
                try:
                    text = path.read_bytes().decode("utf-8-sig")
                except UnicodeDecodeError:
                    continue
                first = text.split("\n", 1)[0]
                separator = ";" if first.count(";") > first.count(",") else ","
                reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=separator)
                # A title above the header, or a file cut short: left as delivered.
                titled = header_of(reader.fieldnames or [], source, RECORD_ID) is None
                if titled or not text.endswith("\n"):
                    continue
                rows, changed = rewritten(list(reader), source, share, rng)
                buffer = io.StringIO()
                writer = csv.DictWriter(
                    buffer, reader.fieldnames or [], delimiter=separator, lineterminator="\r\n"
                )
                writer.writeheader()
                writer.writerows(rows)
                path.write_text(buffer.getvalue(), encoding="utf-8")
            else:
                continue
            written += changed
    return pl.DataFrame(written, schema=[*KEY, "kind"], orient="row").unique(KEY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--share", type=float, default=0.05, help="of records, for each kind")
    args = parser.parse_args()

    generated = set_dir(args.persons, args.seed, None)
    if not (generated / "truth").is_dir():
        stage_generate(generated, args.persons, args.seed, None)
    out = BENCH_DIR / f"unexpected-{args.persons}-seed-{args.seed}"
    shutil.rmtree(out, ignore_errors=True)
    for part in ("landing", "truth"):
        shutil.copytree(generated / part, out / part)
    written = rewrite_landing(out / "landing", args.share, args.seed)
    counts = written.group_by("kind").len().sort("kind")
    print(f"# {args.persons:,} persons, seed {args.seed}: records rewritten per kind")
    for kind, records in counts.iter_rows():
        print(f"  {kind:<34} {records:,}")

    seconds = run_dancu(out / "landing", out / "run")
    stage_splink(out, args.persons, args.seed, None)
    records = judged_records(out, splink=True)
    records = records.join(written, on=KEY, how="left").with_columns(
        pl.when(pl.col("kind").is_not_null())
        .then(pl.col("corruptions").list.concat(pl.concat_list("kind")))
        .otherwise(pl.col("corruptions"))
        .alias("corruptions")
    )
    print(f"{'':<32} {'precision':>9} {'recall':>8} {'F1':>8}")
    for label, system in (("dancu, whole run", "dancu"), ("splink 5, same records", "splink")):
        figures = pairwise(records["person_key"], records[system])
        print(f"{label:<32} {figures['precision']:9.5f} {figures['recall']:8.5f} "
              f"{figures['f1']:8.5f}")  # fmt: skip
    print(f"(dancu run {seconds:.1f} s)\n")
    lines = kind_lines(per_kind(records))
    print(lines[0])
    for line in lines[1:]:
        if line.split(" ", 1)[0] in KINDS:
            print(line)


if __name__ == "__main__":
    main()
