"""Payment Plans: which rows are valid, and the installments (due date, amount) each plan makes.

A plan splits a customer invoice into equal installments (``Installments``) or into the percents
of ``Shares`` (``30, 50, 20``), each rounded down to the cent with the remainder on the last, due
from the ``First Due Date`` every ``Interval Months`` months (default 1) or every ``Interval Days``
days (:func:`sheetbill.dunning.plan_schedule`). The ledger allocates payments to the installments
oldest first (:mod:`sheetbill.ledger`).
"""

from __future__ import annotations

from collections.abc import Mapping

from .book import Book
from .dunning import plan_schedule
from .i18n import msg
from .models import BillToType, Invoice, InvoiceKind, PaymentPlan
from .money import ZERO
from .problems import Problem, error, warning

__all__ = ["plan_count", "plan_schedule", "valid_plans"]


def valid_plans(book: Book, invoices: Mapping[str, Invoice], problems: list[Problem]) -> dict[str, PaymentPlan]:
    """The valid Payment Plans rows, one per invoice; the others reported where they are."""
    maximum = book.settings.max_installments
    plans: dict[str, PaymentPlan] = {}
    for plan in book.plans:
        invoice = invoices.get(plan.invoice_no)
        if invoice is None:
            problems.append(error(msg("unknown invoice {invoice_no}: the plan is ignored",
                                      invoice_no=repr(plan.invoice_no)), "Payment Plans",
                                  plan.row, "Invoice No", code="unknown-invoice"))
        elif invoice.kind != InvoiceKind.INVOICE or invoice.bill_to_type != BillToType.CUSTOMER:
            problems.append(error(msg("{invoice_no} is not a customer invoice: a payment plan splits what a "
                                      "customer owes; the plan is ignored", invoice_no=plan.invoice_no),
                                  "Payment Plans", plan.row, "Invoice No", code="plan-not-customer-invoice"))
        elif plan.invoice_no in plans:
            first = plans[plan.invoice_no]
            problems.append(error(msg("{invoice_no} already has plan {plan_id} (row {row}); this row is ignored",
                                      invoice_no=plan.invoice_no, plan_id=first.plan_id, row=first.row),
                                  "Payment Plans", plan.row, "Invoice No", code="plan-duplicate"))
        elif (wrong := _plan_shape_problem(plan)) is not None:
            problems.append(wrong)
        else:
            count = plan_count(plan)
            if count > maximum:
                problems.append(warning(msg("{count} installments is more than Max Installments ({maximum}); the "
                                            "plan is used as agreed", count=count, maximum=maximum),
                                        "Payment Plans", plan.row, "Installments", code="plan-over-max"))
            plans[plan.invoice_no] = plan
    return plans


def plan_count(plan: PaymentPlan) -> int:
    """How many installments the plan has: its Shares, else its Installments."""
    return len(plan.shares) if plan.shares else (plan.installments or 0)


def _plan_shape_problem(plan: PaymentPlan) -> Problem | None:
    """What is wrong with a plan's Installments and Shares, or ``None``: Shares are positive percents that
    add up to 100, and Installments (when also given) is their number; without Shares, Installments is
    needed."""
    if not plan.shares:
        if plan.installments is None:
            return error("give Installments (equal parts) or Shares (e.g. 30, 50, 20): the plan is ignored",
                         "Payment Plans", plan.row, "Installments", code="plan-bad-shares")
        return None
    total = sum(plan.shares, ZERO)
    if any(share <= 0 for share in plan.shares) or total != 100:
        shares = ", ".join(str(s) for s in plan.shares)
        return error(f"Shares {shares} must be percents greater than 0 that add up to 100 (they add up to "
                     f"{total}): the plan is ignored", "Payment Plans", plan.row, "Shares", code="plan-bad-shares")
    if plan.installments is not None and plan.installments != len(plan.shares):
        return error(f"Installments says {plan.installments} but Shares lists {len(plan.shares)}: the plan is "
                     "ignored", "Payment Plans", plan.row, "Installments", code="plan-bad-shares")
    return None
