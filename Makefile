# Two commands a newcomer needs: `make run` (the Xen report) and `make test` (the suite).
# Each creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
REPO   ?= https://github.com/xen-project/xen.git
ARGS   ?=
export XEN_REPO

MUTATE ?= 628c2a958eb5,6009f4ddb2cd,33dcdc8ae0b3,696ee5ca9f4e

.PHONY: run run-mutation demo test bench clean

$(BIN)/archeo: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/archeo
	$(BIN)/archeo run --repo $(REPO) $(ARGS)

# No clone, no network: the whole pipeline on a small history of our own (reports/demo-rbtree/).
demo: $(BIN)/archeo
	$(BIN)/archeo demo $(ARGS)

# The same report plus mutation analysis of four revisions across the eras (a few minutes).
run-mutation: $(BIN)/archeo
	$(BIN)/archeo run --repo $(REPO) --mutate $(MUTATE) $(ARGS)

test: $(BIN)/archeo
	$(BIN)/python -m pytest

bench: $(BIN)/archeo
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
