"""Standardise: each source's latest rows repaired, parsed to types, with rule outcomes attached."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import polars as pl

from checks.rules import FLAGS, REASONS, apply_rules, rule_counts
from dancu import codes, parse
from dancu.address import standardize_addresses
from dancu.cache import FileCache, code_version
from dancu.contract import (
    EXTRACT_DATE,
    FILE_NAME,
    LINEAGE,
    RECORD_ID,
    ROW_NUMBER,
    SOURCES,
    Source,
    is_date,
    is_name,
    is_national_id,
)
from dancu.ingest import FILE_ERROR
from dancu.text import (
    LEGACY_ENCODINGS,
    fold,
    legacy_encoding_of_file,
    on_distinct,
    repair_text,
    trim,
)
from pipelines.privacy import masked_errors
from pipelines.resources import DancuPaths

RAW = "raw"
LEGACY = "legacy_encoding"
CODE_LISTS = {
    "ethnicity": codes.ETHNIC_GROUPS,
    "nationality": codes.NATIONALITY,
    "marital_status": codes.MARITAL_STATUS,
}
# Free text beside names, where legacy encodings show.
FREE_TEXT = ("address", "hometown", "death_place")
# Coded fields written as Vietnamese words.
WORDS = ("sex", "ethnicity", "religion", "nationality", "marital_status")
# Columns of few distinct values, repaired once per value.
FEW_VALUES = (*WORDS, "hometown", "death_place")
# Columns that hold 5-digit administrative codes; Excel drops their leading zeros.
WARD_CODES = ("ward_code", "registration_place_code")
# Read as data by the address conversion, not imported: its version is part of the code's.
ADMIN_DATA = ("vietnamadminunits",)
STANDARDIZE_THREADS = 2
STORE_THREADS = 4


def is_text(column: str) -> bool:
    """Vietnamese words, where encodings, NFC and spacing matter."""
    return is_name(column) or column in FREE_TEXT or column in WORDS


def evidence(column: str) -> str:
    """Where the parse of `column` leaves what the rules need to judge it."""
    return f"_parsed:{column}"


def in_excel_file() -> pl.Expr:
    """Excel date serials are only believed in cells of XLSX files."""
    return pl.col(FILE_NAME).str.ends_with(".xlsx")


def name_parts(text: pl.Expr) -> pl.Expr:
    """A name in title case and its matching key, as one struct: names repeat (a parent's name
    across children, a name across extracts), so both are computed once per distinct name."""
    return pl.struct(parse.name(text).alias("name"), fold(text).alias("key"))


def name_parts_of(column: str) -> str:
    return f"_name:{column}"


def typed(column: str) -> list[pl.Expr]:
    """The standard form of one repaired contract column, by the column's kind (a name as one
    struct of `name_parts`, which `standardize_rows` unpacks)."""
    text = pl.col(column)
    if is_name(column):
        return [on_distinct(text, name_parts).alias(name_parts_of(column))]
    if is_national_id(column):
        return [
            parse.national_id(text).alias(column),
            parse.has_non_id_characters(text).alias(evidence(column)),
        ]
    if is_date(column):
        parsed = parse.parse_date(text, in_excel_file())
        values = [parsed.struct["date"].alias(column), parsed.alias(evidence(column))]
        if column.endswith("birth_date"):
            values.append(parsed.struct["year"].alias(column.replace("_date", "_year")))
        return values
    if column == "cmnd":
        return [parse.cmnd(text).alias(column)]
    if column == "phone":
        return [parse.phone(text).alias(column)]
    if column == "sex":
        return [on_distinct(text, parse.sex).alias(column)]
    if column in WARD_CODES:
        return [on_distinct(text, lambda v: parse.code_digits(v, 5)).alias(column)]
    if column == "health_card":
        card = text.str.replace_all(r"[\s.\-]", "").str.to_uppercase()
        return [card.alias(column), card.str.extract(r"(\d{10})$").alias("bhxh_code")]
    if column in CODE_LISTS:
        return [on_distinct(text, lambda v: codes.coded(v, CODE_LISTS[column])).alias(column)]
    return [text]


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


def accepted(std: pl.LazyFrame) -> pl.LazyFrame:
    """The standardised rows that no quarantine rule rejected."""
    return std.filter(pl.col(REASONS).list.len() == 0)


def repair(frame: pl.LazyFrame, columns: list[str], legacy_encoding: str | None) -> pl.LazyFrame:
    """Text columns repaired in full; codes, ids and dates only trimmed (nothing else can be
    wrong with their characters that parsing would not see)."""

    def repaired(column: str) -> pl.Expr:
        if column in FEW_VALUES:
            return on_distinct(pl.col(column), lambda v: repair_text(v, legacy_encoding))
        if is_text(column):
            return repair_text(pl.col(column), legacy_encoding)
        return trim(pl.col(column))

    return frame.with_columns(repaired(c).alias(c) for c in columns)


def standardize_rows(rows: pl.LazyFrame, source: Source) -> pl.LazyFrame:
    """Rows of readable files repaired and typed, with `reasons` (quarantine) and `flags`, in
    file and row order.

    What a row becomes depends on its own file alone (the legacy encoding is decided from all the
    file's rows, a repeated id is one repeated inside the file), so files can be standardised apart
    and their results kept. A row with reasons keeps its delivered values as JSON in `raw`, under
    the source's labels.
    """
    delivered = source.column_names
    text_columns = [c for c in delivered if is_name(c) or c in FREE_TEXT]
    with_legacy = rows.with_columns(
        *[pl.col(c).alias(f"_raw:{c}") for c in delivered],
        legacy_encoding_of_file(text_columns, FILE_NAME).alias(LEGACY),
    )
    # Legacy decoding costs: it runs only on the rows of files written in that encoding.
    # A file's rows stay together and in order, which the rules on repeated ids rely on.
    repaired = pl.concat(
        [repair(with_legacy.filter(pl.col(LEGACY).is_null()), delivered, None)]
        + [
            repair(with_legacy.filter(pl.col(LEGACY) == encoding), delivered, encoding)
            for encoding in LEGACY_ENCODINGS
        ]
    )
    kept_text = repaired.with_columns(pl.col(c).alias(f"_text:{c}") for c in delivered)
    parsed = kept_text.with_columns(expr for c in delivered for expr in typed(c)).with_columns(
        part
        for c in delivered
        if is_name(c)
        for part in (
            pl.col(name_parts_of(c)).struct["name"].alias(c),
            pl.col(name_parts_of(c)).struct["key"].alias(f"{c}_key"),
        )
    )
    judged = apply_rules(with_units(parsed, delivered), source)
    as_delivered = pl.struct(pl.col(f"_raw:{c.name}").alias(c.label) for c in source.columns)
    # Only quarantined rows keep their delivered values. (Splitting the rows to encode only
    # theirs made polars compute part of the plan twice: 15% slower.)
    rejected = pl.col(REASONS).list.len() > 0
    return (
        judged.with_columns(pl.when(rejected).then(as_delivered.struct.json_encode()).alias(RAW))
        .select(
            *LINEAGE,
            RECORD_ID,
            pl.exclude(*LINEAGE, RECORD_ID, FILE_ERROR, "is_latest", RAW, "^_.*$", "^extra:.*$"),
            RAW,
        )
        .sort(FILE_NAME, ROW_NUMBER)
    )


def latest(std: pl.DataFrame, raw: pl.LazyFrame) -> pl.DataFrame:
    """The standardised rows that are the latest of their record (`is_latest` of the raw stage,
    which compares across files)."""
    # Joined on the keys alone, then a filter: a join gathering every column is several times
    # slower on a frame of many chunks, as one made of a thousand cached files is.
    marks = raw.filter(pl.col(FILE_ERROR).is_null()).select(FILE_NAME, ROW_NUMBER, "is_latest")
    is_latest = (
        std.lazy()
        .select(FILE_NAME, ROW_NUMBER)
        .join(marks, on=[FILE_NAME, ROW_NUMBER], how="left", maintain_order="left")
        .collect()
        .get_column("is_latest")
    )
    return std.filter(is_latest)


def standardize(raw: pl.LazyFrame, source: Source) -> pl.LazyFrame:
    """The latest rows of a source, repaired and typed, with `reasons` (quarantine) and `flags`."""
    rows = standardize_rows(raw.filter(pl.col(FILE_ERROR).is_null()), source).collect()
    return latest(rows, raw).lazy()


def by_file(std: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Each file's rows of a frame sorted by file, as slices (no copy)."""
    runs = std.get_column(FILE_NAME).rle().struct.unnest()
    starts = runs["len"].cum_sum() - runs["len"]
    return {
        name: std.slice(start, length)
        for name, start, length in zip(runs["value"], starts, runs["len"], strict=True)
    }


def standardize_cached(
    raw: pl.LazyFrame, files: pl.DataFrame, source: Source, cache: FileCache
) -> pl.DataFrame:
    """`standardize`, computing only the files whose content has no entry in the cache yet.

    `files` is the ingest stage's list of files with their content digests.
    """
    readable = files.filter(pl.col("error").is_null() & (pl.col("rows") > 0))
    keys = {
        name: cache.key(name, digest)
        for name, digest in readable.select(FILE_NAME, "sha256").iter_rows()
    }
    parts = {name: hit[0] for name, key in keys.items() if (hit := cache.load(key))}
    missing = [name for name in keys if name not in parts]
    if missing or not parts:

        def rows_of(names: list[str]) -> pl.DataFrame:
            chosen = raw.filter(pl.col(FILE_NAME).is_in(names) & pl.col(FILE_ERROR).is_null())
            return standardize_rows(chosen, source).collect()

        # Files are standardised in two halves side by side: while one half runs Python (the
        # address units, title case), the other keeps the second core busy (-16% at a million).
        halves = [missing[i::STANDARDIZE_THREADS] for i in range(STANDARDIZE_THREADS)]
        with ThreadPoolExecutor(STANDARDIZE_THREADS) as pool:
            fresh, *others = pool.map(rows_of, halves)
        fresh_parts = {
            name: part for half in (fresh, *others) for name, part in by_file(half).items()
        }
        # Writing Parquet releases the GIL: a thousand files' entries are written side by side.
        with ThreadPoolExecutor(STORE_THREADS) as pool:
            list(pool.map(lambda name: cache.store(keys[name], fresh_parts[name]), fresh_parts))
        parts.update(fresh_parts)
    if not parts:  # no rows at all: the empty result still has every column
        return latest(fresh, raw)
    # Sorted by file name, the parts are in the order `standardize` sorts its rows into.
    return latest(pl.concat([parts[name] for name in sorted(parts)]), raw)


def standardize_cache(cache_dir: Path, source: Source) -> FileCache:
    """Each file's standardised rows. Valid while this code and the reading code that made its
    input are unchanged."""
    version = code_version(__name__, "dancu.ingest", data_packages=ADMIN_DATA)
    return FileCache(cache_dir / "standardize" / source.name, version)


def std_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"std_{source.name}",
        group_name="standardize",
        kinds={"polars", "parquet"},
        ins={
            "raw": dg.AssetIn(f"raw_{source.name}"),
            "files": dg.AssetIn(f"files_{source.name}"),
        },
        description=f"The latest {source.name} rows, repaired and typed, each with the reasons "
        "it must be quarantined (if any) and its advisory flags.",
    )
    @masked_errors
    def std(raw: pl.LazyFrame, files: pl.LazyFrame, paths: DancuPaths) -> dg.Output[pl.DataFrame]:
        cache = standardize_cache(paths.cache_dir, source)
        listed = files.collect()
        frame = standardize_cached(raw, listed, source, cache)
        cache.prune({cache.key(n, d) for n, d in listed.select(FILE_NAME, "sha256").iter_rows()})
        return dg.Output(
            frame,
            metadata={
                "rows_to_quarantine": int((frame[REASONS].list.len() > 0).sum()),
                "rows_flagged": int((frame[FLAGS].list.len() > 0).sum()),
                "rows_legacy_encoded": int(frame[LEGACY].is_not_null().sum()),
                "files_standardised": cache.misses,
                **{f"rule/{rule}": n for rule, n in rule_counts(frame).items()},
            },
        )

    return std


std_assets = [std_asset(source) for source in SOURCES.values()]
