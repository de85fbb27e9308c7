"""Rules several built-in payers share: code mapping, authorization flags and the allowed amount."""

from __future__ import annotations

from decimal import Decimal

from ..i18n import Msg, msg
from ..models import PayerCode
from ..money import quantize
from ..plugins import defaults
from ..plugins.types import ZERO, Adjudication, Claim

#: Code System values meaning "the practice's own service codes": no mapping needed.
OWN_CODE_SYSTEMS = defaults.OWN_CODE_SYSTEMS

#: The Payer Codes ``Payer Code`` when given; else the service code, unless the payer's ``Code
#: System`` is one of its own, which then needs a mapping (``None``).
map_code = defaults.map_code


def needs_authorization(payer_code: PayerCode | None) -> bool:
    """The Payer Codes ``Prior Authorization`` flag (no row: not needed).

    A service the payer does not cover (``Covered`` = no) needs none: the customer pays it anyway.
    """
    return bool(payer_code is not None and payer_code.prior_authorization and payer_code.covered is not False)


def allowed_amount(claim: Claim) -> Decimal:
    """What the payer recognises of the charge: the primary's allowed amount for a secondary claim,
    else Payer Codes ``Allowed Amount`` x quantity when given, never more than the charge."""
    if claim.allowed is not None:
        return claim.allowed
    code = claim.payer_code
    if code is not None and code.allowed_amount is not None:
        return min(quantize(code.allowed_amount * claim.charge.quantity, claim.currency), claim.charge_amount)
    return claim.charge_amount


def is_not_covered(claim: Claim) -> bool:
    """True when the Payer Codes row says the payer does not cover the service."""
    return claim.payer_code is not None and claim.payer_code.covered is False


def not_covered(claim: Claim, reason: str = "not covered") -> Adjudication:
    """The whole charge is the customer's (no adjustment); it does not count toward the
    out-of-pocket maximum, and Advice names the service (for a primary claim)."""
    advice: tuple[Msg, ...] = ()
    if not claim.is_secondary:
        advice = (msg("{service} is not covered by {payer}: charge {charge_id} of {date} is billed to the customer",
                      service=claim.service.description, payer=claim.payer.name, charge_id=claim.charge.charge_id,
                      date=claim.date),)
    return Adjudication(ZERO, claim.charge_amount, ZERO, reason, advice=advice, out_of_pocket=ZERO)
