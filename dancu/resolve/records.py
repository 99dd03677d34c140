"""Person records: every accepted person-bearing record in one shape, the input of resolution."""

import contextlib
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl
import polars.selectors as cs

from dancu.contract import (
    EXTRACT_DATE,
    FILE_NAME,
    MATCHED_SOURCES,
    RECORD_ID,
    ROW_NUMBER,
    SOURCE,
    SOURCE_PRIORITY,
    SOURCES,
    Document,
)
from dancu.documents import IDENTITY_CERTIFICATE, PASSPORT, VIETNAM
from dancu.foreign_names import is_probably_vietnamese_name
from dancu.memory import limit_duckdb, mapped, mapped_column, rows_within, sql_path
from dancu.parse import GENERATION, id_birth_year
from dancu.rules import accepted
from dancu.text import fold

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

RECORD_KEY = "rk"  # a record's position in the canonical order: what pairs and clusters refer to

# Whether a record may found a person of its own: a record of the register, insurance or health
# may; a student or judicial-record request may not (`MATCHED_SOURCES`); a party of a civil
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
    # Other documents of the person: an old identity card (CMND), the personal id the register
    # re-issued (`previous_national_id`), a passport's number and issuing country.
    "cmnd": pl.String,
    "previous_national_id": pl.String,
    "passport": pl.String,
    "passport_country": pl.String,
    # The record names a nationality other than Vietnamese, or a passport: a foreign element,
    # whose names may come in any order (see `dancu.foreign_names`).
    "foreign": pl.Boolean,
    # Vietnamese among the nationalities it names (null where it names none).
    "vietnamese": pl.Boolean,
    FOUNDS_PERSON: pl.Boolean,
}
# Where a source keeps a person column under another name, or not at all.
BHXH_CODE = {"bhxh": pl.col(RECORD_ID), "y_te": pl.col("bhxh_code")}


def foreign_element(nationality: pl.Expr | None, passport: pl.Expr) -> pl.Expr:
    """A nationality other than Vietnamese among `nationality` (a list of alpha-3 codes), or a
    passport."""
    other = (
        pl.lit(False)
        if nationality is None
        else nationality.list.eval(pl.element() != VIETNAM).list.any().fill_null(False)
    )
    return other | passport.is_not_null()


def is_vietnamese(nationality: pl.Expr | None) -> pl.Expr:
    """Vietnamese among `nationality` (a list of alpha-3 codes); null where it is empty."""
    if nationality is None:
        return pl.lit(None, pl.Boolean)
    return pl.when(nationality.list.len() > 0).then(nationality.list.contains(VIETNAM))


def document_columns(document: Document, names: list[str]) -> dict[str, pl.Expr]:
    """The passport (`passport`, `passport_country`) and the nationality (`foreign`) of a
    document's holder, from the columns a standardised frame (of columns `names`) has."""
    if document.type not in names:
        return {}
    is_passport = pl.col(document.type) == PASSPORT
    passport = pl.when(is_passport).then(pl.col(document.number))
    nationality = pl.col(document.nationality) if document.nationality in names else None
    # An identity certificate is issued to a person of Vietnamese origin without nationality.
    stateless = pl.when(pl.col(document.type) == IDENTITY_CERTIFICATE).then(False)
    return {
        "passport": passport,
        "passport_country": pl.when(is_passport).then(pl.col(document.issuing_country)),
        "foreign": foreign_element(nationality, passport),
        "vietnamese": pl.coalesce(is_vietnamese(nationality), stateless),
    }


def _columns(frame_columns: list[str], source: str) -> list[pl.Expr]:
    """The expressions of `COLUMNS` for one person source's standardised frame."""
    own = next((d for d in SOURCES[source].documents if d.holder == ""), None)
    documents = document_columns(own, frame_columns) if own else {}
    nationality = pl.col("nationality") if "nationality" in frame_columns else None
    values = {
        "bhxh_code": BHXH_CODE.get(source, pl.lit(None)),
        FOUNDS_PERSON: pl.lit(source not in MATCHED_SOURCES),
        "foreign": foreign_element(nationality, pl.lit(None)),
        "vietnamese": is_vietnamese(nationality),
        **{name: pl.col(name) for name in COLUMNS if name in frame_columns},
        **documents,
    }
    return [
        values.get(name, pl.lit(None)).cast(dtype).alias(name) for name, dtype in COLUMNS.items()
    ]


def person_records(std_frames: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
    """One row per accepted record of the person sources (`SOURCE_PRIORITY`: dan_cu, bhxh, y_te,
    giao_duc, ly_lich_tu_phap; those of `std_frames` given), with the columns of `COLUMNS`:
    lineage, the person's identifiers and attributes, null where the source does not hold them
    (a school record has no phone of the student's own, a judicial request its personal id only
    where its document is a CCCD). `ward_code` is whatever ward the standardised frame carries.
    The records come as the frames give them; `keyed` puts them in order."""
    parts = []
    for source in SOURCE_PRIORITY:
        if source not in std_frames:
            continue
        frame = std_frames[source]
        names = frame.collect_schema().names()
        parts.append(accepted(frame).select(_columns(names, source)))
    return pl.concat(parts, how="vertical")


def _canonical_order() -> list[pl.Expr]:
    """The keys of the records' canonical order: source priority, source, record id."""
    priority = pl.col(SOURCE).replace_strict(SOURCE_PRIORITY, default=len(SOURCE_PRIORITY))
    return [priority, pl.col(SOURCE), pl.col(RECORD_ID)]


def _in_canonical_order(records: pl.DataFrame) -> bool:
    """Whether `records` come in the canonical order."""
    follows = pl.lit(True)
    for key in reversed(_canonical_order()):
        follows = (key > key.shift(1)) | ((key == key.shift(1)) & follows)
    return bool(records.select(follows.slice(1).all()).item())


def keyed(records: Frame) -> Frame:
    """Records in their canonical order (source priority, then record id) with `rk`, their
    position: the same records always get the same keys, whatever order they arrived in.
    Records already in that order are not sorted again. In memory: `keyed_to_disk` sorts out
    of core."""
    if not _in_canonical_order(records.lazy().select(SOURCE, RECORD_ID).collect()):
        records = records.sort(_canonical_order())
    return records.with_row_index(RECORD_KEY).with_columns(pl.col(RECORD_KEY).cast(pl.UInt32))


def keyed_to_disk(records: pl.LazyFrame, path: Path, spill: Path) -> None:
    """`keyed(records)` written to the Parquet file `path`. The records are sorted by DuckDB,
    within the run's memory limit and spilling to `spill`: a sort in polars holds what it sorts
    whatever the limit. At ten million persons under an 8 GB limit: 4.5 GiB held at most, in
    70 s; sorting each source in polars held 6.2 GiB, in 25 s (all of them at once, 13 GiB)."""
    unsorted, in_order = spill / "records-unsorted.parquet", spill / "records-in-order.parquet"
    schema = records.collect_schema()
    records.sink_parquet(unsorted)
    priority = " ".join(f"when '{s}' then {i}" for i, s in enumerate(SOURCE_PRIORITY))
    with limit_duckdb(duckdb.connect(), spill, keeps_order=False) as con:
        con.execute(
            f"copy (select * from read_parquet({sql_path(unsorted)}) order by "
            f"case {SOURCE} {priority} else {len(SOURCE_PRIORITY)} end, {SOURCE}, {RECORD_ID}) "
            f"to {sql_path(in_order)} (format parquet)"
        )
    unsorted.unlink()
    # Read back as they were written: DuckDB gives categorical columns back as text.
    pl.scan_parquet(in_order).cast(dict(schema)).with_row_index(RECORD_KEY).with_columns(
        pl.col(RECORD_KEY).cast(pl.UInt32)
    ).sink_parquet(path)
    in_order.unlink()


def by_source(records: pl.DataFrame, sources: Iterable[str]) -> pl.DataFrame:
    """The records of `sources` in source, then record-id order, from records in the canonical
    order (as `keyed` gives them): slices of `records`, which filtering and sorting would copy
    twice (1.5 GB each at ten million persons)."""
    wanted = set(sources)
    runs = records.get_column(SOURCE).rle().struct.unnest()
    starts = runs["len"].cum_sum() - runs["len"]
    slices = {
        source: records.slice(start, length)
        for source, start, length in zip(runs["value"], starts, runs["len"], strict=True)
        if source in wanted
    }
    empty = records.clear()
    return pl.concat([empty, *(slices[source] for source in sorted(slices))], rechunk=False)


# Family names that one family writes either way (southern and northern spelling): each is read
# as the first of its pair, so that blocking and the family-name comparison see one name.
FAMILY_VARIANTS = {"huynh": "hoang", "vo": "vu"}


def _words(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(r"[^\p{L}\p{N}]+", " ").str.strip_chars().str.split(" ")


def _in_order(first: pl.Expr, second: pl.Expr) -> pl.Expr:
    """The two texts joined, the smaller first."""
    return pl.when(first <= second).then(first + second).otherwise(second + first)


def _distinct_values(
    records: pl.LazyFrame,
    columns: list[str],
    *stages: list[pl.Expr],
    value_id: str | None = None,
) -> pl.DataFrame:
    """The columns of `stages` computed once per distinct combination of `columns` of
    `records` (those columns, then the computed ones): names and addresses repeat across a
    person's records and across people, so this folds a few hundred thousand values instead of
    millions. Each stage reads `columns` and what the stages before it computed (polars
    computes a repeated expression, such as a name split into words, once per use); columns
    named `_...` are dropped at the end. `value_id` names a column numbering the distinct
    combinations (in no particular order).

    The computed texts are categorical: each value is held once and a record holds a 4-byte
    number, where a text column takes 16 bytes a record even for one letter (at ten million
    persons, 24 million records: 380 MB a column)."""
    computed = records.select(columns).unique().collect()
    for stage in stages:
        computed = computed.with_columns(stage)
    computed = computed.drop(cs.starts_with("_")).with_columns(
        (cs.string() - cs.by_name(columns)).cast(pl.Categorical)
    )
    return computed.with_row_index(value_id) if value_id else computed


def _looked_up(records: pl.DataFrame, computed: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """`records` with the columns that `computed` (of `_distinct_values` on `columns`) holds
    for their values of `columns`."""
    # Joined on the key columns alone, and the new columns put beside the records: joining the
    # whole records would copy all of them.
    looked_up = records.select(columns).join(
        computed, on=columns, how="left", maintain_order="left", nulls_equal=True
    )
    return records.hstack(looked_up.drop(columns))


def _id_is_own(national_id: pl.Expr, birth_year: pl.Expr) -> pl.Expr:
    """The birth year the id encodes is less than a `GENERATION` from the record's, or one of
    them is unknown (an id not of 12 digits encodes none)."""
    encoded = pl.when(national_id.str.len_chars() == 12).then(id_birth_year(national_id))
    apart = (encoded - birth_year.cast(pl.Int32)).abs()
    return (apart < GENERATION).fill_null(True)


def reissued_ids(records: pl.LazyFrame) -> pl.DataFrame:
    """The national ids that the register re-issued (after a correction of sex or birth year),
    `old` (a record's `previous_national_id`), and the id that replaced it, `new`: a record
    that still carries the old id is the same person's. An old id that two records say
    different ids replaced is left out."""
    return (
        records.select(old="previous_national_id", new="national_id")
        .drop_nulls()
        .filter(pl.col("old") != pl.col("new"))
        .unique()
        .filter(pl.col("old").is_unique())
        .collect()
    )


# Record columns of few distinct values that blocking and comparisons read: categorical in
# `features`, as the texts it derives are (see `_distinct_values`).
REPEATING = ("full_name_key", "sex", "ward_code", "passport_country")
NAME = ["full_name_key", "full_name"]
PARENTS = {"father_name": "father", "mother_name": "mother"}
# Records whose features are computed at a time: a million persons' records in one go, ten
# million's in six; fewer where the run's memory limit holds fewer (`records_at_once`), at about
# `FEATURE_RECORD_BYTES` a record while computed (measured: 1.8 GiB for 2.4 million records).
FEATURE_ROWS = 4_000_000
FEATURE_RECORD_BYTES = 800


def _name_parts() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """The stages of `_distinct_values` that take a name apart (see `features`)."""
    words = [
        _words(pl.col("full_name_key")).alias("_folded"),
        _words(pl.col("full_name").str.to_lowercase()).alias("_exact"),
    ]
    folded, exact = pl.col("_folded"), pl.col("_exact")
    family = folded.list.first()
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
        is_probably_vietnamese_name(pl.col("full_name")).alias("vietnamese_name"),
        folded.list.join(" ").alias("name_in_order"),
        folded.list.join("").alias("name_letters"),
        folded.list.slice(1)
        .list.concat(folded.list.slice(0, 1))
        .list.join(" ")
        .alias("name_first_word_last"),
    ]
    return words, names


def _address_parts() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """The stages of `_distinct_values` that fold an address and take it apart."""
    address = [fold(pl.col("address").cast(pl.String)).alias("address_key")]
    first_two_parts = pl.col("address_key").str.replace(r"^([^,]*,[^,]*),.*$", "$1")
    last_two_parts = pl.col("address_key").str.extract(r"([^,]*,[^,]*)$")
    parts = [
        first_two_parts.str.replace_all(r"\s*,\s*", ", ").str.strip_chars().alias("house_key"),
        last_two_parts.str.replace_all(r"\s*,\s*", ", ")
        .str.strip_chars()
        .alias("written_locality"),
    ]
    return address, parts


def _given_name_first(folded: pl.Expr) -> pl.Expr:
    """A folded name's words in reverse, the given name first: Jaro-Winkler weighs a shared
    beginning most, and read family name first, most people of one family name look alike
    (two different fathers named Nguyễn Văn score 0.88 or more four times in ten)."""
    return folded.str.split(" ").list.reverse().list.join(" ")


def _distinct_tables(records: pl.LazyFrame) -> dict[tuple[str, ...], pl.DataFrame]:
    """Per group of record columns that `features` reads once per distinct value: the
    features of those values (see `_distinct_values`)."""
    tables = {
        tuple(NAME): _distinct_values(records, NAME, *_name_parts()),
        ("address",): _distinct_values(
            records, ["address"], *_address_parts(), value_id="address_key_id"
        ),
    }
    for column, key in PARENTS.items():
        folded = [_given_name_first(fold(pl.col(column).cast(pl.String))).alias(f"{key}_key")]
        tables[(column,)] = _distinct_values(records, [column], folded, value_id=f"{key}_key_id")
    return tables


def features(
    records: pl.DataFrame | pl.LazyFrame,
    leave_out: Iterable[str] = (),
    rows: int | None = None,
    spill: Path | None = None,
) -> pl.DataFrame:
    """Keyed records with the parts that blocking and comparisons read, computed once per
    distinct value (see `_distinct_values`), less the columns of `leave_out`:

    - `family`, `middle`, `given`: the folded name's first word, the words between, its last
      word ("nguyen", "thi thu", "ha"); `given_exact` keeps the diacritics ("hà"), `initial`
      is the given name's first letter ("h"); `name_words`, the folded words in alphabetical
      order ("ha nguyen thi thu"), the same when family and given name are swapped;
      `name_initials`, the first letters of the family and given names in alphabetical order
      ("hn"), also the same when they are swapped;
    - `family_canon`: `family` with Huỳnh read as Hoàng and Võ as Vũ;
    - `birth_key`: year, then the smaller and the larger of day and month (19900512 for both
      12/05/1990 and 05/12/1990), so a transposed date blocks with the right one;
    - `current_national_id`: the national id, or the one that replaced it where the register
      re-issued it (`reissued_ids`); `national_number`: its digits as a number;
      `id_is_own`: whether it can be its record's holder's, the birth year it encodes less than
      a `GENERATION` from the record's (true where either is unknown);
    - `name_in_order`, `name_first_word_last`: the folded words, and the same with the first
      word moved to the end ("ha nguyen thi thu" -> "nguyen thi thu ha"): a name written given
      name first, as a form in Western order asks, is another record's name moved so;
    - `name_letters`: the folded words without the spaces between them ("nguyenthithuha"): a
      space typed inside a word ("Ngu yễn") or two words run together ("ThuHà") leave them;
    - `citizen`: the record holds a national id and no foreign element; `foreigner`: it holds
      no national id and nationalities without Vietnamese (a passport's holder, or an identity
      certificate's, issued to those without nationality): no one person;
    - `order_free`: the record has a foreign element (`foreign`) or a name that does not read
      as Vietnamese (`foreign_names.is_probably_vietnamese_name`): its names may come in any
      order;
    - `birth_number`: the birth date as the number yyyymmdd, for a slip of one digit;
    - `address_key`, `father_key`, `mother_key`: the folded address and parents' names (given
      name first, `_given_name_first`), and
      `address_key_id`, `father_key_id`, `mother_key_id` numbering their distinct values (see
      `comparisons.pair_scores`);
      `house_key`, the folded address's first two parts: the house number and street ("so 187,
      pho ngoc lam"), or the hamlet and village, which survive the renaming of wards;
    - `place`: the ward code, or where standardisation settled none (an address abroad, or
      one it could not read), the folded address's last two parts as written (a postcode and
      a state): where blocking and comparisons look for the ward.

    The texts it derives, and the record columns of `REPEATING`, are categorical. The records
    are read `rows` (by default `records_at_once`) at a time: only the features are held of all
    of them, and the columns a caller leaves out are never held whole. With `spill`, the features
    wait in that folder, memory-mapped (`memory.mapped_column`), rather than in memory.
    """
    records, rows = records.lazy(), rows or records_at_once()
    tables = _distinct_tables(records)
    reissued = reissued_ids(records)
    size = records.select(pl.len()).collect().item()
    with _parts_folder(spill) as folder:
        parts = []
        for start in range(0, max(size, 1), rows):
            part = _features_of(records.slice(start, rows).collect(), tables, reissued)
            part = part.drop(leave_out, strict=False)
            parts.append(mapped(part, folder))
        return _in_one_piece(parts, spill)


@contextlib.contextmanager
def _parts_folder(spill: Path | None) -> Iterator[Path | None]:
    """Where the pieces of `features` wait until they are joined: a folder of their own in
    `spill`, removed once they are, or nowhere (in memory) without `spill`."""
    if spill is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="features-", dir=spill) as folder:
        yield Path(folder)


def records_at_once() -> int:
    """How many records `features` computes at a time: `FEATURE_ROWS`, or fewer where the run's
    memory limit holds fewer (`memory.rows_within`)."""
    return min(FEATURE_ROWS, rows_within(FEATURE_RECORD_BYTES))


def _in_one_piece(parts: list[pl.DataFrame], spill: Path | None) -> pl.DataFrame:
    """`parts` one after the other, each column in one piece of memory (mapped from a file in
    `spill` if given): comparisons gather the values of a million pairs at a time, twice as
    slowly from six pieces (ten million persons). Joined a column at a time, each let go of in
    `parts` once copied: the copy costs a column more, not the whole frame again."""
    columns = []
    for name in parts[0].columns:
        column = pl.concat([part[name] for part in parts], rechunk=True)
        parts = [part.drop(name) for part in parts]
        columns.append(mapped_column(column, spill))
    return pl.DataFrame(columns)


def _features_of(
    records: pl.DataFrame,
    tables: dict[tuple[str, ...], pl.DataFrame],
    reissued: pl.DataFrame,
) -> pl.DataFrame:
    """`features` of some records, given the features of the distinct values of all of them
    (`_distinct_tables`) and the ids the register re-issued (`reissued_ids`)."""
    prepared = records
    for columns, table in tables.items():
        prepared = _looked_up(prepared, table, list(columns))
    ids = pl.col("national_id")
    current = ids.replace(reissued["old"], reissued["new"]) if reissued.height else ids
    prepared = prepared.with_columns(
        pl.col(REPEATING).cast(pl.Categorical),
        current.alias("current_national_id"),
        (pl.col("foreign").fill_null(False) | ~pl.col("vietnamese_name").fill_null(True)).alias(
            "order_free"
        ),
    ).drop("vietnamese_name")
    prepared = prepared.with_columns(
        pl.coalesce("ward_code", "written_locality").alias("place")
    ).drop("written_locality")
    current = pl.col("current_national_id")
    birth = pl.col("birth_date")
    day, month = birth.dt.day().cast(pl.Int32), birth.dt.month().cast(pl.Int32)
    prepared = prepared.with_columns(
        (current.is_not_null() & ~pl.col("foreign").fill_null(False)).alias("citizen"),
        (current.is_null() & ~pl.col("vietnamese")).fill_null(False).alias("foreigner"),
    )
    return prepared.with_columns(
        current.str.to_integer(strict=False).cast(pl.UInt64).alias("national_number"),
        _id_is_own(current, pl.col("birth_year")).alias("id_is_own"),
        (birth.dt.year().cast(pl.UInt64) * 10_000 + month.cast(pl.UInt64) * 100 + day)
        .cast(pl.UInt64)
        .alias("birth_number"),
        (
            birth.dt.year().cast(pl.Int32) * 10_000
            + pl.min_horizontal(day, month) * 100
            + pl.max_horizontal(day, month)
        ).alias("birth_key"),
    )
