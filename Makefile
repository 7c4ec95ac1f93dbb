# The two commands of the README: `make demo` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup test demo bench lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ttxt-kafka needs Python 3.11+ (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

test: setup
	$(PY) -m pytest -q

demo: setup
	$(VENV)/bin/ttxt demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy ttxt_kafka connectors recorder replayer strategies simulator

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
