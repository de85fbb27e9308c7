"""Meta-tests that keep docs/plugins.md and the tests honest about the plugin contract.

As in datasette's ``tests/test_docs.py`` and ``tests/test_plugins.py``: every hook in
``sheetbill/plugins/hookspecs.py`` is documented (the hook reference in docs/plugins.md is the
rendered docstrings, up to date) and has a test named after it.
"""

from __future__ import annotations

import re
import sys
import types
from decimal import Decimal
from pathlib import Path

import pytest

import sheetbill.testing
from sheetbill.plugins.reference import END, START, hook_names, render_hook_reference
from sheetbill.testing import make_plugins, output_rows, run_tables

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
TESTS = (ROOT / "tests" / "test_plugins.py").read_text(encoding="utf-8")


def test_hooks_exist():
    assert hook_names() == ["sheetbill_payer_names", "sheetbill_map_code", "sheetbill_needs_authorization",
                            "sheetbill_charge_amount", "sheetbill_adjudicate", "sheetbill_invoice_fields"]


def test_hook_reference_is_rendered_from_the_hookspecs():
    start, end = DOC.index(START), DOC.index(END) + len(END)
    assert DOC[start:end] == render_hook_reference(), (
        "docs/plugins.md is out of date: run python -m sheetbill.plugins.reference docs/plugins.md")


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_documented_with_its_signature(hook):
    assert re.search(rf"^### `{hook}\(", DOC, flags=re.M), f"{hook} has no section in docs/plugins.md"


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_test(hook):
    assert re.search(rf"^def test_{hook}\w*\(", TESTS, flags=re.M), f"tests/test_plugins.py has no test_{hook}*"


def test_builtin_payers_and_test_helpers_are_documented():
    for name in make_plugins().payer_plugin_names():
        assert f"## The `{name}` payer" in DOC
    for helper in [*sheetbill.testing.__all__, "sheetbill_plugins"]:
        if helper != "raw_sheet":
            assert f"`{helper}" in DOC, helper


def test_worked_example_totals_are_in_the_doc():
    for text in ("| **Total** | 1,700.00 | 920.00 | **780.00** | **590.00** | **330.00** |",
                 "deductible 500.00 + 20 % of 300.00 = 560.00", "120.00 - 30.00 = 90.00"):
        assert text in DOC


def _code_block_after(marker: str) -> str:
    tail = DOC[DOC.index(marker):]
    return re.search(r"```python\n(.*?)```", tail, flags=re.S)[1]


def test_the_example_plugin_in_the_doc_works():
    module = types.ModuleType("seventy_from_docs")
    exec(compile(_code_block_after("<!-- example plugin -->"), "docs/plugins.md", "exec"), module.__dict__)
    result = run_tables(
        plugins=[module],
        customers=[{"Customer ID": "K1", "Name": "Ann"}],
        payers=[{"Payer ID": "S70", "Name": "Seventy Mutual", "Plugin": "seventy"}],
        coverage=[{"Customer ID": "K1", "Payer ID": "S70"}],
        services=[{"Service Code": "OV", "Description": "Office visit", "Price": "200.00"}],
        charges=[{"Charge ID": "C1", "Date": "2026-03-02", "Customer ID": "K1", "Service Code": "OV"}],
    )
    lines = sorted((row["Billed Code"], row["Amount"]) for row in output_rows(result, "Invoice Lines"))
    assert lines == [("OV", Decimal("60.00")), ("S-OV", Decimal("140.00"))]


def test_the_testing_example_in_the_doc_passes(monkeypatch):
    module = types.ModuleType("my_payer")
    exec(compile(_code_block_after("<!-- example plugin -->"), "docs/plugins.md", "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "my_payer", module)
    namespace: dict = {}
    exec(compile(_code_block_after("## Testing a payer plugin"), "docs/plugins.md", "exec"), namespace)
    namespace["test_pays_seventy_percent"]()
    namespace["test_in_a_billing_run"](make_plugins)
