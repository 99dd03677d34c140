# Two commands do all the set-up: `make demo` and `make test`. Each creates .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data
SAMPLE := $(DATA)/sample
PERSONS ?= 20000
SEED ?= 1
# The exact versions every install takes (`make lock` refreshes it after pyproject.toml changes).
LOCK := requirements.lock

export DANCU_DATA_DIR ?= $(abspath $(DATA))
export DANCU_LANDING_DIR ?= $(abspath $(SAMPLE)/landing)
# The sample's extracts end on the generator's default as-of date: deliveries are judged on it.
export DANCU_AS_OF ?= 2025-10-31

.PHONY: demo test ui serve bench bench-noisy bench-scale bench-serve lint lock sample clean

$(BIN)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev]'
	touch $@

sample: $(BIN)/.installed
	rm -rf $(SAMPLE)
	$(BIN)/dancu generate --persons $(PERSONS) --seed $(SEED) --out $(SAMPLE)

demo: sample
	$(BIN)/dancu run

test: $(BIN)/.installed
	$(BIN)/python -m pytest

# The Dagster UI on PORT, the auditor reports on REPORT_PORT (both on localhost).
PORT ?= 3000
REPORT_PORT ?= $(or $(DANCU_REPORT_PORT),3001)
ui: $(BIN)/.installed
	DANCU_REPORT_PORT=$(REPORT_PORT) $(BIN)/dancu ui --port $(PORT)

SERVE_PORT ?= 8080
serve: $(BIN)/.installed
	$(BIN)/dancu serve --port $(SERVE_PORT)

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[dev,bench]'
	touch $@

bench: $(BIN)/.bench-installed
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.resolution
	for set in febrl1 febrl2 febrl3 febrl4; do $(BIN)/python -m benchmarks.febrl --set $$set || exit 1; done
	$(BIN)/python -m benchmarks.noisy --persons 20000 --seed 101
	$(BIN)/python -m benchmarks.noisy --persons 20000 --seed 101 --noise 2
	$(BIN)/python -m benchmarks.unexpected --persons 20000 --seed 101
	$(BIN)/python -m benchmarks.incremental
	$(BIN)/python -m benchmarks.new_sources --persons 20000 --seeds 303 404
	$(BIN)/python -m benchmarks.office_edits --persons 20000 --seed 303

# Resolution on messy data: two seeds no test uses, default and doubled noise, 20,000 and a
# million persons (about an hour).
bench-noisy: $(BIN)/.bench-installed
	for seed in 101 202; do for noise in 1 2; do \
	  $(BIN)/python -m benchmarks.noisy --persons 20000 --seed $$seed --noise $$noise || exit 1; \
	  $(BIN)/python -m benchmarks.noisy --persons 1000000 --seed $$seed --noise $$noise || exit 1; \
	done; done

# Time and peak memory of each stage at 1, 2, 5 and 10 million persons (hours; generated sets are
# kept in bench-data/, about 5 GB at ten million): `SIZES="20000 50000"` for a quick look;
# `ENFORCE=1 DANCU_MEMORY_LIMIT=10GB` runs each size in a memory cgroup of that limit (as root).
bench-scale: $(BIN)/.bench-installed
	$(BIN)/python -m benchmarks.scale $(if $(SIZES),--persons $(SIZES)) $(if $(ENFORCE),--enforce)

# The service API under load on loopback (wrk from Debian's package when present), two publishes
# during it; WAREHOUSE=path names a published warehouse to serve (default: a demo run's).
bench-serve: $(BIN)/.installed
	$(BIN)/python -m benchmarks.serve $(if $(WAREHOUSE),--warehouse $(WAREHOUSE))

# Resolve the lock again for every platform, keeping each pinned version that still fits
# pyproject.toml; `make lock UPGRADE=1` takes the newest versions it allows instead.
lock:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet 'uv>=0.13,<0.14'
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench --universal \
	  --python-version 3.11 --custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade) \
	  --quiet -o $(LOCK)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(DATA) bench-data
