"""Person records: every accepted person-bearing record in one shape, the input of resolution."""

import polars as pl
import polars.selectors as cs

from dancu.contract import EXTRACT_DATE, FILE_NAME, RECORD_ID, ROW_NUMBER, SOURCE, SOURCE_PRIORITY
from dancu.parse import GENERATION, id_birth_year
from dancu.rules import accepted
from dancu.text import fold

RECORD_KEY = "rk"  # a record's position in the canonical order: what pairs and clusters refer to

# Whether a record may found a person of its own: every register record may, a party of a civil
# event only where the event brings the person into being (a birth's child). A cluster without
# such a record is nobody in the register, and its records are left without a person.
FOUNDS_PERSON = "founds_person"

COLUMNS = {
    SOURCE: pl.String,
    RECORD_ID: pl.String,
    FILE_NAME: pl.String,
    ROW_NUMBER: pl.Int64,
    EXTRACT_DATE: pl.Date,
    "national_id": pl.String,
    "full_name": pl.String,
    "full_name_key": pl.String,
    "birth_date": pl.Date,
    "birth_year": pl.Int32,
    "sex": pl.String,
    "phone": pl.String,
    "address": pl.String,
    "ward_code": pl.String,
    "bhxh_code": pl.String,
    "father_name": pl.String,
    "mother_name": pl.String,
    "marital_status": pl.String,
    FOUNDS_PERSON: pl.Boolean,
}
# Where a source keeps a person column under another name, or not at all.
BHXH_CODE = {"bhxh": pl.col(RECORD_ID), "y_te": pl.col("bhxh_code")}


def _column(name: str, frame_columns: list[str], source: str) -> pl.Expr:
    if name == "bhxh_code":
        value = BHXH_CODE.get(source, pl.lit(None))
    elif name == FOUNDS_PERSON:
        value = pl.lit(True)
    elif name in frame_columns:
        value = pl.col(name)
    else:
        value = pl.lit(None)
    return value.cast(COLUMNS[name]).alias(name)


def person_records(std_frames: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
    """One row per accepted record of the person sources (`SOURCE_PRIORITY`: dan_cu, bhxh, y_te,
    giao_duc, ly_lich_tu_phap; those of `std_frames` given), with the columns of `COLUMNS`:
    lineage, the person's identifiers and attributes, null where the source does not hold them
    (a school record has no phone of the student's own, a judicial request its personal id only
    where its document is a CCCD). `ward_code` is whatever ward the standardised frame carries."""
    parts = []
    for source in SOURCE_PRIORITY:
        if source not in std_frames:
            continue
        frame = std_frames[source]
        names = frame.collect_schema().names()
        parts.append(accepted(frame).select(_column(c, names, source) for c in COLUMNS))
    return pl.concat(parts, how="vertical")


def keyed(records: pl.DataFrame) -> pl.DataFrame:
    """Records in their canonical order (source priority, then record id) with `rk`, their
    position: the same records always get the same keys, whatever order they arrived in."""
    order = pl.col(SOURCE).replace_strict(SOURCE_PRIORITY, default=len(SOURCE_PRIORITY))
    return (
        records.sort(order, pl.col(SOURCE), pl.col(RECORD_ID))
        .with_row_index(RECORD_KEY)
        .with_columns(pl.col(RECORD_KEY).cast(pl.UInt32))
    )


# Family names that one family writes either way (southern and northern spelling): each is read
# as the first of its pair, so that blocking and the family-name comparison see one name.
FAMILY_VARIANTS = {"huynh": "hoang", "vo": "vu"}


def _words(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars().str.split(" ")


def _in_order(first: pl.Expr, second: pl.Expr) -> pl.Expr:
    """The two texts joined, the smaller first."""
    return pl.when(first <= second).then(first + second).otherwise(second + first)


def _per_distinct(
    records: pl.DataFrame,
    columns: list[str],
    *stages: list[pl.Expr],
    value_id: str | None = None,
) -> pl.DataFrame:
    """`records` with the columns of `stages` computed once per distinct combination of
    `columns` and joined back: names and addresses repeat across a person's records and across
    people, so this folds a few hundred thousand values instead of millions. Each stage reads
    `columns` and what the stages before it computed (polars computes a repeated expression,
    such as a name split into words, once per use); columns named `_...` are dropped at the
    end. `value_id` names a column numbering the distinct combinations (in no particular
    order)."""
    computed = records.select(columns).unique()
    for stage in stages:
        computed = computed.with_columns(stage)
    computed = computed.drop(cs.starts_with("_"))
    if value_id:
        computed = computed.with_row_index(value_id)
    return records.join(computed, on=columns, how="left", maintain_order="left", nulls_equal=True)


def _id_is_own(national_id: pl.Expr, birth_year: pl.Expr) -> pl.Expr:
    """The birth year the id encodes is less than a `GENERATION` from the record's, or one of
    them is unknown (an id not of 12 digits encodes none)."""
    encoded = pl.when(national_id.str.len_chars() == 12).then(id_birth_year(national_id))
    apart = (encoded - birth_year.cast(pl.Int32)).abs()
    return (apart < GENERATION).fill_null(True)


def features(records: pl.DataFrame) -> pl.DataFrame:
    """Keyed records with the parts that blocking and comparisons read, computed once per
    distinct value (see `_per_distinct`):

    - `family`, `middle`, `given`: the folded name's first word, the words between, its last
      word ("nguyen", "thi thu", "ha"); `given_exact` keeps the diacritics ("hà"), `initial`
      is the given name's first letter ("h"); `name_words`, the folded words in alphabetical
      order ("ha nguyen thi thu"), the same when family and given name are swapped;
      `name_initials`, the first letters of the family and given names in alphabetical order
      ("hn"), also the same when they are swapped;
    - `family_canon`: `family` with Huỳnh read as Hoàng and Võ as Vũ;
    - `birth_key`: year, then the smaller and the larger of day and month (19900512 for both
      12/05/1990 and 05/12/1990), so a transposed date blocks with the right one;
    - `national_number`: the national id's digits as a number; `id_is_own`: whether the id can be
      its record's holder's, the birth year it encodes less than a `GENERATION` from the record's
      (true where either is unknown);
    - `birth_number`: the birth date as the number yyyymmdd, for a slip of one digit;
    - `address_key`, `father_key`, `mother_key`: the folded address and parents' names, and
      `address_key_id`, `father_key_id`, `mother_key_id` numbering their distinct values (see
      `comparisons.pair_scores`);
      `house_key`, the folded address's first two parts: the house number and street ("so 187,
      pho ngoc lam"), or the hamlet and village, which survive the renaming of wards;
    - `place`: the ward code, or where standardisation settled none (an address abroad, or
      one it could not read), the folded address's last two parts as written (a postcode and
      a state): where blocking and comparisons look for the ward.
    """
    words = [
        _words(pl.col("full_name_key")).alias("_folded"),
        _words(pl.col("full_name").str.to_lowercase()).alias("_exact"),
    ]
    folded, exact = pl.col("_folded"), pl.col("_exact")
    family = folded.list.first()
    birth = pl.col("birth_date")
    day, month = birth.dt.day().cast(pl.Int32), birth.dt.month().cast(pl.Int32)
    names = [
        family.alias("family"),
        family.replace(FAMILY_VARIANTS).alias("family_canon"),
        folded.list.slice(1, (folded.list.len() - 2).clip(lower_bound=0))
        .list.join(" ")
        .fill_null("")
        .alias("middle"),
        folded.list.last().alias("given"),
        exact.list.last().alias("given_exact"),
        folded.list.last().str.slice(0, 1).alias("initial"),
        folded.list.sort().list.join(" ").alias("name_words"),
        _in_order(family.str.slice(0, 1), folded.list.last().str.slice(0, 1)).alias(
            "name_initials"
        ),
    ]
    prepared = _per_distinct(records, ["full_name_key", "full_name"], words, names)
    address = [fold(pl.col("address").cast(pl.String)).alias("address_key")]
    first_two_parts = pl.col("address_key").str.replace(r"^([^,]*,[^,]*),.*$", "$1")
    last_two_parts = pl.col("address_key").str.extract(r"([^,]*,[^,]*)$")
    parts = [
        first_two_parts.str.replace_all(r"\s*,\s*", ", ").str.strip_chars().alias("house_key"),
        last_two_parts.str.replace_all(r"\s*,\s*", ", ")
        .str.strip_chars()
        .alias("written_locality"),
    ]
    prepared = _per_distinct(prepared, ["address"], address, parts, value_id="address_key_id")
    prepared = prepared.with_columns(
        pl.coalesce("ward_code", "written_locality").alias("place")
    ).drop("written_locality")
    for column, key in (("father_name", "father"), ("mother_name", "mother")):
        folded_parent = [fold(pl.col(column).cast(pl.String)).alias(f"{key}_key")]
        prepared = _per_distinct(prepared, [column], folded_parent, value_id=f"{key}_key_id")
    return prepared.with_columns(
        pl.col("national_id").str.to_integer(strict=False).cast(pl.UInt64).alias("national_number"),
        _id_is_own(pl.col("national_id"), pl.col("birth_year")).alias("id_is_own"),
        (birth.dt.year().cast(pl.UInt64) * 10_000 + month.cast(pl.UInt64) * 100 + day)
        .cast(pl.UInt64)
        .alias("birth_number"),
        (
            birth.dt.year().cast(pl.Int32) * 10_000
            + pl.min_horizontal(day, month) * 100
            + pl.max_horizontal(day, month)
        ).alias("birth_key"),
    )
