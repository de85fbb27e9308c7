"""Every hook a sheetbill plugin can implement. These docstrings are the plugin author's reference.

A plugin is any module or object with functions marked ``@sheetbill.plugins.hookimpl``, announced
through the ``sheetbill`` entry-point group::

    [project.entry-points.sheetbill]
    acme = "sheetbill_acme"

A payer plugin first says which values of the Payers sheet's ``Plugin`` column it handles
(:func:`sheetbill_payer_names`). sheetbill then calls its other hooks **only for payers that name
it**, and only on that plugin, so a payer plugin never has to check whether a call is meant for it
and no hook needs ``firstresult``. Every hook takes keyword arguments; an implementation may
accept fewer parameters than the spec lists (sheetbill passes only those it names), so new
parameters can be added to a spec without breaking existing plugins.

A plugin that raises, or returns something that is not what the spec says (wrong types, shares
that do not add up to the charge, negative amounts), does not stop the run: the charge becomes a
Problem naming the plugin, is held (billed to nobody) and the rest of the run goes on. A plugin
that refuses a charge for a reason the clerk can fix raises
:class:`~sheetbill.plugins.types.ClaimRefused` with the message and the Charges column to fix.

Hooks are added over time without breaking plugins written for earlier specs: a plugin that does
not implement a newer hook gets sheetbill's default for it (``sheetbill_charge_amount``: price x
quantity). A payer's secondary method (Payers ``Secondary Method``) and balance billing are applied
by sheetbill around the plugin's answers, so every plugin gets them without implementing anything.

Example, a payer that pays half of everything (half of the primary's allowed amount when it is
a secondary payer)::

    from sheetbill.money import quantize
    from sheetbill.plugins import hookimpl
    from sheetbill.plugins.types import Adjudication

    @hookimpl
    def sheetbill_payer_names():
        return ["half"]

    @hookimpl
    def sheetbill_adjudicate(claim):
        base = claim.allowed if claim.is_secondary else claim.charge_amount
        half = quantize(base / 2, claim.currency)
        return Adjudication(payer_share=half, customer_share=base - half,
                            adjustment=claim.charge_amount - base, reason="coinsurance")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from decimal import Decimal

    from ..models import Charge, Payer, PayerCode, Service, Settings
    from .types import Adjudication, BilledCode, Claim

hookspec = pluggy.HookspecMarker("sheetbill")


@hookspec
def sheetbill_payer_names() -> list[str]:
    """The ``Plugin`` names (Payers sheet) this plugin adjudicates.

    Called once when a run starts. A payer whose ``Plugin`` cell is blank is handled by the
    plugin that answers ``"standard"`` (the built-in table-driven payer).

    :return: a list of names, matched case-insensitively. Two plugins claiming one name stop
        sheetbill at start with a clear message (a ``ConfigurationError``). A plugin that handles
        no payers returns ``[]`` or does not implement this hook.

    Example::

        @hookimpl
        def sheetbill_payer_names():
            return ["capitation"]
    """


@hookspec
def sheetbill_map_code(payer: Payer, service: Service, payer_code: PayerCode | None) -> BilledCode | None:
    """The code and code system under which ``service`` is billed to ``payer``.

    The code is shown as the ``Billed Code`` on the payer's invoice lines. A plugin that does not
    implement this hook gets the standard rule: the Payer Codes ``Payer Code``, else the service
    code, unless the payer's ``Code System`` is one of its own (then the mapping is missing).

    :param payer: the Payers row.
    :param service: the Services row of the charge.
    :param payer_code: the Payer Codes row for this payer and service, if any.
    :return: a :class:`~sheetbill.plugins.types.BilledCode`, or ``None`` when the payer has no code
        for the service and needs one (the charge becomes a Problem and is held).

    Example::

        @hookimpl
        def sheetbill_map_code(service, payer_code):
            code = payer_code.payer_code if payer_code and payer_code.payer_code else service.service_code
            return BilledCode(code, "CPT")
    """


@hookspec
def sheetbill_needs_authorization(payer: Payer, service: Service, payer_code: PayerCode | None) -> bool:
    """Whether ``payer`` requires prior authorization for ``service``.

    A charge for such a service without an ``Authorization No`` is held (billed to nobody) and
    Advice asks the clerk to obtain authorization; the next run after the number is entered bills it.
    For charges dated after the as-of date, Advice says to ask before the next such service. A
    plugin that does not implement this hook never requires authorization.

    :param payer: the Payers row.
    :param service: the Services row of the charge.
    :param payer_code: the Payer Codes row for this payer and service, if any.
    :return: ``True`` or ``False`` (anything else is a plugin error on the charge).

    Example::

        @hookimpl
        def sheetbill_needs_authorization(service):
            return service.price >= 1000
    """


@hookspec
def sheetbill_charge_amount(charge: Charge, service: Service, payer: Payer, payer_code: PayerCode | None,
                            settings: Settings) -> Decimal | None:
    """The amount charged for ``charge`` under the payer's own fee schedule, instead of price x quantity.

    Asked of the plugin of the charge's primary payer (the first coverage active on the date of
    service) only, before any payer adjudicates; the answer is the ``Charge Amount`` of every share of
    the charge and ``claim.charge_amount`` for every payer. A plugin that does not implement this hook,
    or answers ``None``, leaves the charge at its price x quantity. To refuse the charge with a
    Problem on its Charges row, raise :class:`~sheetbill.plugins.types.ClaimRefused`.

    :param charge: the Charges row (``charge.factor`` and ``charge.justification`` for fee schedules
        with multipliers).
    :param service: the Services row of the charge.
    :param payer: the Payers row of the primary payer.
    :param payer_code: the Payer Codes row for this payer and service, if any.
    :param settings: the workbook's settings (``settings.extra`` holds settings sheetbill does not know).
    :return: a non-negative ``Decimal`` rounded to the currency's minor unit, or ``None``.

    Example, the German GOÄ (points x point value x factor; see ``sheetbill.payers.goae``)::

        @hookimpl
        def sheetbill_charge_amount(charge, payer_code, settings):
            fee = quantize(POINTS[payer_code.payer_code] * POINT_VALUE * (charge.factor or 2.3),
                           settings.currency)
            return fee * charge.quantity
    """


@hookspec
def sheetbill_adjudicate(claim: Claim) -> Adjudication:
    """Decide who pays what of one charge under one coverage.

    Called in date-of-service order (then Charge ID) for every charge of the year, so the claim's
    :class:`~sheetbill.plugins.types.YearToDate` reflects every earlier charge of the same customer
    and coverage. For a secondary coverage, ``claim.allowed`` is the amount the primary allowed and
    ``claim.patient_responsibility`` what is left for the customer: answer what the payer would pay
    as primary on that allowed amount; sheetbill pays the smaller of that and the remainder.

    The answer is checked: a plugin that raises or answers nonsense holds the charge with a
    Problem naming the plugin, and the run goes on.

    :param claim: everything known about the charge, the coverage and the running totals.
    :return: an :class:`~sheetbill.plugins.types.Adjudication` whose ``payer_share +
        customer_share + adjustment`` equals ``claim.charge_amount``, all amounts non-negative
        ``Decimal`` values rounded to the currency's minor unit (:func:`sheetbill.money.quantize`),
        with a ``reason`` for the customer's share (shown on the invoice lines).

    Example, a payer that pays 70 % of the charge::

        @hookimpl
        def sheetbill_adjudicate(claim):
            pays = quantize(claim.charge_amount * Decimal("0.7"), claim.currency)
            return Adjudication(pays, claim.charge_amount - pays, reason="coinsurance")
    """


@hookspec
def sheetbill_invoice_fields(payer: Payer, customer_id: str, member_id: str | None) -> dict[str, str]:
    """Extra fields this payer wants on its invoices (e.g. a provider number or claim form type).

    :param payer: the Payers row.
    :param customer_id: the customer the invoice is for.
    :param member_id: the customer's Member ID with this payer (Coverage sheet), if any.
    :return: a mapping of label to text, shown on the payer's invoice documents. Empty when the
        plugin does not implement this hook.

    Example::

        @hookimpl
        def sheetbill_invoice_fields(member_id):
            return {"Provider No": "123456", "Member No": member_id or ""}
    """
