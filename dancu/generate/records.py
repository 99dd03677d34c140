"""Which records each source holds, in which extract file, with which (still clean) values.

Each builder returns a `Placement`: the files (one row each, before styles) and the rows, with
the source's canonical columns as structured values (dates as dates, names as plain Unicode),
the record id, the person it describes and the true values to score repairs against.

Extract dates follow the sources' rhythms. dan_cu: one file per old ward dated before the July
2025 reform (for the half of the old wards whose files are still on the landing folder), then per
current ward a file between the reform and the last month and weekly deltas in the month before
`as_of`. bhxh: per old district an older file and a recent one. y_te: per facility an
older and a recent register. Civil events: one file per month of registration. A record extracted
again later carries changed values (new phone, status after marriage, re-typed text), so the
latest-extract-wins rule has work to do. A person registered twice in dan_cu (at the noise
level's rate) gets a second record id, in another ward's file, without an id.

The files of each source are drawn for the whole city from streams of their own
(`files.<source>`); the rows from the streams of the chunk of the population being placed, so
that each chunk fills the same files.

Person rows also carry two values that noise may put in place of the person's own (`noise`):
`family_national_id`, a parent's id for minors, and `household_phone`, the phone of another
member of the household.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from dancu import admin_units
from dancu.contract import REFORM_DATE
from dancu.generate import foreign, identifiers, names
from dancu.generate.noise import DUPLICATE_REGISTRATION_RATE, rewrite, scaled, strip_marks, tag_rows
from dancu.generate.population import EVENT_WINDOW_DAYS, Population
from dancu.generate.render import address_text
from dancu.generate.rng import choice, stream, unique_serials
from dancu.generate.styles import FORMAT_SHARES

REGISTRATION_LAG_DAYS = 15  # a newborn reaches the registry about two weeks after birth
OLD_HISTORY_DAYS = 660  # the oldest extracts still on the landing folder
RECENT_DAYS = 30  # "the month before as_of"
RECENT_WEEKS = ("week1", "week2", "week3", "week4")  # dan_cu sends weekly deltas lately

PHONE_CHANGED_SHARE = 0.3  # of superseded rows: the person has a new number since
DUPLICATE_ID_PREFIX = "HT"  # record ids of second registrations in dan_cu ("HS" for the first)
MINOR_AGE = 18  # younger persons' insurance and health forms are filled in by a parent


@dataclass(frozen=True)
class DanCuExtracts:
    """The population registry's extracts (dan_cu): which hold a record, and how."""

    # The extract in which a record was last sent: old, mid, then each weekly delta.
    period: tuple[float, ...] = (0.30, 0.12, *[0.58 / len(RECENT_WEEKS)] * len(RECENT_WEEKS))
    old_file: float = 0.5  # old wards whose pre-reform file is still on the landing folder
    mid_new_units: float = 0.6  # files between the reform and the last month in current units
    weekly_new_units: float = 0.85  # weekly deltas in current units
    resent: float = 0.12  # older records sent again in the last weekly delta
    resent_after_marriage: float = 0.7  # of older records whose person married since
    parent_name_missing: float = 0.05
    parent_name_missing_elderly: float = 0.4  # of persons older than `elderly_age`
    elderly_age: int = 60
    update_lag_days: int = 45  # a record was last updated up to this many days before its extract


@dataclass(frozen=True)
class BhxhExtracts:
    """The social-insurance extracts (bhxh): per old district an older file and a recent one."""

    old: float = 0.35  # records last sent in the older file
    old_file_after_days: int = 180  # older files start this long after the oldest extracts
    recent_new_units: float = 0.7  # recent files in current units
    resent: float = 0.10  # records of the older file sent again in the recent one
    # Both at noise level 1, scaled with it like every value error.
    cmnd: float = 0.03  # of holders of an old id: it is still in the CCCD/CMND column
    child_id_missing: float = 0.3  # of children under `child_age`, who have no identity card yet
    child_age: int = 14


@dataclass(frozen=True)
class YTeRegisters:
    """The health facilities' patient registers (y_te): per facility an older and a recent one."""

    older_register_days_before: tuple[int, int] = (250, 150)  # as_of minus (most, fewest) days
    new_units_after_reform: float = 0.7  # registers after the reform in current units
    patient_by_age: tuple[tuple[int, float], ...] = ((6, 0.45), (18, 0.2), (60, 0.2), (200, 0.5))
    children_only: str = "nhitw"  # the children's hospital
    child_age: int = 16  # patients under this age may go to the children's hospital
    second_facility: float = 0.10  # patients of a second facility too
    revisit: float = 0.4  # patients who came again after their first visit


DAN_CU = DanCuExtracts()
BHXH = BhxhExtracts()
Y_TE = YTeRegisters()

# Civil events: days from the event to its registration (fewest, most), and the share of
# registrations sent again, corrected, the month after.
EVENT_REGISTERED_AFTER_DAYS = {"khai_sinh": (1, 60), "khai_tu": (0, 30), "ket_hon": (0, 0)}
EVENT_CORRECTION_SHARE = {"khai_sinh": 0.10, "khai_tu": 0.05, "ket_hon": 0.05}
NEW_CODE_AFTER_REFORM = 0.9  # registrations after the reform that already carry new codes
HOSPITAL_DEATH_SHARE = 0.45


@dataclass(frozen=True)
class Placement:
    files: pl.DataFrame  # file_key, part, extract_date, scheme (+ format for y_te)
    rows: pl.DataFrame  # file_key, source_record_id, person_key, canonical columns, truth


def random_dates(rng: np.random.Generator, low, high, size: int) -> pl.Series:
    """Uniform dates in [low, high], bounds as dates or datetime64[D] arrays."""
    low = np.asarray(low, dtype="datetime64[D]")
    high = np.asarray(high, dtype="datetime64[D]")
    span = np.maximum((high - low).astype(np.int64), 0)
    offset = (rng.random(size) * (span + 1)).astype(np.int64)
    return pl.Series(low + offset.astype("timedelta64[D]")).cast(pl.Date)


def record_ids(
    rng: np.random.Generator,
    prefix: str,
    size: int,
    digits: int = 9,
    share: tuple[int, int] = (0, 1),
) -> pl.Series:
    """Distinct record ids, the serials in the `share` of their range (`rng.unique_serials`)."""
    serial = unique_serials(rng, np.zeros(size, dtype=np.int64), 10**digits, share)
    return prefix + pl.Series(serial).cast(pl.String).str.zfill(digits)


def person_view(population: Population) -> pl.DataFrame:
    """Persons with the names of their old ward, old district and current ward, and the family
    values a record may carry instead of their own (a parent's id, a household member's phone)."""
    old = admin_units.ward_conversion().select(
        "old_ward_code", "old_ward_name", "old_district_name"
    )
    current = admin_units.current_wards().select("ward_code", "ward_name")
    persons = population.persons
    rng = population.chunk.stream("family_values")
    return (
        persons.join(old, on="old_ward_code", how="left", maintain_order="left")
        .join(current, on="ward_code", how="left", maintain_order="left")
        .with_columns(
            known_from=pl.coalesce("birth_date", pl.date(pl.col("birth_year"), 1, 1)).dt.offset_by(
                f"{REGISTRATION_LAG_DAYS}d"
            ),
            family_national_id=_parent_ids(rng, persons, population.as_of),
            household_phone=_household_phones(rng, persons),
        )
    )


def _parent_ids(rng: np.random.Generator, persons: pl.DataFrame, as_of: date) -> pl.Series:
    """For minors, the id of the mother or the father (either, where both are known)."""
    ids = persons.select("person_key", "national_id")

    def of(parent: str) -> pl.Series:
        keys = persons.select(pl.col(parent).alias("person_key"))
        return keys.join(ids, on="person_key", how="left", maintain_order="left")["national_id"]

    mother, father = of("mother_key"), of("father_key")
    father_first = pl.Series(rng.random(persons.height) < 0.5)
    minor = persons["birth_year"] > as_of.year - MINOR_AGE
    either = pl.select(
        pl.when(father_first)
        .then(pl.coalesce(father, mother))
        .otherwise(pl.coalesce(mother, father))
    ).to_series()
    return either.set(~minor, None)


def _household_phones(rng: np.random.Generator, persons: pl.DataFrame) -> pl.Series:
    """Per person, the phone of another member of the household who has one, drawn at random
    (null where no other member has a phone)."""
    has_phone = persons["phone"].is_not_null().to_numpy()
    if not has_phone.any():
        return persons["phone"]
    size = persons.height
    household = persons["household_id"].rank("dense").cast(pl.Int64).to_numpy()
    # The persons with a phone, grouped by household (rows ascending within each).
    holders = np.flatnonzero(has_phone)
    holders = holders[np.argsort(household[holders], kind="stable")]
    holder_household = household[holders]
    start = np.searchsorted(holder_household, household, side="left")
    stop = np.searchsorted(holder_household, household, side="right")
    others = stop - start - has_phone
    pick = start + np.floor(rng.random(size) * others).astype(np.int64)
    # Step over the person's own place in the household's list.
    own = np.searchsorted(holder_household * size + holders, household * size + np.arange(size))
    pick = np.where(has_phone & (pick >= own), pick + 1, pick)
    chosen = holders[np.minimum(pick, len(holders) - 1)]
    return persons["phone"].gather(chosen).set(pl.Series(others <= 0), None)


def truth(prefix: str = "", ward: pl.Expr | None = None) -> list[pl.Expr]:
    """The clean values of the person a row describes (columns of `person_view`); `ward` where
    the row's ward is not the person's."""
    ward = pl.col(prefix + "ward_code") if ward is None else ward
    return [
        pl.col(prefix + "full_name").alias("true_full_name"),
        pl.col(prefix + "national_id").alias("true_national_id"),
        pl.col(prefix + "birth_date").alias("true_birth_date"),
        pl.col(prefix + "birth_year").alias("true_birth_year"),
        pl.col(prefix + "sex").alias("true_sex"),
        ward.alias("true_ward_code"),
    ]


def _periods(as_of: date) -> dict[str, tuple[date, date]]:
    """Date ranges of the extract periods: the reform splits old from mid; the recent month is
    also cut into weeks."""
    earliest = REFORM_DATE + timedelta(days=2 * RECENT_DAYS)
    if as_of < earliest:
        raise ValueError(f"as_of must be on or after {earliest}")
    recent_start = as_of - timedelta(days=RECENT_DAYS - 1)
    week_days = RECENT_DAYS // len(RECENT_WEEKS)
    weeks = {
        week: (
            recent_start + timedelta(days=k * week_days),
            as_of
            if k == len(RECENT_WEEKS) - 1
            else recent_start + timedelta(days=(k + 1) * week_days - 1),
        )
        for k, week in enumerate(RECENT_WEEKS)
    }
    return {
        "old": (as_of - timedelta(days=OLD_HISTORY_DAYS), REFORM_DATE - timedelta(days=1)),
        "mid": (REFORM_DATE + timedelta(days=3), recent_start - timedelta(days=2)),
        "recent": (recent_start, as_of),
        **weeks,
    }


def day_two_start(as_of: date) -> date:
    """The first extract date of the second delivery in two-day mode: the start of dan_cu's last
    weekly delta, so that day 2 brings records sent again, new persons, the month's civil-event
    files and the latest insurance and health registers."""
    return _periods(as_of)[RECENT_WEEKS[-1]][0]


def period_files(rng: np.random.Generator, parts: pl.Series, period: str, span, new_share: float):
    """One file per part in a period; after the reform some systems still write old units."""
    size = len(parts)
    scheme = np.where(rng.random(size) < new_share, "new", "old")
    return pl.DataFrame(
        {
            "file_key": period + ":" + parts,
            "part": parts,
            "period": period,
            "extract_date": random_dates(rng, span[0], span[1], size),
            "scheme": scheme,
        }
    )


def _date_of(files: pl.DataFrame, period: str, part: pl.Series) -> pl.Series:
    lookup = files.filter(pl.col("period") == period).select("file_key", "extract_date")
    keys = pl.DataFrame({"file_key": period + ":" + part})
    return keys.join(lookup, on="file_key", how="left", maintain_order="left")["extract_date"]


def _place(
    people: pl.DataFrame, files: pl.DataFrame, wanted: np.ndarray, parts: dict
) -> pl.DataFrame:
    """The file of each person: the wanted period when the person is known to the source by
    that extract date, else the next period that works; persons known to none are left out."""
    dates = {p: _date_of(files, p, people[col]) for p, col in parts.items()}
    periods = list(parts)
    chosen = pl.lit(None, dtype=pl.String)
    # Try the wanted period first, then each later one.
    for start in range(len(periods)):
        later = periods[start:]
        pick = pl.lit(None, dtype=pl.String)
        for candidate in reversed(later):
            ok = pl.lit(dates[candidate]) >= pl.col("known_from")
            pick = pl.when(ok).then(pl.lit(candidate)).otherwise(pick)
        chosen = pl.when(pl.lit(pl.Series(wanted == start))).then(pick).otherwise(chosen)
    placed = people.with_columns(period=chosen).filter(pl.col("period").is_not_null())
    part = pl.lit(None, dtype=pl.String)
    for period, col in parts.items():
        part = pl.when(pl.col("period") == period).then(pl.col(col)).otherwise(part)
    return placed.with_columns(file_key=pl.col("period") + ":" + part)


def _with_file_dates(rows: pl.DataFrame, files: pl.DataFrame) -> pl.DataFrame:
    return rows.join(
        files.select("file_key", "extract_date", "scheme"),
        on="file_key",
        how="left",
        maintain_order="left",
    )


def _resend(rows: pl.DataFrame, mask: pl.Expr, part: str, period: str) -> pl.DataFrame:
    """Copies of the masked rows in the `period` file of their `part`, same record id."""
    again = rows.filter(mask).with_columns(period=pl.lit(period))
    return again.with_columns(file_key=period + ":" + pl.col(part)).drop("extract_date", "scheme")


def _at_extract(rows: pl.DataFrame) -> pl.DataFrame:
    """Marital status as it stood at the extract date (a marriage after it is not known yet)."""
    married_later = pl.col("marriage_date") > pl.col("extract_date")
    return rows.with_columns(
        marital_status=pl.when(married_later)
        .then(pl.lit(names.MARITAL_SINGLE))
        .otherwise("marital_status"),
    )


def _phones_changed(rows: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """A superseded row may hold the number the person had before."""
    changed = (
        rows["superseded"] & pl.Series(rng.random(rows.height) < PHONE_CHANGED_SHARE)
    ).to_numpy()
    before = identifiers.phone_numbers(rng, rows.height)
    return rows.with_columns(
        phone=pl.when(pl.lit(pl.Series(changed)) & pl.col("phone").is_not_null())
        .then(pl.lit(before))
        .otherwise("phone")
    )


def is_superseded() -> pl.Expr:
    """Rows that a later extract of the same record replaces."""
    return pl.col("extract_date") < pl.col("extract_date").max().over("source_record_id")


# --- person sources ---------------------------------------------------------------------------


# The column that names the file of a dan_cu record in each period.
_DAN_CU_PARTS = {"old": "old_ward_code", "mid": "ward_code"} | dict.fromkeys(
    RECENT_WEEKS, "ward_code"
)


def dan_cu(population: Population, people: pl.DataFrame, noise: float) -> Placement:
    chunk = population.chunk
    rng = chunk.stream("place.dan_cu")
    people = people.filter("in_register")
    files = _dan_cu_files(stream(chunk.seed, "files.dan_cu"), _periods(population.as_of))
    placed = _dan_cu_records(rng, people, files, "HS", chunk.share)
    again = _dan_cu_resent(rng, placed, files)
    twice = people.filter(
        pl.Series(rng.random(people.height) < scaled(DUPLICATE_REGISTRATION_RATE, noise))
    )
    elsewhere = _elsewhere(rng, twice, people)
    duplicates = _dan_cu_records(rng, elsewhere, files, DUPLICATE_ID_PREFIX, chunk.share)
    rows = pl.concat([placed, again, duplicates], how="diagonal")
    rows = _at_extract(rows).with_columns(superseded=is_superseded())
    rows = _dan_cu_values(_phones_changed(rows, rng), rng, population.as_of)
    rows = _without_ids(rows, pl.col("source_record_id").str.starts_with(DUPLICATE_ID_PREFIX))
    extra = [
        "cmnd", "ethnicity", "religion", "nationality", "hometown", "marital_status",
        "father_name", "mother_name", "updated_date", "ward_code_written",
    ]  # fmt: skip
    return Placement(files, person_rows(rows, extra))


_ADDRESS_COLUMNS = (
    "old_ward_code", "ward_code", "old_ward_name", "old_district_name", "ward_name",
    "street_address",
)  # fmt: skip


def _elsewhere(
    rng: np.random.Generator, persons: pl.DataFrame, people: pl.DataFrame
) -> pl.DataFrame:
    """The persons at the address of someone in another ward of their chunk (where they stayed a
    while and were registered again), with their own ward kept as `home_ward_code`."""
    wards = people["ward_code"].to_numpy()
    own = persons["ward_code"].to_numpy()
    other = rng.integers(0, people.height, persons.height)
    same = wards[other] == own
    while same.any() and people["ward_code"].n_unique() > 1:  # a tiny population has one ward
        other[same] = rng.integers(0, people.height, int(same.sum()))
        same = wards[other] == own
    address = people.select(_ADDRESS_COLUMNS)[other]
    return persons.with_columns(home_ward_code=pl.col("ward_code")).with_columns(
        address.get_columns()
    )


def _without_ids(rows: pl.DataFrame, duplicate: pl.Expr) -> pl.DataFrame:
    """Second registrations: no personal id and no old id, tagged as what they are."""
    mask = rows.select(duplicate).to_series().to_numpy()
    rows = rewrite(rows, "national_id", mask, pl.lit(None), "missing")
    rows = rewrite(rows, "cmnd", mask, pl.lit(None), "missing")
    return tag_rows(rows, "dan_cu:duplicate_registration", duplicate)


def _dan_cu_files(rng: np.random.Generator, span: dict[str, tuple[date, date]]) -> pl.DataFrame:
    """The pre-reform file of the old wards whose file is still on the landing folder, then per
    current ward a file in the mid period and the weekly deltas."""
    old_codes = admin_units.ward_conversion()["old_ward_code"]
    old_codes = old_codes.filter(pl.Series(rng.random(len(old_codes)) < DAN_CU.old_file))
    new_codes = admin_units.current_wards()["ward_code"]
    weekly = (
        period_files(rng, new_codes, week, span[week], new_share=DAN_CU.weekly_new_units)
        for week in RECENT_WEEKS
    )
    return pl.concat(
        [
            period_files(rng, old_codes, "old", span["old"], new_share=0.0),
            period_files(rng, new_codes, "mid", span["mid"], new_share=DAN_CU.mid_new_units),
            *weekly,
        ]
    )


def _dan_cu_records(
    rng: np.random.Generator,
    people: pl.DataFrame,
    files: pl.DataFrame,
    id_prefix: str,
    share: tuple[int, int],
) -> pl.DataFrame:
    """The persons placed in the file of the period they were last sent in, with record ids."""
    wanted = choice(rng, DAN_CU.period, people.height)
    placed = _place(people, files, wanted, _DAN_CU_PARTS)
    return _with_file_dates(placed, files).with_columns(
        source_record_id=record_ids(rng, id_prefix, placed.height, share=share)
    )


def _dan_cu_resent(
    rng: np.random.Generator, placed: pl.DataFrame, files: pl.DataFrame
) -> pl.DataFrame:
    """Older records sent again in the last weekly delta: a share of all, and most of those whose
    person married between their extract and that delta."""
    last_week = RECENT_WEEKS[-1]
    recent_date = _date_of(files, last_week, placed["ward_code"])
    resend = pl.col("period").is_in(["old", "mid"]) & (
        pl.lit(pl.Series(rng.random(placed.height) < DAN_CU.resent))
        | (
            (pl.col("marriage_date") > pl.col("extract_date"))
            & (pl.col("marriage_date") <= pl.lit(recent_date))
            & pl.lit(pl.Series(rng.random(placed.height) < DAN_CU.resent_after_marriage))
        )
    )
    return _with_file_dates(_resend(placed, resend, "ward_code", last_week), files)


def _dan_cu_values(rows: pl.DataFrame, rng: np.random.Generator, as_of: date) -> pl.DataFrame:
    """Parents' names left out (more often for the elderly), the date of the last update, and
    the ward code in the file's scheme."""
    size = rows.height
    elderly = (pl.col("birth_year") < as_of.year - DAN_CU.elderly_age).fill_null(False)
    missing = (
        pl.when(elderly)
        .then(DAN_CU.parent_name_missing_elderly)
        .otherwise(DAN_CU.parent_name_missing)
    )
    u_father, u_mother = (pl.lit(pl.Series(rng.random(size))) for _ in range(2))
    back = pl.lit(pl.Series(rng.integers(0, DAN_CU.update_lag_days + 1, size)))
    updated = pl.col("extract_date") - pl.duration(days=back)
    return rows.with_columns(
        father_name=pl.when(u_father < missing).then(None).otherwise("father_name"),
        mother_name=pl.when(u_mother < missing).then(None).otherwise("mother_name"),
        updated_date=pl.max_horizontal(updated, pl.col("known_from")),
        ward_code_written=pl.when(pl.col("scheme") == "old")
        .then("old_ward_code")
        .otherwise("ward_code"),
    )


def person_rows(rows: pl.DataFrame, extra: list[str]) -> pl.DataFrame:
    base = ["file_key", "source_record_id", "person_key", "extract_date", "superseded", "scheme",
            "street_address", "old_ward_name", "old_district_name", "ward_name",
            "family_national_id", "household_phone", "previous_national_id"]  # fmt: skip
    values = ["full_name", "birth_date", "sex", "national_id", "phone"]
    tags = [c for c in rows.columns if c.startswith("~")]
    # A person registered again elsewhere still lives in the home ward.
    home = (
        pl.coalesce("home_ward_code", "ward_code")
        if "home_ward_code" in rows.columns
        else pl.col("ward_code")
    )
    return rows.select(
        *base,
        *values,
        *extra,
        *tags,
        pl.col("birth_year").alias("birth_date__year"),
        *truth(ward=home),
    ).rename({"ward_code_written": "ward_code"} if "ward_code_written" in extra else {})


def district_slug(district: pl.Expr) -> pl.Expr:
    """The district part of bhxh file names: "Quận Ba Đình" -> "badinh"."""
    bare = strip_marks(district).str.to_lowercase()
    return bare.str.replace(r"^(quan|huyen|thi xa|thanh pho) ", "").str.replace_all(
        r"[^a-z0-9]", ""
    )


def bhxh(population: Population, people: pl.DataFrame, noise: float) -> Placement:
    files_rng = stream(population.chunk.seed, "files.bhxh")
    people = people.filter("in_register")
    span = _periods(population.as_of)
    districts = (
        admin_units.ward_conversion()
        .select(slug=district_slug(pl.col("old_district_name")))
        .unique(maintain_order=True)["slug"]
    )
    old_span = (span["old"][0] + timedelta(days=BHXH.old_file_after_days), span["old"][1])
    files = pl.concat(
        [
            period_files(files_rng, districts, "old", old_span, new_share=0.0),
            period_files(
                files_rng, districts, "recent", span["recent"], new_share=BHXH.recent_new_units
            ),
        ]
    )
    rng = population.chunk.stream("place.bhxh")
    people = people.filter(pl.col("bhxh_code").is_not_null()).with_columns(
        district=district_slug(pl.col("old_district_name"))
    )
    wanted = np.where(rng.random(people.height) < BHXH.old, 0, 1)
    placed = _place(people, files, wanted, {"old": "district", "recent": "district"})
    placed = _with_file_dates(placed, files).with_columns(source_record_id=pl.col("bhxh_code"))
    resend = (pl.col("period") == "old") & pl.lit(
        pl.Series(rng.random(placed.height) < BHXH.resent)
    )
    again = _with_file_dates(_resend(placed, resend, "district", "recent"), files)
    rows = pl.concat([placed, again], how="diagonal")
    rows = rows.with_columns(superseded=is_superseded())
    rows = _phones_changed(rows, rng)
    size = rows.height
    child = pl.col("birth_year") > population.as_of.year - BHXH.child_age
    cmnd = (rng.random(size) < scaled(BHXH.cmnd, noise)) & rows["cmnd"].is_not_null().to_numpy()
    rows = rewrite(rows, "national_id", cmnd, pl.col("cmnd"), "cmnd_instead")
    children = rows.select(child).to_series().to_numpy()
    no_id = (rng.random(size) < scaled(BHXH.child_id_missing, noise)) & children
    rows = rewrite(rows, "national_id", no_id & ~cmnd, pl.lit(None), "missing")
    return Placement(files, person_rows(rows, []))


def y_te(population: Population, people: pl.DataFrame, noise: float) -> Placement:
    """Patients of a few facilities; a register row shows the latest visit by its extract date."""
    chunk = population.chunk
    rng = chunk.stream("place.y_te")
    people = people.filter("in_register")
    files = _y_te_files(stream(chunk.seed, "files.y_te"), population.as_of)
    patients = _patients(rng, people, population.as_of)
    visits = _facility_visits(rng, patients, population.as_of, chunk.share)
    visits = _visit_dates(rng, visits, population)
    rows = _register_rows(visits, files).with_columns(superseded=is_superseded())
    return Placement(files, person_rows(rows, ["health_card", "visit_date"]))


def _facilities() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes, record-id prefixes and weights of the facilities."""
    codes, prefixes, weights = (np.asarray(x) for x in zip(*names.FACILITIES, strict=True))
    return codes, prefixes, weights


def _y_te_files(rng: np.random.Generator, as_of: date) -> pl.DataFrame:
    """Per facility an older and a recent register, both in the one format its system writes."""
    codes, _, _ = _facilities()
    size = len(codes)
    most, fewest = Y_TE.older_register_days_before
    older = random_dates(rng, as_of - timedelta(days=most), as_of - timedelta(days=fewest), size)
    recent = random_dates(rng, as_of - timedelta(days=RECENT_DAYS - 1), as_of, size)
    fmt = np.where(rng.random(size) < FORMAT_SHARES["y_te"]["xlsx"], "xlsx", "csv")
    files = pl.concat(
        [
            pl.DataFrame({"part": codes, "period": "old", "extract_date": older, "format": fmt}),
            pl.DataFrame(
                {"part": codes, "period": "recent", "extract_date": recent, "format": fmt}
            ),
        ]
    )
    before_reform = (files["extract_date"] < REFORM_DATE).to_numpy()
    new_units = ~before_reform & (rng.random(files.height) < Y_TE.new_units_after_reform)
    return files.with_columns(
        file_key=pl.col("period") + ":" + pl.col("part"),
        scheme=pl.Series(np.where(new_units, "new", "old")),
    )


def _patients(rng: np.random.Generator, people: pl.DataFrame, as_of: date) -> pl.DataFrame:
    age = as_of.year - people["birth_year"].to_numpy()
    share = np.zeros(people.height)
    for below, p in reversed(Y_TE.patient_by_age):
        share[age < below] = p
    return people.filter(pl.Series(rng.random(people.height) < share))


def _facility_visits(
    rng: np.random.Generator, patients: pl.DataFrame, as_of: date, share: tuple[int, int]
) -> pl.DataFrame:
    """One row per patient and facility (a few go to a second one), with its record id; only
    children go to the children's hospital."""
    codes, prefixes, weights = _facilities()
    size = len(codes)
    is_child = (as_of.year - patients["birth_year"].to_numpy()) < Y_TE.child_age
    adult_weights = np.where(codes == Y_TE.children_only, 0.0, weights.astype(float))
    first = np.where(
        is_child,
        choice(rng, weights.astype(float), patients.height),
        choice(rng, adult_weights, patients.height),
    )
    second_wanted = rng.random(patients.height) < Y_TE.second_facility
    second = (first + 1 + rng.integers(0, size - 1, patients.height)) % size
    second_ok = second_wanted & (is_child | (codes[second] != Y_TE.children_only))
    visits = pl.concat(
        [
            patients.with_columns(facility=pl.Series(codes[first])),
            patients.filter(pl.Series(second_ok)).with_columns(
                facility=pl.Series(codes[second][second_ok])
            ),
        ]
    )
    return visits.with_columns(
        source_record_id=pl.col("facility").replace_strict(dict(zip(codes, prefixes, strict=True)))
        + record_ids(rng, "", visits.height, digits=8, share=share)
    )


def _visit_dates(
    rng: np.random.Generator, visits: pl.DataFrame, population: Population
) -> pl.DataFrame:
    """A first visit in the event window, while the person is known and alive, and for some a
    later one; visits that cannot fit are dropped."""
    as_of = population.as_of
    window_start = np.datetime64(population.window_start, "D")
    born = visits["known_from"].to_numpy().astype("datetime64[D]")
    until = visits["death_date"].fill_null(as_of).to_numpy().astype("datetime64[D]")
    start = np.maximum(born, window_start)
    first_visit = random_dates(rng, start, until, visits.height)
    revisit = random_dates(
        rng, first_visit.to_numpy().astype("datetime64[D]"), until, visits.height
    )
    return visits.with_columns(
        first_visit=first_visit,
        last_visit=pl.when(pl.lit(pl.Series(rng.random(visits.height) < Y_TE.revisit)))
        .then(pl.lit(revisit))
        .otherwise(pl.lit(first_visit)),
    ).filter(pl.col("first_visit") <= pl.lit(pl.Series(until)))


def _register_rows(visits: pl.DataFrame, files: pl.DataFrame) -> pl.DataFrame:
    """A register row shows the latest visit by its extract date; the recent register lists only
    patients who came after the older one was extracted."""
    older_date = _date_of(files, "old", visits["facility"])
    rows = []
    for period in ("old", "recent"):
        in_period = visits.with_columns(file_key=pl.lit(period + ":") + pl.col("facility")).join(
            files.select("file_key", "extract_date"),
            on="file_key",
            how="left",
            maintain_order="left",
        )
        shown = (
            pl.when(pl.col("last_visit") <= pl.col("extract_date"))
            .then("last_visit")
            .when(pl.col("first_visit") <= pl.col("extract_date"))
            .then("first_visit")
        )
        new_since = shown > pl.lit(older_date) if period == "recent" else pl.lit(True)
        listed = shown.is_not_null() & new_since.fill_null(False)
        rows.append(in_period.with_columns(visit_date=shown).filter(listed))
    return pl.concat(rows).join(
        files.select("file_key", "scheme"), on="file_key", how="left", maintain_order="left"
    )


# --- civil events -----------------------------------------------------------------------------


def _monthly(rows: pl.DataFrame, as_of: date, correction_share: float, rng) -> pl.DataFrame:
    """Each event in the file of its registration month; a share sent again the month after."""
    first = rows.with_columns(
        extract_date=pl.min_horizontal(pl.col("registration_date").dt.month_end(), pl.lit(as_of)),
        correction=pl.lit(False),
    )
    later = pl.min_horizontal(
        pl.col("registration_date").dt.offset_by("1mo").dt.month_end(), pl.lit(as_of)
    )
    corrected = (
        first.filter(pl.Series(rng.random(first.height) < correction_share))
        .with_columns(extract_date=later, correction=pl.lit(True))
        .filter(pl.col("extract_date") > pl.col("registration_date").dt.month_end())
    )
    both = pl.concat([first, corrected])
    return both.with_columns(
        file_key=pl.col("extract_date").dt.strftime("%Y%m%d"),
        superseded=is_superseded(),
    )


def monthly_files(as_of: date) -> pl.DataFrame:
    """The files of a source that sends one per month: dated at each month's end (as_of for the
    last month), from the month the event window starts in."""
    window_start = as_of - timedelta(days=EVENT_WINDOW_DAYS)
    months = pl.date_range(window_start.replace(day=1), as_of, interval="1mo", eager=True)
    return (
        pl.DataFrame({"extract_date": months.dt.month_end()})
        .with_columns(extract_date=pl.min_horizontal("extract_date", pl.lit(as_of)))
        .with_columns(
            file_key=pl.col("extract_date").dt.strftime("%Y%m%d"),
            part=pl.lit(None, dtype=pl.String),
            scheme=pl.lit("old"),
        )
    )


def _place_code(rng: np.random.Generator, size: int, prefix: str) -> pl.Expr:
    """The registering ward: old code before the reform, mostly new code after it."""
    new = pl.lit(pl.Series(rng.random(size) < NEW_CODE_AFTER_REFORM))
    return (
        pl.when((pl.col("registration_date") >= REFORM_DATE) & new)
        .then(pl.col(prefix + "ward_code"))
        .otherwise(pl.col(prefix + "old_ward_code"))
    )


def _with_party(events: pl.DataFrame, people: pl.DataFrame, key: str, prefix: str) -> pl.DataFrame:
    party = people.select(pl.all().name.prefix(prefix))
    return events.join(
        party, left_on=key, right_on=prefix + "person_key", how="left", maintain_order="left"
    )


def _registered(rows: pl.DataFrame, as_of: date, rng, lag: tuple[int, int], event_date: str):
    lag_days = pl.lit(pl.Series(rng.integers(lag[0], lag[1] + 1, rows.height)))
    return rows.with_columns(
        registration_date=pl.col(event_date) + pl.duration(days=lag_days)
    ).filter(pl.col("registration_date") <= as_of)


PARTY_COLUMNS = {
    role: (f"{role}_nationality", f"{role}_document_type", f"{role}_document_number")
    for role in ("mother", "father", "husband", "wife")
}


def _foreign_party(
    rng: np.random.Generator, events: pl.DataFrame, prefix: str, role: str
) -> dict[str, pl.Expr]:
    """A foreign party's name as the registration writes it, and the optional columns of the
    contract: nationality, document type (a passport) and number; null for Vietnamese parties,
    whose personal id is in its own column."""
    size = events.height
    is_foreign = pl.col(prefix + "origin").is_in(["foreign_party", "resident_foreigner"])
    label = np.asarray(foreign.PASSPORT_LABELS)[choice(rng, foreign.PASSPORT_LABEL_SHARES, size)]
    spelled = foreign.nationality_text(rng, events[prefix + "nationalities"])
    written = foreign.written_name(prefix, pl.Series(rng.random(size)))
    return {
        prefix + "full_name": pl.when(is_foreign).then(written).otherwise(prefix + "full_name"),
        f"{role}_nationality": pl.when(is_foreign).then(pl.lit(spelled)),
        f"{role}_document_type": pl.when(is_foreign).then(pl.lit(pl.Series(label))),
        f"{role}_document_number": pl.when(is_foreign).then(pl.col(prefix + "passport_number")),
    }


def khai_sinh(population: Population, people: pl.DataFrame, noise: float) -> Placement:
    rng = population.chunk.stream("place.khai_sinh")
    births = population.births
    for key, prefix in (("child_key", "c_"), ("mother_key", "m_"), ("father_key", "f_")):
        births = _with_party(births, people, key, prefix)
    lag = EVENT_REGISTERED_AFTER_DAYS["khai_sinh"]
    births = _registered(births, population.as_of, rng, lag, "birth_date")
    births = births.with_columns(
        source_record_id=record_ids(rng, "KS", births.height, 8, population.chunk.share),
        registration_place_code=_place_code(rng, births.height, "m_"),
    )
    # Draws of their own, so that the other values of the registrations stay as they were.
    foreign_rng = population.chunk.stream("place.khai_sinh.foreign")
    births = births.with_columns(
        **_foreign_party(foreign_rng, births, "m_", "mother"),
        **_foreign_party(foreign_rng, births, "f_", "father"),
        c_nationality=pl.when(pl.col("c_nationalities").list.join(",") == foreign.VIETNAM)
        .then("c_nationality")
        .otherwise(pl.lit(foreign.nationality_text(foreign_rng, births["c_nationalities"]))),
    )
    rows = _monthly(births, population.as_of, EVENT_CORRECTION_SHARE["khai_sinh"], rng)
    rows = rows.select(
        "file_key", "extract_date", "source_record_id", "superseded", "correction",
        "registration_date", "registration_place_code", *truth("c_"),
        *PARTY_COLUMNS["mother"], *PARTY_COLUMNS["father"],
        child_name="c_full_name", birth_date="birth_date", sex="c_sex", ethnicity="c_ethnicity",
        nationality="c_nationality", child_national_id="c_national_id",
        mother_name="m_full_name", mother_birth_date="m_birth_date",
        mother_birth_date__year="m_birth_year", mother_national_id="m_national_id",
        father_name="f_full_name", father_birth_date="f_birth_date",
        father_birth_date__year="f_birth_year", father_national_id="f_national_id",
        person_key=pl.lit(None, dtype=pl.String), child_key="child_key", mother_key="mother_key",
        father_key="father_key",
    )  # fmt: skip
    return Placement(monthly_files(population.as_of), rows)


def khai_tu(population: Population, people: pl.DataFrame, noise: float) -> Placement:
    rng = population.chunk.stream("place.khai_tu")
    deaths = _with_party(
        population.deaths.rename({"person_key": "deceased_key"}), people, "deceased_key", "d_"
    )
    lag = EVENT_REGISTERED_AFTER_DAYS["khai_tu"]
    deaths = _registered(deaths, population.as_of, rng, lag, "death_date")
    size = deaths.height
    hospital = np.asarray(names.DEATH_PLACES)[rng.integers(0, len(names.DEATH_PLACES), size)]
    at_home = address_text(
        pl.col("d_street_address"),
        pl.when(pl.col("registration_date") < REFORM_DATE)
        .then(pl.lit("old"))
        .otherwise(pl.lit("new")),
        prefix="d_",
    )
    deaths = deaths.with_columns(
        source_record_id=record_ids(rng, "KT", size, 8, population.chunk.share),
        registration_place_code=_place_code(rng, size, "d_"),
        death_place=pl.when(pl.lit(pl.Series(rng.random(size) < HOSPITAL_DEATH_SHARE)))
        .then(pl.lit(pl.Series(hospital)))
        .otherwise(at_home),
    )
    rows = _monthly(deaths, population.as_of, EVENT_CORRECTION_SHARE["khai_tu"], rng)
    rows = rows.select(
        "file_key", "extract_date", "source_record_id", "superseded", "correction",
        "registration_date", "registration_place_code", *truth("d_"),
        full_name="d_full_name", birth_date="d_birth_date", birth_date__year="d_birth_year",
        sex="d_sex", national_id="d_national_id", death_date="death_date",
        death_place="death_place", person_key=pl.lit(None, dtype=pl.String),
        deceased_key="deceased_key",
    )  # fmt: skip
    return Placement(monthly_files(population.as_of), rows)


def ket_hon(population: Population, people: pl.DataFrame, noise: float) -> Placement:
    rng = population.chunk.stream("place.ket_hon")
    marriages = population.marriages
    for key, prefix in (("husband_key", "h_"), ("wife_key", "w_")):
        marriages = _with_party(marriages, people, key, prefix)
    lag = EVENT_REGISTERED_AFTER_DAYS["ket_hon"]
    marriages = _registered(marriages, population.as_of, rng, lag, "marriage_date")
    marriages = marriages.with_columns(
        source_record_id=record_ids(rng, "KH", marriages.height, 8, population.chunk.share),
        registration_place_code=_place_code(rng, marriages.height, "w_"),
    )
    foreign_rng = population.chunk.stream("place.ket_hon.foreign")
    marriages = marriages.with_columns(
        **_foreign_party(foreign_rng, marriages, "h_", "husband"),
        **_foreign_party(foreign_rng, marriages, "w_", "wife"),
    )
    rows = _monthly(marriages, population.as_of, EVENT_CORRECTION_SHARE["ket_hon"], rng)
    nothing = pl.lit(None)
    rows = rows.select(
        "file_key", "extract_date", "source_record_id", "superseded", "correction",
        "registration_date", "registration_place_code",
        *PARTY_COLUMNS["husband"], *PARTY_COLUMNS["wife"],
        husband_name="h_full_name", husband_birth_date="h_birth_date",
        husband_birth_date__year="h_birth_year", husband_national_id="h_national_id",
        wife_name="w_full_name", wife_birth_date="w_birth_date",
        wife_birth_date__year="w_birth_year", wife_national_id="w_national_id",
        person_key=pl.lit(None, dtype=pl.String), husband_key="husband_key", wife_key="wife_key",
        true_full_name=nothing.cast(pl.String), true_national_id=nothing.cast(pl.String),
        true_birth_date=nothing.cast(pl.Date), true_birth_year=nothing.cast(pl.Int32),
        true_sex=nothing.cast(pl.String), true_ward_code=nothing.cast(pl.String),
    )  # fmt: skip
    return Placement(monthly_files(population.as_of), rows)


EVENT_ROLES = {
    "khai_sinh": {"child": "child_key", "mother": "mother_key", "father": "father_key"},
    "khai_tu": {"deceased": "deceased_key"},
    "ket_hon": {"husband": "husband_key", "wife": "wife_key"},
}
# Each builder takes the noise level; the civil events' values are noised in `extracts` only.
BUILDERS = {
    "dan_cu": dan_cu,
    "bhxh": bhxh,
    "y_te": y_te,
    "khai_sinh": khai_sinh,
    "khai_tu": khai_tu,
    "ket_hon": ket_hon,
}
