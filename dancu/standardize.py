"""Standardisation: each source's latest rows repaired, parsed to types, with rule outcomes
attached.

How a column is repaired and parsed follows its kind in the contract (`dancu.contract.Column`).
"""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from dancu import codes, documents, parse
from dancu.address import standardize_addresses
from dancu.cache import FileCache, code_version
from dancu.contract import (
    EXTRACT_DATE,
    FEW_VALUE_KINDS,
    FILE_NAME,
    LINEAGE,
    RECORD_ID,
    ROW_NUMBER,
    TEXT_KINDS,
    Column,
    Document,
    Source,
    temporary_code_of,
)
from dancu.ingest import FILE_ERROR
from dancu.memory import rows_within
from dancu.nationality import nationalities
from dancu.rules import (
    FLAGS,
    HELD,
    PREVIOUS_VERSION_HELD,
    apply_rules,
    flags_with,
    is_rejected,
)
from dancu.text import (
    LEGACY_ENCODINGS,
    code_text,
    fold,
    legacy_encoding_of_file,
    on_distinct,
    repair_text,
)

RAW = "raw"
# Whether `Án tích` names a conviction: what reports may count, never the text.
HAS_CRIMINAL_RECORD = "has_criminal_record"
LEGACY = "legacy_encoding"
# Read as data by the address conversion, not imported: its version is part of the code's.
ADMIN_DATA = ("vietnamadminunits",)
STANDARDIZE_THREADS = 2
STORE_THREADS = 4
# What standardising one dan_cu row holds while it works (the delivered and repaired text, the
# parsed columns, the polars plan's intermediates): 1.7 KB measured at a million persons.
STANDARDIZE_ROW_BYTES = 2_000


def evidence(column: str) -> str:
    """Where the parse of `column` leaves what the rules need to judge it."""
    return f"_parsed:{column}"


def in_excel_file() -> pl.Expr:
    """Excel date serials are only believed in cells of XLSX files."""
    return pl.col(FILE_NAME).str.ends_with(".xlsx")


# A date's text led by the type of its file, which decides whether a number is an Excel serial.
_IN_EXCEL, _IN_TEXT = "x", "t"
# What the typed column and the rules read of a date's parse.
DATE_FIELDS = {
    "date": pl.Date, "year": pl.Int32, "impossible": pl.Boolean, "day_month_swapped": pl.Boolean,
    "two_digit_year": pl.Boolean,
}  # fmt: skip


def _with_file_type(text: pl.Expr) -> pl.Expr:
    return pl.concat_str(
        pl.when(in_excel_file()).then(pl.lit(_IN_EXCEL)).otherwise(pl.lit(_IN_TEXT)), text
    )


def _date_fields(parsed: pl.Series) -> pl.Series:
    # The parse's intermediate fields would be carried through the join back to every row.
    return parsed.struct.unnest().select(list(DATE_FIELDS)).to_struct()


def _parsed_date(with_file_type: pl.Expr) -> pl.Expr:
    text, in_excel = with_file_type.str.slice(1), with_file_type.str.starts_with(_IN_EXCEL)
    return parse.parse_date(text, in_excel).map_batches(
        _date_fields, return_dtype=pl.Struct(DATE_FIELDS)
    )


def name_parts(text: pl.Expr) -> pl.Expr:
    """A name in title case and its matching key, as one struct: names repeat (a parent's name
    across children, a name across extracts), so both are computed once per distinct name."""
    return pl.struct(parse.name(text).alias("name"), fold(text).alias("key"))


def name_parts_of(column: str) -> str:
    return f"_name:{column}"


def typed(column: Column) -> list[pl.Expr]:
    """The standard form of one repaired contract column, by the column's kind (a name as one
    struct of `name_parts`, which `standardize_rows` unpacks)."""
    name = column.name
    text = pl.col(name)
    match column.kind:
        case "name":
            return [on_distinct(text, name_parts).alias(name_parts_of(name))]
        case "national_id":
            return [
                parse.national_id(text).alias(name),
                parse.has_non_id_characters(text).alias(evidence(name)),
            ]
        case "date" | "birth_date":
            # Dates repeat (a birth date across a family's records, an update date across a
            # file): parsed once per distinct text and file type.
            parsed = on_distinct(_with_file_type(text), _parsed_date)
            values = [parsed.struct["date"].alias(name), parsed.alias(evidence(name))]
            if column.kind == "birth_date":
                values.append(parsed.struct["year"].alias(column.year_column))
            return values
        case "cmnd":
            return [parse.cmnd(text).alias(name)]
        case "phone":
            return [parse.phone(text).alias(name)]
        case "sex":
            return [on_distinct(text, parse.sex).alias(name)]
        case "ward_code" | "place_code":
            return [on_distinct(text, lambda v: parse.code_digits(v, 5)).alias(name)]
        case "health_card":
            card = text.str.replace_all(r"[\s.\-]", "").str.to_uppercase()
            return [card.alias(name), card.str.extract(r"([0-9]{10})$").alias("bhxh_code")]
        case "code":
            code_list = codes.CODE_LISTS[name]
            return [on_distinct(text, lambda v: codes.coded(v, code_list)).alias(name)]
        case "provisional_id":
            return [
                parse.national_id(text).alias(name),
                parse.temporary_code(text).alias(temporary_code_of(name)),
            ]
        case "nationality":
            return [nationalities(text).alias(name)]
        case "document_type":
            # As written; settled with the number in `with_documents`.
            return [documents.document_type(text).alias(name)]
        case "certificate_form":
            return [on_distinct(text, parse.certificate_form).alias(name)]
        case "school_year":
            return [on_distinct(text, parse.school_year).alias(name)]
        case "criminal_record":
            return [text, parse.has_criminal_record(text).alias(HAS_CRIMINAL_RECORD)]
    return [text]


def _holder_nationality(document: Document, source: Source) -> pl.Expr:
    """The one nationality of the document's holder, where the source has it and it is one."""
    if document.nationality not in source.column_names:
        return pl.lit(None, pl.String)
    written = pl.col(document.nationality)
    return pl.when(written.list.len() == 1).then(written.list.first())


def typed_document(document: Document, source: Source) -> list[pl.Expr]:
    """A document's type settled by its number (a "CMND" with a 12-digit number is a CCCD), its
    number in the normal form of that type, its issuing country (a passport's from its place of
    issue, else its holder's one nationality), and the personal ids `Source.derived_ids` reads
    from it. Reads the type as `typed` left it and the number as repaired."""
    number_text = pl.col(document.number)
    settled = documents.id_card_type(pl.col(document.type), number_text)
    number = documents.document_number(settled, number_text)
    issued_by = pl.col(document.issued_by) if document.issued_by else pl.lit(None, pl.String)
    country = documents.issuing_country(settled, issued_by)
    passport_country = pl.coalesce(country, _holder_nationality(document, source))
    typed = [
        settled.alias(document.type),
        number.alias(document.number),
        pl.when(settled == documents.PASSPORT)
        .then(passport_country)
        .otherwise(country)
        .alias(document.issuing_country),
    ]
    if document.national_id in source.derived_ids:
        typed += [
            pl.when(settled == documents.NATIONAL_ID).then(number).alias(document.national_id),
            pl.when(settled == documents.CMND).then(number).alias(document.cmnd),
        ]
    return typed


def _holders_ids(source: Source) -> dict[str, str]:
    """Each birth date's column and the column of the personal id of the person born then."""
    holders = {}
    if source.subject:
        holders = {
            column: source.subject.national_id
            for column in source.of_kind("birth_date")
            if source.column(column).year_column == source.subject.birth_year
        }
    if source.event:
        holders |= {p.birth_date: p.national_id for p in source.event.parties.values()}
    known = set(source.column_names) | set(source.derived_ids)
    return {date: id_ for date, id_ in holders.items() if date in known and id_ in known}


def settled_centuries(source: Source) -> list[pl.Expr]:
    """Every date column whose year was written with two digits, with its century settled by
    `parse.settle_century` (a birth date by its holder's personal id where the record has one),
    and a birth date's year column beside it."""
    holders = _holders_ids(source)
    settled = []
    for name in source.of_kind("date", "birth_date"):
        holder_id = pl.col(holders[name]) if name in holders else None
        parsed = parse.settle_century(pl.col(evidence(name)), pl.col(EXTRACT_DATE), holder_id)
        settled += [parsed.alias(evidence(name)), parsed.struct["date"].alias(name)]
        if source.column(name).kind == "birth_date":
            settled.append(parsed.struct["year"].alias(source.column(name).year_column))
    return settled


def with_units(frame: pl.LazyFrame, columns: list[str]) -> pl.LazyFrame:
    """Address split into street and administrative units, converted to current units.

    `ward_code` becomes the current ward, settled from the delivered code, the address text and
    the extract date together (see `dancu.address`); the code as delivered stays beside it.
    """
    if "address" not in columns:
        return frame
    has_code = "ward_code" in columns

    def units(rows: pl.Series) -> pl.Series:
        codes = rows.struct.field("ward_code") if has_code else None
        found = standardize_addresses(
            rows.struct.field("address"), codes, rows.struct.field(EXTRACT_DATE)
        )
        return found.to_struct()

    inputs = ["address", EXTRACT_DATE] + (["ward_code"] if has_code else [])
    delivered_code = [pl.col("ward_code").alias("ward_code_delivered")] if has_code else []
    return (
        frame.with_columns(*delivered_code)
        .with_columns(pl.struct(inputs).map_batches(units).alias("_units"))
        .drop([c for c in ("ward_code",) if has_code])
        .unnest("_units")
    )


def repair(
    frame: pl.LazyFrame, columns: tuple[Column, ...], legacy_encoding: str | None
) -> pl.LazyFrame:
    """Text columns repaired in full; codes, ids and dates only as `code_text` (nothing else can
    be wrong with their characters that parsing would not see)."""

    def repaired(column: Column) -> pl.Expr:
        text = pl.col(column.name)
        if column.kind in FEW_VALUE_KINDS:
            return on_distinct(text, lambda v: repair_text(v, legacy_encoding))
        if column.kind in TEXT_KINDS:
            return repair_text(text, legacy_encoding)
        return code_text(text)

    return frame.with_columns(repaired(c).alias(c.name) for c in columns)


def standardize_rows(rows: pl.LazyFrame, source: Source) -> pl.LazyFrame:
    """Rows of readable files repaired and typed, with `reasons` (quarantine) and `flags`, in
    file and row order.

    What a row becomes depends on its own file alone (the legacy encoding is decided from all the
    file's rows, a repeated id is one repeated inside the file), so files can be standardised apart
    and their results kept. A row with reasons keeps its delivered values as JSON in `raw`, under
    the source's labels.
    """
    delivered = source.column_names
    text_columns = source.of_kind("name", "address", "place")
    with_legacy = rows.with_columns(
        *[pl.col(c).alias(f"_raw:{c}") for c in delivered],
        legacy_encoding_of_file(text_columns, FILE_NAME).alias(LEGACY),
    )
    # Legacy decoding costs: it runs only on the rows of files written in that encoding.
    # A file's rows stay together and in order, which the rules on repeated ids rely on.
    repaired = pl.concat(
        [repair(with_legacy.filter(pl.col(LEGACY).is_null()), source.columns, None)]
        + [
            repair(with_legacy.filter(pl.col(LEGACY) == encoding), source.columns, encoding)
            for encoding in LEGACY_ENCODINGS
        ]
    )
    kept_text = repaired.with_columns(pl.col(c).alias(f"_text:{c}") for c in delivered)
    parsed = kept_text.with_columns(expr for c in source.columns for expr in typed(c)).with_columns(
        part
        for c in source.of_kind("name")
        for part in (
            pl.col(name_parts_of(c)).struct["name"].alias(c),
            pl.col(name_parts_of(c)).struct["key"].alias(f"{c}_key"),
        )
    )
    with_documents = parsed.with_columns(
        expr for document in source.documents for expr in typed_document(document, source)
    ).with_columns(settled_centuries(source))
    judged = apply_rules(with_units(with_documents, delivered), source)
    # The most sensitive columns stay out of the quarantine's delivered values: it is read by
    # every auditor, and they are for the justice service alone.
    as_delivered = pl.struct(
        pl.col(f"_raw:{c.name}").alias(c.label)
        for c in source.columns
        if c.name not in source.withheld
    )
    # Only quarantined rows keep their delivered values. (Splitting the rows to encode only
    # theirs made polars compute part of the plan twice: 15% slower.)
    return (
        judged.with_columns(
            pl.when(is_rejected()).then(as_delivered.struct.json_encode()).alias(RAW)
        )
        .select(
            *LINEAGE,
            RECORD_ID,
            pl.exclude(*LINEAGE, RECORD_ID, FILE_ERROR, "is_latest", RAW, "^_.*$", "^extra:.*$"),
            RAW,
        )
        .sort(FILE_NAME, ROW_NUMBER)
    )


def held_rows(std: pl.LazyFrame, latest_rows: pl.LazyFrame) -> pl.DataFrame:
    """The rows (`FILE_NAME`, `ROW_NUMBER`) that stand for a record whose latest delivery was
    quarantined whole: its latest accepted earlier row, by extract date then file name as
    `dancu.ingest.mark_latest` orders deliveries. A refused correction does not replace the
    record: the person would leave the register, which only a death may do.

    `std` holds every standardised row, superseded ones too; `latest_rows` the keys of the
    latest. Only quarantined rows and the accepted rows of their records are held in memory,
    each lookup streaming the large side past the small one.
    """
    key = [FILE_NAME, ROW_NUMBER]
    refused = (
        std.filter(is_rejected() & pl.col(RECORD_ID).is_not_null())
        .select(RECORD_ID, *key)
        .collect(engine="streaming")
    )
    refused_latest_keys = latest_rows.join(refused.lazy().select(key), on=key, how="semi")
    refused_latest = refused.join(refused_latest_keys.collect(engine="streaming"), on=key)
    versions = (
        std.filter(~is_rejected())
        .select(RECORD_ID, EXTRACT_DATE, *key)
        .join(refused_latest.lazy().select(RECORD_ID).unique(), on=RECORD_ID, how="semi")
        .collect(engine="streaming")
    )
    # A record whose latest file also holds an accepted row of it (the row it repeats) has a
    # latest version that stands: nothing earlier is held. No accepted row is later than it.
    standing = versions.join(
        refused_latest.select(RECORD_ID, FILE_NAME), on=[RECORD_ID, FILE_NAME], how="semi"
    )
    # A file holds one accepted row of a record at most (a repeat is quarantined), so the file
    # decides.
    return (
        versions.join(standing, on=RECORD_ID, how="anti")
        .group_by(RECORD_ID)
        .agg(pl.col(key).sort_by(EXTRACT_DATE, FILE_NAME).last())
        .select(key)
    )


def latest(std: pl.LazyFrame, raw: pl.LazyFrame, source: Source) -> pl.LazyFrame:
    """The standardised rows that are the latest of their record (`is_latest` of the raw stage,
    which compares across files), and those held for a record whose latest delivery was
    quarantined (`held_rows`), flagged `record.previous_version_held`."""
    key = [FILE_NAME, ROW_NUMBER]
    marks = raw.filter(pl.col(FILE_ERROR).is_null() & pl.col("is_latest")).select(key)
    held = held_rows(std, marks)
    published = pl.concat([marks, held.lazy()])
    marked = held.lazy().with_columns(pl.lit(True).alias(HELD))
    return (
        std.join(published, on=key, how="semi", maintain_order="left")
        .join(marked, on=key, how="left", maintain_order="left")
        .with_columns(flags_with(PREVIOUS_VERSION_HELD, source).alias(FLAGS))
        .drop(HELD)
    )


def standardize(raw: pl.LazyFrame, source: Source) -> pl.LazyFrame:
    """The latest rows of a source, repaired and typed, with `reasons` (quarantine) and `flags`,
    and the rows held for records whose latest delivery was quarantined."""
    rows = standardize_rows(raw.filter(pl.col(FILE_ERROR).is_null()), source).collect()
    return latest(rows.lazy(), raw, source)


def by_file(std: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Each file's rows of a frame sorted by file, as slices (no copy)."""
    runs = std.get_column(FILE_NAME).rle().struct.unnest()
    starts = runs["len"].cum_sum() - runs["len"]
    return {
        name: std.slice(start, length)
        for name, start, length in zip(runs["value"], starts, runs["len"], strict=True)
    }


def own_lists(part: pl.DataFrame) -> pl.DataFrame:
    """A slice whose list columns hold their own values alone: a slice shares the whole frame's,
    and the Parquet writer reads them all (a thousand files' entries took 5 s, now 4)."""
    lists = [name for name, dtype in part.schema.items() if dtype.base_type() == pl.List]
    return part.with_columns(part.select(lists).gather(pl.int_range(part.height, eager=True)))


def batches(names: list[str], rows: list[int], most_rows: int) -> list[list[str]]:
    """`names` in order, cut into runs of at most `most_rows` rows each (a file larger than
    that is a batch of its own): a file's rows are standardised together."""
    cut: list[list[str]] = []
    held = most_rows
    for name, count in zip(names, rows, strict=True):
        if held + count > most_rows:
            cut.append([])
            held = 0
        cut[-1].append(name)
        held += count
    return cut


def standardize_cached(
    raw: pl.LazyFrame,
    files: pl.DataFrame,
    source: Source,
    cache: FileCache,
    most_rows: int | None = None,
) -> pl.LazyFrame:
    """`standardize`, computing only the files whose content has no entry in the cache yet.

    `files` is the ingest stage's list of files with their content digests and rows. Missing
    files are standardised in batches of at most `most_rows` delivered rows (by default what
    the run's memory limit holds, see `dancu.memory.rows_within`), each stored before the next.
    The rows are read from the cache's entries as they are streamed on: at ten million persons
    the register's are 10 GB.
    """
    readable = files.filter(pl.col("error").is_null() & (pl.col("rows") > 0))
    keys = {
        name: cache.key(name, digest)
        for name, digest in readable.select(FILE_NAME, "sha256").iter_rows()
    }
    missing = [name for name, key in keys.items() if cache.locate(key) is None]

    def rows_of(names: list[str]) -> pl.DataFrame:
        chosen = raw.filter(pl.col(FILE_NAME).is_in(names) & pl.col(FILE_ERROR).is_null())
        return standardize_rows(chosen, source).collect()

    def store_standardized(names: list[str]) -> None:
        # Files are standardised in two halves side by side: while one half runs Python (the
        # address units, title case), the other keeps the second core busy (-16% at a million).
        halves = [names[i::STANDARDIZE_THREADS] for i in range(STANDARDIZE_THREADS)]
        with ThreadPoolExecutor(STANDARDIZE_THREADS) as pool:
            done = list(pool.map(rows_of, halves))
        fresh = {name: part for half in done for name, part in by_file(half).items()}

        def store(name: str) -> None:
            cache.store(keys[name], own_lists(fresh[name]))

        # Writing Parquet releases the GIL: a thousand files' entries are written side by side.
        with ThreadPoolExecutor(STORE_THREADS) as pool:
            list(pool.map(store, fresh))

    if not keys:  # no rows at all: the empty result still has every column
        return latest(rows_of([]).lazy(), raw, source)
    rows = dict(readable.select(FILE_NAME, "rows").iter_rows())
    most_rows = most_rows or rows_within(STANDARDIZE_ROW_BYTES)
    for batch in batches(missing, [rows[name] for name in missing], most_rows):
        store_standardized(batch)
    # Sorted by file name, the entries are in the order `standardize` sorts its rows into.
    entries = pl.scan_parquet([cache.path(keys[name]) for name in sorted(keys)])
    return latest(entries, raw, source)


def standardize_cache(cache_dir: Path, source: Source) -> FileCache:
    """Each file's standardised rows. Valid while this code and the reading code that made its
    input are unchanged."""
    version = code_version(__name__, "dancu.ingest", data_packages=ADMIN_DATA)
    return FileCache(cache_dir / "standardize" / source.name, version)
