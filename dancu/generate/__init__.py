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

The same persons, seed, as_of and noise give byte-identical files. The city is generated chunk
by chunk (`chunks`: runs of neighbouring wards of about `CHUNK_PERSONS` persons each), so memory
stays that of one chunk whatever the population: each chunk's population, its records in every
source and its truth are built from the chunk's own random streams, its rows staged per file
under `out/.staging`, then every file is written whole from its staged parts and each truth
table streamed from its parts into one Parquet file. A population of `CHUNK_PERSONS` or fewer is
one chunk. Each source's builder needs only a person's household and the persons an event names,
all in the person's chunk.

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
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from dancu.generate import records
from dancu.generate.chunks import CHUNK_PERSONS, Chunk, plan
from dancu.generate.elements import with_elements
from dancu.generate.extracts import (
    delivered_files,
    styled_files,
    write_bad_files,
    write_files,
    write_source,
)
from dancu.generate.justice import ly_lich_tu_phap
from dancu.generate.layouts import LAYOUTS
from dancu.generate.population import build_population
from dancu.generate.records import day_two_start, person_view
from dancu.generate.schools import giao_duc
from dancu.generate.truth import documents, nationalities

log = logging.getLogger(__name__)

DEFAULT_AS_OF = date(2025, 10, 31)
DAY_TWO = "day2"  # folder under `out` of the second delivery in two-day mode
STAGING = ".staging"  # folder under `out` of the chunks' rows and truth until they are whole
TRUTH_TABLES = ("persons", "records", "event_parties", "documents", "nationalities")
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
    chunk_persons: int = CHUNK_PERSONS,
    office_edits: bool = False,
) -> GenerateSummary:
    """Write the landing folder and the truth under `out` (both replaced if present), and with
    `two_days` the second delivery in `out/day2`. `noise` multiplies every error rate of
    `noise.py` (0: the values as the register holds them, in the contract's formats);
    `chunk_persons` sizes the chunks the city is generated in (part of what a seed writes).
    `office_edits`: files edited as offices edit them (`styles.OFFICE_EDIT_SHARES`), the same
    set otherwise: the same values, persons and truth (a joined file's second header is no row of
    the truth, whose row numbers count past it)."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    if noise < 0:
        raise ValueError("noise must not be negative")
    out = Path(out)
    landing, truth, day_two, staging = out / "landing", out / "truth", out / DAY_TWO, out / STAGING
    for folder in (day_two, staging):
        shutil.rmtree(folder, ignore_errors=True)
    for folder in (landing, truth):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    tally = _Tally()
    for chunk in plan(persons, seed, chunk_persons):
        _stage_chunk(chunk, as_of, noise, office_edits, staging, tally)
    files = []
    for source in LAYOUTS:
        totals = pl.DataFrame(
            [(name, *counts) for name, counts in tally.files[source].items()],
            schema={"file_name": pl.String, "rows": pl.UInt32, "optional_columns": pl.Boolean},
            orient="row",
        )
        delivered = delivered_files(source, tally.styled[source], totals)
        write_files(source, delivered, staging / "landing", landing)
        files.append(delivered)
    bad = write_bad_files(tally.samples, landing, as_of)
    files = pl.concat(files)
    if two_days:
        files = with_arrival_day(files, as_of)
        deliver_day_two(files, landing, day_two)
    for table in TRUTH_TABLES:
        parts = sorted((staging / "truth" / table).glob("*.parquet"))
        pl.scan_parquet(parts).sink_parquet(
            truth / f"{table}.parquet", compression="zstd", statistics=True
        )
    _write_truth(truth / "files.parquet", files)
    _write_truth(truth / "bad_files.parquet", bad)
    shutil.rmtree(staging)
    return GenerateSummary(
        persons=tally.in_register,
        outside_register=tally.outside_register,
        files={s: files.filter(pl.col("source") == s).height for s in LAYOUTS},
        rows={s: sum(rows for rows, _ in tally.files[s].values()) for s in LAYOUTS},
        invalid_rows=tally.invalid_rows,
        bad_files=bad.height,
        day_two_files=files.filter(pl.col("day") == 2).height if two_days else 0,
    )


@dataclass
class _Tally:
    """What the chunks staged so far: per source and file, its rows and whether it carries the
    optional columns; each source's styled files and a sample of its text; counts."""

    files: dict[str, dict[str, tuple[int, bool]]] = field(
        default_factory=lambda: {source: {} for source in LAYOUTS}
    )
    styled: dict[str, pl.DataFrame] = field(default_factory=dict)
    samples: dict[str, pl.DataFrame] = field(default_factory=dict)
    in_register: int = 0
    outside_register: int = 0
    invalid_rows: int = 0

    def add(self, source: str, staged: pl.DataFrame) -> None:
        files = self.files[source]
        for name, rows, optional in staged.select(
            "file_name", "rows", "optional_columns"
        ).iter_rows():
            before, carried = files.get(name, (0, False))
            files[name] = (before + rows, carried or optional)


def _stage_chunk(
    chunk: Chunk, as_of: date, noise: float, office_edits: bool, staging: Path, tally: _Tally
) -> None:
    """Stage one chunk's rows of every source and its truth tables' parts."""
    population = with_elements(build_population(chunk, as_of))
    persons = population.persons
    log.info(
        "chunk %d/%d: %d persons, %d births, %d deaths, %d marriages",
        chunk.index + 1,
        chunk.count,
        persons.height,
        population.births.height,
        population.deaths.height,
        population.marriages.height,
    )
    people = person_view(population)
    truth = {table: [] for table in TRUTH_TABLES}
    for source in LAYOUTS:
        placement = BUILDERS[source](population, people, noise)
        rows_before = {name: rows for name, (rows, _) in tally.files[source].items()}
        written = write_source(
            source, placement, chunk, staging / "landing", rows_before, as_of, noise, office_edits
        )
        tally.add(source, written.files)
        if source not in tally.styled:  # the same files for every chunk
            tally.styled[source] = styled_files(source, placement.files, chunk.seed, office_edits)
            tally.samples[source] = written.sample
        tally.invalid_rows += written.records["invalid_reason"].is_not_null().sum()
        truth["records"].append(written.records)
        truth["event_parties"].append(written.parties)
        truth["documents"].append(written.documents)
    truth["documents"] = [documents(persons, pl.concat(truth["documents"]))]
    truth["nationalities"] = [nationalities(persons)]
    truth["persons"] = [persons]
    for table, frames in truth.items():
        folder = staging / "truth" / table
        folder.mkdir(parents=True, exist_ok=True)
        pl.concat(frames).write_parquet(folder / f"{chunk.index:05d}.parquet")
    tally.in_register += int(persons["in_register"].sum())
    tally.outside_register += int((~persons["in_register"]).sum())


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
