"""The ``employer_budget`` payer: an employer scheme with an annual budget per employee.

The employer pays ``Covered Percent`` (default 100) of the allowed amount until the employee's
annual budget is used up; after that the customer pays. The budget is the Coverage row's
``Annual Budget`` column, or the Settings value ``Employer Budget`` as the default for all
employees. Budgets restart every calendar year.

Codes are mapped by sheetbill's default rule (the standard payer's: Payer Codes ``Payer Code``,
else the service code), which applies to any payer plugin that does not map codes itself.
"""

from __future__ import annotations

from decimal import Decimal

from ..i18n import Money, msg
from ..money import D, quantize
from ..plugins import hookimpl
from ..plugins.types import ZERO, Adjudication, Claim
from . import common


@hookimpl
def sheetbill_payer_names() -> list[str]:
    """Handles payers whose Plugin cell says ``employer_budget``."""
    return ["employer_budget"]


@hookimpl
def sheetbill_needs_authorization(payer_code):
    """Payer Codes ``Prior Authorization``, as for the standard payer."""
    return common.needs_authorization(payer_code)


def annual_budget(claim: Claim) -> Decimal | None:
    """The employee's budget for the year: Coverage ``Annual Budget``, else Settings ``Employer Budget``."""
    if claim.coverage.annual_budget is not None:
        return claim.coverage.annual_budget
    default = claim.settings.extra.get("employerbudget")
    if default is None or (isinstance(default, str) and not default.strip()):
        return None
    try:
        return D(default.strip() if isinstance(default, str) else default)
    except (ArithmeticError, ValueError) as err:
        raise ValueError(f"Settings: Employer Budget {default!r} is not an amount") from err


@hookimpl
def sheetbill_adjudicate(claim: Claim) -> Adjudication:
    """Pay the covered percent while budget remains; the rest is the customer's."""
    if common.is_not_covered(claim):
        return common.not_covered(claim, "not covered by employer")
    allowed = common.allowed_amount(claim)
    adjustment = claim.charge_amount - allowed
    percent = claim.coverage.covered_percent if claim.coverage.covered_percent is not None else Decimal(100)
    wanted = quantize(allowed * percent / Decimal(100), claim.currency)
    budget = annual_budget(claim)
    pays = wanted if budget is None else min(wanted, max(ZERO, budget - claim.year_to_date.payer_paid))
    reason = "employee share" if pays == wanted else "employer budget exhausted"
    advice = ()
    if pays < wanted:
        advice = (msg("employer budget of {budget} for {year} is used up: the rest is billed to the customer",
                      budget=Money(budget, claim.currency), year=claim.charge.date.year),)
    return Adjudication(pays, allowed - pays, adjustment, reason if allowed - pays else "covered", advice=advice)
