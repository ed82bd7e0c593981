# deepal-bench: `make run` and `make test` each work on a fresh machine (they create .venv).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RESULTS ?= results/runs
JOBS ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: run test lint format report bench clean-runs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

## run: the embedded default benchmark (digits, six strategies x 3 trials), then its table;
## JOBS jobs at once (default: every core), one torch thread each
run: $(STAMP)
	$(BIN)/deepal-bench -m hydra/launcher=joblib hydra.launcher.n_jobs=$(JOBS) threads=1 \
		results_root=$(RESULTS)
	$(BIN)/deepal-bench-report $(RESULTS)/digits --out $(RESULTS)/digits/report

## test: the test suite
test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## report: tables for everything under $(RESULTS)
report: $(STAMP)
	$(BIN)/deepal-bench-report $(RESULTS) --out $(RESULTS)/report

## bench: kernel benchmarks (CSV under results/bench)
bench: $(STAMP)
	$(BIN)/python scripts/bench_kernels.py --out results/bench/kernels.csv
