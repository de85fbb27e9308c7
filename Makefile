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

## Bill copies of the demo workbooks in demo-output/ and render their documents and June's statements of
## account (PDFs beside each workbook); then the utility collects June by SEPA direct debit and imports
## July's bank statement (collections confirmed, one debit returned, transfers matched). The committed
## workbooks stay untouched. Each command's exit code is checked exactly: bill exits 1 because each demo
## has deliberate problem rows; the other commands exit 0.
demo: $(STAMP)
	rm -rf demo-output && mkdir -p demo-output
	cp workbooks/demo-medical.xlsx workbooks/demo-utility.xlsx demo-output/
	@echo "The demo workbooks contain deliberate mistakes, so the 'error:' and 'warning:' lines below are expected."
	for book in demo-output/demo-medical.xlsx demo-output/demo-utility.xlsx; do \
	  $(BIN)/sheetbill bill $$book --as-of 2026-06-30; test $$? -eq 1 || exit 1; \
	  $(BIN)/sheetbill documents $$book --as-of 2026-06-30; test $$? -eq 0 || exit 1; \
	  $(BIN)/sheetbill statements $$book --as-of 2026-06-30; test $$? -eq 0 || exit 1; \
	done
	$(BIN)/sheetbill debit demo-output/demo-utility.xlsx --as-of 2026-06-30; test $$? -eq 0 || exit 1
	$(BIN)/sheetbill import-bank demo-output/demo-utility.xlsx workbooks/demo-utility-statement.xml --as-of 2026-07-20; test $$? -eq 0 || exit 1
	$(BIN)/sheetbill overdue demo-output/demo-utility.xlsx --as-of 2026-07-20; test $$? -eq 1 || exit 1

## The whole test suite, on every core of the machine (pytest-xdist).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

lint: $(STAMP)
	$(BIN)/ruff check .

## Rebuild the template, the demo workbooks and the .xlsm with buttons from their scripts.
workbooks: $(STAMP)
	$(BIN)/python workbooks/build.py
	$(BIN)/python workbooks/build_xlsm.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) demo-output
