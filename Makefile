# Two commands do all the set-up on a fresh machine with Python 3.11 and pip:
#   make run    runs the quickstart scenario on a shipped mechanism
#   make test   lints (ruff) and runs the whole test suite (what CI runs)
# For everyday work: make test-fast (the suite without slow, solver, distributed and rllib
# tests) and make lint / make format.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SCENARIO ?= scenarios/quickstart.yaml

.PHONY: run test test-fast lint format install bench clean-venv

run: $(STAMP)
	$(VENV)/bin/auction-env run $(SCENARIO)

test: lint
	$(PY) -m pytest -n auto --dist loadfile

test-fast: $(STAMP)
	$(PY) -m pytest -n auto --dist loadfile -m "not slow and not solver and not distributed and not rllib"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

install: $(STAMP)

# torch first, pinned to the local CPU build: a bare `torch` requirement on a clean venv
# would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

bench: $(STAMP)
	$(PY) benchmarks/throughput.py

clean-venv:
	rm -rf $(VENV)
