"""The report as headless Chromium renders it: what a Vietnamese auditor sees on screen."""

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dancu.report import figures
from dancu.report.browser import CHROMIUM, dom, screenshot
from dancu.report.html import render

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
DAYS_OLD = 399


@pytest.fixture(scope="module")
def rendered(sample_run: Path, tmp_path_factory) -> tuple[Path, date]:
    """The sample's report judged DAYS_OLD days after its newest extract, and that extract's day."""
    with duckdb.connect(
        str(sample_run / "data" / "warehouse" / "dancu.duckdb"), read_only=True
    ) as con:
        newest = con.execute("select max(extract_date) from person_source").fetchone()[0]
        html = render(figures(con, as_of=newest + timedelta(days=DAYS_OLD)))
    path = tmp_path_factory.mktemp("browser") / "report.html"
    path.write_text(html, encoding="utf-8")
    return path, newest


@pytest.fixture(scope="module")
def page(rendered) -> str:
    """The DOM as the browser built it, tags stripped, whitespace folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom(rendered[0])))


def test_the_browser_shows_vietnamese_labels(page):
    for label in ("Báo cáo chất lượng dữ liệu dân cư", "Chất lượng theo nguồn", "Số dòng đánh giá",
                  "Bảo hiểm xã hội", "Dân cư (CSDL dân cư)", "Khai sinh", "Sống"):  # fmt: skip
        assert label in page, label


def test_the_browser_shows_a_share_below_100_with_what_is_missing(page):
    assert re.search(r"\b9\d,\d\d% còn [\d.]+ bản ghi", page)
    assert not re.search(r"100,0+%", page)


def test_the_browser_shows_the_legend(page):
    assert "Chú giải màu" in page
    assert "dưới 80%: có vấn đề" in page and "quá hạn:" in page


def test_the_browser_shows_staleness_in_days(rendered, page):
    newest = rendered[1]
    assert f"{DAYS_OLD} ngày" in page
    assert f"Tính đến ngày {newest + timedelta(days=DAYS_OLD):%d/%m/%Y}" in page
    assert "Nguồn quá hạn" in page


def test_the_screenshot_is_a_rendered_page(rendered, tmp_path):
    shot = screenshot(rendered[0], tmp_path / "report.png", height=1600)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 40_000  # a blank page is a few kB
