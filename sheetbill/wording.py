"""Every sentence overdue tracking writes into the workbook's sheets, in one place.

The Reminders sheet's Text, the Overdue sheet's Next Action and the Advice about payment plans are
made here and nowhere else, from typed facts; the documents (PDF letters) say the same things from
their own templates. Only English is written so far: a translation replaces this module's strings,
not code scattered over the stages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from .dunning import Installment
from .money import fmt

FOLLOW_UP = "follow up the claim with the payer"
UPDATE_CONTACT = "update contact details"
SET_AGENCY = "set Collection Agency in Settings to hand over"
CREDIT_COVERS = "no reminder: the customer's account is in credit (see Accounts and Advice)"
RESTORE_FIRST = "no reminder: this invoice's issued history was edited; restore the row first (see Problems)"


def on_hold(until: dt.date) -> str:
    """Next Action of an invoice on hold."""
    return f"on hold until {until.isoformat()}"


def debit_pending(collection_date: dt.date) -> str:
    """Next Action of an item sent for direct debit that the bank has not confirmed yet."""
    return f"no reminder: debit pending (collection date {collection_date.isoformat()})"


def debit_returned(invoice_no: str, reason: str, fee: Decimal, currency: str, revoked: str | None) -> str:
    """Advice about a returned direct debit."""
    text = (f"the direct debit of {invoice_no} came back ({reason}); it is open again"
            + (f" with a return fee of {fmt(fee, currency)}" if fee else ""))
    if revoked:
        text += f"; mandate {revoked} is no longer used: set its Status to revoked and ask for payment by transfer"
    return text


def mandate_advice(mandate_id: str, why: str) -> str:
    """Advice about a mandate."""
    return f"mandate {mandate_id}: {why}"


def disputed(since: dt.date) -> str:
    """Next Action of a disputed invoice."""
    return f"disputed on {since.isoformat()}: settle the dispute and log the outcome in Contacts"


def step_name(level: int, levels: int, is_payer: bool) -> str:
    """The Next Action of dunning level ``level`` (not due yet)."""
    if is_payer:
        return FOLLOW_UP
    return "final notice" if level == levels else f"reminder {level}"


def hand_off(agency: str | None) -> str:
    """The Next Action after the final notice."""
    return f"hand over to the collection agency {agency}" if agency else "hand over to the collection agency"


def with_agency(agency: str | None, since: dt.date) -> str:
    """The Next Action of an invoice with the agency."""
    name = f"the collection agency {agency}" if agency else "the collection agency"
    return f"with {name} since {since.isoformat()}"


def responded(day: dt.date) -> str:
    """The Next Action of an invoice whose customer responded after the final notice."""
    return (f"responded on {day.isoformat()} after the final notice: agree a payment plan or settle the balance "
            "(no automatic hand-off)")


def payment_details(methods: str | None, iban: str | None, reference: str) -> str:
    """How to pay: methods, IBAN and reference, on one line."""
    parts = [methods] if methods else []
    if iban:
        parts.append(f"IBAN {iban}")
    parts.append(f"payment reference {reference}")
    return ", ".join(parts)


def what_is_overdue(invoice_no: str, issue_date: dt.date, due_date: dt.date,
                    installments: Sequence[Installment], due_dates: Sequence[dt.date]) -> tuple[str, str]:
    """What is overdue, naming the missed installments of a plan, and its verb ("is" or "are")."""
    if not installments:
        return f"invoice {invoice_no} of {issue_date.isoformat()} (due {due_date.isoformat()})", "is"
    numbers = [str(i.number) for i in installments]
    dates = ", ".join(day.isoformat() for day in due_dates)
    which = f"installment {numbers[0]}" if len(numbers) == 1 else \
        f"installments {', '.join(numbers[:-1])} and {numbers[-1]}"
    first = installments[0]
    return (f"{which} of {first.count} (due {dates}) of payment plan {first.plan_id} for invoice {invoice_no}",
            "is" if len(numbers) == 1 else "are")


def reminder_text(*, level: int, final: bool, recipient: str, what: tuple[str, str], balance: Decimal,
                  fees: Decimal, rate: Decimal | None, interest: Decimal, amount_due: Decimal, pay_by: dt.date,
                  details: str, agency: str | None, currency: str) -> str:
    """The text of a customer reminder: amounts, due date, how to pay; the final notice names the agency."""
    title = "Final notice" if final else f"Reminder {level}"
    text = [f"{title}. Dear {recipient}, {what[0]} {what[1]} overdue: {fmt(balance, currency)} is still open."]
    if fees:
        text.append(f"Reminder fees: {fmt(fees, currency)}.")
    if rate is not None:
        text.append(f"Interest at {rate:f} % a year: {fmt(interest, currency)}.")
    text.append(f"Please pay {fmt(amount_due, currency)} by {pay_by.isoformat()} ({details}).")
    if final:
        text.append("Without payment by then, the claim will be handed over to "
                    + (f"the collection agency {agency}." if agency else "a collection agency."))
    return " ".join(text)


def follow_up_text(*, level: int, recipient: str, what: str, customer: str, balance: Decimal, details: str,
                   currency: str) -> str:
    """The text of a payer follow-up: the claim, the customer, the amount; no fees, no interest."""
    return (f"Follow-up {level}. Dear {recipient}, our {what} for {customer} over {fmt(balance, currency)} is "
            f"unpaid. Please let us know the status of the claim or pay ({details}).")


def plan_offer(total: Decimal, parts: Sequence[Decimal], currency: str) -> str:
    """Advice to offer a payment plan of ``parts`` over an open balance of ``total``."""
    offer = f"{len(parts)} x {fmt(parts[0], currency)}"
    if parts[-1] != parts[0]:
        offer += f" (the last one {fmt(parts[-1], currency)})"
    return (f"open balance of {fmt(total, currency)} is at or above the Payment Plan Threshold: offer {offer} "
            "and record the plan in Payment Plans")
