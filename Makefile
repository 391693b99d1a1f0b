# Two commands: `make run` starts the local stack, `make test` runs the whole suite.
# Both create .venv and install the project into it when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python -m tools.devstack

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP) lint
	$(VENV)/bin/pytest

# Full sizes take about an hour; `make bench BENCH=--quick` takes minutes, and
# `make bench BENCH="--quick storm"` runs one (see bench/README.md).
bench: $(STAMP)
	$(VENV)/bin/python -m bench $(BENCH)

clean:
	rm -rf .data .pytest_cache .ruff_cache
