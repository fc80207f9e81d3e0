# bordermark: `make run` serves the demo, `make test` passes the tests.
# Both bootstrap what they need: a virtualenv in .venv/, PostGIS from Debian packages
# (as root), and (unless DATABASE_URL is set) a private PostgreSQL cluster under .data/.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-cluster lint typecheck bootstrap postgis test-tools web fuzz soak bench clean-data help

help:
	@echo "make run    bootstrap (venv, PostGIS, database, migrations, demo data, tokens) and serve"
	@echo "make test   bootstrap, then pytest against a throwaway PostGIS, ruff and mypy --strict"
	@echo "make test-cluster  the scale-out suite alone (PgBouncer, two instances)"
	@echo "make fuzz   schemathesis with many examples per operation (EXAMPLES=100)"
	@echo "make soak   the fault suite ten times larger"
	@echo "make bench  benchmarks vs tipg and SQL floors (ARGS=--quick for a short run)"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

postgis: $(STAMP)
	$(BIN)/python -c "from app.embedded_pg import ensure_postgis_installed as e; e()"

# The browser libraries the service serves, MapLibre (/map) and Swagger UI (/docs), from
# the npm registry (pinned by web/package-lock.json), copied into the package
# (app/web/vendor) so that the wheel and the image carry them. Nothing comes from a CDN.
WEB_STAMP := app/web/vendor/.installed-stamp
$(WEB_STAMP): web/package.json web/package-lock.json tools/vendor-web
	@command -v npm >/dev/null 2>&1 || tools/apt-install nodejs npm
	cd web && npm ci --no-audit --no-fund --loglevel=error
	tools/vendor-web
	touch $(WEB_STAMP)
web: $(WEB_STAMP)

# GDAL's command-line tools (the tests read the OGC API with ogrinfo and ogr2ogr, as
# QGIS-class clients do), Debian's Chromium (the map page is tested in it; Playwright never
# downloads a browser), QGIS 3.22's Python bindings (the tests add every layer in PyQGIS)
# and PgBouncer (the scale-out suite pools through it).
test-tools:
	@command -v chromium >/dev/null 2>&1 || tools/apt-install chromium
	@command -v ogrinfo >/dev/null 2>&1 || tools/apt-install gdal-bin
	@/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || tools/apt-install python3-qgis qgis-providers
	@test -x /usr/sbin/pgbouncer || tools/apt-install pgbouncer

bootstrap: postgis
	$(BIN)/bordermark bootstrap

# The browser libraries first, then the database and the banner (which checks the port),
# then the service: nothing is announced before it is true.
run: postgis web
	$(BIN)/bordermark bootstrap
	$(BIN)/bordermark serve

lint: $(STAMP)
	$(BIN)/ruff check app seed tests bench
	$(BIN)/ruff format --check app seed tests bench

typecheck: $(STAMP)
	$(BIN)/mypy app seed bench

test: postgis web test-tools lint typecheck
	$(BIN)/pytest

# The scale-out suite alone (make test runs it too): PgBouncer, several instances.
test-cluster: postgis test-tools
	$(BIN)/pytest tests/cluster -v

# Longer runs of the fault and fuzz suites (make test runs them bounded).
fuzz: postgis web test-tools
	BORDERMARK_FUZZ_EXAMPLES=$${EXAMPLES:-100} $(BIN)/pytest tests/faults/test_fuzz.py -v

soak: postgis web test-tools
	BORDERMARK_SOAK=1 $(BIN)/pytest tests/faults -v -s

# Side by side with tipg and the SQL floors (not tests): writes bench/results/<date>.md/.json.
# ARGS=--quick for a 20,000-incident run of a few minutes.
bench: postgis test-tools
	@command -v wrk >/dev/null 2>&1 || tools/apt-install wrk || \
	  echo "wrk drives the cached-tile scenario; without it, httpx does"
	$(BIN)/python bench/run.py $(ARGS)

clean-data:
	-$(BIN)/bordermark cluster stop
	rm -rf .data
