"""Identity verification: does the register hold one person with this id, name and birth date?

The register side is read once per published version into an index held in memory, sorted by
national id (built once for all workers, see index.py; 75 MB at a million persons); a
verification is then a binary search and a comparison of a few rows. A query per request would
not do: DuckDB spends about 0.3 ms planning even `select 1`, more than a verification may cost at
2,000 a second on two cores.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import polars as pl

from dancu.text import LETTERS_FOLDED_TO_D, fold

NATIONAL_ID = re.compile(r"[0-9]{12}")
_DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")

# The register's persons with a valid 12-digit id: the only ones a verification can name.
_REGISTER = """
select cast(national_id as bigint) as id_number, person_id, full_name, birth_date, birth_year,
       is_deceased
from person
where regexp_full_match(national_id, '[0-9]{12}')
"""


@dataclass(frozen=True)
class Verification:
    match: bool
    is_deceased: bool | None = None
    person_id: str | None = None


NO_MATCH = Verification(match=False)


_AS_D = str.maketrans(LETTERS_FOLDED_TO_D, "d" * len(LETTERS_FOLDED_TO_D))


def name_key(name: str) -> str:
    """ " NGUYỄN  văn An " -> "nguyen van an": the key `name_keys` gives, for one name.

    `dancu.text.fold` folds whole columns (one value through polars costs 2 ms, this 5 µs): the
    same steps (lowercase, decompose, drop the marks, đ and its look-alikes -> d), then runs of
    spaces as one space. The tests hold the two equal.
    """
    decomposed = unicodedata.normalize("NFD", name.lower())
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn").translate(_AS_D)
    return " ".join(bare.split())


def name_keys(names: pl.Expr) -> pl.Expr:
    """The register's side of `name_key`: folded as every stage folds names."""
    return fold(names).str.replace_all(r"\s+", " ").str.strip_chars()


def parse_birth_date(text: str) -> date:
    """dd/mm/yyyy (or d/m/yyyy) or yyyy-mm-dd; ValueError, quoting nothing, for anything else."""
    text = text.strip()
    if found := _DAY_MONTH_YEAR.fullmatch(text):
        day, month, year = (int(part) for part in found.groups())
    elif found := _ISO_DATE.fullmatch(text):
        year, month, day = (int(part) for part in found.groups())
    else:
        raise ValueError("write the date as dd/mm/yyyy or yyyy-mm-dd")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError("the date is not a real day") from None


def born_on(register_date: date | None, register_year: int | None, birth_date: date) -> bool:
    """Whether the register's birth date agrees with `birth_date`. Where the register knows only
    the year (`00/00/1950`, common among the elderly), the year has to agree."""
    if register_date is not None:
        return register_date == birth_date
    return register_year == birth_date.year


def register_persons(connection: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """What `VerifyIndex` reads of the register: id_number, person_id, name_key, birth_date,
    birth_year and is_deceased, sorted by id_number."""
    persons = connection.sql(_REGISTER).pl()
    keyed = persons.with_columns(name_keys(pl.col("full_name")).alias("name_key"))
    return keyed.drop("full_name").sort("id_number")


class VerifyIndex:
    """The register's persons of one published version, by national id."""

    def __init__(self, persons: pl.DataFrame):
        """`persons`: as `register_persons` gives them, sorted by id_number."""
        self._persons = persons
        self._id_numbers = persons["id_number"].to_numpy()

    def __len__(self) -> int:
        return self._persons.height

    def verify(self, national_id: str, full_name: str, birth_date: date) -> Verification:
        """A match only when exactly one person carries the id, the name and the birth date;
        `national_id` is 12 digits (checked by the caller)."""
        id_number = int(national_id)
        first = int(np.searchsorted(self._id_numbers, id_number, side="left"))
        end = int(np.searchsorted(self._id_numbers, id_number, side="right"))
        key = name_key(full_name)
        # The candidates are the one or two persons carrying the id, not rows of the register.
        matches = [
            person
            for person in (self._persons.row(i, named=True) for i in range(first, end))
            if person["name_key"] == key
            and born_on(person["birth_date"], person["birth_year"], birth_date)
        ]
        if len(matches) != 1:
            return NO_MATCH
        (person,) = matches
        return Verification(True, person["is_deceased"], person["person_id"])
