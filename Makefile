# Two commands matter: `make run` (the dashboard on the embedded default) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/recsite
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test lint typecheck pytest services chromium messages bench clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.run-installed

## run: set up and start the dashboard at http://127.0.0.1:8000 with a local Celery worker
run: export DEBUG ?= true
run: $(VENV)/.run-installed
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py bootstrap_demo
	@echo "Starting the Celery worker and the web server (Ctrl-C stops both)…"
	@exec $(PY) scripts/run_dev.py

## test: set up and run ruff, mypy, lint-imports and the whole pytest suite on PostgreSQL and Redis
test: $(VENV)/.dev-installed chromium
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(PY) scripts/check_services.py
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy mlcore dashboard recsite
	$(VENV)/bin/lint-imports
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) VAR_DIR=$(CURDIR)/var/test \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

chromium:
	@command -v chromium >/dev/null || { echo "Installing Debian's chromium for the browser tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## messages: refresh the translation catalogues after changing UI strings
messages: $(VENV)/.dev-installed
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf var $(VENV)
