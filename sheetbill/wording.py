"""Every sentence overdue tracking writes into the workbook's sheets, in one place.

The Reminders sheet's Text, the Overdue sheet's Next Action and the Advice about payment plans are
made here and nowhere else, from typed facts, as :class:`~sheetbill.i18n.Msg` sentences whose
English message ids the catalogues translate (:mod:`sheetbill.i18n`); the run writes them in the
Settings Language. The documents (PDF letters) say the same things from their own templates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from .dunning import Installment
from .i18n import Money, Msg, msg

FOLLOW_UP = msg("follow up the claim with the payer")
UPDATE_CONTACT = msg("update contact details")
SET_AGENCY = msg("set Collection Agency in Settings to hand over")
CREDIT_COVERS = msg("no reminder: the customer's account is in credit (see Accounts and Advice)")
RESTORE_FIRST = msg("no reminder: this invoice's issued history was edited; restore the row first (see Problems)")


def on_hold(until: dt.date) -> Msg:
    """Next Action of an invoice on hold."""
    return msg("on hold until {until}", until=until)


def debit_pending(collection_date: dt.date) -> Msg:
    """Next Action of an item sent for direct debit that the bank has not confirmed yet."""
    return msg("no reminder: debit pending (collection date {date})", date=collection_date)


def debit_returned(invoice_no: str, reason: str, fee: Decimal, currency: str, revoked: str | None) -> Msg:
    """Advice about a returned direct debit: open again, its return fee, and a mandate no longer used."""
    text = msg("the direct debit of {invoice_no} came back ({reason}); it is open again with a return fee of {fee}",
               invoice_no=invoice_no, reason=reason, fee=Money(fee, currency)) if fee else \
        msg("the direct debit of {invoice_no} came back ({reason}); it is open again", invoice_no=invoice_no,
            reason=reason)
    if revoked:
        return msg("{first}; {second}", first=text, second=msg(
            "mandate {mandate} is no longer used: set its Status to revoked and ask for payment by transfer",
            mandate=revoked))
    return text


def mandate_advice(mandate_id: str, why: Msg | str) -> Msg:
    """Advice about a mandate."""
    return msg("mandate {mandate}: {why}", mandate=mandate_id, why=why)


def disputed(since: dt.date) -> Msg:
    """Next Action of a disputed invoice."""
    return msg("disputed on {since}: settle the dispute and log the outcome in Contacts", since=since)


def step_name(level: int, levels: int, is_payer: bool) -> Msg:
    """The Next Action of dunning level ``level`` (not due yet)."""
    if is_payer:
        return FOLLOW_UP
    return msg("final notice") if level == levels else msg("reminder {level}", level=level)


def hand_off(agency: str | None) -> Msg:
    """The Next Action after the final notice."""
    return msg("hand over to the collection agency {agency}", agency=agency) if agency else \
        msg("hand over to the collection agency")


def with_agency(agency: str | None, since: dt.date) -> Msg:
    """The Next Action of an invoice with the agency."""
    return msg("with the collection agency {agency} since {since}", agency=agency, since=since) if agency else \
        msg("with the collection agency since {since}", since=since)


def responded(day: dt.date) -> Msg:
    """The Next Action of an invoice whose customer responded after the final notice."""
    return msg("responded on {day} after the final notice: agree a payment plan or settle the balance "
               "(no automatic hand-off)", day=day)


def payment_details(methods: str | None, iban: str | None, reference: str) -> Msg:
    """How to pay: methods, IBAN and reference, on one line."""
    reference_part = msg("payment reference {reference}", reference=reference)
    if methods and iban:
        return msg("{methods}, IBAN {iban}, {reference}", methods=methods, iban=iban, reference=reference_part)
    if methods or iban:
        return msg("{methods}, {reference}", methods=methods or f"IBAN {iban}", reference=reference_part)
    return reference_part


def what_is_overdue(invoice_no: str, issue_date: dt.date, due_date: dt.date,
                    installments: Sequence[Installment], due_dates: Sequence[dt.date]) -> tuple[Msg, bool]:
    """What is overdue, naming the missed installments of a plan, and whether it is several things."""
    if not installments:
        return msg("invoice {invoice_no} of {issue_date} (due {due_date})", invoice_no=invoice_no,
                   issue_date=issue_date, due_date=due_date), False
    first = installments[0]
    facts = {"count": first.count, "dates": tuple(due_dates), "plan_id": first.plan_id, "invoice_no": invoice_no}
    if len(installments) == 1:
        return msg("installment {number} of {count} (due {dates}) of payment plan {plan_id} for invoice "
                   "{invoice_no}", number=first.number, **facts), False
    numbers = [str(i.number) for i in installments]
    return msg("installments {numbers} and {last} of {count} (due {dates}) of payment plan {plan_id} for invoice "
               "{invoice_no}", numbers=", ".join(numbers[:-1]), last=numbers[-1], **facts), True


def reminder_text(*, level: int, final: bool, recipient: str, what: tuple[Msg, bool], balance: Decimal,
                  fees: Decimal, rate: Decimal | None, interest: Decimal, amount_due: Decimal, pay_by: dt.date,
                  details: Msg, agency: str | None, currency: str) -> Msg:
    """The text of a customer reminder: amounts, due date, how to pay; the final notice names the agency."""
    title = msg("Final notice") if final else msg("Reminder {level}", level=level)
    facts = {"title": title, "recipient": recipient, "what": what[0], "balance": Money(balance, currency)}
    text = [msg("{title}. Dear {recipient}, {what} are overdue: {balance} is still open.", **facts) if what[1] else
            msg("{title}. Dear {recipient}, {what} is overdue: {balance} is still open.", **facts)]
    if fees:
        text.append(msg("Reminder fees: {fees}.", fees=Money(fees, currency)))
    if rate is not None:
        text.append(msg("Interest at {rate} % a year: {interest}.", rate=rate, interest=Money(interest, currency)))
    text.append(msg("Please pay {amount} by {pay_by} ({details}).", amount=Money(amount_due, currency),
                    pay_by=pay_by, details=details))
    if final:
        text.append(msg("Without payment by then, the claim will be handed over to the collection agency {agency}.",
                        agency=agency) if agency else
                    msg("Without payment by then, the claim will be handed over to a collection agency."))
    return sentences(text)


def before_due_text(*, recipient: str, invoice_no: str, due_date: dt.date, balance: Decimal, details: Msg | str,
                    currency: str) -> Msg:
    """The text of a friendly reminder before the due date (level 0): no fee, no interest."""
    return msg("Friendly reminder. Dear {recipient}, invoice {invoice_no} over {balance} is due on {due_date} "
               "({details}). If you have already paid, thank you.", recipient=recipient, invoice_no=invoice_no,
               balance=Money(balance, currency), due_date=due_date, details=details)


def follow_up_text(*, level: int, recipient: str, what: Msg, customer: str, balance: Decimal, details: Msg,
                   currency: str) -> Msg:
    """The text of a payer follow-up: the claim, the customer, the amount; no fees, no interest."""
    return msg("Follow-up {level}. Dear {recipient}, our {what} for {customer} over {balance} is unpaid. Please let "
               "us know the status of the claim or pay ({details}).", level=level, recipient=recipient, what=what,
               customer=customer, balance=Money(balance, currency), details=details)


def plan_offer(total: Decimal, parts: Sequence[Decimal], currency: str) -> Msg:
    """Advice to offer a payment plan of ``parts`` over an open balance of ``total``."""
    offer = {"count": len(parts), "part": Money(parts[0], currency)}
    if parts[-1] != parts[0]:
        return msg("open balance of {total} is at or above the Payment Plan Threshold: offer {count} x {part} (the "
                   "last one {last}) and record the plan in Payment Plans", total=Money(total, currency),
                   last=Money(parts[-1], currency), **offer)
    return msg("open balance of {total} is at or above the Payment Plan Threshold: offer {count} x {part} and "
               "record the plan in Payment Plans", total=Money(total, currency), **offer)


def sentences(parts: Sequence[Msg]) -> Msg:
    """Several sentences as one text, separated by a space."""
    names = [f"s{i}" for i in range(len(parts))]
    return Msg(" ".join("{" + n + "}" for n in names), tuple(zip(names, parts, strict=True)))


#: The Advice sheet's Topic values, in English as the code names them, and as sentences to translate.
ADVICE_TOPICS = {"coverage": msg("coverage"), "correction": msg("correction"), "credit": msg("credit"),
                 "payment plan": msg("payment plan"), "Returned debit": msg("Returned debit")}


def advice_topic(topic: Msg | str) -> Msg | str:
    """An Advice Topic as a sentence of the catalogues (a plugin's own topic stays as it is)."""
    return ADVICE_TOPICS.get(topic, topic) if isinstance(topic, str) else topic


def installment_label(installment: Installment) -> Msg:
    """The Overdue sheet's Installment: ``2 of 6``."""
    return msg("{number} of {count}", number=installment.number, count=installment.count)
