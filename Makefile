# Labeler. Two targets:
#   make run    install into .venv if needed, then start everything (web, worker, embedded Redis, demo data)
#   make test   install into .venv if needed, then run the suite against PostgreSQL and Redis on loopback
#
# make test takes DATABASE_URL and REDIS_URL from the environment or the command line, for example
#   make test DATABASE_URL=sqlite:///var/labeler.sqlite3          (SQLite; with no REDIS_URL set in the
#   make test DATABASE_URL=sqlite:///var/labeler.sqlite3 REDIS_URL=   environment the suite starts its own Redis)
#   make test PYTEST_ARGS='-m "not worker and not browser"'       (the quick set)
# make passes pytest's failure on as "Error N" with pytest's own exit status N (5: no tests ran).

PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test

run: $(INSTALLED)
	$(VENV)/bin/python -m labeler.launcher all

test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/labeler
test: export REDIS_URL ?= redis://127.0.0.1:6379/15
test: $(INSTALLED)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(INSTALLED): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install -e '.[test,vision]' --config-settings editable_mode=compat
	touch $@
