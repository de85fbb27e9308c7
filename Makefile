# The two commands of the README:  make demo  and  make test.
# Both create .venv from the pinned lock file on first use; nothing else needs to be installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench workbooks clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

## Bill copies of the demo workbooks in demo-output/ (the committed workbooks stay untouched).
demo: $(STAMP)
	mkdir -p demo-output
	cp workbooks/demo-medical.xlsx workbooks/demo-utility.xlsx demo-output/
	$(BIN)/sheetbill bill demo-output/demo-medical.xlsx --as-of 2026-06-30; test $$? -le 1
	$(BIN)/sheetbill bill demo-output/demo-utility.xlsx --as-of 2026-06-30; test $$? -le 1

## The whole test suite.
test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

## Rebuild the template and demo workbooks from workbooks/build.py.
workbooks: $(STAMP)
	$(BIN)/python workbooks/build.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) demo-output
