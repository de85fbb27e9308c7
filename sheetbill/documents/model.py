"""What a document says: every text and amount of an invoice, credit note or reminder, resolved.

:class:`Document` is the finished content of one document, every label already in the office's
language, every amount already formatted, so the PDF renderer only lays it out and the same
content always gives the same PDF. Its :meth:`Document.fingerprint` is a hash of what is printed:
two renderings say the same thing exactly when their fingerprints match, whatever fpdf2 version
or font build produced the bytes.

:class:`Builder` makes documents from the workbook's history (the Book the billing run read):

* invoices and credit notes from the Invoices and Invoice Lines sheets, the recipient from the
  Customers or Payers sheet, the customer and member ID on payer invoices from Coverage;
* on customer invoices, what each insurer paid for the same charges (their payer-invoice lines)
  and why the rest is the customer's (the lines' reasons: deductible, coinsurance, copay, ...);
* reminders from the Reminders history: overdue amount, fees so far, interest, the level's
  wording, the hand-off on the final notice, and the payment plan offer.

Documents are built only from history, never from what a run is about to issue, so rendering is
repeatable: the same workbook gives the same documents on any day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

from ..billing import KIND_CREDIT, KIND_INVOICE
from ..book import Book
from ..dunning import Installment, interest, plan_installments
from ..models import Coverage, Customer, Invoice, InvoiceLine, Payer, PaymentPlan, Reminder, Settings
from ..money import ZERO, quantize, split_equal
from ..plugins.manager import PluginError, Plugins
from ..problems import Problem, error, warning
from . import payment
from .config import setting
from .fonts import FontSet, clean_text
from .templates import Templates

KIND_REMINDER = "reminder"

#: Code System values meaning the practice's own service codes (not shown as a code system).
_OWN_CODE_SYSTEMS = {"", "internal", "own", "service code"}
_CREDIT_REASON = re.compile(r"^credit for (\S+?):\s*charge (changed|deleted)$")
_TRANSFER_REASON = re.compile(r"^transfer from (\S+) \((.*)\)$")


@dataclass(frozen=True)
class Table:
    """A table of a document: headers, relative column widths, alignment and rows of text.

    ``notes`` holds, per row, a second line in small print under the row ("" for none): on
    customer invoices, why the share is theirs.
    """

    headers: tuple[str, ...]
    widths: tuple[float, ...]
    align: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PaymentBlock:
    """How to pay: label/value rows (amount, methods, account holder, IBAN, BIC, reference) and the
    EPC QR code text (``None`` when there is none: not EUR, no IBAN, nothing to pay)."""

    heading: str
    rows: tuple[tuple[str, str], ...]
    qr_payload: str | None = None
    qr_caption: str = ""


@dataclass(frozen=True)
class Document:
    """One document, resolved to the words and numbers it prints.

    Attributes:
        key: the stable name of the document (``INV-000001``, ``INV-000001 reminder 2``); its file is
            ``<key>.pdf`` and the Sent sheet names it.
        kind: ``invoice``, ``credit_note`` or ``reminder``.
        invoice_no: the invoice (or credit note) it is or concerns.
        date: the document's date (issue date, or the reminder's date): also the PDF's creation date.
        recipient_type, recipient_id, recipient_name: who it is for (``Customer`` or ``Payer``).
        email: the recipient's email as the workbook has it (``None`` when blank).
        postal: the address block (name first); ``postal_complete`` when Street, Postal Code and City are set.
        sender_line: the one-line return address printed above the address window.
        company: the letterhead lines (name first).
        title, facts: the heading and the label/value pairs beside the address (numbers, dates, IDs).
        greeting, paragraphs: the text before the table; ``closing_paragraphs`` after the totals.
        table, totals: the lines and the totals (label, amount, bold).
        breakdown_heading, breakdown: on customer invoices, the customer's share by reason.
        payment: how to pay, or ``None`` (credit notes).
        closing, signature, page_label: the letter's end and the page footer (``{page}``/``{pages}``).
        email_subject, email_body: the message the document is sent with.
        amount: the amount the document asks for (negative for a credit note).
        channel, address: how it goes out (``email`` or ``letter``) and where; set for reminders by the
            Reminders history, for invoices from the recipient's Email (else the postal address).
        language: the template language.
    """

    key: str
    kind: str
    invoice_no: str
    date: dt.date
    recipient_type: str
    recipient_id: str
    recipient_name: str
    email: str | None
    postal: tuple[str, ...]
    postal_complete: bool
    sender_line: str
    company: tuple[str, ...]
    title: str
    facts: tuple[tuple[str, str], ...]
    greeting: str
    paragraphs: tuple[str, ...]
    table: Table | None
    totals: tuple[tuple[str, str, bool], ...]
    breakdown_heading: str = ""
    breakdown: tuple[tuple[str, str], ...] = ()
    closing_paragraphs: tuple[str, ...] = ()
    payment: PaymentBlock | None = None
    closing: str = ""
    signature: str = ""
    page_label: str = ""
    email_subject: str = ""
    email_body: str = ""
    amount: Decimal = ZERO
    channel: str | None = None
    address: str | None = None
    language: str = "en"

    @property
    def file_name(self) -> str:
        """``<key>.pdf``: stable, so the same document always lands in the same file."""
        return f"{self.key}.pdf"

    def printed(self) -> dict:
        """Everything the PDF shows, as plain data (what :meth:`fingerprint` hashes)."""
        data = asdict(self)
        for name in ("email", "email_subject", "email_body", "channel", "address", "amount", "postal_complete",
                     "recipient_type", "recipient_id", "recipient_name", "language", "kind"):
            data.pop(name)
        return data

    def fingerprint(self) -> str:
        """SHA-256 of :meth:`printed`: equal exactly when two renderings say the same."""
        text = json.dumps(self.printed(), sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def texts(self) -> list[str]:
        """Every string the PDF prints (for the font check)."""
        found: list[str] = []

        def walk(value: object) -> None:
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    walk(item)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)

        walk(self.printed())
        return found


@dataclass(frozen=True)
class Source:
    """Where a printed text came from, so a text that cannot be printed is a Problem on its cell."""

    text: str
    sheet: str
    row: int | None
    column: str


@dataclass
class Built:
    """The documents built from a workbook, the sources of their texts, and what was wrong."""

    documents: list[Document] = field(default_factory=list)
    sources: dict[str, list[Source]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


class Formats:
    """Dates, amounts and quantities the way the template's language writes them."""

    def __init__(self, templates: Templates, currency: str):
        self.templates, self.currency = templates, currency
        self.months = list(templates.raw("common", "months"))
        self.point = str(templates.raw("common", "decimal_point"))
        self.thousands = str(templates.raw("common", "thousands_separator"))

    def date(self, day: dt.date | None) -> str:
        """``day`` in the template's date format ("" for none)."""
        if day is None:
            return ""
        return self.templates.text("common", "date", {
            "day": day.day, "day2": f"{day.day:02d}", "month": day.month, "month2": f"{day.month:02d}",
            "month_name": self.months[day.month - 1], "year": day.year})

    def number(self, value: Decimal, places: int | None = None) -> str:
        """``value`` with the language's separators; ``places`` fixed digits, else as few as needed."""
        text = f"{value:,.{places}f}" if places is not None else f"{value.normalize():,f}"
        return text.replace(",", "\0").replace(".", self.point).replace("\0", self.thousands)

    def amount(self, value: Decimal) -> str:
        """An amount rounded to the currency's minor unit, e.g. ``1.234,50 EUR``."""
        rounded = quantize(value, self.currency)
        places = max(0, -rounded.as_tuple().exponent)
        return self.templates.text("common", "amount", {"amount": self.number(rounded, places),
                                                         "currency": self.currency})

    def quantity(self, value: Decimal | None) -> str:
        """A quantity without trailing zeros ("" for none)."""
        return "" if value is None else self.number(value)


def _lines_of(address: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;\n]", address or "") if part.strip()]


class Builder:
    """Builds the documents of one workbook (see the module docstring).

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
        self.payer_lines: dict[str, list[tuple[Invoice, InvoiceLine]]] = defaultdict(list)
        for line in book.lines:
            invoice = self.invoices.get(line.invoice_no)
            if invoice and invoice.kind == KIND_INVOICE and invoice.bill_to_type == "Payer" and line.charge_id:
                self.payer_lines[line.charge_id].append((invoice, line))
        self.bank = self._check_bank()

    # --- settings -------------------------------------------------------------------------------------------

    def _row(self, name: str) -> int | None:
        return self.settings.rows.get(name)

    def _check_bank(self) -> dict[str, str]:
        """IBAN and BIC from Settings, checked once: a bad IBAN is an error and no document that shows
        payment details is made until it is fixed (a wrong IBAN would send money nowhere)."""
        iban = payment.compact(self.settings.bank_iban)
        bic = payment.compact(str(setting(self.settings, "Bank BIC") or ""))
        bank = {"iban": "", "bic": "", "invalid": ""}
        if iban:
            why = payment.iban_problem(iban)
            if why:
                self.problems.append(error(f"Bank IBAN {self.settings.bank_iban!r} {why}; documents with payment "
                                           "details are not made until it is fixed", "Settings",
                                           self._row("bankiban"), "Value", code="bad-iban"))
                bank["invalid"] = why
            else:
                bank["iban"] = iban
        if bic:
            if payment.bic_is_valid(bic):
                bank["bic"] = bic
            else:
                self.problems.append(warning(f"Bank BIC {bic!r} is not a BIC (8 or 11 letters and digits); it is "
                                             "left off the documents", "Settings", self._row("bankbic"), "Value",
                                             code="bad-bic"))
        return bank

    def reference(self, invoice: Invoice) -> str:
        """The payment reference of ``invoice``: Settings Payment Reference Format filled in."""
        template = self.settings.payment_reference_format or "{invoice_no}"
        try:
            return template.format(invoice_no=invoice.invoice_no, customer_id=invoice.customer_id).strip() \
                or invoice.invoice_no
        except (KeyError, IndexError, ValueError, AttributeError):
            problem = warning(f"Payment Reference Format {template!r} can use only {{invoice_no}} and "
                              "{customer_id}; the invoice number is used", "Settings",
                              self._row("paymentreferenceformat"), "Value", code="bad-reference-format")
            if problem not in self.problems:
                self.problems.append(problem)
            return invoice.invoice_no

    # --- parties --------------------------------------------------------------------------------------------

    def company(self) -> tuple[tuple[str, ...], str, list[Source]]:
        """Letterhead lines, the one-line return address, and their sources."""
        s = self.settings
        address = _lines_of(s.company_address)
        lines = [line for line in (s.company_name, *address, s.company_email) if line]
        sender = " · ".join(line for line in (s.company_name, *address) if line)
        sources = [Source(s.company_name, "Settings", self._row("companyname"), "Value"),
                   Source(s.company_address, "Settings", self._row("companyaddress"), "Value"),
                   Source(s.company_email, "Settings", self._row("companyemail"), "Value")]
        return tuple(lines), sender, sources

    def recipient(self, invoice: Invoice) -> tuple[Customer | Payer | None, tuple[str, ...], bool, list[Source]]:
        """The party an invoice is billed to, its address block, whether the address is complete, sources."""
        is_payer = invoice.bill_to_type == "Payer"
        party = (self.book.payers if is_payer else self.book.customers).get(invoice.bill_to_id)
        sheet = "Payers" if is_payer else "Customers"
        if party is None:
            return None, (invoice.bill_to_name,), False, [Source(invoice.bill_to_name, "Invoices", invoice.row,
                                                                  "Bill To Name")]
        city = " ".join(p for p in (party.postal_code, party.city) if p)
        country = getattr(party, "country", None)
        block = tuple(p for p in (party.name, party.street, city, country) if p)
        complete = all((party.street, party.postal_code, party.city))
        sources = [Source(party.name, sheet, party.row, "Name"), Source(party.street or "", sheet, party.row, "Street"),
                   Source(party.city or "", sheet, party.row, "City"),
                   Source(country or "", sheet, party.row, "Country")]
        return party, block, complete, sources

    def coverage_of(self, invoice: Invoice, lines: list[InvoiceLine]) -> Coverage | None:
        """The customer's coverage with the payer of a payer invoice (active on the first date of service)."""
        candidates = [c for c in self.book.coverage
                      if c.customer_id == invoice.customer_id and c.payer_id == invoice.bill_to_id]
        days = sorted(ln.date_of_service for ln in lines if ln.date_of_service)
        for coverage in candidates:
            if not days or coverage.active_on(days[0]):
                return coverage
        return candidates[0] if candidates else None

    # --- reasons --------------------------------------------------------------------------------------------

    def reason(self, reason: str) -> str:
        """An invoice line's reason in the customer's words (``deductible + coinsurance`` ->
        ``annual deductible + coinsurance (your percentage)``); unknown words are kept as written."""
        words = self.templates.data["common"]
        if not reason:
            return ""
        if match := _CREDIT_REASON.match(reason):
            return (self.templates.text("common", "reasons.credit", {"invoice_no": match[1]}) + ": "
                    + self.templates.text("common", f"reasons.{match[2]}"))
        if match := _TRANSFER_REASON.match(reason):
            return self.templates.text("common", "reasons.transfer", {"invoice_no": match[1], "payer": match[2]})
        suffixes: list[str] = []
        main = reason.strip()
        while main.endswith(")") and "(" in main:
            start = main.rindex("(")
            suffixes.insert(0, main[start + 1:-1].strip())
            main = main[:start].strip()

        def word(token: str) -> str:
            key = f"reasons.{token.strip().casefold()}"
            return str(words[key]) if key in words else token.strip()

        text = " + ".join(word(token) for token in main.split(" + ")) if main else ""
        for suffix in suffixes:
            inner = " + ".join(word(token) for token in suffix.split(" + "))
            text = f"{text} ({inner})" if text else inner
        return text

    # --- invoices and credit notes --------------------------------------------------------------------------

    def description(self, line: InvoiceLine) -> str:
        """What the line is for: the service's description, else the reason (transfer lines)."""
        service = self.book.services.get(line.service_code or "")
        if service is not None:
            return service.description
        return self.reason(line.reason) if line.reason else (line.service_code or "")

    def code_system(self, invoice: Invoice) -> str:
        """The payer's Code System, for the Code column header ("" for the practice's own codes)."""
        if invoice.bill_to_type != "Payer":
            return ""
        payer = self.book.payers.get(invoice.bill_to_id)
        system = (payer.code_system or "").strip() if payer else ""
        return "" if system.casefold() in _OWN_CODE_SYSTEMS else system

    def insurer_shares(self, invoice: Invoice, line: InvoiceLine) -> list[tuple[Invoice, InvoiceLine]]:
        """The payer-invoice lines for the same charge as a customer line (same charge, date and amount,
        issued on or before the customer invoice; the latest such issue)."""
        found = [(inv, ln) for inv, ln in self.payer_lines.get(line.charge_id or "", [])
                 if ln.date_of_service == line.date_of_service and ln.charge_amount == line.charge_amount
                 and inv.issue_date <= invoice.issue_date]
        if not found:
            return []
        latest = max(inv.issue_date for inv, _ in found)
        return [(inv, ln) for inv, ln in found if inv.issue_date == latest]

    def invoice_document(self, invoice: Invoice) -> tuple[Document, list[Source]]:
        """The document of an invoice or credit note."""
        f, t = self.f, self.templates
        kind = "credit_note" if invoice.kind == KIND_CREDIT else "invoice"
        lines = sorted(self.lines.get(invoice.invoice_no, []), key=lambda ln: (ln.date_of_service or dt.date.min,
                                                                              ln.row))
        party, postal, complete, sources = self.recipient(invoice)
        company, sender_line, company_sources = self.company()
        sources += company_sources
        is_payer = invoice.bill_to_type == "Payer"
        customer = self.book.customers.get(invoice.customer_id)
        customer_name = customer.name if customer else invoice.customer_id
        if customer:
            sources.append(Source(customer.name, "Customers", customer.row, "Name"))
        reference = self.reference(invoice)
        values = self._values(invoice, party, reference)
        number_label = "labels.credit_note_no" if kind == "credit_note" else "labels.invoice_no"
        facts = [(t.text("common", number_label), invoice.invoice_no),
                 (t.text("common", "labels.issue_date"), f.date(invoice.issue_date))]
        if kind == "credit_note":
            if invoice.related:
                facts.append((t.text("common", "labels.related_invoice"), invoice.related))
        else:
            facts.append((t.text("common", "labels.due_date"), f.date(invoice.due_date)))
        if is_payer:
            facts.append((t.text("common", "labels.customer"), customer_name))
            if customer and customer.date_of_birth:
                facts.append((t.text("common", "labels.date_of_birth"), f.date(customer.date_of_birth)))
            coverage = self.coverage_of(invoice, lines)
            if coverage and coverage.member_id:
                facts.append((t.text("common", "labels.member_id"), coverage.member_id))
                sources.append(Source(coverage.member_id, "Coverage", coverage.row, "Member ID"))
            if self.plugins is not None and isinstance(party, Payer):
                extra = self.plugins.invoice_fields(party.plugin, payer=party, customer_id=invoice.customer_id,
                                                    member_id=coverage.member_id if coverage else None)
                for label, value in extra.items():
                    facts.append((label, value))
                    sources.append(Source(f"{label} {value}", "Payers", party.row, "Plugin"))
        facts.append((t.text("common", "labels.customer_id"), invoice.customer_id))

        table, totals, breakdown, payers = self._lines_table(invoice, lines, kind, is_payer)
        for line in lines:
            service = self.book.services.get(line.service_code or "")
            if service is not None:
                sources.append(Source(service.description, "Services", service.row, "Description"))
        greeting = t.text("common", "letter.greeting_payer" if is_payer else "letter.greeting", values)
        paragraphs: list[str] = []
        closing: list[str] = []
        block = None
        if kind == "credit_note":
            paragraphs.append(t.text(kind, "intro", values))
            closing.append(t.text(kind, "settle", values))
        else:
            if is_payer:
                paragraphs.append(t.text(kind, "intro_payer", values))
            else:
                paragraphs.append(t.text(kind, "intro_customer", values))
                if payers:
                    paragraphs.append(t.text(kind, "intro_customer_insured", values | {
                        "payer_names": ", ".join(payers)}))
            if invoice.amount > 0:
                closing.append(t.text(kind, "pay_request", values))
                block = self.payment_block(invoice.amount, reference, invoice.due_date)
        document = Document(
            key=invoice.invoice_no, kind=kind, invoice_no=invoice.invoice_no, date=invoice.issue_date,
            recipient_type=invoice.bill_to_type, recipient_id=invoice.bill_to_id,
            recipient_name=party.name if party else invoice.bill_to_name,
            email=(party.email or "").strip() or None if party else None, postal=postal, postal_complete=complete,
            sender_line=sender_line, company=company, title=t.text(kind, "title", values), facts=tuple(facts),
            greeting=greeting, paragraphs=tuple(paragraphs), table=table, totals=tuple(totals),
            breakdown_heading=t.text("common", "breakdown.heading") if breakdown else "",
            breakdown=tuple(breakdown), closing_paragraphs=tuple(closing), payment=block,
            closing=t.text("common", "letter.closing", values), signature=t.text("common", "letter.signature", values),
            page_label=t.text("common", "labels.page", {"page": "{page}", "pages": "{pages}"}),
            email_subject=t.text(kind, "email.subject", values), email_body=t.text(kind, "email.body", values),
            amount=invoice.amount, language=t.language)
        return document, sources

    def _values(self, invoice: Invoice, party: Customer | Payer | None, reference: str) -> dict[str, str]:
        """The placeholders every invoice and credit note text may use."""
        f, s = self.f, self.settings
        customer = self.book.customers.get(invoice.customer_id)
        return {
            "company_name": s.company_name, "company_address": s.company_address, "company_email": s.company_email,
            "invoice_no": invoice.invoice_no, "issue_date": f.date(invoice.issue_date),
            "due_date": f.date(invoice.due_date), "recipient_name": party.name if party else invoice.bill_to_name,
            "customer_name": customer.name if customer else invoice.customer_id, "customer_id": invoice.customer_id,
            "amount": f.amount(invoice.amount), "amount_due": f.amount(max(invoice.amount, ZERO)),
            "amount_credited": f.amount(-invoice.amount), "related_invoice": invoice.related or "",
            "reference": reference, "iban": payment.format_iban(self.bank["iban"]) if self.bank["iban"] else "",
            "payment_methods": s.payment_methods or "", "currency": self.currency,
        }

    def _lines_table(self, invoice: Invoice, lines: list[InvoiceLine], kind: str, is_payer: bool):
        """The lines table, totals, the customer's share by reason and the names of insurers that paid."""
        f, t = self.f, self.templates
        system = self.code_system(invoice)
        code_header = t.text("common", "columns.code") + (f" ({system})" if system else "")
        base_headers = (t.text("common", "columns.date"), code_header, t.text("common", "columns.description"),
                        t.text("common", "columns.quantity"))
        base_rows = [(f.date(ln.date_of_service), ln.billed_code or "", self.description(ln),
                      f.quantity(ln.quantity)) for ln in lines]
        totals: list[tuple[str, str, bool]] = []
        breakdown: list[tuple[str, str]] = []
        payers: list[str] = []
        if is_payer or kind == "credit_note":
            show_adjustment = is_payer and any(ln.adjustment for ln in lines)
            headers = base_headers + (t.text("common", "columns.charged"),)
            rows = [base + (f.amount(ln.charge_amount) if ln.charge_amount is not None else "",)
                    for base, ln in zip(base_rows, lines, strict=True)]
            if show_adjustment:
                headers += (t.text("common", "columns.adjustment"),)
                rows = [row + (f.amount(-ln.adjustment) if ln.adjustment else "",)
                        for row, ln in zip(rows, lines, strict=True)]
            headers += (t.text("common", "columns.amount"),)
            rows = [row + (f.amount(ln.amount),) for row, ln in zip(rows, lines, strict=True)]
            notes = tuple(self.reason(ln.reason) if kind == "credit_note" else "" for ln in lines)
            widths = (25, 22, 56, 10, 24, 24, 24)[:len(headers) - 1] + (24,)
            totals.append((t.text("common", "totals.total"), f.amount(invoice.amount), True))
            return (Table(headers, widths, ("L", "L", "L", "R") + ("R",) * (len(headers) - 4), tuple(rows), notes),
                    totals, breakdown, payers)
        # A customer invoice: what the insurers paid for the same charges, and why the rest is the customer's.
        insurance: list[Decimal | None] = []
        paid_by: dict[str, Decimal] = defaultdict(lambda: ZERO)
        adjustments = ZERO
        charged = ZERO
        for line in lines:
            shares = self.insurer_shares(invoice, line) if line.charge_id else []
            if line.charge_id and line.charge_amount is not None:
                charged += line.charge_amount
            if not shares:
                insurance.append(None)
                continue
            insurance.append(sum((ln.amount for _, ln in shares), ZERO))
            for inv, ln in shares:
                paid_by[inv.bill_to_name] += ln.amount
                adjustments += ln.adjustment
        insured = any(value is not None for value in insurance)
        headers = base_headers + (t.text("common", "columns.charged"),)
        rows = [base + (f.amount(ln.charge_amount) if ln.charge_amount is not None else "",)
                for base, ln in zip(base_rows, lines, strict=True)]
        if insured:
            headers += (t.text("common", "columns.insurance"),)
            rows = [row + (f.amount(value) if value is not None else "",)
                    for row, value in zip(rows, insurance, strict=True)]
        headers += (t.text("common", "columns.your_share" if insured else "columns.amount"),)
        rows = [row + (f.amount(ln.amount),) for row, ln in zip(rows, lines, strict=True)]
        notes = tuple(self.reason(ln.reason) if ln.charge_id else "" for ln in lines)
        widths = (25, 20, 48, 10, 23, 23, 24) if insured else (25, 22, 60, 12, 26, 26)
        table = Table(headers, widths, ("L", "L", "L", "R") + ("R",) * (len(headers) - 4), tuple(rows), notes)
        if insured:
            payers = sorted(paid_by)
            totals.append((t.text("common", "totals.charged"), f.amount(charged), False))
            for name in payers:
                if not paid_by[name]:
                    continue
                totals.append((t.text("common", "totals.insurance", {"payer": name}), f.amount(-paid_by[name]), False))
            if adjustments:
                totals.append((t.text("common", "totals.adjustment"), f.amount(-adjustments), False))
            totals.append((t.text("common", "totals.your_share"), f.amount(invoice.amount), True))
        else:
            totals.append((t.text("common", "totals.total"), f.amount(invoice.amount), True))
        by_reason: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in lines:
            if line.amount:
                by_reason[self.reason(line.reason) or "-"] += line.amount
        if insured or len(by_reason) > 1:
            breakdown = [(t.text("common", "breakdown.line", {"reason": reason}), f.amount(amount))
                         for reason, amount in by_reason.items()]
        return table, totals, breakdown, payers

    def payment_block(self, amount: Decimal, reference: str, due: dt.date | None) -> PaymentBlock:
        """Amount, payment methods, account holder, IBAN, BIC, reference and the EPC QR code."""
        f, t, s = self.f, self.templates, self.settings
        rows = [(t.text("common", "payment.amount_due"), f.amount(amount))]
        if due is not None:
            rows.append((t.text("common", "labels.due_date"), f.date(due)))
        if s.payment_methods:
            rows.append((t.text("common", "payment.methods"), s.payment_methods))
        qr = None
        if self.bank["iban"]:
            if s.company_name:
                rows.append((t.text("common", "payment.account_holder"), s.company_name))
            rows.append((t.text("common", "payment.iban"), payment.format_iban(self.bank["iban"])))
            if self.bank["bic"]:
                rows.append((t.text("common", "payment.bic"), self.bank["bic"]))
            if self.currency == "EUR" and amount >= Decimal("0.01") and s.company_name:
                try:
                    qr = payment.epc_payload(name=s.company_name, iban=self.bank["iban"], bic=self.bank["bic"],
                                             amount=amount, reference=reference)
                except ValueError as err:
                    problem = warning(f"no EPC QR code: {err}", "Settings", self._row("bankiban"), "Value",
                                      code="no-qr-code")
                    if problem not in self.problems:
                        self.problems.append(problem)
        rows.append((t.text("common", "payment.reference"), reference))
        return PaymentBlock(t.text("common", "payment.heading"), tuple(rows), qr,
                            t.text("common", "payment.qr") if qr else "")

    # --- reminders ------------------------------------------------------------------------------------------

    def reminder_document(self, reminder: Reminder, history: list[Reminder]) -> tuple[Document, list[Source]] | None:
        """The letter of one Reminders row (``history``: the invoice's reminders, oldest first)."""
        invoice = self.invoices.get(reminder.invoice_no)
        if invoice is None:
            self.problems.append(warning(f"reminder for unknown invoice {reminder.invoice_no!r}: no document",
                                         "Reminders", reminder.row, "Invoice No", code="unknown-invoice"))
            return None
        f, t, s = self.f, self.templates, self.settings
        is_payer = invoice.bill_to_type == "Payer"
        party, postal, complete, sources = self.recipient(invoice)
        company, sender_line, company_sources = self.company()
        sources += company_sources
        reference = self.reference(invoice)
        levels = len(s.reminder_days)
        final = reminder.level >= levels
        earlier = [r for r in history if (r.date, r.level) <= (reminder.date, reminder.level)]
        fees = quantize(sum((r.fee or ZERO for r in earlier), ZERO), self.currency)
        amount_due = reminder.amount_due or ZERO
        plan = next((p for p in self.book.plans if p.invoice_no == invoice.invoice_no), None)
        missed = self.missed_installments(invoice, plan, reminder.date) if plan is not None else []
        interest_due = ZERO if is_payer else self._interest(invoice, reminder, amount_due - fees, missed)
        principal = amount_due - (ZERO if is_payer else fees) - interest_due
        days = s.collection_after_days if final else s.reminder_days[min(reminder.level, levels - 1)]
        pay_by = reminder.date + dt.timedelta(days=max(days, 1))
        values = self._values(invoice, party, reference) | {
            "level": str(reminder.level), "reminder_date": f.date(reminder.date), "overdue_amount": f.amount(principal),
            "fees": f.amount(fees), "interest": f.amount(interest_due), "total_due": f.amount(amount_due),
            "pay_by": f.date(pay_by), "agency": s.collection_agency or "", "handoff_date": f.date(pay_by),
        }
        if missed:
            values["due_date"] = f.date(missed[0].due_date)
            values["installment"] = ", ".join(f"{i.number}/{i.count}" for i in missed)
            values["plan_id"] = missed[0].plan_id
        if is_payer:
            section, kind_key = "follow_up", "follow-up"
        else:
            section = "levels.1" if reminder.level == 1 and not final else (
                "levels.final" if final else (f"levels.{reminder.level}"
                                              if f"levels.{reminder.level}.title" in t.data["reminder"]
                                              else "levels.other"))
            kind_key = "reminder"
        title = t.text("reminder", f"{section}.title", values)
        values["title"] = title
        paragraphs = [t.text("reminder", "plan.text" if missed and not is_payer else f"{section}.text", values)]
        if missed:
            table = Table((t.text("reminder", "plan.installment"), t.text("common", "labels.due_date"),
                           t.text("common", "columns.amount")), (110, 30, 30), ("L", "L", "R"),
                          tuple((t.text("reminder", "plan.installment_line", values | {
                              "number": str(i.number), "count": str(i.count)}), f.date(i.due_date), f.amount(i.balance))
                                for i in missed))
        else:
            table = Table((t.text("common", "labels.invoice_no"), t.text("common", "labels.issue_date"),
                           t.text("common", "labels.due_date"), t.text("common", "columns.amount")),
                          (50, 40, 40, 40), ("L", "L", "L", "R"),
                          ((invoice.invoice_no, f.date(invoice.issue_date), f.date(invoice.due_date),
                            f.amount(invoice.amount)),))
        totals = [(t.text("reminder", "overdue_amount"), f.amount(principal), False)]
        if not is_payer:
            if fees:
                totals.append((t.text("reminder", "fees"), f.amount(fees), False))
            if interest_due:
                totals.append((t.text("reminder", "interest"), f.amount(interest_due), False))
        totals.append((t.text("reminder", "total_due"), f.amount(amount_due), True))
        closing = [t.text("reminder", "pay_request", values)]
        if final and not is_payer:
            closing.append(t.text("reminder", "levels.final.handoff" if s.collection_agency
                                  else "levels.final.handoff_no_agency", values))
        threshold = s.payment_plan_threshold
        if (not is_payer and plan is None and threshold is not None and amount_due >= threshold
                and s.max_installments > 1):
            parts = split_equal(amount_due, s.max_installments, self.currency)
            contact = f" ({s.company_email})" if s.company_email else ""
            closing.append(t.text("reminder", "plan_offer", values | {
                "max_installments": str(s.max_installments), "installment_amount": f.amount(parts[0]),
                "contact": contact}))
        closing.append(t.text("reminder", "already_paid", values))
        facts = ((t.text("common", "labels.reminder_date"), f.date(reminder.date)),
                 (t.text("common", "labels.invoice_no"), invoice.invoice_no),
                 (t.text("common", "labels.customer_id"), invoice.customer_id))
        block = self.payment_block(amount_due, reference, pay_by) if amount_due > 0 else None
        channel = (reminder.channel or "").strip().casefold() or None
        document = Document(
            key=f"{invoice.invoice_no} {kind_key} {reminder.level}", kind=KIND_REMINDER,
            invoice_no=invoice.invoice_no, date=reminder.date, recipient_type=invoice.bill_to_type,
            recipient_id=invoice.bill_to_id, recipient_name=party.name if party else invoice.bill_to_name,
            email=(party.email or "").strip() or None if party else None, postal=postal, postal_complete=complete,
            sender_line=sender_line, company=company, title=title, facts=facts,
            greeting=t.text("common", "letter.greeting_payer" if is_payer else "letter.greeting", values),
            paragraphs=tuple(paragraphs), table=table, totals=tuple(totals), closing_paragraphs=tuple(closing),
            payment=block, closing=t.text("common", "letter.closing", values),
            signature=t.text("common", "letter.signature", values),
            page_label=t.text("common", "labels.page", {"page": "{page}", "pages": "{pages}"}),
            email_subject=t.text("reminder", "email.subject", values),
            email_body=t.text("reminder", "email.body", values), amount=amount_due, channel=channel,
            address=(reminder.address or "").strip() or None, language=t.language)
        return document, sources

    def missed_installments(self, invoice: Invoice, plan: PaymentPlan, day: dt.date) -> list[Installment]:
        """The installments of ``plan`` overdue and open on ``day``, as overdue tracking saw them then
        (payments, write-offs, transfers and credit notes dated on or before ``day``)."""
        allocated = sum((p.amount for p in self.book.payments
                         if p.invoice_no == invoice.invoice_no and p.date <= day), ZERO)
        credited = -sum((c.amount for c in self.book.invoices
                         if c.kind == KIND_CREDIT and c.related == invoice.invoice_no and c.issue_date <= day), ZERO)
        installments = plan_installments(plan, invoice.amount - credited, allocated, day, self.currency)
        return [i for i in installments if i.due_date < day and i.balance > 0]

    def _interest(self, invoice: Invoice, reminder: Reminder, principal_and_interest: Decimal,
                  missed: list[Installment]) -> Decimal:
        """The interest in a reminder's Amount Due, recovered from the recorded amount.

        Amount Due = overdue balance + fees + interest, interest = balance x rate x days / 365 rounded
        once. The Reminders row records the sum, so the balance is the amount ``b`` with
        ``b + interest(b) == Amount Due - fees`` (days from the due date to the reminder's date).
        Only recorded history is used, so the document does not change when payments are entered
        later. On a plan, each missed installment bears interest from its own due date.
        """
        rate = self.settings.default_interest_percent
        if missed:
            if rate is None:
                return ZERO
            total = sum((interest(i.balance, rate, (reminder.date - i.due_date).days, self.currency)
                         for i in missed), ZERO)
            owed = sum((i.balance for i in missed), ZERO)
            return total if owed + total == principal_and_interest else ZERO
        days = (reminder.date - invoice.due_date).days
        if rate is None or days <= 0 or principal_and_interest <= 0:
            return ZERO
        estimate = quantize(principal_and_interest / (1 + rate * days / Decimal(36500)), self.currency)
        step = Decimal(1).scaleb(estimate.as_tuple().exponent)
        for offset in range(-3, 4):
            balance = estimate + offset * step
            if balance + interest(balance, rate, days, self.currency) == principal_and_interest:
                return principal_and_interest - balance
        return ZERO

    # --- all of them ----------------------------------------------------------------------------------------

    def build(self, invoice_nos: Iterable[str] | None = None, *, reminders: bool = True) -> Built:
        """Every invoice, credit note and reminder of the workbook (or only those of ``invoice_nos``),
        each checked for text that cannot be printed; documents with such text are left out."""
        wanted = set(invoice_nos) if invoice_nos is not None else None
        built = Built()
        candidates: list[tuple[Document, list[Source]]] = []
        for invoice in self.book.invoices:
            if wanted is not None and invoice.invoice_no not in wanted:
                continue
            try:
                candidates.append(self.invoice_document(invoice))
            except PluginError as err:
                payer = self.book.payers.get(invoice.bill_to_id)
                built.problems.append(error(f"{invoice.invoice_no} is not made: {err}", "Payers",
                                            payer.row if payer else None, "Plugin", code="plugin-error"))
                built.skipped[invoice.invoice_no] = "plugin error"
        if reminders:
            history: dict[str, list[Reminder]] = defaultdict(list)
            for reminder in sorted(self.book.reminders, key=lambda r: (r.date, r.level, r.row)):
                history[reminder.invoice_no].append(reminder)
            for invoice_no, items in history.items():
                if wanted is not None and invoice_no not in wanted:
                    continue
                for reminder in items:
                    made = self.reminder_document(reminder, items)
                    if made is not None:
                        candidates.append(made)
        seen: set[str] = set()
        for document, sources in candidates:
            if document.key in seen:
                built.problems.append(warning(f"two documents would be named {document.key!r}; only the first is "
                                              "made", "Reminders" if document.kind == KIND_REMINDER else "Invoices",
                                              code="document-name-taken"))
                continue
            seen.add(document.key)
            if document.payment is not None and self.bank["invalid"]:
                built.skipped[document.key] = "Bank IBAN is invalid"
                continue
            bad = self.unprintable(document, sources)
            if bad:
                built.problems.extend(p for p in bad if p not in built.problems)
                built.skipped[document.key] = "text that cannot be printed"
                continue
            built.documents.append(document)
            built.sources[document.key] = sources
        built.problems[:0] = self.problems + [p for p in self.templates.problems if p not in self.problems]
        return built

    def unprintable(self, document: Document, sources: list[Source]) -> list[Problem]:
        """Problems for each text of ``document`` that no font can print, on the cell it came from."""
        problems: list[Problem] = []
        by_text = {clean_text(s.text): s for s in sources if s.text}
        reported: set[str] = set()
        for text in document.texts():
            bad = self.fonts.unrenderable(text)
            if not bad:
                continue
            source = next((s for key, s in by_text.items() if key and key in clean_text(text)), None)
            chars = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad)
            label = source.text if source else text
            if label in reported:
                continue
            reported.add(label)
            message = (f"{label!r} has characters no document font can print correctly: {chars}; "
                       "documents that show it are not made. To fix it, " + _hint(bad))
            if source is not None:
                problems.append(error(message, source.sheet, source.row, source.column, code="unprintable-text"))
            else:
                problems.append(error(message, "Settings", self.templates.settings_row, "Value",
                                      code="unprintable-text"))
        return problems


def _hint(chars: list[str]) -> str:
    import unicodedata

    from .fonts import FALLBACK_HINT

    if any(unicodedata.bidirectional(ch) in ("R", "AL") or unicodedata.category(ch) in ("Mn", "Mc") for ch in chars):
        return ("write the name in Latin letters (right-to-left and combining scripts need a text shaper "
                "documents do not have yet)")
    return FALLBACK_HINT


def default_out_dir(workbook: Path) -> Path:
    """``<workbook stem> documents`` beside the workbook: where documents go by default."""
    return workbook.with_name(f"{workbook.stem} documents")
