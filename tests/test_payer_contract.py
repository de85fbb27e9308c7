"""One contract over every registered payer: the built-ins, installed plugins, and the example
package (from its source folder when it is not installed).

Like python-stdnum's robustness test that feeds junk to every number scheme, this feeds edge and
random claims to every payer and checks what sheetbill relies on: an answer is an
``Adjudication`` whose amounts are non-negative ``Decimal`` values rounded to the currency's minor
unit and add up to the charge; the same claim gets the same answer; the other hooks answer with
the types their specs promise. A payer may refuse a claim by raising (the charge is then held
with a Problem), but it must answer a plain covered claim with an allowed amount.
"""

from __future__ import annotations

import importlib.util
import random
from decimal import Decimal
from pathlib import Path

import pytest

from sheetbill.plugins.manager import PluginError, Plugins, get_plugin_manager
from sheetbill.plugins.types import BilledCode
from sheetbill.testing import make_claim, make_plugins, output_rows, run_tables

D = Decimal
EXAMPLE_SOURCE = Path(__file__).resolve().parents[1] / "examples" / "sheetbill-payer-example" / "src"


def _example_from_source():
    """The example plugin module loaded from its source folder (not installed)."""
    path = EXAMPLE_SOURCE / "sheetbill_payer_example" / "__init__.py"
    spec = importlib.util.spec_from_file_location("sheetbill_payer_example_source", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _registered() -> list[tuple[str, str]]:
    """(payer plugin name, origin) of every payer: ``builtin``, ``installed`` or ``source``."""
    plugins = Plugins(get_plugin_manager())
    builtin = {info.name for info in plugins.describe() if info.builtin}
    found = [(name, "builtin" if plugins.plugin_label(name) in builtin else "installed")
             for name in plugins.payer_plugin_names()]
    if "flat_copay_clinic" not in plugins.payer_plugin_names():
        found.append(("flat_copay_clinic", "source"))
    return found


PAYERS = _registered()


@pytest.fixture(params=PAYERS, ids=[f"{name}-{origin}" for name, origin in PAYERS])
def payer(request) -> tuple[str, Plugins]:
    """A payer plugin name and a facade that has it."""
    name, origin = request.param
    plugins = make_plugins(_example_from_source()) if origin == "source" else Plugins(get_plugin_manager())
    return name, plugins


#: Edge claims: (price, make_claim keyword arguments).
EDGE_CLAIMS: list[tuple[str, dict]] = [
    ("0.00", {}),
    ("0.00", {"allowed_amount": "0.00", "copay": "10.00"}),
    ("10.01", {"quantity": "0.333"}),
    ("80.00", {"quantity": "2.5", "allowed_amount": "33.33", "covered_percent": "62.5"}),
    ("0.01", {"quantity": "0.5", "covered_percent": 50}),
    ("200.00", {"covered": False, "allowed_amount": "120.00"}),
    ("200.00", {"allowed_amount": "999.00"}),
    ("200.00", {"allowed_amount": "25.00", "copay": "30.00"}),
    ("200.00", {"coverage_copay": "500.00"}),
    ("200.00", {"annual_deductible": "5000.00", "deductible_used": "6000.00", "covered_percent": 0}),
    ("200.00", {"out_of_pocket_max": "100.00", "out_of_pocket_used": "400.00", "covered_percent": 10}),
    ("200.00", {"annual_budget": "100.00", "payer_paid": "150.00"}),
    ("200.00", {"allowed": "150.00", "patient_responsibility": "40.00", "covered_percent": 80}),
    ("200.00", {"allowed": "150.00", "patient_responsibility": "0.00", "allowed_amount": "120.00"}),
    ("200.00", {"allowed": "0.00", "patient_responsibility": "0.00"}),
    ("1500.00", {"prior_authorization": True, "authorization_no": "PA-1", "allowed_amount": "800.00"}),
    ("99999999.99", {"quantity": 1000, "allowed_amount": "12345678.91", "annual_deductible": "1000.00"}),
    ("1234", {"currency": "JPY", "allowed_amount": "999", "covered_percent": 70}),
    ("1.2345", {"currency": "BHD", "quantity": 3, "allowed_amount": "0.999", "covered_percent": "33.3"}),
    ("200.00", {"settings": {"Employer Budget": "50", "Clinic Copay": "7.5"}}),
    # the fields added with the rule books (copay then coinsurance, GOÄ columns, secondary method)
    ("200.00", {"coverage_copay": "20.00", "copay_then_coinsurance": True, "covered_percent": 80,
                "annual_deductible": "50.00"}),
    ("200.00", {"coverage_copay": "20.00", "copay_then_coinsurance": True, "copay_counts_to_deductible": True,
                "annual_deductible": "50.00", "deductible_used": "40.00", "covered_percent": 80}),
    ("15.00", {"coverage_copay": "20.00", "copay_then_coinsurance": True, "copay_counts_to_deductible": True,
               "annual_deductible": "50.00", "out_of_pocket_max": "10.00"}),
    ("20.11", {"payer_code": "3", "points": 150, "factor": "3.0", "justification": "lengthy consultation"}),
    ("200.00", {"secondary_method": "medicare-secondary", "balance_billing": True, "allowed_amount": "120.00"}),
]


def _answer(plugins: Plugins, name: str, claim):
    """The checked answer, or ``None`` when the payer refused the claim by raising.

    An answer the facade rejects (wrong type, negative, not adding up, ...) fails the test.
    """
    try:
        return plugins.adjudicate(name, claim)
    except PluginError as err:
        if err.__cause__ is None:  # the plugin answered, and the answer is nonsense
            pytest.fail(f"{name}: {err}")
        return None


@pytest.mark.parametrize(("price", "kwargs"), EDGE_CLAIMS, ids=[str(i) for i in range(len(EDGE_CLAIMS))])
def test_edge_claims_get_valid_answers(payer, price, kwargs):
    name, plugins = payer
    claim = make_claim(price, plugin=name, **kwargs)
    result = _answer(plugins, name, claim)
    if result is not None:
        assert result.payer_share + result.customer_share + result.adjustment == claim.charge_amount
        assert _answer(plugins, name, claim) == result  # deterministic


#: Payers whose rule book bills the patient, never the payer (GOÄ: private patients pay and are reimbursed).
PATIENT_BILLED = {"goae"}


def test_a_plain_covered_claim_is_answered(payer):
    name, plugins = payer
    claim = make_claim("200.00", plugin=name, allowed_amount="150.00", payer_code="X1", covered_percent=80,
                       points=100)
    result = _answer(plugins, name, claim)
    assert result is not None, f"{name} refused a plain covered claim"
    assert result.payer_share > 0 or (name in PATIENT_BILLED and result.customer_share == claim.charge_amount)


def test_random_claims_keep_the_invariants(payer):
    name, plugins = payer
    rng = random.Random(f"sheetbill-contract-{name}")

    def amount(top: int) -> str:
        return f"{rng.randint(0, top * 100) / 100:.2f}"

    for _ in range(300):
        price = amount(3000)
        kwargs = {
            "copay_then_coinsurance": rng.choice([None, True, False]),
            "copay_counts_to_deductible": rng.choice([None, True, False]),
            "factor": rng.choice([None, "1.0", "2.3", "3.5"]),
            "justification": rng.choice([None, "time-consuming"]),
            "quantity": rng.choice(["1", "2", "0.5", "0.333", "1.25", "7"]),
            "allowed_amount": rng.choice([None, amount(2000)]),
            "copay": rng.choice([None, None, amount(50)]),
            "covered": rng.choice([None, None, True, False]),
            "covered_percent": rng.choice([None, 0, 50, 80, "62.5", 100]),
            "annual_deductible": rng.choice([None, amount(2000)]),
            "deductible_used": amount(1500),
            "out_of_pocket_max": rng.choice([None, amount(3000)]),
            "out_of_pocket_used": amount(3000),
            "annual_budget": rng.choice([None, amount(1000)]),
            "payer_paid": amount(1000),
        }
        if rng.random() < 0.3:  # a secondary claim
            charge = make_claim(price, quantity=kwargs["quantity"]).charge_amount
            allowed = D(rng.randint(0, int(charge * 100))) / 100
            kwargs["allowed"] = allowed
            kwargs["patient_responsibility"] = D(rng.randint(0, int(allowed * 100))) / 100
        claim = make_claim(price, plugin=name, **kwargs)
        _answer(plugins, name, claim)


def test_other_hooks_answer_with_the_promised_types(payer):
    name, plugins = payer
    for kwargs in ({}, {"payer_code": "X1"}, {"code_system": "CPT"}, {"covered": False, "prior_authorization": True},
                   {"prior_authorization": True}):
        claim = make_claim("1500.00", plugin=name, **kwargs)
        arguments = {"payer": claim.payer, "service": claim.service, "payer_code": claim.payer_code}
        billed = plugins.map_code(name, **arguments)
        assert billed is None or (isinstance(billed, BilledCode) and billed.code)
        if claim.payer_code is not None and claim.payer_code.payer_code:
            assert billed is not None and billed.code == "X1"
        assert isinstance(plugins.needs_authorization(name, **arguments), bool)
        fields = plugins.invoice_fields(name, payer=claim.payer, customer_id="K1", member_id=claim.coverage.member_id)
        assert isinstance(fields, dict)


@pytest.mark.parametrize(("method", "balance"), [(None, None), ("non-duplication", False),
                                               ("medicare-secondary", True)])
def test_a_billing_run_with_the_payer_as_primary_and_as_secondary_foots(payer, method, balance):
    name, plugins = payer
    result = run_tables(
        plugins=plugins,
        customers=[{"Customer ID": "K1", "Name": "Ann"}, {"Customer ID": "K2", "Name": "Bob"}],
        payers=[{"Payer ID": "P", "Name": "Payer Under Test", "Plugin": name, "Secondary Method": method,
                 "Balance Billing": balance},
                {"Payer ID": "INS", "Name": "Acme Health", "Balance Billing": balance}],
        coverage=[{"Customer ID": "K1", "Payer ID": "P", "Covered Percent": 80, "Annual Deductible": "100.00"},
                  {"Customer ID": "K2", "Payer ID": "INS", "Priority": 1, "Covered Percent": 70},
                  {"Customer ID": "K2", "Payer ID": "P", "Priority": 2, "Copay": "5.00"}],
        services=[{"Service Code": "OV", "Description": "Office visit", "Price": "200.00"},
                  {"Service Code": "PT", "Description": "Physiotherapy", "Price": "33.33"}],
        payer_codes=[{"Payer ID": "P", "Service Code": "OV", "Allowed Amount": "120.00", "Points": 150},
                     {"Payer ID": "P", "Service Code": "PT", "Allowed Amount": "30.00", "Points": 40},
                     {"Payer ID": "INS", "Service Code": "OV", "Allowed Amount": "150.00"}],
        charges=[{"Charge ID": f"C{n}", "Date": f"2026-03-{n:02d}", "Customer ID": customer, "Service Code": code,
                  "Quantity": quantity}
                 for n, (customer, code, quantity) in enumerate(
                     [("K1", "OV", 1), ("K1", "PT", "1.5"), ("K2", "OV", 1), ("K2", "PT", 3)], start=1)],
    )
    assert [p for p in result.problems if p.severity == "error"] == []
    charged: dict[str, Decimal] = {}
    for line in output_rows(result, "Invoice Lines"):
        assert line["Amount"] >= 0 and line["Adjustment"] >= 0
        charged[line["Charge ID"]] = charged.get(line["Charge ID"], D(0)) + line["Amount"] + line["Adjustment"]
        assert charged[line["Charge ID"]] <= line["Charge Amount"]
    amounts = {line["Charge ID"]: line["Charge Amount"] for line in output_rows(result, "Invoice Lines")}
    assert charged == amounts and set(charged) == {"C1", "C2", "C3", "C4"}
