# salesops — quarterly sales-ops reviews from CRM exports.
#
#   make review   build .venv from the pinned lock (first time), run the review of the sample data
#   make test     lint and run every test
#   make lab      JupyterLab on notebooks/
#   make lock     regenerate requirements.lock from a fresh environment
#   make clean    remove outputs and caches (make distclean also removes .venv)
#
# Needs only Python >= 3.11 and GNU make. Override PYTHON=python3.12, DATA=..., QUARTER=2025Q3, OUT=...

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.salesops-installed
PIP := $(BIN)/python -m pip --disable-pip-version-check

# BLAS threads: the analyses fit many small models; on 2 shared cores OpenBLAS threading slows them ~15x.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

DATA ?= data/sample
QUARTER ?= latest
OUT ?= review
JOBS ?=

# Held back when the lock is regenerated (see README "Development"):
#   pandas<3      pandera and our coercion rules are tested on pandas 2.3; pandas 3 changes the string dtype
#   sqlglot<30.20 ibis-framework 12.0.0 generates broken DuckDB SQL with sqlglot 30.20 and newer
#   pyspark<4.1   the engine's Spark path (ibis-framework 12.0.0's PySpark backend) is tested here on 4.0
HOLD_BACK := 'pandas<3' 'sqlglot<30.20' 'pyspark<4.1'

.DEFAULT_GOAL := help
.PHONY: help venv review test lint lab lock clean distclean

help:
	@sed -n '3,9p' Makefile | sed 's/^# \{0,1\}//'

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "salesops needs Python >= 3.11; run make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PIP) install -q -r requirements.lock
	$(PIP) install -q --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (salesops)" >/dev/null
	@touch $@

venv: $(STAMP)

review: $(STAMP)
	@status=0; \
	$(BIN)/salesops review --data "$(DATA)" --quarter "$(QUARTER)" --out "$(OUT)/" $(if $(JOBS),--jobs $(JOBS)) || status=$$?; \
	echo "$(abspath $(OUT))/index.html"; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check salesops tests $(wildcard bench)

test: lint
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

# A fresh environment in a temporary folder, the project's dependencies (with the dev extra) at their
# newest versions within pyproject's bounds and HOLD_BACK, frozen into requirements.lock.
lock:
	@set -euo pipefail; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip; \
	printf '%s\n' $(HOLD_BACK) > "$$tmp/constraints.txt"; \
	"$$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check -c "$$tmp/constraints.txt" -e ".[dev]"; \
	{ echo "# Pinned environment for salesops; the Makefile installs exactly this (pip install -r requirements.lock)."; \
	  echo "# Regenerate with: make lock.  Held back: $(subst ',,$(HOLD_BACK)) (reasons in the Makefile and README)."; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check; } > "$$tmp/requirements.lock"; \
	mv "$$tmp/requirements.lock" requirements.lock; \
	echo "requirements.lock regenerated ($$(grep -vc '^#' requirements.lock) packages); run make test"

clean:
	rm -rf review build .pytest_cache .ruff_cache *.egg-info
	find . -path ./$(VENV) -prune -o -type d \( -name __pycache__ -o -name .ipynb_checkpoints \) -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV)
