"""The payer and payment-term rules from the rule books, with the published or hand-computed numbers.

* Medicare as secondary payer, 42 CFR 411.33: the regulation's own example (b) and Noridian's
  published "MSP Payment Calculation Examples", Example 2 (submitted charge 300, Medicare allowable
  250, primary allowable 200, primary paid 160: Medicare pays 90), with the 50 above the higher
  allowed amount written off.
* Copay then coinsurance (Synthea's claim cost model), with and without the copay counting to the
  deductible.
* Balance billing by an out-of-network payer.
* GOÄ: No. 3 (150 points) at 2.3 = 20.11 EUR, No. 1 (80 points) at 2.3 = 10.72 EUR (DOMAIN.md).
* Payment plans by shares and by days, payment terms ``EOM + 15``, a 2 % reminder fee with a minimum.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sheetbill.models import PaymentPlan
from sheetbill.plans import plan_schedule
from sheetbill.terms import PaymentTerms, TermsError, parse_fee, parse_fees, parse_payment_terms
from sheetbill.testing import make_claim, make_plugins, output_rows, run_tables
from tests.test_overdue import invoice, reminders, step, workbook

D = Decimal


def lines_by_party(result) -> dict[str, tuple[Decimal, Decimal, str]]:
    """(Amount, Adjustment, Reason) of each new invoice line, by Bill To ID."""
    invoices = {row["Invoice No"]: row for row in output_rows(result, "Invoices")}
    return {invoices[line["Invoice No"]]["Bill To ID"]: (line["Amount"], line["Adjustment"], line["Reason"])
            for line in output_rows(result, "Invoice Lines")}


def coordinated(price: str, *, primary_allowed: str, secondary_allowed: str, method: str | None,
                primary_percent: int = 80, secondary_percent: int = 80):
    """One charge to a customer with a primary insurer and a secondary payer of ``method``."""
    return run_tables(
        customers=[{"Customer ID": "K1", "Name": "Ann"}],
        payers=[{"Payer ID": "GHP", "Name": "Group Health Plan"},
                {"Payer ID": "MCR", "Name": "Medicare", "Secondary Method": method}],
        coverage=[{"Customer ID": "K1", "Payer ID": "GHP", "Priority": 1, "Covered Percent": primary_percent},
                  {"Customer ID": "K1", "Payer ID": "MCR", "Priority": 2, "Covered Percent": secondary_percent}],
        services=[{"Service Code": "OV", "Description": "Office visit", "Price": price}],
        payer_codes=[{"Payer ID": "GHP", "Service Code": "OV", "Allowed Amount": primary_allowed},
                     {"Payer ID": "MCR", "Service Code": "OV", "Allowed Amount": secondary_allowed}],
        charges=[{"Charge ID": "C1", "Date": "2026-03-02", "Customer ID": "K1", "Service Code": "OV"}],
    )


# --- secondary payers --------------------------------------------------------------------------------------


def test_noridian_example_2_medicare_secondary_pays_90_and_50_is_written_off():
    # Charge 300; primary allowed 200, paid 80 % = 160; Medicare allowed 250, would pay 80 % = 200.
    # Lowest of: 300 - 160 = 140; 200; max(250, 200) - 160 = 90. Medicare pays 90; the customer owes
    # 250 - 160 - 90 = 0; 300 - 250 = 50 is written off.
    result = coordinated("300.00", primary_allowed="200.00", secondary_allowed="250.00", method="medicare-secondary")
    assert [p for p in result.problems if p.severity == "error"] == []
    lines = lines_by_party(result)
    assert lines["GHP"][:2] == (D("160.00"), D("50.00"))
    assert lines["MCR"][:2] == (D("90.00"), D("0.00"))
    assert "K1" not in lines


def test_42_cfr_411_33_b_example_medicare_pays_30():
    # Charge 175; primary allowed 150, paid 120; Medicare fee schedule 125, would pay 100.
    # Lowest of 175 - 120 = 55, 100, max(125, 150) - 120 = 30: Medicare pays 30; 25 written off.
    lines = lines_by_party(coordinated("175.00", primary_allowed="150.00", secondary_allowed="125.00",
                                       method="medicare-secondary"))
    assert lines["GHP"][:2] == (D("120.00"), D("25.00"))
    assert lines["MCR"][:2] == (D("30.00"), D("0.00"))
    assert "K1" not in lines


def test_the_same_charge_under_standard_and_non_duplication():
    # Standard: the secondary's benefit on the primary's allowed amount (80 % of 200 = 160), at most
    # the 40 the customer owes: 40. The write-off stays the primary's 100.
    lines = lines_by_party(coordinated("300.00", primary_allowed="200.00", secondary_allowed="250.00", method=None))
    assert lines["GHP"][:2] == (D("160.00"), D("100.00")) and lines["MCR"][:2] == (D("40.00"), D("0.00"))
    # Non-duplication with a 50 % secondary: own benefit 50 % of 250 = 125, minus the 160 paid: nothing;
    # the customer keeps the 40.
    lines = lines_by_party(coordinated("300.00", primary_allowed="200.00", secondary_allowed="250.00",
                                       method="non-duplication", secondary_percent=50))
    assert "MCR" not in lines and lines["K1"][:2] == (D("40.00"), D("0.00"))
    # Non-duplication at 70 %: 175 - 160 = 15; the customer owes 40 - 15 = 25.
    lines = lines_by_party(coordinated("300.00", primary_allowed="200.00", secondary_allowed="250.00",
                                       method="non-duplication", secondary_percent=70))
    assert lines["MCR"][:2] == (D("15.00"), D("0.00")) and lines["K1"][:2] == (D("25.00"), D("0.00"))


# --- copay and coinsurance ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("counts", "customer", "deductible"), [
    (False, D("76.00"), D("50.00")),  # copay 20; deductible 50 of the other 80; 20 % of 30 = 6
    (True, D("60.00"), D("50.00")),   # copay 20 counts: deductible 30 left; 20 % of 50 = 10
])
def test_copay_of_20_then_20_percent_coinsurance(counts, customer, deductible):
    plugins = make_plugins()
    claim = make_claim("100.00", coverage_copay="20.00", copay_then_coinsurance=True,
                       copay_counts_to_deductible=counts, annual_deductible="50.00", covered_percent=80)
    answer = plugins.adjudicate(None, claim)
    assert (answer.customer_share, answer.payer_share, answer.deductible) == (customer, D("100.00") - customer,
                                                                              deductible)
    assert answer.reason == "copay + deductible + coinsurance"


def test_copay_then_coinsurance_without_deductible_and_the_copay_alone_as_before():
    plugins = make_plugins()
    both = plugins.adjudicate(None, make_claim("100.00", coverage_copay="20.00", copay_then_coinsurance=True,
                                               covered_percent=80))
    assert (both.customer_share, both.payer_share, both.reason) == (D("36.00"), D("64.00"), "copay + coinsurance")
    alone = plugins.adjudicate(None, make_claim("100.00", coverage_copay="20.00", covered_percent=80,
                                                annual_deductible="50.00"))
    assert (alone.customer_share, alone.deductible, alone.reason) == (D("20.00"), D("0"), "copay")
    counted = plugins.adjudicate(None, make_claim("100.00", coverage_copay="20.00", covered_percent=80,
                                                  annual_deductible="50.00", deductible_used="40.00",
                                                  copay_counts_to_deductible=True))
    assert (counted.customer_share, counted.deductible) == (D("20.00"), D("10.00"))


# --- balance billing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("balance", [False, True])
def test_an_out_of_network_payer_with_balance_billing_leaves_the_rest_to_the_customer(balance):
    # Charge 200, allowed 120, 80 %: the payer pays 96, the customer 24 coinsurance; the 80 above the
    # allowed amount is written off, or with balance billing the customer's too (104 in all).
    result = run_tables(
        customers=[{"Customer ID": "K1", "Name": "Ann"}],
        payers=[{"Payer ID": "OON", "Name": "Out of Network Health", "Balance Billing": balance}],
        coverage=[{"Customer ID": "K1", "Payer ID": "OON", "Covered Percent": 80}],
        services=[{"Service Code": "OV", "Description": "Office visit", "Price": "200.00"}],
        payer_codes=[{"Payer ID": "OON", "Service Code": "OV", "Allowed Amount": "120.00"}],
        charges=[{"Charge ID": "C1", "Date": "2026-03-02", "Customer ID": "K1", "Service Code": "OV"}],
    )
    lines = lines_by_party(result)
    if balance:
        assert lines["OON"][:2] == (D("96.00"), D("0.00"))
        assert lines["K1"] == (D("104.00"), D("0.00"), "coinsurance + balance billing (above the allowed amount)")
    else:
        assert lines["OON"][:2] == (D("96.00"), D("80.00"))
        assert lines["K1"] == (D("24.00"), D("0.00"), "coinsurance")


# --- GOÄ ---------------------------------------------------------------------------------------------------


def goae_run(*charges: dict):
    """A private practice: every patient's payer is a GOÄ payer; services named by GOÄ number."""
    return run_tables(
        customers=[{"Customer ID": "K1", "Name": "Anna Privat"}],
        payers=[{"Payer ID": "PKV", "Name": "Privatpatient (GOÄ)", "Plugin": "goae"}],
        coverage=[{"Customer ID": "K1", "Payer ID": "PKV"}],
        services=[{"Service Code": "B1", "Description": "Beratung", "Price": "0"},
                  {"Service Code": "B3", "Description": "Eingehende Beratung", "Price": "0"},
                  {"Service Code": "L1", "Description": "Harnstreifentest", "Price": "0"}],
        payer_codes=[{"Payer ID": "PKV", "Service Code": "B1", "Payer Code": "1"},
                     {"Payer ID": "PKV", "Service Code": "B3", "Payer Code": "3"},
                     {"Payer ID": "PKV", "Service Code": "L1", "Payer Code": "3511"}],
        charges=[{"Charge ID": f"C{n}", "Date": "2026-03-02", "Customer ID": "K1", **row}
                 for n, row in enumerate(charges, start=1)],
    )


def test_goae_fees_are_points_times_point_value_times_factor():
    result = goae_run({"Service Code": "B3"}, {"Service Code": "B1"}, {"Service Code": "L1"},
                      {"Service Code": "B3", "Factor": "3.0", "Justification": "besonders zeitaufwendig"})
    assert [p for p in result.problems if p.severity == "error"] == []
    lines = {line["Charge ID"]: line for line in output_rows(result, "Invoice Lines")}
    invoices = {row["Invoice No"]: row for row in output_rows(result, "Invoices")}
    # 150 x 0.0582873 x 2.3 = 20.109 -> 20.11; 80 x ... x 2.3 = 10.725 -> 10.72; 50 x ... x 1.15 = 3.352 -> 3.35;
    # 150 x ... x 3.0 = 26.229 -> 26.23
    assert [(lines[c]["Charge Amount"], lines[c]["Amount"]) for c in ("C1", "C2", "C3", "C4")] == [
        (D("20.11"), D("20.11")), (D("10.72"), D("10.72")), (D("3.35"), D("3.35")), (D("26.23"), D("26.23"))]
    assert {invoices[line["Invoice No"]]["Bill To ID"] for line in lines.values()} == {"K1"}  # the patient pays
    assert lines["C1"]["Reason"] == "GOÄ 3, factor 2.3"
    assert lines["C3"]["Reason"] == "GOÄ 3511, factor 1.15"
    assert lines["C4"]["Reason"] == "GOÄ 3, factor 3.0: besonders zeitaufwendig"


def test_goae_factors_above_threshold_or_maximum_are_problems_on_the_charge():
    result = goae_run({"Service Code": "B3", "Factor": "3.0"},
                      {"Service Code": "B3", "Factor": "4.0", "Justification": "schwierig"},
                      {"Service Code": "B3", "Factor": "4.0", "Justification": "schwierig", "Fee Agreement": "yes"},
                      {"Service Code": "L1", "Factor": "1.2"})
    found = {(p.row, p.column, p.code) for p in result.problems if p.severity == "error"}
    assert found == {(2, "Justification", "claim-refused"), (3, "Fee Agreement", "claim-refused"),
                     (5, "Justification", "claim-refused")}
    billed = {line["Charge ID"]: line["Amount"] for line in output_rows(result, "Invoice Lines")}
    assert billed == {"C3": D("34.97")}  # 150 x 0.0582873 x 4.0 = 34.972 under a fee agreement


# --- payment plans and terms -------------------------------------------------------------------------------


def test_a_30_50_20_plan_of_1000_and_a_plan_every_14_days():
    plan = PaymentPlan("P1", "INV-1", None, dt.date(2026, 2, 1), shares=(D(30), D(50), D(20)))
    assert plan_schedule(plan, D("1000.00"), "EUR") == [
        (dt.date(2026, 2, 1), D("300.00")), (dt.date(2026, 3, 1), D("500.00")), (dt.date(2026, 4, 1), D("200.00"))]
    fortnightly = PaymentPlan("P2", "INV-1", 3, dt.date(2026, 2, 1), interval_days=14)
    assert plan_schedule(fortnightly, D("100.00"), "EUR") == [
        (dt.date(2026, 2, 1), D("33.33")), (dt.date(2026, 2, 15), D("33.33")), (dt.date(2026, 3, 1), D("33.34"))]


def test_plan_shares_in_the_workbook_and_shares_that_do_not_add_up():
    header = ("Plan ID", "Invoice No", "Installments", "First Due Date", "Interval Months", "Shares",
              "Interval Days")
    sheets = workbook(invoice("INV-1", D("1000.00")), invoice("INV-2", D("50.00")),
                      plans=[("P1", "INV-1", None, dt.date(2026, 2, 15), None, "30; 50; 20", 14),
                             ("P2", "INV-2", None, dt.date(2026, 2, 15), None, "30; 50", None)])
    from sheetbill.sheets import RawSheet
    rows = sheets["Payment Plans"].rows
    sheets["Payment Plans"] = RawSheet("Payment Plans", [list(header)] + [list(r) for r in rows[1:]])
    result, _ = step(sheets, dt.date(2026, 2, 20))
    installments = [(i["Plan ID"], i["Due Date"], i["Amount"]) for i in output_rows(result, "Installments")]
    assert installments == [("P1", dt.date(2026, 2, 15), D("300.00")), ("P1", dt.date(2026, 3, 1), D("500.00")),
                            ("P1", dt.date(2026, 3, 15), D("200.00"))]
    problem = next(p for p in result.problems if p.code == "plan-bad-shares")
    assert (problem.sheet, problem.row, problem.column) == ("Payment Plans", 3, "Shares")


def test_payment_terms_grammar():
    issued = dt.date(2026, 1, 20)
    assert parse_payment_terms("EOM + 15").due_date(issued) == dt.date(2026, 2, 15)
    assert parse_payment_terms("30").due_date(issued) == dt.date(2026, 2, 19)
    assert parse_payment_terms("eom").due_date(issued) == dt.date(2026, 1, 31)
    assert parse_payment_terms("15th next month").due_date(dt.date(2026, 12, 3)) == dt.date(2027, 1, 15)
    assert parse_payment_terms("31st next month").due_date(issued) == dt.date(2026, 2, 28)
    for bad in ("EOM 15", "net 30", "EOM - 5", "32nd next month", ""):
        with pytest.raises(TermsError):
            parse_payment_terms(bad)


def test_eom_plus_15_in_the_settings_and_a_customer_of_their_own():
    def run(terms, customer_terms=None):
        return run_tables(
            as_of="2026-01-20",
            settings=[{"Setting": "Payment Terms Days", "Value": terms}],
            customers=[{"Customer ID": "K1", "Name": "Ann", "Payment Terms Days": customer_terms}],
            services=[{"Service Code": "OV", "Description": "Office visit", "Price": "50.00"}],
            charges=[{"Charge ID": "C1", "Date": "2026-01-19", "Customer ID": "K1", "Service Code": "OV"}])

    assert output_rows(run("EOM + 15"), "Invoices")[0]["Due Date"] == dt.date(2026, 2, 15)
    assert output_rows(run("EOM + 15", "10"), "Invoices")[0]["Due Date"] == dt.date(2026, 1, 30)
    bad = run("EOM 15")  # not silently 15 days: a Problem on the Settings row, and the default 30 days
    problem = next(p for p in bad.problems if p.sheet == "Settings")
    assert (problem.row, problem.column, problem.code) == (2, "Value", "bad-setting")
    assert "EOM 15" in problem.message and "EOM + 15" in problem.message
    assert output_rows(bad, "Invoices")[0]["Due Date"] == dt.date(2026, 2, 19)


# --- reminder fees -----------------------------------------------------------------------------------------


def test_fee_grammar():
    assert parse_fee("2% min 5").fee(D("100.00"), "EUR") == D("5.00")     # 2.00 is below the minimum
    assert parse_fee("2% min 5").fee(D("1000.00"), "EUR") == D("20.00")
    assert parse_fee("2% min 5 max 50").fee(D("9000.00"), "EUR") == D("50.00")
    assert parse_fee("5").fee(D("9000.00"), "EUR") == D("5.00")
    assert [str(f) for f in parse_fees("0; 2%; 2% min 5 max 50")] == ["0", "2%", "2% min 5 max 50"]
    assert [str(f) for f in parse_fees("0, 5, 10")] == ["0", "5", "10"]
    for bad in ("2% minimum 5", "min 5", "5 min 2", "2% min 50 max 5", "two"):
        with pytest.raises(TermsError):
            parse_fee(bad)


def test_a_2_percent_reminder_fee_with_a_5_00_minimum():
    for amount, fee in ((D("100.00"), D("5.00")), (D("1000.00"), D("20.00"))):
        sheets = workbook(invoice("INV-1", amount), settings=[("Reminder Fees", "2% min 5; 2% min 5; 2% min 5")])
        result, _ = step(sheets, dt.date(2026, 2, 14))  # due 2026-01-31 + 14 days: reminder 1
        (reminder,) = reminders(result)
        assert (reminder["Level"], reminder["Fee"], reminder["Amount Due"]) == (1, fee, amount + fee)


def test_a_fee_outside_the_grammar_is_a_problem_not_zero():
    sheets = workbook(invoice("INV-1", D("100.00")), settings=[("Reminder Fees", "0; 2 % minimum 5; 10")])
    result, _ = step(sheets, dt.date(2026, 2, 14))
    problem = next(p for p in result.problems if p.sheet == "Settings" and p.code == "bad-setting")
    assert "Reminder Fees" in problem.message and "2% min 5" in problem.message
    assert PaymentTerms(30).due_date(dt.date(2026, 1, 1)) == dt.date(2026, 1, 31)


# --- plugins written for the previous hook specs -----------------------------------------------------------


def test_the_example_plugin_written_for_the_previous_specs_loads_and_behaves_the_same():
    from tests.test_payer_contract import _example_from_source

    example = _example_from_source()
    assert not hasattr(example, "sheetbill_charge_amount")  # it predates the hook
    result = run_tables(
        plugins=make_plugins(example),
        customers=[{"Customer ID": "K1", "Name": "Ann"}],
        payers=[{"Payer ID": "FCC", "Name": "Clinic Network", "Plugin": "flat_copay_clinic"}],
        coverage=[{"Customer ID": "K1", "Payer ID": "FCC"}],
        services=[{"Service Code": "OV", "Description": "Office visit", "Price": "200.00"}],
        charges=[{"Charge ID": "C1", "Date": "2026-03-02", "Customer ID": "K1", "Service Code": "OV"}],
    )
    lines = lines_by_party(result)
    # The network pays the price less the flat copay of 10.00 (its documented rule), billed under FCC-OV.
    assert lines["FCC"][:2] == (D("190.00"), D("0.00")) and lines["K1"][:2] == (D("10.00"), D("0.00"))
    assert {line["Charge Amount"] for line in output_rows(result, "Invoice Lines")} == {D("200.00")}


# --- § 288 (5) BGB -----------------------------------------------------------------------------------------


def test_business_late_fee_once_per_invoice_with_the_reminder_fees_set_off_against_it():
    business = ("C2", "Bau GmbH", "office@bau.example", None, None, None)
    header = ("Customer ID", "Name", "Email", "Street", "Postal Code", "City", "Business")
    from sheetbill.sheets import RawSheet

    sheets = workbook(invoice("INV-1", D("100.00")), invoice("INV-2", D("100.00"), customer="C2"),
                      invoice("INV-3", D("100.00"), payer="P1"),
                      customers=[(*row, None) for row in ((
                          "C1", "Ann Lee", "ann@example.org", None, None, None),)] + [(*business, "yes")],
                      settings=[("Business Late Fee", 40)])
    sheets["Customers"] = RawSheet("Customers", [list(header)] + [list(r) for r in sheets["Customers"].rows[1:]])
    fees = {}
    for day in (dt.date(2026, 2, 14), dt.date(2026, 2, 28), dt.date(2026, 3, 14)):
        result, sheets = step(sheets, day)
        for row in reminders(result):
            if row["Date"] == day:
                fees.setdefault(row["Invoice No"], []).append(row["Fee"])
    # Reminder Fees 0; 5; 10: the consumer pays them; the business 40 at once, and the 5 and 10 are set
    # off against it (their sum 15 stays below 40); the payer 40 once.
    assert fees == {"INV-1": [D("0.00"), D("5.00"), D("10.00")], "INV-2": [D("40.00"), D("0.00"), D("0.00")],
                    "INV-3": [D("40.00"), D("0.00"), D("0.00")]}


# --- a friendly reminder before the due date ---------------------------------------------------------------


def test_a_friendly_reminder_before_the_due_date_once_then_dunning_as_before():
    sheets = workbook(invoice("INV-1", D("100.00")), invoice("INV-2", D("100.00"), payer="P1"),
                      settings=[("Remind Before Due Days", 3)])
    result, sheets = step(sheets, dt.date(2026, 1, 27))  # due 2026-01-31: 4 days before, nothing
    assert reminders(result) == []
    result, sheets = step(sheets, dt.date(2026, 1, 28))  # 3 days before: level 0, no fee, for the customer only
    (friendly,) = reminders(result)
    assert (friendly["Invoice No"], friendly["Level"], friendly["Fee"], friendly["Amount Due"]) == (
        "INV-1", 0, D("0.00"), D("100.00"))
    assert friendly["Text"].startswith("Friendly reminder. Dear Ann Lee, invoice INV-1 over 100.00 EUR is due on "
                                       "2026-01-31")
    result, sheets = step(sheets, dt.date(2026, 1, 31))  # once only
    assert len(reminders(result)) == 1
    result, sheets = step(sheets, dt.date(2026, 2, 14))  # the dunning sequence is unchanged: reminder 1
    assert [(r["Invoice No"], r["Level"], r["Date"]) for r in reminders(result)][1:] == [
        ("INV-1", 1, dt.date(2026, 2, 14)), ("INV-2", 1, dt.date(2026, 2, 14))]


def test_goae_reason_is_the_same_however_the_factor_cell_arrives():
    # A file gives 3.0, Google Sheets and xlwings a float 3.0 (read as 3): the invoice line must not differ.
    plugins = make_plugins()
    reasons = {plugins.adjudicate("goae", make_claim("26.23", payer_code="3", factor=factor,
                                                     justification="zeitaufwendig")).reason
               for factor in ("3", "3.0", "3.00", 3)}
    assert reasons == {"GOÄ 3, factor 3.0: zeitaufwendig"}


def test_the_balance_billing_reason_reads_in_the_customers_language():
    from sheetbill.documents.invoice import reason_words
    from sheetbill.documents.templates import Templates

    reason = "coinsurance + balance billing (above the allowed amount)"
    assert reason_words(Templates.load("en"), reason) == (
        "coinsurance (your percentage) + balance billing (out of network) (above the amount your insurer allows)")
    assert reason_words(Templates.load("de"), reason) == (
        "prozentualer Eigenanteil + Differenz zum anerkannten Betrag (außerhalb des Vertragsnetzes) "
        "(über dem anerkannten Betrag)")


def test_payment_terms_outside_the_grammar_are_a_problem_on_their_cell():
    result = run_tables(
        customers=[{"Customer ID": "K1", "Name": "Ann", "Payment Terms Days": "net 30"}],
        payers=[{"Payer ID": "INS", "Name": "Acme Health", "Payment Terms Days": "EOM 15"}],
        services=[{"Service Code": "OV", "Description": "Office visit", "Price": "50.00"}],
        charges=[{"Charge ID": "C1", "Date": "2026-01-19", "Customer ID": "K1", "Service Code": "OV"}])
    found = {(p.sheet, p.row, p.column, p.code) for p in result.problems if p.code == "bad-terms"}
    assert found == {("Customers", 2, "Payment Terms Days", "bad-terms"), ("Payers", 2, "Payment Terms Days",
                                                                          "bad-terms")}
