"""The auditor report: figures read from a published warehouse by the queries of sql/report.sql,
rendered as one self-contained HTML file, and the clerks' review-queue export.

Every number in the report is a row of one of those queries, so an auditor can check any of them
with the same SQL against the same warehouse version (`publish_run` names it).
"""

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from dancu.contract import as_of as default_as_of
from dancu.report import format as fmt
from dancu.warehouse import load_queries
from sql import SQL_DIR

REPORT_QUERIES = SQL_DIR / "report.sql"
DIMENSIONS = ("correct", "complete", "clean", "live")
Figures = dict[str, pl.DataFrame]

# The counts behind each share (what is left: rows flagged, records unresolved, parties unlinked),
# each source's newest extract, and the warehouse's cross-source contradictions. Read here until
# sql/report.sql holds them; a query of that file with the same name takes precedence.
MORE_QUERIES = {
    "share_counts": """
        select source, ward_code, metric, value
        from dq_metric
        where run_id = $run_id
          and metric in ('rows_accepted', 'rows_flagged_correct', 'rows_flagged_complete',
                         'person_records', 'person_records_unresolved', 'parties',
                         'parties_linked')
        order by source, ward_code, metric""",
    "extracts": """
        -- A file rejected whole delivered nothing: a source whose every file was is not here,
        -- and the report shows it as not delivered.
        select source, max(extract_date) as newest_extract,
               date_diff('day', max(extract_date), $as_of::date) as days_since_extract
        from extract_file
        where error is null and extract_date is not null
        group by source
        order by source""",
    "consistency_issues": """
        select rule, count(*) as issues, count(distinct person_id) as persons,
               list(struct_pack(person_id, event_id) order by person_id, event_id)[1:3]
                   as examples
        from consistency_issue
        group by rule
        order by issues desc, rule""",
}


def figures(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> Figures:
    """Every query of sql/report.sql (and MORE_QUERIES), for the run that published the
    warehouse; staleness is counted to `as_of`, by default the day deliveries are judged on
    (`DANCU_AS_OF`, else today), as the `delivered_on_time` checks count it."""
    run_id = con.execute("select run_id from publish_run").fetchall()[0][0]
    judged_on = as_of or default_as_of()
    values = {"run_id": run_id, "as_of": judged_on}
    queries = {**MORE_QUERIES, **load_queries(REPORT_QUERIES)}
    figs = {
        name: con.sql(sql, params={k: v for k, v in values.items() if f"${k}" in sql}).pl()
        for name, sql in queries.items()
    }
    figs["as_of"] = pl.DataFrame({"as_of": [judged_on]})
    return figs


def headline(figs: Figures) -> dict[str, float | int]:
    """The run's numbers an auditor looks at first; the Dagster UI plots them over runs. Shares
    are floored as the report shows them: none below 1 reads 1."""
    overall = figs["scorecard"].filter(source="all", ward_code="all")
    shares = {m: v for m, v in overall.select("metric", "value").iter_rows()}
    resolution = figs["resolution"].row(0, named=True)
    numbers: dict[str, float | int] = {
        f"{d}_share": fmt.floored_share(shares[f"{d}_share"])
        for d in DIMENSIONS
        if f"{d}_share" in shares
    }
    numbers["rows_delivered"] = int(shares.get("rows_delivered", 0))
    numbers["rows_quarantined"] = int(shares.get("rows_quarantined", 0))
    received = figs["rows_received"].select(pl.exclude("source")).sum()
    numbers.update({k: int(v or 0) for k, v in received.row(0, named=True).items()})
    numbers.update({k: int(v) for k, v in resolution.items()})
    numbers["corrections"] = int(figs["corrections"]["records"].sum())
    numbers["corrections_for_review"] = int(figs["correction_review"]["records"].sum())
    numbers["students_not_matched"] = int(figs["unmatched_students"]["records"].sum())
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
