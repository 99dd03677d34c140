"""Two days of extracts through `dancu run`, scored against the generator's final truth.

A two-day set (`dancu generate --two-days`) runs as an installation would see it: day 1's files
land and `dancu run` publishes a warehouse; day 2's files are added to the same landing folder
and a second run, with the same data folder, publishes the final one. Scores: each death linked
to the right person (or left unmatched with a reason), deceased precision and recall, marital
status against the truth, and how many persons none of whose records came on day 2 got another
person id from the second run.
"""

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.quality import death_links, deceased_scores, life_scores, person_keys
from dancu.codes import MARITAL_STATUS
from dancu.generate import DAY_TWO
from dancu.paths import Paths

ROOT = Path(__file__).resolve().parent.parent
DAY_ONE_SOURCES = "day1_person_source.parquet"


@dataclass(frozen=True)
class TwoDays:
    """Where the two runs of a two-day set wrote, and how long each took."""

    sample: Path  # the generated set: landing (day 1), day2, truth (final state)
    work: Path  # landing (both days once day 2 came), data, the day-1 person_source, logs
    seconds: tuple[float, float]

    @property
    def landing(self) -> Path:
        return self.work / "landing"

    @property
    def data(self) -> Path:
        return self.work / "data"

    @property
    def warehouse(self) -> Path:
        return Paths.of(self.data).warehouse


def run_two_days(sample: Path, work: Path, log_level: str = "WARNING") -> TwoDays:
    """Run day 1, keep its published person_source, add day 2's files and run again.

    The runs read `work/landing`, a copy, so the generated set stays as it was; `work` is
    replaced."""
    shutil.rmtree(work, ignore_errors=True)
    landing, data = work / "landing", work / "data"
    shutil.copytree(sample / "landing", landing)
    day_1 = _dancu_run(landing, data, log_level, work / "day1.log")
    published_person_source(Paths.of(data).warehouse).write_parquet(work / DAY_ONE_SOURCES)
    shutil.copytree(sample / DAY_TWO, landing, dirs_exist_ok=True)
    day_2 = _dancu_run(landing, data, log_level, work / "day2.log")
    return TwoDays(sample, work, (day_1, day_2))


def _dancu_run(landing: Path, data: Path, log_level: str, log: Path) -> float:
    """`dancu run` in its own process, as a data engineer starts it; its seconds."""
    # The data folder's own Dagster instance, not whichever one the caller's shell points at.
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    command = [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(landing),
               "--data", str(data), "--log-level", log_level]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    seconds = time.perf_counter() - started
    log.write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode:
        raise RuntimeError(f"dancu run failed ({log}): {done.stderr[-2000:]}")
    return seconds


def published_person_source(warehouse: Path) -> pl.DataFrame:
    """Each accepted person record (source, record id) and the person id it is published under."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql("select source, source_record_id, person_id from person_source").pl()


def records_by_day(sample: Path) -> pl.DataFrame:
    """The truth's data rows, each with the day its file arrives."""
    truth = sample / "truth"
    files = pl.read_parquet(truth / "files.parquet").select("file_name", "day")
    return pl.read_parquet(truth / "records.parquet").join(files, on="file_name")


def unchanged_persons(records: pl.DataFrame) -> pl.DataFrame:
    """The true persons (`person_key`) none of whose records arrive on day 2."""
    return (
        records.filter(pl.col("person_key").is_not_null())
        .group_by("person_key")
        .agg(pl.col("day").max())
        .filter(pl.col("day") == 1)
        .select("person_key")
    )


def id_changes(run: TwoDays) -> pl.DataFrame:
    """Per unchanged person with a record published on day 1: whether any such record has
    another person id (or none) after day 2."""
    key = ["source", "source_record_id"]
    records = records_by_day(run.sample)
    unchanged = records.join(unchanged_persons(records), on="person_key")
    # A student or request that matched no one had no person to keep.
    before = pl.read_parquet(run.work / DAY_ONE_SOURCES).drop_nulls("person_id")
    after = published_person_source(run.warehouse).rename({"person_id": "person_id_after"})
    compared = (
        before.join(unchanged.select(*key, "person_key").unique(key), on=key)
        .join(after, on=key, how="left")
        .with_columns(changed=(pl.col("person_id") != pl.col("person_id_after")).fill_null(True))
    )
    return compared.group_by("person_key").agg(pl.col("changed").any())


def final_keys(run: TwoDays) -> pl.DataFrame:
    """`person_keys` of the final warehouse: each person id's true person."""
    return person_keys(pl.read_parquet(run.sample / "truth" / "records.parquet"), run.data)


def death_outcomes(links: pl.DataFrame) -> pl.DataFrame:
    """`death_links`, each with its outcome: `right` (linked to the person registered dead),
    `unmatched` (no person, with a reason) or `wrong`."""
    right = pl.col("person_id").is_not_null() & (pl.col("person_key") == pl.col("true_key"))
    unmatched = pl.col("person_id").is_null() & pl.col("unmatched_reason").is_not_null()
    outcome = pl.when(right).then(pl.lit("right")).when(unmatched).then(pl.lit("unmatched"))
    return links.with_columns(outcome=outcome.otherwise(pl.lit("wrong")))


def marital_outcomes(run: TwoDays, keys: pl.DataFrame) -> pl.DataFrame:
    """Each published person with a marital status: `right` (the true person's status at the
    end of day 2) and `marital_status_source` (the register, or a registered marriage)."""
    by_label = {label: code for code, labels in MARITAL_STATUS.items() for label in labels}
    truth = pl.read_parquet(run.sample / "truth" / "persons.parquet").select(
        "person_key", pl.col("marital_status").replace_strict(by_label).alias("true_status")
    )
    with duckdb.connect(str(run.warehouse), read_only=True) as con:
        published = con.sql(
            "select person_id, marital_status, marital_status_source from person "
            "where marital_status is not null"
        ).pl()
    return (
        published.join(keys, on="person_id")
        .join(truth, on="person_key")
        .select(
            "marital_status_source",
            (pl.col("marital_status") == pl.col("true_status")).alias("right"),
        )
    )


def two_day_scores(run: TwoDays) -> dict[str, float | int]:
    """The final warehouse against the final truth, and the runs' seconds.

    `deceased_recall` is `life_scores`' (over every death registered, an invalid registration's
    too); `deceased_recall_accepted` counts only deaths whose registration was accepted, the
    ones the register could know of."""
    keys = final_keys(run)
    links = death_links(run.sample, run.data, keys)
    deaths = death_outcomes(links)["outcome"]
    life = life_scores(run.sample, run.data)
    accepted = deceased_scores(run.sample, run.data, keys, links["true_key"])
    changes = id_changes(run)
    marital = marital_outcomes(run, keys)
    by_marriage = marital.filter(pl.col("marital_status_source") == "ket_hon")
    return {
        "day_1_seconds": run.seconds[0],
        "day_2_seconds": run.seconds[1],
        "deaths_registered": deaths.len(),
        **{f"deaths_{o}": int((deaths == o).sum()) for o in ("right", "unmatched", "wrong")},
        "deceased_precision": life["deceased_precision"],
        "deceased_recall": life["deceased_recall"],
        "deceased_recall_accepted": accepted["deceased_recall"],
        "unchanged_persons": changes.height,
        "unchanged_persons_id_changed": int(changes["changed"].sum()),
        "marital_status_judged": marital.height,
        "marital_status_right": int(marital["right"].sum()),
        "marital_status_by_marriage": by_marriage.height,
        "marital_status_by_marriage_right": int(by_marriage["right"].sum()),
    }


def two_day_lines(scores: dict) -> list[str]:
    return [
        f"day 1 run {scores['day_1_seconds']:.1f} s, day 2 run {scores['day_2_seconds']:.1f} s",
        f"deaths registered {scores['deaths_registered']:,}: linked to the right person "
        f"{scores['deaths_right']:,}, unmatched with a reason {scores['deaths_unmatched']:,}, "
        f"wrong {scores['deaths_wrong']:,}",
        f"deceased precision {scores['deceased_precision']:.4f}, recall "
        f"{scores['deceased_recall']:.4f} ({scores['deceased_recall_accepted']:.4f} of deaths "
        "whose registration was accepted)",
        f"unchanged persons whose id changed {scores['unchanged_persons_id_changed']:,} of "
        f"{scores['unchanged_persons']:,}",
        f"marital status right {scores['marital_status_right']:,} of "
        f"{scores['marital_status_judged']:,} persons "
        f"({scores['marital_status_by_marriage_right']:,} of "
        f"{scores['marital_status_by_marriage']:,} set by a registered marriage)",
    ]
