"""The built-in payers and the adjudication rules, through whole billing runs on tiny tables.

Every amount here is computed by hand in the comment beside it. The tables are the smallest that
show a rule: one customer, one insurer, a few services.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from sheetbill.payers import employer, fee_schedule, standard
from sheetbill.testing import assert_valid_adjudication, make_claim, output_rows, run_tables

D = Decimal

CUSTOMERS = [{"Customer ID": "K1", "Name": "Ann Example"}, {"Customer ID": "K2", "Name": "Bob Example"}]
PAYERS = [{"Payer ID": "INS", "Name": "Acme Health", "Type": "insurer", "Payment Terms Days": 45}]
SERVICES = [
    {"Service Code": "OV", "Description": "Office visit", "Price": "200.00"},
    {"Service Code": "MRI", "Description": "MRI", "Price": "1500.00"},
    {"Service Code": "LAB", "Description": "Lab panel", "Price": "500.00"},
    {"Service Code": "XR", "Description": "X-ray", "Price": "300.00"},
    {"Service Code": "PT", "Description": "Physiotherapy", "Price": "80.00"},
]
#: The insurer of the worked example: 80 % after a 1,000.00 deductible.
COVERAGE_80 = {"Customer ID": "K1", "Payer ID": "INS", "Member ID": "A-100", "Priority": 1,
               "Covered Percent": 80, "Annual Deductible": "1000.00"}
PAYER_CODES = [
    {"Payer ID": "INS", "Service Code": "OV", "Payer Code": "99213", "Allowed Amount": "120.00", "Copay": "30.00"},
    {"Payer ID": "INS", "Service Code": "MRI", "Payer Code": "70551", "Allowed Amount": "800.00"},
    {"Payer ID": "INS", "Service Code": "LAB", "Payer Code": "80053", "Allowed Amount": "500.00"},
]


def charge(charge_id: str, date: str, service: str, customer: str = "K1", **more: object) -> dict:
    """A Charges row."""
    return {"Charge ID": charge_id, "Date": date, "Customer ID": customer, "Service Code": service, **more}


def run(charges, *, coverage=(COVERAGE_80,), payer_codes=PAYER_CODES, payers=PAYERS, **more):
    """A billing run over the standard tables with the given charges."""
    more.setdefault("as_of", "2026-06-30")
    return run_tables(customers=CUSTOMERS, payers=list(payers), coverage=list(coverage), services=SERVICES,
                      payer_codes=list(payer_codes), charges=list(charges), **more)


def billed(result) -> dict[tuple[str, str], dict]:
    """Invoice lines issued by ``result``, by (Charge ID, Bill To ID), with the invoice's Bill To Type."""
    invoices = {row["Invoice No"]: row for row in output_rows(result, "Invoices")}
    new = {invoice.invoice_no for invoice in result.new_invoices}
    lines = {}
    for line in output_rows(result, "Invoice Lines"):
        if line["Invoice No"] in new:
            invoice = invoices[line["Invoice No"]]
            lines[(line["Charge ID"], invoice["Bill To ID"])] = {**line, "Bill To Type": invoice["Bill To Type"]}
    return lines


def amounts(result) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(Amount, Adjustment) of every new line, by (Charge ID, Bill To ID)."""
    return {key: (line["Amount"], line["Adjustment"]) for key, line in billed(result).items()}


def advice(result, customer: str = "K1") -> list[str]:
    return [row["Advice"] for row in output_rows(result, "Advice") if row["Customer ID"] == customer]


def errors(result) -> list[str]:
    return [p.message for p in result.problems if p.severity == "error"]


# --- the worked example -------------------------------------------------------------------------


def test_worked_example_reproduced_exactly():
    """Office visit 200.00 allowed 120.00 copay 30.00; MRI 1,500.00 allowed 800.00 with 500.00 of the
    1,000.00 deductible used (by a lab panel billed in an earlier run) and Covered Percent 80."""
    first = run([charge("C0", "2026-01-12", "LAB")], as_of="2026-01-31")
    # Lab panel allowed 500.00, all of it deductible: the customer pays 500.00, the insurer nothing.
    assert amounts(first) == {("C0", "K1"): (D("500.00"), D("0"))}

    second = run([charge("C0", "2026-01-12", "LAB"), charge("C1", "2026-03-02", "OV"),
                  charge("C2", "2026-03-02", "MRI")], as_of="2026-03-31", previous=first)
    assert errors(second) == []
    lines = billed(second)
    assert amounts(second) == {
        ("C1", "INS"): (D("90.00"), D("80.00")),    # 120.00 allowed - 30.00 copay; 200.00 - 120.00 written off
        ("C1", "K1"): (D("30.00"), D("0")),         # the copay
        ("C2", "INS"): (D("240.00"), D("700.00")),  # 80 % of (800.00 - 500.00); 1,500.00 - 800.00 written off
        ("C2", "K1"): (D("560.00"), D("0")),        # 500.00 deductible + 20 % of 300.00
    }
    invoices = {inv.bill_to_type: inv for inv in second.new_invoices}
    assert invoices["Payer"].amount == D("330.00")
    assert invoices["Customer"].amount == D("590.00")
    assert sum(line["Adjustment"] for line in lines.values()) == D("780.00")
    # Billed codes: the payer's code system on the insurer's lines, the service code on the customer's.
    assert (lines[("C1", "INS")]["Billed Code"], lines[("C2", "INS")]["Billed Code"]) == ("99213", "70551")
    assert (lines[("C1", "K1")]["Billed Code"], lines[("C2", "K1")]["Billed Code"]) == ("OV", "MRI")
    # The reason of each share.
    assert lines[("C1", "K1")]["Reason"] == "copay"
    assert lines[("C2", "K1")]["Reason"] == "deductible + coinsurance"
    assert lines[("C1", "INS")]["Reason"] == "primary (copay)"
    # The insurer's invoice follows the insurer's terms (45 days), the customer's the Settings default (30).
    assert (invoices["Payer"].due_date - invoices["Payer"].issue_date).days == 45
    assert (invoices["Customer"].due_date - invoices["Customer"].issue_date).days == 30
    assert invoices["Payer"].bill_to_name == "Acme Health"


def test_worked_example_is_the_same_in_one_run():
    """Accumulators are derived from all charges of the year: one run or two give the same shares."""
    once = run([charge("C0", "2026-01-12", "LAB"), charge("C1", "2026-03-02", "OV"),
                charge("C2", "2026-03-02", "MRI")], as_of="2026-03-31")
    assert {k: v for k, v in amounts(once).items() if k[0] != "C0"} == {
        ("C1", "INS"): (D("90.00"), D("80.00")), ("C1", "K1"): (D("30.00"), D("0")),
        ("C2", "INS"): (D("240.00"), D("700.00")), ("C2", "K1"): (D("560.00"), D("0")),
    }


def test_rerun_with_the_same_inputs_bills_nothing_new():
    charges = [charge("C1", "2026-03-02", "OV"), charge("C2", "2026-03-02", "MRI")]
    first = run(charges)
    again = run(charges, previous=first)
    assert again.new_invoices == []
    assert output_rows(again, "Invoice Lines") == output_rows(first, "Invoice Lines")


# --- rule 1: allowed amount and adjustment --------------------------------------------------------


def test_rule1_allowed_times_quantity_and_the_write_off():
    codes = [{"Payer ID": "INS", "Service Code": "PT", "Allowed Amount": "50.00"}]
    coverage = [{**COVERAGE_80, "Covered Percent": 100, "Annual Deductible": None}]
    result = run([charge("C1", "2026-02-02", "PT", Quantity="2.5")], coverage=coverage, payer_codes=codes)
    # Charge 80.00 x 2.5 = 200.00; allowed 50.00 x 2.5 = 125.00; adjustment 75.00; 100 %: insurer pays 125.00.
    assert amounts(result) == {("C1", "INS"): (D("125.00"), D("75.00"))}
    assert billed(result)[("C1", "INS")]["Charge Amount"] == D("200.00")


def test_rule1_allowed_never_more_than_the_charge_and_charge_when_not_given():
    codes = [{"Payer ID": "INS", "Service Code": "PT", "Allowed Amount": "95.00"}]
    coverage = [{**COVERAGE_80, "Annual Deductible": None}]
    result = run([charge("C1", "2026-02-02", "PT"), charge("C2", "2026-02-03", "XR")], coverage=coverage,
                 payer_codes=codes)
    assert amounts(result) == {
        ("C1", "INS"): (D("64.00"), D("0")),   # allowed min(95.00, 80.00) = 80.00; 80 % = 64.00
        ("C1", "K1"): (D("16.00"), D("0")),
        ("C2", "INS"): (D("240.00"), D("0")),  # no Payer Codes row: allowed = charge 300.00
        ("C2", "K1"): (D("60.00"), D("0")),
    }


def test_rule1_charge_price_overrides_the_catalogue():
    coverage = [{**COVERAGE_80, "Annual Deductible": None}]
    result = run([charge("C1", "2026-02-02", "XR", Price="250.00")], coverage=coverage, payer_codes=[])
    assert amounts(result) == {("C1", "INS"): (D("200.00"), D("0")), ("C1", "K1"): (D("50.00"), D("0"))}


# --- rule 2: not covered -------------------------------------------------------------------------


def test_rule2_not_covered_is_the_customers_and_does_not_count_toward_the_oop_max():
    codes = [*PAYER_CODES, {"Payer ID": "INS", "Service Code": "XR", "Covered": "no"}]
    coverage = [{**COVERAGE_80, "Annual Deductible": None, "Out of Pocket Max": "100.00"}]
    result = run([charge("C1", "2026-02-02", "XR"), charge("C2", "2026-02-09", "LAB")], coverage=coverage,
                 payer_codes=codes)
    lines = billed(result)
    assert amounts(result) == {
        ("C1", "K1"): (D("300.00"), D("0")),   # not covered: the whole charge, nothing written off
        ("C2", "INS"): (D("400.00"), D("0")),  # 80 % of 500.00
        ("C2", "K1"): (D("100.00"), D("0")),   # 20 % = 100.00: the X-ray left the cap of 100.00 untouched
    }
    assert lines[("C1", "K1")]["Reason"] == "not covered"
    assert any("X-ray is not covered by Acme Health" in text and "C1" in text for text in advice(result))


# --- rule 3: prior authorization ------------------------------------------------------------------


def test_rule3_held_then_released_after_the_number_is_entered():
    codes = [*PAYER_CODES[:1], {**PAYER_CODES[1], "Prior Authorization": "yes"}, PAYER_CODES[2]]
    charges = [charge("C1", "2026-03-02", "OV"), charge("C2", "2026-03-02", "MRI"),
               charge("C3", "2026-03-10", "LAB")]
    first = run(charges, payer_codes=codes, as_of="2026-03-31")
    assert errors(first) == []
    assert {key[0] for key in amounts(first)} == {"C1", "C3"}  # nothing of C2 is billed
    assert any(text.startswith("charge C2 (MRI, 2026-03-02) is held: Acme Health requires prior authorization")
               for text in advice(first))
    # The held MRI still counts: its deductible part (800.00) comes before the lab panel's, which
    # therefore meets only the 200.00 left: 200.00 + 20 % of 300.00 = 260.00.
    assert amounts(first)[("C3", "K1")] == (D("260.00"), D("0"))

    charges[1] = charge("C2", "2026-03-02", "MRI", **{"Authorization No": "AUTH-77"})
    second = run(charges, payer_codes=codes, as_of="2026-04-30", previous=first)
    assert amounts(second) == {
        ("C2", "INS"): (D("0.00"), D("700.00")),  # all 800.00 allowed is deductible; 700.00 written off
        ("C2", "K1"): (D("800.00"), D("0")),
    }
    assert not any("is held" in text for text in advice(second))


def test_rule3_upcoming_charges_get_advice_to_ask_before_the_next_one():
    codes = [{**PAYER_CODES[1], "Prior Authorization": "yes"}]
    charges = [charge("C5", "2026-07-10", "MRI"), charge("C6", "2026-08-14", "MRI"),
               charge("C7", "2026-07-20", "MRI", **{"Authorization No": "A-1"})]
    result = run(charges, payer_codes=codes, as_of="2026-06-30")
    assert result.new_invoices == []  # dated after the as-of date: not billed yet
    texts = advice(result)
    assert [t for t in texts if t.startswith("ask for authorization")] == [
        "ask for authorization before the next MRI on 2026-07-10 (Acme Health requires it; charge C5)"]


# --- rules 4 and 5: copay, deductible, coinsurance ------------------------------------------------


def test_rule4_copay_is_never_more_than_the_allowed_amount():
    codes = [{"Payer ID": "INS", "Service Code": "PT", "Allowed Amount": "25.00", "Copay": "30.00"}]
    result = run([charge("C1", "2026-02-02", "PT")], payer_codes=codes)
    # Allowed 25.00 < copay 30.00: the customer pays 25.00, the insurer nothing, 55.00 written off.
    assert amounts(result) == {("C1", "INS"): (D("0.00"), D("55.00")), ("C1", "K1"): (D("25.00"), D("0"))}
    assert billed(result)[("C1", "K1")]["Reason"] == "copay"


def test_rule5_deductible_then_coinsurance_across_charges():
    coverage = [{**COVERAGE_80, "Annual Deductible": "600.00"}]
    result = run([charge("C1", "2026-01-05", "LAB"), charge("C2", "2026-01-06", "LAB"),
                  charge("C3", "2026-01-07", "LAB")], coverage=coverage)
    assert amounts(result) == {
        ("C1", "K1"): (D("500.00"), D("0")),                                       # all deductible
        ("C2", "INS"): (D("320.00"), D("0")), ("C2", "K1"): (D("180.00"), D("0")),  # 100.00 + 20 % of 400.00
        ("C3", "INS"): (D("400.00"), D("0")), ("C3", "K1"): (D("100.00"), D("0")),  # 20 % of 500.00
    }
    lines = billed(result)
    assert [lines[(c, "K1")]["Reason"] for c in ("C1", "C2", "C3")] == [
        "deductible", "deductible + coinsurance", "coinsurance"]


def test_rule5_deductible_restarts_each_calendar_year():
    coverage = [{**COVERAGE_80, "Annual Deductible": "500.00"}]
    result = run([charge("C1", "2025-12-30", "LAB"), charge("C2", "2026-01-02", "LAB")], coverage=coverage)
    assert amounts(result)[("C1", "K1")] == amounts(result)[("C2", "K1")] == (D("500.00"), D("0"))


def test_rule5_coinsurance_is_rounded_half_up_once():
    codes = [{"Payer ID": "INS", "Service Code": "PT", "Allowed Amount": "33.33"}]
    coverage = [{**COVERAGE_80, "Covered Percent": "62.5", "Annual Deductible": None}]
    result = run([charge("C1", "2026-02-02", "PT")], coverage=coverage, payer_codes=codes)
    # 37.5 % of 33.33 = 12.49875 -> 12.50 (half-up); the insurer pays 33.33 - 12.50 = 20.83.
    assert amounts(result) == {("C1", "INS"): (D("20.83"), D("46.67")), ("C1", "K1"): (D("12.50"), D("0"))}


# --- rule 6: out-of-pocket maximum ----------------------------------------------------------------


def test_rule6_out_of_pocket_cap_crossed_in_the_middle_of_a_charge():
    coverage = [{**COVERAGE_80, "Annual Deductible": "400.00", "Out of Pocket Max": "1000.00"}]
    codes = [*PAYER_CODES[1:]]
    result = run([charge("C1", "2026-02-01", "MRI"), charge("C2", "2026-03-01", "MRI"),
                  charge("C3", "2026-04-01", "MRI"), charge("C4", "2026-05-01", "LAB")],
                 coverage=coverage, payer_codes=codes)
    assert amounts(result) == {
        # 400.00 deductible + 20 % of 400.00 = 480.00 (total 480.00)
        ("C1", "INS"): (D("320.00"), D("700.00")), ("C1", "K1"): (D("480.00"), D("0")),
        # 20 % of 800.00 = 160.00 (total 640.00)
        ("C2", "INS"): (D("640.00"), D("700.00")), ("C2", "K1"): (D("160.00"), D("0")),
        # 160.00 again would make 800.00: still under the cap
        ("C3", "INS"): (D("640.00"), D("700.00")), ("C3", "K1"): (D("160.00"), D("0")),
        # 20 % of 500.00 = 100.00 would make 900.00: under; so the cap is crossed by ...
        ("C4", "INS"): (D("400.00"), D("0")), ("C4", "K1"): (D("100.00"), D("0")),
    }
    more = run([charge("C1", "2026-02-01", "MRI"), charge("C2", "2026-03-01", "MRI"),
                charge("C3", "2026-04-01", "MRI"), charge("C4", "2026-05-01", "LAB"),
                charge("C5", "2026-06-01", "MRI")], coverage=coverage, payer_codes=codes, previous=result)
    # ... C5: 20 % of 800.00 = 160.00, but only 100.00 is left under the 1,000.00 cap.
    assert amounts(more) == {("C5", "INS"): (D("700.00"), D("700.00")), ("C5", "K1"): (D("100.00"), D("0"))}
    assert billed(more)[("C5", "K1")]["Reason"] == "coinsurance (out-of-pocket maximum reached)"
    after = run([*(charge(f"C{n}", f"2026-0{n + 1}-01", "MRI") for n in (1, 2, 3)), charge("C4", "2026-05-01", "LAB"),
                 charge("C5", "2026-06-01", "MRI"), charge("C6", "2026-06-15", "LAB")],
                coverage=coverage, payer_codes=codes, previous=more)
    # The cap is reached: the insurer pays all of C6's 500.00 allowed.
    assert amounts(after) == {("C6", "INS"): (D("500.00"), D("0"))}
    assert billed(after)[("C6", "INS")]["Reason"] == "primary (out-of-pocket maximum reached)"


def test_rule6_cap_applies_to_copays_too():
    coverage = [{**COVERAGE_80, "Out of Pocket Max": "50.00"}]
    result = run([charge("C1", "2026-02-01", "OV"), charge("C2", "2026-02-08", "OV")], coverage=coverage)
    assert amounts(result)[("C1", "K1")] == (D("30.00"), D("0"))
    assert amounts(result)[("C2", "K1")] == (D("20.00"), D("0"))  # 50.00 - 30.00 left
    assert amounts(result)[("C2", "INS")] == (D("100.00"), D("80.00"))


# --- rule 7: secondary coverage -------------------------------------------------------------------

SECOND_PAYER = {"Payer ID": "SUP", "Name": "Supplement Mutual", "Type": "insurer"}
#: Secondary coverage: 50 % after a 400.00 deductible of its own.
SECONDARY_50 = {"Customer ID": "K1", "Payer ID": "SUP", "Member ID": "S-9", "Priority": 2,
                "Covered Percent": 50, "Annual Deductible": "400.00"}


def test_rule7_secondary_pays_the_smaller_of_its_own_share_and_what_is_left():
    result = run([charge("C1", "2026-03-02", "MRI"), charge("C2", "2026-03-09", "OV")],
                 coverage=[{**COVERAGE_80, "Annual Deductible": "500.00"}, SECONDARY_50],
                 payers=[*PAYERS, SECOND_PAYER])
    assert errors(result) == []
    assert amounts(result) == {
        # Primary: allowed 800.00; 500.00 deductible + 20 % of 300.00 = 560.00 left; pays 240.00.
        ("C1", "INS"): (D("240.00"), D("700.00")),
        # Secondary as primary on 800.00: 400.00 deductible + 50 % of 400.00 -> it would pay 200.00;
        # min(200.00, 560.00) = 200.00.
        ("C1", "SUP"): (D("200.00"), D("0")),
        ("C1", "K1"): (D("360.00"), D("0")),
        # Office visit: primary copay 30.00 left. Secondary as primary on 120.00, its deductible
        # used up by C1: 50 % -> 60.00; min(60.00, 30.00) = 30.00: the customer pays nothing.
        ("C2", "INS"): (D("90.00"), D("80.00")),
        ("C2", "SUP"): (D("30.00"), D("0")),
    }
    lines = billed(result)
    assert lines[("C1", "K1")]["Reason"] == "deductible + coinsurance (after secondary)"
    assert lines[("C1", "SUP")]["Reason"].startswith("secondary")
    assert lines[("C1", "SUP")]["Bill To Type"] == "Payer"


def test_rule7_priority_three_repeats():
    third = {"Payer ID": "EMP", "Name": "Employer Fund", "Type": "employer", "Plugin": "employer_budget"}
    coverage = [{**COVERAGE_80, "Annual Deductible": "500.00"}, SECONDARY_50,
                {"Customer ID": "K1", "Payer ID": "EMP", "Priority": 3, "Annual Budget": "100.00"}]
    result = run([charge("C1", "2026-03-02", "MRI")], coverage=coverage,
                 payers=[*PAYERS, SECOND_PAYER, third])
    # As above 360.00 is left after the secondary; the employer would pay 100 % of 800.00 but its
    # budget is 100.00: it pays 100.00 and the customer 260.00.
    assert amounts(result) == {("C1", "INS"): (D("240.00"), D("700.00")), ("C1", "SUP"): (D("200.00"), D("0")),
                               ("C1", "EMP"): (D("100.00"), D("0")), ("C1", "K1"): (D("260.00"), D("0"))}


def test_rule7_secondary_pays_for_a_service_the_primary_does_not_cover():
    codes = [{"Payer ID": "INS", "Service Code": "XR", "Covered": "no"}]
    result = run([charge("C1", "2026-03-02", "XR")], payer_codes=codes,
                 coverage=[COVERAGE_80, {**SECONDARY_50, "Annual Deductible": None}], payers=[*PAYERS, SECOND_PAYER])
    # The primary leaves all 300.00 to the customer; the secondary would pay 50 % of 300.00 = 150.00.
    assert amounts(result) == {("C1", "SUP"): (D("150.00"), D("0")), ("C1", "K1"): (D("150.00"), D("0"))}
    assert billed(result)[("C1", "K1")]["Reason"] == "not covered (after secondary)"


def test_rule7_secondary_alone_on_a_date_acts_as_primary():
    coverage = [{**COVERAGE_80, "Valid To": "2026-01-31"}, {**SECONDARY_50, "Annual Deductible": None}]
    result = run([charge("C1", "2026-03-02", "XR")], coverage=coverage, payers=[*PAYERS, SECOND_PAYER])
    assert amounts(result) == {("C1", "SUP"): (D("150.00"), D("0")), ("C1", "K1"): (D("150.00"), D("0"))}


# --- rule 8: no coverage on the date of service ---------------------------------------------------


def test_rule8_coverage_ending_mid_year():
    coverage = [{**COVERAGE_80, "Valid From": "2026-01-01", "Valid To": "2026-03-31"}]
    result = run([charge("C1", "2026-03-31", "LAB"), charge("C2", "2026-04-01", "XR"),
                  charge("C3", "2026-05-05", "PT")], coverage=coverage)
    assert amounts(result) == {
        ("C1", "K1"): (D("500.00"), D("0")),  # last day of coverage: deductible
        ("C2", "K1"): (D("300.00"), D("0")),  # after it: the customer pays everything
        ("C3", "K1"): (D("80.00"), D("0")),
    }
    lines = billed(result)
    assert lines[("C2", "K1")]["Reason"] == lines[("C3", "K1")]["Reason"] == "no coverage"
    assert advice(result) == ["coverage ended 2026-03-31: check the insurance card "
                              "(charges C2, C3 from 2026-04-01 on are billed to the customer)"]


def test_rule8_coverage_not_started_yet_and_self_pay():
    coverage = [{**COVERAGE_80, "Valid From": "2026-02-01"}]
    result = run([charge("C1", "2026-01-20", "PT"), charge("C2", "2026-01-20", "PT", customer="K2")],
                 coverage=coverage)
    assert billed(result)[("C1", "K1")]["Reason"] == "no coverage"
    assert billed(result)[("C2", "K2")]["Reason"] == "self-pay"
    assert advice(result) == ["coverage starts 2026-02-01: check the insurance card "
                              "(charge C1 of 2026-01-20 is billed to the customer)"]
    assert advice(result, "K2") == []


# --- codes and eligibility ------------------------------------------------------------------------


def test_code_system_without_a_mapping_is_a_problem_and_the_charge_is_held():
    payers = [{**PAYERS[0], "Code System": "CPT"}]
    result = run([charge("C1", "2026-02-02", "OV"), charge("C2", "2026-02-02", "XR")], payers=payers)
    assert set(amounts(result)) == {("C1", "INS"), ("C1", "K1")}  # XR has no CPT code: nothing billed
    [problem] = [p for p in result.problems if p.severity == "error"]
    assert (problem.sheet, problem.column) == ("Charges", "Service Code")
    assert "no Payer Code for service XR" in problem.message and "C2" in problem.message


# --- the fee_schedule payer -----------------------------------------------------------------------

PROGRAMME = {"Payer ID": "GOV", "Name": "State Health Programme", "Type": "government", "Plugin": "fee_schedule"}
PROGRAMME_COVERAGE = {"Customer ID": "K1", "Payer ID": "GOV", "Member ID": "G-1"}


def test_fee_schedule_pays_the_fee_and_never_bills_the_customer_the_difference():
    codes = [{"Payer ID": "GOV", "Service Code": "OV", "Payer Code": "G0001", "Allowed Amount": "64.50"},
             {"Payer ID": "GOV", "Service Code": "XR", "Covered": "no"}]
    result = run([charge("C1", "2026-02-02", "OV"), charge("C2", "2026-02-02", "XR"),
                  charge("C3", "2026-02-02", "PT")],
                 payers=[PROGRAMME], coverage=[PROGRAMME_COVERAGE], payer_codes=codes)
    assert amounts(result) == {
        ("C1", "GOV"): (D("64.50"), D("135.50")),  # the fee; 200.00 - 64.50 written off
        ("C2", "K1"): (D("300.00"), D("0")),       # not covered by the programme
    }
    [problem] = errors(result)  # PT has no fee: held, with a Problem naming the plugin
    assert "C3" in problem and "sheetbill.payers.fee_schedule" in problem and "no fee for service PT" in problem


def test_fee_schedule_direct():
    claim = make_claim("200.00", plugin="fee_schedule", allowed_amount="64.50", quantity=2, payer_code="G1")
    result = assert_valid_adjudication(claim, fee_schedule.sheetbill_adjudicate(claim))
    assert (result.payer_share, result.customer_share, result.adjustment) == (D("129.00"), D("0"), D("271.00"))


# --- the employer_budget payer --------------------------------------------------------------------

EMPLOYER = {"Payer ID": "EMP", "Name": "Utility Staff Scheme", "Type": "employer", "Plugin": "employer_budget"}


def test_employer_budget_runs_out_in_the_middle_of_a_charge():
    coverage = [{"Customer ID": "K1", "Payer ID": "EMP", "Annual Budget": "600.00", "Covered Percent": 90}]
    result = run([charge("C1", "2026-02-02", "LAB"), charge("C2", "2026-03-02", "LAB"),
                  charge("C3", "2026-04-02", "LAB"), charge("C4", "2027-01-04", "LAB")],
                 payers=[EMPLOYER], coverage=coverage, payer_codes=[], as_of="2027-01-31")
    assert amounts(result) == {
        ("C1", "EMP"): (D("450.00"), D("0")), ("C1", "K1"): (D("50.00"), D("0")),   # 90 %
        ("C2", "EMP"): (D("150.00"), D("0")), ("C2", "K1"): (D("350.00"), D("0")),  # 600.00 - 450.00 left
        ("C3", "K1"): (D("500.00"), D("0")),                                         # budget used up
        ("C4", "EMP"): (D("450.00"), D("0")), ("C4", "K1"): (D("50.00"), D("0")),   # a new year
    }
    lines = billed(result)
    assert lines[("C2", "K1")]["Reason"] == lines[("C3", "K1")]["Reason"] == "employer budget exhausted"
    assert any("employer budget of 600.00 EUR for 2026 is used up" in text for text in advice(result))


def test_employer_budget_default_from_settings():
    claim = make_claim("500.00", plugin="employer_budget", payer_paid="450.00",
                       settings={"Employer Budget": "500"})
    result = assert_valid_adjudication(claim, employer.sheetbill_adjudicate(claim))
    assert (result.payer_share, result.customer_share) == (D("50.00"), D("450.00"))
    bad = make_claim("500.00", plugin="employer_budget", settings={"Employer Budget": "lots"})
    with pytest.raises(ValueError, match="Employer Budget 'lots' is not an amount"):
        employer.sheetbill_adjudicate(bad)


# --- the standard payer on claims made by hand ----------------------------------------------------


@pytest.mark.parametrize(("price", "kwargs", "expected"), [
    # expected: (payer, customer, adjustment, deductible)
    ("200.00", {"allowed_amount": "120.00", "copay": "30.00"}, ("90.00", "30.00", "80.00", "0")),
    ("1500.00", {"allowed_amount": "800.00", "covered_percent": 80, "annual_deductible": "1000.00",
                 "deductible_used": "500.00"}, ("240.00", "560.00", "700.00", "500.00")),
    ("200.00", {"covered_percent": 80, "out_of_pocket_max": "1000.00", "out_of_pocket_used": "990.00"},
     ("190.00", "10.00", "0", "0")),
    ("200.00", {"coverage_copay": "15.00"}, ("185.00", "15.00", "0", "0")),
    ("200.00", {"covered": False}, ("0", "200.00", "0", "0")),
    # secondary: as primary it pays 80 % of 150.00 = 120.00 (the core then takes min(120.00, what is left))
    ("200.00", {"covered_percent": 80, "allowed": "150.00", "patient_responsibility": "40.00"},
     ("120.00", "30.00", "50.00", "0")),
])
def test_standard_payer_by_hand(price, kwargs, expected):
    claim = make_claim(price, **kwargs)
    result = assert_valid_adjudication(claim, standard.sheetbill_adjudicate(claim))
    assert (result.payer_share, result.customer_share, result.adjustment, result.deductible) == tuple(
        D(x) for x in expected)


def test_an_employer_budget_read_as_a_float_is_written_as_money_in_advice():
    # xlsx cells come back as floats: 400.0 must read "400.00 EUR" in the Advice, never "400.0".
    coverage = [{"Customer ID": "K1", "Payer ID": "EMP", "Annual Budget": 400.0, "Covered Percent": 100}]
    result = run([charge("C1", "2026-02-02", "LAB")], payers=[EMPLOYER], coverage=coverage, payer_codes=[])
    assert advice(result) == ["employer budget of 400.00 EUR for 2026 is used up: the rest is billed to the customer"]


@pytest.mark.parametrize(("payer_type", "check"), [
    ("insurer", "check the insurance card"),
    ("government", "check the customer's entitlement with the programme"),
    ("employer", "check with the employer whether the customer is still covered"),
    ("other", "check who pays for the customer now"),
])
def test_a_coverage_gap_is_worded_for_the_type_of_payer(payer_type, check):
    payers = [{**PAYERS[0], "Type": payer_type}]
    coverage = [{**COVERAGE_80, "Valid To": "2026-03-31"}]
    result = run([charge("C1", "2026-04-01", "PT")], payers=payers, coverage=coverage)
    assert advice(result) == [f"coverage ended 2026-03-31: {check} (charge C1 of 2026-04-01 is billed to the "
                              "customer)"]
