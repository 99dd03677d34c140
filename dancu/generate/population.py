"""The true population of Hà Nội on the `as_of` date: households, persons, family ties, events.

Households are drawn first (couples with children, some with the husband's parents, elderly
couples, people living alone, single mothers); members get ages consistent with their roles (a
mother is 18-45 at each child's birth), and the age pyramid emerges close to Vietnam's. About 1%
of births are twins: same parents, household, birth date and birth province, different given
names, and personal ids that differ in the serial (often by one, registered together); persons
name their twin in `twin_key`. Then each person gets names, ids, codes and an address, all as
whole-column numpy/polars operations.

Civil events happen in the year before `as_of`: children born in it are the births, a share of
the unmarried adults marry, and ~0.6% of persons, mostly elderly, die (they stay in the table with
`death_date`). Nobody moves: a person's old ward and current ward are those of the household.

Everything here is drawn for one chunk of the city (`chunks.Chunk`): its wards, its persons, its
random streams and its share of the id ranges; couples marry within their chunk.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from dancu import admin_units
from dancu.generate import identifiers, names
from dancu.generate.chunks import Chunk, ward_weights
from dancu.generate.rng import choice, top_k_weighted

ROLE_GRANDFATHER, ROLE_GRANDMOTHER, ROLE_HUSBAND, ROLE_WIFE, ROLE_CHILD, ROLE_SINGLE = range(6)


@dataclass(frozen=True)
class ClippedNormal:
    """A normal distribution, its draws clipped to [low, high]."""

    mean: float
    sd: float
    low: float
    high: float

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.clip(rng.normal(self.mean, self.sd, size), self.low, self.high)


@dataclass(frozen=True)
class Zipf:
    """Weights `scale / (position + offset) ** exponent` of a list ordered most common first."""

    scale: float
    offset: float
    exponent: float

    def weights(self, count: int) -> np.ndarray:
        return self.scale / (np.arange(count) + self.offset) ** self.exponent


# --- assumptions: households: who lives with whom ---------------------------------------------

# Household kinds and their shares; households average ~3.1 persons (Hà Nội: 3.2 to 3.3).
HOUSEHOLD_SHARES = {
    "couple": 0.69, "elder_couple": 0.08, "single_young": 0.08, "single_elder": 0.07,
    "single_parent": 0.08,
}  # fmt: skip
PERSONS_PER_HOUSEHOLD_GUESS = 3.0  # sizes the first draw of households; more follow if short
THREE_GENERATION_SHARE = 0.30  # of couples whose husband is at most THREE_GENERATION_MAX_AGE
THREE_GENERATION_MAX_AGE = 55
# Children born to a mother (0, 1, 2, ...), by the kind of her household.
CHILD_COUNT_SHARES = {
    "couple": (0.06, 0.22, 0.47, 0.19, 0.06),
    "single_parent": (0.0, 0.6, 0.35, 0.05),
}
CHILDREN_LEAVE_AT = 28  # older children have households of their own
BOY_SHARE_AT_BIRTH = 0.525  # Vietnam's sex ratio at birth ~1.11
TWIN_BIRTH_SHARE = 0.01  # of births: East Asian twinning rates are ~1% of deliveries
TWIN_SAME_SEX_SHARE = 0.7  # identical twins (~40% in East Asia) and half of the fraternal ones
# The adults who live without a partner: their sex and marital status.
SINGLE_PARENT_STATUS_SHARES = {
    names.MARITAL_DIVORCED: 0.5, names.MARITAL_WIDOWED: 0.2, names.MARITAL_SINGLE: 0.3,
}  # fmt: skip
YOUNG_SINGLE_NEVER_MARRIED_SHARE = 0.9  # the others are divorced
ELDER_SINGLE_STATUS_SHARES = {
    names.MARITAL_WIDOWED: 0.8, names.MARITAL_DIVORCED: 0.1, names.MARITAL_SINGLE: 0.1,
}  # fmt: skip
FEMALE_SHARE = {"single_young": 0.5, "single_elder": 0.72}

# --- assumptions: ages ------------------------------------------------------------------------

# Age bins (from, to, weight) of the person a household is drawn around.
HUSBAND_AGES = ((22, 25, 5), (25, 30, 10), (30, 35, 13), (35, 40, 13), (40, 45, 11),
                (45, 50, 10), (50, 55, 9), (55, 60, 7), (60, 65, 5))  # fmt: skip
ELDER_HUSBAND_AGES = ((58, 63, 6), (63, 68, 6), (68, 73, 5), (73, 78, 3), (78, 83, 2), (83, 92, 1))
YOUNG_SINGLE_AGES = ((20, 25, 3), (25, 30, 4), (30, 38, 3))
ELDER_SINGLE_AGES = ((60, 65, 4), (65, 70, 4), (70, 75, 3.5), (75, 80, 3), (80, 85, 2), (85, 97, 1))
SINGLE_MOTHER_AGES = ((25, 35, 4), (35, 45, 4), (45, 52, 2))
SPOUSE_AGE_GAP = ClippedNormal(3.0, 3.0, -3.0, 12.0)  # the husband's years over his wife's
WIFE_MIN_AGE = 19.0
MOTHER_AGE_AT_BIRTH = ClippedNormal(27.5, 5.0, 18.5, 44.5)
# A couple's parents are alive with probability 1 / (1 + exp((age - median) / spread)).
SURVIVAL_MEDIAN_AGE = 84.0
SURVIVAL_SPREAD = 5.0

# --- assumptions: names -----------------------------------------------------------------------

YEAR_ONLY_SHARE = ((1950, 0.40), (1960, 0.25), (1975, 0.06))  # born before -> share year-only
CLASSIC_MIDDLE_SHARE = ((1975, 0.55, 0.75), (1995, 0.30, 0.45), (9999, 0.08, 0.15))  # male, female
DOUBLE_MIDDLE_SHARE = (0.03, 0.08)  # male, female: "Nguyễn Thị Thu Hà"
NO_MIDDLE_SHARE = 0.03
GIVEN_NAME_WEIGHTS = Zipf(30.0, 3.0, 1.1)
GIVEN_HEAD_DIVISOR = 10.0  # brings `names.GIVEN_HEAD_WEIGHT` to the scale of the Zipf weights
PARENT_AGE_GAP = 28  # years between a child and a parent who is not in the population

# --- assumptions: places ----------------------------------------------------------------------

# Wards weigh as `chunks.ward_weights` draws them.
# Numbers in street addresses, each drawn from [low, high).
STREET_NUMBERS = {"house": (1, 200), "lane": (1, 400), "alley": (1, 60), "hamlet": (1, 15)}
HANOI_ID_PROVINCE = 1  # Hà Nội's province code in personal ids ("001")
MINORS_BORN_HERE_SHARE = 0.9  # of persons under ADULT_AGE: born in Hà Nội
ADULT_AGE = 18
HOMETOWN_ELSEWHERE_SHARE = 0.4  # hometowns drawn again rather than the birth province

# --- assumptions: identifiers -----------------------------------------------------------------

# Twins of one sex registered together get neighbouring serials where the next one is free.
TWIN_CONSECUTIVE_SERIAL_SHARE = 0.6
SERIALS = 1_000_000  # the last six digits of a personal id
CMND_SHARE = 0.6  # of persons 14 or older when CCCD replaced CMND (born before CMND_BORN_BEFORE)
CMND_BORN_BEFORE = 2000
BHXH_SHARE_BY_AGE = ((6, 0.97), (18, 0.92), (60, 0.85), (200, 0.88))
PHONE_SHARE_ADULT = 0.92  # of persons PHONE_ADULT_AGE or older
PHONE_SHARE_CHILD = 0.08
PHONE_ADULT_AGE = 15

# --- assumptions: civil events ----------------------------------------------------------------

EVENT_WINDOW_DAYS = 365
DEATH_RATE = 0.006
# Deaths: a Gompertz hazard exp(growth * (age - modal age)), plus a small risk in the first year.
GOMPERTZ_GROWTH = 0.09
GOMPERTZ_MODAL_AGE = 85.0
INFANT_HAZARD = 0.01
MARRIAGE_RATE = 0.006  # marriages per person per year, so twice as many persons marry
# Who marries: unmarried persons from the lowest age up to MARRIAGE_MAX_AGE, weighted by a bell
# of width MARRIAGE_AGE_SPREAD around the peak age.
MARRIAGE_AGES = {"men": (21.0, 29.0), "women": (19.0, 26.0)}  # (lowest, peak)
MARRIAGE_MAX_AGE = 40
MARRIAGE_AGE_SPREAD = 5.0

PERSON_COLUMNS = (
    "person_key", "household_id", "full_name", "family_name", "middle_name", "given_name", "sex",
    "birth_date", "birth_year", "national_id", "cmnd", "ethnicity", "religion", "nationality",
    "hometown", "old_ward_code", "ward_code", "street_address", "marital_status", "phone",
    "bhxh_code", "health_card", "mother_key", "father_key", "spouse_key", "father_name",
    "mother_name", "marriage_date", "is_deceased", "death_date", "twin_key", "origin",
    "in_register", "nationality_code", "nationalities", "vietnamese_reading",
    "previous_national_id", "passport_number", "passport_country", "identity_certificate",
)  # fmt: skip
# Who a person is to the register (`origin`): `elements` adds the others.
ORIGIN_REGISTER = "register"
VIETNAM_CODE = "VNM"


@dataclass(frozen=True)
class Population:
    """The truth: persons (one row each) and the civil events of the year before `as_of`."""

    persons: pl.DataFrame
    births: pl.DataFrame  # child_key, mother_key, father_key, birth_date
    deaths: pl.DataFrame  # person_key, death_date
    marriages: pl.DataFrame  # husband_key, wife_key, marriage_date
    as_of: date
    chunk: Chunk  # the part of the city these persons live in

    @property
    def window_start(self) -> date:
        """Events happen after this date and on or before `as_of`."""
        return self.as_of - timedelta(days=EVENT_WINDOW_DAYS)


def build_population(chunk: Chunk, as_of: date) -> Population:
    members = _members(chunk)
    frame = _with_keys(members, chunk)
    frame = _with_dates(frame, chunk, as_of)
    frame = _with_names(frame, chunk)
    frame = _with_places(frame, chunk)
    frame = _with_identifiers(frame, chunk)
    frame, marriages = _marry(frame, chunk, as_of)
    births = _births(frame, as_of)
    frame, deaths = _die(frame, chunk, as_of, births, marriages)
    persons = _as_registered(frame).select(PERSON_COLUMNS)
    return Population(persons, births, deaths, marriages, as_of, chunk)


def _as_registered(frame: pl.DataFrame) -> pl.DataFrame:
    """Everyone drawn here is a Vietnamese citizen in the register, with no other document than
    the ids drawn (`elements` adds foreigners, re-issued ids and passports)."""
    nothing = pl.lit(None, dtype=pl.String)
    return frame.with_columns(
        origin=pl.lit(ORIGIN_REGISTER),
        in_register=pl.lit(True),
        nationality_code=pl.lit(VIETNAM_CODE),
        nationalities=pl.lit([VIETNAM_CODE], dtype=pl.List(pl.String)),
        vietnamese_reading=nothing,
        previous_national_id=nothing,
        passport_number=nothing,
        passport_country=nothing,
        identity_certificate=nothing,
    )


# --- households and members -------------------------------------------------------------------


def _ages(rng: np.random.Generator, bins, size: int) -> np.ndarray:
    """Continuous ages: a bin by weight, then uniform inside it."""
    lows, highs, weights = (np.asarray(x, dtype=np.float64) for x in zip(*bins, strict=True))
    pick = choice(rng, weights, size)
    return lows[pick] + rng.random(size) * (highs[pick] - lows[pick])


def _frame(hh: np.ndarray, role: int, age: np.ndarray, female, marital) -> pl.DataFrame:
    size = len(hh)
    return pl.DataFrame(
        {
            "hh": hh.astype(np.int64),
            "role": np.full(size, role, dtype=np.int8),
            "age": age.astype(np.float64),
            "female": np.broadcast_to(np.asarray(female, dtype=bool), size),
            "marital_status": np.broadcast_to(np.asarray(marital, dtype=object), size).astype(str),
        }
    )


def _members(chunk: Chunk) -> pl.DataFrame:
    """Exactly the chunk's persons, members of whole households (the last one may be cut
    short)."""
    persons = chunk.persons
    households = int(persons / PERSONS_PER_HOUSEHOLD_GUESS) + 16
    while True:
        members = _draw_members(
            chunk.stream(f"households.{households}"),
            chunk.stream(f"twins.{households}"),
            households,
        )
        if members.height >= persons:
            return members.head(persons)
        households *= 2


def _draw_members(
    rng: np.random.Generator, twin_rng: np.random.Generator, households: int
) -> pl.DataFrame:
    """Members of each household by its kind, in the order of the draws; children carry the
    number of their `birth`, which twins share."""
    kind = choice(rng, list(HOUSEHOLD_SHARES.values()), households)
    hh_of = {k: np.flatnonzero(kind == i) for i, k in enumerate(HOUSEHOLD_SHARES)}
    couples = np.concatenate([hh_of["couple"], hh_of["elder_couple"]])
    husband_age, wife_age = _couple_ages(rng, hh_of)
    parts = [
        _frame(couples, ROLE_HUSBAND, husband_age, False, names.MARITAL_MARRIED),
        _frame(couples, ROLE_WIFE, wife_age, True, names.MARITAL_MARRIED),
        *_grandparents(rng, couples, husband_age),
    ]
    single_mothers = hh_of["single_parent"]
    mother_age = _ages(rng, SINGLE_MOTHER_AGES, len(single_mothers))
    mother_status = _statuses(rng, SINGLE_PARENT_STATUS_SHARES, len(single_mothers))
    parts.append(_frame(single_mothers, ROLE_WIFE, mother_age, True, mother_status))
    mothers = {"couple": (couples, wife_age), "single_parent": (single_mothers, mother_age)}
    parts.append(_children(rng, twin_rng, mothers))
    parts += _living_alone(rng, hh_of)
    return pl.concat(parts, how="diagonal").sort(
        ["hh", "role", "age"], descending=[False, False, True], maintain_order=True
    )


def _statuses(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    return np.asarray(list(shares), dtype=object)[choice(rng, list(shares.values()), size)]


def _couple_ages(rng: np.random.Generator, hh_of: dict) -> tuple[np.ndarray, np.ndarray]:
    """Husbands' and wives' ages, couples first, then elder couples."""
    husband_age = np.concatenate(
        [
            _ages(rng, HUSBAND_AGES, len(hh_of["couple"])),
            _ages(rng, ELDER_HUSBAND_AGES, len(hh_of["elder_couple"])),
        ]
    )
    gap = SPOUSE_AGE_GAP.draw(rng, len(husband_age))
    return husband_age, np.maximum(husband_age - gap, WIFE_MIN_AGE)


def _grandparents(
    rng: np.random.Generator, couples: np.ndarray, husband_age: np.ndarray
) -> list[pl.DataFrame]:
    """The husband's parents, where they live with a younger couple and are still alive."""
    young = husband_age <= THREE_GENERATION_MAX_AGE
    three_gen = young & (rng.random(len(couples)) < THREE_GENERATION_SHARE)
    son_age = husband_age[three_gen]
    grandmother_age = son_age + MOTHER_AGE_AT_BIRTH.draw(rng, len(son_age))
    grandfather_age = grandmother_age + SPOUSE_AGE_GAP.draw(rng, len(son_age))
    ages = np.stack([grandfather_age, grandmother_age])
    survives = 1 / (1 + np.exp((ages - SURVIVAL_MEDIAN_AGE) / SURVIVAL_SPREAD))
    alive = rng.random(survives.shape) < survives
    both = alive[0] & alive[1]
    parts = []
    for role, age, keep, female in (
        (ROLE_GRANDFATHER, grandfather_age, alive[0], False),
        (ROLE_GRANDMOTHER, grandmother_age, alive[1], True),
    ):
        status = np.where(both[keep], names.MARITAL_MARRIED, names.MARITAL_WIDOWED)
        parts.append(_frame(couples[three_gen][keep], role, age[keep], female, status))
    return parts


def _children(
    rng: np.random.Generator,
    twin_rng: np.random.Generator,
    mothers: dict[str, tuple[np.ndarray, np.ndarray]],
) -> pl.DataFrame:
    """Per mother (households and ages, by household kind) a count of births, per birth the
    mother's age at it and for a few a second child, the twin; those who have grown up have
    left."""
    households = np.concatenate([hh for hh, _ in mothers.values()])
    ages = np.concatenate([age for _, age in mothers.values()])
    count = np.concatenate(
        [choice(rng, CHILD_COUNT_SHARES[kind], len(hh)) for kind, (hh, _) in mothers.items()]
    )
    child_hh = np.repeat(households, count)
    child_age = np.repeat(ages, count) - MOTHER_AGE_AT_BIRTH.draw(rng, len(child_hh))
    child_female = rng.random(len(child_hh)) >= BOY_SHARE_AT_BIRTH
    birth = np.arange(len(child_hh))
    twins = twin_rng.random(len(child_hh)) < TWIN_BIRTH_SHARE
    same_sex = twin_rng.random(int(twins.sum())) < TWIN_SAME_SEX_SHARE
    twin_female = np.where(same_sex, child_female[twins], ~child_female[twins])
    child_hh = np.concatenate([child_hh, child_hh[twins]])
    child_age = np.concatenate([child_age, child_age[twins]])
    child_female = np.concatenate([child_female, twin_female])
    birth = np.concatenate([birth, birth[twins]])
    at_home = (child_age >= 0) & (child_age <= CHILDREN_LEAVE_AT)
    children = _frame(
        child_hh[at_home],
        ROLE_CHILD,
        child_age[at_home],
        child_female[at_home],
        names.MARITAL_SINGLE,
    )
    return children.with_columns(birth=pl.Series(birth[at_home], dtype=pl.Int64))


def _living_alone(rng: np.random.Generator, hh_of: dict) -> list[pl.DataFrame]:
    """Young and elderly persons who live alone."""
    young, elders = hh_of["single_young"], hh_of["single_elder"]
    young_age = _ages(rng, YOUNG_SINGLE_AGES, len(young))
    young_female = rng.random(len(young)) < FEMALE_SHARE["single_young"]
    never_married = rng.random(len(young)) < YOUNG_SINGLE_NEVER_MARRIED_SHARE
    young_status = np.where(never_married, names.MARITAL_SINGLE, names.MARITAL_DIVORCED)
    elder_age = _ages(rng, ELDER_SINGLE_AGES, len(elders))
    elder_female = rng.random(len(elders)) < FEMALE_SHARE["single_elder"]
    elder_status = _statuses(rng, ELDER_SINGLE_STATUS_SHARES, len(elders))
    return [
        _frame(young, ROLE_SINGLE, young_age, young_female, young_status),
        _frame(elders, ROLE_SINGLE, elder_age, elder_female, elder_status),
    ]


def _with_keys(members: pl.DataFrame, chunk: Chunk) -> pl.DataFrame:
    """Person keys, household ids and the keys of mother, father and spouse."""
    frame = members.with_columns(
        person_key=chunk.keys("P", pl.int_range(pl.len())),
        household_id=chunk.keys("H", pl.col("hh"), width=7),
    )

    def key_of(role: int) -> pl.Expr:
        return pl.col("person_key").filter(pl.col("role") == role).first()

    heads = frame.group_by("hh").agg(
        gf=key_of(ROLE_GRANDFATHER),
        gm=key_of(ROLE_GRANDMOTHER),
        husband=key_of(ROLE_HUSBAND),
        wife=key_of(ROLE_WIFE),
    )
    role = pl.col("role")
    twin_birth = pl.col("birth").is_not_null() & (pl.len().over("hh", "birth") == 2)
    return (
        frame.join(heads, on="hh", how="left", maintain_order="left")
        .with_columns(
            father_key=pl.when(role == ROLE_CHILD)
            .then("husband")
            .when(role == ROLE_HUSBAND)
            .then("gf"),
            mother_key=pl.when(role == ROLE_CHILD)
            .then("wife")
            .when(role == ROLE_HUSBAND)
            .then("gm"),
            spouse_key=pl.when(role == ROLE_HUSBAND)
            .then("wife")
            .when(role == ROLE_WIFE)
            .then("husband")
            .when(role == ROLE_GRANDFATHER)
            .then("gm")
            .when(role == ROLE_GRANDMOTHER)
            .then("gf"),
            # A pair's other member: the key of the same birth read backwards.
            twin_key=pl.when(twin_birth).then(pl.col("person_key").reverse().over("hh", "birth")),
        )
        .drop("gf", "gm", "husband", "wife", "birth")
    )


# --- dates, names, places, identifiers --------------------------------------------------------


def _with_dates(frame: pl.DataFrame, chunk: Chunk, as_of: date) -> pl.DataFrame:
    """Birth dates from ages; some elderly people have only a known birth year."""
    rng = chunk.stream("birth_dates")
    days = np.floor(frame["age"].to_numpy() * 365.2425).astype(np.int64)
    birth = np.datetime64(as_of) - days.astype("timedelta64[D]")
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    share = np.zeros(len(year))
    for before, p in reversed(YEAR_ONLY_SHARE):
        share[year < before] = p
    year_only = rng.random(len(year)) < share
    return frame.with_columns(
        birth_date=pl.Series(birth).cast(pl.Date).set(pl.Series(year_only), None),
        birth_year=pl.Series(year, dtype=pl.Int32),
        sex=pl.when("female")
        .then(pl.lit(names.SEX_LABELS[1]))
        .otherwise(pl.lit(names.SEX_LABELS[0])),
    )


def _weighted_names(table) -> tuple[np.ndarray, np.ndarray]:
    labels, weights = zip(*table, strict=True)
    return np.asarray(labels, dtype=object), np.asarray(weights, dtype=np.float64)


def _given_weights(count: int) -> np.ndarray:
    """Zipf weights by list position, the head replaced by the hand-set weights."""
    weights = GIVEN_NAME_WEIGHTS.weights(count)
    head = np.asarray(names.GIVEN_HEAD_WEIGHT) / GIVEN_HEAD_DIVISOR
    weights[: len(head)] = head
    return weights


def draw_given(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    given = np.empty(len(female), dtype=object)
    for is_female, table in ((False, names.MALE_GIVEN), (True, names.FEMALE_GIVEN)):
        mask = female == is_female
        pick = choice(rng, _given_weights(len(table)), int(mask.sum()))
        given[mask] = np.asarray(table, dtype=object)[pick]
    return given


def draw_middle(rng: np.random.Generator, female: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Middle names by sex and cohort: "Văn"/"Thị" fade after 1975; some have two, a few none."""
    size = len(female)
    classic_share = np.zeros(size)
    for before, male_share, female_share in reversed(CLASSIC_MIDDLE_SHARE):
        classic_share[year < before] = np.where(female, female_share, male_share)[year < before]
    classic = rng.random(size) < classic_share
    other = np.empty(size, dtype=object)
    for is_female, table in ((False, names.MALE_MIDDLE), (True, names.FEMALE_MIDDLE)):
        mask = female == is_female
        labels, weights = _weighted_names(table)
        other[mask] = labels[choice(rng, weights, int(mask.sum()))]
    classic_name = np.where(female, names.FEMALE_CLASSIC_MIDDLE, names.MALE_CLASSIC_MIDDLE)
    male_double, female_double = DOUBLE_MIDDLE_SHARE
    double = classic & (rng.random(size) < np.where(female, female_double, male_double))
    middle = np.where(classic, classic_name, other).astype(object)
    middle[double] = classic_name[double] + " " + other[double]
    middle[rng.random(size) < NO_MIDDLE_SHARE] = None
    return middle


def _with_names(frame: pl.DataFrame, chunk: Chunk) -> pl.DataFrame:
    """Names: children take the father's family name (the mother's when no father lives with them);
    a husband living with his parents has his father's."""
    rng = chunk.stream("names")
    female = frame["female"].to_numpy()
    year = frame["birth_year"].to_numpy()
    family_labels, family_weights = _weighted_names(names.FAMILY_NAMES)
    own_family = family_labels[choice(rng, family_weights, frame.height)]
    middle, given = draw_middle(rng, female, year), draw_given(rng, female)
    _name_twins_apart(chunk.stream("twins.names"), _twin_pairs(frame), female, middle, given)
    # Through lists: polars cannot always build a String Series from a numpy object array.
    frame = frame.with_columns(
        own_family=pl.Series(own_family.tolist(), dtype=pl.String),
        middle_name=pl.Series(middle.tolist(), dtype=pl.String),
        given_name=pl.Series(given.tolist(), dtype=pl.String),
    )
    family = _inherit(frame, "own_family", lineage=("father_key", "mother_key"))
    frame = frame.with_columns(family_name=family).with_columns(
        full_name=pl.concat_str(
            ["family_name", "middle_name", "given_name"], separator=" ", ignore_nulls=True
        )
    )
    return pl.concat([frame.drop("own_family"), _parent_names(frame, rng)], how="horizontal")


def _twin_pairs(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of each pair of twins: the first born by key, and the other."""
    rows = frame.select("person_key", "twin_key").with_row_index("row")
    pairs = rows.join(
        rows.select(twin_key="person_key", twin_row="row"), on="twin_key", how="inner"
    ).filter(pl.col("person_key") < pl.col("twin_key"))
    pairs = pairs.sort("row")
    return pairs["row"].to_numpy().astype(np.int64), pairs["twin_row"].to_numpy().astype(np.int64)


def _name_twins_apart(
    rng: np.random.Generator,
    pairs: tuple[np.ndarray, np.ndarray],
    female: np.ndarray,
    middle: np.ndarray,
    given: np.ndarray,
) -> None:
    """Twins of one sex share their middle name; every second twin gets another given name
    than the first (in place)."""
    first, second = pairs
    same_sex = female[first] == female[second]
    middle[second[same_sex]] = middle[first[same_sex]]
    clash = given[first] == given[second]
    while clash.any():
        given[second[clash]] = draw_given(rng, female[second[clash]])
        clash = given[first] == given[second]


def _inherit(frame: pl.DataFrame, column: str, lineage: tuple[str, ...]) -> pl.Series:
    """`column` passed down from the first parent present, two generations deep (grandfather ->
    husband -> child), since a parent's own value may itself be inherited."""
    values = frame[column]
    for _ in range(2):
        lookup = frame.select(pl.col("person_key").alias("parent"), values.alias("inherited"))
        inherited = [
            frame.select(pl.col(parent).alias("parent")).join(
                lookup, on="parent", how="left", maintain_order="left"
            )["inherited"]
            for parent in lineage
        ]
        values = pl.select(pl.coalesce([*inherited, values])).to_series().alias(column)
    return values


def _parent_names(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Parents' names as the registry holds them: the real person's name where the parent is in
    the population, otherwise a plausible one (the father shares the family name)."""
    size = frame.height
    family_labels, family_weights = _weighted_names(names.FAMILY_NAMES)
    year = frame["birth_year"].to_numpy() - PARENT_AGE_GAP
    male, female = np.zeros(size, dtype=bool), np.ones(size, dtype=bool)
    made = pl.DataFrame(
        {
            "father_family": frame["family_name"],
            "father_middle": pl.Series(draw_middle(rng, male, year).tolist(), dtype=pl.String),
            "father_given": pl.Series(draw_given(rng, male).tolist(), dtype=pl.String),
            "mother_family": family_labels[choice(rng, family_weights, size)].astype(str),
            "mother_middle": pl.Series(draw_middle(rng, female, year).tolist(), dtype=pl.String),
            "mother_given": pl.Series(draw_given(rng, female).tolist(), dtype=pl.String),
        }
    )
    lookup = frame.select("person_key", "full_name")

    def real(parent: str) -> pl.Series:
        return (
            frame.select(pl.col(parent).alias("person_key"))
            .join(lookup, on="person_key", how="left", maintain_order="left")
            .get_column("full_name")
        )

    def made_name(parent: str) -> pl.Expr:
        parts = [f"{parent}_family", f"{parent}_middle", f"{parent}_given"]
        return pl.concat_str(parts, separator=" ", ignore_nulls=True)

    return made.select(
        father_name=pl.coalesce(pl.lit(real("father_key")), made_name("father")),
        mother_name=pl.coalesce(pl.lit(real("mother_key")), made_name("mother")),
    )


def _street_addresses(rng: np.random.Generator, rural: np.ndarray) -> pl.Series:
    """Street part: "Số 12, ngõ 34, phố Huỳnh Thúc Kháng" in towns, "Xóm 3, thôn Đoài" in
    communes."""
    size = len(rural)
    house = pl.Series(rng.integers(*STREET_NUMBERS["house"], size)).cast(pl.String)
    lane = pl.Series(rng.integers(*STREET_NUMBERS["lane"], size)).cast(pl.String)
    alley = pl.Series(rng.integers(*STREET_NUMBERS["alley"], size)).cast(pl.String)
    street = pl.Series(np.asarray(names.STREETS)[rng.integers(0, len(names.STREETS), size)])
    village = pl.Series(np.asarray(names.VILLAGES)[rng.integers(0, len(names.VILLAGES), size)])
    hamlet = pl.Series(rng.integers(*STREET_NUMBERS["hamlet"], size)).cast(pl.String)
    style = pl.Series(rng.integers(0, 3, size))
    urban = (
        pl.when(style == 0)
        .then(pl.format("Số {}, ngõ {}, phố {}", house, lane, street))
        .when(style == 1)
        .then(pl.format("Số {}, phố {}", house, street))
        .otherwise(
            pl.format("Số {}, ngách {}/{}, ngõ {}, đường {}", house, alley, lane, lane, street)
        )
    )
    countryside = (
        pl.when(style == 0)
        .then(pl.format("Xóm {}, thôn {}", hamlet, village))
        .otherwise(pl.format("Thôn {}", village))
    )
    return pl.select(pl.when(pl.Series(rural)).then(countryside).otherwise(urban)).to_series()


def _hometowns(rng: np.random.Generator, province: np.ndarray) -> pl.Series:
    """A random old ward of each given province: "Xã Hải Anh, Huyện Hải Hậu, Tỉnh Nam Định"."""
    wards = admin_units.old_wards().sort("old_province_code", "old_ward_code")
    codes = wards["old_province_code"].cast(pl.Int64).to_numpy()
    start = np.searchsorted(codes, province % 100, side="left")
    stop = np.searchsorted(codes, province % 100, side="right")
    pick = start + (rng.random(len(province)) * (stop - start)).astype(np.int64)
    text = wards.select(
        pl.concat_str(["old_ward_name", "old_district_name", "old_province_name"], separator=", ")
    ).to_series()
    return text.gather(pick)


def _with_places(frame: pl.DataFrame, chunk: Chunk) -> pl.DataFrame:
    """Ward (one of the chunk's), street address, ethnicity and religion per household; birth
    province per person."""
    rng = chunk.stream("places")
    conversion = admin_units.ward_conversion()
    households = frame["hh"].max() + 1
    in_chunk = conversion["ward_code"].is_in(list(chunk.wards)).to_numpy()
    ward = choice(rng, ward_weights(chunk.seed) * in_chunk, households)
    rural = (conversion["old_ward_type"] == "Xã").to_numpy()[ward]
    ethnic_labels, ethnic_weights = _weighted_names(names.ETHNIC_GROUPS)
    religion_labels, religion_weights = _weighted_names(names.RELIGIONS)
    per_household = pl.DataFrame(
        {
            "hh": np.arange(households),
            "old_ward_code": conversion["old_ward_code"].gather(ward),
            "ward_code": conversion["ward_code"].gather(ward),
            "street_address": _street_addresses(rng, rural),
            "ethnicity": ethnic_labels[choice(rng, ethnic_weights, households)].astype(str),
            "religion": religion_labels[choice(rng, religion_weights, households)].astype(str),
        }
    )
    codes, weights = _weighted_names(names.BIRTH_PROVINCES)
    province = codes[choice(rng, weights, frame.height)].astype(np.int64)
    minor = frame["age"].to_numpy() < ADULT_AGE
    born_here = minor & (rng.random(frame.height) < MINORS_BORN_HERE_SHARE)
    province[born_here] = HANOI_ID_PROVINCE
    first_twin, second_twin = _twin_pairs(frame)
    province[second_twin] = province[first_twin]
    home = province.copy()
    moved = rng.random(frame.height) < HOMETOWN_ELSEWHERE_SHARE
    home[moved] = codes[choice(rng, weights, int(moved.sum()))].astype(np.int64)
    frame = frame.with_columns(
        id_province=pl.Series(province),
        hometown=_hometowns(rng, home),
        nationality=pl.lit(names.NATIONALITY),
    )
    return frame.join(per_household, on="hh", how="left", maintain_order="left").with_columns(
        hometown=_inherit(frame, "hometown", lineage=("father_key", "mother_key"))
    )


def _with_identifiers(frame: pl.DataFrame, chunk: Chunk) -> pl.DataFrame:
    rng = chunk.stream("identifiers")
    size = frame.height
    age = frame["age"].to_numpy()
    year = frame["birth_year"].to_numpy().astype(np.int64)
    province = frame["id_province"].to_numpy()
    female = frame["female"].to_numpy()
    national_id = identifiers.national_ids(rng, province, year, female, chunk.share)
    national_id = _twin_serials(chunk, national_id, frame, female)

    has_cmnd = (year < CMND_BORN_BEFORE) & (rng.random(size) < CMND_SHARE)
    bhxh_share = np.zeros(size)
    for below, share in reversed(BHXH_SHARE_BY_AGE):
        bhxh_share[age < below] = share
    has_bhxh = rng.random(size) < bhxh_share
    bhxh = identifiers.bhxh_codes(rng, size, chunk.share)
    card = identifiers.health_cards(identifiers.card_groups(rng, age), bhxh)
    phone_share = np.where(age >= PHONE_ADULT_AGE, PHONE_SHARE_ADULT, PHONE_SHARE_CHILD)
    has_phone = rng.random(size) < phone_share
    phone = identifiers.phone_numbers(rng, size)
    return frame.with_columns(
        national_id=national_id,
        cmnd=identifiers.cmnd_numbers(rng, province).set(pl.Series(~has_cmnd), None),
        bhxh_code=bhxh.set(pl.Series(~has_bhxh), None),
        health_card=card.set(pl.Series(~has_bhxh), None),
        phone=phone.set(pl.Series(~has_phone), None),
    )


def _twin_serials(
    chunk: Chunk, national_id: pl.Series, frame: pl.DataFrame, female: np.ndarray
) -> pl.Series:
    """A share of twins of one sex registered together: the second twin's serial is the next
    one after the first's (the previous one at the end of the chunk's part of the range), where
    no one holds it."""
    rng = chunk.stream("twins.identifiers")
    first, second = _twin_pairs(frame)
    numbers = national_id.cast(pl.Int64).to_numpy().copy()
    together = (female[first] == female[second]) & (
        rng.random(len(first)) < TWIN_CONSECUTIVE_SERIAL_SHARE
    )
    part = SERIALS // chunk.count
    last_serial = numbers[first] % SERIALS == (chunk.index + 1) * part - 1
    neighbour = numbers[first] + np.where(last_serial, -1, 1)
    _, pair_of, counts = np.unique(neighbour, return_inverse=True, return_counts=True)
    free = ~np.isin(neighbour, numbers) & (counts[pair_of] == 1)
    numbers[second[together & free]] = neighbour[together & free]
    return pl.Series(numbers).cast(pl.String).str.zfill(12)


# --- events -----------------------------------------------------------------------------------


def _event_dates(rng: np.random.Generator, after: np.ndarray, as_of: date) -> pl.Series:
    """A uniform date in (after, as_of] (as_of itself when `after` is as_of); `after` in
    datetime64[D]."""
    last = np.datetime64(as_of, "D")
    first = np.minimum(after + np.timedelta64(1, "D"), last)
    span = (last - first).astype(np.int64)
    offset = (rng.random(len(after)) * (span + 1)).astype(np.int64)
    return pl.Series(first + offset.astype("timedelta64[D]"))


def _marry(frame: pl.DataFrame, chunk: Chunk, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Unmarried adults of legal age at the date (men 20+, women 18+) marry; partners of similar
    age are paired rank by rank, and never within one household."""
    rng = chunk.stream("marriages")
    count = round(MARRIAGE_RATE * frame.height)
    age = frame["age"].to_numpy()
    single = (frame["marital_status"] == names.MARITAL_SINGLE).to_numpy()
    female = frame["female"].to_numpy()

    def pick(is_female: bool, lowest: float, peak: float) -> np.ndarray:
        eligible = single & (female == is_female) & (age >= lowest) & (age <= MARRIAGE_MAX_AGE)
        weights = np.where(eligible, np.exp(-(((age - peak) / MARRIAGE_AGE_SPREAD) ** 2)), 0.0)
        chosen = top_k_weighted(rng, weights, count)
        return chosen[np.argsort(age[chosen], kind="stable")]

    men, women = pick(False, *MARRIAGE_AGES["men"]), pick(True, *MARRIAGE_AGES["women"])
    pairs = min(len(men), len(women))
    men, women = men[:pairs], women[:pairs]
    hh = frame["hh"].to_numpy()
    apart = hh[men] != hh[women]
    men, women = men[apart], women[apart]
    window_start = np.datetime64(as_of - timedelta(days=EVENT_WINDOW_DAYS))
    keys = frame["person_key"]
    marriages = pl.DataFrame(
        {
            "husband_key": keys.gather(men),
            "wife_key": keys.gather(women),
            "marriage_date": _event_dates(rng, np.full(len(men), window_start), as_of).cast(
                pl.Date
            ),
        }
    )
    spouses = pl.concat(
        [
            marriages.select(
                person_key="husband_key", new_spouse="wife_key", marriage_date="marriage_date"
            ),
            marriages.select(
                person_key="wife_key", new_spouse="husband_key", marriage_date="marriage_date"
            ),
        ]
    )
    married = frame.join(spouses, on="person_key", how="left", maintain_order="left")
    return (
        married.with_columns(
            spouse_key=pl.coalesce("new_spouse", "spouse_key"),
            marital_status=pl.when(pl.col("new_spouse").is_not_null())
            .then(pl.lit(names.MARITAL_MARRIED))
            .otherwise("marital_status"),
        ).drop("new_spouse"),
        marriages.sort("marriage_date", "husband_key"),
    )


def _births(frame: pl.DataFrame, as_of: date) -> pl.DataFrame:
    start = as_of - timedelta(days=EVENT_WINDOW_DAYS)
    return (
        frame.filter(pl.col("birth_date") > start, pl.col("mother_key").is_not_null())
        .select(
            child_key="person_key",
            mother_key="mother_key",
            father_key="father_key",
            birth_date="birth_date",
        )
        .sort("birth_date", "child_key")
    )


def _die(
    frame: pl.DataFrame, chunk: Chunk, as_of: date, births: pl.DataFrame, marriages: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """~0.6% die, with a Gompertz hazard (mostly the elderly) and a small infant risk. Parents
    of this year's newborns and this year's newlyweds are spared, so every event stays possible."""
    rng = chunk.stream("deaths")
    age = frame["age"].to_numpy()
    gompertz = np.exp(GOMPERTZ_GROWTH * (age - GOMPERTZ_MODAL_AGE))
    hazard = gompertz + np.where(age < 1, INFANT_HAZARD, 0.0)
    spared = pl.concat(
        [
            births["mother_key"],
            births["father_key"],
            marriages["husband_key"],
            marriages["wife_key"],
        ]
    ).drop_nulls()
    hazard[frame["person_key"].is_in(spared.implode()).to_numpy()] = 0.0
    dying = top_k_weighted(rng, hazard, round(DEATH_RATE * frame.height))
    window_start = np.datetime64(as_of - timedelta(days=EVENT_WINDOW_DAYS))
    born = frame["birth_date"].gather(dying).to_numpy().astype("datetime64[D]")
    after = np.where(np.isnat(born), window_start, np.maximum(born, window_start))
    deaths = pl.DataFrame(
        {
            "person_key": frame["person_key"].gather(dying),
            "death_date": _event_dates(rng, after, as_of).cast(pl.Date),
        }
    )
    frame = frame.join(deaths, on="person_key", how="left", maintain_order="left").with_columns(
        is_deceased=pl.col("death_date").is_not_null()
    )
    return frame, deaths.sort("death_date", "person_key")
