# WasteEx — two commands do everything: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wasteex
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install translations catalogs vendor clean

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

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-extract messages after changing visible strings, then translate the .po files.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o wasteex/translations/messages.pot .
	$(BIN)/pybabel update -i wasteex/translations/messages.pot -d wasteex/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance/*.sqlite
