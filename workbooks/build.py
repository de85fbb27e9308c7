"""Build the template and the demo workbooks, and the generated tables of ``docs/workbook.md``.

Run ``python workbooks/build.py`` (or ``make workbooks``) after changing the contract
(:mod:`sheetbill.contract`), the demo data below, or the billing rules. It rewrites, byte for byte
the same every time:

* ``workbooks/template.xlsx`` and its packaged copy ``sheetbill/data/template.xlsx`` (what
  ``sheetbill new`` writes): a "Read me" sheet, then every input sheet of the contract with its
  headers, formats, drop-downs, a frozen header row and a Settings sheet listing every setting;
* ``workbooks/demo-medical.xlsx``: a medical practice with insurers, a government programme and
  self-pay patients;
* ``workbooks/demo-utility.xlsx``: a utility with an employer-paid scheme and assistance programmes;
* the column and settings tables between the ``<!-- generated: ... -->`` markers of
  ``docs/workbook.md``.

Headers, sheet names, choices and settings come from :mod:`sheetbill.contract`; nothing here
retypes them. The demos are not a first run: they show an office that has billed with sheetbill at
every month end from January to May 2026. This script replays those five runs through the real
billing core (``sheetbill.billing.run_billing``, billing stage only), feeding each run's Invoices and
Invoice Lines to the next, and records the payments that arrived in between against the invoice
numbers those runs issued. The demo file then holds that history, and ``sheetbill bill
demo-medical.xlsx --as-of 2026-06-30`` bills June, posts the payments, and finds overdue invoices,
payment plans, holds and disputes to work on. The replay uses no randomness and no clock, so the
output only changes when the data, the contract or the billing rules change (then rebuild and
review the difference like any other change).

Usage::

    python workbooks/build.py            # rebuild everything in place
    python workbooks/build.py --out DIR  # write the workbooks to DIR (the tests use this)
    python workbooks/build.py --check    # exit 1 when a committed file differs from a fresh build
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from sheetbill import contract, contract_bank
from sheetbill.models import Invoice
from sheetbill.plugins.manager import DEFAULT_PAYER_PLUGIN, Plugins, get_plugin_manager
from sheetbill.run import run_billing
from sheetbill.sheets import OutputSheet, RawSheet
from sheetbill.tables import Field, TableSpec

ROOT = Path(__file__).resolve().parent.parent
WORKBOOKS = ROOT / "workbooks"
PACKAGED_TEMPLATE = ROOT / "sheetbill" / "data" / "template.xlsx"
DOCS = ROOT / "docs" / "workbook.md"

TEMPLATE_FILE = "template.xlsx"
MEDICAL_FILE = "demo-medical.xlsx"
UTILITY_FILE = "demo-utility.xlsx"
#: The utility demo's July bank statement (camt.053), which ``make demo`` imports.
UTILITY_STATEMENT = "demo-utility-statement.xml"

#: Creation time stamped into every file, so that a rebuild is byte-identical.
CREATED = dt.datetime(2026, 1, 1, 8, 0, 0)
#: The demos' as-of date: the run a user makes on a demo (``make demo``) is this month end.
DEMO_AS_OF = dt.date(2026, 6, 30)
#: The month-end runs the demo office already made; their invoices are the demos' history.
HISTORY_RUNS = (dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30),
                dt.date(2026, 5, 31))
#: Rows of the template that carry formats and drop-downs (the whole sheet below the header).
LAST_ROW = 1_048_575  # 0-based index of Excel's last row

D = Decimal

# --- the contract, explained to office staff ----------------------------------------------------------

#: One sentence per input sheet: what a row of it is.
SHEET_PURPOSE: dict[str, str] = {
    "Settings": "Your company, currency, invoice numbering, payment terms, reminders and collection rules.",
    "Customers": "One row per customer (patient, household, account).",
    "Payers": "One row per insurer, government programme, employer or other party that pays for customers.",
    "Coverage": "Which payer covers which customer, when, and on what terms. Priority 2 is a secondary payer.",
    "Services": "Your catalogue: what each service code is called and what it costs per unit.",
    "Payer Codes": "How a payer codes, prices and covers a service; only needed where it differs.",
    "Charges": "Services rendered: one row per service given to a customer on a date. This is what is billed.",
    "Payments": "Money received for an invoice, write-offs, and amounts a payer passed on to the customer.",
    "Payment Plans": "Installment plans you agreed with a customer for an invoice.",
    "Contacts": "Your contact log: calls, letters, visits; a hold pauses reminders.",
    "Mandates": "SEPA direct-debit mandates: customers with an active mandate are debited (sheetbill debit).",
    "Base Rates": "Only for Interest Rate base + N: the base rate from each Valid From on (from the Bundesbank).",
}

#: The help of the e-invoice columns Customers and Payers share.
EINVOICE_PARTY_HELP = {
    "E-Invoice": "Blank: PDF only. xrechnung or xrechnung-ubl: an XRechnung XML beside the PDF; zugferd: "
                 "the PDF with the XML inside (docs/einvoice.md).",
    "Buyer Reference": "The reference the buyer wants on its e-invoices; for a public body its Leitweg-ID "
                       "(checked). Required for XRechnung.",
    "VAT ID": "The buyer's VAT ID (USt-IdNr), when it is a business.",
    "Electronic Address": "Where e-invoices reach the buyer (blank: its Email); an email address or "
                          "SCHEME:ID such as 0204:991-12345-67.",
}

#: What each input column means, by sheet and header (the docs and the header notes show these).
COLUMN_NOTES: dict[str, dict[str, str]] = {
    "Settings": {
        "Setting": "The setting's name, as listed below.",
        "Value": "Its value; blank means the default.",
    },
    "Customers": {
        "Customer ID": "Your unique number for the customer. Stays text: 00123 keeps its zeros.",
        "Name": "Name on invoices and reminders.",
        "Street": "Postal address. Reminders need an email or a full address (street, postal code, city).",
        "Postal Code": "Postal code (a ZIP or Postcode header works too). Stays text.",
        "City": "City of the postal address.",
        "Country": "Country of the postal address.",
        "Email": "Where invoices and reminders are e-mailed.",
        "Phone": "For your calls. Stays text.",
        "Date of Birth": "Tells customers of the same name apart; payers often ask for it.",
        "Notes": "Anything for you; sheetbill does not read it.",
        "Payment Terms Days": "When the customer's invoices are due: 30 (days), EOM, EOM + 15 or 15th next "
                              "month (blank: Settings Payment Terms Days).",
        "Business": "yes: a business, not a consumer: owes the Settings Business Late Fee when late "
                    "(§ 288 (5) BGB; blank: no).",
        **EINVOICE_PARTY_HELP,
        "Salutation": "Herr or Frau (Mr or Ms) for a personal greeting in letters; blank greets by full name; "
                      "anything else is the greeting line itself.",
        "Title": "Academic title before the last name in the greeting (Dr., Prof.).",
        "IBAN": "The customer's bank account: the bank import knows their transfers by it (it also learns "
                "IBANs from matched payments). Checked like a mandate's IBAN (country length, check digits); an "
                "invalid one is a `bad-customer-iban` warning and is not used, the customer is billed as usual.",
    },
    "Payers": {
        "Payer ID": "Your unique short code for the payer, used on Coverage and Payer Codes.",
        "Name": "Name on the payer's invoices.",
        "Type": "insurer, government, employer or other.",
        "Plugin": "Which payer rules apply: blank or standard (the table-driven rules), fee_schedule, "
                  "employer_budget, or the name of an installed plugin.",
        "Code System": "The payer's code system, e.g. CPT. Blank means your own service codes; a code "
                       "system of its own needs a Payer Code for every service billed to the payer.",
        "Email": "Where the payer's invoices go.",
        "Street": "Postal address of the payer.",
        "Postal Code": "Postal code of the payer. Stays text.",
        "City": "City of the payer.",
        "Payment Terms Days": "When the payer's invoices are due: 30 (days), EOM, EOM + 15 or 15th next month "
                              "(blank: Settings Payment Terms Days).",
        "Country": "Country of the payer's address (blank: the practice's own).",
        **EINVOICE_PARTY_HELP,
        "Secondary Method": "How the payer pays as secondary payer: standard (blank: its benefit, at most what "
                            "the customer still owes), non-duplication (its benefit minus what the primary paid) "
                            "or medicare-secondary (42 CFR 411.33).",
        "Balance Billing": "yes: the part of a charge above the payer's Allowed Amount is billed to the "
                           "customer instead of written off (out of network; blank: no).",
    },
    "Coverage": {
        "Customer ID": "The customer who is covered.",
        "Payer ID": "The payer who covers.",
        "Member ID": "The customer's number with the payer (insurance card). Stays text.",
        "Priority": "1 primary (blank means 1), 2 secondary, 3 third.",
        "Valid From": "First day of coverage (blank: always).",
        "Valid To": "Last day of coverage (blank: open). Later charges go to the customer, with advice.",
        "Covered Percent": "What the payer pays after the deductible: 80 means 80 % (blank: 100).",
        "Copay": "Fixed amount the customer pays per charge instead of deductible and coinsurance.",
        "Annual Deductible": "What the customer pays each calendar year before the payer pays.",
        "Out of Pocket Max": "The most the customer pays in a calendar year under this coverage.",
        "Annual Budget": "Employer schemes: the most the employer pays per employee and calendar year.",
        "Copay Then Coinsurance": "yes: the customer pays the Copay and then the deductible and coinsurance on "
                                  "the rest (blank: the copay replaces them).",
        "Copay Counts To Deductible": "yes: copays count toward the Annual Deductible (blank: no).",
    },
    "Services": {
        "Service Code": "Your code for the service.",
        "Description": "Shown on invoices.",
        "Price": "Price per unit (net, unless Settings Prices Include Tax is yes).",
        "Tax Rate": "VAT in percent: 19, 7, 0 (blank: Settings Default Tax Rate; no tax anywhere: untaxed).",
        "Tax Category": "S standard, Z zero-rated, E exempt, AE reverse charge, K intra-community, G export, "
                        "O outside scope (blank: S when the rate is above 0, E when it is 0).",
        "Tax Exemption": "The reason printed for E (required), e.g. Steuerfrei nach § 4 Nr. 14 UStG.",
    },
    "Payer Codes": {
        "Payer ID": "The payer this row is about.",
        "Service Code": "The service this row is about.",
        "Payer Code": "The service's code in the payer's code system (the Billed Code on invoices).",
        "Allowed Amount": "What the payer recognises per unit; the rest of the price is written off. "
                          "For fee_schedule payers: the fee.",
        "Copay": "Fixed customer amount for this service (instead of deductible and coinsurance).",
        "Covered": "no: the payer does not cover the service and the customer pays it (blank: yes).",
        "Prior Authorization": "yes: a charge needs an Authorization No before it is billed.",
        "Points": "GOÄ payers: the number's points (blank: sheetbill's table of common numbers).",
    },
    "Charges": {
        "Charge ID": "Your unique number for the charge. Never reuse one.",
        "Date": "Date of service.",
        "Customer ID": "Who received the service.",
        "Service Code": "What was done (a code from Services).",
        "Quantity": "Units (blank: 1); fractions are fine, e.g. 7.35 m³.",
        "Price": "Price per unit for this charge only (blank: the Services price).",
        "Authorization No": "The payer's prior-authorization number, when the payer requires one.",
        "Note": "Anything for you; sheetbill does not read it.",
        "Factor": "GOÄ payers: the multiplier of the fee (blank: the standard factor of the number's section, "
                  "2.3, 1.8 or 1.15).",
        "Justification": "GOÄ payers: why the factor is above the standard (needed then; printed on the "
                         "invoice).",
        "Fee Agreement": "GOÄ payers: yes when a written fee agreement (§ 2 GOÄ) allows a factor above the "
                         "maximum.",
    },
    "Payments": {
        "Payment ID": "Your unique number for the payment.",
        "Date": "When the money arrived (or the write-off was decided).",
        "Invoice No": "The invoice it is for; blank when you only know who paid (then Customer ID).",
        "Amount": "The amount, with at most the currency's decimals (cents).",
        "Type": "Payment (blank), Write-off (an amount you give up), Transfer to Customer (a payer paid "
                "less and the rest moves to a new customer invoice), or Refund (money paid back out of the "
                "customer's credit). Returned Debit and Return Fee are what the bank import writes for a "
                "direct debit that came back.",
        "Method": "Bank transfer, cash, card, ...",
        "Reference": "The bank reference or receipt number. Stays text.",
        "Customer ID": "Who paid, when the payment names no invoice: it pays their oldest open items.",
    },
    "Payment Plans": {
        "Plan ID": "Your unique number for the plan.",
        "Invoice No": "The invoice paid in installments.",
        "Installments": "Number of equal installments (blank when Shares are given).",
        "First Due Date": "Due date of the first installment.",
        "Interval Months": "Months between installments (blank: 1).",
        "Note": "What was agreed, by whom.",
        "Shares": "Percent of the invoice per installment instead of equal parts, e.g. 30; 50; 20 (adding up "
                  "to 100).",
        "Interval Days": "Days between installments, instead of Interval Months (e.g. 14).",
    },
    "Contacts": {
        "Date": "When you contacted the customer (or they contacted you).",
        "Customer ID": "Who.",
        "Invoice No": "The invoice it was about (blank: all the customer's invoices).",
        "Channel": "phone, email, letter or visit.",
        "Outcome": "reached, no answer, wrong number, promise to pay, dispute or other.",
        "Hold Until": "No reminders for the invoice (or customer) up to and including this date.",
        "Note": "What was said.",
    },
    "Base Rates": {
        "Valid From": "The first day the rate is in force (1 January or 1 July).",
        "Rate": "The base rate in percent, as the Bundesbank publishes it (may be negative, e.g. -0.88).",
    },
    "Mandates": {
        "Mandate ID": "The mandate reference you gave the customer (up to 35 letters, digits and - / ? : ( ) . , ' +).",
        "Customer ID": "Whose mandate it is.",
        "IBAN": "The account to debit; checked with its check digits.",
        "BIC": "The account's bank; may stay blank within SEPA.",
        "Signed On": "The day the customer signed the mandate.",
        "Scheme": "CORE (blank; consumers) or B2B (businesses that agreed with their bank).",
        "Status": "active (blank) or revoked. A return for a closed account or missing mandate makes sheetbill "
                  "treat it as revoked and say so in Advice.",
        "Last Used": "The last debit under it before sheetbill (then the first debit is a recurring one).",
    },
}

#: How each kind of column is written and formatted: (Excel number format, words for the docs).
KIND_FORMATS: dict[str, tuple[str, str]] = {
    "id": ("@", "text (an ID: `00123` stays `00123`)"),
    "text": ("General", "text"),
    "raw": ("General", "depends on the setting"),
    "date": ("yyyy-mm-dd", "date"),
    "money": ("#,##0.00", "amount"),
    "decimal": ("General", "number"),
    "int": ("0", "whole number"),
    "percent": ("General", "percent (`80` or `80%` is 80 %)"),
    "yesno": ("General", "yes/no"),
    "choice": ("General", "one of the listed values"),
    "intlist": ("@", "list of whole numbers, e.g. `14, 14, 14`"),
    "decimallist": ("@", "list of numbers, e.g. `0; 5; 10`"),
    "terms": ("@", "payment terms: `30`, `EOM`, `EOM + 15` or `15th next month`"),
    "feelist": ("@", "list of fees, e.g. `0; 5; 10` or `0; 2% min 5; 2% min 5 max 50`"),
}

#: Minimum column widths by kind, so dates and amounts never show as ####.
KIND_WIDTHS: dict[str, int] = {"date": 12, "money": 12, "percent": 10, "int": 9, "decimal": 10}

#: Output sheets sheetbill writes, with what they show (the Read me and the docs list these).
OUTPUT_SHEETS: dict[str, str] = {
    contract.INVOICES_SHEET: "Every invoice and credit note issued, with Paid, Balance and Status (history).",
    contract.INVOICE_LINES_SHEET: "What each invoice bills for each charge, and why (history).",
    contract.PROBLEMS_SHEET: "What is wrong in your sheets: sheet, row, column and what to do.",
    contract.ADVICE_SHEET: "What you should do: authorizations, coverage gaps, corrections, payment plans.",
    contract.OVERDUE_SHEET: "Open invoices and installments past due, with dunning level and next action.",
    contract.AGING_SHEET: "Open balances by age (Current, 1-30, 31-60, 61-90, 91-120, 120+ days), with a chart.",
    contract.REMINDERS_SHEET: "Every reminder issued, with its text (history: a reminder is never issued twice).",
    contract.INSTALLMENTS_SHEET: "The installments of each payment plan and what has been paid on them.",
    contract.COLLECTIONS_SHEET: "Invoices handed to the collection agency, with its fee (history).",
    contract.ALLOCATIONS_SHEET: "Which payment, credit note or credit paid which part (fee, interest, principal) of "
                                "which invoice.",
    contract.ACCOUNTS_SHEET: "Every customer's and payer's account: invoiced, paid, credited, balance, unapplied "
                             "credit, status.",
}
#: The contract's columns of each output sheet.
OUTPUT_COLUMNS = {
    contract.INVOICES_SHEET: contract.INVOICE_COLUMNS, contract.INVOICE_LINES_SHEET: contract.INVOICE_LINE_COLUMNS,
    contract.PROBLEMS_SHEET: contract.PROBLEM_COLUMNS, contract.ADVICE_SHEET: contract.ADVICE_COLUMNS,
    contract.OVERDUE_SHEET: contract.OVERDUE_COLUMNS, contract.AGING_SHEET: contract.AGING_COLUMNS,
    contract.REMINDERS_SHEET: contract.REMINDER_COLUMNS, contract.INSTALLMENTS_SHEET: contract.INSTALLMENT_COLUMNS,
    contract.COLLECTIONS_SHEET: contract.COLLECTION_COLUMNS,
    contract.ALLOCATIONS_SHEET: contract.ALLOCATION_COLUMNS, contract.ACCOUNTS_SHEET: contract.ACCOUNT_COLUMNS,
}

COMMANDS: tuple[tuple[str, str], ...] = (
    ("sheetbill check WORKBOOK", "Check the input sheets and list the problems; writes nothing."),
    ("sheetbill bill WORKBOOK [--as-of DATE] [--dry-run]", "Bill new charges, post payments, track overdue "
     "invoices and write the output sheets."),
    ("sheetbill overdue WORKBOOK [--as-of DATE]", "Update overdue tracking (reminders, collections) only."),
    ("sheetbill new WORKBOOK", "Write a fresh copy of this template."),
    ("sheetbill plugins", "List the installed payer plugins."),
)


# --- layout helpers ---------------------------------------------------------------------------------


def spec_of(name: str) -> TableSpec:
    """The contract's input table called ``name``."""
    for spec in contract.INPUT_TABLES:
        if spec.name == name:
            return spec
    raise KeyError(name)


def headers_of(spec: TableSpec) -> list[str]:
    """The contract's headers of an input table, in order."""
    return [f.header for f in spec.fields]


def field_of(spec: TableSpec, header: str) -> Field:
    """The contract field with ``header``."""
    return next(f for f in spec.fields if f.header == header)


def payer_plugin_names() -> list[str]:
    """The built-in payer plugin names (the default first), asked from the plugin manager itself."""
    names = Plugins(get_plugin_manager(entry_points=False)).payer_plugin_names()
    return sorted(names, key=lambda n: (n != DEFAULT_PAYER_PLUGIN, n))


def choices_of(spec: TableSpec, fld: Field) -> tuple[list[str], str] | None:
    """The drop-down of a column, if it has one: (values, Excel error type)."""
    if fld.kind == "choice":
        return list(fld.choices), "stop"
    if fld.kind == "yesno":
        # sheetbill also reads ja/nein, x, true/false: warn but let them through.
        return ["yes", "no"], "warning"
    if spec.name == "Payers" and fld.header == "Plugin":
        # Installed plugins add names of their own: suggest the built-ins, allow anything.
        return payer_plugin_names(), "information"
    return None


def excel_value(value: object) -> object:
    """A cell value as a front end reads it back: amounts as numbers, formulas as their value."""
    if isinstance(value, Formula):
        return value.value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@dataclass(frozen=True)
class Formula:
    """A staff formula in an extra column, with the value Excel would cache for it."""

    text: str
    value: object


@dataclass
class ExtraColumn:
    """A column staff added to an input sheet; sheetbill leaves it alone."""

    header: str
    values: Callable[[int, dict[str, object]], object]
    number_format: str = "General"
    width: int = 14


@dataclass
class InputSheet:
    """An input sheet to write: contract columns, rows by header, and what staff added."""

    spec: TableSpec
    rows: list[dict[str, object]] = field(default_factory=list)
    extra: list[ExtraColumn] = field(default_factory=list)
    as_table: bool = False

    def raw(self, overrides: dict[str, dict[str, object]] | None = None) -> RawSheet:
        """The sheet as a reader hands it to the core (``overrides``: row values by first-column key)."""
        headers = headers_of(self.spec)
        rows: list[list[object]] = [list(headers)]
        for row in self.rows:
            row = {**row, **(overrides or {}).get(str(row.get(headers[0])), {})}
            rows.append([excel_value(row.get(h)) for h in headers])
        return RawSheet(self.spec.name, rows)


@dataclass
class WorkbookData:
    """Everything one workbook file holds, in sheet order."""

    title: str
    readme: list[str]
    inputs: list[InputSheet]
    outputs: list[OutputSheet] = field(default_factory=list)


class Formats:
    """The workbook's cell formats, created once each (XlsxWriter wants one object per format)."""

    HEADER = {"bold": True, "bottom": 1, "border_color": "#8EA9DB", "valign": "top", "text_wrap": True}

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self._cache: dict[tuple, object] = {}

    def get(self, **props: object):
        """The format with ``props`` (shared between equal requests)."""
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.book.add_format(dict(props))
        return self._cache[key]

    def header(self, required: bool):
        """Header cells: required columns dark blue with white text, optional ones light blue."""
        if required:
            return self.get(**self.HEADER, bg_color="#2F5597", font_color="#FFFFFF")
        return self.get(**self.HEADER, bg_color="#D9E1F2")

    def number(self, number_format: str):
        """Body cells with ``number_format``."""
        return self.get(num_format=number_format)


def column_width(header: str, kind: str, values: Iterable[object], number_format: str = "") -> float:
    """A width that shows the header and the longest value (capped), never narrower than the kind needs."""
    longest = len(header) + 3
    for value in values:
        if isinstance(value, (dt.date, Formula)):
            continue
        if isinstance(value, (float, int, Decimal)) and number_format == "#,##0.00":
            text = f"{float(value):,.2f}"
        else:
            text = str(value)
        longest = max(longest, len(text) + 2)
    return float(min(max(longest, KIND_WIDTHS.get(kind, 8)), 48))


def write_cell(ws, row: int, col: int, value: object, fmt) -> None:
    """Write one cell by type: text always as text (never a formula), dates as dates, numbers exactly."""
    if value is None or value == "":
        return
    if isinstance(value, Formula):
        ws.write_formula(row, col, value.text, fmt, excel_value(value.value))
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        ws.write_datetime(row, col, value, fmt)
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, excel_value(value), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def write_readme(ws, formats: Formats, title: str, lines: list[str]) -> None:
    """The Read me sheet: a title and short paragraphs in one wide column."""
    ws.set_column(0, 0, 110, formats.get(text_wrap=True, valign="top"))
    ws.write_string(0, 0, title, formats.get(bold=True, font_size=16))
    for index, line in enumerate(lines, start=2):
        if line.startswith("# "):
            ws.write_string(index, 0, line[2:], formats.get(bold=True, font_size=12, text_wrap=True))
        elif line:
            ws.write_string(index, 0, line, formats.get(text_wrap=True, valign="top"))
            if len(line) > 105:  # wrapped: give the row its height (not every reader fits rows)
                ws.set_row(index, 15 * -(-len(line) // 105))
    ws.hide_gridlines(2)
    ws.activate()


def write_input_sheet(ws, formats: Formats, sheet: InputSheet) -> None:
    """One input sheet: formatted header with notes, typed cells, drop-downs, frozen header row."""
    spec = sheet.spec
    fields = list(spec.fields)
    for col, fld in enumerate(fields):
        number_format = KIND_FORMATS[fld.kind][0]
        values = [row.get(fld.header) for row in sheet.rows]
        width = column_width(fld.header, fld.kind, values, number_format)
        ws.set_column(col, col, width, formats.number(number_format))
        menu = choices_of(spec, fld)
        if menu is not None:
            values_list, error_type = menu
            ws.data_validation(1, col, LAST_ROW, col, {
                "validate": "list",
                "source": values_list,
                "error_type": error_type,
                "error_title": fld.header,
                "error_message": f"{fld.header}: choose one of {', '.join(values_list)}.",
                "ignore_blank": True,
            })
    for offset, extra in enumerate(sheet.extra):
        col = len(fields) + offset
        ws.set_column(col, col, extra.width, formats.number(extra.number_format))
    last_col = len(fields) + len(sheet.extra) - 1
    if sheet.as_table:
        ws.add_table(0, 0, max(len(sheet.rows), 1), last_col, {
            "name": spec.name.replace(" ", ""),
            "style": "Table Style Light 9",
            "columns": [{"header": f.header, "header_format": formats.header(f.required)} for f in fields]
            + [{"header": e.header, "header_format": formats.header(False)} for e in sheet.extra],
        })
    else:
        for col, fld in enumerate(fields):
            ws.write_string(0, col, fld.header, formats.header(fld.required))
        for offset, extra in enumerate(sheet.extra):
            ws.write_string(0, len(fields) + offset, extra.header, formats.header(False))
    for col, fld in enumerate(fields):
        note = COLUMN_NOTES[spec.name][fld.header]
        if fld.required:
            note += " (required)"
        ws.write_comment(0, col, note, {"author": "sheetbill", "x_scale": 2.2, "y_scale": 1.1})
    for index, row in enumerate(sheet.rows, start=1):
        for col, fld in enumerate(fields):
            value = row.get(fld.header)
            number_format = KIND_FORMATS[fld.kind][0]
            if isinstance(value, dt.date) and number_format == "General":  # a date in a Settings Value
                number_format = KIND_FORMATS["date"][0]
            if spec is contract.SETTINGS:  # numbers and text in one column: align them alike
                write_cell(ws, index, col, value, formats.get(num_format=number_format, align="left"))
            else:
                write_cell(ws, index, col, value, formats.number(number_format))
        for offset, extra in enumerate(sheet.extra):
            write_cell(ws, index, len(fields) + offset, extra.values(index, row),
                       formats.number(extra.number_format))
    ws.set_row(0, 30)
    ws.freeze_panes(1, 0)


OUTPUT_FORMATS = {"text": "General", "int": "0", "money": "#,##0.00", "decimal": "General",
                  "percent": "0.00%", "date": "yyyy-mm-dd"}


def write_output_sheet(ws, formats: Formats, sheet: OutputSheet) -> None:
    """A sheet sheetbill owns (the demos' history), laid out as sheetbill's writer lays it out."""
    for col, column in enumerate(sheet.columns):
        ws.set_column(col, col, column.width or 12, formats.number(OUTPUT_FORMATS[column.kind]))
        ws.write_string(0, col, column.header, formats.get(bold=True, bottom=1, bg_color="#E2EFDA"))
    for index, row in enumerate(sheet.rows, start=1):
        for col, (column, value) in enumerate(zip(sheet.columns, row, strict=True)):
            write_cell(ws, index, col, value, formats.number(OUTPUT_FORMATS[column.kind]))
    ws.freeze_panes(1, 0)
    ws.set_tab_color("#70AD47")


def write_workbook(path: Path, data: WorkbookData) -> None:
    """Write ``data`` to ``path`` reproducibly (fixed creation time, fixed zip time stamps)."""
    book = xlsxwriter.Workbook(str(path), {
        "in_memory": True,  # fixed 1980 time stamps on every zip entry
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    })
    book.set_properties({"title": data.title, "author": "sheetbill", "company": "",
                         "comments": "Generated by workbooks/build.py", "created": CREATED})
    book.set_calc_mode("auto")
    formats = Formats(book)
    write_readme(book.add_worksheet("Read me"), formats, data.title, data.readme)
    for sheet in data.inputs:
        write_input_sheet(book.add_worksheet(sheet.spec.name), formats, sheet)
    for sheet in data.outputs:
        write_output_sheet(book.add_worksheet(sheet.name), formats, sheet)
    book.close()


# --- the template -----------------------------------------------------------------------------------

#: Settings values the template is pre-filled with (blank: sheetbill's default or nothing).
TEMPLATE_SETTINGS: dict[str, object] = {
    "Currency": "EUR",
    "Invoice Prefix": "INV-",
    "Invoice Digits": 6,
    "Payment Terms Days": 30,
    "Reminder Days": "14, 14, 14",
    "Reminder Fees": "0; 5; 10",
    "Collection After Days": 14,
    "Max Installments": 6,
    "Payment Methods": "Bank transfer",
    "Payment Reference Format": "{invoice_no}",
    "Language": "en",
}


def settings_sheet(values: dict[str, object]) -> InputSheet:
    """The Settings sheet: every setting of the contract in order, with its value and description."""
    described = {name: description for name, (_, _, description) in contract.SETTING_FIELDS.items()}
    described.update(contract_bank.DEBIT_SETTINGS)
    described.update(contract_bank.BANK_SETTINGS)
    unknown = set(values) - set(described)
    if unknown:
        raise ValueError(f"not settings of the contract: {sorted(unknown)}")
    rows = [{"Setting": name, "Value": values.get(name)} for name in described]
    descriptions = list(described.values())
    about = ExtraColumn("Description", lambda index, row: descriptions[index - 1], width=80)
    return InputSheet(contract.SETTINGS, rows, extra=[about])


def readme_lines(intro: list[str]) -> list[str]:
    """The Read me text: ``intro``, then what to type where, what sheetbill writes, and the commands."""
    lines = list(intro)
    lines += ["", "# What to type where"]
    lines += [f"{spec.name}: {SHEET_PURPOSE[spec.name]}" for spec in contract.INPUT_TABLES]
    lines += [
        "",
        "# How to type",
        "Row 1 of each sheet is the header; type one record per row below it. Dark blue headers are required "
        "columns; hover over a header for its meaning. Columns may be in any order, and you may add columns "
        "of your own (formulas, notes): sheetbill leaves them alone. Blank rows are skipped. A sheet may also "
        "be an Excel table.",
        "IDs stay text (00123). Amounts: 12.50, 12,50 or 1.234,56. Dates: real dates, 2026-01-31 or "
        "31.01.2026. Yes/no columns: yes or no. Percent: 80 means 80 %.",
        "",
        "# What sheetbill writes",
        "sheetbill creates and rewrites only these sheets; it never changes the sheets you type into:",
    ]
    lines += [f"{name}: {text}" for name, text in OUTPUT_SHEETS.items()]
    lines += ["Issued invoices are never renumbered or rewritten. To correct a billed charge, edit the charge: "
              "the next run issues a credit note and a corrected invoice.", "", "# Commands"]
    lines += [f"{command}  -  {text}" for command, text in COMMANDS]
    lines += ["", "The full contract is in docs/workbook.md of the sheetbill project."]
    return lines


def template_data() -> WorkbookData:
    """The empty template: every input sheet with its headers, and the Settings names."""
    inputs = [settings_sheet(TEMPLATE_SETTINGS)]
    inputs += [InputSheet(spec) for spec in contract.INPUT_TABLES if spec is not contract.SETTINGS]
    intro = ["sheetbill bills the services you record here: to insurers, government programmes, employers and "
             "your customers. Fill in Settings, Customers and Services, then record Charges and run "
             "sheetbill bill on this file."]
    return WorkbookData("sheetbill workbook", readme_lines(intro), inputs)


# --- demos: the shared machinery ----------------------------------------------------------------------


@dataclass(frozen=True)
class Inv:
    """Names an invoice of the history by what it is, not by its number.

    ``bill_to`` is a payer ID, or ``"customer"`` for the customer's own invoice; ``issued`` is
    the month-end run that issued it.
    """

    customer: str
    bill_to: str
    issued: dt.date

    def find(self, invoices: Sequence[Invoice]) -> Invoice:
        """The invoice this names among ``invoices``; a clear error when the history lacks it."""
        wanted_type = "Customer" if self.bill_to == "customer" else "Payer"
        wanted_id = self.customer if self.bill_to == "customer" else self.bill_to
        found = [inv for inv in invoices if inv.kind == "Invoice" and inv.issue_date == self.issued
                 and inv.customer_id == self.customer and inv.bill_to_type == wanted_type
                 and inv.bill_to_id == wanted_id]
        if len(found) != 1:
            raise LookupError(f"{self}: {len(found)} matching invoices in the history")
        return found[0]


@dataclass(frozen=True)
class Pay:
    """A payment to record against an invoice: ``amount`` None means the invoice's full amount."""

    date: dt.date
    amount: Decimal | str | None = None
    type: str = "Payment"
    method: str = "Bank transfer"
    reference: str | None = None


@dataclass
class Demo:
    """A demo workbook: its inputs, how invoices get paid, and the deliberate problems it shows.

    Attributes:
        file: the file name under ``workbooks/``.
        title: title of the Read me sheet.
        intro: the Read me's first paragraphs.
        inputs: input sheets by name (Payments is filled by the replay).
        pays: for an issued invoice, the payments that arrive for it (dated; those after
            :data:`DEMO_AS_OF` are left out).
        linked: sheets whose ``Invoice No`` cells are :class:`Inv` names, resolved after the replay.
        history_overrides: charge values as they were when first billed (corrected since), by Charge ID.
        deliberate: message fragments of the Problems the demo shows on purpose.
        pays_reminder: customers who pay only when reminded, and at which level: they pay exactly the
            reminder's Amount Due (principal, fees and interest) a few days after it.
    """

    file: str
    title: str
    intro: list[str]
    inputs: dict[str, InputSheet]
    pays: Callable[[Invoice], list[Pay]]
    history_overrides: dict[str, dict[str, object]] = field(default_factory=dict)
    deliberate: tuple[str, ...] = ()
    pays_reminder: dict[str, int] = field(default_factory=dict)


def replay(demo: Demo) -> tuple[list[dict[str, object]], list[OutputSheet]]:
    """Run the month-end billing runs of the demo office and collect the payments made in between.

    Returns the Payments rows (dated up to :data:`DEMO_AS_OF`) and the history sheets (Invoices and
    Invoice Lines) after the last run. Raises when a run reports an error that is not deliberate,
    so a data mistake in this file fails the build instead of shipping.
    """
    plugins = Plugins(get_plugin_manager(entry_points=False))
    payments: list[dict[str, object]] = []
    history: dict[str, RawSheet] = {}
    outputs: list[OutputSheet] = []
    invoices: list[Invoice] = []
    for as_of in HISTORY_RUNS:
        sheets: dict[str, RawSheet] = {}
        for name, sheet in demo.inputs.items():
            if name == "Payments":
                sheet = dataclasses.replace(sheet, rows=[p for p in payments if p["Date"] <= as_of])
                sheets[name] = sheet.raw()
            elif name in ("Charges",):
                sheets[name] = sheet.raw(demo.history_overrides)
            elif name not in ("Payment Plans", "Contacts"):
                sheets[name] = sheet.raw()
        sheets.update(history)
        result = run_billing(sheets, as_of=as_of, plugins=plugins)
        unexpected = [p for p in result.problems if p.severity == "error"
                      and not any(d in p.message for d in demo.deliberate)]
        if unexpected:
            raise RuntimeError(f"{demo.file}, run of {as_of}: " + "; ".join(map(str, unexpected)))
        outputs = _history_outputs(demo, result)
        history = {o.name: RawSheet(o.name, [o.headers, *[list(r) for r in o.rows]]) for o in outputs}
        _pay_reminders(demo, result, payments)
        for invoice in result.new_invoices:
            invoices.append(invoice)
            for pay in demo.pays(invoice):
                if pay.date > DEMO_AS_OF:
                    continue
                if pay.date <= invoice.issue_date:
                    raise ValueError(f"{demo.file}: payment for {invoice.invoice_no} dated before it was issued")
                if pay.amount is None and not invoice.amount:
                    continue  # nothing to pay: a payer's zero invoice only records an adjustment
                amount = invoice.amount if pay.amount is None else pay.amount
                payments.append({"Payment ID": f"PAY-{len(payments) + 1:04d}", "Date": pay.date,
                                 "Invoice No": invoice.invoice_no, "Amount": amount, "Type": pay.type,
                                 "Method": pay.method, "Reference": pay.reference or invoice.invoice_no})
    for name in ("Payment Plans", "Contacts"):
        for row in demo.inputs[name].rows:
            if isinstance(row.get("Invoice No"), Inv):
                row["Invoice No"] = row["Invoice No"].find(invoices).invoice_no
    return payments, outputs


def _history_outputs(demo: Demo, result) -> list[OutputSheet]:
    """The history a month-end run leaves: Invoices and Invoice Lines, and the reminders of the
    customers who pay only when reminded (the demo's other customers are reminded in June only)."""
    customer_of = {invoice.invoice_no: invoice.customer_id for invoice in result.invoices}
    kept = []
    for output in result.outputs:
        if output.name in (contract.INVOICES_SHEET, contract.INVOICE_LINES_SHEET):
            kept.append(output)
        elif output.name == contract.REMINDERS_SHEET and demo.pays_reminder:
            rows = [r for r in output.rows if customer_of.get(r[1]) in demo.pays_reminder]
            kept.append(dataclasses.replace(output, rows=rows))
    return kept


def _pay_reminders(demo: Demo, result, payments: list[dict[str, object]]) -> None:
    """The payments of exactly a reminder's Amount Due by the customers who wait for it."""
    customer_of = {invoice.invoice_no: invoice.customer_id for invoice in result.invoices}
    for reminder in result.overdue.issued:
        customer = customer_of.get(reminder.invoice_no)
        if demo.pays_reminder.get(customer) != reminder.level:
            continue
        day = reminder.date + dt.timedelta(days=6)
        if day <= DEMO_AS_OF:
            payments.append({"Payment ID": f"PAY-{len(payments) + 1:04d}", "Date": day,
                             "Invoice No": reminder.invoice_no, "Amount": reminder.amount_due, "Type": None,
                             "Method": "Bank transfer",
                             "Reference": f"{reminder.invoice_no} reminder {reminder.level}"})


def build_demo(demo: Demo) -> WorkbookData:
    """Replay the demo's history and assemble its workbook."""
    payments, history = replay(demo)
    demo.inputs["Payments"].rows = payments
    inputs = [demo.inputs[spec.name] for spec in contract.INPUT_TABLES]
    return WorkbookData(demo.title, readme_lines(demo.intro), inputs, history)


def line_total(services: InputSheet) -> ExtraColumn:
    """A staff formula column on Charges: quantity x (own price, else the catalogue price)."""
    prices = {row["Service Code"]: D(str(row["Price"])) for row in services.rows}
    headers = headers_of(contract.CHARGES)
    col = {h: xlsxwriter.utility.xl_col_to_name(i) for i, h in enumerate(headers)}

    def value(index: int, row: dict[str, object]) -> Formula:
        excel_row = index + 1
        quantity = D(str(row.get("Quantity") or 1))
        price = D(str(row["Price"])) if row.get("Price") is not None else prices[row["Service Code"]]
        q, p, s = (f"{col['Quantity']}{excel_row}", f"{col['Price']}{excel_row}",
                   f"{col['Service Code']}{excel_row}")
        text = (f'=IF({q}="",1,{q})*IF({p}="",VLOOKUP({s},Services!$A:$C,3,FALSE),{p})')
        return Formula(text, (quantity * price).quantize(D("0.01")))

    return ExtraColumn("Line Total", value, "#,##0.00", 12)


def rows(headers: str, *records: tuple) -> list[dict[str, object]]:
    """Rows from a compact table: ``headers`` separated by ``|``, one tuple per record."""
    names = [h.strip() for h in headers.split("|")]
    result = []
    for record in records:
        if len(record) != len(names):
            raise ValueError(f"{record!r} does not have {len(names)} values")
        result.append({n: v for n, v in zip(names, record, strict=True) if v is not None})
    return result


def with_einvoices(payers: InputSheet, wanted: dict[str, tuple[str, str]]) -> InputSheet:
    """``payers`` with E-Invoice and Buyer Reference filled in for the payers in ``wanted`` (ID: both)."""
    for row in payers.rows:
        if row["Payer ID"] in wanted:
            row["E-Invoice"], row["Buyer Reference"] = wanted[row["Payer ID"]]
    return payers


#: What e-invoices need of the seller beyond the letterhead (docs/einvoice.md); both demos have it.
EINVOICE_DEMO_SETTINGS = {"Contact Name": "Katrin Albers", "Contact Phone": "+49 30 4400 1200"}


def days(date: dt.date, n: int) -> dt.date:
    """``date`` plus ``n`` days."""
    return date + dt.timedelta(days=n)


def d(text: str) -> dt.date:
    """A date from ISO text (keeps the data tables short)."""
    return dt.date.fromisoformat(text)


COMMON_DEMO_SETTINGS: dict[str, object] = {
    "Currency": "EUR",
    "As Of Date": DEMO_AS_OF,
    "Reminder Days": "14, 14, 14",
    "Reminder Fees": "0; 5; 10",
    "Collection After Days": 14,
    "Collection Agency": "Inkasso Nord GmbH, Hamburg",
    "Collection Fee Percent": 15,
    "Payment Plan Threshold": 500,
    "Max Installments": 6,
    "Bank IBAN": "DE89370400440532013000",
    "Payment Reference Format": "{invoice_no} / {customer_id}",
    "Language": "en",
}


# --- demo 1: a medical practice -------------------------------------------------------------------------

MEDICAL_INTRO = [
    "A demo of sheetbill for a medical practice: private insurers (one of them billed in CPT codes), a "
    "secondary insurance, the district social welfare office paying by fee schedule, self-pay patients, and a "
    "private patient billed under the German GOÄ (points x point value x factor; M-0049 at factor 3.0 with its "
    "justification).",
    "The practice has billed at every month end since January; Invoices and Invoice Lines hold that history. "
    "Run  sheetbill bill demo-medical.xlsx --as-of 2026-06-30  to bill June and see Problems, Advice and "
    "overdue tracking. Charge M-0036 waits for a prior authorization, M-0016 lacks a CPT code (a deliberate "
    "Problem), and M-0031 was corrected after billing (a credit note follows).",
]

J1, F1, M1, A1, Y1 = HISTORY_RUNS  # the month-end runs: Jan 31 ... May 31


#: The exemption of medical care (§ 4 Nr. 14 UStG), printed on every invoice of the practice.
EXEMPT_MEDICAL = "Steuerfrei nach § 4 Nr. 14 UStG"


def medical_demo() -> Demo:
    """Praxis Dr. Weber, Berlin: ~50 charges from January to June 2026."""
    settings = settings_sheet({
        **COMMON_DEMO_SETTINGS,
        "Company Name": "Praxis Dr. med. Katharina Weber",
        "Company Address": "Kastanienallee 21; 10435 Berlin",
        "Company Email": "abrechnung@praxis-weber.example",
        "Tax Number": "21/815/08150",
        "Invoice Prefix": "INV-",
        "Invoice Digits": 6,
        "Payment Terms Days": 30,
        "Payment Methods": "Bank transfer, or EC card at the reception",
        **EINVOICE_DEMO_SETTINGS,
        "Seller Identifier": "261101015",  # its Institutionskennzeichen: no VAT ID (BR-CO-26)
    })
    customers = InputSheet(contract.CUSTOMERS, rows(
        "Customer ID | Name | Street | Postal Code | City | Country | Email | Phone | Date of Birth | Notes",
        ("P-1001", "Jürgen Müller-Łukasiewicz", "Kastanienallee 5", "10435", "Berlin", "DE",
         "j.mueller-lukasiewicz@example.de", "+49 30 4471 2290", d("1961-04-12"),
         "Private insurance plus supplementary insurance"),
        ("P-1002", "Anna Schmidt", "Schönhauser Allee 120", "10437", "Berlin", "DE", "anna.schmidt@example.de",
         "030 4405 1187", d("1988-09-30"), "Changed insurer in April: new card pending"),
        ("P-1003", "山田太郎 (Taro Yamada)", "Torstraße 88", "10119", "Berlin", "DE", "t.yamada@example.jp",
         "+49 176 2231 0045", d("1979-02-03"), "International plan, bills in CPT codes"),
        ("P-1004", "Emily Johnson", "Invalidenstraße 43", "10115", "Berlin", "DE", "emily.johnson@example.com",
         "+49 151 7720 3318", d("1992-11-21"), None),
        ("P-1005", "Mehmet Yılmaz", "Prenzlauer Allee 200", "10405", "Berlin", "DE", None, "030 4212 9986",
         d("1957-06-15"), "Social welfare office pays (Berechtigungsschein)"),
        ("P-1006", "Olena Kovalenko", "Greifswalder Straße 9", "10405", "Berlin", "DE",
         "olena.kovalenko@example.ua", "+49 160 9034 5512", d("1995-03-08"),
         "Social welfare office pays; certificates are self-pay"),
        ("P-1007", "Sophie Dubois", "Oderberger Straße 14", "10435", "Berlin", "DE", "sophie.dubois@example.fr",
         "+49 157 3300 1920", d("1990-07-19"), "Self-pay"),
        ("P-1008", "Lars Øberg", "Kollwitzstraße 61", "10405", "Berlin", "DE", "lars.oberg@example.no",
         "+49 172 8812 4410", d("1983-12-01"), "Self-pay; payment plan since March"),
        ("P-1009", "Zoë O'Connor", "Husemannstraße 3", "10435", "Berlin", "DE", "zoe.oconnor@example.ie",
         "+49 159 0187 2266", d("1975-05-27"), None),
        ("P-1010", "Karl-Heinz Bäcker", "Danziger Straße 100", None, None, "DE", None, "030 4490 0000",
         d("1949-01-10"), "Moved? Letters come back; ask for the new address"),
        ("P-1011", "María José García", "Stargarder Straße 72", "10437", "Berlin", "DE",
         "mj.garcia@example.es", "+49 163 4418 0072", d("1968-10-05"), "Self-pay"),
        ("P-1012", "Ingrid Weiß-Nørgaard", "Lychener Straße 30", "10437", "Berlin", "DE",
         "ingrid.weiss@example.dk", "+49 30 4437 7001", d("1971-08-14"), None),
        ("P-1013", "Friedrich Hoffmann", "Rykestraße 40", "10405", "Berlin", "DE", "f.hoffmann@example.de",
         "+49 30 4402 1913", d("1966-02-22"), "Private patient: billed under the GOÄ, claims it back himself"),
    ))
    add_salutations(customers, MEDICAL_SALUTATIONS)
    payers = InputSheet(contract.PAYERS, rows(
        "Payer ID | Name | Type | Plugin | Code System | Email | Street | Postal Code | City | Payment Terms Days",
        ("INS-DKV", "DKV Deutsche Krankenversicherung AG", "insurer", "standard", None,
         "leistung@dkv.example", "Aachener Straße 300", "50933", "Köln", 30),
        ("INS-BAR", "Barmenia Zusatzversicherung", "insurer", "standard", None, "zusatz@barmenia.example",
         "Barmenia-Allee 1", "42119", "Wuppertal", 30),
        ("INS-CIG", "Cigna Global Health", "insurer", "standard", "CPT", "claims@cigna-global.example",
         "Avenue de Tervueren 2", "1040", "Brussels", 45),
        ("GOV-SOZ", "Bezirksamt Pankow – Sozialamt", "government", "fee_schedule", None,
         "sozialamt@ba-pankow.example", "Fröbelstraße 17", "10405", "Berlin", 60),
        ("PRIV-GOAE", "Privatpatienten (GOÄ)", "other", "goae", "GOÄ", None, None, None, None, None),
    ))
    # The Sozialamt takes XRechnung (CII) addressed by its Leitweg-ID; DKV takes XRechnung in UBL.
    with_einvoices(payers, {"GOV-SOZ": ("xrechnung", "11000000-SOZPANKOW-40"),
                            "INS-DKV": ("xrechnung-ubl", "DKV-LE-PRAXIS-WEBER")})
    coverage = InputSheet(contract.COVERAGE, rows(
        "Customer ID | Payer ID | Member ID | Priority | Valid From | Valid To | Covered Percent | Copay"
        " | Annual Deductible | Out of Pocket Max | Annual Budget",
        ("P-1001", "INS-DKV", "DKV-7781234", 1, d("2020-01-01"), None, 80, None, D("500"), D("2000"), None),
        ("P-1001", "INS-BAR", "BZ-0055120", 2, d("2024-07-01"), None, 50, None, None, None, None),
        ("P-1002", "INS-DKV", "DKV-6602117", 1, d("2019-05-01"), d("2026-03-31"), 90, None, None, None, None),
        ("P-1003", "INS-CIG", "CGH-JP-004471", 1, d("2025-10-01"), None, 80, None, D("250"), D("3000"), None),
        ("P-1004", "INS-CIG", "CGH-US-118290", 1, d("2026-01-01"), d("2026-12-31"), 80, None, D("250"),
         D("3000"), None),
        ("P-1005", "GOV-SOZ", "SOZ-2026-0193", 1, d("2026-01-01"), d("2026-12-31"), None, None, None, None, None),
        ("P-1006", "GOV-SOZ", "SOZ-2026-0207", 1, d("2026-01-01"), d("2026-12-31"), None, None, None, None, None),
        ("P-1009", "INS-DKV", "DKV-9130554", 1, d("2022-01-01"), None, 70, None, D("300"), D("600"), None),
        ("P-1012", "INS-DKV", "DKV-4419020", 1, d("2021-04-01"), None, 80, None, D("500"), D("2000"), None),
        ("P-1013", "PRIV-GOAE", None, 1, None, None, None, None, None, None, None),
    ))
    services = InputSheet(contract.SERVICES, rows(
        "Service Code | Description | Price | Tax Rate | Tax Category | Tax Exemption",
        ("CONS", "Consultation", D("80.00"), 0, "E", EXEMPT_MEDICAL),
        ("CONS-EXT", "Extended consultation (30 min)", D("120.00"), 0, "E", EXEMPT_MEDICAL),
        ("EXAM", "Full physical examination", D("150.00"), 0, "E", EXEMPT_MEDICAL),
        ("LAB-BLOOD", "Blood panel", D("45.00"), 0, "E", EXEMPT_MEDICAL),
        ("ECG", "Electrocardiogram (ECG)", D("60.00"), 0, "E", EXEMPT_MEDICAL),
        ("XRAY", "X-ray, chest", D("95.00"), 0, "E", EXEMPT_MEDICAL),
        ("ULTRA", "Ultrasound, abdomen", D("110.00"), 0, "E", EXEMPT_MEDICAL),
        ("MRI", "MRI scan, knee", D("650.00"), 0, "E", EXEMPT_MEDICAL),
        ("PHYSIO", "Physiotherapy session", D("55.00"), 0, "E", EXEMPT_MEDICAL),
        ("VACC", "Vaccination incl. administration", D("35.00"), 0, "E", EXEMPT_MEDICAL),
        ("TRAVEL-VACC", "Travel vaccination advice", D("40.00"), 0, "E", EXEMPT_MEDICAL),
        ("CERT", "Medical certificate", D("15.00"), 0, "E", EXEMPT_MEDICAL),
        ("GOAE-1", "Beratung (GOÄ 1)", D("10.72"), 0, "E", EXEMPT_MEDICAL),
        ("GOAE-3", "Eingehende Beratung, mindestens 10 Minuten (GOÄ 3)", D("20.11"), 0, "E", EXEMPT_MEDICAL),
        ("GOAE-250", "Blutentnahme aus der Vene (GOÄ 250)", D("5.36"), 0, "E", EXEMPT_MEDICAL),
    ))
    payer_codes = InputSheet(contract.PAYER_CODES, rows(
        "Payer ID | Service Code | Payer Code | Allowed Amount | Copay | Covered | Prior Authorization",
        ("INS-CIG", "CONS", "99213", D("70.00"), D("20.00"), "yes", None),
        ("INS-CIG", "CONS-EXT", "99214", D("100.00"), D("20.00"), "yes", None),
        ("INS-CIG", "EXAM", "99396", D("130.00"), None, "yes", None),
        ("INS-CIG", "LAB-BLOOD", "80053", D("40.00"), None, "yes", None),
        ("INS-CIG", "ECG", "93000", D("50.00"), None, "yes", None),
        ("INS-CIG", "XRAY", "71046", D("85.00"), None, "yes", None),
        ("INS-CIG", "ULTRA", "76700", D("100.00"), None, "yes", None),
        ("INS-CIG", "MRI", "73721", D("520.00"), None, "yes", "yes"),
        ("INS-CIG", "PHYSIO", "97110", D("45.00"), None, "yes", None),
        ("INS-CIG", "VACC", "90471", D("30.00"), None, "yes", None),
        ("INS-CIG", "CERT", "99080", None, None, "no", None),
        ("INS-DKV", "LAB-BLOOD", None, D("38.00"), None, None, None),
        ("INS-DKV", "TRAVEL-VACC", None, None, None, "no", None),
        ("INS-DKV", "CERT", None, None, None, "no", None),
        ("INS-BAR", "CERT", None, None, None, "no", None),
        ("GOV-SOZ", "CONS", None, D("45.00"), None, None, None),
        ("GOV-SOZ", "CONS-EXT", None, D("65.00"), None, None, None),
        ("GOV-SOZ", "EXAM", None, D("90.00"), None, None, None),
        ("GOV-SOZ", "LAB-BLOOD", None, D("25.00"), None, None, None),
        ("GOV-SOZ", "ECG", None, D("30.00"), None, None, None),
        ("GOV-SOZ", "XRAY", None, D("55.00"), None, None, None),
        ("GOV-SOZ", "ULTRA", None, D("60.00"), None, None, None),
        ("GOV-SOZ", "VACC", None, D("20.00"), None, None, None),
        ("GOV-SOZ", "PHYSIO", None, D("30.00"), None, None, None),
        ("GOV-SOZ", "CERT", None, None, None, "no", None),
        ("PRIV-GOAE", "GOAE-1", "1", None, None, None, None),
        ("PRIV-GOAE", "GOAE-3", "3", None, None, None, None),
        ("PRIV-GOAE", "GOAE-250", "250", None, None, None, None),
    ))
    charges = InputSheet(contract.CHARGES, rows(
        "Charge ID | Date | Customer ID | Service Code | Quantity | Price | Authorization No | Note | Factor"
        " | Justification",
        ("M-0001", d("2026-01-08"), "P-1001", "EXAM", None, None, None, "Annual check-up", None, None),
        ("M-0002", d("2026-01-08"), "P-1001", "LAB-BLOOD", None, None, None, None, None, None),
        ("M-0003", d("2026-01-12"), "P-1003", "CONS", None, None, None, None, None, None),
        ("M-0004", d("2026-01-14"), "P-1004", "CONS-EXT", None, None, None, None, None, None),
        ("M-0005", d("2026-01-14"), "P-1004", "LAB-BLOOD", None, None, None, None, None, None),
        ("M-0006", d("2026-01-19"), "P-1005", "CONS", None, None, None, None, None, None),
        ("M-0007", d("2026-01-19"), "P-1005", "VACC", None, None, None, "Influenza", None, None),
        ("M-0008", d("2026-01-22"), "P-1007", "CONS", None, None, None, None, None, None),
        ("M-0009", d("2026-01-27"), "P-1009", "CONS", None, None, None, None, None, None),
        ("M-0010", d("2026-01-29"), "P-1002", "CONS-EXT", None, None, None, None, None, None),
        ("M-0011", d("2026-02-03"), "P-1008", "CONS-EXT", None, None, None, None, None, None),
        ("M-0012", d("2026-02-05"), "P-1008", "XRAY", None, None, None, None, None, None),
        ("M-0013", d("2026-02-09"), "P-1003", "MRI", None, None, "CGH-PA-2026-0211", "Left knee", None, None),
        ("M-0014", d("2026-02-11"), "P-1006", "EXAM", None, None, None, None, None, None),
        ("M-0015", d("2026-02-11"), "P-1006", "CERT", None, None, None, "For the language school", None, None),
        ("M-0016", d("2026-02-16"), "P-1004", "TRAVEL-VACC", None, None, None, "Trip to Kenya", None, None),
        ("M-0017", d("2026-02-18"), "P-1009", "MRI", None, None, None, "Right knee", None, None),
        ("M-0018", d("2026-02-20"), "P-1010", "CONS", None, None, None, None, None, None),
        ("M-0019", d("2026-02-20"), "P-1010", "CERT", None, None, None, None, None, None),
        ("M-0020", d("2026-02-24"), "P-1008", "MRI", None, None, None, "Shoulder", None, None),
        ("M-0021", d("2026-03-03"), "P-1001", "ECG", None, None, None, None, None, None),
        ("M-0022", d("2026-03-05"), "P-1011", "EXAM", None, None, None, None, None, None),
        ("M-0023", d("2026-03-05"), "P-1011", "LAB-BLOOD", None, None, None, None, None, None),
        ("M-0024", d("2026-03-10"), "P-1009", "PHYSIO", 6, None, None, "6 sessions in March", None, None),
        ("M-0025", d("2026-03-12"), "P-1012", "EXAM", None, None, None, None, None, None),
        ("M-0026", d("2026-03-12"), "P-1012", "LAB-BLOOD", None, None, None, None, None, None),
        ("M-0027", d("2026-03-17"), "P-1004", "CERT", None, None, None, "Sick note", None, None),
        ("M-0028", d("2026-03-24"), "P-1005", "XRAY", None, None, None, "Corrected in June: one X-ray, not two",
         None, None),
        ("M-0029", d("2026-03-26"), "P-1002", "ULTRA", None, None, None, None, None, None),
        ("M-0030", d("2026-04-07"), "P-1001", "MRI", None, None, None, "Left knee", None, None),
        ("M-0031", d("2026-04-09"), "P-1007", "PHYSIO", 2, None, None,
         "Corrected in June: 2 sessions took place, not 3", None, None),
        ("M-0032", d("2026-04-14"), "P-1002", "CONS", None, None, None, None, None, None),
        ("M-0033", d("2026-04-16"), "P-1009", "ULTRA", None, None, None,
         "Corrected in June: one ultrasound, not two", None, None),
        ("M-0034", d("2026-04-21"), "P-1004", "XRAY", None, None, None, None, None, None),
        ("M-0035", d("2026-04-23"), "P-1006", "CONS", None, None, None, None, None, None),
        ("M-0036", d("2026-05-05"), "P-1003", "MRI", None, None, None, "Follow-up; authorization requested",
         None, None),
        ("M-0037", d("2026-05-07"), "P-1009", "EXAM", None, None, None, None, None, None),
        ("M-0038", "12.05.2026", "P-1002", "LAB-BLOOD", None, None, None, "Date typed as text", None, None),
        ("M-0039", d("2026-05-19"), "P-1012", "CONS-EXT", None, None, None, None, None, None),
        ("M-0040", d("2026-05-26"), "P-1001", "CONS", None, None, None, None, None, None),
        ("M-0041", d("2026-06-02"), "P-1009", "CONS", None, None, None, None, None, None),
        ("M-0042", d("2026-06-09"), "P-1003", "ULTRA", None, None, None, None, None, None),
        ("M-0043", d("2026-06-11"), "P-1005", "CONS", None, None, None, None, None, None),
        ("M-0044", d("2026-06-16"), "P-1011", "CONS", None, None, None, None, None, None),
        ("M-0045", d("2026-06-23"), "P-1001", "PHYSIO", 4, None, None, None, None, None),
        ("M-0046", d("2026-06-25"), "P-1008", "CONS", None, D("65.00"), None, "Short follow-up: reduced price",
         None, None),
        ("M-0047", d("2026-06-29"), "P-1004", "CONS", None, None, None, None, None, None),
        ("M-0048", d("2026-06-30"), "P-1006", "VACC", None, None, None, "Tetanus", None, None),
        ("M-0049", d("2026-06-03"), "P-1013", "GOAE-3", None, None, None, None, D("3.0"),
         "überdurchschnittlich zeitaufwendige Beratung (45 Minuten) bei mehreren Erkrankungen"),
        ("M-0050", d("2026-06-03"), "P-1013", "GOAE-250", None, None, None, None, None, None),
        ("M-0051", d("2026-06-24"), "P-1013", "GOAE-1", None, None, None, "Befundbesprechung", None, None),
    ))
    initials = ["KW", "MB", "KW", "SL"]
    charges.extra = [line_total(services),
                     ExtraColumn("Entered By", lambda index, row: initials[index % len(initials)], width=11)]
    plans = InputSheet(contract.PAYMENT_PLANS, rows(
        "Plan ID | Invoice No | Installments | First Due Date | Interval Months | Note",
        ("PP-2026-01", Inv("P-1008", "customer", F1), 6, d("2026-04-15"), 1,
         "Agreed by phone on 2026-03-20 (Lars Øberg)"),
    ))
    contacts = InputSheet(contract.CONTACTS, rows(
        "Date | Customer ID | Invoice No | Channel | Outcome | Hold Until | Note",
        (d("2026-03-20"), "P-1008", Inv("P-1008", "customer", F1), "phone", "promise to pay", None,
         "Cannot pay 865.00 at once; agreed 6 monthly installments"),
        (d("2026-05-10"), "P-1011", Inv("P-1011", "customer", M1), "phone", "dispute", d("2026-07-15"),
         "Says the blood panel was not ordered; Dr. Weber checks the file"),
        (d("2026-05-20"), "P-1007", Inv("P-1007", "customer", A1), "email", "dispute", d("2026-06-15"),
         "Only 2 physiotherapy sessions took place, not 3: charge M-0031 corrected"),
        (d("2026-06-05"), "P-1010", None, "phone", "wrong number", None,
         "Number no longer in service; ask for the new address at the next visit"),
        (d("2026-06-20"), "P-1002", None, "phone", "promise to pay", d("2026-07-10"),
         "New insurance card expected; will pay all open invoices then"),
    ))
    inputs = {
        "Settings": settings, "Customers": customers, "Payers": payers, "Coverage": coverage,
        "Services": services, "Payer Codes": payer_codes, "Charges": charges,
        "Payments": InputSheet(contract.PAYMENTS), "Payment Plans": plans, "Contacts": contacts,
        "Base Rates": InputSheet(contract.BASE_RATES), "Mandates": InputSheet(contract_bank.MANDATES),
    }
    return Demo(MEDICAL_FILE, "Demo: Praxis Dr. Weber (medical practice)", MEDICAL_INTRO, inputs,
                medical_payments, history_overrides={"M-0031": {"Quantity": 3, "Note": None},
                                                     "M-0028": {"Quantity": 2, "Note": None},
                                                     "M-0033": {"Quantity": 2, "Note": None}},
                deliberate=("has no Payer Code for service TRAVEL-VACC",), pays_reminder={"P-1009": 2})


def medical_payments(invoice: Invoice) -> list[Pay]:
    """How the practice's invoices were paid (or not) between the month-end runs."""
    issued, customer = invoice.issue_date, invoice.customer_id
    if invoice.bill_to_type == "Payer":
        payer = invoice.bill_to_id
        if payer == "INS-DKV":
            return [Pay(days(issued, 18), reference=f"DKV Leistungsabrechnung {invoice.invoice_no}")]
        if payer == "INS-BAR":  # the April claim is still unpaid: follow it up
            return [] if issued == A1 else [Pay(days(issued, 21), reference=f"BZ {invoice.invoice_no}")]
        if payer == "INS-CIG":
            if (customer, issued) == ("P-1004", J1):  # paid 20.00 less: the patient's copay
                return [Pay(days(issued, 25), invoice.amount - D("20.00"), reference="EOB 2026-118290-01"),
                        Pay(days(issued, 25), D("20.00"), "Transfer to Customer",
                            reference="EOB 2026-118290-01: copay")]
            return [Pay(days(issued, 25), reference=f"CGH claim {invoice.invoice_no}")]
        if payer == "GOV-SOZ":
            return [Pay(days(issued, 40), method="Bank transfer (Landeshauptkasse)")]
        raise ValueError(payer)
    special: dict[tuple[str, dt.date], list[Pay]] = {
        ("P-1002", A1): [], ("P-1002", Y1): [],  # no coverage since April; hold until the new card comes
        ("P-1007", J1): [Pay(days(issued, 9), "75,00", method="Cash", reference="Receipt 2026-0031"),
                         Pay(days(issued, 60), D("5.00"), "Write-off", method="", reference="Small balance")],
        ("P-1007", A1): [],  # disputed, then corrected: a credit note follows in June
        ("P-1008", F1): [Pay(d("2026-04-14"), D("144.16"), reference="Installment 1 of 6"),
                         Pay(d("2026-05-15"), D("144.16"), reference="Installment 2 of 6")],
        ("P-1011", M1): [],  # disputed
        ("P-1009", F1): [],  # paid only after reminder 2, exactly its Amount Due (fee included)
        ("P-1012", M1): [Pay(days(issued, 20), D("100.00"), method="EC card", reference="Partial payment")],
    }
    if (customer, issued) in special:
        return special[(customer, issued)]
    if customer == "P-1010":  # never pays, and sheetbill cannot remind him: no usable address
        return []
    return [Pay(days(issued, 12), method="Bank transfer")]


# --- demo 2: a utility ----------------------------------------------------------------------------------

UTILITY_INTRO = [
    "A demo of sheetbill for a municipal utility: water, wastewater and district heating, with an employer "
    "that pays its staff housing up to an annual budget, the job centre paying for its clients, and a "
    "hardship fund paying half the bill of a family until the end of April.",
    "Invoices up to May are the history of earlier month-end runs. Run  sheetbill bill demo-utility.xlsx "
    "--as-of 2026-06-30  to bill June. Services is an Excel table; Charges has staff columns (Line Total, "
    "Read By) that sheetbill leaves alone. One June charge names customer 0047l21 (a typo for 0047121): "
    "a deliberate Problem.",
]

#: Salutation and Title of the demo customers (the others are greeted by their full name).
MEDICAL_SALUTATIONS = {"P-1001": ("Herr", "Dr."), "P-1002": ("Frau", None), "P-1003": ("Herr", None),
                       "P-1004": ("Frau", "Dr."), "P-1005": ("Herr", None), "P-1006": ("Frau", None),
                       "P-1007": ("Frau", None), "P-1008": ("Herr", None), "P-1010": ("Herr", None),
                       "P-1011": ("Frau", "Prof."), "P-1012": ("Frau", None)}
UTILITY_SALUTATIONS = {"0047111": ("Frau", None), "0047112": ("Herr", None), "0047113": ("Herr", None),
                       "0047114": ("Frau", None), "0047115": ("Herr", "Prof."), "0047118": ("Frau", None),
                       "0047119": ("Herr", "Dr."), "0047121": ("Frau", None)}


def add_salutations(customers: InputSheet, salutations: dict[str, tuple[str, str | None]]) -> None:
    """Fill in the Salutation and Title columns of ``customers`` from ``salutations``."""
    for row in customers.rows:
        salutation, title = salutations.get(str(row["Customer ID"]), (None, None))
        if salutation:
            row["Salutation"] = salutation
        if title:
            row["Title"] = title


#: Customers of the utility: (ID, name, street, postal code, city, email, phone, notes).
UTILITY_CUSTOMERS = (
    ("0047110", "Hausverwaltung Šimek & Söhne", "Lützner Straße 88", "04177", "Leipzig",
     "buchhaltung@simek-hv.example", "0341 4411 200", "Apartment building, 18 units"),
    ("0047111", "Łucja Wiśniewska", "Am Klinikum 4, App. 12", "04179", "Leipzig", "lucja.w@example.pl",
     "+49 176 5502 1187", "Staff housing: the Klinikum pays up to its annual budget"),
    ("0047112", "Αλέξανδρος Παπαδόπουλος", "Am Klinikum 4, App. 7", "04179", "Leipzig",
     "a.papadopoulos@example.gr", "+49 152 0193 7764", "Staff housing"),
    ("0047113", "Ahmet Öztürk", "Georg-Schwarz-Straße 31", "04177", "Leipzig", "ahmet.ozturk@example.de",
     "0341 2250 113", "Job centre pays (Kosten der Unterkunft)"),
    ("0047114", "Fatma Çelik", "Merseburger Straße 102", "04177", "Leipzig", "fatma.celik@example.de",
     "0341 2250 987", "Job centre pays"),
    ("0047115", "Jean-Luc Lefèvre", "Karl-Heine-Straße 19", "04229", "Leipzig", "jl.lefevre@example.fr",
     "+49 160 3321 0099", "Hardship fund pays half the bill until 2026-04-30"),
    ("0047116", "Nguyễn Thị Hoa", "Demmeringstraße 44", "04177", "Leipzig", "hoa.nguyen@example.vn",
     "+49 157 4410 2201", None),
    ("0047117", "WG Kastanienallee 12 (c/o Kim Berger)", "Kastanienallee 12", "04178", "Leipzig",
     "kim.berger@example.de", "+49 171 2204 5518", "Shared flat; payment plan for the winter bill"),
    ("0047118", "Olga Petrenko", "William-Zipperer-Straße 51", "04179", "Leipzig", "olga.petrenko@example.ua",
     "+49 159 7781 4402", None),
    ("0047119", "Thomas Krüger", "Hahnemannstraße 7", "04177", "Leipzig", "t.krueger@example.de",
     "0341 4801 776", "New meter in March"),
    ("0047120", "Bäckerei Sonnenschein GmbH", "Lindenauer Markt 3", "04177", "Leipzig",
     "info@baeckerei-sonnenschein.example", "0341 4774 330", "Business customer"),
    ("0047121", "Ingeborg Åström", "Uhlandstraße 25", "04177", "Leipzig", "ingeborg.astrom@example.se",
     "0341 4790 021", None),
    ("0047122", "Peter Schulz", None, None, None, None, "0341 0000 000", "Address unknown since he moved"),
)

#: SEPA mandates of the utility's customers: most pay by direct debit; the disputed, the plan, the
#: partial payer, the one in hospital and the one who moved pay (or not) by transfer.
UTILITY_MANDATES = (
    ("SWL-M-0047110", "0047110", "DE02120300000000202051", "BYLADEM1001", d("2024-11-04"), "B2B", "active",
     d("2026-05-19")),
    ("SWL-M-0047111", "0047111", "DE02500105170137075030", "INGDDEFFXXX", d("2025-09-01"), None, None,
     d("2026-05-19")),
    ("SWL-M-0047112", "0047112", "DE12500105170648489890", None, d("2026-01-05"), None, None, d("2026-05-19")),
    ("SWL-M-0047113", "0047113", "DE68210501700012345678", None, d("2026-01-02"), None, None, d("2026-05-19")),
    ("SWL-M-0047114", "0047114", "DE44500105175407324931", None, d("2026-01-02"), None, None, d("2026-05-19")),
    ("SWL-M-0047115", "0047115", "DE75512108001245126199", None, d("2025-12-15"), None, None, d("2026-05-19")),
    ("SWL-M-0047119", "0047119", "DE91100000000123456789", None, d("2026-03-02"), None, None, None),
    ("SWL-M-0047120", "0047120", "DE27100777770209299700", None, d("2025-06-30"), "B2B", None, d("2026-05-19")),
)

#: Water use in m³ per two months, and heating in kWh per January (None: no district heating).
UTILITY_USE: dict[str, tuple[str, str | None]] = {
    "0047110": ("84.6", "9120"), "0047111": ("7.35", "690"), "0047112": ("5.2", None),
    "0047113": ("9.1", "780"), "0047114": ("11.45", "860"), "0047115": ("8.05", "920"),
    "0047116": ("6.7", None), "0047117": ("15.9", "1450"), "0047118": ("4.85", "540"),
    "0047119": ("6.1", None), "0047120": ("38.25", None), "0047121": ("3.9", "610"),
    "0047122": ("4.4", None),
}
#: Heating by month, relative to January; water by reading, relative to the first.
HEATING_SEASON = (D("1"), D("0.92"), D("0.71"), D("0.46"), D("0.21"), D("0.09"))
WATER_READINGS = ((d("2026-02-25"), D("1")), (d("2026-04-24"), D("1.04")), (d("2026-06-25"), D("0.97")))
MONTH_ENDS = (*HISTORY_RUNS, DEMO_AS_OF)


def utility_charges() -> list[dict[str, object]]:
    """Every charge of the utility from January to June: base fees, heating, readings, and a few extras."""
    charges: list[tuple[dt.date, str, str, Decimal | None, Decimal | None, str | None]] = []
    for customer, (water, heating) in UTILITY_USE.items():
        for month, month_end in enumerate(MONTH_ENDS):
            charges.append((month_end, customer, "WATER-BASE", None, None, None))
            if heating is not None:
                charges.append((month_end, customer, "HEAT-BASE", None, None, None))
                kwh = (D(heating) * HEATING_SEASON[month]).quantize(D("1"))
                charges.append((month_end, customer, "HEAT", kwh, None, None))
        for date, factor in WATER_READINGS:
            cubic_metres = (D(water) * factor).quantize(D("0.01"))
            charges.append((date, customer, "WATER", cubic_metres, None, None))
            charges.append((date, customer, "WASTEWATER", cubic_metres, None, None))
    charges += [
        (d("2026-03-16"), "0047119", "METER-SWAP", None, D("92.50"), "Ultrasonic meter DN 25: special price"),
        (d("2026-04-24"), "0047116", "METER-READ", None, None, "No access at the first visit"),
        (d("2026-05-06"), "0047113", "METER-READ", None, None, "Reading on request"),
        (d("2026-06-12"), "0047l21", "METER-READ", None, None, "Typo in the customer ID (deliberate)"),
    ]
    order = {code: i for i, code in enumerate(("WATER-BASE", "WATER", "WASTEWATER", "HEAT-BASE", "HEAT",
                                               "METER-READ", "METER-SWAP", "RECONNECT"))}
    charges.sort(key=lambda c: (c[0], c[1], order[c[2]]))
    return [{k: v for k, v in {"Charge ID": f"W-{index:05d}", "Date": date, "Customer ID": customer,
                               "Service Code": service, "Quantity": quantity, "Price": price,
                               "Note": note}.items() if v is not None}
            for index, (date, customer, service, quantity, price, note) in enumerate(charges, start=1)]


def utility_demo() -> Demo:
    """Stadtwerke Lindenau: 13 accounts, monthly base fees and heating, water read every two months."""
    settings = settings_sheet({
        **COMMON_DEMO_SETTINGS,
        "Company Name": "Stadtwerke Lindenau GmbH",
        "Company Address": "Am Wasserturm 3; 04179 Leipzig",
        "Company Email": "kundenservice@stadtwerke-lindenau.example",
        "Invoice Prefix": "SWL-",
        "Invoice Digits": 5,
        "Payment Terms Days": 14,
        "Default Interest Percent": 5,
        "Payment Methods": "SEPA direct debit, or bank transfer",
        **EINVOICE_DEMO_SETTINGS,
        "Tax Number": "231/114/50427",
        "VAT ID": "DE136695976",
        "Prices Include Tax": "yes",
        "Default Notice": "yes",
        "Payment Reference Format": "{rf}",
        "Creditor ID": "DE98ZZZ09999999999",
        "Debit Lead Days": 14,
        "Return Debit Fee": D("3.00"),
    })
    customers = InputSheet(contract.CUSTOMERS, rows(
        "Customer ID | Name | Street | Postal Code | City | Email | Phone | Notes",
        *UTILITY_CUSTOMERS,
    ))
    for row in customers.rows:
        if "Street" in row:
            row["Country"] = "DE"
    add_salutations(customers, UTILITY_SALUTATIONS)
    payers = InputSheet(contract.PAYERS, rows(
        "Payer ID | Name | Type | Plugin | Code System | Email | Street | Postal Code | City | Payment Terms Days",
        ("EMP-KLI", "Klinikum Lindenau gGmbH (staff housing)", "employer", "employer_budget", None,
         "personal@klinikum-lindenau.example", "Am Klinikum 1", "04179", "Leipzig", 30),
        ("GOV-JC", "Jobcenter Leipzig – Kosten der Unterkunft", "government", "standard", None,
         "kdu@jobcenter-leipzig.example", "Georg-Schumann-Straße 150", "04159", "Leipzig", 30),
        ("OTH-HF", "Härtefallfonds Energie Lindenau e.V.", "other", "standard", None,
         "antrag@haertefallfonds.example", "Josephstraße 27", "04177", "Leipzig", 30),
    ))
    # The Jobcenter takes XRechnung (CII) addressed by its Leitweg-ID; the Klinikum ZUGFeRD PDFs.
    with_einvoices(payers, {"GOV-JC": ("xrechnung", "14713000-JCLEIPZIG-23"), "EMP-KLI": ("zugferd", "KST 4711")})
    coverage = InputSheet(contract.COVERAGE, rows(
        "Customer ID | Payer ID | Member ID | Priority | Valid From | Valid To | Covered Percent | Copay"
        " | Annual Deductible | Out of Pocket Max | Annual Budget",
        ("0047111", "EMP-KLI", "PN-20817", 1, d("2025-09-01"), None, None, None, None, None, D("250")),
        ("0047112", "EMP-KLI", "PN-21433", 1, d("2026-01-01"), None, None, None, None, None, D("250")),
        ("0047113", "GOV-JC", "BG 25302//0041187", 1, d("2026-01-01"), d("2026-12-31"), 100, None, None, None,
         None),
        ("0047114", "GOV-JC", "BG 25302//0052290", 1, d("2026-01-01"), d("2026-12-31"), 100, None, None, None,
         None),
        ("0047115", "OTH-HF", "HF-2026-017", 1, d("2026-01-01"), d("2026-04-30"), 50, None, None, None, None),
    ))
    services = InputSheet(contract.SERVICES, rows(
        "Service Code | Description | Price | Tax Rate",
        ("WATER-BASE", "Water base fee (monthly)", D("8.50"), 7),
        ("WATER", "Drinking water per m³", D("2.15"), 7),
        ("WASTEWATER", "Wastewater per m³", D("2.61"), 19),
        ("HEAT-BASE", "District heating base fee (monthly)", D("14.90"), 19),
        ("HEAT", "District heating per kWh", D("0.1245"), 19),
        ("METER-READ", "Meter reading on site", D("12.00"), 19),
        ("METER-SWAP", "Meter replacement", D("85.00"), 19),
        ("RECONNECT", "Reconnection", D("60.00"), 19),
    ), as_table=True)
    payer_codes = InputSheet(contract.PAYER_CODES, rows(
        "Payer ID | Service Code | Payer Code | Allowed Amount | Copay | Covered | Prior Authorization",
        ("EMP-KLI", "METER-READ", None, None, None, "no", None),
        ("GOV-JC", "METER-READ", None, None, None, "no", None),
        ("GOV-JC", "METER-SWAP", None, None, None, "no", None),
        ("GOV-JC", "RECONNECT", None, None, None, "no", "yes"),
    ))
    charges = InputSheet(contract.CHARGES, utility_charges())
    readers = ["MK", "MK", "JS"]
    charges.extra = [line_total(services),
                     ExtraColumn("Read By", lambda index, row: readers[index % len(readers)]
                                 if row["Service Code"] in ("WATER", "WASTEWATER", "METER-READ") else None,
                                 width=9)]
    plans = InputSheet(contract.PAYMENT_PLANS, rows(
        "Plan ID | Invoice No | Installments | First Due Date | Interval Months | Note",
        ("PL-0001", Inv("0047117", "customer", F1), 4, d("2026-04-01"), 1,
         "Winter heating bill; agreed at the counter on 2026-03-10"),
    ))
    contacts = InputSheet(contract.CONTACTS, rows(
        "Date | Customer ID | Invoice No | Channel | Outcome | Hold Until | Note",
        (d("2026-03-10"), "0047117", Inv("0047117", "customer", F1), "visit", "promise to pay", None,
         "Kim Berger asked for installments; 4 monthly installments agreed"),
        (d("2026-05-12"), "0047116", Inv("0047116", "customer", A1), "phone", "dispute", d("2026-07-31"),
         "Doubts the water reading of 24 April; a second reading is booked for July"),
        (d("2026-06-02"), "0047121", None, "phone", "reached", d("2026-07-15"),
         "In hospital until mid-July; her son pays the open invoices then"),
        (d("2026-06-15"), "0047118", Inv("0047118", "customer", A1), "email", "promise to pay", None,
         "Pays the rest with her July salary"),
        (d("2026-06-18"), "0047122", None, "phone", "no answer", None, "Letters come back: address unknown"),
    ))
    inputs = {
        "Settings": settings, "Customers": customers, "Payers": payers, "Coverage": coverage,
        "Services": services, "Payer Codes": payer_codes, "Charges": charges,
        "Payments": InputSheet(contract.PAYMENTS), "Payment Plans": plans, "Contacts": contacts,
        "Base Rates": InputSheet(contract.BASE_RATES),
        "Mandates": InputSheet(contract_bank.MANDATES, rows(
            "Mandate ID | Customer ID | IBAN | BIC | Signed On | Scheme | Status | Last Used",
            *UTILITY_MANDATES)),
    }
    return Demo(UTILITY_FILE, "Demo: Stadtwerke Lindenau (utility)", UTILITY_INTRO, inputs, utility_payments,
                deliberate=("unknown customer '0047l21'",))


def utility_payments(invoice: Invoice) -> list[Pay]:
    """How the utility's invoices were paid (or not) between the month-end runs."""
    issued, customer = invoice.issue_date, invoice.customer_id
    if invoice.bill_to_type == "Payer":
        if invoice.bill_to_id == "GOV-JC" and (customer, issued) == ("0047114", F1):
            return [Pay(days(issued, 25), invoice.amount - D("18.40"), reference="KdU 02/2026"),
                    Pay(days(issued, 25), D("18.40"), "Transfer to Customer",
                        reference="KdU 02/2026: consumption above the appropriate limit")]
        wait = {"EMP-KLI": 20, "GOV-JC": 25, "OTH-HF": 30}[invoice.bill_to_id]
        return [Pay(days(issued, wait))]
    debit = Pay(days(issued, 5), method="SEPA direct debit")
    special: dict[tuple[str, dt.date], list[Pay]] = {
        ("0047116", A1): [],  # disputed reading
        ("0047117", F1): [Pay(d("2026-04-01"), "plan"), Pay(d("2026-05-02"), "plan"), Pay(d("2026-06-01"), "plan")],
        ("0047118", A1): [Pay(days(issued, 16), D("50.00"), reference="Partial payment")],
        ("0047118", Y1): [],
        ("0047119", M1): [Pay(days(issued, 5), invoice.amount - D("0.05"), method="Bank transfer"),
                          Pay(days(issued, 30), D("0.05"), "Write-off", method="", reference="Rounding difference")],
        ("0047120", A1): [debit, Pay(days(issued, 7), method="Bank transfer", reference="Paid twice")],
        ("0047121", A1): [], ("0047121", Y1): [],  # in hospital
    }
    if customer == "0047122":  # never pays; no address to remind him at
        return []
    pays = special.get((customer, issued), [debit])
    if any(p.amount == "plan" for p in pays):  # equal installments, the remainder on the last
        share = (invoice.amount / 4).quantize(D("0.01"), rounding="ROUND_DOWN")
        return [dataclasses.replace(p, amount=share, reference=f"Installment {i} of 4")
                for i, p in enumerate(pays, start=1)]
    return pays


# --- docs/workbook.md: the generated tables ---------------------------------------------------------------

_GENERATED = re.compile(r"(<!-- generated: (?P<what>[^>]+?) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.S)


def _format_words(spec: TableSpec, fld: Field) -> str:
    menu = choices_of(spec, fld)
    if fld.kind == "choice":
        return "one of " + ", ".join(f"`{c}`" for c in fld.choices)
    if menu is not None and fld.kind != "yesno":
        return "text; the drop-down suggests " + ", ".join(f"`{c}`" for c in menu[0])
    words = KIND_FORMATS[fld.kind][1]
    if fld.positive:
        words += ", greater than 0"
    elif fld.nonnegative:
        words += ", not negative"
    return words


def columns_table(spec: TableSpec) -> str:
    """The Markdown table of an input sheet's columns: header, required, format, meaning."""
    lines = ["| Column | Required | Format | Meaning |", "|---|---|---|---|"]
    for fld in spec.fields:
        header = f"**{fld.header}**" if fld.required else fld.header
        if fld.aliases:
            header += " (or " + ", ".join(fld.aliases) + ")"
        lines.append(f"| {header} | {'yes' if fld.required else ''} | {_format_words(spec, fld)} "
                     f"| {COLUMN_NOTES[spec.name][fld.header]} |")
    return "\n".join(lines) + "\n"


def _default_words(attribute: str) -> str:
    from sheetbill.models import Settings

    if attribute == "as_of":
        return "today"
    value = next(f for f in dataclasses.fields(Settings) if f.name == attribute).default
    if value is None or value == "":
        return "(none)"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return f"`{value}`"


def settings_table() -> str:
    """The Markdown table of every setting: name, format, default and description (from the contract)."""
    lines = ["| Setting | Format | Default | Meaning |", "|---|---|---|---|"]
    for name, (attribute, kind, description) in contract.SETTING_FIELDS.items():
        lines.append(f"| {name} | {KIND_FORMATS[kind][1]} | {_default_words(attribute)} | {description} |")
    return "\n".join(lines) + "\n"


def outputs_table() -> str:
    """The Markdown list of the output sheets and, where the contract defines them, their columns."""
    lines = ["| Sheet | What it shows | Columns |", "|---|---|---|"]
    for name, text in OUTPUT_SHEETS.items():
        lines.append(f"| {name} | {text} | {', '.join(c.header for c in OUTPUT_COLUMNS[name])} |")
    return "\n".join(lines) + "\n"


def problem_codes_table() -> str:
    """The Markdown table of every Problem code and its meaning (from :data:`sheetbill.problems.CODES`)."""
    from sheetbill.problems import CODES

    lines = ["| Code | Meaning |", "|---|---|"]
    lines += [f"| `{code}` | {meaning} |" for code, meaning in sorted(CODES.items())]
    return "\n".join(lines) + "\n"


def generated_docs(what: str) -> str:
    """The body of one generated region of ``docs/workbook.md``."""
    if what == "problem codes":
        return problem_codes_table()
    if what == "settings":
        return settings_table()
    if what == "outputs":
        return outputs_table()
    if what == "sheets":
        return "".join(f"{index}. **{spec.name}**: {SHEET_PURPOSE[spec.name]}\n"
                       for index, spec in enumerate(contract.INPUT_TABLES, start=1))
    if what.startswith("columns "):
        return columns_table(spec_of(what.removeprefix("columns ")))
    raise KeyError(f"docs/workbook.md asks for an unknown generated region {what!r}")


def update_docs(text: str) -> str:
    """``text`` with every generated region rewritten from the contract."""
    return _GENERATED.sub(lambda m: m[1] + generated_docs(m["what"]) + m[4], text)


# --- main -------------------------------------------------------------------------------------------------


def build_all(out: Path) -> dict[str, Path]:
    """Write the template and both demos into ``out``; returns their paths by file name."""
    out.mkdir(parents=True, exist_ok=True)
    written = {TEMPLATE_FILE: out / TEMPLATE_FILE, MEDICAL_FILE: out / MEDICAL_FILE, UTILITY_FILE: out / UTILITY_FILE}
    write_workbook(written[TEMPLATE_FILE], template_data())
    write_workbook(written[MEDICAL_FILE], build_demo(medical_demo()))
    write_workbook(written[UTILITY_FILE], build_demo(utility_demo()))
    written[UTILITY_STATEMENT] = out / UTILITY_STATEMENT
    written[UTILITY_STATEMENT].write_bytes(_demo_statement()(written[UTILITY_FILE], DEMO_AS_OF))
    return written


def _demo_statement() -> Callable[[Path, dt.date], bytes]:
    """:func:`demo_statement.demo_statement`, loaded from beside this file (which is run as a script)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("sheetbill_demo_statement", WORKBOOKS / "demo_statement.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.demo_statement


def check() -> list[str]:
    """The committed files that differ from a fresh build (empty when everything is current)."""
    stale: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = build_all(Path(tmp))
        for name, path in fresh.items():
            committed = WORKBOOKS / name
            if not committed.exists() or committed.read_bytes() != path.read_bytes():
                stale.append(str(committed.relative_to(ROOT)))
        if not PACKAGED_TEMPLATE.exists() or PACKAGED_TEMPLATE.read_bytes() != fresh[TEMPLATE_FILE].read_bytes():
            stale.append(str(PACKAGED_TEMPLATE.relative_to(ROOT)))
    docs = DOCS.read_text(encoding="utf-8")
    if update_docs(docs) != docs:
        stale.append(str(DOCS.relative_to(ROOT)))
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: rebuild (default), build elsewhere (``--out``), or check (``--check``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the workbooks here instead of workbooks/")
    parser.add_argument("--check", action="store_true", help="only report files that a rebuild would change")
    args = parser.parse_args(argv)
    if args.check:
        stale = check()
        for name in stale:
            print(f"out of date: {name} (run: python workbooks/build.py)")
        return 1 if stale else 0
    written = build_all(args.out or WORKBOOKS)
    if args.out is None:
        PACKAGED_TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
        PACKAGED_TEMPLATE.write_bytes(written[TEMPLATE_FILE].read_bytes())
        written["packaged template"] = PACKAGED_TEMPLATE
        if DOCS.exists():
            DOCS.write_text(update_docs(DOCS.read_text(encoding="utf-8")), encoding="utf-8")
            written["docs"] = DOCS
    for path in written.values():
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
