"""The auditor report and the clerks' export from a sample run: true numbers, masked people."""

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dancu.admin_units import all_current_wards, current_wards, ward_conversion
from dancu.contract import REFORM_DATE
from dancu.paths import report_port
from dancu.review import FORMULA_STARTS, clerk_sheet, write_csv

ROOT = Path(__file__).parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def sample(sample_run: Path) -> Path:
    return sample_run


def report_of(sample: Path) -> str:
    (path,) = (sample / "data" / "reports").glob("dancu_report_*.html")
    return path.read_text(encoding="utf-8")


class ScoreCells(HTMLParser):
    """The scorecard cells: (source, ward, metric) -> the number in data-value."""

    def __init__(self):
        super().__init__()
        self.cells: dict[tuple[str, str, str], float | None] = {}
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        a = dict(attrs)
        if "data-metric" in a and "data-source" in a:
            value = float(a["data-value"]) if a["data-value"] else None
            self.cells[(a["data-source"], a["data-ward"], a["data-metric"])] = value


def expected_scores(warehouse: Path) -> dict[tuple[str, str, str], float]:
    """The scorecard recomputed from the base tables, by the definitions in the README."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        t = {
            n: con.sql(f"select * from {n}").pl()
            for n in (
                "person",
                "person_source",
                "civil_event",
                "event_party",
                "quarantine",
                "record_flag",
                "rule",
                "review_queue",
                "extract_file",
            )
        }
    flags = (
        t["record_flag"]
        .join(t["rule"], on="rule_id")
        .group_by("file_name", "row_number")
        .agg(
            (pl.col("dimension") == "correct").any().alias("bad"),
            (pl.col("dimension") == "complete").any().alias("gap"),
        )
    )
    shared = (
        t["person"]
        .drop_nulls("national_id")
        .group_by("national_id")
        .len()
        .filter(pl.col("len") > 1)
    )
    queued = (
        pl.concat(
            [
                t["review_queue"].select(
                    pl.col("source_l").alias("source"),
                    pl.col("source_record_id_l").alias("source_record_id"),
                ),
                t["review_queue"].select(
                    pl.col("source_r").alias("source"),
                    pl.col("source_record_id_r").alias("source_record_id"),
                ),
            ]
        )
        .unique()
        .with_columns(queued=pl.lit(True))
    )
    # A student or request that matched no one is a row delivered, of no person and no ward.
    persons = (
        t["person_source"]
        .join(t["person"], on="person_id", how="left")
        .join(queued, on=["source", "source_record_id"], how="left")
        .select(
            "source",
            pl.col("residence_ward_code").alias("ward"),
            "file_name",
            "row_number",
            quarantined=pl.lit(False),
            person=pl.col("person_id").is_not_null(),
            unresolved=pl.col("queued").fill_null(False)
            | pl.col("national_id").is_in(shared["national_id"].implode()),
            parties=pl.lit(0),
            linked=pl.lit(0),
        )
    )
    party = (
        t["event_party"]
        .group_by("event_id")
        .agg(parties=pl.len(), linked=pl.col("person_id").count())
    )
    # The registering ward as a current ward: an old code before the reform, else a current one.
    conversion = dict(ward_conversion().select("old_ward_code", "ward_code").iter_rows())
    current = set(current_wards()["ward_code"])
    events = (
        t["civil_event"]
        .join(party, on="event_id", how="left")
        .select(
            "source",
            pl.struct("registration_place_code", "registration_date", "extract_date")
            .map_elements(
                lambda e: (
                    e["registration_place_code"]
                    if (e["registration_date"] or e["extract_date"]) >= REFORM_DATE
                    and e["registration_place_code"] in current
                    else conversion.get(e["registration_place_code"], e["registration_place_code"])
                ),
                return_dtype=pl.String,
            )
            .alias("ward"),
            "file_name",
            "row_number",
            quarantined=pl.lit(False),
            person=pl.lit(False),
            unresolved=pl.lit(False),
            parties=pl.col("parties").fill_null(0),
            linked=pl.col("linked").fill_null(0),
        )
    )
    # A refused registration names the parties its event always names, none linked, unless an
    # earlier version of it is held.
    named = {"khai_sinh": 2, "khai_tu": 1, "ket_hon": 2}
    known = t["civil_event"].select("source", "source_record_id", known=pl.lit(True)).unique()
    rejected = (
        t["quarantine"]
        .drop_nulls("row_number")
        .join(known, on=["source", "source_record_id"], how="left")
        .select(
            "source",
            ward=pl.lit(None, pl.String),
            file_name="file_name",
            row_number="row_number",
            quarantined=pl.lit(True),
            person=pl.lit(False),
            unresolved=pl.lit(False),
            parties=pl.when(pl.col("known").is_null())
            .then(pl.col("source").replace_strict(named, default=0))
            .otherwise(0),
            linked=pl.lit(0),
        )
    )
    # Each row of a file rejected whole.
    files = t["extract_file"].filter(pl.col("error").is_not_null() & (pl.col("rows") > 0))
    in_rejected_files = files.select(
        "source",
        ward=pl.lit(None, pl.String),
        file_name="file_name",
        row_number=pl.int_ranges(1, pl.col("rows") + 1),
        quarantined=pl.lit(True),
        person=pl.lit(False),
        unresolved=pl.lit(False),
        parties=pl.col("source").replace_strict(named, default=0),
        linked=pl.lit(0),
    ).explode("row_number")
    rows = (
        pl.concat([persons, events, rejected, in_rejected_files], how="vertical_relaxed")
        .join(flags, on=["file_name", "row_number"], how="left")
        .with_columns(pl.col("ward").fill_null("unknown"), pl.col("bad", "gap").fill_null(False))
    )

    def scores(group: pl.DataFrame) -> dict[str, float]:
        accepted = group.filter(~pl.col("quarantined"))
        people = group.filter("person")
        out = {
            "rows_delivered": group.height,
            "rows_quarantined": group.height - accepted.height,
            "correct_share": (accepted.height - accepted["bad"].sum()) / group.height,
        }
        if accepted.height:
            out["complete_share"] = 1 - accepted["gap"].sum() / accepted.height
        if people.height:
            out["clean_share"] = 1 - people["unresolved"].sum() / people.height
        if group["parties"].sum():
            out["live_share"] = group["linked"].sum() / group["parties"].sum()
        return out

    expected = {}
    for (source,), group in [(("all",), rows), *rows.group_by("source")]:
        for metric, value in scores(group).items():
            expected[(source, "all", metric)] = value
    for (ward,), group in rows.group_by("ward"):
        for metric, value in scores(group).items():
            expected[("all", ward, metric)] = value
    return expected


def test_every_scorecard_number_is_the_warehouse_sql(sample):
    parser = ScoreCells()
    parser.feed(report_of(sample))
    expected = expected_scores(sample / "data" / "warehouse" / "dancu.duckdb")
    shown = {k: v for k, v in parser.cells.items() if v is not None}
    assert shown.keys() == expected.keys()
    for key, value in expected.items():
        assert shown[key] == pytest.approx(value, abs=1e-9), key


class CorrectionCells(HTMLParser):
    """The corrections section's counts: (source, field, kind) -> records."""

    def __init__(self):
        super().__init__()
        self.cells: dict[tuple[str, str, str], int] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-correction-source" in a:
            key = (a["data-correction-source"], a["data-field"], a["data-kind"])
            self.cells[key] = int(a["data-value"])


def test_every_correction_count_is_the_warehouse_sql(sample):
    parser = CorrectionCells()
    parser.feed(report_of(sample))
    with duckdb.connect(str(sample / "data" / "warehouse" / "dancu.duckdb"), read_only=True) as con:
        counted = con.execute(
            "select source, field, kind, count(*) from source_correction group by all"
        ).fetchall()
    assert parser.cells == {(s, f, k): n for s, f, k, n in counted}
    assert parser.cells


def test_the_report_is_self_contained(sample):
    html = report_of(sample)
    parser = ScoreCells()
    parser.feed(html)
    assert "script" not in parser.tags and "link" not in parser.tags
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html and "@font-face" not in html
    assert html.count("<svg") >= 4  # a trend chart per dimension


def personal_values(sample: Path) -> set[str]:
    """Every national id and full name of the sample, and the insurance codes (personal ids)."""
    truth = pl.read_parquet(sample / "sample" / "truth" / "records.parquet")
    with duckdb.connect(str(sample / "data" / "warehouse" / "dancu.duckdb"), read_only=True) as con:
        published = con.sql("select national_id, full_name from person").pl()
    codes = truth.filter(source="bhxh")["source_record_id"]
    values = {
        *truth["true_national_id"],
        *truth["true_full_name"],
        *codes,
        *published["national_id"],
        *published["full_name"],
    }
    return {v for v in values if v and len(v) >= 6}


def leaks(text: str, values: set[str]) -> list[str]:
    escaped = {v: json.dumps(v)[1:-1] for v in values}  # as JSON writes it, diacritics escaped
    return sorted(v for v in values if v in text or escaped[v] in text)


def without_ward_names(text: str) -> str:
    """The report names wards, which are public; a person may share a ward's name (Hoàng Mai)."""
    for name in sorted(all_current_wards()["ward_name"], key=len, reverse=True):
        text = text.replace(name, "")
    return text


def test_no_name_or_id_in_the_report_or_the_run_log(sample):
    values = personal_values(sample)
    assert len(values) > 1000
    assert leaks(without_ward_names(report_of(sample)), values) == []
    assert leaks((sample / "run.log").read_text(encoding="utf-8"), values) == []


def test_no_id_in_the_dagster_event_log(sample):
    """Metadata, check results and log messages, as the UI shows them, hold masked values only."""
    ids = {v for v in personal_values(sample) if v.isdigit()}
    stored = b"".join(p.read_bytes() for p in (sample / "data" / "dagster").rglob("*.db"))
    assert [v for v in ids if v.encode() in stored] == []


def test_the_report_link_is_served_over_http(sample):
    """Browsers block `file://` links from the UI's http page; `dancu ui` serves the reports."""
    (report,) = (sample / "data" / "reports").glob("dancu_report_*.html")
    stored = b"".join(p.read_bytes() for p in (sample / "data" / "dagster").rglob("*.db"))
    assert f"http://localhost:{report_port()}/{report.name}".encode() in stored
    assert report.as_uri().encode() not in stored


def test_the_export_is_safe_to_open_in_excel():
    queue = pl.DataFrame(
        {
            "source_l": ["dan_cu", "bhxh"], "source_record_id_l": ["HS1", "0101234567"],
            "full_name_l": ["=cmd|' /C calc'!A0", "Nguyễn Thị Hà"], "reason": ["+1", "@SUM(A1)"],
            "national_id_l": ["001088012345", None], "phone_r": ["-84912345678", "\t1"],
            "national_id": ["one digit slip", "not comparable"], "match_weight": [-3.5, 6.0],
        }
    )  # fmt: skip
    sheet = clerk_sheet(queue)
    text = write_csv(sheet).decode("utf-8-sig")
    cells = [c for row in pl.read_csv(text.encode(), infer_schema=False).iter_rows() for c in row]
    assert not [c for c in cells if c and c.startswith(FORMULA_STARTS) and not c.startswith("-3.5")]
    assert sheet["full_name_l"][1] == "Nguyễn Thị Hà"  # a clerk needs the name
    assert sheet["national_id_l"][0] == "001*******45"
    assert sheet["national_id"].to_list() == ["one digit slip", "not comparable"]  # a level
    assert sheet["source_record_id_l"][1] == "0101234567"  # a decision names its records
    assert sheet["decision"].to_list() == ["", ""]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_screenshot_shows_the_charts(sample, tmp_path):
    (report,) = (sample / "data" / "reports").glob("dancu_report_*.html")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]  # fmt: skip
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, "--window-size=1200,2400", f"--screenshot={shot}", report.as_uri()],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert shot.stat().st_size > 20_000  # a blank page is a few kB
    # One run: a labelled dot per source and dimension, no line of a single point.
    assert dom.count('class="point"') >= 4 and 'class="series"' not in dom
    shutil.copy(shot, sample / "data" / "reports" / "screenshot.png")


def test_every_kind_of_correction_has_its_vietnamese_words():
    from dancu.corrections import KINDS
    from dancu.report.labels import WORDS

    assert set(KINDS) - set(WORDS["vi"]) == set()
