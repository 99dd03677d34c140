"""The persons the register does not hold, and the documents beyond the personal id.

`with_elements` takes the register's population and adds, each from its own random stream:

- Re-issued ids: a few adults whose personal id was issued again after a correction of sex or
  birth year; the earlier one stays in `previous_national_id`.
- Passports: some adults hold a Vietnamese passport (the judicial-record requests of people going
  abroad show it).
- Foreign fathers: a share of the year's births to a mother without a partner at home have a
  foreign father, a person outside the register. The child may carry a mixed name (the father's
  family name, or a foreign given name) and a few two nationalities.
- Foreign spouses: a share of the year's marriages have a foreign husband (mostly) or wife, who
  takes the place of the register person drawn to marry, that person staying single.
- Children never registered, or registered abroad: school-age children living with a family of
  the register, without a personal id and outside the register.
- Resident foreigners and stateless persons of Vietnamese origin (with an identity certificate),
  outside the register: some of them request judicial records.

Every person added has `in_register` false and an `origin` naming which of these it is. Each
step works on the persons of one chunk of the city (`population.chunk`): previous ids are unique
among the chunk's ids and drawn in its part of the serial range, foreign spouses replace persons
the chunk's marriages drew, foreign residents live at an address of the chunk.
"""

from dataclasses import replace
from datetime import date

import numpy as np
import polars as pl

from dancu.generate import foreign, identifiers, names
from dancu.generate.chunks import Chunk
from dancu.generate.population import (
    MOTHER_AGE_AT_BIRTH,
    PERSON_COLUMNS,
    SERIALS,
    VIETNAM_CODE,
    Population,
    draw_given,
    draw_middle,
)

REISSUED_ID_SHARE = 0.004  # of persons 14 or older with an id: a correction of sex or birth year
REISSUED_FOR_SEX_SHARE = 0.3  # the others were corrections of the birth year
REISSUE_MIN_AGE = 14
VIETNAMESE_PASSPORT_SHARE = 0.08  # of adults: travel and work abroad
PASSPORT_MIN_AGE = 18
FOREIGN_FATHER_SHARE = 0.03  # of the year's births; drawn among mothers without a partner
MIXED_NAME_SHARES = {"vietnamese": 0.45, "father_family": 0.3, "foreign_given": 0.15,
                     "foreign_given_first": 0.1}  # fmt: skip
DUAL_NATIONALITY_SHARE = 0.3  # of children with a foreign parent
FOREIGN_SPOUSE_SHARE = 0.03  # of marriages: Hà Nội registers over a thousand a year
FOREIGN_HUSBAND_SHARE = 0.8  # most foreign-element marriages are of a Vietnamese woman
UNREGISTERED_CHILD_SHARE = 0.004  # of school-age children: never registered or born abroad
SCHOOL_AGES = (6, 18)
RESIDENT_FOREIGNER_SHARE = 0.001  # of persons: foreign residents (work permits need records)
STATELESS_SHARE = 0.0002  # of persons: of Vietnamese origin, without nationality
ADULT_AGES = (25, 60)
MARRIAGE_MIN_AGE = 21  # foreign spouses and fathers: of legal age at any date of the year

ORIGIN_FOREIGN_PARTY = "foreign_party"
ORIGIN_RESIDENT_FOREIGNER = "resident_foreigner"
ORIGIN_UNREGISTERED_CHILD = "unregistered_child"
ORIGIN_STATELESS = "stateless"


def with_elements(population: Population) -> Population:
    chunk = population.chunk
    persons = _reissued_ids(population.persons, chunk)
    persons = _vietnamese_passports(persons, chunk.stream("elements.passports"), population.as_of)
    population = replace(population, persons=persons)
    population = _foreign_fathers(population, chunk.stream("elements.fathers"))
    population = _foreign_spouses(population, chunk.stream("elements.spouses"))
    added = [
        _unregistered_children(population, chunk.stream("elements.children")),
        _residents_without_register(population, chunk.stream("elements.residents")),
    ]
    persons = pl.concat([population.persons, *added], how="diagonal_relaxed")
    return replace(population, persons=persons.select(PERSON_COLUMNS))


def _at_least_one(share: float, size: int) -> int:
    """`share` of `size`, but one at least where there is any: small samples show every kind."""
    return max(1, round(share * size)) if size else 0


def _age(persons: pl.DataFrame, as_of: date) -> np.ndarray:
    return as_of.year - persons["birth_year"].to_numpy()


# --- documents of register persons ------------------------------------------------------------


def _reissued_ids(persons: pl.DataFrame, chunk: Chunk) -> pl.DataFrame:
    """The id a person held before a correction: the same province, the sex digit or the birth
    year as first (wrongly) registered, another serial in the chunk's part of the range; never
    anyone's id."""
    rng = chunk.stream("elements.reissued")
    part = SERIALS // chunk.count
    first_serial = chunk.index * part
    year = persons["birth_year"].to_numpy()
    eligible = persons["national_id"].is_not_null().to_numpy() & (year <= year.max() - 14)
    chosen = eligible & (rng.random(persons.height) < REISSUED_ID_SHARE)
    current = persons["national_id"].filter(pl.Series(chosen))
    size = current.len()
    digits = current.str.slice(3, 1).cast(pl.Int64).to_numpy()
    yy = current.str.slice(4, 2).cast(pl.Int64).to_numpy()
    for_sex = rng.random(size) < REISSUED_FOR_SEX_SHARE
    sex_digit = np.where(for_sex, digits ^ 1, digits)
    year_off = rng.integers(1, 4, size) * np.where(rng.random(size) < 0.5, -1, 1)
    wrong_yy = np.where(for_sex, yy, (yy + year_off) % 100)
    prefix = (
        current.str.slice(0, 3)
        + pl.Series(sex_digit).cast(pl.String)
        + pl.Series(wrong_yy).cast(pl.String).str.zfill(2)
    )
    taken = persons["national_id"].drop_nulls().implode()
    serials = pl.Series(first_serial + rng.integers(0, part, size)).cast(pl.String)
    previous = prefix + serials.str.zfill(6)
    clash = (previous.is_in(taken) | previous.is_duplicated()).to_numpy()
    while clash.any():
        serial = pl.Series(first_serial + rng.integers(0, part, int(clash.sum()))).cast(pl.String)
        previous = previous.scatter(
            np.flatnonzero(clash), prefix.filter(pl.Series(clash)) + serial.str.zfill(6)
        )
        clash = (previous.is_in(taken) | previous.is_duplicated()).to_numpy()
    column = pl.Series([None] * persons.height, dtype=pl.String)
    column = column.scatter(np.flatnonzero(chosen), previous)
    return persons.with_columns(previous_national_id=column)


def _vietnamese_passports(
    persons: pl.DataFrame, rng: np.random.Generator, as_of: date
) -> pl.DataFrame:
    """Vietnamese passports: a letter and seven digits, issued by Việt Nam."""
    adult = _age(persons, as_of) >= PASSPORT_MIN_AGE
    holds = adult & (rng.random(persons.height) < VIETNAMESE_PASSPORT_SHARE)
    letter = np.asarray(list("CNPK"))[rng.integers(0, 4, persons.height)]
    number = pl.Series(letter) + pl.Series(rng.integers(0, 10_000_000, persons.height)).cast(
        pl.String
    ).str.zfill(7)
    mask = pl.Series(~holds)
    return persons.with_columns(
        passport_number=number.set(mask, None),
        passport_country=pl.Series(np.full(persons.height, VIETNAM_CODE)).set(mask, None),
    )


# --- foreign persons ----------------------------------------------------------------------------


def foreigners(
    rng: np.random.Generator,
    keys: pl.Series,
    female: np.ndarray,
    birth_dates: np.ndarray,
    origin: str,
    country: np.ndarray | None = None,
) -> pl.DataFrame:
    """Foreign persons with a passport of their country; no ward unless the caller gives one."""
    size = len(keys)
    country = foreign.draw_countries(rng, size) if country is None else country
    family, given, reading = foreign.foreign_names(rng, country, female)
    born = pl.Series(birth_dates).cast(pl.Date)
    frame = pl.DataFrame(
        {
            "person_key": keys,
            "family_name": family,
            "given_name": given,
            "vietnamese_reading": reading,
            "sex": np.where(female, names.SEX_LABELS[1], names.SEX_LABELS[0]),
            "birth_date": born,
            "birth_year": born.dt.year(),
            "nationality_code": country,
            "passport_number": foreign.passport_numbers(rng, country),
            "passport_country": country,
            "origin": origin,
            "in_register": False,
            "is_deceased": False,
            "marital_status": names.MARITAL_SINGLE,
        }
    )
    frame = frame.with_columns(
        full_name=foreign.own_order(
            pl.col("family_name"), pl.col("given_name"), pl.col("nationality_code")
        ),
        nationalities=pl.concat_list("nationality_code"),
    )
    return frame.with_columns(nationality=foreign.vietnamese_names(frame["nationalities"]))


def _birth_dates(rng: np.random.Generator, ages: np.ndarray, as_of: date) -> np.ndarray:
    days = np.floor(ages * 365.2425).astype(np.int64)
    return np.datetime64(as_of) - days.astype("timedelta64[D]")


def _keys(chunk: Chunk, prefix: str, start: int, size: int) -> pl.Series:
    """`size` keys after the first `start` of the chunk's (`Chunk.keys`)."""
    return chunk.keys(prefix, pl.Series(np.arange(start, start + size)))


def _count(persons: pl.DataFrame, prefix: str) -> int:
    return int(persons["person_key"].str.starts_with(prefix).sum())


def _foreign_fathers(population: Population, rng: np.random.Generator) -> Population:
    """Foreign fathers of births to mothers without a partner at home (twins excluded)."""
    persons, births, as_of = population.persons, population.births, population.as_of
    singles = births.join(
        persons.select(child_key="person_key", twin_key="twin_key"),
        on="child_key",
        how="left",
        maintain_order="left",
    ).filter(pl.col("father_key").is_null() & pl.col("twin_key").is_null())
    wanted = _at_least_one(FOREIGN_FATHER_SHARE, births.height)
    picked = singles.filter(
        pl.Series(rng.permutation(singles.height) < min(wanted, singles.height))
    )
    if picked.height == 0:
        return population
    mothers = picked.join(
        persons.select(mother_key="person_key", mother_year="birth_year"),
        on="mother_key",
        how="left",
        maintain_order="left",
    )
    ages = as_of.year - mothers["mother_year"].to_numpy() + rng.normal(4.0, 4.0, picked.height)
    fathers = foreigners(
        rng,
        _keys(population.chunk, "F", _count(persons, "F"), picked.height),
        np.zeros(picked.height, dtype=bool),
        _birth_dates(rng, np.clip(ages, MARRIAGE_MIN_AGE, 70), as_of),
        ORIGIN_FOREIGN_PARTY,
    )
    children = picked.select("child_key").with_columns(
        father_key=fathers["person_key"],
        father_name=fathers["full_name"],
        father_family=fathers["family_name"],
        father_country=fathers["nationality_code"],
    )
    persons = name_children(persons, children, rng)
    births = (
        births.join(
            children.select("child_key", new_father="father_key"),
            on="child_key",
            how="left",
            maintain_order="left",
        )
        .with_columns(father_key=pl.coalesce("new_father", "father_key"))
        .drop("new_father")
    )
    persons = pl.concat([persons, fathers], how="diagonal_relaxed")
    return replace(population, persons=persons, births=births)


def name_children(
    persons: pl.DataFrame, children: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """Children of a foreign father: the father's name and key, a mixed name for some ("Kim
    Minh Anh", "Nguyễn Anna", "Anna Nguyễn Minh"), two nationalities for a few (one at least,
    so that a chunk's few such children show it)."""
    size = children.height
    kind = np.asarray(list(MIXED_NAME_SHARES))[
        rng.choice(len(MIXED_NAME_SHARES), size, p=list(MIXED_NAME_SHARES.values()))
    ]
    sex = children.join(
        persons.select(child_key="person_key", sex="sex"),
        on="child_key",
        how="left",
        maintain_order="left",
    )["sex"]
    female = (sex == names.SEX_LABELS[1]).to_numpy()
    foreign_given = np.asarray(foreign.MIXED_GIVEN_NAMES, dtype=object)[
        female.astype(int), rng.integers(0, len(foreign.MIXED_GIVEN_NAMES[0]), size)
    ]
    dual = rng.permutation(size) < _at_least_one(DUAL_NATIONALITY_SHARE, size)
    children = children.with_columns(
        kind=pl.Series(kind),
        foreign_given=pl.Series(foreign_given.tolist(), dtype=pl.String),
        new_nationalities=pl.when(pl.Series(dual))
        .then(pl.concat_list(pl.lit(VIETNAM_CODE), "father_country"))
        .otherwise(pl.lit([VIETNAM_CODE], dtype=pl.List(pl.String))),
    )
    merged = persons.join(
        children.rename({"child_key": "person_key"}),
        on="person_key",
        how="left",
        maintain_order="left",
        suffix="_new",
    )
    kind = pl.col("kind")
    middle_given = pl.concat_str(["middle_name", "given_name"], separator=" ", ignore_nulls=True)
    family = pl.when(kind == "father_family").then("father_family").otherwise("family_name")
    full = (
        pl.when(kind == "father_family")
        .then(pl.concat_str([pl.col("father_family"), middle_given], separator=" "))
        .when(kind == "foreign_given")
        .then(pl.concat_str(["family_name", "foreign_given"], separator=" "))
        .when(kind == "foreign_given_first")
        .then(
            pl.concat_str(
                ["foreign_given", "family_name", "middle_name"], separator=" ", ignore_nulls=True
            )
        )
        .otherwise("full_name")
    )
    given = (
        pl.when(kind.is_in(["foreign_given", "foreign_given_first"]))
        .then("foreign_given")
        .otherwise("given_name")
    )
    nationalities = pl.coalesce("new_nationalities", "nationalities")
    return merged.with_columns(
        father_key=pl.coalesce("father_key_new", "father_key"),
        father_name=pl.coalesce("father_name_new", "father_name"),
        full_name=full,
        family_name=family,
        given_name=given,
        nationalities=nationalities,
        nationality=foreign.vietnamese_names(merged.select(nationalities).to_series()),
    ).select(persons.columns)


def _foreign_spouses(population: Population, rng: np.random.Generator) -> Population:
    """A foreign spouse in place of the husband (mostly) or the wife of a share of marriages;
    the register person drawn for that place stays as they were, single."""
    persons, marriages, as_of = population.persons, population.marriages, population.as_of
    wanted = _at_least_one(FOREIGN_SPOUSE_SHARE, marriages.height)
    chosen = marriages.filter(pl.Series(rng.permutation(marriages.height) < wanted))
    if chosen.height == 0:
        return population
    husband_foreign = rng.random(chosen.height) < FOREIGN_HUSBAND_SHARE
    replaced = np.where(husband_foreign, chosen["husband_key"], chosen["wife_key"])
    kept = np.where(husband_foreign, chosen["wife_key"], chosen["husband_key"])
    years = (
        pl.DataFrame({"person_key": replaced})
        .join(
            persons.select("person_key", "birth_year"),
            on="person_key",
            how="left",
            maintain_order="left",
        )["birth_year"]
        .to_numpy()
    )
    ages = as_of.year - years + rng.normal(2, 3, len(kept))
    spouses = foreigners(
        rng,
        _keys(population.chunk, "F", _count(persons, "F"), chosen.height),
        ~husband_foreign,
        _birth_dates(rng, np.clip(ages, MARRIAGE_MIN_AGE, 70), as_of),
        ORIGIN_FOREIGN_PARTY,
    ).with_columns(
        marital_status=pl.lit(names.MARITAL_MARRIED),
        spouse_key=pl.Series(kept, dtype=pl.String),
        marriage_date=chosen["marriage_date"],
    )
    undone = pl.Series(replaced, dtype=pl.String).implode()
    spouse_of_kept = dict(zip(kept, spouses["person_key"], strict=True))
    persons = persons.with_columns(
        spouse_key=pl.when(pl.col("person_key").is_in(undone))
        .then(None)
        .otherwise(
            pl.col("person_key").replace_strict(spouse_of_kept, default=pl.col("spouse_key"))
        ),
        marital_status=pl.when(pl.col("person_key").is_in(undone))
        .then(pl.lit(names.MARITAL_SINGLE))
        .otherwise("marital_status"),
        marriage_date=pl.when(pl.col("person_key").is_in(undone))
        .then(None)
        .otherwise("marriage_date"),
    )
    new_key = dict(zip(replaced, spouses["person_key"], strict=True))
    marriages = marriages.with_columns(
        husband_key=pl.col("husband_key").replace(new_key),
        wife_key=pl.col("wife_key").replace(new_key),
    )
    persons = pl.concat([persons, spouses], how="diagonal_relaxed")
    return replace(population, persons=persons, marriages=marriages)


# --- residents outside the register -----------------------------------------------------------


def _unregistered_children(population: Population, rng: np.random.Generator) -> pl.DataFrame:
    """School-age brothers and sisters of register children, whom the register never saw: born
    abroad or never registered. They share the family's household, parents and address."""
    persons, as_of = population.persons, population.as_of
    age = _age(persons, as_of)
    low, high = SCHOOL_AGES
    siblings = persons.filter(
        pl.Series((age >= low) & (age < high)) & pl.col("mother_key").is_not_null()
    )
    count = rng.binomial(siblings.height, UNREGISTERED_CHILD_SHARE) if siblings.height else 0
    template = siblings[np.sort(rng.choice(siblings.height, count, replace=False))]
    female = rng.random(count) < 0.5
    ages = _sibling_ages(rng, template, persons, as_of)
    born = pl.Series(_birth_dates(rng, ages, as_of)).cast(pl.Date)
    middle = draw_middle(rng, female, born.dt.year().to_numpy())
    given = draw_given(rng, female)
    return template.with_columns(
        person_key=_keys(population.chunk, "U", 0, count),
        middle_name=pl.Series(middle.tolist(), dtype=pl.String),
        given_name=pl.Series(given.tolist(), dtype=pl.String),
        sex=pl.Series(np.where(female, names.SEX_LABELS[1], names.SEX_LABELS[0])),
        birth_date=born,
        birth_year=born.dt.year(),
        twin_key=pl.lit(None, dtype=pl.String),
        origin=pl.lit(ORIGIN_UNREGISTERED_CHILD),
        in_register=pl.lit(False),
        **dict.fromkeys(
            (
                "national_id",
                "cmnd",
                "bhxh_code",
                "health_card",
                "phone",
                "previous_national_id",
                "passport_number",
                "passport_country",
            ),
            pl.lit(None, dtype=pl.String),
        ),
    ).with_columns(
        full_name=pl.concat_str(
            ["family_name", "middle_name", "given_name"], separator=" ", ignore_nulls=True
        )
    )


def _sibling_ages(
    rng: np.random.Generator, siblings: pl.DataFrame, persons: pl.DataFrame, as_of: date
) -> np.ndarray:
    """An age one to three years from the sibling's, still of school age, and one at which the
    mother was of an age to bear a child (as `population.MOTHER_AGE_AT_BIRTH` allows)."""
    mothers = siblings.select("mother_key").join(
        persons.select(mother_key="person_key", mother_year="birth_year"),
        on="mother_key",
        how="left",
        maintain_order="left",
    )
    mother_age = as_of.year - mothers["mother_year"].to_numpy()
    sibling_age = as_of.year - siblings["birth_year"].to_numpy()
    gap = rng.uniform(1, 3, siblings.height) * np.where(rng.random(siblings.height) < 0.5, -1, 1)
    low = np.maximum(SCHOOL_AGES[0], mother_age - MOTHER_AGE_AT_BIRTH.high)
    high = np.minimum(SCHOOL_AGES[1] - 0.01, mother_age - MOTHER_AGE_AT_BIRTH.low)
    return np.clip(sibling_age + gap, low, np.maximum(low, high))


def _residents_without_register(population: Population, rng: np.random.Generator) -> pl.DataFrame:
    """Foreigners living in Hà Nội, and stateless persons of Vietnamese origin holding an
    identity certificate (12 digits, like a personal id), at the address of a register person."""
    persons, as_of = population.persons, population.as_of
    residents = rng.binomial(persons.height, RESIDENT_FOREIGNER_SHARE)
    stateless = rng.binomial(persons.height, STATELESS_SHARE)
    ages = rng.uniform(*ADULT_AGES, residents + stateless)
    female = rng.random(residents + stateless) < 0.4
    born = _birth_dates(rng, ages, as_of)
    foreign_residents = foreigners(
        rng,
        _keys(population.chunk, "F", _count(persons, "F"), residents),
        female[:residents],
        born[:residents],
        ORIGIN_RESIDENT_FOREIGNER,
    )
    born_s = pl.Series(born[residents:]).cast(pl.Date)
    female_s = female[residents:]
    middle = draw_middle(rng, female_s, born_s.dt.year().to_numpy())
    given = draw_given(rng, female_s)
    family_labels = np.asarray([n for n, _ in names.FAMILY_NAMES], dtype=object)
    family = family_labels[rng.integers(0, 8, stateless)]
    certificates = identifiers.national_ids(
        rng, np.full(stateless, 1), born_s.dt.year().to_numpy(), female_s, population.chunk.share
    )
    without_nationality = pl.DataFrame(
        {
            "person_key": _keys(population.chunk, "S", 0, stateless),
            "family_name": pl.Series(family.tolist(), dtype=pl.String),
            "middle_name": pl.Series(middle.tolist(), dtype=pl.String),
            "given_name": pl.Series(given.tolist(), dtype=pl.String),
            "sex": np.where(female_s, names.SEX_LABELS[1], names.SEX_LABELS[0]),
            "birth_date": born_s,
            "birth_year": born_s.dt.year(),
            "identity_certificate": certificates,
            "origin": ORIGIN_STATELESS,
            "in_register": False,
            "is_deceased": False,
            "marital_status": names.MARITAL_SINGLE,
            "nationalities": pl.Series([[] for _ in range(stateless)], dtype=pl.List(pl.String)),
        }
    ).with_columns(
        full_name=pl.concat_str(
            ["family_name", "middle_name", "given_name"], separator=" ", ignore_nulls=True
        ),
        ethnicity=pl.lit("Kinh"),
    )
    added = pl.concat([foreign_residents, without_nationality], how="diagonal_relaxed")
    hosts = persons.filter("in_register")
    host = hosts[rng.integers(0, hosts.height, added.height)]
    address = host.select("old_ward_code", "ward_code", "street_address")
    return added.with_columns(address.get_columns())
