"""The ``goae`` payer: the German fee schedule for private patients (Gebührenordnung für Ärzte, GOÄ).

A rule book as a plugin. Each GOÄ number has points; the fee of one service is

    points x point value x factor, rounded to the cent (§ 5 (1) GOÄ),

times the charge's quantity. The point value is the Settings value ``GOÄ Point Value`` (also
written ``GOAE Point Value``), 0.0582873 EUR when blank. The number is the Payer Codes ``Payer Code``
of the service (else the service code); its points are the Payer Codes ``Points`` when given, else
those of :data:`NUMBERS`, the numbers the demo workbooks use.

The factor is the Charges ``Factor``; blank means the threshold (Schwellenwert) of the number's
section (§ 5 (2)-(4)): 2.3 for personal services, 1.8 for technical services (sections A, E, O) and
1.15 for laboratory services (section M). A factor

* above the threshold needs a ``Justification`` (§ 5 (2), § 12 (3)), a Problem on the charge
  otherwise;
* above the maximum (3.5 / 2.5 / 1.3) needs a written fee agreement (§ 2), the Charges ``Fee
  Agreement`` = yes, a Problem otherwise;
* below 1 is a Problem.

The patient is billed the whole fee (private patients pay and are reimbursed by their insurer): the
payer's share is nothing, and the customer's invoice line says, per § 12, the number, the factor and
the justification beside the date, the description and the amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..money import D, quantize
from ..plugins import hookimpl
from ..plugins.types import ZERO, Adjudication, BilledCode, Claim, ClaimRefused
from . import common

#: The point value in EUR since 1996 (§ 5 (1) GOÄ), used when Settings has no ``GOÄ Point Value``.
POINT_VALUE = Decimal("0.0582873")


@dataclass(frozen=True, slots=True)
class Section:
    """A group of GOÄ numbers with the same factor range: threshold (Schwellenwert) and maximum."""

    name: str
    threshold: Decimal
    maximum: Decimal


PERSONAL = Section("personal", Decimal("2.3"), Decimal("3.5"))
TECHNICAL = Section("technical", Decimal("1.8"), Decimal("2.5"))
LABORATORY = Section("laboratory", Decimal("1.15"), Decimal("1.3"))

#: GOÄ numbers the demo uses: points and section.
NUMBERS: dict[str, tuple[int, Section]] = {
    "1": (80, PERSONAL),      # Beratung
    "3": (150, PERSONAL),     # eingehende Beratung, mindestens 10 Minuten
    "5": (80, PERSONAL),      # symptombezogene Untersuchung
    "7": (160, PERSONAL),     # vollständige Untersuchung eines Organsystems
    "250": (40, PERSONAL),    # Blutentnahme aus der Vene
    "410": (200, PERSONAL),   # Ultraschalluntersuchung eines Organs
    "530": (35, TECHNICAL),   # Kalt- oder Heißpackung (section E)
    "3511": (50, LABORATORY),  # Untersuchung mit vorgefertigten Reagenzträgern (section M)
}


@hookimpl
def sheetbill_payer_names() -> list[str]:
    """Handles payers whose Plugin cell says ``goae``."""
    return ["goae"]


@hookimpl
def sheetbill_map_code(service, payer_code) -> BilledCode:
    """The GOÄ number: the Payer Codes ``Payer Code``, else the service code."""
    return BilledCode(number(service, payer_code), "GOÄ")


@hookimpl
def sheetbill_needs_authorization(payer_code) -> bool:
    """Payer Codes ``Prior Authorization``, as for the standard payer."""
    return common.needs_authorization(payer_code)


def number(service, payer_code) -> str:
    """The GOÄ number of a service."""
    return payer_code.payer_code if payer_code is not None and payer_code.payer_code else service.service_code


def point_value(settings) -> Decimal:
    """Settings ``GOÄ Point Value`` (or ``GOAE Point Value``), else :data:`POINT_VALUE`."""
    for key in ("goäpointvalue", "goaepointvalue"):
        value = settings.extra.get(key)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            try:
                return D(value.strip().replace(",", ".") if isinstance(value, str) else value)
            except (ArithmeticError, ValueError) as err:
                raise ValueError(f"Settings: GOÄ Point Value {value!r} is not a number") from err
    return POINT_VALUE


@dataclass(frozen=True, slots=True)
class Fee:
    """One charge priced under the GOÄ."""

    number: str
    points: Decimal
    section: Section
    factor: Decimal
    amount: Decimal


def fee(charge, service, payer_code, settings) -> Fee:
    """The GOÄ fee of a charge; :class:`ClaimRefused` when the number or the factor cannot be billed."""
    no = number(service, payer_code)
    known = NUMBERS.get(no)
    points = getattr(payer_code, "points", None) if payer_code is not None else None
    if points is None and known is None:
        raise ClaimRefused(f"GOÄ number {no} has no points: add them to Payer Codes (Points)", "Service Code")
    section = known[1] if known is not None else PERSONAL
    points = D(points) if points is not None else D(known[0])
    factor = charge.factor if charge.factor is not None else section.threshold
    if factor < 1:
        raise ClaimRefused(f"factor {show_factor(factor)} of GOÄ {no} is below 1, the lowest the GOÄ allows", "Factor")
    if factor > section.maximum and not charge.fee_agreement:
        raise ClaimRefused(f"factor {show_factor(factor)} of GOÄ {no} is above the maximum {section.maximum} for "
                           f"{section.name} services: only with a written fee agreement (§ 2 GOÄ), then set "
                           "Fee Agreement to yes", "Fee Agreement")
    if factor > section.threshold and not (charge.justification or "").strip():
        raise ClaimRefused(f"factor {show_factor(factor)} of GOÄ {no} is above the threshold {section.threshold} for "
                           f"{section.name} services: give the Justification (§ 5 (2), § 12 (3) GOÄ)",
                           "Justification")
    single = quantize(points * point_value(settings) * factor, settings.currency)
    return Fee(no, points, section, factor, quantize(single * charge.quantity, settings.currency))


@hookimpl
def sheetbill_charge_amount(charge, service, payer_code, settings) -> Decimal:
    """points x point value x factor, rounded to the cent, times the quantity."""
    return fee(charge, service, payer_code, settings).amount


def show_factor(factor: Decimal) -> str:
    """A factor as invoices print it, the same however the cell held it: ``3.0``, ``2.3``, ``1.15``."""
    value = factor.normalize()
    return f"{value:.1f}" if value.as_tuple().exponent >= 0 else f"{value:f}"


@hookimpl
def sheetbill_adjudicate(claim: Claim) -> Adjudication:
    """The patient pays the fee; the line names the GOÄ number, the factor and the justification."""
    charge = claim.charge
    factor = charge.factor
    if factor is None:
        known = NUMBERS.get(number(claim.service, claim.payer_code))
        factor = (known[1] if known is not None else PERSONAL).threshold
    reason = f"GOÄ {number(claim.service, claim.payer_code)}, factor {show_factor(factor)}"
    if (charge.justification or "").strip():
        reason = f"{reason}: {charge.justification.strip()}"
    return Adjudication(ZERO, claim.charge_amount, ZERO, reason)
