"""Synthetic Hà Nội extracts with ground truth: `generate(persons, seed, out)`.

Writes `out/landing/<source>/<name>_<YYYYMMDD>.<ext>` for the eight sources of the contract
(`layouts.LAYOUTS`), with their formats, encodings, optional columns and quirks, and
`out/truth/*.parquet`:

- `persons`: the true population, `persons` register persons and the persons outside the
  register that `elements` adds (`in_register` false, `origin` says why): foreign parties of
  births and marriages, resident foreigners, stateless residents, children never registered.
- `records`: one row per data row written: its person, what it should have said, what noise it
  carries, whether it must be rejected. Student records and judicial requests name their person
  like every person record.
- `event_parties`: the person of each role of each civil event, foreign parties included.
- `documents`: each person's identity documents and those the records name (`truth.py`).
- `nationalities`: each person's nationalities as ISO 3166-1 alpha-3 codes.
- `files` and `bad_files`: the files, and the files that must be rejected whole.

The same persons, seed, as_of and noise give byte-identical files. Each source's builder draws
from its own random streams and needs only a person's household and the persons an event names,
so that it can later run ward by ward.

Noise (`noise`, default 1.0) multiplies the rate of every error a record can carry: in ids (a
digit substituted, two neighbours swapped, a parent's id on a minor's insurance or health record),
in birth dates (one digit, ten years, day and month swapped, only the year), sex, names (typos,
a middle name dropped or added, family and given name swapped), phones (a household member's, a
typo), second dan_cu registrations in another ward without an id, and invalid rows. `noise.py`
lists each rate and why; every error applied is named in the truth's `corruptions` list
(`national_id:digit_substitution`, `dan_cu:duplicate_registration`, ...). Level 0 writes every
value as the register holds it, in the formats of the contract (legacy fonts, Excel number
cells). The population, twins included, is the same at every level.

Two days (`two_days=True`): the same files, cut into two deliveries. Files dated from the start
of dan_cu's last weekly delta (`records.day_two_start`, 8 days before as_of), and each source's
latest files, move to `out/day2/<source>/` in the landing layout: copying `out/day2/*` into
`out/landing/` is day 2 arriving. Day 2 thus holds dan_cu records sent again with changed values
(a new phone, married since), records of persons new to every source (newborns among them), the
month's birth, death and marriage registrations (with corrections of earlier months' ones), and
the latest bhxh and y_te registers. The files to reject stay on day 1. The truth is the final
state, after day 2; `truth/files.parquet` gains `day` (1 or 2), the delivery a file arrives in.
Without `two_days`, everything is in `out/landing` and `files.parquet` has no `day`.
"""

import logging
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from dancu.generate import records
from dancu.generate.elements import with_elements
from dancu.generate.extracts import write_bad_files, write_source
from dancu.generate.justice import ly_lich_tu_phap
from dancu.generate.layouts import LAYOUTS
from dancu.generate.population import build_population
from dancu.generate.records import day_two_start, person_view
from dancu.generate.schools import giao_duc
from dancu.generate.truth import documents, nationalities

log = logging.getLogger(__name__)

DEFAULT_AS_OF = date(2025, 10, 31)
DAY_TWO = "day2"  # folder under `out` of the second delivery in two-day mode
BUILDERS = {**records.BUILDERS, "giao_duc": giao_duc, "ly_lich_tu_phap": ly_lich_tu_phap}


@dataclass(frozen=True)
class GenerateSummary:
    """Counts of what `generate` wrote."""

    persons: int  # in the register
    files: dict[str, int]  # per source, rejected files not included
    rows: dict[str, int]  # data rows written per source
    invalid_rows: int
    bad_files: int
    day_two_files: int = 0  # files held back for the second delivery
    outside_register: int = 0  # foreign parties and residents the register does not hold

    def describe(self) -> str:
        lines = [f"{self.persons:,} persons, {self.outside_register:,} outside the register"]
        lines += [
            f"  {source:<15} {self.files[source]:>5,} files {self.rows[source]:>9,} rows"
            for source in self.files
        ]
        lines.append(f"  {self.invalid_rows:,} invalid rows, {self.bad_files} files to reject")
        if self.day_two_files:
            lines.append(f"  {self.day_two_files:,} files arrive on day 2 ({DAY_TWO}/)")
        return "\n".join(lines)


def generate(
    persons: int,
    seed: int,
    out: Path,
    as_of: date = DEFAULT_AS_OF,
    two_days: bool = False,
    noise: float = 1.0,
) -> GenerateSummary:
    """Write the landing folder and the truth under `out` (both replaced if present), and with
    `two_days` the second delivery in `out/day2`. `noise` multiplies every error rate of
    `noise.py` (0: the values as the register holds them, in the contract's formats)."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    if noise < 0:
        raise ValueError("noise must not be negative")
    out = Path(out)
    landing, truth, day_two = out / "landing", out / "truth", out / DAY_TWO
    shutil.rmtree(day_two, ignore_errors=True)
    for folder in (landing, truth):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    population = with_elements(build_population(persons, seed, as_of), seed)
    log.info(
        "population: %d persons, %d births, %d deaths, %d marriages",
        population.persons.height,
        population.births.height,
        population.deaths.height,
        population.marriages.height,
    )
    people = person_view(population, seed)
    written = {}
    for source in LAYOUTS:
        placement = BUILDERS[source](population, people, seed, noise)
        written[source] = write_source(source, placement, seed, landing, as_of, noise)
        log.info(
            "%s: %d files, %d rows",
            source,
            written[source].files.height,
            written[source].records.height,
        )
    bad = write_bad_files({s: w.sample for s, w in written.items()}, landing, as_of)

    records = pl.concat([w.records for w in written.values()])
    files = pl.concat([w.files for w in written.values()])
    if two_days:
        files = with_arrival_day(files, as_of)
        deliver_day_two(files, landing, day_two)
    _write_truth(truth / "persons.parquet", population.persons)
    _write_truth(truth / "records.parquet", records)
    _write_truth(truth / "event_parties.parquet", pl.concat([w.parties for w in written.values()]))
    _write_truth(truth / "files.parquet", files)
    _write_truth(truth / "bad_files.parquet", bad)
    named = pl.concat([w.documents for w in written.values()])
    _write_truth(truth / "documents.parquet", documents(population.persons, named))
    _write_truth(truth / "nationalities.parquet", nationalities(population.persons))
    return GenerateSummary(
        persons=int(population.persons["in_register"].sum()),
        outside_register=int((~population.persons["in_register"]).sum()),
        files={s: w.files.height for s, w in written.items()},
        rows={s: w.records.height for s, w in written.items()},
        invalid_rows=records["invalid_reason"].is_not_null().sum(),
        bad_files=bad.height,
        day_two_files=files.filter(pl.col("day") == 2).height if two_days else 0,
    )


def with_arrival_day(files: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The files table with `day`: 2 for files dated from `day_two_start` and for each source's
    latest files (a source with few files may have none that recent), else 1."""
    cut = pl.min_horizontal(
        pl.lit(day_two_start(as_of)), pl.col("extract_date").max().over("source")
    )
    second = pl.col("extract_date") >= cut
    return files.with_columns(day=pl.when(second).then(2).otherwise(1).cast(pl.Int8))


def deliver_day_two(files: pl.DataFrame, landing: Path, day_two: Path) -> None:
    """Move the day-2 files from the landing folder to `day_two`, keeping their relative path."""
    for name in files.filter(pl.col("day") == 2)["file_name"]:
        target = day_two / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (landing / name).rename(target)


def _write_truth(path: Path, frame: pl.DataFrame) -> None:
    frame.write_parquet(path, compression="zstd", statistics=True)
