"""The records sheetbill reads and writes, one frozen dataclass per kind.

Every input record keeps ``row``, the 1-based sheet row it came from, so any Problem found later
(in billing, in a payer plugin, in overdue tracking) can still name the cell. Amounts are
``Decimal``; dates are ``datetime.date``; identifiers are text (``"00123"`` stays ``"00123"``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class BillToType(StrEnum):
    """Who an invoice is billed to (the Bill To Type column)."""

    CUSTOMER = "Customer"
    PAYER = "Payer"


class InvoiceKind(StrEnum):
    """What an issued document is (the Kind column of Invoices)."""

    INVOICE = "Invoice"
    CREDIT_NOTE = "Credit Note"


class PaymentType(StrEnum):
    """The Type column of Payments: money received, an amount written off, or moved to the customer
    (a payer paid less and the rest is the customer's)."""

    PAYMENT = "Payment"
    WRITE_OFF = "Write-off"
    TRANSFER_TO_CUSTOMER = "Transfer to Customer"
    REFUND = "Refund"


class InvoiceStatus(StrEnum):
    """The Status column of Invoices, derived every run from the invoice's amounts and history."""

    OPEN = "Open"
    PARTIALLY_PAID = "Partially Paid"
    PAID = "Paid"
    WRITTEN_OFF = "Written Off"
    TRANSFERRED = "Transferred"
    CANCELLED = "Cancelled"
    APPLIED = "Applied"
    IN_COLLECTIONS = "In Collections"


class InstallmentStatus(StrEnum):
    """The Status column of Installments."""

    OPEN = "Open"
    PARTIALLY_PAID = "Partially Paid"
    OVERDUE = "Overdue"
    PAID = "Paid"


class PayerType(StrEnum):
    """The Type column of Payers."""

    INSURER = "insurer"
    GOVERNMENT = "government"
    EMPLOYER = "employer"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Settings:
    """The Settings sheet, typed. Unknown settings are kept in ``extra`` for plugins.

    Attributes:
        company_name, company_address, company_email: the sender block on documents.
        currency: ISO 4217 code of every amount in the workbook (default EUR).
        invoice_prefix: text before the running number of invoice numbers (default ``INV-``).
        invoice_digits: width of the zero-padded running number (default 6: ``INV-000042``).
        payment_terms_days: days from issue to due date for customers (default 30).
        as_of: the run's date (default today); issue date of new invoices.
        reminder_days, reminder_fees: the dunning levels (overdue tracking).
        collection_after_days, collection_agency, collection_fee_percent: hand-off to the agency.
        default_interest_percent: annual default interest on overdue customer balances, if any.
        payment_plan_threshold, max_installments: when Advice suggests a payment plan.
        payment_methods, bank_iban, payment_reference_format: shown on reminders and invoices.
        language: of documents (``en`` or ``de``).
        document_templates, bank_bic, smtp_*, sender_email, send_documents_from: documents and
            sending (see ``docs/documents.md``).
        tax_number, vat_id: the sender's Steuernummer and VAT ID (USt-IdNr), printed on invoices.
        prices_include_tax: prices are gross (default no: net prices, tax added).
        small_business: § 19 UStG, no VAT on any invoice and its note printed.
        default_tax_rate, default_tax_category, default_tax_exemption: for services that leave them blank.
        default_notice: customer invoices carry the § 286 (3) BGB note on default after 30 days.
        company_country, contact_name, contact_phone, contact_email, electronic_address, seller_identifier:
            the seller's details e-invoices state (see ``docs/einvoice.md``).
        rows: the sheet row of each setting, by normalized name, for Problems.
    """

    company_name: str = ""
    company_address: str = ""
    company_email: str = ""
    currency: str = "EUR"
    invoice_prefix: str = "INV-"
    invoice_digits: int = 6
    payment_terms_days: int = 30
    as_of: dt.date = field(default_factory=dt.date.today)
    reminder_days: tuple[int, ...] = (14, 14, 14)
    reminder_fees: tuple[Decimal, ...] = (Decimal("0"), Decimal("5"), Decimal("10"))
    collection_after_days: int = 14
    collection_agency: str = ""
    collection_fee_percent: Decimal = Decimal("0")
    default_interest_percent: Decimal | None = None
    payment_plan_threshold: Decimal | None = None
    max_installments: int = 6
    payment_methods: str = "Bank transfer"
    bank_iban: str = ""
    payment_reference_format: str = "{invoice_no}"
    language: str = "en"
    document_templates: str | None = None
    bank_bic: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_security: str | None = None
    smtp_user: str | None = None
    sender_email: str | None = None
    send_documents_from: dt.date | None = None
    apply_credits: str = "automatic"
    dun_fees_and_interest: bool = False
    company_country: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    electronic_address: str = ""
    seller_identifier: str = ""
    interest_rate: object = None
    interest_basis: object = None
    tax_number: str | None = None
    vat_id: str | None = None
    prices_include_tax: bool = False
    small_business: bool = False
    default_tax_rate: Decimal | None = None
    default_tax_category: str | None = None
    default_tax_exemption: str | None = None
    default_notice: bool = False
    extra: dict[str, object] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Customer:
    """A person or household that receives services (Customers sheet).

    ``e_invoice`` (blank, ``xrechnung``, ``xrechnung-ubl``, ``zugferd``), ``buyer_reference``, ``vat_id`` and
    ``electronic_address`` say whether and how the customer (a business) gets e-invoices (docs/einvoice.md).
    """

    customer_id: str
    name: str
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None
    phone: str | None = None
    date_of_birth: dt.date | None = None
    notes: str | None = None
    e_invoice: str | None = None
    buyer_reference: str | None = None
    vat_id: str | None = None
    electronic_address: str | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class Payer:
    """An insurer, government programme, employer or other party that pays for customers.

    ``country``, ``e_invoice``, ``buyer_reference`` (the Leitweg-ID of a public body), ``vat_id`` and
    ``electronic_address``: for e-invoices, as on :class:`Customer` (docs/einvoice.md).
    """

    payer_id: str
    name: str
    type: str = "insurer"
    plugin: str | None = None
    code_system: str | None = None
    email: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    payment_terms_days: int | None = None
    country: str | None = None
    e_invoice: str | None = None
    buyer_reference: str | None = None
    vat_id: str | None = None
    electronic_address: str | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class Coverage:
    """That a payer covers a customer for a period, with the cost-sharing terms of the policy.

    ``covered_percent`` is what the payer pays after the deductible (80 means 80 %);
    ``copay``, ``annual_deductible`` and ``out_of_pocket_max`` are per-policy amounts;
    ``annual_budget`` is an employer scheme's yearly budget for the employee.
    """

    customer_id: str
    payer_id: str
    member_id: str | None = None
    priority: int = 1
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    covered_percent: Decimal | None = None
    copay: Decimal | None = None
    annual_deductible: Decimal | None = None
    out_of_pocket_max: Decimal | None = None
    annual_budget: Decimal | None = None
    row: int = 0

    def active_on(self, day: dt.date) -> bool:
        """True when the coverage is in force on ``day`` (both ends inclusive, open when blank)."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True, slots=True)
class Service:
    """A catalogue entry: what a service code is called and what it costs.

    ``tax_rate`` (percent), ``tax_category`` (a UNCL 5305 code, see :class:`sheetbill.tax.TaxCategory`)
    and ``tax_exemption`` (the reason printed for a category without tax) are as typed; blank ones
    take the Default Tax settings (:func:`sheetbill.tax.resolve_service_tax`).
    """

    service_code: str
    description: str
    price: Decimal
    tax_rate: Decimal | None = None
    tax_category: str | None = None
    tax_exemption: str | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class PayerCode:
    """How one payer codes, prices and covers one service."""

    payer_id: str
    service_code: str
    payer_code: str | None = None
    allowed_amount: Decimal | None = None
    copay: Decimal | None = None
    covered: bool | None = None
    prior_authorization: bool | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class Charge:
    """A service rendered to a customer on a date: the thing that gets billed."""

    charge_id: str
    date: dt.date
    customer_id: str
    service_code: str
    quantity: Decimal = Decimal("1")
    price: Decimal | None = None
    authorization_no: str | None = None
    note: str | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received for (or taken off) an invoice.

    ``type`` is ``Payment``, ``Write-off``, ``Transfer to Customer`` (a payer paid less and the
    rest moves to the customer) or ``Refund`` (money paid back to a customer out of their credit).
    ``invoice_no`` names the invoice it is for; without one, ``customer_id`` names the customer whose
    oldest open items it pays.
    """

    payment_id: str
    date: dt.date
    invoice_no: str | None
    amount: Decimal
    type: str = "Payment"
    method: str | None = None
    reference: str | None = None
    customer_id: str | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    """An agreed plan to pay an invoice in installments."""

    plan_id: str
    invoice_no: str
    installments: int
    first_due_date: dt.date
    interval_months: int = 1
    note: str | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class BaseRate:
    """A row of the Base Rates sheet: the base rate (percent, may be negative) in force from a day on."""

    valid_from: dt.date
    rate: Decimal
    row: int = 0


@dataclass(frozen=True, slots=True)
class Contact:
    """One entry of the clerk's contact log."""

    date: dt.date
    customer_id: str
    invoice_no: str | None = None
    channel: str | None = None
    outcome: str | None = None
    hold_until: dt.date | None = None
    note: str | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class Invoice:
    """An issued invoice or credit note. Issued documents are history: never renumbered.

    ``amount`` is the sum of the document's lines (negative for a credit note): the gross total the
    party owes; ``related`` names the invoice a credit note cancels or the payer invoice a transfer
    came from. ``seal`` is the Seal as read (None for a row not sealed yet; see :mod:`sheetbill.seals`).

    ``net`` and ``tax`` are the invoice's tax totals (EN 16931 BT-109 and BT-110, computed per category
    and rate by :func:`sheetbill.tax.invoice_tax_breakdown`); both None on an untaxed invoice (every
    invoice of a workbook without tax, and history issued before sheetbill knew tax). ``amount`` may
    differ from ``net + tax`` by the rounding amount (BT-114, :attr:`rounding`).
    """

    invoice_no: str
    kind: str
    issue_date: dt.date
    due_date: dt.date
    bill_to_type: str
    bill_to_id: str
    bill_to_name: str
    customer_id: str
    amount: Decimal
    related: str | None = None
    row: int = 0
    seal: str | None = field(default=None, compare=False)
    net: Decimal | None = None
    tax: Decimal | None = None

    @property
    def rounding(self) -> Decimal | None:
        """Amount - (Net + Tax), the rounding amount (BT-114); None on an untaxed invoice."""
        if self.net is None or self.tax is None:
            return None
        return self.amount - self.net - self.tax


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line of an invoice: what one party is billed for one charge.

    ``amount`` is this party's share; ``adjustment`` the contractual write-off (on payer lines);
    ``reason`` why the party pays it (``copay``, ``deductible``, ``coinsurance``, ``not covered``,
    ``no coverage``, ``self-pay``, ``credit for INV-...``, ``transfer from INV-...``): words for people.
    ``payment_id`` names the Transfer to Customer payment a transfer line came from.
    ``related_invoice`` is the structure behind such reasons: the invoice a credit line credits, or the
    payer invoice a transfer line came from (``None`` on ordinary lines). ``seal``: as on :class:`Invoice`.

    Tax (all None on an untaxed line): ``amount`` is the party's gross share; ``net`` its net, derived
    once (:mod:`sheetbill.tax`); ``tax_category`` a UNCL 5305 code; ``tax_rate`` percent;
    ``tax_exemption`` the reason printed for a category without tax (§ 4 Nr. 14 UStG, § 19 UStG).
    """

    invoice_no: str
    charge_id: str | None
    date_of_service: dt.date | None
    customer_id: str
    service_code: str | None
    billed_code: str | None
    quantity: Decimal | None
    charge_amount: Decimal | None
    amount: Decimal
    adjustment: Decimal = Decimal("0")
    reason: str = ""
    payment_id: str | None = None
    related_invoice: str | None = None
    row: int = 0
    seal: str | None = field(default=None, compare=False)
    net: Decimal | None = None
    tax_category: str | None = None
    tax_rate: Decimal | None = None
    tax_exemption: str | None = None


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder (or payer follow-up) issued: a row of the append-only Reminders history.

    The history is the dunning state: an invoice's level is derived from its rows here.

    Attributes:
        date: the run's as-of date when it was issued.
        invoice_no: the invoice it concerns.
        level: 1 for the first reminder; the last level is the final notice.
        recipient: the customer's or payer's name.
        channel: ``email`` or ``letter``.
        address: the email address or postal address it went to.
        amount_due: what the reminder asks for: principal + fees + interest.
        fee: the reminder fee added with this level (0 for payers).
        text: the reminder text as issued.
        principal: the overdue balance it asks for (without fees and interest).
        fees: every reminder fee of the invoice up to and including this one.
        interest: the default interest it asks for (booked so far and not paid).
        interest_charged: the interest this reminder booked on the invoice (like ``fee`` for fees).
        installment: on a payment plan, the installment it is about (each has its own dunning level).
    """

    date: dt.date
    invoice_no: str
    level: int
    recipient: str | None = None
    channel: str | None = None
    address: str | None = None
    amount_due: Decimal = Decimal("0")
    fee: Decimal = Decimal("0")
    text: str | None = None
    principal: Decimal | None = None
    fees: Decimal | None = None
    interest: Decimal | None = None
    interest_charged: Decimal | None = None
    installment: int | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class Collection:
    """One invoice handed to the collection agency: a row of the append-only Collections history.

    Attributes:
        invoice_no, customer_id: what was handed over, and whose.
        principal: the invoice's open balance on hand-off.
        fees: reminder fees issued for the invoice.
        interest: default interest on hand-off.
        agency: the agency's name.
        agency_fee: the agency's fee, percent of principal, rounded once.
        handed_over_on: the run's as-of date of the hand-off.
    """

    invoice_no: str
    customer_id: str
    principal: Decimal
    handed_over_on: dt.date
    fees: Decimal = Decimal("0")
    interest: Decimal = Decimal("0")
    agency: str | None = None
    agency_fee: Decimal = Decimal("0")
    row: int = 0


@dataclass(frozen=True)
class Advice:
    """Something the clerk should do, for a customer (and an invoice, when it concerns one): a row of
    the Advice sheet."""

    customer_id: str
    invoice_no: str
    topic: str
    text: str
