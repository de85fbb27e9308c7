"""The workbook contract: which sheets and columns staff type into, and which sheets sheetbill owns.

This module, with :mod:`sheetbill.contract_bank` for the bank sheets, is the single source of truth
for sheet and column names; ``docs/workbook.md`` documents it for people and the template workbook
is generated from it. Input tables are read
through :mod:`sheetbill.tables`; output tables are written by each front end from the columns
defined here.
"""

from __future__ import annotations

import re

from .cells import normalize
from .contract_bank import BANK_PAYMENTS_SHEET, BANK_REVIEW_SHEET, DEBITS_SHEET, MANDATES, PAYMENT_TYPES
from .models import PayerType, SecondaryMethod
from .sheets import Column
from .tables import Field, TableSpec
from .terms import MAX_TERMS_DAYS

PAYER_TYPES = tuple(kind.value for kind in PayerType)
SECONDARY_METHODS = tuple(method.value for method in SecondaryMethod)
CONTACT_CHANNELS = ("phone", "email", "letter", "visit")
CONTACT_OUTCOMES = ("reached", "no answer", "wrong number", "promise to pay", "dispute", "other")
#: Payers Code System values meaning "the practice's own service codes" (compared case-folded): no
#: mapping is needed, and documents print no code system beside the Code column.
OWN_CODE_SYSTEMS = frozenset({"", "internal", "own", "service code"})
#: The E-Invoice column of Customers and Payers: blank for none, else one of these (docs/einvoice.md).
E_INVOICE_FORMATS: dict[str, str] = {
    "xrechnung": "XRechnung 3.0 in UN/CEFACT CII syntax, an XML file beside the PDF",
    "xrechnung-ubl": "XRechnung 3.0 in OASIS UBL 2.1 syntax, an XML file beside the PDF",
    "zugferd": "ZUGFeRD 2 / Factur-X profile EN 16931: the PDF itself, with the CII XML embedded (PDF/A-3)",
}
E_INVOICE_CHOICES = tuple(E_INVOICE_FORMATS)

SETTINGS = TableSpec(
    "Settings",
    (Field("setting", "Setting", "text", required=True), Field("value", "Value", "raw")),
)

#: Settings by name: (attribute of :class:`sheetbill.models.Settings`, kind, description).
SETTING_FIELDS: dict[str, tuple[str, str, str]] = {
    "Company Name": ("company_name", "text", "Sender name on invoices and reminders."),
    "Company Address": ("company_address", "text",
                        "Sender address in one cell, its lines separated by ; (Praxisweg 1; 10115 Berlin)."),
    "Company Country": ("company_country", "text",
                        "ISO country code of the sender (default DE): addresses in it get no country line; "
                        "e-invoices state it."),
    "Company Email": ("company_email", "text", "Reply address shown on documents."),
    "Currency": ("currency", "text", "ISO 4217 code of all amounts (default EUR)."),
    "Invoice Prefix": ("invoice_prefix", "text", "Text before the invoice number (default INV-)."),
    "Invoice Digits": ("invoice_digits", "int", "Digits of the running number (default 6)."),
    "Payment Terms Days": ("payment_terms", "terms",
                           "When a customer invoice is due: 30 (days, the default), EOM, EOM + 15 or 15th next "
                           "month (docs/overdue.md)."),
    "As Of Date": ("as_of", "date", "The run's date (default today): issue date of new invoices."),
    "Reminder Days": ("reminder_days", "intlist",
                      "Days after the due date for reminder 1, then after each previous reminder."),
    "Reminder Fees": ("reminder_fees", "feelist",
                      "Fee added with each reminder level, e.g. 0; 5; 10, or a percentage of the overdue "
                      "principal: 0; 2% min 5; 2% min 5 max 50."),
    "Collection After Days": ("collection_after_days", "int", "Days after the final notice before hand-off."),
    "Collection Agency": ("collection_agency", "text", "Name of the collection agency."),
    "Collection Fee Percent": ("collection_fee_percent", "percent", "Agency fee, percent of principal."),
    "Default Interest Percent": ("default_interest_percent", "percent",
                                 "Annual interest on overdue customer balances (blank: none); Interest Rate, "
                                 "when set, is used instead."),
    "Interest Rate": ("interest_rate", "raw",
                      "Default interest: a percent (8) or base + points (base + 5 against consumers, base + 9 "
                      "against businesses) with the Base Rates sheet."),
    "Interest Basis": ("interest_basis", "raw", "Days as a fraction of a year: act/365 (default), act/360 or 30/360."),
    "Remind Before Due Days": ("remind_before_due_days", "int",
                               "Days before the due date a customer gets a friendly reminder, level 0, no fee "
                               "(blank: none)."),
    "Business Late Fee": ("business_late_fee", "money",
                          "Flat late fee once per invoice for business debtors (payers and customers with "
                          "Business = yes), e.g. 40 under § 288 (5) BGB (blank: none)."),
    "Payment Plan Threshold": ("payment_plan_threshold", "money",
                               "Customer balance from which Advice suggests a payment plan."),
    "Max Installments": ("max_installments", "int", "Most installments a plan may have (default 6)."),
    "Payment Methods": ("payment_methods", "text", "How customers can pay, shown on reminders."),
    "Bank IBAN": ("bank_iban", "text", "Account for payments."),
    "Payment Reference Format": ("payment_reference_format", "text",
                                 "Reference a payment should carry; {invoice_no}, {customer_id} and {rf} (the "
                                 "invoice's RF creditor reference, the default) are filled in."),
    "Language": ("language", "text", "Language of documents and of the sentences in sheets: en or de."),
    "Document Templates": ("document_templates", "text",
                           "Folder of the office's own document templates (relative to the workbook's folder)."),
    "Bank BIC": ("bank_bic", "text", "BIC of the bank account; printed on documents and put into the EPC QR code."),
    "SMTP Host": ("smtp_host", "text", "Mail server for sending documents (e.g. smtp.example.org)."),
    "SMTP Port": ("smtp_port", "int", "Its port (default 587 with starttls, 465 with tls, 25 with none)."),
    "SMTP Security": ("smtp_security", "text", "starttls (default), tls or none."),
    "SMTP User": ("smtp_user", "text",
                  "Login name; the password comes from SHEETBILL_SMTP_PASSWORD or the system keyring."),
    "Sender Email": ("sender_email", "text", "From address of sent documents (default Company Email)."),
    "Send Documents From": ("send_documents_from", "date",
                            "Documents dated before this day are never sent (they went out by other means)."),
    "Dun Fees And Interest": ("dun_fees_and_interest", "yesno",
                              "yes: an invoice whose principal is paid but whose fees or interest are open is "
                              "reminded and handed over like any other (default no: it only shows on statements)."),
    "Apply Credits": ("apply_credits", "text",
                      "automatic (default): a customer's credit pays their oldest open items; manual: Advice "
                      "says where it could go."),
    "Tax Number": ("tax_number", "text", "The sender's tax number (Steuernummer), printed on invoices."),
    "VAT ID": ("vat_id", "text", "The sender's VAT identification number (USt-IdNr, e.g. DE123456789), printed "
                                 "on invoices."),
    "Prices Include Tax": ("prices_include_tax", "yesno",
                           "yes: prices are gross, tax is taken out of them; no (default): prices are net, tax "
                           "is added."),
    "Small Business": ("small_business", "yesno",
                       "yes: small business under § 19 UStG, no VAT on any invoice and its note printed."),
    "Default Tax Rate": ("default_tax_rate", "percent", "Tax rate in percent for services without one (19, 7, 0)."),
    "Default Tax Category": ("default_tax_category", "text",
                             "Tax category for services without one: S, Z, E, AE, K, G or O (default S when the "
                             "rate is above 0, E when it is 0)."),
    "Default Tax Exemption": ("default_tax_exemption", "text",
                              "Exemption reason printed for exempt services without one (e.g. Steuerfrei nach "
                              "§ 4 Nr. 14 UStG)."),
    "Default Notice": ("default_notice", "yesno",
                       "yes: customer invoices say the customer is in default 30 days after the due date "
                       "without a reminder (§ 286 (3) BGB)."),
    "Contact Name": ("contact_name", "text", "Who answers questions about an invoice (XRechnung requires it)."),
    "Contact Phone": ("contact_phone", "text", "Their phone number (XRechnung requires it)."),
    "Contact Email": ("contact_email", "text", "Their email address (default Company Email)."),
    "Seller Identifier": ("seller_identifier", "text",
                          "How buyers identify the practice on e-invoices when it has no VAT ID (BT-29), e.g. its "
                          "Institutionskennzeichen."),
    "Electronic Address": ("electronic_address", "text",
                           "Where e-invoice replies reach the practice (BT-34): an email address (default "
                           "Company Email) or SCHEME:ID such as 0204:991-12345-67."),
}

#: The valid ranges of whole-number settings (both ends included); docs/workbook.md lists them. Dates
#: lie between cells.DATE_MIN and cells.DATE_MAX, amounts below cells.MAX_AMOUNT.
MAX_PLAN_INSTALLMENTS = 120
MAX_INTERVAL_MONTHS = 24
SETTING_RANGES: dict[str, tuple[int, int]] = {
    "Invoice Digits": (1, 20),
    "Payment Terms Days": (0, MAX_TERMS_DAYS),
    "Reminder Days": (0, MAX_TERMS_DAYS),
    "Collection After Days": (0, MAX_TERMS_DAYS),
    "Max Installments": (1, MAX_PLAN_INSTALLMENTS),
    "SMTP Port": (1, 65535),
}

CUSTOMERS = TableSpec(
    "Customers",
    (
        Field("customer_id", "Customer ID", "id", required=True),
        Field("name", "Name", "text", required=True),
        Field("street", "Street"),
        Field("postal_code", "Postal Code", "id", aliases=("ZIP", "Postcode")),
        Field("city", "City"),
        Field("country", "Country"),
        Field("email", "Email", aliases=("E-mail",)),
        Field("phone", "Phone", "id"),
        Field("date_of_birth", "Date of Birth", "date"),
        Field("notes", "Notes"),
        Field("e_invoice", "E-Invoice", "choice", choices=E_INVOICE_CHOICES),
        Field("buyer_reference", "Buyer Reference", "id", aliases=("Leitweg-ID",)),
        Field("vat_id", "VAT ID", "id", aliases=("USt-IdNr",)),
        Field("electronic_address", "Electronic Address"),
        Field("salutation", "Salutation", aliases=("Anrede",)),
        Field("title", "Title", aliases=("Titel",)),
        Field("payment_terms", "Payment Terms Days", "terms", aliases=("Payment Terms",)),
        Field("business", "Business", "yesno"),
        Field("iban", "IBAN", "id"),
    ),
    key=("customer_id",),
    required_sheet=True,
)

PAYERS = TableSpec(
    "Payers",
    (
        Field("payer_id", "Payer ID", "id", required=True),
        Field("name", "Name", "text", required=True),
        Field("type", "Type", "choice", choices=PAYER_TYPES),
        Field("plugin", "Plugin", "id"),
        Field("code_system", "Code System"),
        Field("email", "Email", aliases=("E-mail",)),
        Field("street", "Street"),
        Field("postal_code", "Postal Code", "id"),
        Field("city", "City"),
        Field("payment_terms", "Payment Terms Days", "terms", aliases=("Payment Terms",)),
        Field("country", "Country"),
        Field("e_invoice", "E-Invoice", "choice", choices=E_INVOICE_CHOICES),
        Field("buyer_reference", "Buyer Reference", "id", aliases=("Leitweg-ID",)),
        Field("vat_id", "VAT ID", "id", aliases=("USt-IdNr",)),
        Field("electronic_address", "Electronic Address"),
        Field("secondary_method", "Secondary Method", "choice", choices=SECONDARY_METHODS),
        Field("balance_billing", "Balance Billing", "yesno"),
    ),
    key=("payer_id",),
)

COVERAGE = TableSpec(
    "Coverage",
    (
        Field("customer_id", "Customer ID", "id", required=True),
        Field("payer_id", "Payer ID", "id", required=True),
        Field("member_id", "Member ID", "id"),
        Field("priority", "Priority", "int", positive=True, maximum=100),
        Field("valid_from", "Valid From", "date"),
        Field("valid_to", "Valid To", "date"),
        Field("covered_percent", "Covered Percent", "percent"),
        Field("copay", "Copay", "money", nonnegative=True),
        Field("annual_deductible", "Annual Deductible", "money", nonnegative=True),
        Field("out_of_pocket_max", "Out of Pocket Max", "money", nonnegative=True),
        Field("annual_budget", "Annual Budget", "money", nonnegative=True),
        Field("copay_then_coinsurance", "Copay Then Coinsurance", "yesno"),
        Field("copay_counts_to_deductible", "Copay Counts To Deductible", "yesno"),
    ),
)

SERVICES = TableSpec(
    "Services",
    (
        Field("service_code", "Service Code", "id", required=True),
        Field("description", "Description", "text", required=True),
        Field("price", "Price", "money", required=True, nonnegative=True),
        Field("tax_rate", "Tax Rate", "percent", aliases=("VAT Rate", "Tax Percent")),
        Field("tax_category", "Tax Category", "text", aliases=("VAT Category",)),
        Field("tax_exemption", "Tax Exemption", "text", aliases=("Exemption Reason", "Tax Exemption Reason")),
    ),
    key=("service_code",),
    required_sheet=True,
)

PAYER_CODES = TableSpec(
    "Payer Codes",
    (
        Field("payer_id", "Payer ID", "id", required=True),
        Field("service_code", "Service Code", "id", required=True),
        Field("payer_code", "Payer Code", "id"),
        Field("allowed_amount", "Allowed Amount", "money", nonnegative=True),
        Field("copay", "Copay", "money", nonnegative=True),
        Field("covered", "Covered", "yesno"),
        Field("prior_authorization", "Prior Authorization", "yesno"),
        Field("points", "Points", "decimal", positive=True),
    ),
    key=("payer_id", "service_code"),
)

CHARGES = TableSpec(
    "Charges",
    (
        Field("charge_id", "Charge ID", "id", required=True),
        Field("date", "Date", "date", required=True),
        Field("customer_id", "Customer ID", "id", required=True),
        Field("service_code", "Service Code", "id", required=True),
        Field("quantity", "Quantity", "decimal", positive=True),
        Field("price", "Price", "money", nonnegative=True),
        Field("authorization_no", "Authorization No", "id"),
        Field("note", "Note"),
        Field("factor", "Factor", "decimal", positive=True),
        Field("justification", "Justification"),
        Field("fee_agreement", "Fee Agreement", "yesno"),
    ),
    key=("charge_id",),
    required_sheet=True,
)

PAYMENTS = TableSpec(
    "Payments",
    (
        Field("payment_id", "Payment ID", "id", required=True),
        Field("date", "Date", "date", required=True),
        Field("invoice_no", "Invoice No", "id"),
        Field("amount", "Amount", "money", required=True),
        Field("type", "Type", "choice", choices=PAYMENT_TYPES),
        Field("method", "Method"),
        Field("reference", "Reference", "id"),
        Field("customer_id", "Customer ID", "id"),
    ),
    key=("payment_id",),
)

PAYMENT_PLANS = TableSpec(
    "Payment Plans",
    (
        Field("plan_id", "Plan ID", "id", required=True),
        Field("invoice_no", "Invoice No", "id", required=True),
        Field("installments", "Installments", "int", positive=True, maximum=MAX_PLAN_INSTALLMENTS),
        Field("first_due_date", "First Due Date", "date", required=True),
        Field("interval_months", "Interval Months", "int", positive=True, maximum=MAX_INTERVAL_MONTHS),
        Field("note", "Note"),
        Field("shares", "Shares", "decimallist"),
        Field("interval_days", "Interval Days", "int", positive=True, maximum=MAX_TERMS_DAYS),
    ),
    key=("plan_id",),
)

CONTACTS = TableSpec(
    "Contacts",
    (
        Field("date", "Date", "date", required=True),
        Field("customer_id", "Customer ID", "id", required=True),
        Field("invoice_no", "Invoice No", "id"),
        Field("channel", "Channel", "choice", choices=CONTACT_CHANNELS),
        Field("outcome", "Outcome", "choice", choices=CONTACT_OUTCOMES),
        Field("hold_until", "Hold Until", "date"),
        Field("note", "Note"),
    ),
)

BASE_RATES = TableSpec(
    "Base Rates",
    (
        Field("valid_from", "Valid From", "date", required=True),
        Field("rate", "Rate", "decimal", required=True),
    ),
    key=("valid_from",),
)

#: The sheets staff type into, in the order of the template.
INPUT_TABLES: tuple[TableSpec, ...] = (
    SETTINGS, CUSTOMERS, PAYERS, COVERAGE, SERVICES, PAYER_CODES, CHARGES, PAYMENTS, PAYMENT_PLANS, CONTACTS,
    BASE_RATES, MANDATES,
)
INPUT_SHEETS: tuple[str, ...] = tuple(spec.name for spec in INPUT_TABLES)

# --- output sheets ----------------------------------------------------------------------------------

INVOICE_COLUMNS = (
    Column("Invoice No", "text", 14), Column("Kind", "text", 12), Column("Issue Date", "date", 12),
    Column("Due Date", "date", 12), Column("Bill To Type", "text", 12), Column("Bill To ID", "text", 12),
    Column("Bill To Name", "text", 28), Column("Customer ID", "text", 12), Column("Amount", "money", 12),
    Column("Fees", "money", 10), Column("Interest", "money", 10), Column("Paid", "money", 12),
    Column("Credited", "money", 12), Column("Written Off", "money", 12), Column("Transferred", "money", 12),
    Column("Balance", "money", 12), Column("Status", "text", 14), Column("Related Invoice", "text", 14),
    Column("Net", "money", 12), Column("Tax", "money", 12), Column("Seal", "text", 28),
)
INVOICE_LINE_COLUMNS = (
    Column("Invoice No", "text", 14), Column("Charge ID", "text", 12), Column("Date of Service", "date", 14),
    Column("Customer ID", "text", 12), Column("Service Code", "text", 12), Column("Billed Code", "text", 12),
    Column("Quantity", "decimal", 9), Column("Charge Amount", "money", 13), Column("Amount", "money", 12),
    Column("Adjustment", "money", 12), Column("Reason", "text", 30), Column("Payment ID", "text", 12),
    Column("Related Invoice", "text", 14), Column("Net", "money", 12), Column("Tax Category", "text", 12),
    Column("Tax Rate", "decimal", 9), Column("Tax Exemption", "text", 30), Column("Seal", "text", 31),
)
PROBLEM_COLUMNS = (
    Column("Severity", "text", 9), Column("Sheet", "text", 14), Column("Row", "int", 7),
    Column("Column", "text", 18), Column("Message", "text", 90), Column("Code", "text", 22),
)
ADVICE_COLUMNS = (
    Column("Customer ID", "text", 12), Column("Invoice No", "text", 14), Column("Topic", "text", 18),
    Column("Advice", "text", 100),
)

#: Derived every run: which credit paid which part of which invoice.
ALLOCATION_COLUMNS = (
    Column("Date", "date", 12), Column("Source Type", "text", 12), Column("Source", "text", 14),
    Column("Invoice No", "text", 14), Column("Installment", "int", 11), Column("Part", "text", 10),
    Column("Amount", "money", 12),
)
#: Derived every run: one row per party that has items.
ACCOUNT_COLUMNS = (
    Column("Party Type", "text", 11), Column("Party ID", "text", 12), Column("Name", "text", 28),
    Column("Invoiced", "money", 12), Column("Fees", "money", 10), Column("Interest", "money", 10),
    Column("Paid", "money", 12), Column("Credited", "money", 12), Column("Written Off", "money", 12),
    Column("Transferred", "money", 12), Column("Balance", "money", 12), Column("Unapplied Credit", "money", 14),
    Column("Oldest Open Due Date", "date", 18), Column("Dunning Level", "int", 13), Column("Status", "text", 14),
)
#: Written on request (the Statement script of xlwings Lite): every customer's statement of account.
STATEMENT_COLUMNS = (
    Column("Customer ID", "text", 12), Column("Name", "text", 28), Column("Date", "date", 12),
    Column("Item", "text", 16), Column("Reference", "text", 14), Column("Invoice No", "text", 14),
    Column("Amount", "money", 12), Column("Balance", "money", 12), Column("Due Date", "date", 12),
)
STATEMENTS_SHEET = "Statements"
ALLOCATIONS_SHEET = "Allocations"
ACCOUNTS_SHEET = "Accounts"

INVOICES_SHEET = "Invoices"
INVOICE_LINES_SHEET = "Invoice Lines"
PROBLEMS_SHEET = "Problems"
ADVICE_SHEET = "Advice"

#: Output sheets whose rows are history (read back every run, appended to, never rewritten).
HISTORY_SHEETS: tuple[str, ...] = (INVOICES_SHEET, INVOICE_LINES_SHEET, "Reminders", "Collections")
_HISTORY_KEYS = frozenset(normalize(name) for name in HISTORY_SHEETS)
#: Sheets sheetbill writes outside a run that a run reads (the bank import's postings and review):
#: they count as inputs for the stamp that lets an unchanged run be skipped.
IMPORTED_SHEETS: tuple[str, ...] = (BANK_PAYMENTS_SHEET, BANK_REVIEW_SHEET, DEBITS_SHEET)
#: What the stamp fingerprints: a run is repeated when any of these changed.
STAMPED_SHEETS: tuple[str, ...] = (*INPUT_SHEETS, *IMPORTED_SHEETS)
_RUN_SHEETS = frozenset(normalize(name) for name in (*INPUT_SHEETS, *HISTORY_SHEETS, *IMPORTED_SHEETS))


#: A history table longer than the grid continues on "<name> 2", "<name> 3", ... (at most this many).
MAX_CONTINUATIONS = 32
_CONTINUATION = re.compile(r"^(.*?)\s*(\d+)$")


def run_reads(name: str) -> bool:
    """The one rule for which sheets a run needs from a workbook: the input sheets, the history sheets,
    and a history sheet's continuation ("Invoice Lines 2"). Derived output sheets (Overdue, Aging, ...)
    and staff's own sheets are never read. Every front end reads, or sends, only these sheets."""
    key = normalize(name)
    if key in _RUN_SHEETS:
        return True
    match = _CONTINUATION.match(name.strip())
    return bool(match) and normalize(match[1]) in _HISTORY_KEYS and 2 <= int(match[2]) <= MAX_CONTINUATIONS


def sheets_a_run_reads() -> tuple[str, ...]:
    """Every sheet name :func:`run_reads` accepts, spelled as the contract spells it (for readers that
    look sheets up by name)."""
    continuations = tuple(f"{name} {number}" for name in HISTORY_SHEETS
                          for number in range(2, MAX_CONTINUATIONS + 1))
    return INPUT_SHEETS + HISTORY_SHEETS + IMPORTED_SHEETS + continuations


INVOICES = TableSpec(
    INVOICES_SHEET,
    (
        Field("invoice_no", "Invoice No", "id", required=True),
        Field("kind", "Kind", "text", required=True),
        Field("issue_date", "Issue Date", "date", required=True),
        Field("due_date", "Due Date", "date", required=True),
        Field("bill_to_type", "Bill To Type", "text", required=True),
        Field("bill_to_id", "Bill To ID", "id", required=True),
        Field("bill_to_name", "Bill To Name", "text"),
        Field("customer_id", "Customer ID", "id", required=True),
        Field("amount", "Amount", "money", required=True),
        Field("related", "Related Invoice", "id"),
        Field("seal", "Seal", "text"),
        Field("net", "Net", "money"),
        Field("tax", "Tax", "money"),
    ),
    key=("invoice_no",),
)

INVOICE_LINES = TableSpec(
    INVOICE_LINES_SHEET,
    (
        Field("invoice_no", "Invoice No", "id", required=True),
        Field("charge_id", "Charge ID", "id"),
        Field("date_of_service", "Date of Service", "date"),
        Field("customer_id", "Customer ID", "id", required=True),
        Field("service_code", "Service Code", "id"),
        Field("billed_code", "Billed Code", "id"),
        Field("quantity", "Quantity", "decimal"),
        Field("charge_amount", "Charge Amount", "money"),
        Field("amount", "Amount", "money", required=True),
        Field("adjustment", "Adjustment", "money"),
        Field("reason", "Reason", "text"),
        Field("payment_id", "Payment ID", "id"),
        Field("related_invoice", "Related Invoice", "id"),
        Field("seal", "Seal", "text"),
        Field("net", "Net", "money"),
        Field("tax_category", "Tax Category", "id"),
        Field("tax_rate", "Tax Rate", "decimal"),
        Field("tax_exemption", "Tax Exemption", "text"),
    ),
)

# --- overdue tracking --------------------------------------------------------------------------------

OVERDUE_SHEET = "Overdue"
AGING_SHEET = "Aging"
REMINDERS_SHEET = "Reminders"
INSTALLMENTS_SHEET = "Installments"
COLLECTIONS_SHEET = "Collections"

#: Derived every run: one row per open invoice (or plan installment) past due.
OVERDUE_COLUMNS = (
    Column("Invoice No", "text", 14), Column("Installment", "text", 11), Column("Bill To Type", "text", 12),
    Column("Bill To", "text", 28), Column("Customer ID", "text", 12), Column("Contact", "text", 34),
    Column("Due Date", "date", 12), Column("Days Overdue", "int", 12), Column("Aging Bucket", "text", 12),
    Column("Balance", "money", 12), Column("Fees", "money", 10), Column("Interest", "money", 10),
    Column("Dunning Level", "int", 13), Column("Last Reminder", "date", 13), Column("Next Action", "text", 48),
    Column("Next Action Date", "date", 16),
)
#: Derived every run: open balance per age bucket and Bill To Type (a bar chart is drawn beside it).
AGING_COLUMNS = (
    Column("Bucket", "text", 10), Column("Customer", "money", 14), Column("Payer", "money", 14),
    Column("Total", "money", 14),
)
#: Append-only history: every reminder and payer follow-up issued.
REMINDER_COLUMNS = (
    Column("Date", "date", 12), Column("Invoice No", "text", 14), Column("Level", "int", 7),
    Column("Recipient", "text", 28), Column("Channel", "text", 9), Column("Address or Email", "text", 40),
    Column("Amount Due", "money", 12), Column("Fee", "money", 9), Column("Text", "text", 120),
    Column("Principal", "money", 12), Column("Fees", "money", 10), Column("Interest", "money", 10),
    Column("Interest Charged", "money", 12), Column("Installment", "int", 11),
)
#: Derived every run from Payment Plans rows and the payments on each invoice.
INSTALLMENT_COLUMNS = (
    Column("Plan ID", "text", 10), Column("Invoice No", "text", 14), Column("No", "int", 5),
    Column("Due Date", "date", 12), Column("Amount", "money", 12), Column("Paid", "money", 12),
    Column("Balance", "money", 12), Column("Status", "text", 14),
)
#: Append-only history of hand-offs (the first eight columns); Paid Since and Balance are derived.
COLLECTION_COLUMNS = (
    Column("Invoice No", "text", 14), Column("Customer ID", "text", 12), Column("Principal", "money", 12),
    Column("Fees", "money", 10), Column("Interest", "money", 10), Column("Agency", "text", 24),
    Column("Agency Fee", "money", 12), Column("Handed Over On", "date", 15), Column("Paid Since", "money", 12),
    Column("Balance", "money", 12),
)

REMINDERS = TableSpec(
    REMINDERS_SHEET,
    (
        Field("date", "Date", "date", required=True),
        Field("invoice_no", "Invoice No", "id", required=True),
        Field("level", "Level", "int", required=True, nonnegative=True),  # 0: before the due date
        Field("recipient", "Recipient", "text"),
        Field("channel", "Channel", "text"),
        Field("address", "Address or Email", "text"),
        Field("amount_due", "Amount Due", "money"),
        Field("fee", "Fee", "money"),
        Field("text", "Text", "text", aliases=("Reminder Text",)),
        Field("principal", "Principal", "money"),
        Field("fees", "Fees", "money"),
        Field("interest", "Interest", "money"),
        Field("interest_charged", "Interest Charged", "money"),
        Field("installment", "Installment", "int"),
    ),
)

COLLECTIONS = TableSpec(
    COLLECTIONS_SHEET,
    (
        Field("invoice_no", "Invoice No", "id", required=True),
        Field("customer_id", "Customer ID", "id", required=True),
        Field("principal", "Principal", "money", required=True),
        Field("fees", "Fees", "money"),
        Field("interest", "Interest", "money"),
        Field("agency", "Agency", "text"),
        Field("agency_fee", "Agency Fee", "money"),
        Field("handed_over_on", "Handed Over On", "date", required=True),
    ),
    key=("invoice_no",),
)
