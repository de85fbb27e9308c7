"""The workbook contract of the bank sheets: bank payments, bank review, mandates and debits.

Part of :mod:`sheetbill.contract` (which names every sheet and column, and re-exports these): the
sheets ``sheetbill import-bank`` and ``sheetbill debit`` write, the Mandates sheet staff type into,
and the settings both read. ``docs/bank.md`` and ``docs/debits.md`` document them for people.
"""

from __future__ import annotations

from .models import PaymentType
from .sheets import Column
from .tables import Field, TableSpec

#: The Type values of a payment row (Payments and Bank Payments).
PAYMENT_TYPES = tuple(kind.value for kind in PaymentType)

#: The bank settings (:mod:`sheetbill.bank_import`), read from ``Settings.extra``: name -> description.
#: The "Bank CSV ..." settings describe another bank's CSV export (the savings banks' CSV-CAMT,
#: camt and MT940 need none): the header of each column, the date format and the decimal mark.
BANK_SETTINGS: dict[str, str] = {
    "Bank CSV Date": "Header of the booking date column of your bank's CSV export.",
    "Bank CSV Amount": "Header of the signed amount column (money in positive).",
    "Bank CSV Name": "Header of the payer's name column.",
    "Bank CSV IBAN": "Header of the payer's IBAN column.",
    "Bank CSV Purpose": "Header of the purpose (Verwendungszweck) column.",
    "Bank CSV Date Format": "How dates are written: DD.MM.YYYY (default), YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY.",
    "Bank CSV Decimal": "Decimal mark of amounts: comma (default, 1.234,56) or point (1,234.56).",
    "Bank CSV Delimiter": "Field separator: ; (default), comma or tab.",
    "Bank CSV Encoding": "The file's encoding: utf-8 (default) or cp1252.",
    "Bank CSV Skip Lines": "Lines before the header line (default 0).",
}

#: Written by ``sheetbill import-bank`` (never by a person): every bank entry it posted, read by the
#: ledger as payments beside the Payments sheet. A clerk may correct Invoice No or Customer ID.
BANK_PAYMENTS_SHEET = "Bank Payments"
BANK_PAYMENTS = TableSpec(
    BANK_PAYMENTS_SHEET,
    (
        Field("payment_id", "Payment ID", "id", required=True),
        Field("date", "Date", "date", required=True),
        Field("invoice_no", "Invoice No", "id"),
        Field("amount", "Amount", "money", required=True),
        Field("type", "Type", "choice", choices=PAYMENT_TYPES),
        Field("method", "Method"),
        Field("reference", "Reference", "id"),
        Field("customer_id", "Customer ID", "id"),
        Field("entry_id", "Entry ID", "text", required=True),
        Field("rule", "Rule", "text"),
        Field("counterparty", "Counterparty", "text"),
        Field("iban", "IBAN", "id"),
        Field("purpose", "Purpose", "text"),
    ),
    key=("payment_id",),
)
BANK_PAYMENT_COLUMNS = (
    Column("Payment ID", "text", 16), Column("Date", "date", 12), Column("Invoice No", "text", 14),
    Column("Amount", "money", 12), Column("Type", "text", 10), Column("Method", "text", 14),
    Column("Reference", "text", 22), Column("Customer ID", "text", 12), Column("Entry ID", "text", 30),
    Column("Rule", "text", 16), Column("Counterparty", "text", 28), Column("IBAN", "text", 24),
    Column("Purpose", "text", 50),
)

#: Written by ``sheetbill import-bank``: the credits it could not match. The clerk types the Invoice No
#: (or Customer ID) into a row; the next import posts it to Bank Payments and drops the row.
BANK_REVIEW_SHEET = "Bank Review"
BANK_REVIEW = TableSpec(
    BANK_REVIEW_SHEET,
    (
        Field("entry_id", "Entry ID", "text", required=True),
        Field("date", "Date", "date", required=True),
        Field("amount", "Amount", "money", required=True),
        Field("counterparty", "Counterparty", "text"),
        Field("iban", "IBAN", "id"),
        Field("purpose", "Purpose", "text"),
        Field("reference", "Reference", "id"),
        Field("reason", "Reason", "text"),
        Field("suggestions", "Suggestions", "text"),
        Field("invoice_no", "Invoice No", "id"),
        Field("customer_id", "Customer ID", "id"),
    ),
    key=("entry_id",),
)
BANK_REVIEW_COLUMNS = (
    Column("Entry ID", "text", 30), Column("Date", "date", 12), Column("Amount", "money", 12),
    Column("Counterparty", "text", 28), Column("IBAN", "text", 24), Column("Purpose", "text", 50),
    Column("Reference", "text", 22), Column("Reason", "text", 40), Column("Suggestions", "text", 40),
    Column("Invoice No", "text", 14), Column("Customer ID", "text", 12),
)

MANDATE_SCHEMES = ("CORE", "B2B")
MANDATE_STATUSES = ("active", "revoked")
#: SEPA direct-debit mandates (:mod:`sheetbill.debits`): a customer with an active mandate is debited.
MANDATES = TableSpec(
    "Mandates",
    (
        Field("mandate_id", "Mandate ID", "id", required=True),
        Field("customer_id", "Customer ID", "id", required=True),
        Field("iban", "IBAN", "id", required=True),
        Field("bic", "BIC", "id"),
        Field("signed_on", "Signed On", "date", required=True),
        Field("scheme", "Scheme", "choice", choices=MANDATE_SCHEMES),
        Field("status", "Status", "choice", choices=MANDATE_STATUSES),
        Field("last_used", "Last Used", "date"),
    ),
    key=("mandate_id",),
)

#: The direct-debit settings (:mod:`sheetbill.debits`), read from ``Settings.extra``: name -> description.
DEBIT_SETTINGS: dict[str, str] = {
    "Creditor ID": "Your SEPA creditor identifier (Gläubiger-ID, e.g. DE98ZZZ09999999999); needed to debit.",
    "Debit Lead Days": "Days between the invoice and its debit, the pre-notification (default 14, at least 2).",
    "Debit Format": "pain.008.001.08 (default) or pain.008.001.02 for older bank software.",
    "Return Debit Fee": "Fee charged to the customer for a returned debit when the statement shows no charge "
                        "(blank: none).",
}

#: Written by ``sheetbill debit`` (rows appended) and ``sheetbill import-bank`` (Status, return columns):
#: every item sent for debit.
DEBITS_SHEET = "Debits"
#: The sheet Excel's "Import bank statement" macro adds for a moment when it goes through a sheetbill server:
#: one row per picked file, its name in column A and its content in base64 from column B on (split over as
#: many cells as it needs). The server reads the files from it; no run reads it; the macro deletes it.
STATEMENT_FILES_SHEET = "sheetbill import files"
#: Characters of base64 per cell of :data:`STATEMENT_FILES_SHEET` (a cell holds at most 32,767).
STATEMENT_FILES_CHUNK = 30000
DEBIT_STATUSES = ("pending", "collected", "returned")
DEBITS = TableSpec(
    DEBITS_SHEET,
    (
        Field("collection_date", "Collection Date", "date", required=True),
        Field("invoice_no", "Invoice No", "id", required=True),
        Field("installment", "Installment", "int"),
        Field("mandate_id", "Mandate ID", "id", required=True),
        Field("amount", "Amount", "money", required=True),
        Field("end_to_end_id", "End-to-End ID", "id", required=True),
        Field("file", "File", "text"),
        Field("status", "Status", "choice", choices=DEBIT_STATUSES),
        Field("sequence", "Sequence", "text"),
        Field("customer_id", "Customer ID", "id"),
        Field("return_reason", "Return Reason", "text"),
        Field("returned_on", "Returned On", "date"),
        Field("return_fee", "Return Fee", "money"),
    ),
    key=("end_to_end_id",),
)
DEBIT_COLUMNS = (
    Column("Collection Date", "date", 15), Column("Invoice No", "text", 14), Column("Installment", "int", 11),
    Column("Mandate ID", "text", 16), Column("Amount", "money", 12), Column("End-to-End ID", "text", 24),
    Column("File", "text", 34), Column("Status", "text", 11), Column("Sequence", "text", 9),
    Column("Customer ID", "text", 12), Column("Return Reason", "text", 30), Column("Returned On", "date", 12),
    Column("Return Fee", "money", 11),
)
