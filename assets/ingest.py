"""Ingest: every delivered extract of a source, as text with lineage, nothing dropped."""

import dagster as dg
import polars as pl

from dancu.contract import SOURCES, Source
from dancu.ingest import OUTSIDE_LAYOUT, ExtractUnreadable, files_frame, ingest_cache, read_source
from orchestration import keys
from orchestration.privacy import masked_errors
from orchestration.resources import DancuPaths, staged


def files_markdown(files: pl.DataFrame) -> str:
    lines = ["| file | rows | encoding | separator | status |", "|---|---:|---|---|---|"]
    for f in files.iter_rows(named=True):
        status = f"rejected: {f['error']}" if f["error"] else "read"
        lines.append(
            f"| {f['file_name']} | {f['rows']} | {f['encoding']} | {f['separator']} | {status} |"
        )
    return "\n".join(lines)


def raw_asset(source: Source) -> dg.AssetsDefinition:
    @dg.multi_asset(
        name=keys.ingest(source.name),
        group_name="ingest",
        # A landing folder on a network share can fail for a moment; reading again is safe.
        retry_policy=dg.RetryPolicy(max_retries=2, delay=10),
        outs={
            keys.raw(source.name): staged(
                f"Every row delivered by {source.name} ({source.description}) as "
                "text, with lineage and latest-extract-wins marked; a rejected file is one row "
                "with its cause.",
            ),
            keys.files(source.name): staged(
                f"Every file delivered by {source.name}: how it was read, its rows, "
                "and why it was rejected if it was.",
            ),
        },
    )
    @masked_errors
    def ingest(context: dg.AssetExecutionContext, paths: DancuPaths):
        """Read every extract file of the source in the landing folder; parse only new or
        changed ones, the others come from the cache of earlier runs."""
        cache = ingest_cache(paths.cache_dir, source)
        try:
            frame, reports = read_source(paths.landing, source, cache)
        except ExtractUnreadable as error:
            # It names a file or folder, no person's data: shown whole, and retried.
            raise dg.Failure(description=str(error)) from None
        cache.prune({cache.key(r.file_name, r.sha256) for r in reports})
        files = files_frame(reports, frame)
        rejected = files.filter(pl.col("error").is_not_null())
        outside_layout = rejected.filter(pl.col("error").str.starts_with(OUTSIDE_LAYOUT))
        for file_name, error in rejected.select("file_name", "error").iter_rows():
            context.log.warning(f"rejected {file_name}: {error}")
        context.log.info(
            f"{files.height} files ({cache.misses} parsed, {cache.hits} from the cache), "
            f"{frame.height} rows"
        )
        yield dg.Output(
            frame,
            output_name=keys.raw(source.name),
            metadata={
                "rows": int(files["rows"].sum()),
                "rows_superseded": int(files["rows"].sum() - files["rows_latest"].sum()),
            },
        )
        yield dg.Output(
            files,
            output_name=keys.files(source.name),
            metadata={
                "files": files.height,
                "files_rejected": rejected.height,
                "files_outside_layout": outside_layout.height,
                "files_parsed": cache.misses,
                "files_read": dg.MetadataValue.md(files_markdown(files)),
            },
        )

    return ingest


ingest_assets = [raw_asset(source) for source in SOURCES.values()]
