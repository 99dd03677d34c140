"""Ingest: every delivered extract of a source, as text with lineage, nothing dropped."""

import dagster as dg
import polars as pl

from dancu.contract import SOURCES, Source
from dancu.ingest import OUTSIDE_LAYOUT, ExtractUnreadable, files_frame, ingest_cache, scan_source
from orchestration import keys
from orchestration.privacy import masked_errors
from orchestration.resources import DancuPaths, staged

# Metadata is stored with every run: counts, and the files with a problem only up to this many.
PROBLEM_FILES_SHOWN = 20


def format_counts(files: pl.DataFrame) -> dict[str, int]:
    """Files and rows per file format (`files/csv`, `rows/csv`, ...), as the UI plots them."""
    per_format = (
        files.group_by(
            pl.col("file_name").str.extract(r"\.([^./]+)$").str.to_lowercase().fill_null("none")
        )
        .agg(pl.len().alias("files"), pl.col("rows").sum())
        .sort("file_name")
    )
    counts = {}
    for suffix, n_files, n_rows in per_format.iter_rows():
        counts[f"files/{suffix}"] = n_files
        counts[f"rows/{suffix}"] = int(n_rows)
    return counts


def problem_files_markdown(rejected: pl.DataFrame) -> str:
    """The first few rejected files and why: a cause names a file or folder, never a row's
    values, as in the run's log; every file is in the asset's table."""
    lines = ["| file | why it was rejected |", "|---|---|"]
    shown = rejected.sort("file_name").head(PROBLEM_FILES_SHOWN)
    cells = shown.select(pl.col("file_name", "error").str.replace_all("|", r"\|", literal=True))
    lines += [f"| {name} | {error} |" for name, error in cells.rows()]
    if rejected.height > shown.height:
        lines.append(f"| … and {rejected.height - shown.height} more | |")
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
            # Read from the cache's entries: the staging I/O manager streams them into its file.
            frame, reports = scan_source(paths.landing, source, cache)
        except ExtractUnreadable as error:
            # It names a file or folder, no person's data: shown whole, and retried.
            raise dg.Failure(description=str(error)) from None
        cache.prune({cache.key(r.file_name, r.sha256) for r in reports})
        files = files_frame(reports, frame)
        rejected = files.filter(pl.col("error").is_not_null())
        outside_layout = rejected.filter(pl.col("error").str.starts_with(OUTSIDE_LAYOUT))
        for file_name, error in rejected.select("file_name", "error").iter_rows():
            context.log.warning(f"rejected {file_name}: {error}")
        titled = files.filter(pl.col("title_rows") > 0)
        for file_name, title_rows in titled.select("file_name", "title_rows").iter_rows():
            context.log.info(f"{file_name}: its header is on row {title_rows + 1}, below a title")
        # Sheets are named by whoever typed them, after a person maybe: the log leaves their
        # names to the warehouse's extract_file.sheets.
        workbooks = files.filter(pl.col("sheets") != "")
        for file_name in workbooks["file_name"]:
            context.log.info(f"{file_name}, a workbook of several sheets: see extract_file.sheets")
        context.log.info(
            f"{files.height} files ({cache.misses} parsed, {cache.hits} from the cache), "
            f"{files['rows'].sum()} rows"
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
                "files_read": files.height - rejected.height,
                "files_rejected": rejected.height,
                "files_outside_layout": outside_layout.height,
                "files_with_a_title_above_the_header": titled.height,
                "workbooks_of_several_sheets": workbooks.height,
                "files_parsed": cache.misses,
                **format_counts(files),
                **(
                    {"files_with_problems": dg.MetadataValue.md(problem_files_markdown(rejected))}
                    if rejected.height
                    else {}
                ),
            },
        )

    return ingest


ingest_assets = [raw_asset(source) for source in SOURCES.values()]
