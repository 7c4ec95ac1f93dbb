# The two commands of the README: `make demo` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The C readers hatch_build.py compiles at install: a change to one re-installs.
NATIVE := hatch_build.py $(wildcard connectors/*/_*.c ttxt_kafka/archive/_*.c recorder/_*.c)

.PHONY: setup test demo bench bench-env lint clean

$(STAMP): pyproject.toml $(NATIVE)
	@echo "==> setup 1/3: checking Python (3.11+ needed)"
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ttxt-kafka needs Python 3.11+ (found %s)" % sys.version.split()[0])'
	@echo "==> setup 2/3: creating the environment $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@echo "==> setup 3/3: installing ttxt-kafka and its dependencies into $(VENV) (a minute or two the first time)"
	$(PY) -m pip install --progress-bar on -e '.[test,charts]'
	@touch $(STAMP)
	@echo "==> setup done: $(VENV)/bin/ttxt (or 'source $(VENV)/bin/activate' to type ttxt)"

setup: $(STAMP)

test: setup
	$(PY) -m pytest -q

demo: setup
	@echo "==> the demo: a local Kafka broker (its first start fetches ~45 MB of jars with Maven), then a minute of the pipeline"
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
$(BENCH_STAMP): benchmarks/requirements-peers.txt pyproject.toml $(NATIVE)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ttxt-kafka needs Python 3.11+ (found %s)" % sys.version.split()[0])'
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet --upgrade pip
	$(BENCH_PY) -m pip install --quiet -r benchmarks/requirements-peers.txt -e '.[parquet]'
	@touch $(BENCH_STAMP)

bench-env: $(BENCH_STAMP)

bench: bench-env
	$(BENCH_PY) benchmarks/run_all.py
