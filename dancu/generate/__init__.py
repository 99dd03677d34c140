"""Synthetic Hà Nội extracts with ground truth: `generate(persons, seed, out)`.

Writes `out/landing/<source>/<name>_<YYYYMMDD>.<ext>` for the six sources of the contract, with
their formats, encodings and quirks, and `out/truth/*.parquet`: the true population, one row per
data row written (what it should have said, what noise it carries, whether it must be rejected),
the parties of civil events, the files and the files that must be rejected whole. The same
persons, seed and as_of give byte-identical files.
"""

import logging
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from dancu.contract import SOURCES
from dancu.generate.extracts import write_bad_files, write_source
from dancu.generate.population import build_population
from dancu.generate.records import BUILDERS, person_view

log = logging.getLogger(__name__)

DEFAULT_AS_OF = date(2025, 10, 31)


@dataclass(frozen=True)
class GenerateSummary:
    """Counts of what `generate` wrote."""

    persons: int
    files: dict[str, int]  # per source, rejected files not included
    rows: dict[str, int]  # data rows written per source
    invalid_rows: int
    bad_files: int

    def describe(self) -> str:
        lines = [f"{self.persons:,} persons"]
        lines += [
            f"  {source:<10} {self.files[source]:>5,} files {self.rows[source]:>11,} rows"
            for source in self.files
        ]
        lines.append(f"  {self.invalid_rows:,} invalid rows, {self.bad_files} files to reject")
        return "\n".join(lines)


def generate(persons: int, seed: int, out: Path, as_of: date = DEFAULT_AS_OF) -> GenerateSummary:
    """Write the landing folder and the truth under `out` (both replaced if present)."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    out = Path(out)
    landing, truth = out / "landing", out / "truth"
    for folder in (landing, truth):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    population = build_population(persons, seed, as_of)
    log.info(
        "population: %d persons, %d births, %d deaths, %d marriages",
        population.persons.height,
        population.births.height,
        population.deaths.height,
        population.marriages.height,
    )
    people = person_view(population)
    written = {}
    for source in SOURCES:
        placement = BUILDERS[source](population, people, seed)
        written[source] = write_source(source, placement, seed, landing, as_of)
        log.info(
            "%s: %d files, %d rows",
            source,
            written[source].files.height,
            written[source].records.height,
        )
    bad = write_bad_files({s: w.sample for s, w in written.items()}, landing, as_of)

    records = pl.concat([w.records for w in written.values()])
    _write_truth(truth / "persons.parquet", population.persons)
    _write_truth(truth / "records.parquet", records)
    _write_truth(truth / "event_parties.parquet", pl.concat([w.parties for w in written.values()]))
    _write_truth(truth / "files.parquet", pl.concat([w.files for w in written.values()]))
    _write_truth(truth / "bad_files.parquet", bad)
    return GenerateSummary(
        persons=population.persons.height,
        files={s: w.files.height for s, w in written.items()},
        rows={s: w.records.height for s, w in written.items()},
        invalid_rows=records["invalid_reason"].is_not_null().sum(),
        bad_files=bad.height,
    )


def _write_truth(path: Path, frame: pl.DataFrame) -> None:
    frame.write_parquet(path, compression="zstd", statistics=True)
