"""The auditor report: figures read from a published warehouse by the queries of sql/report.sql,
rendered as one self-contained HTML file, and the clerks' review-queue export.

Every number in the report is a row of one of those queries, so an auditor can check any of them
with the same SQL against the same warehouse version (`publish_run` names it).
"""

from pathlib import Path

import duckdb
import polars as pl

from dancu.warehouse import load_queries
from sql import SQL_DIR

REPORT_QUERIES = SQL_DIR / "report.sql"
DIMENSIONS = ("correct", "complete", "clean", "live")
Figures = dict[str, pl.DataFrame]


def figures(con: duckdb.DuckDBPyConnection) -> Figures:
    """Every query of sql/report.sql, for the run that published the warehouse."""
    run_id = con.execute("select run_id from publish_run").fetchall()[0][0]
    queries = load_queries(REPORT_QUERIES)
    return {
        name: con.sql(sql, params={"run_id": run_id} if "$run_id" in sql else None).pl()
        for name, sql in queries.items()
    }


def headline(figs: Figures) -> dict[str, float | int]:
    """The run's numbers an auditor looks at first; the Dagster UI plots them over runs."""
    overall = figs["scorecard"].filter(source="all", ward_code="all")
    shares = {m: v for m, v in overall.select("metric", "value").iter_rows()}
    resolution = figs["resolution"].row(0, named=True)
    numbers: dict[str, float | int] = {
        f"{d}_share": round(shares[f"{d}_share"], 4) for d in DIMENSIONS if f"{d}_share" in shares
    }
    numbers["rows_delivered"] = int(shares.get("rows_delivered", 0))
    numbers["rows_quarantined"] = int(shares.get("rows_quarantined", 0))
    numbers.update({k: int(v) for k, v in resolution.items()})
    numbers["corrections"] = int(figs["corrections"]["records"].sum())
    return numbers


def report_name(run_id: str, published_at) -> str:
    """Sorts by publish time in the reports folder."""
    return f"dancu_report_{published_at:%Y%m%dT%H%M%S}_{run_id}.html"


def write_atomically(path: Path, data: bytes) -> None:
    """A reader never opens half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
