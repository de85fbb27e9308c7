"""The ``flat_copay_clinic`` payer: a clinic network whose members pay a flat copay per charge.

An example of a sheetbill payer plugin, installed separately (``pip install
examples/sheetbill-payer-example``) and found through the ``sheetbill`` entry-point group. Payers
whose ``Plugin`` cell says ``flat_copay_clinic`` are billed under these rules:

* The network pays the full price (no contracted allowed amounts, so no write-off).
* The member pays a flat copay per charge, whatever the service: the Coverage row's ``Copay``,
  else the Settings value ``Clinic Copay``, else 10.00; never more than the charge.
* After :data:`COPAYS_PER_YEAR` copays' worth in a calendar year, further charges are free.
* A service priced at :data:`AUTHORIZATION_PRICE` or more needs prior authorization, unless the
  Payer Codes row says ``Prior Authorization`` = no; a service the Payer Codes row marks
  ``Covered`` = no is the member's.
* Charges are billed under the network's own codes: the Payer Codes ``Payer Code``, else
  ``FCC-`` and the service code, in code system ``FCC``.
"""

from __future__ import annotations

from decimal import Decimal

from sheetbill.money import D, quantize
from sheetbill.plugins import hookimpl
from sheetbill.plugins.types import ZERO, Adjudication, BilledCode, Claim

__version__ = "0.2.0"

#: The copay when neither the Coverage row nor the Settings sheet gives one.
DEFAULT_COPAY = Decimal("10.00")

#: How many copays a member pays at most per calendar year.
COPAYS_PER_YEAR = 12

#: Services priced at this or more need prior authorization.
AUTHORIZATION_PRICE = Decimal("1000.00")


@hookimpl
def sheetbill_payer_names() -> list[str]:
    """This plugin handles payers whose Plugin cell says ``flat_copay_clinic``."""
    return ["flat_copay_clinic"]


@hookimpl
def sheetbill_map_code(payer, service, payer_code) -> BilledCode:
    """The Payer Codes ``Payer Code``, else ``FCC-<service code>``: the network never lacks a code."""
    if payer_code is not None and payer_code.payer_code:
        return BilledCode(payer_code.payer_code, "FCC")
    return BilledCode(f"FCC-{service.service_code}", "FCC")


@hookimpl
def sheetbill_needs_authorization(service, payer_code) -> bool:
    """Expensive services need authorization; the Payer Codes row can say otherwise either way."""
    if payer_code is not None and payer_code.covered is False:
        return False
    if payer_code is not None and payer_code.prior_authorization is not None:
        return payer_code.prior_authorization
    return service.price >= AUTHORIZATION_PRICE


def copay(claim: Claim) -> Decimal:
    """The flat copay of the member's coverage."""
    if claim.coverage.copay is not None:
        return claim.coverage.copay
    setting = claim.settings.extra.get("cliniccopay")  # Settings names are matched normalized
    if setting not in (None, ""):
        return quantize(D(setting), claim.currency)
    return DEFAULT_COPAY


@hookimpl
def sheetbill_adjudicate(claim: Claim) -> Adjudication:
    """A flat copay for the member, the rest of the charge for the network."""
    if claim.payer_code is not None and claim.payer_code.covered is False:
        return Adjudication(ZERO, claim.charge_amount, ZERO, "not covered by the clinic network",
                            out_of_pocket=ZERO)
    base = claim.allowed if claim.is_secondary else claim.charge_amount
    flat = copay(claim)
    room = max(ZERO, flat * COPAYS_PER_YEAR - claim.year_to_date.out_of_pocket_used)
    share = min(flat, base, room)
    reason = "flat copay" if share else f"free after {COPAYS_PER_YEAR} copays this year"
    return Adjudication(base - share, share, claim.charge_amount - base, reason)


@hookimpl
def sheetbill_invoice_fields(payer, member_id) -> dict[str, str]:
    """The network wants its name and the member number on every invoice."""
    return {"Network": payer.name, "Member No": member_id or ""}
