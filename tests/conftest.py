"""One generated sample, run once through `dancu run` as a data engineer runs it, for every
test that reads a whole run's outputs."""

from pathlib import Path

import pytest
from helpers import run_dancu
from hypothesis import settings

from dancu import memory
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


@pytest.fixture
def limit(monkeypatch):
    """Set `DANCU_MEMORY_LIMIT` for one test: the setting is read once per process."""

    def set_limit(text: str | None) -> None:
        if text is None:
            monkeypatch.delenv(memory.MEMORY_LIMIT_ENV, raising=False)
        else:
            monkeypatch.setenv(memory.MEMORY_LIMIT_ENV, text)
        memory.memory_limit.cache_clear()

    yield set_limit
    memory.memory_limit.cache_clear()
