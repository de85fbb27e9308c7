"""The contact log: what the Contacts rows say about dunning an invoice (holds, disputes, responses)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from . import wording
from .i18n import Msg, msg
from .models import BillToType, Contact, Invoice
from .problems import Problem, warning

#: Contacts outcomes that count as the customer responding after the final notice.
RESPONSE_OUTCOMES = frozenset({"reached", "promise to pay", "dispute"})

_ONE_DAY = dt.timedelta(days=1)


@dataclass
class _Scope:
    """What the Contacts rows of one scope (an invoice, or a customer as a whole) say."""

    hold: dt.date | None = None  # the latest Hold Until
    latest: Contact | None = None  # the latest row
    response: dt.date | None = None  # the latest row with a response outcome


class ContactLog:
    """The Contacts rows dated on or before the as-of date, indexed so each question is O(1).

    A row with an Invoice No concerns that invoice; a row without one concerns every invoice billed
    to the customer.
    """

    def __init__(self, contacts: list[Contact], as_of: dt.date):
        self.as_of = as_of
        self._by_invoice: dict[str, _Scope] = defaultdict(_Scope)
        self._by_customer: dict[str, _Scope] = defaultdict(_Scope)
        for contact in contacts:
            if contact.date > as_of:
                continue
            scope = (self._by_invoice[contact.invoice_no] if contact.invoice_no
                     else self._by_customer[contact.customer_id])
            if contact.hold_until and (scope.hold is None or contact.hold_until > scope.hold):
                scope.hold = contact.hold_until
            if scope.latest is None or (contact.date, contact.row) > (scope.latest.date, scope.latest.row):
                scope.latest = contact
            if contact.outcome in RESPONSE_OUTCOMES and (scope.response is None or contact.date > scope.response):
                scope.response = contact.date

    def _scopes(self, invoice: Invoice) -> list[_Scope]:
        scopes = [self._by_invoice.get(invoice.invoice_no)]
        if invoice.bill_to_type == BillToType.CUSTOMER:
            scopes.append(self._by_customer.get(invoice.customer_id))
        return [s for s in scopes if s is not None]

    def pause(self, invoice: Invoice) -> tuple[Msg, dt.date | None] | None:
        """Why dunning of ``invoice`` is paused (Next Action and its date), or ``None``."""
        scopes = self._scopes(invoice)
        holds = [s.hold for s in scopes if s.hold is not None and s.hold >= self.as_of]
        if holds:
            until = max(holds)
            return wording.on_hold(until), until + _ONE_DAY
        latest = max((s.latest for s in scopes if s.latest is not None), key=lambda c: (c.date, c.row),
                     default=None)
        if latest is not None and latest.outcome == "dispute" and latest.hold_until is None:
            return wording.disputed(latest.date), None
        return None

    def response_since(self, invoice: Invoice, day: dt.date) -> dt.date | None:
        """The latest Contacts row on or after ``day`` with outcome reached, promise to pay or dispute."""
        dates = [s.response for s in self._scopes(invoice) if s.response is not None and s.response >= day]
        return max(dates, default=None)


def contact_problems(contacts: Iterable[Contact], invoices: Mapping[str, Invoice]) -> list[Problem]:
    """Contacts rows naming an unknown invoice, or another customer's invoice."""
    problems = []
    for contact in contacts:
        if not contact.invoice_no:
            continue
        invoice = invoices.get(contact.invoice_no)
        if invoice is None:
            problems.append(warning(msg("unknown invoice {invoice_no}", invoice_no=repr(contact.invoice_no)),
                                    "Contacts", contact.row,
                                    "Invoice No", code="unknown-invoice"))
        elif invoice.customer_id != contact.customer_id:
            problems.append(warning(msg("{invoice_no} is an invoice of customer {customer}, not {other}",
                                        invoice_no=contact.invoice_no, customer=invoice.customer_id,
                                        other=contact.customer_id), "Contacts", contact.row, "Customer ID",
                                    code="contact-wrong-customer"))
    return problems
