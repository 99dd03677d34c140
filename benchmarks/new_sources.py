"""Schools, judicial requests and foreign elements through the whole pipeline, beside Splink 5.

`python -m benchmarks.new_sources --persons 20000 --seeds 303 404`, per seed:

1. generates the set (kept in `bench-data/new-sources-<persons>-seed-<seed>/`, reused while
   persons and seed are the same: `--regenerate` after the generator changed);
2. `dancu run` into a fresh data folder beside it, in a fresh process;
3. scores the published `person_source` and `event_party` against the truth:
   - students (`giao_duc`) and judicial requests (`ly_lich_tu_phap`) matched to their person:
     a record is matched where its person holds a register record (dan_cu, bhxh, y_te), and
     matched right where every such record is the record's true person's. Precision is right
     among matched, recall right among the records whose true person has a register record
     the run accepted; `outsiders matched` counts the records of persons with none that were
     matched all the same (it must be 0);
   - the match status the warehouse gives each student and request (`record_match`), per
     status: how many records, and for how many it is right: `matched` to the true person,
     the true person among the candidates a clerk is shown (`several_candidates`, `uncertain`,
     `conflicting_sex`), or truly outside the population register, with no dan_cu record the
     run accepted (`not_in_register`, `no_birth_registration`: a person insurance knows may
     still be unknown to the register);
   - foreign parties of births and marriages (a party whose true person holds a nationality
     other than VNM): pairwise F1 of the pairs of records (any source) that hold such a party;
   - nationality normalisation: every spelling the landing files hold in a `Quốc tịch` column,
     read as the codes of the truth (the nationalities of the record's true person);
4. runs Splink 5 on the same standardised person records (`benchmarks.resolution`'s model, as a
   competent user sets it up: blocking that needs no id, term frequencies on names, a one-edit
   level on the ids) with the parents' names as blocking keys that are not scored, and scores
   students and requests the same way.

`--in-process` resolves the standardised frames here instead of running the pipeline (the
resolution engine alone, for quick iterations); the figures the README reports come from the
whole run.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.resolution import (
    output_to,
    person_settings,
    run_dancu,
    run_splink,
    splink_frame,
)
from benchmarks.run import BENCH_DIR, with_peak

KEY = ["source", "source_record_id"]
REGISTER = ("dan_cu", "bhxh", "y_te")
STUDENTS, REQUESTS = "giao_duc", "ly_lich_tu_phap"
SPLINK_SOURCES = (*REGISTER, STUDENTS, REQUESTS)
FOREIGN_EVENTS = ("khai_sinh", "ket_hon")
ROLE_SEPARATOR = ":"


def set_dir(persons: int, seed: int) -> Path:
    return BENCH_DIR / f"new-sources-{persons}-seed-{seed}"


def truth_records(out: Path) -> pl.DataFrame:
    """`source`, `source_record_id`, `person_key` of every delivered record and party (a party's
    record id is its event's and its role, as `dancu.link.party_records` names it)."""
    truth = out / "truth"
    records = pl.read_parquet(truth / "records.parquet").filter(pl.col("is_latest"))
    parties = pl.read_parquet(truth / "event_parties.parquet").select(
        "source",
        pl.format("{}{}{}", "source_record_id", pl.lit(ROLE_SEPARATOR), "role").alias(
            "source_record_id"
        ),
        "person_key",
    )
    return pl.concat([records.select(*KEY, "person_key"), parties]).unique(KEY)


def labelled(resolved: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """`resolved` (`source`, `source_record_id`, `label`: its person, null for none) with the
    true `person_key`; a record without a person is a person of its own."""
    own = pl.format("none:{}:{}", *KEY)
    return resolved.join(truth, on=KEY, how="inner").with_columns(
        pl.coalesce("label", own).alias("label")
    )


def matched_to_person(records: pl.DataFrame, source: str) -> dict:
    """Per record of `source`: matched where its label holds a register record, right where
    every register record of its label is its true person's (see the module docstring)."""
    register = records.filter(pl.col("source").is_in(REGISTER))
    persons_of_label = register.group_by("label").agg(
        pl.col("person_key").unique().alias("register_persons")
    )
    in_register = register.select("person_key").unique().with_columns(in_register=pl.lit(True))
    judged = (
        records.filter(pl.col("source") == source)
        .join(persons_of_label, on="label", how="left")
        .join(in_register, on="person_key", how="left")
        .select(
            pl.col("in_register").fill_null(False),
            pl.col("register_persons").is_not_null().alias("matched"),
            (pl.col("register_persons") == pl.concat_list("person_key")).fill_null(False)
            .alias("right"),
        )
    )  # fmt: skip
    matched, right = int(judged["matched"].sum()), int(judged["right"].sum())
    in_reg = judged.filter("in_register")
    return {
        "records": judged.height,
        "in_register": in_reg.height,
        "precision": right / matched if matched else 1.0,
        "recall": int(in_reg["right"].sum()) / in_reg.height if in_reg.height else 1.0,
        "outsiders_matched": int(judged.filter(~pl.col("in_register"))["matched"].sum()),
    }


CANDIDATES_SHOWN = ("several_candidates", "uncertain", "conflicting_sex")


def match_statuses(records: pl.DataFrame, out: Path) -> dict:
    """Per source and match status of the run's `record_match`: records, and right (see the
    module docstring). `records`: every record `labelled` with its person."""
    from dancu.paths import Paths

    register = records.filter(pl.col("source").is_in(REGISTER))
    holds = register.group_by("label").agg(pl.col("person_key").unique().alias("holds"))
    in_register = (
        records.filter(pl.col("source") == "dan_cu")
        .select("person_key")
        .unique()
        .with_columns(in_register=pl.lit(True))
    )
    truth = records.select(*KEY, "person_key")
    with duckdb.connect(str(Paths.of(out / "run").warehouse), read_only=True) as con:
        statuses = con.sql("select * exclude (match_reason, candidates) from record_match").pl()
        candidates = con.sql("select * exclude (match_weight) from record_candidate").pl()
    is_theirs = pl.col("holds") == pl.concat_list("person_key")
    right_candidate = (
        candidates.join(truth, on=KEY)
        .join(holds, left_on="person_id", right_on="label")
        .filter(is_theirs)
        .select(KEY)
        .unique()
        .with_columns(among=pl.lit(True))
    )
    status = pl.col("match_status")
    judged = (
        statuses.join(truth, on=KEY, how="left")
        .join(holds, left_on="person_id", right_on="label", how="left")
        .join(in_register, on="person_key", how="left")
        .join(right_candidate, on=KEY, how="left")
        .with_columns(
            pl.when(status == "matched")
            .then(is_theirs)
            .when(status.is_in(CANDIDATES_SHOWN))
            .then(pl.col("among"))
            .otherwise(pl.col("in_register").is_null())
            .fill_null(False)
            .alias("right")
        )
    )
    counts = judged.group_by("source", "match_status").agg(
        pl.len().alias("records"), pl.col("right").sum()
    )
    return {
        kind: {row["match_status"]: {"records": row["records"], "right": row["right"]}
               for row in counts.filter(pl.col("source") == source).sort("match_status").to_dicts()}
        for kind, source in (("students", STUDENTS), ("requests", REQUESTS))
    }  # fmt: skip


def foreign_party_f1(records: pl.DataFrame, out: Path) -> dict:
    """Pairwise precision, recall and F1 over the pairs of records that hold a foreign party of
    a birth or a marriage (see the module docstring)."""
    foreign = (
        pl.read_parquet(out / "truth" / "nationalities.parquet")
        .filter(pl.col("nationality") != "VNM")
        .select("person_key")
        .unique()
    )
    parties = records.filter(
        pl.col("source").is_in(FOREIGN_EVENTS),
        pl.col("person_key").is_in(foreign["person_key"].implode()),
    ).select("source", "source_record_id", "label", "person_key")
    others = records.select(
        pl.col("source").alias("o_source"),
        pl.col("source_record_id").alias("o_id"),
        "label",
        pl.col("person_key").alias("o_person"),
    )

    def pairs(on: str, right_on: str) -> pl.DataFrame:
        joined = parties.join(others, left_on=on, right_on=right_on)
        mine = pl.format("{}|{}", "source", "source_record_id")
        theirs = pl.format("{}|{}", "o_source", "o_id")
        return (
            joined.filter(mine != theirs)
            .select(
                pl.when(mine < theirs)
                .then(pl.format("{}#{}", mine, theirs))
                .otherwise(pl.format("{}#{}", theirs, mine))
                .alias("pair")
            )
            .unique()
        )

    true, found = pairs("person_key", "o_person"), pairs("label", "label")
    both = true.join(found, on="pair").height
    precision = both / found.height if found.height else 1.0
    recall = both / true.height if true.height else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"parties": parties.height, "true_pairs": true.height, "found_pairs": found.height,
            "precision": precision, "recall": recall, "f1": f1}  # fmt: skip


def nationality_spellings(out: Path) -> dict:
    """Every distinct spelling of a `Quốc tịch` column in the landing files, and how many of
    them (and of their rows) read as a nationality of the record's true person."""
    from dancu.contract import SOURCES
    from dancu.ingest import read_source
    from dancu.nationality import nationalities

    truth = out / "truth"
    held = (
        pl.read_parquet(truth / "nationalities.parquet")
        .group_by("person_key")
        .agg(pl.col("nationality").alias("held"))
    )
    persons = truth_records(out)
    rows = []
    for name, source in SOURCES.items():
        columns = source.of_kind("nationality")
        if not columns:
            continue
        raw = read_source(out / "landing", source)[0]
        for column in columns:
            if column not in raw.columns:
                continue
            role = column.removesuffix("nationality").rstrip("_")
            record = pl.col("source_record_id")
            if name in FOREIGN_EVENTS and role:
                record = pl.format("{}{}{}", record, pl.lit(ROLE_SEPARATOR), pl.lit(role))
            elif name in FOREIGN_EVENTS:
                record = pl.format("{}{}child", record, pl.lit(ROLE_SEPARATOR))
            rows.append(
                raw.select(
                    pl.lit(name).alias("source"),
                    record.alias("source_record_id"),
                    pl.col(column).cast(pl.String).alias("written"),
                ).filter(pl.col("written").str.strip_chars().fill_null("") != "")
            )
    written = (
        pl.concat(rows)
        .with_columns(nationalities(pl.col("written")).alias("read"))
        .join(persons, on=KEY)
        .join(held, on="person_key")
        .with_columns(
            (
                (pl.col("read").list.len() > 0)
                & (pl.col("read").list.set_difference("held").list.len() == 0)
            ).alias("right")
        )
    )
    spellings = written.group_by("written").agg(pl.col("right").all())
    wrong = spellings.filter(~pl.col("right"))["written"].sort().to_list()
    return {"rows": written.height, "rows_right": int(written["right"].sum()),
            "spellings": spellings.height, "spellings_wrong": wrong}  # fmt: skip


def scores(resolved: pl.DataFrame, out: Path, parties: bool = True) -> dict:
    records = labelled(resolved, truth_records(out))
    figures = {
        "students": matched_to_person(records, STUDENTS),
        "requests": matched_to_person(records, REQUESTS),
    }
    if parties:
        figures["foreign_parties"] = foreign_party_f1(records, out)
    return figures


def published(out: Path) -> pl.DataFrame:
    """`source`, `source_record_id`, `label` of every record and party of the run's warehouse."""
    from dancu.paths import Paths

    query = f"""
        select source, source_record_id, person_id as label from person_source
        union all
        select e.source, e.source_record_id || '{ROLE_SEPARATOR}' || p.role, p.person_id
        from event_party p join civil_event e using (event_id)
    """
    with duckdb.connect(str(Paths.of(out / "run").warehouse), read_only=True) as con:
        return con.sql(query).pl()


def standardised_frames(out: Path) -> dict[str, pl.LazyFrame]:
    from dancu.contract import SOURCES
    from dancu.ingest import read_source
    from dancu.standardize import standardize

    return {
        name: standardize(read_source(out / "landing", source)[0].lazy(), source)
        for name, source in SOURCES.items()
    }


def stage_generate(out: Path, persons: int, seed: int) -> dict:
    from dancu.generate import generate

    started = time.perf_counter()
    summary = generate(persons=persons, seed=seed, out=out)
    return {"rows": sum(summary.rows.values()), "seconds": time.perf_counter() - started}


def stage_pipeline(out: Path, persons: int, seed: int) -> dict:
    seconds = run_dancu(out / "landing", out / "run")
    resolved = published(out)
    statuses = match_statuses(labelled(resolved, truth_records(out)), out)
    return {"seconds": seconds, **scores(resolved, out), "statuses": statuses}


def stage_in_process(out: Path, persons: int, seed: int) -> dict:
    """The resolution engine alone on the standardised frames, as `assets/resolve.py` feeds it."""
    from dancu.link import party_records
    from dancu.resolve import person_records, resolve

    frames = standardised_frames(out)
    records = pl.concat([person_records(frames), party_records(frames)]).collect()
    started = time.perf_counter()
    result = resolve(records)
    seconds = time.perf_counter() - started
    resolved = result.records.select(*KEY, pl.col("person_id").alias("label"))
    return {"seconds": seconds, "records": records.height, **scores(resolved, out)}


def stage_splink(out: Path, persons: int, seed: int) -> dict:
    """Splink on the standardised person records of the register, the schools and the
    requests (accepted rows), parents' names blocking but not scored."""
    from dancu.resolve import person_records
    from dancu.text import fold

    frames = standardised_frames(out)
    records = person_records({name: frames[name] for name in SPLINK_SOURCES}).collect()
    frame = splink_frame(records).with_columns(
        records.select(
            fold(pl.col("father_name")).alias("father_key"),
            fold(pl.col("mother_name")).alias("mother_key"),
        )
    )
    started = time.perf_counter()
    with output_to(out / "splink.log"):
        clusters = run_splink(frame, splink_settings())
    seconds = time.perf_counter() - started
    resolved = frame.select("unique_id", *(records[c] for c in KEY)).join(clusters, on="unique_id")
    labels = resolved.select(*KEY, pl.col("cluster_id").cast(pl.String).alias("label"))
    return {"seconds": seconds, **scores(labels, out, parties=False)}


def splink_settings():
    """`benchmarks.resolution.person_settings` with two more blocking rules that need no id:
    the parents' names with the birth year, which find a student whose own name or birth date
    was mistyped. Parents' names are not scored: a household shares them, and scoring them
    merges twins."""
    from splink import block_on

    settings = person_settings()
    settings.blocking_rules_to_generate_predictions = [
        *settings.blocking_rules_to_generate_predictions,
        block_on("father_key", "mother_key", "birth_year"),
        block_on("mother_key", "given", "sex"),
    ]
    return settings


STAGES = {
    "generate": stage_generate,
    "pipeline": stage_pipeline,
    "in_process": stage_in_process,
    "splink": stage_splink,
}


def measure(stage: str, out: Path, persons: int, seed: int) -> dict:
    command = [sys.executable, "-m", "benchmarks.new_sources", "--stage", stage,
               "--out", str(out), "--persons", str(persons), "--seeds", str(seed)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"benchmarks.new_sources: stage {stage} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def lines(label: str, figures: dict) -> list[str]:
    out = []
    for kind in ("students", "requests"):
        f = figures[kind]
        out.append(
            f"{label:<22} {kind:<9} P {f['precision']:.5f}  R {f['recall']:.5f}  "
            f"({f['in_register']:,} of {f['records']:,} in the register; "
            f"outsiders matched {f['outsiders_matched']})"
        )
    for kind, statuses in figures.get("statuses", {}).items():
        told = ", ".join(
            f"{status} {f['right']:,} of {f['records']:,} right" for status, f in statuses.items()
        )
        out.append(f"{label:<22} {kind:<9} match statuses: {told}")
    if "foreign_parties" in figures:
        f = figures["foreign_parties"]
        out.append(
            f"{label:<22} foreign parties of births and marriages: {f['parties']} parties, "
            f"P {f['precision']:.4f}  R {f['recall']:.4f}  F1 {f['f1']:.4f}"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[303, 404])
    parser.add_argument("--in-process", action="store_true", help="the engine alone, no run")
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        stage = STAGES[args.stage]
        print(json.dumps(with_peak(lambda: stage(args.out, args.persons, args.seeds[0]))))
        return

    for seed in args.seeds:
        out = set_dir(args.persons, seed)
        print(f"# {args.persons:,} persons, seed {seed} ({out})")
        if args.regenerate or not (out / "truth").is_dir():
            generated = measure("generate", out, args.persons, seed)
            print(f"generated {generated['rows']:,} rows in {generated['seconds']:.1f} s")
        stage = "in_process" if args.in_process else "pipeline"
        ours = measure(stage, out, args.persons, seed)
        what = "resolution alone" if args.in_process else "whole run"
        print(f"dancu ({what}): {ours['seconds']:.1f} s, peak {ours['peak_rss_mib']:,.0f} MiB")
        for line in lines("dancu", ours):
            print(line)
        if not args.no_splink:
            theirs = measure("splink", out, args.persons, seed)
            print(f"splink 5: {theirs['seconds']:.1f} s")
            for line in lines("splink 5", theirs):
                print(line)
        spellings = nationality_spellings(out)
        print(
            f"nationality: {spellings['spellings']} spellings, {spellings['rows_right']:,} of "
            f"{spellings['rows']:,} rows read right; wrong: {spellings['spellings_wrong']}"
        )


if __name__ == "__main__":
    main()
