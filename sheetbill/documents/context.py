"""What building any document of one workbook shares: the history, indexed once, and the settings.

A :class:`Context` is made once per workbook and handed to the per-kind builders
(:mod:`.invoice`, :mod:`.reminder`). It holds the Book as read, the templates, fonts and plugins,
the invoices and their lines indexed, the bank details checked once, and the pieces every kind
prints the same way: the payment reference, the placeholders of the letter texts, the letter's
greeting and end, and the payment block. Problems found while building are collected on it,
each once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from ..bank.references import creditor_id_problem, normalize
from ..book import Book
from ..dunning import payment_reference, reference_format_is_valid
from ..ledger import LedgerReport
from ..mandates import debit_date, lead_days, mandate_of, masked_iban
from ..models import BillToType, Customer, Invoice, InvoiceKind, InvoiceLine, Payer, Settings
from ..money import ZERO
from ..plugins.manager import Plugins
from ..problems import Problem, warning
from ..readiness import iban_error
from ..run import ledger_as_of
from .config import setting
from .fonts import FontSet
from .model import Formats, PaymentBlock
from .parties import greeting_key, salutation_parts
from .payment import bic_is_valid, compact, epc_payload, format_iban
from .templates import Templates


class Context:
    """The shared state of building the documents of one workbook.

    :param book: the Book as the billing run read it (history included).
    :param templates: the templates of the office's language.
    :param fonts: the fonts, to refuse text that cannot be printed.
    :param plugins: the plugin facade, for the extra fields a payer plugin wants on its invoices
        (``sheetbill_invoice_fields``); ``None`` for none.
    """

    def __init__(self, book: Book, templates: Templates, fonts: FontSet, plugins: Plugins | None = None):
        self.book, self.templates, self.fonts, self.plugins = book, templates, fonts, plugins
        self.settings: Settings = book.settings
        self.currency = self.settings.currency
        self.f = Formats(templates, self.currency)
        self.problems: list[Problem] = list(templates.problems)
        self.invoices = {inv.invoice_no: inv for inv in book.invoices}
        self.lines: dict[str, list[InvoiceLine]] = defaultdict(list)
        for line in book.lines:
            self.lines[line.invoice_no].append(line)
        self._ledgers: dict[dt.date, LedgerReport] = {}
        self.payer_lines: dict[str, list[tuple[Invoice, InvoiceLine]]] = defaultdict(list)
        for line in book.lines:
            invoice = self.invoices.get(line.invoice_no)
            if (invoice and invoice.kind == InvoiceKind.INVOICE and invoice.bill_to_type == BillToType.PAYER
                    and line.charge_id):
                self.payer_lines[line.charge_id].append((invoice, line))
        self.bank = self._check_bank()


    def ledger_on(self, day: dt.date) -> LedgerReport:
        """The accounts as they stood at the end of ``day`` (what a document of that day can know)."""
        if day not in self._ledgers:
            self._ledgers[day] = ledger_as_of(self.book, day)[0]
        return self._ledgers[day]
    def row(self, name: str) -> int | None:
        """The Settings row of the setting with normalized name ``name``."""
        return self.settings.rows.get(name)

    def note(self, problem: Problem) -> None:
        """Record ``problem`` unless it is already recorded (the same setting is read for many documents)."""
        if problem not in self.problems:
            self.problems.append(problem)

    def _check_bank(self) -> dict[str, str]:
        """IBAN and BIC from Settings, checked once: a bad IBAN is an error and no document that shows
        payment details is made until it is fixed (a wrong IBAN would send money nowhere)."""
        iban = compact(self.settings.bank_iban)
        bic = compact(str(setting(self.settings, "Bank BIC") or ""))
        bank = {"iban": "", "bic": "", "invalid": ""}
        if iban:
            invalid = iban_error(self.settings)  # the same error ``sheetbill check`` reports
            if invalid is not None:
                self.problems.append(invalid)
                bank["invalid"] = invalid.message
            else:
                bank["iban"] = iban
        if bic:
            if bic_is_valid(bic):
                bank["bic"] = bic
            else:
                self.problems.append(warning(f"Bank BIC {bic!r} is not a BIC (8 or 11 letters and digits); it is "
                                             "left off the documents", "Settings", self.row("bankbic"), "Value",
                                             code="bad-bic"))
        return bank

    def reference(self, invoice: Invoice) -> str:
        """The payment reference of ``invoice`` (:func:`sheetbill.dunning.payment_reference`); an unusable
        Payment Reference Format is a warning, once."""
        template = self.settings.payment_reference_format or "{rf}"
        if not reference_format_is_valid(template):
            self.note(warning(f"Payment Reference Format {template!r} can use only {{invoice_no}}, {{customer_id}} and "
                              "{rf}; the invoice number is used", "Settings",
                              self.row("paymentreferenceformat"), "Value", code="bad-reference-format"))
        return payment_reference(self.settings.payment_reference_format, invoice)

    def values(self, invoice: Invoice, party: Customer | Payer | None, reference: str) -> dict[str, str]:
        """The placeholders every text about ``invoice`` may use."""
        f, s = self.f, self.settings
        customer = self.book.customers.get(invoice.customer_id)
        return {
            "company_name": s.company_name, "company_address": s.company_address, "company_email": s.company_email,
            "invoice_no": invoice.invoice_no, "issue_date": f.date(invoice.issue_date),
            "due_date": f.date(invoice.due_date), "recipient_name": party.name if party else invoice.bill_to_name,
            "customer_name": customer.name if customer else invoice.customer_id, "customer_id": invoice.customer_id,
            "amount": f.amount(invoice.amount), "amount_due": f.amount(max(invoice.amount, ZERO)),
            "amount_credited": f.amount(-invoice.amount), "related_invoice": invoice.related or "",
            "reference": reference, "iban": format_iban(self.bank["iban"]) if self.bank["iban"] else "",
            "payment_methods": s.payment_methods or "", "currency": self.currency,
            "member": self.member(invoice), **salutation_parts(party),
        }

    def member(self, invoice: Invoice) -> str:
        """How a letter to the payer of ``invoice`` names its customer, by the payer's Type."""
        payer = self.book.payers.get(invoice.bill_to_id) if invoice.bill_to_type == BillToType.PAYER else None
        kind = str(payer.type) if payer is not None and payer.type else "insurer"
        try:
            return self.templates.text("common", f"member.{kind}")
        except KeyError:
            return self.templates.text("common", "member.other")

    def letter(self, values: dict[str, str], *, to_payer: bool) -> dict[str, str]:
        """The greeting, closing, signature and page footer of a letter (fields of a Document)."""
        t = self.templates
        return {
            "greeting": t.text("common", greeting_key(t, values, to_payer=to_payer), values),
            "closing": t.text("common", "letter.closing", values),
            "signature": t.text("common", "letter.signature", values),
            "page_label": t.text("common", "labels.page", {"page": "{page}", "pages": "{pages}"}),
        }

    def debit_notice(self, invoice: Invoice) -> dict[str, str] | None:
        """The pre-notification of a customer invoice collected by SEPA direct debit (the values its
        text needs), or ``None`` when the customer has no active mandate on the issue date or Settings
        Creditor ID is not a valid creditor identifier (then the invoice asks for a transfer)."""
        mandate = mandate_of(invoice.customer_id, self.book.mandates, self.book.debits, invoice.issue_date)
        creditor_id = normalize(str(self.settings.extra.get("creditorid") or ""))
        if mandate is None or not creditor_id or creditor_id_problem(creditor_id):
            return None
        days = lead_days(self.settings.extra, self.settings.rows, [])
        return {"debit_date": self.f.date(debit_date(invoice.issue_date, invoice.due_date, days)),
                "debtor_iban": masked_iban(mandate.iban), "mandate_id": mandate.mandate_id,
                "creditor_id": creditor_id}

    def debit_block(self, amount: Decimal, notice: dict[str, str]) -> PaymentBlock:
        """The payment block of an invoice collected by direct debit: amount, date, account, mandate,
        creditor identifier; no QR code (there is nothing to transfer)."""
        f, t = self.f, self.templates
        rows = ((t.text("common", "payment.amount_due"), f.amount(amount)),
                (t.text("common", "payment.debit_date"), notice["debit_date"]),
                (t.text("common", "payment.debtor_iban"), notice["debtor_iban"]),
                (t.text("common", "payment.mandate"), notice["mandate_id"]),
                (t.text("common", "payment.creditor_id"), notice["creditor_id"]))
        return PaymentBlock(t.text("common", "payment.debit_heading"), rows)

    def payment_block(self, amount: Decimal, reference: str, due: dt.date | None, *,
                      to_payer: bool = False) -> PaymentBlock:
        """Amount, payment methods, account holder, IBAN, BIC, reference and the EPC QR code; a payer is
        offered the bank transfer only (Payment Methods is written for customers: cash, card at the desk)."""
        f, t, s = self.f, self.templates, self.settings
        rows = [(t.text("common", "payment.amount_due"), f.amount(amount))]
        if due is not None:
            rows.append((t.text("common", "labels.due_date"), f.date(due)))
        if s.payment_methods and not to_payer:
            rows.append((t.text("common", "payment.methods"), s.payment_methods))
        qr = None
        if self.bank["iban"]:
            if s.company_name:
                rows.append((t.text("common", "payment.account_holder"), s.company_name))
            rows.append((t.text("common", "payment.iban"), format_iban(self.bank["iban"])))
            if self.bank["bic"]:
                rows.append((t.text("common", "payment.bic"), self.bank["bic"]))
            if self.currency == "EUR" and amount >= Decimal("0.01") and s.company_name:
                try:
                    qr = epc_payload(name=s.company_name, iban=self.bank["iban"], bic=self.bank["bic"],
                                             amount=amount, reference=reference)
                except ValueError as err:
                    self.note(warning(f"no EPC QR code: {err}", "Settings", self.row("bankiban"), "Value",
                                      code="no-qr-code"))
        rows.append((t.text("common", "payment.reference"), reference))
        return PaymentBlock(t.text("common", "payment.heading"), tuple(rows), qr,
                            t.text("common", "payment.qr") if qr else "")
