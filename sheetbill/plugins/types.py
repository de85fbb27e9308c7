"""The values that pass between sheetbill and payer plugins.

All amounts are ``Decimal`` in the workbook's currency. Records are frozen: a plugin reads a claim
and answers with a new :class:`Adjudication`; it never changes what it was given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from ..i18n import Msg
from ..models import Charge, Coverage, Customer, Payer, PayerCode, Service, Settings

ZERO = Decimal("0")


class ClaimRefused(Exception):  # noqa: N818 - a refusal, not an error of the plugin
    """Raised by a payer plugin's hook to refuse a charge for a reason the clerk can fix in the
    Charges row (a GOÄ factor above the threshold without a justification, ...).

    The charge is held with a Problem (code ``claim-refused``) on ``column`` of its Charges row,
    whose message is ``message``; unlike any other exception it is not reported as a plugin failure.
    """

    def __init__(self, message: str, column: str = "Service Code"):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True, slots=True)
class BilledCode:
    """A service code in a payer's own code system (``code="99213"``, ``system="CPT"``)."""

    code: str
    system: str = ""


@dataclass(frozen=True, slots=True)
class YearToDate:
    """Running totals for one customer under one coverage in the calendar year of the charge,
    counting every earlier charge (including those billed in earlier runs).

    Attributes:
        deductible_used: deductible the customer has paid so far.
        out_of_pocket_used: customer shares (deductible, coinsurance, copays) so far.
        payer_paid: what this payer has paid so far (budgets, annual maximums).
    """

    deductible_used: Decimal = ZERO
    out_of_pocket_used: Decimal = ZERO
    payer_paid: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Claim:
    """One charge presented to one payer under one coverage.

    Attributes:
        charge, customer, service, payer, coverage: the input rows involved.
        payer_code: the Payer Codes row for this payer and service, if any.
        charge_amount: price x quantity, rounded: what the provider charges (gross: in a workbook with
            tax and net prices, the charge's tax is included; the split is always on gross amounts).
        allowed: for a secondary payer, the amount the primary allowed; ``None`` for a primary.
        patient_responsibility: for a secondary payer, the customer share the primary left.
        year_to_date: the running totals before this charge.
        currency: ISO 4217 code; round shares with :func:`sheetbill.money.quantize`.
        settings: the workbook's settings (``settings.extra`` holds settings sheetbill does not know).
    """

    charge: Charge
    customer: Customer
    service: Service
    payer: Payer
    coverage: Coverage
    payer_code: PayerCode | None
    charge_amount: Decimal
    allowed: Decimal | None
    patient_responsibility: Decimal | None
    year_to_date: YearToDate
    currency: str
    settings: Settings

    @property
    def date(self) -> dt.date:
        """The date of service."""
        return self.charge.date

    @property
    def is_secondary(self) -> bool:
        """True when another payer adjudicated the charge first (``allowed`` is then its allowed amount)."""
        return self.allowed is not None


@dataclass(frozen=True, slots=True)
class Adjudication:
    """A payer's decision on one claim.

    Attributes:
        payer_share: what the payer pays.
        customer_share: what is left for the customer (before any secondary payer).
        adjustment: the contractual write-off (charge minus allowed), billed to nobody.
        reason: why the customer pays ``customer_share``: ``copay``, ``deductible``,
            ``coinsurance``, ``deductible + coinsurance``, ``not covered``, ``budget exhausted``, ...
        deductible: the part of ``customer_share`` that counts toward the annual deductible.
        advice: sentences for the clerk (shown in the Advice sheet for this customer): plain text, or
            :func:`sheetbill.i18n.msg` sentences that the catalogues translate into the Settings Language.
        out_of_pocket: the part of ``customer_share`` that counts toward the out-of-pocket
            maximum; ``None`` (the default) means all of it. A service the payer does not cover
            counts nothing (``ZERO``).
    """

    payer_share: Decimal
    customer_share: Decimal
    adjustment: Decimal = ZERO
    reason: str = ""
    deductible: Decimal = ZERO
    advice: tuple[Msg | str, ...] = field(default_factory=tuple)
    out_of_pocket: Decimal | None = None

    @property
    def out_of_pocket_counted(self) -> Decimal:
        """What this decision adds to the customer's out-of-pocket total."""
        return self.customer_share if self.out_of_pocket is None else self.out_of_pocket
