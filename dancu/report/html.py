"""The auditor report as one HTML file: inline CSS and SVG, nothing fetched, names and ids masked.

Scorecard cells carry their number whole in `data-value` (with `data-source`, `data-ward`,
`data-metric`), so the report can be checked against the warehouse by a program as well as by eye.
"""

from html import escape

import polars as pl

from dancu.corrections import KINDS, MIN_CONFIDENCE, masked_value
from dancu.mask import masked
from dancu.report import DIMENSIONS, Figures, headline
from dancu.report.svg import bar_chart, line_chart

SCORE_COLUMNS = (
    ("rows_delivered", "rows delivered"),
    ("rows_quarantined", "quarantined"),
    *((f"{d}_share", d) for d in DIMENSIONS),
)
MEANING = {
    "correct": "rows neither quarantined nor breaking a correctness rule, of rows delivered",
    "complete": "accepted rows with no required field or personal id missing",
    "clean": "person records neither waiting for a clerk nor sharing their national id with "
    "another person",
    "live": "parties of births, deaths and marriages linked to a person",
}
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:2px solid #1b6ca8;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:.25em .6em}
th{background:#eef3f8;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.tiles{display:flex;gap:1em;flex-wrap:wrap}.tile{border:1px solid #ccc;border-radius:6px;
padding:.6em 1em;min-width:9em}.tile b{display:block;font-size:1.8em}.muted{color:#666}
.charts{display:flex;flex-wrap:wrap;gap:1em}.scroll{max-height:28em;overflow:auto}
td.low{background:#fbe3e3}td.mid{background:#fdf3dc}td.high{background:#e3f3e6}
"""


def number(value: float | None, metric: str) -> str:
    if value is None:
        return "–"
    return f"{value:.1%}" if metric.endswith("_share") else f"{int(value):,}"


def band(value: float | None, metric: str) -> str:
    """A colour a reader scans for: below 95% is worth a look, below 80% is a problem."""
    if value is None or not metric.endswith("_share"):
        return "n"
    return "n " + ("low" if value < 0.8 else "mid" if value < 0.95 else "high")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Cells are given as HTML (already escaped); headers as text."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>" if rows else "<p class='muted'>None.</p>"


def cell(value: object, numeric: bool = False) -> str:
    text = f"{value:,}" if numeric and isinstance(value, int) else escape(str(value))
    return f'<td class="n">{text}</td>' if numeric else f"<td>{text}</td>"


def score_cell(source: str, ward: str, metric: str, value: float | None) -> str:
    data = (
        f'data-source="{escape(source)}" data-ward="{escape(ward)}" data-metric="{metric}" '
        f'data-value="{"" if value is None else repr(float(value))}"'
    )
    return f'<td class="{band(value, metric)}" {data}>{number(value, metric)}</td>'


def scorecard(scores: pl.DataFrame, by: str) -> str:
    """Rows per source (`by` = "source", wards summed) or per ward (sources summed)."""
    other = "ward_code" if by == "source" else "source"
    part = scores.filter(pl.col(other) == "all")
    if by == "ward_code":
        part = part.filter(pl.col("ward_code") != "all")
    values = {(r[by], r["metric"]): r["value"] for r in part.iter_rows(named=True)}
    keys = sorted({r[by] for r in part.iter_rows(named=True)}, key=lambda k: (k == "all", k))
    rows = []
    for key in keys:
        source, ward = (key, "all") if by == "source" else ("all", key)
        rows.append(
            [cell(key)]
            + [score_cell(source, ward, m, values.get((key, m))) for m, _ in SCORE_COLUMNS]
        )
    label = "source" if by == "source" else "ward"
    return table([label, *(title for _, title in SCORE_COLUMNS)], rows)


def tiles(numbers: dict[str, float | int]) -> str:
    shown = [(f"{d}_share", d) for d in DIMENSIONS] + [
        ("rows_delivered", "rows delivered"),
        ("rows_quarantined", "rows quarantined"),
        ("persons", "persons"),
        ("review_pairs", "pairs for clerks"),
        ("corrections", "corrections sent back"),
    ]
    return (
        '<div class="tiles">'
        + "".join(
            f'<div class="tile" data-headline="{m}" data-value="{numbers[m]}">'
            f"<b>{number(numbers[m], m)}</b>{escape(label)}</div>"
            for m, label in shown
            if m in numbers
        )
        + "</div>"
    )


def trend_charts(trend: pl.DataFrame) -> str:
    charts = []
    for dimension in DIMENSIONS:
        rows = trend.filter(dimension=dimension)
        series: dict[str, list] = {}
        for r in rows.iter_rows(named=True):
            series.setdefault(r["source"], []).append((r["run_time"], r["value"]))
        charts.append(line_chart(f"{dimension}: share over runs", series))
    return f'<div class="charts">{"".join(charts)}</div>'


def masked_example(example: dict) -> str:
    """Where the row is, and its record id masked: enough to find it, not to read it."""
    where = example["file_name"] + (
        f":{example['row_number']}" if example["row_number"] is not None else " (whole file)"
    )
    record = masked(example["source_record_id"]) if example["source_record_id"] else ""
    return escape(f"{where} {record}".strip())


def quarantine_section(reasons: pl.DataFrame) -> str:
    per_rule = reasons.group_by("rule_id", maintain_order=True).agg(pl.col("rows").sum())
    bars = list(per_rule.iter_rows())
    rows = [
        [
            cell(r["rule_id"]),
            cell(r["rows"], numeric=True),
            cell(r["message"]),
            "<td>" + "<br>".join(masked_example(e) for e in r["examples"]) + "</td>",
        ]
        for r in reasons.iter_rows(named=True)
    ]
    chart = bar_chart("Quarantined rows by rule", bars) if bars else ""
    return chart + table(["rule", "rows", "message", "examples (masked)"], rows)


def pivot_rules(rules: pl.DataFrame) -> str:
    """Rule by source: how many accepted rows break each advisory rule."""
    if rules.is_empty():
        return table([], [])
    wide = rules.pivot(
        on="source", index=["rule_id", "dimension", "message"], values="rows"
    ).fill_null(0)
    sources = [c for c in wide.columns if c not in ("rule_id", "dimension", "message")]
    rows = [
        [cell(r["rule_id"]), cell(r["dimension"])]
        + [cell(r[s], numeric=True) for s in sources]
        + [cell(r["message"])]
        for r in wide.sort("rule_id").iter_rows(named=True)
    ]
    return table(["rule", "dimension", *sources, "message"], rows)


def correction_example(field: str, example: dict) -> str:
    """The record (id masked) and what it said against what the register says, both masked."""
    record = masked(example["source_record_id"])
    delivered = masked_value(field, example["delivered_value"])
    return escape(f"{record}: {delivered} → {masked_value(field, example['register_value'])}")


def corrections_section(corrections: pl.DataFrame) -> str:
    """Per source, field and kind: how many corrections go back, with masked examples. Each
    count carries its numbers in `data-*` attributes, as the scorecard's do."""
    per_source = corrections.group_by("source").agg(pl.col("records").sum()).sort("source")
    bars = [(r["source"], r["records"]) for r in per_source.iter_rows(named=True)]
    rows = [
        [
            cell(r["source"]),
            cell(r["field"]),
            f'<td title="{escape(KINDS.get(r["kind"], ""))}">{escape(r["kind"])}</td>',
            f'<td class="n" data-correction-source="{escape(r["source"])}" '
            f'data-field="{escape(r["field"])}" data-kind="{escape(r["kind"])}" '
            f'data-value="{r["records"]}">{r["records"]:,}</td>',
            f'<td class="n">{r["mean_confidence"]:.3f}</td>',
            "<td>"
            + "<br>".join(correction_example(r["field"], e) for e in r["examples"])
            + "</td>",
        ]
        for r in corrections.iter_rows(named=True)
    ]
    note = (
        "<p class='muted'>Delivered values that the register, after resolution, shows to be "
        "wrong (or empty: <i>completion</i>), sent back to the source that delivered them, "
        f"from confidence {MIN_CONFIDENCE}; each source gets its own XLSX under "
        "<code>reports/corrections/</code>. Examples: record, delivered → register value.</p>"
    )
    chart = bar_chart("Corrections by source", bars) if bars else ""
    headers = ["source", "field", "kind", "records", "mean confidence", "examples (masked)"]
    return note + chart + table(headers, rows)


def frame_table(frame: pl.DataFrame) -> str:
    rows = [[cell(v, numeric=isinstance(v, int)) for v in row] for row in frame.iter_rows()]
    return table(frame.columns, rows)


def changes_table(changes: pl.DataFrame) -> str:
    rows = [
        [
            cell(r["source"]),
            cell(r["metric"]),
            f'<td class="n">{number(r["previous"], r["metric"])}</td>',
            f'<td class="n">{number(r["current"], r["metric"])}</td>',
            f'<td class="n">{change(r["change"], r["metric"])}</td>',
        ]
        for r in changes.iter_rows(named=True)
    ]
    return table(["source", "metric", "previous run", "this run", "change"], rows)


def change(value: float | None, metric: str) -> str:
    if value is None:
        return "new"
    if metric.endswith("_share"):
        return f"{value * 100:+.1f} pt"
    return f"{int(value):+,}"


def render(figs: Figures) -> str:
    run_id, published_at = figs["run"].row(0)
    numbers = headline(figs)
    resolution = figs["resolution"].transpose(include_header=True, column_names=["value"])
    life = figs["life_status"].transpose(include_header=True, column_names=["value"])
    linkage = figs["linkage"].with_columns(
        (pl.col("linked") / pl.col("parties")).round(4).alias("linked_share")
    )
    changes = figs["changes"]
    first_run = changes["previous"].is_null().all()
    meaning = "".join(f"<li><b>{d}</b>: {escape(MEANING[d])}</li>" for d in DIMENSIONS)
    sections = [
        ("Headline", tiles(numbers) + f"<ul>{meaning}</ul>"),
        ("Scorecard per source", scorecard(figs["scorecard"], "source")),
        (
            "Scorecard per ward",
            "<p class='muted'>Ward of residence for person records, of registration for events; "
            "quarantined rows have no trusted ward (<i>unknown</i>).</p>"
            f"<div class='scroll'>{scorecard(figs['scorecard'], 'ward_code')}</div>",
        ),
        ("Trends over runs", trend_charts(figs["trend"])),
        ("Quarantine", quarantine_section(figs["quarantine_reasons"])),
        ("Consistency rules", pivot_rules(figs["consistency_rules"])),
        (
            "Resolution",
            frame_table(resolution)
            + "<h3>How records joined their person</h3>"
            + frame_table(figs["match_rules"])
            + "<h3>Review queue by reason</h3>"
            + frame_table(figs["review_reasons"]),
        ),
        (
            "Event linkage",
            frame_table(linkage)
            + "<h3>Parties without a person</h3>"
            + frame_table(figs["unmatched"])
            + "<h3>Life status applied</h3>"
            + frame_table(life),
        ),
        ("Corrections sent back to each source", corrections_section(figs["corrections"])),
        (
            "What changed since the previous run",
            ("<p>This is the first run in the history.</p>" if first_run else "")
            + changes_table(changes),
        ),
    ]
    nav = " · ".join(f'<a href="#s{i}">{escape(t)}</a>' for i, (t, _) in enumerate(sections))
    body = "".join(f'<h2 id="s{i}">{escape(t)}</h2>{html}' for i, (t, html) in enumerate(sections))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>dancu data-quality report {escape(run_id)}</title><style>{STYLE}</style></head>"
        f"<body><h1>dancu: data-quality report</h1>"
        f'<p class="muted" data-run-id="{escape(run_id)}">Run {escape(run_id)}, published '
        f"{published_at:%Y-%m-%d %H:%M} UTC. Names and ids are masked. Every figure is a query of "
        f"<code>sql/report.sql</code> over this warehouse version.</p><p>{nav}</p>{body}"
        "</body></html>"
    )
