"""The ``standard`` payer: table-driven cost sharing from the Coverage and Payer Codes sheets.

Used for every payer whose ``Plugin`` cell is blank or ``standard``. Rules, in order (see
``docs/plugins.md`` for the worked example):

1. Allowed = Payer Codes ``Allowed Amount`` x quantity when given, else the charge (never more).
   Adjustment = charge - allowed, a contractual write-off billed to nobody.
2. ``Covered`` = no: the customer pays the whole charge (no adjustment); it does not count
   toward the out-of-pocket maximum, and Advice names the service.
3. A copay (Payer Codes ``Copay``, else Coverage ``Copay``): customer share = min(copay, allowed);
   no deductible or coinsurance. With Coverage ``Copay Counts To Deductible`` = yes the copay also
   counts toward the deductible (up to what is left of it).
4. Otherwise: deductible part = min(allowed, deductible left this year); coinsurance =
   (allowed - deductible part) x (100 - Covered Percent) / 100.
   With Coverage ``Copay Then Coinsurance`` = yes, a copay is charged first and rule 4 applies to
   the rest of the allowed amount (allowed - copay); when the copay counts to the deductible, it
   uses up deductible before rule 4 does.
5. The customer share is capped so that the year's customer shares never exceed
   ``Out of Pocket Max``. Payer share = allowed - customer share.
(Prior authorization and secondary coverage are applied by the core through the other hooks.)
"""

from __future__ import annotations

from decimal import Decimal

from ..money import quantize
from ..plugins import hookimpl
from ..plugins.types import ZERO, Adjudication, Claim
from . import common


@hookimpl
def sheetbill_payer_names() -> list[str]:
    """The default payer plugin."""
    return ["standard"]


@hookimpl
def sheetbill_map_code(payer, service, payer_code):
    """Payer Codes ``Payer Code``, else the service code (see :func:`common.map_code`)."""
    return common.map_code(payer, service, payer_code)


@hookimpl
def sheetbill_needs_authorization(payer_code):
    """Payer Codes ``Prior Authorization``."""
    return common.needs_authorization(payer_code)


def cap_out_of_pocket(claim: Claim, deductible: Decimal, coinsurance: Decimal) -> tuple[Decimal, Decimal, bool]:
    """Cap deductible and coinsurance parts at the out-of-pocket maximum left this year.

    The deductible part is kept first (it is owed first); returns the capped parts and whether
    the cap applied.
    """
    maximum = claim.coverage.out_of_pocket_max
    if maximum is None:
        return deductible, coinsurance, False
    room = max(ZERO, maximum - claim.year_to_date.out_of_pocket_used)
    if deductible + coinsurance <= room:
        return deductible, coinsurance, False
    deductible = min(deductible, room)
    return deductible, room - deductible, True


@hookimpl
def sheetbill_adjudicate(claim: Claim) -> Adjudication:
    """Apply the table-driven rules above to one claim."""
    currency = claim.currency
    if common.is_not_covered(claim):
        return common.not_covered(claim)
    allowed = common.allowed_amount(claim)
    adjustment = claim.charge_amount - allowed
    code_copay = claim.payer_code.copay if claim.payer_code is not None else None
    copay = code_copay if code_copay is not None else claim.coverage.copay
    deductible_left = max(ZERO, (claim.coverage.annual_deductible or ZERO) - claim.year_to_date.deductible_used)
    counts = bool(claim.coverage.copay_counts_to_deductible)
    if copay is not None and not claim.coverage.copay_then_coinsurance:
        share, _, capped = cap_out_of_pocket(claim, min(copay, allowed), ZERO)
        share = quantize(share, currency)
        reason = "copay (out-of-pocket maximum reached)" if capped else "copay"
        return Adjudication(allowed - share, share, adjustment, reason,
                            deductible=min(share, deductible_left) if counts else ZERO)
    copay_part = min(copay, allowed) if copay is not None else ZERO
    rest = allowed - copay_part
    deductible = min(rest, max(ZERO, deductible_left - copay_part) if counts else deductible_left)
    percent = claim.coverage.covered_percent if claim.coverage.covered_percent is not None else Decimal(100)
    coinsurance = (rest - deductible) * (Decimal(100) - percent) / Decimal(100)
    copay_part, first_parts, capped = cap_out_of_pocket(claim, copay_part, deductible + coinsurance)
    deductible = min(deductible, first_parts)  # the cap takes coinsurance before deductible
    coinsurance = first_parts - deductible
    copay_part, deductible = quantize(copay_part, currency), quantize(deductible, currency)
    share = quantize(copay_part + deductible + coinsurance, currency)
    parts = [name for name, amount in (("copay", copay_part), ("deductible", deductible),
                                       ("coinsurance", share - deductible - copay_part)) if amount]
    reason = " + ".join(parts) if parts else "covered"
    if capped:
        reason = f"{reason} (out-of-pocket maximum reached)" if parts else "out-of-pocket maximum reached"
    counted = deductible + (min(copay_part, deductible_left) if counts else ZERO)
    return Adjudication(allowed - share, share, adjustment, reason, deductible=min(counted, share))
