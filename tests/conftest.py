"""One generated sample, run once through `dancu run` as a data engineer runs it, for every
test that reads a whole run's outputs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from dancu.generate import generate

ROOT = Path(__file__).resolve().parent.parent

# Speed is measured by `make bench`, not by tests: Hypothesis' per-example deadline would fail a
# correct test on a loaded machine.
settings.register_profile("dancu", deadline=None)
settings.load_profile("dancu")


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> Path:
    """OUT/sample (extracts and truth), OUT/data (what the run wrote) and OUT/run.log."""
    out = tmp_path_factory.mktemp("sample_run")
    generate(persons=2_000, seed=7, out=out / "sample")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(out / "sample" / "landing"),
         "--data", str(out / "data"), "--log-level", "DEBUG"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (out / "run.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    return out
