# Two commands: `make run` starts the local stack, `make test` runs the whole suite.
# Both create .venv and install the project into it when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean browser

# The browser tests drive Debian's chromium through Debian's chromedriver (tests/browser);
# installed here where missing, never downloaded by a test. The emoji font makes the sandbox's
# emoji readable in the tests' screenshots.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || \
		[ ! -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji; \
	fi

# The install's own chatter (build-backend notices) goes to a log, shown only if it fails.
$(STAMP): pyproject.toml
	@echo "installing Parley into $(VENV) (log: $(VENV)/install.log)…"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@{ $(VENV)/bin/pip install --quiet --upgrade pip && \
	   $(VENV)/bin/pip install --quiet -e '.[dev]'; } > $(VENV)/install.log 2>&1 || \
	   { cat $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python -m tools.devstack

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Both cores, one test file per worker at a time; the slowest tests are listed at the end.
test: $(STAMP) lint browser
	$(VENV)/bin/pytest -n 2 --dist loadfile --durations=15

# Full sizes take about an hour; `make bench BENCH=--quick` takes minutes, and
# `make bench BENCH="--quick storm"` runs one (see bench/README.md).
bench: $(STAMP)
	$(VENV)/bin/python -m bench $(BENCH)

clean:
	rm -rf .data .pytest_cache .ruff_cache
