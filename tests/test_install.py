"""dancu as an operator installs it: a plain (not editable) install of the package, run from a
folder that is not the checkout."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import duckdb
import pytest

from dancu.warehouse import SERVICE_VIEWS

ROOT = Path(__file__).resolve().parent.parent


def run(command: list, cwd: Path) -> str:
    # Nothing may reach the checkout: not the current folder, nor a PYTHONPATH naming it.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DAGSTER_HOME")}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv holding dancu's wheel. Its dependencies are this environment's,
    reached through a .pth file, so the test installs the package without downloading them."""
    work = tmp_path_factory.mktemp("install")
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(work / "wheel"), str(ROOT)], cwd=work)  # fmt: skip
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=work)
    python = venv / "bin" / "python"
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], work)
    (Path(site.strip()) / "dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8"
    )
    (wheel,) = (work / "wheel").glob("dancu-*.whl")
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
         str(wheel)], cwd=work)  # fmt: skip
    return venv


def test_the_packages_come_from_the_install_not_the_checkout(installed, tmp_path):
    code = "import dancu, orchestration, pipelines, sql; print(dancu.__file__, sql.SQL_DIR)"
    shown = run([installed / "bin" / "python", "-c", code], cwd=tmp_path)
    assert str(ROOT) not in shown
    assert "site-packages" in shown


def test_a_plain_install_generates_and_runs_from_another_folder(installed, tmp_path):
    dancu = installed / "bin" / "dancu"
    run([dancu, "generate", "--persons", "500", "--seed", "4", "--out", "sample"], cwd=tmp_path)
    run([dancu, "run", "--landing", "sample/landing", "--data", "data"], cwd=tmp_path)

    warehouse = tmp_path / "data" / "warehouse" / "dancu.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        persons = con.execute("select count(*) from person").fetchone()[0]
        views = con.execute(
            "select list(view_name order by view_name) from duckdb_views() "
            "where view_name like 'svc_%'"
        ).fetchone()[0]
    with duckdb.connect() as con:
        truth = con.execute(
            f"select count(distinct person_key) from '{tmp_path}/sample/truth/persons.parquet'"
        ).fetchone()[0]
    assert 0.95 * truth <= persons <= 1.05 * truth
    # The views of sql/views.sql, read from the installed package.
    assert views == sorted(SERVICE_VIEWS)
