"""Tax: a utility's workbook at 19 % and 7 %, net and gross prices, a split with a government payer,
credit notes, untaxed history, and the EN 16931 rules every invoice's Net, Tax and Amount must obey.

The expected figures of the worked examples are computed by hand in docs/tax.md; every invoice is
also recomputed here from its lines by the EN 16931 rules, written out independently of sheetbill.tax
(per category and rate: basis = sum of line nets, tax = basis x rate / 100 rounded half-up, BR-CO-17;
Net = sum of bases, Tax = sum of taxes, BR-CO-13/14; Amount = Net + Tax + rounding, BR-CO-15/16).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest

from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.run import run_billing
from sheetbill.tax import (
    SMALL_BUSINESS_NOTE,
    TaxCategory,
    allocate_tax,
    invoice_tax_breakdown,
    net_of,
    share_nets,
)
from tests.helpers import book, rows_of, sheet, with_outputs

D = Decimal
AS_OF = dt.date(2026, 3, 1)
CENT = D("0.01")

SERVICES_HEADER = ("Service Code", "Description", "Price", "Tax Rate", "Tax Category", "Tax Exemption")
UTILITY_SERVICES = (
    ("WATER", "Drinking water per m³", D("2.15"), 7, None, None),
    ("WATER-BASE", "Water base fee", D("8.50"), 7, None, None),
    ("HEAT", "District heating per kWh", D("0.1245"), 19, None, None),
    ("HEAT-BASE", "District heating base fee", D("14.90"), 19, None, None),
)
CHARGES_HEADER = ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity")
JANUARY = (("1", "2026-01-31", "C1", "WATER", "7.35"), ("2", "2026-01-31", "C1", "WATER-BASE", 1),
           ("3", "2026-01-31", "C1", "HEAT", 690), ("4", "2026-01-31", "C1", "HEAT-BASE", 1))


def utility(*, gross=False, coverage=(), charges=JANUARY, services=UTILITY_SERVICES, settings=(),
            services_header=SERVICES_HEADER):
    return book(
        sheet("Settings", ("Setting", "Value"), ("Company Name", "Stadtwerke Lindenau GmbH"),
              ("Company Address", "Am Wasserturm 3, 04179 Leipzig"), ("Tax Number", "231/114/50427"),
              ("Prices Include Tax", "yes" if gross else "no"), *settings),
        sheet("Customers", ("Customer ID", "Name", "Street", "Postal Code", "City"),
              ("C1", "Ahmet Öztürk", "Georg-Schwarz-Straße 31", "04177", "Leipzig"),
              ("C2", "Fatma Çelik", "Merseburger Straße 102", "04177", "Leipzig")),
        sheet("Payers", ("Payer ID", "Name", "Type", "Plugin", "Street", "Postal Code", "City"),
              ("GOV", "Jobcenter Leipzig", "government", "standard", "Georg-Schumann-Straße 150", "04159", "Leipzig"),
              ("EMP", "Klinikum Lindenau", "employer", "employer_budget", "Am Klinikum 1", "04179", "Leipzig")),
        sheet("Coverage", ("Customer ID", "Payer ID", "Priority", "Covered Percent", "Annual Budget"), *coverage),
        sheet("Services", services_header, *services),
        sheet("Charges", CHARGES_HEADER, *charges),
    )


def run(sheets, as_of=AS_OF):
    return run_billing(sheets, as_of=as_of, plugins=Plugins(get_plugin_manager(entry_points=False)))


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def en16931(lines) -> tuple[Decimal, Decimal, dict]:
    """Net and Tax of an invoice recomputed from its lines by EN 16931 (BR-CO-17, BR-S-08 ...), and the
    taxes per (category, rate)."""
    bases: dict[tuple, Decimal] = defaultdict(Decimal)
    for line in lines:
        bases[(line.tax_category, line.tax_rate)] += line.net
    taxes = {key: half_up(basis * key[1] / 100) for key, basis in bases.items()}
    return sum(bases.values(), D(0)), sum(taxes.values(), D(0)), taxes


FIVE_CENTS = D("0.05")


def assert_en16931(result, most_rounding=FIVE_CENTS):
    """Every new invoice's Net and Tax are its lines' by EN 16931; Amount is the sum of the lines'
    gross; the rounding amount (BT-114) is small and explicit."""
    for invoice in result.issued.invoices:
        lines = [ln for ln in result.issued.lines if ln.invoice_no == invoice.invoice_no]
        net, tax, _ = en16931(lines)
        assert (invoice.net, invoice.tax) == (net, tax), invoice.invoice_no
        assert invoice.amount == sum((ln.amount for ln in lines), D(0))
        assert invoice.amount == invoice.net + invoice.tax + invoice.rounding
        assert abs(invoice.rounding) <= most_rounding, invoice


def the_invoices(result):
    return {(i.bill_to_type, i.bill_to_id): i for i in result.issued.invoices}


# --- the worked examples of docs/tax.md -------------------------------------------------------------


def test_net_prices_tax_is_added_per_rate_and_the_amount_is_net_plus_tax():
    result = run(utility())
    assert result.problems == []
    [invoice] = result.issued.invoices
    # 7 %: 15.80 (7.35 m³ x 2.15 = 15.8025) + 8.50 = 24.30 -> 1.701 -> 1.70
    # 19 %: 85.91 (690 kWh x 0.1245 = 85.905) + 14.90 = 100.81 -> 19.1539 -> 19.15
    assert (invoice.net, invoice.tax, invoice.amount) == (D("125.11"), D("20.85"), D("145.96"))
    assert invoice.rounding == 0
    lines = result.issued.lines
    assert [(ln.net, ln.tax_category, ln.tax_rate) for ln in lines] == [
        (D("15.80"), "S", D("7")), (D("8.50"), "S", D("7")), (D("85.91"), "S", D("19")), (D("14.90"), "S", D("19"))]
    assert_en16931(result, most_rounding=D("0"))
    rows = rows_of(result.outputs, "Invoices")
    assert (rows[0]["Net"], rows[0]["Tax"], rows[0]["Amount"]) == (D("125.11"), D("20.85"), D("145.96"))


def test_gross_prices_each_line_net_is_derived_once_and_a_cent_left_over_is_the_rounding_amount():
    result = run(utility(gross=True))
    [invoice] = result.issued.invoices
    # nets: 15.80/1.07 = 14.77, 8.50/1.07 = 7.94, 85.91/1.19 = 72.19, 14.90/1.19 = 12.52
    assert [ln.net for ln in result.issued.lines] == [D("14.77"), D("7.94"), D("72.19"), D("12.52")]
    # 7 %: 22.71 -> 1.5897 -> 1.59; 19 %: 84.71 -> 16.0949 -> 16.09
    assert (invoice.net, invoice.tax) == (D("107.42"), D("17.68"))
    assert invoice.amount == D("125.11")  # the gross prices, as quoted
    assert invoice.rounding == D("0.01")  # BT-114, shown on the invoice
    assert_en16931(result)


@pytest.mark.parametrize("gross", [False, True], ids=["net prices", "gross prices"])
def test_a_bill_split_with_a_government_payer_foots_to_the_charges_net_and_tax(gross):
    whole = run(utility(gross=gross)).issued.invoices[0]
    result = run(utility(gross=gross, coverage=[("C1", "GOV", 1, 50, None)]))
    invoices = the_invoices(result)
    payer, customer = invoices[("Payer", "GOV")], invoices[("Customer", "C1")]
    assert payer.net + customer.net == whole.net
    assert payer.tax + customer.tax == whole.tax
    # the split is on gross: each charge's gross is shared to the cent
    charges = defaultdict(Decimal)
    for line in result.issued.lines:
        charges[line.charge_id] += line.amount
    assert all(charges[ln.charge_id] == ln.charge_amount for ln in result.issued.lines)
    # each party's invoice shows its own net and tax per rate, recomputed from its own lines
    for invoice in (payer, customer):
        _, _, taxes = en16931([ln for ln in result.issued.lines if ln.invoice_no == invoice.invoice_no])
        assert set(taxes) == {("S", D("7")), ("S", D("19"))}
    assert_en16931(result)
    # both parties' nets per charge add up to the charge's net
    nets = defaultdict(Decimal)
    for line in result.issued.lines:
        nets[line.charge_id] += line.net
    assert nets == {ln.charge_id: ln.net for ln in run(utility(gross=gross)).issued.lines}


def test_an_employer_budget_split_shows_its_own_tax():
    result = run(utility(gross=True, coverage=[("C1", "EMP", 1, None, 50)]))
    invoices = the_invoices(result)
    employer, customer = invoices[("Payer", "EMP")], invoices[("Customer", "C1")]
    assert employer.amount == D("50.00")
    whole = run(utility(gross=True)).issued.invoices[0]
    assert (employer.net + customer.net, employer.tax + customer.tax) == (whole.net, whole.tax)
    assert employer.amount + customer.amount == whole.amount
    assert_en16931(result)


def test_a_credit_note_reverses_the_tax_of_what_it_credits_per_category():
    sheets = utility()
    first = run(sheets)
    [original] = first.issued.invoices
    after = with_outputs(sheets, first.outputs)
    after["Charges"] = sheet("Charges", CHARGES_HEADER, *JANUARY[:2], ("3", "2026-01-31", "C1", "HEAT", 700),
                             JANUARY[3])
    second = run(after, as_of=dt.date(2026, 3, 2))
    credit = next(i for i in second.issued.invoices if i.kind == "Credit Note")
    credited = [ln for ln in second.issued.lines if ln.invoice_no == credit.invoice_no]
    issued = {ln.charge_id: ln for ln in first.issued.lines}
    assert [(ln.net, ln.tax_category, ln.tax_rate) for ln in credited] == [
        (-issued["3"].net, "S", D("19"))]
    assert credit.net == D("-85.91") and credit.tax == D("-16.32")  # 85.91 x 19 % = 16.3229
    assert credit.amount == -issued["3"].amount
    assert_en16931(second)
    rebill = next(i for i in second.issued.invoices if i.kind == "Invoice")
    assert rebill.net == D("87.15")  # 700 x 0.1245 = 87.15
    # crediting the whole invoice reverses its Net and Tax exactly
    after["Charges"] = sheet("Charges", CHARGES_HEADER)
    third = run(with_outputs(sheets, first.outputs), as_of=dt.date(2026, 3, 2))
    assert not third.issued.invoices
    gone = run(after, as_of=dt.date(2026, 3, 2))
    notes = [i for i in gone.issued.invoices if i.kind == "Credit Note"]
    assert (sum(i.net for i in notes), sum(i.tax for i in notes)) == (-original.net, -original.tax)


# --- untaxed workbooks and history -------------------------------------------------------------------

UNTAXED_SERVICES = (("WATER", "Drinking water per m³", D("2.15")), ("WATER-BASE", "Water base fee", D("8.50")),
                    ("HEAT", "District heating per kWh", D("0.1245")),
                    ("HEAT-BASE", "District heating base fee", D("14.90")))


def untaxed(**kwargs):
    sheets = utility(services=UNTAXED_SERVICES, services_header=SERVICES_HEADER[:3], **kwargs)
    sheets["Settings"] = sheet("Settings", ("Setting", "Value"), ("Company Name", "Stadtwerke"))
    return sheets


def test_a_workbook_without_tax_bills_exactly_as_before():
    result = run(untaxed())
    [invoice] = result.issued.invoices
    assert (invoice.amount, invoice.net, invoice.tax) == (D("125.11"), None, None)
    assert all(ln.net is None and ln.tax_category is None and ln.tax_rate is None for ln in result.issued.lines)
    row = rows_of(result.outputs, "Invoices")[0]
    assert (row["Net"], row["Tax"]) == (None, None)
    assert not [p for p in result.problems if "tax" in p.code]


def test_turning_tax_on_never_re_taxes_issued_history_and_credits_old_invoices_untaxed():
    sheets = untaxed()
    first = run(sheets)
    after = with_outputs(sheets, first.outputs)
    after["Services"] = sheet("Services", SERVICES_HEADER, *UTILITY_SERVICES)
    second = run(after, as_of=dt.date(2026, 3, 2))
    assert not second.issued.invoices and second.exit_code == 0  # nothing re-taxed, seals verify
    assert second.book.invoices[0].net is None
    # a changed charge: its old untaxed line is credited untaxed, the correction billed with tax
    after = with_outputs(after, second.outputs)
    after["Charges"] = sheet("Charges", CHARGES_HEADER, *JANUARY[:2], ("3", "2026-01-31", "C1", "HEAT", 700),
                             JANUARY[3])
    third = run(after, as_of=dt.date(2026, 3, 3))
    credit = next(i for i in third.issued.invoices if i.kind == "Credit Note")
    rebill = next(i for i in third.issued.invoices if i.kind == "Invoice")
    assert (credit.amount, credit.net, credit.tax) == (D("-85.91"), None, None)
    assert (rebill.net, rebill.tax, rebill.amount) == (D("87.15"), D("16.56"), D("103.71"))
    assert third.exit_code == 0
    again = run(with_outputs(after, third.outputs), as_of=dt.date(2026, 3, 3))
    assert not again.issued.invoices and again.exit_code == 0


def test_a_net_typed_into_an_old_untaxed_row_is_an_edit_of_that_column():
    sheets = untaxed()
    first = run(sheets)
    after = with_outputs(sheets, first.outputs)
    second = run(after, as_of=dt.date(2026, 3, 2))
    after = with_outputs(after, second.outputs)
    invoices = after["Invoices"]
    net = invoices.rows[0].index("Net")
    invoices.rows[1][net] = 100
    third = run(after, as_of=dt.date(2026, 3, 2))
    edited = [p for p in third.problems if p.code == "edited-history"]
    assert [(p.sheet, p.column) for p in edited] == [("Invoices", "Net")]


def test_taxed_history_reads_back_unchanged_and_a_changed_tax_value_is_an_edit():
    sheets = utility()
    first = run(sheets)
    after = with_outputs(sheets, first.outputs)
    second = run(after)
    assert not second.issued.invoices and second.exit_code == 0
    assert [tuple(r) for r in second.outputs[1].rows] == [tuple(r) for r in first.outputs[1].rows]
    lines = after["Invoice Lines"]
    rate = lines.rows[0].index("Tax Rate")
    lines.rows[1][rate] = 19
    third = run(after)
    assert [(p.sheet, p.column) for p in third.problems if p.code == "edited-history"] == [
        ("Invoice Lines", "Tax Rate")]


# --- services' tax -----------------------------------------------------------------------------------


def test_exempt_services_need_their_reason_and_category_defaults_follow_the_rate():
    services = (("A", "Consultation", 80, 0, None, "Steuerfrei nach § 4 Nr. 14 UStG"),
                ("B", "Certificate", 15, 19, None, None),
                ("C", "Report", 30, 0, "E", None),
                ("D", "Export", 50, 0, "G", None),
                ("E", "Typo", 50, 7, "E", None),
                ("F", "Odd", 50, None, "X", None))
    charges = [(str(n), "2026-02-01", "C1", code, 1) for n, code in enumerate("ABCDEF", start=1)]
    result = run(utility(services=services, charges=charges))
    codes = {(p.sheet, p.row, p.column, p.code) for p in result.problems}
    assert codes == {("Services", 4, "Tax Exemption", "tax-exemption-missing"),
                     ("Services", 6, "Tax Rate", "bad-tax-rate"), ("Services", 7, "Tax Category", "bad-tax-category"),
                     # the charges of a service left out are not billed
                     *(("Charges", row, "Service Code", "unknown-service") for row in (4, 6, 7))}
    lines = {ln.service_code: ln for ln in result.issued.lines}
    assert (lines["A"].tax_category, lines["A"].tax_exemption) == ("E", "Steuerfrei nach § 4 Nr. 14 UStG")
    assert (lines["B"].tax_category, lines["B"].tax_rate) == ("S", D("19"))
    assert (lines["D"].tax_category, lines["D"].tax_exemption) == ("G", "Export outside the EU")
    [invoice] = result.issued.invoices
    assert (invoice.net, invoice.tax) == (D("145"), D("2.85"))  # 80 + 15 + 50; 15 x 19 %


def test_default_tax_settings_fill_in_blank_services():
    services = (("A", "Consultation", 80, None, None, None), ("B", "Taxed", 100, 19, None, None))
    result = run(utility(services=services, charges=[("1", "2026-02-01", "C1", "A", 1),
                                                    ("2", "2026-02-01", "C1", "B", 1)],
                         settings=[("Default Tax Rate", 0), ("Default Tax Category", "E"),
                                   ("Default Tax Exemption", "Steuerfrei nach § 4 Nr. 14 UStG")]))
    lines = {ln.service_code: ln for ln in result.issued.lines}
    assert (lines["A"].tax_category, lines["A"].tax_rate) == ("E", D("0"))
    assert (lines["B"].tax_category, lines["B"].tax_rate) == ("S", D("19"))


def test_small_business_charges_no_tax_and_prints_the_section_19_note():
    result = run(utility(settings=[("Small Business", "yes")]))
    [invoice] = result.issued.invoices
    assert (invoice.net, invoice.tax, invoice.amount) == (D("125.11"), D("0"), D("125.11"))
    assert {(ln.tax_category, ln.tax_rate, ln.tax_exemption) for ln in result.issued.lines} == {
        (TaxCategory.EXEMPT, D("0"), SMALL_BUSINESS_NOTE)}


def test_a_vat_id_is_checked():
    result = run(utility(settings=[("VAT ID", "DE123456789")]))
    assert [p.code for p in result.problems] == ["bad-vat-id"]
    assert result.book.settings.vat_id is None
    assert run(utility(settings=[("VAT ID", "DE 136 695 976")])).problems == []


# --- the rules as functions ----------------------------------------------------------------------------


def test_allocated_line_taxes_add_up_to_the_tax_of_the_sum():
    nets = [D("0.05")] * 3
    assert allocate_tax(nets, D("19")) == [D("0.01"), D("0.01"), D("0.01")]  # 0.0285 -> 0.03
    nets = [D("8.50"), D("15.80")]
    assert sum(allocate_tax(nets, D("7"))) == half_up(sum(nets) * 7 / 100)


def test_share_nets_foot_to_the_charge_net():
    assert share_nets([D("59.50"), D("59.50")], D("100.00"), D("19")) == [D("50.00"), D("50.00")]
    assert share_nets([D("0.01"), D("0.01"), D("0.01")], D("0.03"), D("19")) == [D("0.01"), D("0.01"), D("0.01")]
    assert net_of(D("15.80"), D("7")) == D("14.77")


def test_breakdown_groups_per_category_and_rate_and_is_none_without_tax():
    from sheetbill.models import InvoiceLine

    def line(amount, net, category, rate, reason=None):
        return InvoiceLine("I", "c", None, "C1", "S", "S", D(1), D(amount), D(amount), net=D(net),
                           tax_category=category, tax_rate=D(rate), tax_exemption=reason)

    breakdown = invoice_tax_breakdown([line("119", "100", "S", 19), line("10", "10", "E", 0, "§ 4 Nr. 14"),
                                       line("5", "5", "E", 0, "§ 4 Nr. 21"), line("107", "100", "S", 7)])
    assert [(s.category, s.rate, s.basis, s.tax, s.exemption_reason) for s in breakdown.subtotals] == [
        ("S", D(19), D(100), D("19.00"), None), ("S", D(7), D(100), D("7.00"), None),
        ("E", D(0), D(15), D("0.00"), "§ 4 Nr. 14; § 4 Nr. 21")]
    assert (breakdown.net, breakdown.tax, breakdown.amount, breakdown.rounding) == (
        D(215), D(26), D(241), D(0))
    untaxed_line = InvoiceLine("I", "c", None, "C1", "S", "S", D(1), D(5), D(5))
    assert invoice_tax_breakdown([untaxed_line]) is None


# --- random bills: the split always foots ------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@hypothesis.settings(max_examples=40, deadline=None)
@hypothesis.given(
    gross=st.booleans(),
    covered=st.integers(min_value=1, max_value=99),
    bills=st.lists(st.tuples(st.sampled_from([s[0] for s in UTILITY_SERVICES]),
                             st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)),
                   min_size=1, max_size=6),
)
def test_random_split_bills_foot_to_the_cent(gross, covered, bills):
    charges = [(str(n), "2026-02-01", "C1", code, quantity) for n, (code, quantity) in enumerate(bills, start=1)]
    whole = run(utility(gross=gross, charges=charges))
    split = run(utility(gross=gross, charges=charges, coverage=[("C1", "GOV", 1, covered, None)]))
    assert whole.problems == [] and split.problems == []
    [single] = whole.issued.invoices
    assert sum(i.net for i in split.issued.invoices) == single.net
    assert sum(i.tax for i in split.issued.invoices) == single.tax
    # the split is on gross: a charge shared by both parties is shared to the cent (a party billed a whole
    # charge at net prices has its line's gross from its invoice's tax instead, see docs/tax.md)
    shares = defaultdict(list)
    for line in split.issued.lines:
        shares[line.charge_id].append(line)
    for lines in shares.values():
        if len(lines) > 1 or gross:
            assert sum(ln.amount for ln in lines) == lines[0].charge_amount
    if gross:
        assert sum(i.amount for i in split.issued.invoices) == single.amount
    assert_en16931(whole, most_rounding=D("0.05"))
    assert_en16931(split, most_rounding=D("0.20"))
    if not gross:
        assert single.rounding == 0  # net prices: Amount = Net + Tax
