# Two commands do all the set-up: `make demo` and `make test`. Each creates .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data
SAMPLE := $(DATA)/sample
PERSONS ?= 20000
SEED ?= 1

export DANCU_DATA_DIR ?= $(abspath $(DATA))
export DANCU_LANDING_DIR ?= $(abspath $(SAMPLE)/landing)
export DAGSTER_HOME ?= $(abspath $(DATA)/dagster)
# The sample's extracts end on the generator's default as-of date: deliveries are judged on it.
export DANCU_AS_OF ?= 2025-10-31

.PHONY: demo test ui bench lint sample clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

sample: $(BIN)/.installed
	rm -rf $(SAMPLE)
	$(BIN)/dancu generate --persons $(PERSONS) --seed $(SEED) --out $(SAMPLE)

demo: sample
	$(BIN)/dancu run

test: $(BIN)/.installed
	$(BIN)/python -m pytest

PORT ?= 3000
ui: $(BIN)/.installed
	$(BIN)/dancu ui --port $(PORT)

$(BIN)/.bench-installed: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

bench: $(BIN)/.bench-installed
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.resolution
	$(BIN)/python -m benchmarks.incremental

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(DATA) bench-data
