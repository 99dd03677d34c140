"""How right `source_correction` is, scored against the generator's ground truth.

    python -m benchmarks.corrections SAMPLE DATA [--recompute]

SAMPLE is a generated set, DATA the data folder `dancu run` wrote from it. With `--recompute`
the corrections are found again from DATA's staged frames by the library as it is now (and
timed), rather than read from the warehouse: a change to `dancu.corrections` is scored without
running the pipeline again. The truth of a
record is the true value of the person it describes (`truth/records.parquet` names the person
of each delivered row, `truth/persons.parquet` holds the person's values; a row's own
`true_national_id` is what that row should have said, an old CMND in an insurance record's
CCCD/CMND column, nothing on a child's). A reported correction is right when its register
value is that truth (a register year, when it is the true date's year). Per field, and per
source told, the agencies (every source but the register itself) together and all:

- corrections (a delivered value that is wrong): precision, and recall over every accepted,
  resolved record whose delivered value is wrong (not merely less precise);
- completions (`completion`, `malformed`, `year_only`: the delivered value was empty or less
  precise): precision and recall the same way.

Targets (issue 14), for the agencies: ids precision >= 0.99 and recall >= 0.95; birth dates
precision >= 0.98. The register's own records are corrected only where it holds a person twice:
a typo in its only record is the register's value, and nobody's to correct.
"""

import argparse
import json
import time
from pathlib import Path

import duckdb
import polars as pl

from dancu.contract import EVENT_SOURCES, PERSON_SOURCES, RECORD_ID, SOURCE
from dancu.corrections import FIELDS, event_witnesses, find_corrections, value_of
from dancu.paths import Paths
from dancu.rules import accepted

COMPLETIONS = ("completion", "malformed", "year_only")
TRUE_SEX = {"Nam": "M", "Nữ": "F"}
AGENCIES = "agencies"  # every source but the register, dan_cu
TARGETS = {
    ("national_id", "corrections", "precision"): 0.99,
    ("national_id", "corrections", "recall"): 0.95,
    ("birth_date", "corrections", "precision"): 0.98,
}


def true_values(sample: Path) -> pl.DataFrame:
    """Each latest delivered row of a person source with the true value of its person per
    field, written as `dancu.corrections.value_of` writes values."""
    rows = pl.read_parquet(sample / "truth" / "records.parquet").filter(
        pl.col(SOURCE).is_in(PERSON_SOURCES) & pl.col("is_latest")
    )
    persons = pl.read_parquet(sample / "truth" / "persons.parquet").select(
        "person_key",
        "national_id",
        pl.coalesce(
            pl.col("birth_date").dt.strftime("%Y-%m-%d"), pl.col("birth_year").cast(pl.String)
        ).alias("birth_date"),
        "full_name",
        pl.col("sex").replace(TRUE_SEX),
    )
    return (
        rows.select(SOURCE, RECORD_ID, "person_key")
        .join(persons, on="person_key")
        .unpivot(
            on=FIELDS, index=[SOURCE, RECORD_ID], variable_name="field", value_name="true_value"
        )
    )


def _says_no_more(value: pl.Expr, truth: pl.Expr) -> pl.Expr:
    """The value is the truth, or the truth's year where only the year is written."""
    return (value == truth) | ((value.str.len_chars() == 4) & truth.str.starts_with(value + "-"))


def staged_frames(data: Path, sources: tuple[str, ...]) -> dict[str, pl.LazyFrame]:
    """The standardised frames of `sources` that the run staged (a run older than a source has
    none of it)."""
    staged = Paths.of(data).staging_dir
    paths = {source: staged / f"std_{source}.parquet" for source in sources}
    return {source: pl.scan_parquet(path) for source, path in paths.items() if path.exists()}


def published(data: Path) -> pl.DataFrame:
    """The corrections the run published."""
    with duckdb.connect(str(Paths.of(data).warehouse), read_only=True) as con:
        return con.sql("select * from source_correction").pl()


def recomputed(data: Path) -> tuple[pl.DataFrame, float, float]:
    """The corrections the library finds now from the run's staged frames, and the wall and
    CPU seconds it took (reading the staged files apart)."""
    staged = Paths.of(data).staging_dir
    frame = {name: pl.read_parquet(staged / f"{name}.parquet") for name in
             ("person_source", "person", "review_queue", "event_party")}  # fmt: skip
    std = staged_frames(data, (*PERSON_SOURCES, *EVENT_SOURCES))
    wall, cpu = time.perf_counter(), time.process_time()
    events = event_witnesses(
        frame["person"], frame["event_party"], {s: std[s] for s in EVENT_SOURCES if s in std}
    )
    found = find_corrections(
        frame["person_source"],
        frame["person"],
        {s: std[s] for s in PERSON_SOURCES if s in std},
        frame["review_queue"],
        events,
    )
    return found.table, time.perf_counter() - wall, time.process_time() - cpu


def scored(sample: Path, data: Path, reported: pl.DataFrame) -> pl.DataFrame:
    """Per field, class (corrections, completions) and source told (and the agencies, and
    all): reported (the corrections `reported`), right, to find, found, precision and recall."""
    paths = Paths.of(data)
    resolved = pl.read_parquet(paths.staging_dir / "person_source.parquet").select(
        SOURCE, RECORD_ID
    )
    delivered = pl.concat(
        accepted(frame)
        .select(SOURCE, RECORD_ID, *(value_of(field).alias(field) for field in FIELDS))
        .collect()
        for frame in staged_frames(data, PERSON_SOURCES).values()
    ).unpivot(
        on=FIELDS, index=[SOURCE, RECORD_ID], variable_name="field", value_name="delivered_value"
    )
    truth = true_values(sample)
    rows = (
        delivered.join(resolved, on=[SOURCE, RECORD_ID])
        .join(truth, on=[SOURCE, RECORD_ID, "field"])
        .filter(pl.col("true_value").is_not_null())
    )
    d, t = pl.col("delivered_value"), pl.col("true_value")
    owed = rows.with_columns(
        pl.when(d.is_null() | ((d.str.len_chars() == 4) & t.str.starts_with(d + "-")))
        .then(pl.lit("completions"))
        .when(d != t)
        .then(pl.lit("corrections"))
        .alias("class")
    ).filter(pl.col("class").is_not_null())
    answered = reported.join(truth, on=[SOURCE, RECORD_ID, "field"], how="left").with_columns(
        pl.when(pl.col("kind").is_in(COMPLETIONS))
        .then(pl.lit("completions"))
        .otherwise(pl.lit("corrections"))
        .alias("class"),
        _says_no_more(pl.col("register_value"), t).fill_null(False).alias("right"),
    )
    key = [SOURCE, RECORD_ID, "field"]
    found = owed.join(answered.filter("right").select(key), on=key, how="semi")
    per_class = ["field", "class", SOURCE]
    counts = (
        answered.group_by(per_class)
        .agg(pl.len().alias("reported"), pl.col("right").sum().alias("right"))
        .join(owed.group_by(per_class).len("to_find"), on=per_class, how="full", coalesce=True)
        .join(found.group_by(per_class).len("found"), on=per_class, how="left")
        .fill_null(0)
    )
    groups = {AGENCIES: counts.filter(pl.col(SOURCE) != "dan_cu"), "all": counts}
    totals = [
        frame.group_by("field", "class")
        .agg(pl.col("reported", "right", "to_find", "found").sum())
        .with_columns(pl.lit(name).alias(SOURCE))
        for name, frame in groups.items()
    ]
    return (
        pl.concat([counts, *totals], how="diagonal_relaxed")
        .with_columns(
            (pl.col("right") / pl.col("reported")).round(4).alias("precision"),
            (pl.col("found") / pl.col("to_find")).round(4).alias("recall"),
        )
        .sort(per_class)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sample", type=Path, help="the generated set (with truth/)")
    parser.add_argument("data", type=Path, help="the data folder `dancu run` wrote")
    parser.add_argument(
        "--recompute", action="store_true", help="find the corrections again from staging"
    )
    args = parser.parse_args()
    if args.recompute:
        reported, wall, cpu = recomputed(args.data)
        print(f"corrections found again in {wall:.2f} s ({cpu:.2f} s of CPU)")
    else:
        reported = published(args.data)
    scores = scored(args.sample, args.data, reported)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True):
        print(scores)
    results = {}
    for (field, kind, measure), target in TARGETS.items():
        row = scores.filter(field=field, source=AGENCIES, **{"class": kind})
        value = row[measure].item() if row.height else None
        results[f"{field} {kind} {measure}"] = {"value": value, "target": target}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
