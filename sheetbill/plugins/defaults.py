"""What sheetbill does for a payer plugin that leaves a hook out.

These are also the standard payer's rules, so the built-in payers share them through
:mod:`sheetbill.payers.common`.
"""

from __future__ import annotations

from ..contract import OWN_CODE_SYSTEMS
from ..models import Payer, PayerCode, Service
from .types import BilledCode


def map_code(payer: Payer, service: Service, payer_code: PayerCode | None) -> BilledCode | None:
    """The Payer Codes ``Payer Code`` when given; else the service code, unless the payer's
    ``Code System`` is a code system of its own, which then needs a mapping (``None``)."""
    system = (payer.code_system or "").strip()
    if payer_code is not None and payer_code.payer_code:
        return BilledCode(payer_code.payer_code, system)
    if system.casefold() in OWN_CODE_SYSTEMS:
        return BilledCode(service.service_code, system)
    return None
