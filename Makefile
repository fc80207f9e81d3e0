# bordermark: `make run` serves the demo, `make test` passes the tests.
# Both bootstrap what they need: a virtualenv in .venv/, PostGIS from Debian packages
# (as root), and (unless DATABASE_URL is set) a private PostgreSQL cluster under .data/.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck bootstrap postgis clean-data help

help:
	@echo "make run    bootstrap (venv, PostGIS, database, migrations, demo data, tokens) and serve"
	@echo "make test   bootstrap, then pytest against a throwaway PostGIS, ruff and mypy --strict"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

postgis: $(STAMP)
	$(BIN)/python -c "from app.embedded_pg import ensure_postgis_installed as e; e()"

bootstrap: postgis
	$(BIN)/bordermark bootstrap

run: bootstrap
	$(BIN)/bordermark serve

lint: $(STAMP)
	$(BIN)/ruff check app seed tests migrations bench
	$(BIN)/ruff format --check app seed tests migrations bench

typecheck: $(STAMP)
	$(BIN)/mypy app seed

test: postgis lint typecheck
	$(BIN)/pytest

clean-data:
	-$(BIN)/bordermark cluster stop
	rm -rf .data
