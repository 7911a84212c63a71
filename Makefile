# The two commands a fresh machine needs: `make demo` and `make test`. Each creates .venv and
# installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean kannel

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP)
	@scripts/ensure_chromium.sh
	$(BIN)/python -m pytest

# A real Kannel (bearerbox + smsbox, deploy/kannel/) with fakesmsc as the operator, for developing the
# Kannel route; prints the settings to start koronto with. Needs the Debian packages kannel, kannel-extras.
kannel: $(STAMP)
	$(BIN)/python -m fakes.kannel_box

# The same checks as .pre-commit-config.yaml; CI runs this before the tests.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf var $(VENV)
