"""Problems: errors as values that say where they are.

Like beancount's error tuples, a :class:`Problem` carries its source (sheet, row, column) with the
message, so the clerk can go straight to the cell. Every stage returns its results together with
the problems it found; the run collects them, skips the rows they name, and shows them in the
Problems sheet and on the command line. Only broken configuration, which makes the whole run
meaningless, is raised as :class:`ConfigurationError` and aborts before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .i18n import Language, Msg

Severity = Literal["error", "warning"]

#: Every Problem code and what it means: the list ``docs/workbook.md`` documents. A test checks that
#: every code the package uses is here.
CODES: dict[str, str] = {
    # cells and tables
    "missing-column": "a required column is missing from a sheet's header row (the run is aborted)",
    "required-missing": "a required cell is blank",
    "error-cell": "the cell shows a spreadsheet error such as #N/A",
    "not-a-number": "the cell should hold a number or amount",
    "ambiguous-amount": "an amount like 1,500 could mean 1500 or 1.5",
    "not-a-whole-number": "the cell should hold a whole number",
    "not-a-date": "the cell should hold a date (2026-01-31 or 31.01.2026)",
    "not-yes-or-no": "the cell should hold yes or no",
    "not-a-choice": "the cell should hold one of the listed values",
    "out-of-range": "the value is outside its allowed range (negative, zero, over 100 %)",
    "bad-value": "the cell's value does not fit its column",
    "duplicate-key": "the row repeats the key of an earlier row",
    "duplicate-column": "two columns of a sheet have the same header (after normalising); the first is read",
    "duplicate-sheet": "two sheets have the same name after normalising (Charges, charges); the first is read",
    # settings
    "bad-setting": "a Settings value cannot be used; the default is used",
    "bad-terms": "payment terms or a reminder fee are not in the documented grammar (30, EOM + 15, 15th next "
                 "month; 5, 2%, 2% min 5 max 50)",
    "bad-currency": "Currency is not an ISO 4217 code (the run is aborted)",
    "setting-repeated": "a setting is named twice; the later row counts",
    "bad-reference-format":
        "Payment Reference Format uses placeholders other than {invoice_no}, {customer_id} and {rf}",
    "reminder-fees-mismatch": "Reminder Fees has a different number of amounts than Reminder Days has levels",
    "collection-agency-missing": "an invoice is due for hand-off but Collection Agency is blank",
    "bad-iban": "the Bank IBAN setting or a Mandates IBAN is not a valid IBAN (check digits, country length)",
    "bad-customer-iban": "a Customers IBAN is not a valid IBAN (check digits, country length): a warning; the "
                         "customer is billed, the IBAN is not used to match bank payments",
    # bank import and direct debit
    "mandate-not-yet-signed": "a mandate's Signed On is after the as-of date; it is not used before then",
    "debit-not-possible": "an item due for debit cannot be debited (no Bank IBAN, a text banks refuse)",
    "bank-file-unreadable": "a statement file is not camt.052/.053/.054, MT940 or a CSV the Settings describe",
    "bank-review-answer": "the Invoice No or Customer ID typed into Bank Review names no invoice or customer",
    "bad-bic": "Bank BIC is not a valid BIC",
    "no-qr-code": "no EPC QR code can be made for the payment details",
    # cross-references
    "unknown-customer": "the Customer ID is not on the Customers sheet",
    "unknown-payer": "the Payer ID is not on the Payers sheet",
    "unknown-service": "the Service Code is not on the Services sheet",
    "unknown-invoice": "the Invoice No was never issued",
    "unknown-party": "an invoice's bill-to party is not on the Customers or Payers sheet",
    "coverage-dates-reversed": "a coverage's Valid To is before its Valid From",
    "contact-wrong-customer": "a Contacts row names another customer's invoice",
    "transfer-not-payer-invoice": "a Transfer to Customer names an invoice that is not a payer's",
    "plan-not-customer-invoice": "a payment plan names an invoice that is not a customer's",
    "plan-duplicate": "an invoice has a second payment plan",
    "plan-bad-shares": "a payment plan's Shares do not add up to 100 or do not match Installments, or it has "
                       "neither; the plan is ignored",
    "plan-over-max": "a payment plan has more installments than Max Installments",
    "payment-unassigned": "a Payments row names no invoice and no customer, or a write-off or transfer no invoice",
    "payment-wrong-customer": "a Payments row's Customer ID is not the customer of the invoice it names",
    "refund-exceeds-credit": "a refund is larger than the credit the customer had; it is not booked",
    "allocation-exceeds-balance": "a write-off or transfer is larger than what was open on the invoice",
    "bad-interest-rate": "Interest Rate is neither a percent nor base + points",
    "bad-interest-basis": "Interest Basis is not act/365, act/360 or 30/360",
    "missing-base-rate": "interest at base + points is due for a day before the first row of Base Rates",
    "too-many-decimals": "an amount has more decimals than the currency's minor unit (79.996 EUR)",
    "bad-tax-category": "a Tax Category is not one of S, Z, E, AE, K, G, O; the service is not billed",
    "bad-tax-rate": "a Tax Rate above 0 for a category without tax (E, Z, AE, K, G, O); the service is not billed",
    "tax-rate-missing": "a taxed workbook's service has no Tax Rate and there is no Default Tax Rate",
    "tax-exemption-missing": "an exempt service (category E) names no Tax Exemption reason",
    "tax-exemption-ignored": "a Tax Exemption on a service with tax (S, Z) is not printed",
    "bad-vat-id": "VAT ID is not a valid VAT identification number; it is not printed",
    "bad-tax-number": "Tax Number does not have the form of a German tax number",
    "tax-info-missing": "a German sender's workbook has no tax information (Tax Number or VAT ID, rates)",
    "invoice-requirement-missing": "an invoice would lack something § 14 (4) UStG requires of a German sender",
    # payers
    "payer-plugin-missing": "no installed plugin handles the payer's Plugin; its charges are held",
    "payer-code-missing": "the payer needs a Payer Code for the service; the charge is held",
    "plugin-error": "a payer plugin failed or answered wrongly; the charge is held",
    "claim-refused": "a payer plugin refused the charge for a reason to fix in its row (a GOÄ factor above the "
                     "threshold without a Justification, ...); the charge is held",
    # history written by sheetbill
    "edited-history": "a row of a sheet sheetbill writes was edited (for Invoices and Invoice Lines: its Seal "
                      "no longer matches); restore it",
    "deleted-history": "an issued invoice or line was deleted from the Invoices or Invoice Lines sheet",
    # reminders and documents
    "contact-details-missing": "a reminder or document is due but the party has no valid email or postal address",
    "bad-email": "an email address is not valid",
    "templates-missing": "the Document Templates folder does not exist",
    "language-unknown": "no templates exist for the Language setting",
    "bad-template": "an office template file cannot be used",
    "unprintable-text": "a text has characters no document font can print",
    "document-name-taken": "two documents would get the same file name",
    "document-changed": "an issued document would now say something else than the file already written",
    # e-invoices
    "einvoice-incomplete": "a party wants e-invoices but it or the seller (Settings) lacks what they need",
    "bad-leitweg-id": "a Buyer Reference is not a valid Leitweg-ID (shape or check digits)",
    "einvoice-no-tax": "an invoice without tax information (issued before tax was set up) gets no e-invoice",
    "einvoice-not-made": "an invoice's e-invoice cannot be made, so its document is not made either",
    "einvoice-by-letter": "an invoice with an XRechnung file goes by letter, which cannot carry the file",
    "document-failed": "one document could not be laid out; the others were made",
    # sending
    "smtp-incomplete": "documents are due to go by email but the SMTP settings are incomplete",
    "smtp-password-missing": "no SMTP password in the environment or the keyring",
    "smtp-unreachable": "the mail server cannot be reached",
    "smtp-broke-off": "the connection to the mail server broke off while sending",
    "recipient-refused": "the mail server refused a recipient or a message",
    "message-invalid": "one document's email could not be built; the others were sent",
    "sent-not-written": "the Sent sheet could not be written; the journal keeps what was sent",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the workbook.

    Attributes:
        severity: ``"error"`` when the row was skipped (nothing of it billed), ``"warning"`` when the
            run went on with it and the clerk should still look.
        message: what is wrong and, where possible, what to do, in the clerk's words.
        sheet: the sheet the problem is on ("" when it concerns no sheet, e.g. a plugin).
        row: the 1-based sheet row, or ``None`` for a whole sheet or column.
        column: the header of the column, or "" for a whole row or sheet.
        code: a stable, machine-readable name of the kind of problem (``unknown-service``,
            ``ambiguous-amount``, ``edited-history``): what tests, ``--json`` users and documents match
            on, never the prose. ``docs/workbook.md`` lists every code.
        text: the message as a sentence of the catalogues (:mod:`sheetbill.i18n`), which the Problems
            sheet writes in the Settings Language; ``message`` is its English form.
    """

    severity: Severity
    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    code: str = ""
    text: Msg | None = None

    def in_language(self, language: Language) -> str:
        """The message in ``language`` (English when it was not made from a catalogue sentence)."""
        return language.render(self.text) if self.text is not None else self.message

    @property
    def location(self) -> str:
        """Where the problem is, as a clerk would say it: ``Charges row 7, column Quantity``."""
        parts = []
        if self.sheet:
            parts.append(self.sheet)
        if self.row is not None:
            parts.append(f"row {self.row}")
        text = " ".join(parts)
        if self.column:
            text = f"{text}, column {self.column}" if text else f"column {self.column}"
        return text

    def __str__(self) -> str:
        where = self.location
        return f"{self.severity}: {where}: {self.message}" if where else f"{self.severity}: {self.message}"


def error(message: Msg | str, sheet: str = "", row: int | None = None, column: str = "", *, code: str) -> Problem:
    """A problem that skipped its row; ``message`` is a catalogue sentence (:func:`sheetbill.i18n.msg`)."""
    return _problem("error", message, sheet, row, column, code)


def warning(message: Msg | str, sheet: str = "", row: int | None = None, column: str = "", *, code: str) -> Problem:
    """A problem the run went on with; ``message`` is a catalogue sentence (:func:`sheetbill.i18n.msg`)."""
    return _problem("warning", message, sheet, row, column, code)


def _problem(severity: Severity, message: Msg | str, sheet: str, row: int | None, column: str,
             code: str) -> Problem:
    if isinstance(message, Msg):
        return Problem(severity, str(message), sheet, row, column, code, message)
    return Problem(severity, message, sheet, row, column, code)


class ConfigurationError(Exception):
    """The workbook or the installation is broken so that no run can be trusted.

    Raised for a missing required input column, an unusable currency, or two plugins claiming
    the same payer name; the front end reports it and exits without writing anything.
    """

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []
