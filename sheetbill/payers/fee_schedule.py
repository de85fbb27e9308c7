"""The ``fee_schedule`` payer: a government programme that pays a fixed fee per service code.

The fee is the Payer Codes ``Allowed Amount`` x quantity. The programme pays the fee; the rest of
the charge is written off, and the customer is **never** billed for the difference (that is the
programme's rule for its beneficiaries). A service the schedule lists as ``Covered`` = no is the
customer's; a service with no fee in the schedule cannot be billed to the programme and becomes a
Problem so the clerk can add the fee or correct the charge.

Codes are mapped by sheetbill's default rule (the standard payer's: Payer Codes ``Payer Code``,
else the service code), which applies to any payer plugin that does not map codes itself.
"""

from __future__ import annotations

from ..money import quantize
from ..plugins import hookimpl
from ..plugins.types import ZERO, Adjudication, Claim
from . import common


class MissingFee(ValueError):
    """The schedule has no fee for the service."""


@hookimpl
def sheetbill_payer_names() -> list[str]:
    """Handles payers whose Plugin cell says ``fee_schedule``."""
    return ["fee_schedule"]


@hookimpl
def sheetbill_needs_authorization(payer_code):
    """Payer Codes ``Prior Authorization``."""
    return common.needs_authorization(payer_code)


@hookimpl
def sheetbill_adjudicate(claim: Claim) -> Adjudication:
    """Pay the scheduled fee; write off the rest; the customer pays nothing unless not covered."""
    if common.is_not_covered(claim):
        return common.not_covered(claim)
    code = claim.payer_code
    if code is None or code.allowed_amount is None:
        raise MissingFee(f"no fee for service {claim.service.service_code} in the fee schedule of payer "
                         f"{claim.payer.payer_id}: add it to Payer Codes (Allowed Amount)")
    fee = min(quantize(code.allowed_amount * claim.charge.quantity, claim.currency), claim.charge_amount)
    if claim.patient_responsibility is not None:  # as a secondary payer: cover what the primary left
        fee = min(fee, claim.patient_responsibility)
    return Adjudication(fee, ZERO, claim.charge_amount - fee, "fee schedule")
