"""Ingest: every delivered extract of a source, as text with lineage, nothing dropped."""

import dagster as dg
import polars as pl

from dancu.contract import SOURCES, Source
from dancu.ingest import ReadReport, read_source
from pipelines.resources import DancuPaths


def files_table(reports: list[ReadReport]) -> str:
    lines = ["| file | rows | encoding | separator | status |", "|---|---:|---|---|---|"]
    for r in reports:
        status = f"rejected: {r.error}" if r.error else "read"
        lines.append(f"| {r.file_name} | {r.rows} | {r.encoding} | {r.separator} | {status} |")
    return "\n".join(lines)


def raw_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{source.name}",
        group_name="ingest",
        kinds={"polars", "parquet"},
        description=f"Every row delivered by {source.name} ({source.description}) as text, "
        "with lineage and latest-extract-wins marked; a rejected file is one row with its cause.",
    )
    def raw(context: dg.AssetExecutionContext, paths: DancuPaths) -> dg.Output[pl.DataFrame]:
        frame, reports = read_source(paths.landing, source)
        rejected = [r for r in reports if r.error]
        for report in rejected:
            context.log.warning(f"rejected {report.file_name}: {report.error}")
        context.log.info(f"{len(reports)} files, {frame.height} rows")
        return dg.Output(
            frame,
            metadata={
                "files": len(reports),
                "files_rejected": len(rejected),
                "rows": sum(r.rows for r in reports),
                "rows_superseded": frame.height - frame["is_latest"].sum(),
                "files_read": dg.MetadataValue.md(files_table(reports)),
            },
        )

    return raw


raw_assets = [raw_asset(source) for source in SOURCES.values()]
