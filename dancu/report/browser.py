"""The report as a browser shows it: headless Chromium renders a report file to a PNG or to its
DOM, for the browser test and the README's screenshot.

    python -m dancu.report.browser [WAREHOUSE] [--out docs/img/report.png] [--language vi]

renders the report of WAREHOUSE (default data/warehouse/dancu.duckdb, the `make demo` sample's)
and screenshots it.
"""

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import duckdb

from dancu.report import figures
from dancu.report.html import render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--force-device-scale-factor=1",
)  # fmt: skip
TIMEOUT_SECONDS = 90


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        raise FileNotFoundError("chromium is not installed")
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=True,
    )  # fmt: skip


def screenshot(report: Path, png: Path, width: int = 1200, height: int = 2600) -> Path:
    """The top `height` pixels of the page at `width`, as a PNG."""
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        _chromium(
            [f"--window-size={width},{height}", f"--screenshot={png}", report.as_uri()],
            Path(profile),
        )
    return png


def dom(report: Path) -> str:
    """The page as the browser built it."""
    with tempfile.TemporaryDirectory() as profile:
        return _chromium(["--dump-dom", report.as_uri()], Path(profile)).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", nargs="?", type=Path,
                        default=Path("data/warehouse/dancu.duckdb"))  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("docs/img/report.png"))
    parser.add_argument("--language", choices=("vi", "en"), default="vi")
    parser.add_argument("--height", type=int, default=2600)
    args = parser.parse_args()
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        html = render(figures(con), args.language)
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.html"
        report.write_text(html, encoding="utf-8")
        print(screenshot(report, args.out, height=args.height))


if __name__ == "__main__":
    main()
