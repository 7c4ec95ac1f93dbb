# The two commands of the README: `make demo` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup test demo bench bench-env lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ttxt-kafka needs Python 3.11+ (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,charts]'
	@touch $(STAMP)

setup: $(STAMP)

test: setup
	$(PY) -m pytest -q

demo: setup
	$(VENV)/bin/ttxt demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy ttxt_kafka

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Benchmarks: the peers (seed ttxt2, cryptofeed) live in their own venv, never in .venv.
BENCH_VENV  := .bench-venv
BENCH_PY    := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.installed

# One pip call for peers and project, so the resolver picks versions both accept.
$(BENCH_STAMP): benchmarks/requirements-peers.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ttxt-kafka needs Python 3.11+ (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet --upgrade pip
	$(BENCH_PY) -m pip install --quiet -r benchmarks/requirements-peers.txt -e '.[parquet]'
	@touch $(BENCH_STAMP)

bench-env: $(BENCH_STAMP)

bench: bench-env
	$(BENCH_PY) benchmarks/run_all.py
