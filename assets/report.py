"""Report: what auditors and clerks get from each published warehouse."""

import dagster as dg
import duckdb

from dancu.corrections import WORKBOOK_MODE, write_workbooks
from dancu.paths import report_url
from dancu.report import figures, headline, report_name, write_atomically
from dancu.report.html import render
from dancu.review import clerk_sheet, write_csv, write_workbook
from orchestration.privacy import masked_errors
from orchestration.resources import DancuPaths


@dg.asset(group_name="report", kinds={"html"}, deps=["warehouse"])
@masked_errors
def auditor_report(paths: DancuPaths) -> dg.MaterializeResult:
    """One self-contained HTML data-quality report per published warehouse, for auditors, in
    Vietnamese; `dancu ui` serves it over http at `report_url`."""
    # One read-only connection: every figure comes from the same version.
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        figs = figures(con)
    run_id, published_at = figs["run"].row(0)
    path = paths.reports_dir / report_name(run_id, published_at)
    write_atomically(path, render(figs).encode("utf-8"))
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(path)),
            "report_url": dg.MetadataValue.url(report_url(path.relative_to(paths.reports_dir))),
            "warehouse_run": run_id,
            **{f"headline/{name}": value for name, value in headline(figs).items()},
        }
    )


@dg.asset(group_name="report", kinds={"xlsx", "csv"}, deps=["warehouse"])
@masked_errors
def review_queue_export(paths: DancuPaths) -> dg.MaterializeResult:
    """The pairs clerks should decide: a Vietnamese workbook with a decision drop-down, and the
    same pairs as an Excel-safe CSV; either, filled in, goes back in review/decisions/."""
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        run_id = con.execute("select run_id from publish_run").fetchall()[0][0]
        queue = con.sql("select * from review_queue").pl()
    workbook = paths.reports_dir / f"review_queue_{run_id}.xlsx"
    write_atomically(workbook, write_workbook(queue))
    path = paths.reports_dir / f"review_queue_{run_id}.csv"
    write_atomically(path, write_csv(clerk_sheet(queue)))
    paths.review_dir.mkdir(parents=True, exist_ok=True)
    return dg.MaterializeResult(
        metadata={
            "workbook": dg.MetadataValue.path(str(workbook)),
            "path": dg.MetadataValue.path(str(path)),
            "decisions_go_in": dg.MetadataValue.path(str(paths.review_dir)),
            "pairs": queue.height,
            "warehouse_run": run_id,
        }
    )


@dg.asset(group_name="report", kinds={"xlsx"}, deps=["warehouse"])
@masked_errors
def correction_workbooks(paths: DancuPaths) -> dg.MaterializeResult:
    """One XLSX per source of the corrections sent back to it, from the published warehouse."""
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        query = "select run_id, published_at from publish_run"
        run_id, published_at = con.execute(query).fetchall()[0]
        corrections = con.sql("select * from source_correction").pl()
    # The agency's own record ids and values, whole: each file is for that agency alone (mode
    # 640), where the report and this metadata show none.
    written = write_workbooks(
        corrections, paths.reports_dir / "corrections", f"{published_at:%Y%m%dT%H%M%S}_{run_id}"
    )
    counts = dict(corrections["source"].value_counts().iter_rows())
    return dg.MaterializeResult(
        metadata={
            **{
                f"file/{source}": dg.MetadataValue.path(str(path))
                for source, path in written.items()
            },
            **{f"rows/{source}": counts.get(source, 0) for source in written},
            "mode": oct(WORKBOOK_MODE),
            "warehouse_run": run_id,
        }
    )
