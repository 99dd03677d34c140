"""The auditor report as one HTML file: Vietnamese by default, inline CSS and SVG, nothing fetched,
names and ids masked.

Python turns the figures into what the reader sees (words, floored shares, masked examples,
chart geometry); the Jinja templates in templates/ lay it out, escaping every value.

Scorecard cells carry their number whole in `data-value` (with `data-source`, `data-ward`,
`data-metric`, and `data-missing` for what a share leaves out), so the report can be checked
against the warehouse by a program as well as by eye.
"""

import functools
import unicodedata
from pathlib import Path

import jinja2
import polars as pl

from dancu.admin_units import all_current_wards
from dancu.contract import SOURCES as CONTRACT_SOURCES
from dancu.corrections import KINDS, MIN_CONFIDENCE, masked_value
from dancu.mask import masked
from dancu.report import DIMENSIONS, Figures, headline
from dancu.report import format as fmt
from dancu.report.labels import (
    DIMENSIONS as DIMENSION_WORDS,
)
from dancu.report.labels import (
    METRICS,
    SEX,
    Language,
    country_name,
    match_rule,
    rule_text,
    source_name,
    text,
    word,
)
from dancu.report.svg import bar_chart, colour, dot_chart, line_chart, source_key
from dancu.review import REASON_WORDS

TEMPLATES = Path(__file__).parent / "templates"
SHARES = tuple(f"{d}_share" for d in DIMENSIONS)
SCORE_METRICS = ("rows_delivered", "rows_quarantined", *SHARES)
# What each share leaves out, counted from the same dq_metric rows as the share.
MISSING = {
    "correct_share": pl.col("rows_quarantined") + pl.col("rows_flagged_correct"),
    "complete_share": pl.col("rows_flagged_complete"),
    "clean_share": pl.col("person_records_unresolved"),
    "live_share": pl.col("parties") - pl.col("parties_linked"),
}
COUNT_METRICS = (
    "rows_accepted", "rows_flagged_correct", "rows_flagged_complete", "person_records",
    "person_records_unresolved", "parties", "parties_linked",
)  # fmt: skip
# Which way a figure gets better; a count that is neither (rows delivered, persons) is not coloured.
BETTER_UP = frozenset({*SHARES, "parties_linked"})
BETTER_DOWN = frozenset(
    {"rows_quarantined", "rows_flagged_correct", "rows_flagged_complete",
     "person_records_unresolved"}
)  # fmt: skip
# Conviction summaries of judicial records (contract: `Án tích`) are never shown, not even masked;
# a rejected file's message that names the column loses the name.
CRIMINAL_COLUMN = "Án tích"
# Rows of unmatched students shown, the largest first; the rest are counted.
STUDENT_ROWS_SHOWN = 25


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def ward_names() -> dict[str, str]:
    wards = all_current_wards()
    return dict(zip(wards["ward_code"], wards["ward_name"], strict=True))


def ward_name(code: str, language: Language) -> str:
    if code == "unknown":
        return text(language, "unknown_ward")
    return ward_names().get(code, code)


def without_criminal_column(message: str) -> str:
    return unicodedata.normalize("NFC", message).replace(CRIMINAL_COLUMN, "…")


def missing_text(metric: str, missing: float | None, language: Language) -> str:
    """ "còn 11 bản ghi" beside a share below 100%; nothing beside a full one."""
    if not missing:
        return ""
    key = "left_parties" if metric == "live_share" else "left_records"
    return text(language, key, n=fmt.count(missing, language))


def wide_scores(figs: Figures) -> pl.DataFrame:
    """One row per (source, ward_code): the scorecard's metrics and what each share leaves out."""
    long = pl.concat([figs["scorecard"], figs["share_counts"]]).unique(
        ["source", "ward_code", "metric"]
    )
    wide = long.pivot(on="metric", index=["source", "ward_code"], values="value")
    absent = [m for m in (*SCORE_METRICS, *COUNT_METRICS) if m not in wide.columns]
    wide = wide.with_columns(pl.lit(None, pl.Float64).alias(m) for m in absent)
    return wide.with_columns(
        expr.fill_null(0).alias(f"{metric}_missing") for metric, expr in MISSING.items()
    )


def staleness(figs: Figures, language: Language) -> dict[str, dict]:
    """Per source of the contract (and 'all', its stalest source): days since the newest extract
    to the as-of date, and whether that is longer than the source's delivery cycle. A source
    with no readable file is overdue, however long its cycle: it delivered nothing."""
    newest = {
        source: (day, days)
        for source, day, days in figs["extracts"]
        .select("source", "newest_extract", "days_since_extract")
        .drop_nulls("newest_extract")
        .iter_rows()
    }
    out = {
        source: source_staleness(source, *newest.get(source, (None, None)), language)
        for source in [*CONTRACT_SOURCES, *sorted(newest.keys() - CONTRACT_SOURCES.keys())]
    }
    if out:
        out["all"] = max(out.values(), key=lambda s: (s["late"], s["days"] is None, s["days"] or 0))
    return out


def source_staleness(source: str, newest, days: int | None, language: Language) -> dict:
    cadence = CONTRACT_SOURCES[source].cadence_days if source in CONTRACT_SOURCES else None
    delivered = newest is not None
    late = not delivered or (cadence is not None and days > cadence)
    return {
        "source": source,
        "name": source_name(language, source),
        "delivered": delivered,
        "days": days,
        "text": days_text(days, language) if delivered else text(language, "not_delivered"),
        "newest": fmt.day(newest, language),
        "cadence": text(language, "cadence", n=cadence) if cadence else "",
        "late": late,
        "late_text": late_text(days, cadence, language) if late else "",
    }


def days_text(days: int, language: Language) -> str:
    return text(language, "days", n=fmt.count(days, language))


def late_text(days: int | None, cadence: int | None, language: Language) -> str:
    """How late a source is: days past its cycle, or why it has no extract at all."""
    if days is None:
        return text(language, "not_delivered_note")
    return text(language, "days_late", n=days - cadence)


def stale_note(stale: dict, language: Language) -> str:
    if not stale["delivered"]:
        return stale["text"]
    return text(language, "data_age", n=fmt.count(stale["days"], language))


def score_cell(row: dict, metric: str, stale: dict | None, language: Language) -> dict:
    value = row.get(metric)
    is_share = metric.endswith("_share")
    missing = row.get(f"{metric}_missing") if is_share and value is not None else None
    late = metric == "live_share" and value is not None and stale is not None and stale["late"]
    return {
        "source": row["source"],
        "ward": row["ward_code"],
        "metric": metric,
        "value": "" if value is None else repr(float(value)),
        "missing": "" if missing is None else str(int(missing)),
        "text": fmt.share(value, language) if is_share else fmt.count(value, language),
        "note": missing_text(metric, missing, language),
        "stale": stale_note(stale, language) if late else "",
        "band": fmt.STALE if late else fmt.band(value) if is_share else "",
    }


def source_rows(wide: pl.DataFrame, stale: dict[str, dict], language: Language) -> list[dict]:
    """A row per source of the contract, and per other source with rows: one that delivered
    nothing stands with empty figures, never left out."""
    rows = {r["source"]: r for r in wide.filter(ward_code="all").to_dicts()}
    for source in stale.keys() - rows.keys():
        rows[source] = {"source": source, "ward_code": "all"}
    return [
        {
            "key": r["source"],
            "name": source_name(language, r["source"]),
            "colour": colour(r["source"]),
            "cells": [score_cell(r, m, stale.get(r["source"]), language) for m in SCORE_METRICS],
            "staleness": stale.get(r["source"]),
        }
        for r in sorted(rows.values(), key=lambda r: source_key(r["source"]))
    ]


def ward_rows(wide: pl.DataFrame, language: Language) -> list[dict]:
    rows = wide.filter(source="all").filter(pl.col("ward_code") != "all").sort("ward_code")
    return [
        {
            "code": r["ward_code"],
            "name": ward_name(r["ward_code"], language),
            "cells": [score_cell(r, m, None, language) for m in SCORE_METRICS],
        }
        for r in rows.to_dicts()
    ]


def tiles(figs: Figures, wide: pl.DataFrame, stale: dict, language: Language) -> list[dict]:
    """The four dimensions, then the counts. `live` on overdue data leads with its age: a share of
    linked parties says nothing of how old the register is."""
    numbers = headline(figs)
    total = wide.filter(source="all", ward_code="all").to_dicts()
    row = total[0] if total else {}
    shown = []
    for dimension in DIMENSIONS:
        metric = f"{dimension}_share"
        if metric not in numbers:
            continue
        value = row.get(metric)
        label, meaning = DIMENSION_WORDS[language][dimension]
        tile = {
            "metric": metric,
            "value": numbers[metric] if value is None else value,
            "text": fmt.share(value, language),
            "label": label,
            "meaning": meaning,
            "note": missing_text(metric, row.get(f"{metric}_missing"), language),
            "band": fmt.band(value),
            "stale": None,
        }
        if dimension == "live" and stale.get("all"):
            tile["stale"] = stale["all"]
            if stale["all"]["late"]:
                linked = text(language, "linked_note", share=tile["text"])
                tile |= {
                    "text": stale["all"]["text"],
                    "note": ", ".join(filter(None, [linked, tile["note"]])),
                    "band": fmt.STALE,
                }
        shown.append(tile)
    counts = [
        ("rows_in_files", text(language, "rows_in_files")),
        ("rows_delivered", text(language, "rows_delivered")),
        ("rows_quarantined", text(language, "rows_quarantined")),
        ("persons", text(language, "persons")),
        ("review_pairs", text(language, "review_pairs")),
        ("corrections", text(language, "corrections")),
    ]
    shown += [
        {"metric": m, "value": numbers[m], "text": fmt.count(numbers[m], language), "label": label,
         "meaning": "", "note": "", "band": "", "stale": None}
        for m, label in counts
        if m in numbers
    ]  # fmt: skip
    return shown


def rows_note(figs: Figures, language: Language) -> str:
    """How the rows of the landing files add up to the rows judged and quarantined."""
    numbers = headline(figs)
    return text(
        language,
        "rows_note",
        **{
            key: fmt.count(numbers.get(metric, 0), language)
            for key, metric in (
                ("delivered", "rows_in_files"),
                ("superseded", "rows_superseded"),
                ("judged", "rows_delivered"),
                ("quarantined", "rows_quarantined"),
                ("rejected", "rows_in_rejected_files"),
                ("files", "files_rejected"),
            )
        },
    )


def trend_charts(trend: pl.DataFrame, language: Language) -> tuple[bool, list[tuple[str, object]]]:
    """Per dimension: a line per source over runs, or one labelled dot per source after a single
    run (a line needs two points)."""
    runs = trend["run_id"].n_unique()
    charts = []
    for dimension in DIMENSIONS:
        rows = trend.filter(dimension=dimension).sort("run_time")
        if rows.is_empty():
            continue
        title = DIMENSION_WORDS[language][dimension][0]
        if runs == 1:
            values = dict(rows.select("source", "value").iter_rows())
            charts.append(("dots", dot_chart(title, values, language)))
        else:
            series = {
                source: list(zip(group["run_time"], group["value"], strict=True))
                for (source,), group in rows.group_by("source")
            }
            charts.append(("lines", line_chart(title, series, language)))
    return runs == 1, charts


def where(example: dict, language: Language) -> str:
    """Where the row is, and its record id masked: enough to find it, not to read it."""
    row = example["row_number"]
    whole = f"{example['file_name']} ({text(language, 'whole_file')})"
    place = f"{example['file_name']}:{row}" if row is not None else whole
    record = masked(example["source_record_id"]) if example["source_record_id"] else ""
    return f"{place} {record}".strip()


def quarantine(reasons: pl.DataFrame, language: Language) -> dict:
    per_rule = reasons.group_by("rule_id", maintain_order=True).agg(pl.col("rows").sum())
    bars = [
        (f"{rule} · {rule_text(language, rule)}", rows, colour("all"))
        for rule, rows in per_rule.iter_rows()
    ]
    return {
        "chart": bar_chart(text(language, "quarantine_chart"), bars, language) if bars else None,
        "rows": [
            {
                "rule": r["rule_id"],
                "rows": fmt.count(r["rows"], language),
                "message": without_criminal_column(rule_text(language, r["rule_id"], r["message"])),
                "examples": [where(e, language) for e in r["examples"]],
            }
            for r in reasons.iter_rows(named=True)
        ],
    }


def masked_event(event_id: str | None) -> str:
    """ "khai_sinh:KS-2025-000123" -> "khai_sinh:KS-*********23"."""
    if event_id is None:
        return ""
    source, _, record = event_id.partition(":")
    return f"{source}:{masked(record)}"


def consistency(
    issues: pl.DataFrame, flags: pl.DataFrame, judged: list[str], language: Language
) -> dict:
    """The warehouse's consistency_issue rows per rule, then the advisory flags per source: a
    column for every source of `judged` (those with accepted rows), zeros where none broke a
    rule, so that a source without flags is seen to have none."""
    issue_rows = [
        {
            "rule": r["rule"],
            "description": rule_text(language, r["rule"]),
            "issues": fmt.count(r["issues"], language),
            "persons": fmt.count(r["persons"], language),
            "examples": [
                f"{masked(e['person_id'])} {masked_event(e['event_id'])}".strip()
                for e in r["examples"]
            ],
        }
        for r in issues.iter_rows(named=True)
    ]
    sources = sorted({*judged, *flags["source"]}, key=source_key)
    wide = (
        flags.pivot(on="source", index=["rule_id", "dimension", "message"], values="rows")
        .with_columns(pl.lit(0).alias(s) for s in sources if s not in flags["source"])
        .fill_null(0)
        .sort("rule_id")
        if not flags.is_empty()
        else flags
    )
    return {
        "issues": issue_rows,
        "flag_sources": [
            {"key": s, "name": source_name(language, s), "colour": colour(s)} for s in sources
        ],
        "flags": [
            {
                "rule": r["rule_id"],
                "dimension": word(language, r["dimension"]),
                "message": rule_text(language, r["rule_id"], r["message"]),
                "counts": [fmt.count(r[s], language) for s in sources],
            }
            for r in wide.iter_rows(named=True)
        ],
    }


def figure_rows(frame: pl.DataFrame, language: Language) -> list[tuple[str, str]]:
    """A one-row frame of counts as (label, value) lines; a column without a label is not shown,
    so a column added to a query is never published unread."""
    words = METRICS[language]
    row = frame.row(0, named=True)
    return [(words[k], fmt.count(v, language)) for k, v in row.items() if k in words]


def review_reason(reason: str, language: Language) -> str:
    """Why a pair waits, in the words of the clerks' workbook (`dancu.review`)."""
    return REASON_WORDS.get(reason, reason) if language == "vi" else reason


def resolution(figs: Figures, language: Language) -> dict:
    return {
        "figures": figure_rows(figs["resolution"], language),
        "match_rules": [
            {
                "source": source_name(language, s),
                "colour": colour(s),
                "rule": match_rule(language, rule),
                "records": fmt.count(n, language),
            }
            for s, rule, n in figs["match_rules"]
            .select("source", "match_rule", "records")
            .iter_rows()
        ],
        "review": [
            (review_reason(reason, language), fmt.count(n, language))
            for reason, n in figs["review_reasons"].select("reason", "pairs").iter_rows()
        ],
    }


def linkage(figs: Figures, language: Language) -> dict:
    return {
        "rows": [
            {
                "event": word(language, event),
                "role": word(language, role),
                "parties": fmt.count(parties, language),
                "linked": fmt.count(linked, language),
                "share": fmt.share(linked / parties if parties else None, language),
                "note": missing_text("live_share", parties - linked, language),
                "band": fmt.band(linked / parties if parties else None),
            }
            for event, role, parties, linked in figs["linkage"]
            .select("event_type", "role", "parties", "linked")
            .iter_rows()
        ],
        "unmatched": [
            (word(language, event), word(language, reason), fmt.count(n, language))
            for event, reason, n in figs["unmatched"]
            .select("event_type", "unmatched_reason", "parties")
            .iter_rows()
        ],
        "life": figure_rows(figs["life_status"], language),
    }


def shown_value(field: str, value: str | None, language: Language) -> str:
    """A correction's value masked, sex in the reader's words (Nam/Nữ, not M/F)."""
    if field == "sex" and value in SEX[language]:
        return SEX[language][value]
    return masked_value(field, value)


def corrections(frame: pl.DataFrame, language: Language) -> dict:
    """Per source, field and kind: how many corrections go back, with masked examples. Each
    count carries its numbers in `data-*` attributes, as the scorecard's do."""
    per_source = frame.group_by("source").agg(pl.col("records").sum())
    per_source = sorted(per_source.iter_rows(), key=lambda r: source_key(r[0]))
    bars = [(source_name(language, s), n, colour(s)) for s, n in per_source]
    return {
        "note": text(language, "corrections_note", confidence=fmt.share(MIN_CONFIDENCE, language)),
        "chart": bar_chart(text(language, "corrections_chart"), bars, language) if bars else None,
        "rows": [
            {
                "source": r["source"],
                "source_name": source_name(language, r["source"]),
                "colour": colour(r["source"]),
                "field": r["field"],
                "field_name": word(language, r["field"]),
                "kind": r["kind"],
                "kind_name": word(language, r["kind"]),
                "kind_help": KINDS.get(r["kind"], ""),
                "records": r["records"],
                "records_text": fmt.count(r["records"], language),
                "confidence": fmt.share(r["mean_confidence"], language),
                "examples": [
                    f"{masked(e['source_record_id'])}: "
                    f"{shown_value(r['field'], e['delivered_value'], language)} → "
                    f"{shown_value(r['field'], e['register_value'], language)}"
                    for e in r["examples"]
                ],
            }
            for r in frame.iter_rows(named=True)
        ],
    }


def held_for_review(frame: pl.DataFrame, language: Language) -> list[dict]:
    """Per source, field and reason: the differences held back for clerks."""
    return [
        {
            "source": source_name(language, source),
            "colour": colour(source),
            "field": word(language, field),
            "held_because": word(language, held_because),
            "code": held_because,
            "records": records,
            "records_text": fmt.count(records, language),
        }
        for source, field, held_because, records in frame.select(
            "source", "field", "held_because", "records"
        ).iter_rows()
    ]


def new_sources(figs: Figures, language: Language) -> dict:
    """Students not matched per school and ward, requests per match status and how many name a
    conviction (the count alone), foreign-element births and marriages per nationality."""
    unmatched = figs["unmatched_students"]
    requests, with_conviction = figs["requests_with_conviction"].row(0)
    return {
        "students": [
            {
                "school": school,
                "ward_code": ward,
                "ward": ward_name(ward, language),
                "status": status,
                "status_name": word(language, status),
                "records": records,
                "records_text": fmt.count(records, language),
            }
            for school, ward, status, records in unmatched.head(STUDENT_ROWS_SHOWN)
            .select("school_code", "ward_code", "match_status", "records")
            .iter_rows()
        ],
        "students_more": max(unmatched.height - STUDENT_ROWS_SHOWN, 0),
        "requests": [
            {
                "status": status,
                "status_name": word(language, status),
                "requests": n,
                "requests_text": fmt.count(n, language),
            }
            for status, n in figs["requests_by_status"]
            .select("match_status", "requests")
            .iter_rows()
        ],
        "requests_total": fmt.count(requests, language),
        "with_conviction": with_conviction,
        "with_conviction_text": fmt.count(with_conviction, language),
        "foreign": [
            {
                "event": word(language, event),
                "event_type": event,
                "nationality": code,
                "country": country_name(language, code),
                "events": n,
                "events_text": fmt.count(n, language),
            }
            for event, code, n in figs["foreign_elements"]
            .select("event_type", "nationality", "events")
            .iter_rows()
        ],
    }


def verdict(metric: str, change: float | None) -> str:
    if change is None or metric not in BETTER_UP | BETTER_DOWN:
        return ""
    return "better" if (change > 0) == (metric in BETTER_UP) else "worse"


def changes(frame: pl.DataFrame, language: Language) -> dict:
    """Only what moved: a figure whose change is zero is no news. Days since extract are left
    out: they grow with the calendar and stand in the scorecard already."""
    first_run = frame["previous"].is_null().all()
    moved = frame.filter(
        (pl.col("metric") != "days_since_extract")
        & ((pl.col("change") != 0) | (pl.col("previous").is_null() & (not first_run)))
    )
    words = METRICS[language]

    def value(v: float | None, metric: str) -> str:
        return fmt.share(v, language) if metric.endswith("_share") else fmt.count(v, language)

    def delta(v: float | None, metric: str) -> str:
        if v is None:
            return text(language, "new")
        if metric.endswith("_share"):
            return fmt.share_change(v, language, text(language, "points"))
        return fmt.count_change(v, language)

    rows = sorted(moved.iter_rows(named=True), key=lambda r: (source_key(r["source"]), r["metric"]))
    return {
        "first_run": first_run,
        "rows": [
            {
                "source": source_name(language, r["source"]),
                "colour": colour(r["source"]),
                "metric": words.get(r["metric"], r["metric"]),
                "previous": value(r["previous"], r["metric"]),
                "current": value(r["current"], r["metric"]),
                "change": delta(r["change"], r["metric"]),
                "verdict": verdict(r["metric"], r["change"]),
            }
            for r in rows
        ],
    }


def context(figs: Figures, language: Language) -> dict:
    run_id, published_at = figs["run"].row(0)
    wide = wide_scores(figs)
    stale = staleness(figs, language)
    one_run, charts = trend_charts(figs["trend"], language)
    return {
        "lang": language,
        "t": functools.partial(text, language),
        "run_id": run_id,
        "published": fmt.moment(published_at, language),
        "as_of": fmt.day(figs["as_of"]["as_of"][0], language),
        "tiles": tiles(figs, wide, stale, language),
        "rows_note": rows_note(figs, language),
        "bands": [(band, text(language, f"band_{band}")) for band in fmt.BANDS],
        "dimension_columns": [DIMENSION_WORDS[language][d][0] for d in DIMENSIONS],
        "sources": source_rows(wide, stale, language),
        "stale_sources": [s for k, s in stale.items() if k != "all" and s["late"]],
        "wards": ward_rows(wide, language),
        "one_run": one_run,
        "charts": charts,
        "quarantine": quarantine(figs["quarantine_reasons"], language),
        "consistency": consistency(
            figs["consistency_issues"], figs["consistency_rules"], judged_sources(wide), language
        ),
        "resolution": resolution(figs, language),
        "linkage": linkage(figs, language),
        "corrections": corrections(figs["corrections"], language),
        "held_for_review": held_for_review(figs["correction_review"], language),
        "new_sources": new_sources(figs, language),
        "changes": changes(figs["changes"], language),
    }


def judged_sources(wide: pl.DataFrame) -> list[str]:
    """The sources with accepted rows, which advisory rules were run on."""
    accepted = wide.filter(ward_code="all").filter(pl.col("source") != "all")
    return accepted.filter(pl.col("rows_accepted") > 0)["source"].to_list()


def render(figs: Figures, language: Language = "vi") -> str:
    return environment().get_template("report.html.j2").render(context(figs, language))
