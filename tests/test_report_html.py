"""The auditor report as a Vietnamese auditor reads it, rendered from a real sample warehouse:
words, honest shares with what they leave out, the legend, staleness, names instead of codes."""

import re
import shutil
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dancu.admin_units import all_current_wards
from dancu.report import figures
from dancu.report import format as fmt
from dancu.report.html import render
from dancu.report.labels import SOURCES
from dancu.report.svg import SOURCE_COLOURS


@pytest.fixture(scope="module")
def warehouse(sample_run: Path, tmp_path_factory) -> Path:
    """A copy of the sample run's warehouse, which tests may add rows to."""
    copy = tmp_path_factory.mktemp("report_warehouse") / "dancu.duckdb"
    shutil.copy(sample_run / "data" / "warehouse" / "dancu.duckdb", copy)
    return copy


def newest_extracts(warehouse: Path) -> dict[str, date]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select source, max(extract_date) from (select source, extract_date from "
            "person_source union all select source, extract_date from civil_event "
            "union all select source, extract_date from quarantine) group by all"
        ).fetchall()
    return dict(rows)


def figs_of(warehouse: Path, as_of: date) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return figures(con, as_of=as_of)


@pytest.fixture(scope="module")
def fresh_day(warehouse) -> date:
    """The newest extract's day: every source is within its cycle unless it is truly behind."""
    return max(newest_extracts(warehouse).values())


class Page(HTMLParser):
    """Each element's attributes with the text inside it, for the elements tests ask about."""

    WATCHED = ("data-metric", "data-headline", "data-staleness-source", "data-band")

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[dict] = []
        self.open: list[dict] = []
        self.texts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if any(k in a for k in self.WATCHED):
            element = {**a, "tag": tag, "text": ""}
            self.elements.append(element)
            self.open.append(element)
        elif tag not in ("br", "meta", "circle", "line", "rect", "i", "polyline"):
            self.open.append({})

    def handle_endtag(self, tag):
        if self.open and tag not in ("br", "meta", "circle", "line", "rect", "i", "polyline"):
            self.open.pop()

    def handle_data(self, data):
        self.texts.append(data)
        for element in self.open:
            if element:
                element["text"] += data

    def having(self, key: str) -> list[dict]:
        return [e for e in self.elements if key in e]

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.texts))


def test_shares_are_floored_and_never_read_100_below_one():
    assert fmt.share(0.99974, "vi") == "99,97%"
    assert fmt.share(0.99974, "en") == "99.97%"
    assert fmt.share(0.999999, "vi") == "99,99%"
    assert fmt.share(0.29, "vi") == "29,00%"  # stored as 0.28999...
    assert fmt.share(1.0, "vi") == "100%"
    assert fmt.count(20_000, "vi") == "20.000"
    assert fmt.day(date(2025, 10, 31), "vi") == "31/10/2025"


def test_the_report_speaks_vietnamese(warehouse, fresh_day):
    html = render(figs_of(warehouse, fresh_day))
    page = Page(html)
    assert '<html lang="vi">' in html
    for label in ("Báo cáo chất lượng dữ liệu dân cư", "Tổng quan", "Chất lượng theo nguồn",
                  "Chất lượng theo phường, xã", "Số dòng đánh giá", "Bị cách ly", "Đúng", "Đủ",
                  "Sạch", "Sống", "Trích xuất gần nhất", "Chú giải màu"):  # fmt: skip
        assert label in page.text, label
    for source in ("dan_cu", "bhxh", "y_te", "khai_sinh", "khai_tu", "ket_hon"):
        assert SOURCES["vi"][source] in page.text
    assert not re.search(r"\b(bhxh|dan_cu|y_te)\b", " ".join(
        e["text"] for e in page.having("data-metric")
    ))  # fmt: skip
    assert f"Tính đến ngày {fmt.day(fresh_day, 'vi')}" in page.text
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", page.text)  # the publish time


def test_english_is_an_option(warehouse, fresh_day):
    html = render(figs_of(warehouse, fresh_day), language="en")
    text = Page(html).text
    assert '<html lang="en">' in html
    assert "Quality per source" in text and "Social insurance" in text
    assert "Chất lượng theo nguồn" not in text


def test_a_share_below_100_percent_says_so_with_what_is_missing(warehouse, fresh_day):
    figs = figs_of(warehouse, fresh_day)
    counts = {(s, w, m): v for s, w, m, v in figs["share_counts"].iter_rows()} | {
        (s, w, m): v for s, w, m, v in figs["scorecard"].iter_rows()
    }
    missing_of = {
        "correct_share": lambda s, w: (
            counts[(s, w, "rows_quarantined")] + counts[(s, w, "rows_flagged_correct")]
        ),
        "complete_share": lambda s, w: counts[(s, w, "rows_flagged_complete")],
        "clean_share": lambda s, w: counts[(s, w, "person_records_unresolved")],
        "live_share": lambda s, w: counts[(s, w, "parties")] - counts[(s, w, "parties_linked")],
    }
    cells = [
        c for c in Page(render(figs)).having("data-metric")
        if c["data-metric"].endswith("_share") and c["data-value"]
    ]  # fmt: skip
    below = [c for c in cells if float(c["data-value"]) < 1]
    assert below, "the sample has no share below 100%"
    for c in below:
        missing = int(missing_of[c["data-metric"]](c["data-source"], c["data-ward"]))
        assert missing > 0 and int(c["data-missing"]) == missing
        assert not c["text"].startswith("100"), c
        assert f"còn {fmt.count(missing, 'vi')} " in c["text"], c
    for c in cells:
        if float(c["data-value"]) == 1:
            assert c["text"].startswith("100%") and "còn" not in c["text"]


def test_the_legend_explains_every_colour_used(warehouse, fresh_day):
    page = Page(render(figs_of(warehouse, fresh_day + timedelta(days=400))))
    explained = {e["data-band"]: e["text"] for e in page.having("data-band")}
    assert set(explained) == set(fmt.BANDS)
    assert "quá hạn" in explained[fmt.STALE] and "dưới 80%" in explained[fmt.LOW]
    used = {
        m.group(1) for e in page.elements for m in re.finditer(r"band-(\w+)", e.get("class", ""))
    }
    assert used and used <= set(explained)


def test_staleness_is_counted_in_days_to_the_as_of_date(warehouse, fresh_day):
    as_of = fresh_day + timedelta(days=399)
    page = Page(render(figs_of(warehouse, as_of)))
    days = {e["data-staleness-source"]: e for e in page.having("data-staleness-source")}
    for source, newest in newest_extracts(warehouse).items():
        expected = (as_of - newest).days
        assert int(days[source]["data-days"]) == expected
        assert f"{expected} ngày" in days[source]["text"]
        assert "band-stale" in days[source]["class"]
    (live,) = [e for e in page.having("data-headline") if e["data-headline"] == "live_share"]
    assert "band-stale" in live["class"]
    assert not re.search(r"^\s*Sống\s*100", live["text"])  # its age leads, not its share
    stalest = max((as_of - d).days for d in newest_extracts(warehouse).values())
    assert f"{stalest} ngày" in live["text"]


def test_fresh_data_is_not_marked_stale(warehouse):
    newest = newest_extracts(warehouse)
    page = Page(render(figs_of(warehouse, newest["dan_cu"])))
    dan_cu = [
        e for e in page.having("data-staleness-source") if e["data-staleness-source"] == "dan_cu"
    ]
    assert dan_cu[0]["data-days"] == "0" and "band-stale" not in dan_cu[0]["class"]


def test_wards_are_named(warehouse, fresh_day):
    names = dict(all_current_wards().select("ward_code", "ward_name").iter_rows())
    page = Page(render(figs_of(warehouse, fresh_day)))
    wards = {e["data-ward"] for e in page.having("data-metric") if e["data-ward"] not in ("all",)}
    known = [w for w in wards if w in names]
    assert known
    for ward in known:
        assert names[ward] in page.text


def test_the_consistency_issues_of_the_warehouse_are_counted_and_masked(warehouse, fresh_day):
    person = "P0123456789ABCDEF"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from consistency_issue")
        con.execute(
            "insert into consistency_issue values "
            "('marriage.without_divorce', ?, 'ket_hon:KH-2024-000123'), "
            "('marriage.without_divorce', 'P00000000000000B', 'ket_hon:KH-2024-000777'), "
            "('life.activity_after_death', ?, null)",
            [person, person],
        )
    html = render(figs_of(warehouse, fresh_day))
    assert 'data-issue-rule="marriage.without_divorce">2<' in html
    assert 'data-issue-rule="life.activity_after_death">1<' in html
    assert "kết hôn khi hôn nhân trước chưa chấm dứt" in html
    assert person not in html and "KH-2024-000123" not in html
    assert "P01************EF" in html


def test_criminal_records_never_appear(warehouse, fresh_day):
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into quarantine values ('ly_lich_tu_phap', 'ly_lich_tu_phap/llp_20251028.csv',"
            " 3, 'LLTP-0001', date '2025-10-28', "
            "['file.rejected: missing required column(s): ''Án tích''', "
            "'name.empty: the name has no letter after repair'], "
            '\'{"Án tích": "Trộm cắp tài sản"}\')'
        )
    figs = figs_of(warehouse, fresh_day)
    figs["match_rules"] = figs["match_rules"].with_columns(an_tich=pl.lit("Trộm cắp tài sản"))
    html = render(figs)
    assert "Án tích" not in html and "Trộm cắp" not in html
    assert "Lý lịch tư pháp" in html or "ly_lich_tu_phap" in html  # the row itself is counted


def changes_frame(previous: list[float | None], current: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": ["all", "bhxh", "y_te", "all"],
            "dimension": ["clean", "clean", "correct", "correct"],
            "metric": ["clean_share", "clean_share", "rows_delivered", "days_since_extract"],
            "previous": previous,
            "current": current,
        }
    ).with_columns(change=pl.col("current") - pl.col("previous"))


def test_only_figures_that_moved_are_listed(warehouse, fresh_day):
    figs = figs_of(warehouse, fresh_day)
    figs["changes"] = changes_frame([0.9995, 0.998, 100.0, 3.0], [0.9995, 0.9983, 120.0, 4.0])
    page = Page(render(figs))
    section = page.text[page.text.rindex("Thay đổi so với lần chạy trước") :]
    assert "Bảo hiểm xã hội" in section and "+0,03 điểm %" in section
    assert "+20" in section
    assert "Tất cả nguồn" not in section  # its clean share did not move
    assert "Số ngày" not in section


def test_a_first_run_says_so(warehouse, fresh_day):
    figs = figs_of(warehouse, fresh_day)
    figs["changes"] = changes_frame([None] * 4, [0.9995, 0.9983, 120.0, 4.0])
    assert 'data-changes="first"' in render(figs)


def trend(runs: int) -> pl.DataFrame:
    times = [datetime(2025, 10, 1 + i) for i in range(runs)]
    return pl.DataFrame(
        [
            (t, f"run{i}", source, dimension, 0.999 - 0.0001 * i - 0.00003 * j)
            for i, t in enumerate(times)
            for j, source in enumerate(("all", "dan_cu", "bhxh", "y_te"))
            for dimension in ("correct", "clean")
        ],
        schema=["run_time", "run_id", "source", "dimension", "value"],
        orient="row",
    )


def test_one_run_shows_labelled_dots_not_lines(warehouse, fresh_day):
    figs = figs_of(warehouse, fresh_day)
    figs["trend"] = trend(1)
    html = render(figs)
    assert 'class="series"' not in html
    assert html.count('class="point"') == 8
    assert "Mới có một lần chạy" in html
    assert re.search(r'class="point-label"[^>]*>99,89%<', html)


def test_several_runs_draw_one_coloured_line_per_source_with_precise_ticks(warehouse, fresh_day):
    figs = figs_of(warehouse, fresh_day)
    figs["trend"] = trend(3)
    html = render(figs)
    lines = re.findall(r'<polyline class="series" data-series="(\w+)"[^>]*stroke="(#\w+)"', html)
    assert len(lines) == 8
    assert all(SOURCE_COLOURS[source] == colour for source, colour in lines)
    assert len({colour for _, colour in lines}) == 4
    assert html.count('class="legend-entry"') == 8
    assert re.search(r">99,\d\d%<", html)  # ticks part 99,88% from 99,90%


def test_eleven_unresolved_records_of_forty_thousand_are_not_rounded_away(warehouse, fresh_day):
    """The issue's case: clean 0.99974 once read "100.0%" in green."""
    figs = figs_of(warehouse, fresh_day)
    overall = (pl.col("source") == "all") & (pl.col("ward_code") == "all")
    figs["scorecard"] = figs["scorecard"].with_columns(
        value=pl.when(overall & (pl.col("metric") == "clean_share"))
        .then(0.99974)
        .otherwise("value")
    )
    figs["share_counts"] = figs["share_counts"].with_columns(
        value=pl.when(overall & (pl.col("metric") == "person_records_unresolved"))
        .then(11.0)
        .otherwise("value")
    )
    page = Page(render(figs))
    (cell,) = [
        c for c in page.having("data-metric")
        if (c["data-source"], c["data-ward"], c["data-metric"]) == ("all", "all", "clean_share")
    ]  # fmt: skip
    assert cell["text"] == "99,97%còn 11 bản ghi"
    assert "band-high" in cell["class"] and "band-full" not in cell["class"]
    (tile,) = [e for e in page.having("data-headline") if e["data-headline"] == "clean_share"]
    assert "99,97%" in tile["text"] and "còn 11 bản ghi" in tile["text"]
