# Two commands do all the set-up on a fresh machine with Python 3.11 and pip:
#   make run    runs the quickstart scenario on a shipped mechanism
#   make test   runs the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SCENARIO ?= scenarios/quickstart.yaml

.PHONY: run test install bench clean-venv

run: $(STAMP)
	$(VENV)/bin/auction-env run $(SCENARIO)

test: $(STAMP)
	$(PY) -m pytest

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
