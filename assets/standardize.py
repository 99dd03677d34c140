"""Standardise: each source's latest rows repaired, parsed to types, with rule outcomes attached."""

import dagster as dg
import polars as pl

from dancu.contract import FILE_NAME, SOURCES, Source
from dancu.rules import FLAGS, is_held, is_rejected, rule_counts
from dancu.standardize import LEGACY, standardize_cache, standardize_cached
from orchestration import keys
from orchestration.privacy import masked_errors
from orchestration.resources import DancuPaths


def std_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        name=keys.std(source.name),
        group_name="standardize",
        kinds={"polars", "parquet"},
        ins={
            "raw": dg.AssetIn(keys.raw(source.name)),
            "files": dg.AssetIn(keys.files(source.name)),
        },
        description=f"The latest {source.name} rows, repaired and typed, each with the reasons "
        "it must be quarantined (if any) and its advisory flags; and, for a record whose latest "
        "row is quarantined, its latest accepted earlier row, held (flagged "
        "record.previous_version_held).",
    )
    @masked_errors
    def std(raw: pl.LazyFrame, files: pl.LazyFrame, paths: DancuPaths) -> dg.Output[pl.LazyFrame]:
        cache = standardize_cache(paths.cache_dir, source)
        listed = files.collect()
        # Read from the cache's entries: the staging I/O manager streams them into its file.
        frame = standardize_cached(raw, listed, source, cache)
        cache.prune({cache.key(n, d) for n, d in listed.select(FILE_NAME, "sha256").iter_rows()})
        counts = frame.select(
            is_rejected().sum().alias("rows_to_quarantine"),
            (pl.col(FLAGS).list.len() > 0).sum().alias("rows_flagged"),
            pl.col(LEGACY).is_not_null().sum().alias("rows_legacy_encoded"),
            is_held().sum().alias("rows_held"),
        ).collect(engine="streaming")
        return dg.Output(
            frame,
            metadata={
                **{name: int(n) for name, n in counts.row(0, named=True).items()},
                "files_standardised": cache.misses,
                **{f"rule/{rule}": n for rule, n in rule_counts(frame).items()},
            },
        )

    return std


std_assets = [std_asset(source) for source in SOURCES.values()]
