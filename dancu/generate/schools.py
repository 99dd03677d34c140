"""Student records of the education sector (giao_duc): one file per school, school year 2025-2026.

Every child of school age living in Hà Nội goes to school at a rate per level (nearly all in
primary, fewer in upper secondary), in the grade of the birth year (a few one grade lower). Each
current ward has a primary and a lower-secondary school; an upper-secondary school serves a
group of neighbouring wards. A school's code (`Mã trường`) is `01`, the level and the ward code;
a student's code (`Mã học sinh`) is the sector's own, 10 digits, one per school record.

Most records carry no personal id. Some schools type a temporary code into that column (the
student's own code or a number of their own, never 12 digits); a few a parent's id (the noise of
`extracts`). Children outside the register (never registered, or born abroad) have no id at all.
A share of the students changed school: the old school's file still lists them, under another
student code. Parents' names are filled in mostly, the phone is a parent's.

Everything is computed per student from the student's household (parents, address); the
schools' files are drawn for the whole city (`files.giao_duc`), so that each chunk of the
population fills the same files, and a transferred student left a school of the same chunk.
"""

from datetime import date

import numpy as np
import polars as pl

from dancu import admin_units
from dancu.generate.noise import rewrite, tag_rows
from dancu.generate.population import Population
from dancu.generate.records import (
    Placement,
    is_superseded,
    period_files,
    person_rows,
    record_ids,
)
from dancu.generate.rng import stream
from dancu.generate.styles import FORMAT_SHARES

SCHOOL_YEAR = "2025-2026"
SCHOOL_YEAR_START = 2025  # grade 1 is the children born six years before
HANOI_PREFIX = "01"
# (level digit, first grade, last grade, share of the children of those grades enrolled)
LEVELS = ((1, 1, 5, 0.99), (2, 6, 9, 0.96), (3, 10, 12, 0.82))
WARDS_PER_UPPER_SCHOOL = 3
REPEATED_GRADE_SHARE = 0.015
CLASSES_PER_GRADE = 4
TRANSFERRED_SHARE = 0.01  # of students: also in the file of the school they left
EXTRACT_SPAN = (date(2025, 9, 15), None)  # files sent from mid-September until as_of
NEW_UNITS_SHARE = 0.85  # files naming current units (all sent after the reform)
ID_WRITTEN_SHARE = 0.35  # of the records of children with a personal id
TEMPORARY_CODE_SCHOOLS = 0.15  # schools that type a temporary code where the id is unknown
TEMPORARY_CODE_ROWS = 0.7  # of such a school's records without an id
OWN_CODE_AS_TEMPORARY = 0.5  # temporary codes that are the student's own code
FATHER_NAME_MISSING = 0.08
MOTHER_NAME_MISSING = 0.04


def giao_duc(population: Population, people: pl.DataFrame, noise: float) -> Placement:
    chunk = population.chunk
    rng = chunk.stream("place.giao_duc")
    students = _students(rng, people, population.as_of)
    files = _school_files(stream(chunk.seed, "files.giao_duc"), population.as_of)
    rows = pl.concat([students, _left_schools(rng, students)]).with_columns(
        file_key="year:" + pl.col("school_code")
    )
    rows = rows.join(
        files.select("file_key", "extract_date", "scheme"),
        on="file_key",
        how="left",
        maintain_order="left",
    ).with_columns(
        source_record_id=record_ids(rng, HANOI_PREFIX, rows.height, 8, chunk.share),
        superseded=pl.lit(False),
        phone=_parent_phones(people, rows),
        ward_code_written=pl.when(pl.col("scheme") == "old")
        .then("old_ward_code")
        .otherwise("ward_code"),
        school_year=pl.lit(SCHOOL_YEAR),
    )
    rows = _ids_as_schools_write_them(rng, rows, files)
    size = rows.height
    rows = rows.with_columns(
        father_name=pl.when(pl.lit(pl.Series(rng.random(size) < FATHER_NAME_MISSING)))
        .then(None)
        .otherwise("father_name"),
        mother_name=pl.when(pl.lit(pl.Series(rng.random(size) < MOTHER_NAME_MISSING)))
        .then(None)
        .otherwise("mother_name"),
    ).with_columns(superseded=is_superseded())
    extra = ["ethnicity", "nationality", "school_code", "class_name", "school_year",
             "father_name", "mother_name", "ward_code_written"]  # fmt: skip
    return Placement(files.drop("grade_level"), person_rows(rows, extra))


def _grades(birth_year: pl.Expr) -> pl.Expr:
    return pl.lit(SCHOOL_YEAR_START) - birth_year - 5


def _students(rng: np.random.Generator, people: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The enrolled children living in Hà Nội, with their school and class."""
    alive = pl.col("death_date").is_null()
    resident = pl.col("ward_code").is_not_null() & pl.col("origin").is_in(
        ["register", "unregistered_child"]
    )
    children = people.filter(alive, resident, _grades(pl.col("birth_year")).is_between(1, 12))
    size = children.height
    grade = SCHOOL_YEAR_START - 5 - children["birth_year"].to_numpy().astype(np.int64)
    grade = np.where((rng.random(size) < REPEATED_GRADE_SHARE) & (grade > 1), grade - 1, grade)
    level, share = np.zeros(size, dtype=np.int64), np.zeros(size)
    for digit, first, last, enrolled in LEVELS:
        in_level = (grade >= first) & (grade <= last)
        level[in_level], share[in_level] = digit, enrolled
    enrolled = rng.random(size) < share
    klass = rng.integers(1, CLASSES_PER_GRADE + 1, size)
    children = children.with_columns(
        grade_level=pl.Series(level),
        class_name=pl.Series(grade).cast(pl.String) + "A" + pl.Series(klass).cast(pl.String),
    ).filter(pl.Series(enrolled))
    return children.with_columns(school_code=_school_code(pl.col("grade_level"), "ward_code"))


def _upper_school_wards() -> pl.DataFrame:
    """The ward whose code names the upper-secondary school of each ward: the first of each
    group of neighbouring codes."""
    codes = admin_units.current_wards()["ward_code"].sort()
    first = codes.gather(np.arange(codes.len()) // WARDS_PER_UPPER_SCHOOL * WARDS_PER_UPPER_SCHOOL)
    return pl.DataFrame({"ward_code": codes, "school_ward": first})


def _school_code(level: pl.Expr, ward: str) -> pl.Expr:
    groups = _upper_school_wards()
    upper_ward = pl.col(ward).replace_strict(
        groups["ward_code"], groups["school_ward"], default=pl.col(ward)
    )
    school_ward = pl.when(level == 3).then(upper_ward).otherwise(pl.col(ward))
    return pl.concat_str([pl.lit(HANOI_PREFIX), level.cast(pl.String), school_ward])


def _school_files(rng: np.random.Generator, as_of: date) -> pl.DataFrame:
    """One file per school of the city, in the format its software writes (a school without
    students writes none)."""
    levels = pl.DataFrame({"grade_level": [digit for digit, *_ in LEVELS]})
    schools = (
        admin_units.current_wards()
        .select("ward_code")
        .join(levels, how="cross")
        .select(school_code=_school_code(pl.col("grade_level"), "ward_code"))
        .unique()
        .sort("school_code")["school_code"]
    )
    files = period_files(rng, schools, "year", (EXTRACT_SPAN[0], as_of), NEW_UNITS_SHARE)
    fmt = np.where(rng.random(files.height) < FORMAT_SHARES["giao_duc"]["xlsx"], "xlsx", "csv")
    temporary = rng.random(files.height) < TEMPORARY_CODE_SCHOOLS
    return files.with_columns(
        format=pl.Series(fmt),
        writes_temporary_codes=pl.Series(temporary),
        grade_level=pl.col("part").str.slice(2, 1).cast(pl.Int64),
    )


def _left_schools(rng: np.random.Generator, students: pl.DataFrame) -> pl.DataFrame:
    """Students who changed school: the school of another ward at their level still lists them."""
    moved = students.filter(pl.Series(rng.random(students.height) < TRANSFERRED_SHARE))
    schools = students.select("grade_level", "school_code").unique().sort("school_code")
    by_level = {
        level: group["school_code"].to_numpy()
        for (level,), group in schools.group_by("grade_level", maintain_order=True)
    }
    current = moved["school_code"].to_numpy()
    level = moved["grade_level"].to_numpy()
    previous = current.copy()
    for digit, options in by_level.items():
        rows = np.flatnonzero(level == digit)
        if len(options) < 2:
            continue
        pick = options[rng.integers(0, len(options), len(rows))]
        same = pick == current[rows]
        pick[same] = options[(np.searchsorted(options, pick[same]) + 1) % len(options)]
        previous[rows] = pick
    # Through lists: polars cannot always build a String Series from a numpy object array.
    return moved.with_columns(school_code=pl.Series(previous.tolist(), dtype=pl.String)).filter(
        pl.col("school_code") != pl.Series(current.tolist(), dtype=pl.String)
    )


def _parent_phones(people: pl.DataFrame, rows: pl.DataFrame) -> pl.Series:
    """The mother's phone, else the father's."""
    phones = people.select("person_key", "phone")

    def of(parent: str) -> pl.Series:
        keys = rows.select(pl.col(parent).alias("person_key"))
        return keys.join(phones, on="person_key", how="left", maintain_order="left")["phone"]

    return pl.select(pl.coalesce(of("mother_key"), of("father_key"))).to_series()


def _ids_as_schools_write_them(
    rng: np.random.Generator, rows: pl.DataFrame, files: pl.DataFrame
) -> pl.DataFrame:
    """The personal id on a share of the records; schools that keep temporary codes type one
    into the column where they lack the id."""
    size = rows.height
    left_out = rng.random(size) >= ID_WRITTEN_SHARE
    rows = rewrite(rows, "national_id", left_out, pl.lit(None), "missing")
    habit = rows.join(
        files.select("file_key", "writes_temporary_codes"),
        on="file_key",
        how="left",
        maintain_order="left",
    )["writes_temporary_codes"].to_numpy()
    temporary = (
        habit & rows["national_id"].is_null().to_numpy() & (rng.random(size) < TEMPORARY_CODE_ROWS)
    )
    own_code = pl.lit(pl.Series(rng.random(size) < OWN_CODE_AS_TEMPORARY))
    local = pl.lit(pl.Series(rng.integers(0, 100_000_000, size))).cast(pl.String).str.zfill(8)
    code = pl.when(own_code).then(pl.col("source_record_id")).otherwise(local)
    rows = rows.with_columns(
        national_id=pl.when(pl.lit(pl.Series(temporary))).then(code).otherwise("national_id")
    )
    return tag_rows(rows, "national_id:temporary_code", pl.lit(pl.Series(temporary)))
