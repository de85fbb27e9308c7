"""The committed template and demo workbooks: current, shaped by the contract, and billable.

``workbooks/build.py`` generates ``workbooks/*.xlsx``, the packaged template and the generated
tables of ``docs/workbook.md``; these tests check that the committed files are what a fresh build
writes, that every sheet follows :mod:`sheetbill.contract` (headers, drop-downs, frozen header
row), and that a billing run over each demo bills every kind of payer and reports only the
problems the demos show on purpose.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from sheetbill import contract, contract_bank, workbook_template
from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.run import RunResult, run_billing
from sheetbill.sheets import RawSheet

ROOT = Path(__file__).resolve().parent.parent
WORKBOOKS = ROOT / "workbooks"


def _load_build():
    spec = importlib.util.spec_from_file_location("sheetbill_workbooks_build", WORKBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


build = _load_build()

ALL_FILES = (build.TEMPLATE_FILE, build.MEDICAL_FILE, build.UTILITY_FILE)
DEMOS = (build.MEDICAL_FILE, build.UTILITY_FILE)

#: Columns staff added to input sheets, by file and sheet; everything else is the contract's.
EXTRA_COLUMNS = {
    (build.TEMPLATE_FILE, "Settings"): ["Description"],
    (build.MEDICAL_FILE, "Settings"): ["Description"],
    (build.MEDICAL_FILE, "Charges"): ["Line Total", "Entered By"],
    (build.UTILITY_FILE, "Settings"): ["Description"],
    (build.UTILITY_FILE, "Charges"): ["Line Total", "Read By"],
}

#: The Problems each demo shows on purpose: (severity, sheet, part of the message). Anything else
#: that is an error fails the test; warnings are allowed only where listed or on Customers rows of
#: customers without usable contact details (overdue tracking warns that it cannot remind them).
DELIBERATE = {
    build.MEDICAL_FILE: [("error", "Charges", "payer-code-missing", "TRAVEL-VACC")],
    build.UTILITY_FILE: [("error", "Charges", "unknown-customer", "'0047l21'")],
}
NO_CONTACT_DETAILS = {build.MEDICAL_FILE: "P-1010", build.UTILITY_FILE: "0047122"}

#: Payer types each demo bills.
PAYER_TYPES = {build.MEDICAL_FILE: {"insurer", "government"},
               build.UTILITY_FILE: {"employer", "government", "other"}}


# --- helpers ---------------------------------------------------------------------------------------


def read_sheets(path: Path) -> dict[str, RawSheet]:
    """Every sheet of ``path`` as the core receives it: sheetbill's own reader when it exists."""
    try:
        from sheetbill.io.xlsx import read_workbook
    except ImportError:
        book = openpyxl.load_workbook(path, data_only=True)
        return {ws.title: RawSheet(ws.title, [list(r) for r in ws.iter_rows(min_row=1, min_col=1,
                                                                            values_only=True)])
                for ws in book.worksheets}
    return read_workbook(path)


def header_row(ws) -> list[str]:
    """Row 1 of a worksheet, up to the last non-empty header."""
    cells = [c.value for c in ws[1]]
    while cells and cells[-1] in (None, ""):
        cells.pop()
    return cells


def validations(ws) -> dict[str, object]:
    """The list validations of a worksheet by the column letter they cover (from row 2 down)."""
    found = {}
    for validation in ws.data_validations.dataValidation:
        if validation.type != "list":
            continue
        for cell_range in validation.sqref.ranges:
            assert cell_range.min_row == 2 and cell_range.max_row == 1_048_576, cell_range.coord
            assert cell_range.min_col == cell_range.max_col
            found[openpyxl.utils.get_column_letter(cell_range.min_col)] = validation
    return found


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> dict[str, Path]:
    """The workbooks as a fresh build writes them."""
    return build.build_all(tmp_path_factory.mktemp("fresh"))


@pytest.fixture(scope="module")
def runs() -> dict[str, RunResult]:
    """A billing run over each committed demo, as of its Settings date, with the built-in plugins only."""
    plugins = Plugins(get_plugin_manager(entry_points=False))
    return {name: run_billing(read_sheets(WORKBOOKS / name), plugins=plugins) for name in DEMOS}


# --- the files are current ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_FILES)
def test_committed_workbook_is_a_fresh_build(fresh, name):
    committed = WORKBOOKS / name
    assert committed.read_bytes() == fresh[name].read_bytes(), (
        f"workbooks/{name} is out of date: run  python workbooks/build.py  and commit the result")


def test_build_is_reproducible(fresh, tmp_path):
    again = build.build_all(tmp_path)
    for name in ALL_FILES:
        assert again[name].read_bytes() == fresh[name].read_bytes(), name


def test_packaged_template_is_the_template():
    assert build.PACKAGED_TEMPLATE.read_bytes() == (WORKBOOKS / build.TEMPLATE_FILE).read_bytes()
    assert workbook_template.template_bytes() == (WORKBOOKS / build.TEMPLATE_FILE).read_bytes()


def test_docs_tables_are_current():
    docs = build.DOCS.read_text(encoding="utf-8")
    assert build.update_docs(docs) == docs, "docs/workbook.md is out of date: run  python workbooks/build.py"
    for spec in contract.INPUT_TABLES:
        assert f"<!-- generated: columns {spec.name} -->" in docs or spec is contract.SETTINGS, spec.name
    for name in contract.SETTING_FIELDS:
        assert f"| {name} |" in docs, name


def test_every_contract_column_is_explained():
    for spec in contract.INPUT_TABLES:
        assert set(build.COLUMN_NOTES[spec.name]) == {f.header for f in spec.fields}, spec.name
        assert spec.name in build.SHEET_PURPOSE


# --- shape: sheets, headers, formats, drop-downs -------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_FILES)
def test_sheets_in_contract_order_after_read_me(name):
    book = openpyxl.load_workbook(WORKBOOKS / name)
    names = book.sheetnames
    assert names[0] == "Read me"
    assert names[1:1 + len(contract.INPUT_SHEETS)] == list(contract.INPUT_SHEETS)
    history = [contract.INVOICES_SHEET, contract.INVOICE_LINES_SHEET]
    if name == build.MEDICAL_FILE:  # a patient who pays only when reminded: reminders are history too
        history.append(contract.REMINDERS_SHEET)
    assert names[1 + len(contract.INPUT_SHEETS):] == ([] if name == build.TEMPLATE_FILE else history)
    assert book.active.title == "Read me"


@pytest.mark.parametrize("name", ALL_FILES)
def test_input_sheets_have_the_contract_headers_and_a_frozen_header(name):
    book = openpyxl.load_workbook(WORKBOOKS / name)
    for spec in contract.INPUT_TABLES:
        ws = book[spec.name]
        expected = [f.header for f in spec.fields] + EXTRA_COLUMNS.get((name, spec.name), [])
        assert header_row(ws) == expected, spec.name
        assert ws.freeze_panes == "A2", spec.name
        for col, fld in enumerate(spec.fields, start=1):
            cell = ws.cell(1, col)
            assert cell.font.b, (spec.name, fld.header)
            assert cell.fill.fgColor.rgb not in (None, "00000000"), (spec.name, fld.header)
            assert cell.comment is not None and cell.comment.text.startswith(build.COLUMN_NOTES[spec.name][fld.header])


@pytest.mark.parametrize("name", ALL_FILES)
def test_drop_downs_for_every_choice_column(name):
    book = openpyxl.load_workbook(WORKBOOKS / name)
    expected = {
        ("Payers", "Type"): (contract.PAYER_TYPES, "stop"),
        ("Payers", "Plugin"): (("standard", "employer_budget", "fee_schedule", "goae"), "information"),
        ("Payers", "Secondary Method"): (contract.SECONDARY_METHODS, "stop"),
        ("Payers", "Balance Billing"): (("yes", "no"), "warning"),
        ("Customers", "Business"): (("yes", "no"), "warning"),
        ("Coverage", "Copay Then Coinsurance"): (("yes", "no"), "warning"),
        ("Coverage", "Copay Counts To Deductible"): (("yes", "no"), "warning"),
        ("Charges", "Fee Agreement"): (("yes", "no"), "warning"),
        ("Payments", "Type"): (contract_bank.PAYMENT_TYPES, "stop"),
        ("Contacts", "Channel"): (contract.CONTACT_CHANNELS, "stop"),
        ("Contacts", "Outcome"): (contract.CONTACT_OUTCOMES, "stop"),
        ("Payer Codes", "Covered"): (("yes", "no"), "warning"),
        ("Payer Codes", "Prior Authorization"): (("yes", "no"), "warning"),
        ("Customers", "E-Invoice"): (contract.E_INVOICE_CHOICES, "stop"),
        ("Payers", "E-Invoice"): (contract.E_INVOICE_CHOICES, "stop"),
        ("Mandates", "Scheme"): (contract_bank.MANDATE_SCHEMES, "stop"),
        ("Mandates", "Status"): (contract_bank.MANDATE_STATUSES, "stop"),
    }
    for spec in contract.INPUT_TABLES:
        ws = book[spec.name]
        menus = validations(ws)
        wanted = {openpyxl.utils.get_column_letter(i): expected[(spec.name, f.header)]
                  for i, f in enumerate(spec.fields, start=1) if (spec.name, f.header) in expected}
        assert set(menus) == set(wanted), spec.name
        for letter, (values, error_style) in wanted.items():
            assert menus[letter].formula1 == '"' + ",".join(values) + '"', (spec.name, letter)
            assert (menus[letter].errorStyle or "stop") == error_style, (spec.name, letter)


def test_choice_columns_of_the_contract_all_have_drop_downs():
    for spec in contract.INPUT_TABLES:
        for fld in spec.fields:
            if fld.kind in ("choice", "yesno"):
                assert build.choices_of(spec, fld) is not None, (spec.name, fld.header)


@pytest.mark.parametrize("name", ALL_FILES)
def test_column_formats_follow_the_kind(name):
    book = openpyxl.load_workbook(WORKBOOKS / name)
    for spec in contract.INPUT_TABLES:
        ws = book[spec.name]
        for col, fld in enumerate(spec.fields, start=1):
            widths = [d.width for d in ws.column_dimensions.values() if d.min <= col <= d.max]
            assert widths and widths[0] >= len(fld.header), (spec.name, fld.header)
            number_format = build.KIND_FORMATS[fld.kind][0]
            for row in range(2, ws.max_row + 1):
                cell = ws.cell(row, col)
                if cell.value is None or spec is contract.SETTINGS:
                    continue
                assert cell.number_format == number_format, (spec.name, fld.header, row)
                if fld.kind == "id":
                    assert isinstance(cell.value, str), (spec.name, fld.header, row, cell.value)


@pytest.mark.parametrize("name", ALL_FILES)
def test_settings_list_every_setting(name):
    ws = openpyxl.load_workbook(WORKBOOKS / name)["Settings"]
    values = {row[0]: row[1] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert list(values) == [*contract.SETTING_FIELDS, *contract_bank.DEBIT_SETTINGS, *contract_bank.BANK_SETTINGS]
    assert values["Currency"] == "EUR"
    assert values["Reminder Days"] == "14, 14, 14" and values["Reminder Fees"] == "0; 5; 10"
    if name == build.TEMPLATE_FILE:
        assert values["As Of Date"] is None and values["Company Name"] is None
    else:
        assert values["As Of Date"] == dt.datetime(2026, 6, 30)
        assert values["Bank IBAN"] == "DE89370400440532013000"
        assert values["Collection After Days"] == 14 and values["Collection Agency"]


def test_template_has_no_records_but_settings():
    book = openpyxl.load_workbook(WORKBOOKS / build.TEMPLATE_FILE)
    for spec in contract.INPUT_TABLES:
        if spec is not contract.SETTINGS:
            assert book[spec.name].max_row == 1, spec.name


def test_read_me_names_every_sheet_and_command():
    for name in ALL_FILES:
        text = "\n".join(str(c.value) for c in openpyxl.load_workbook(WORKBOOKS / name)["Read me"]["A"] if c.value)
        for sheet in (*contract.INPUT_SHEETS, *build.OUTPUT_SHEETS):
            assert f"{sheet}:" in text, (name, sheet)
        for command in ("sheetbill check", "sheetbill bill", "sheetbill new", "sheetbill overdue"):
            assert command in text, (name, command)


def test_utility_services_is_an_excel_table_and_charges_keep_staff_formulas():
    book = openpyxl.load_workbook(WORKBOOKS / build.UTILITY_FILE)
    tables = book["Services"].tables
    assert list(tables) == ["Services"] and tables["Services"].ref.startswith("A1:F")
    charges = book["Charges"]
    column = next(c.column_letter for c in charges[1] if c.value == "Line Total")  # after the contract's columns
    assert str(charges[f"{column}2"].value).startswith("=IF(E2")
    cached = openpyxl.load_workbook(WORKBOOKS / build.UTILITY_FILE, data_only=True)["Charges"]
    assert cached[f"{column}2"].value == 8.5


# --- billing the demos ---------------------------------------------------------------------------------------


def _unexpected(name: str, result: RunResult) -> list[str]:
    customers = {c.customer_id: c.row for c in result.book.customers.values()}
    allowed_rows = {customers.get(NO_CONTACT_DETAILS[name])}
    bad = []
    for problem in result.problems:
        if any(problem.severity == severity and problem.sheet == sheet and fragment in problem.message
               for severity, sheet, code, fragment in DELIBERATE[name]
               if problem.code == code):
            continue
        if problem.severity == "warning" and problem.sheet == "Customers" and problem.row in allowed_rows:
            continue
        bad.append(str(problem))
    return bad


@pytest.mark.parametrize("name", DEMOS)
def test_demo_run_reports_only_deliberate_problems(runs, name):
    result = runs[name]
    assert result.book.settings.as_of == build.DEMO_AS_OF
    assert _unexpected(name, result) == []
    for severity, sheet, code, fragment in DELIBERATE[name]:
        assert any(p.severity == severity and p.sheet == sheet and p.code == code and fragment in p.message
                   for p in result.problems)


@pytest.mark.parametrize("name", DEMOS)
def test_demo_bills_every_kind_of_payer_and_customers(runs, name):
    result = runs[name]
    payer_types = {result.book.payers[i.bill_to_id].type for i in result.invoices if i.bill_to_type == "Payer"}
    assert payer_types == PAYER_TYPES[name]
    new = result.new_invoices
    assert {i.bill_to_type for i in new} == {"Payer", "Customer"}
    june_types = {result.book.payers[i.bill_to_id].type for i in new if i.bill_to_type == "Payer"}
    assert june_types, "the June run bills payers too"
    assert all(i.issue_date == build.DEMO_AS_OF for i in new)


@pytest.mark.parametrize("name", DEMOS)
def test_demo_history_and_payments_post(runs, name):
    result = runs[name]
    statuses = {a.status for a in result.receivables.values()}
    assert {"Paid", "Partially Paid", "Open"} <= statuses
    kinds = {p.type for p in result.book.payments}
    assert {"Payment", "Write-off", "Transfer to Customer"} <= kinds <= set(contract_bank.PAYMENT_TYPES)
    assert not [p for p in result.problems if p.sheet == "Payments"]
    transfers = [ln for ln in result.lines if ln.payment_id]
    # one transfer; in a taxed workbook one line per tax rate of the payer invoice it comes from
    assert len({ln.payment_id for ln in transfers}) == 1 and all(ln.reason.startswith("transfer from")
                                                                 for ln in transfers)


def _lines(result: RunResult, charge_id: str):
    return [ln for ln in result.lines if ln.charge_id == charge_id]


def _advice(result: RunResult, customer_id: str) -> str:
    return "\n".join(str(a.text) for a in result.advice if a.customer_id == customer_id)


def test_medical_demo_exercises_the_adjudication_rules(runs):
    result = runs[build.MEDICAL_FILE]
    invoices = {i.invoice_no: i for i in result.invoices}
    # Prior authorization: M-0036 is held, M-0013 (with an Authorization No) was billed.
    assert _lines(result, "M-0036") == [] and "M-0036" in _advice(result, "P-1003")
    assert {ln.billed_code for ln in _lines(result, "M-0013")} == {"73721", "MRI"}
    # Missing CPT mapping: M-0016 is held.
    assert _lines(result, "M-0016") == []
    # Copay with a contractual adjustment.
    assert [(ln.amount, ln.adjustment, ln.reason) for ln in _lines(result, "M-0003")][1][2] == "copay"
    # Out-of-pocket maximum reached part-way through M-0037; nothing left for the customer in June.
    assert any("out-of-pocket" in ln.reason for ln in _lines(result, "M-0037"))
    assert all(invoices[ln.invoice_no].bill_to_type == "Payer" for ln in _lines(result, "M-0041"))
    # Secondary coverage: three parties for the MRI M-0030.
    assert {invoices[ln.invoice_no].bill_to_id for ln in _lines(result, "M-0030")} == {"INS-DKV", "INS-BAR", "P-1001"}
    # Coverage ended: M-0032 goes to the patient with advice.
    assert [invoices[ln.invoice_no].bill_to_type for ln in _lines(result, "M-0032")] == ["Customer"]
    assert "coverage ended 2026-03-31" in _advice(result, "P-1002")
    # Fee schedule: the programme pays the fee, the rest is written off, the patient pays nothing.
    assert [(ln.amount, ln.adjustment) for ln in _lines(result, "M-0006")] == [(45, 35)]
    # Corrections: M-0031 credited and billed again with quantity 2; M-0028 (the Sozialamt's) and M-0033 (DKV
    # and the patient's share) with quantity 1: credit notes to e-invoice payers too.
    credit = [i for i in result.new_invoices if i.kind == "Credit Note"]
    assert sorted((i.customer_id, i.bill_to_id) for i in credit) == [
        ("P-1005", "GOV-SOZ"), ("P-1007", "P-1007"), ("P-1009", "INS-DKV"), ("P-1009", "P-1009")]
    assert sorted(ln.amount for ln in _lines(result, "M-0031")) == [-165, 110, 165]
    assert sorted(ln.amount for ln in _lines(result, "M-0028")) == [-110, 55, 110]


def test_medical_demo_bills_a_private_patient_under_the_goae(runs):
    result = runs[build.MEDICAL_FILE]
    invoices = {i.invoice_no: i for i in result.invoices}
    billed = {ln.charge_id: (invoices[ln.invoice_no].bill_to_id, ln.charge_amount, ln.amount, ln.reason)
              for ln in result.lines if ln.customer_id == "P-1013"}
    # 150 x 0.0582873 x 3.0 = 26.23 (justified); 40 x ... x 2.3 = 5.36; 80 x ... x 2.3 = 10.72
    assert billed == {
        "M-0049": ("P-1013", Decimal("26.23"), Decimal("26.23"),
                   "GOÄ 3, factor 3.0: überdurchschnittlich zeitaufwendige Beratung (45 Minuten) bei mehreren "
                   "Erkrankungen"),
        "M-0050": ("P-1013", Decimal("5.36"), Decimal("5.36"), "GOÄ 250, factor 2.3"),
        "M-0051": ("P-1013", Decimal("10.72"), Decimal("10.72"), "GOÄ 1, factor 2.3")}


def test_utility_demo_exercises_the_payers(runs):
    result = runs[build.UTILITY_FILE]
    invoices = {i.invoice_no: i for i in result.invoices}
    assert "employer budget" in _advice(result, "0047111")
    # 0047120 overpaid an invoice: the rest is credit, applied to the next invoice automatically.
    assert any(a.source_type == "Credit" and invoices[a.invoice_no].customer_id == "0047120"
               for a in result.ledger.allocations)
    assert "coverage ended 2026-04-30" in _advice(result, "0047115")
    heat = [c for c in result.book.charges if c.service_code == "HEAT"]
    assert any(c.quantity != c.quantity.to_integral_value() for c in result.book.charges)
    assert heat and len(result.book.services) == 8  # read from the Services Excel table
    jobcenter = {invoices[ln.invoice_no].bill_to_id for ln in result.lines if ln.customer_id == "0047113"}
    assert {"GOV-JC", "0047113"} <= jobcenter


# --- sheetbill new ------------------------------------------------------------------------------------------


def test_write_template(tmp_path):
    target = workbook_template.write_template(tmp_path / "new.xlsx")
    assert target.read_bytes() == (WORKBOOKS / build.TEMPLATE_FILE).read_bytes()
    with pytest.raises(FileExistsError):
        workbook_template.write_template(target)
    workbook_template.write_template(target, overwrite=True)
    with pytest.raises(ValueError):
        workbook_template.write_template(tmp_path / "new.xls")
    assert [p.name for p in tmp_path.iterdir()] == ["new.xlsx"]


def test_medical_demo_shows_a_reminder_paid_in_full_with_its_fee(runs):
    result = runs[build.MEDICAL_FILE]
    reminded = [r for r in result.book.reminders if r.level == 2 and r.fee]
    assert reminded, "the demo's history holds a second reminder with a fee"
    item = result.receivables[reminded[0].invoice_no]
    paid = [p for p in result.book.payments if p.invoice_no == reminded[0].invoice_no]
    assert [p.amount for p in paid] == [reminded[0].amount_due]  # exactly what the reminder asked for
    assert (item.fees, item.balance, item.status) == (reminded[0].fee, 0, "Paid")


def test_utility_demo_shows_an_overpayment_applied_and_interest_after_a_partial_payment(runs):
    result = runs[build.UTILITY_FILE]
    credit = [a for a in result.ledger.allocations if a.source_type == "Credit"]
    assert credit, "an overpayment was applied to a later invoice automatically"
    partial = [r for r in result.overdue.issued if r.interest_charged and result.receivables[r.invoice_no].paid]
    assert partial, "a partly paid invoice is reminded with interest on what is still open"
