# Two commands on a fresh machine: `make run` and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m infra.local

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q -n 2

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) -m bench.all

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
