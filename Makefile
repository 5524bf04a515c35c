# Two commands do all the set-up: `make demo` runs the product, `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
DEMO_ADDR ?= 127.0.0.1:8000
DEMO_CUSTOMERS ?= 3000

.PHONY: demo test lint format messages install clean

$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

demo: install
	DJANGO_SETTINGS_MODULE=jobcenter.settings.demo $(PY) manage.py demo --addr $(DEMO_ADDR) --customers $(DEMO_CUSTOMERS)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# After changing user-facing strings: extract them, translate the new German entries in
# locale/de/LC_MESSAGES/django.po, then run `make messages` again to compile.
messages: install
	$(PY) manage.py makemessages -l de -l en --ignore=.venv --ignore=node_modules --ignore=tests --ignore=var --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3 var
