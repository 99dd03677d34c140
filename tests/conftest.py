"""One generated sample, run once through `dancu run` as a data engineer runs it, for every
test that reads a whole run's outputs."""

from pathlib import Path

import pytest
from helpers import run_dancu
from hypothesis import settings

from dancu.generate import generate

# Speed is measured by `make bench`, not by tests: Hypothesis' per-example deadline would fail a
# correct test on a loaded machine.
settings.register_profile("dancu", deadline=None)
settings.load_profile("dancu")


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> Path:
    """OUT/sample (extracts and truth), OUT/data (what the run wrote) and OUT/run.log."""
    out = tmp_path_factory.mktemp("sample_run")
    generate(persons=2_000, seed=7, out=out / "sample")
    run_dancu(out / "sample" / "landing", out)
    return out
