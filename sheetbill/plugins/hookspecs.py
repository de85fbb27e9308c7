"""Every hook a sheetbill plugin can implement. These docstrings are the plugin author's reference.

A plugin is any module or object with functions marked ``@sheetbill.plugins.hookimpl``, announced
through the ``sheetbill`` entry-point group::

    [project.entry-points.sheetbill]
    acme = "sheetbill_acme"

A payer plugin first says which values of the Payers sheet's ``Plugin`` column it handles
(:func:`sheetbill_payer_names`). sheetbill then calls its other hooks **only for payers that name
it**, so a payer plugin never has to check whether a call is meant for it. Every hook takes keyword
arguments; an implementation may accept fewer parameters than the spec lists (pluggy passes only
those it names), so new parameters can be added to a spec without breaking existing plugins.

A plugin that raises, or returns something that is not what the spec says (wrong types, shares
that do not add up to the charge, negative amounts), does not stop the run: the charge becomes a
Problem naming the plugin, is held (billed to nobody) and the rest of the run goes on.

Example, a payer that pays half of everything::

    from decimal import Decimal
    from sheetbill.plugins import hookimpl
    from sheetbill.plugins.types import Adjudication

    @hookimpl
    def sheetbill_payer_names():
        return ["half"]

    @hookimpl
    def sheetbill_adjudicate(claim):
        half = (claim.allowed / 2).quantize(Decimal("0.01"))
        return Adjudication(payer_share=half, customer_share=claim.allowed - half,
                            adjustment=claim.charge_amount - claim.allowed, reason="coinsurance")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ..models import Payer, PayerCode, Service
    from .types import Adjudication, BilledCode, Claim

hookspec = pluggy.HookspecMarker("sheetbill")


@hookspec
def sheetbill_payer_names() -> list[str]:
    """The ``Plugin`` names (Payers sheet) this plugin adjudicates.

    :return: a list of names, matched case-insensitively. Two plugins claiming one name stop
        sheetbill at start with a clear message. A plugin that handles no payers returns ``[]``
        or does not implement this hook.
    """


@hookspec
def sheetbill_map_code(payer: Payer, service: Service, payer_code: PayerCode | None) -> BilledCode | None:
    """The code and code system under which ``service`` is billed to ``payer``.

    :param payer: the Payers row.
    :param service: the Services row of the charge.
    :param payer_code: the Payer Codes row for this payer and service, if any.
    :return: a :class:`~sheetbill.plugins.types.BilledCode`, or ``None`` when the payer has no code
        for the service and needs one (the charge becomes a Problem and is held).
    """


@hookspec
def sheetbill_needs_authorization(payer: Payer, service: Service, payer_code: PayerCode | None) -> bool:
    """Whether ``payer`` requires prior authorization for ``service``.

    A charge for such a service without an ``Authorization No`` is held (billed to nobody) and
    Advice asks the clerk to obtain authorization; the next run after the number is entered bills it.

    :return: ``True`` or ``False``.
    """


@hookspec
def sheetbill_adjudicate(claim: Claim) -> Adjudication:
    """Decide who pays what of one charge under one coverage.

    Called in date-of-service order (then Charge ID) for every charge of the year, so the claim's
    :class:`~sheetbill.plugins.types.YearToDate` reflects every earlier charge of the same customer
    and payer. For a secondary coverage, ``claim.allowed`` is the amount the primary allowed and
    ``claim.patient_responsibility`` what is left for the customer; sheetbill pays the smaller of
    the returned payer share and that remainder.

    :param claim: everything known about the charge, the coverage and the running totals.
    :return: an :class:`~sheetbill.plugins.types.Adjudication` whose ``payer_share +
        customer_share + adjustment`` equals ``claim.charge_amount``, all amounts non-negative and
        rounded to the currency's minor unit.
    """


@hookspec
def sheetbill_invoice_fields(payer: Payer, customer_id: str, member_id: str | None) -> dict[str, str]:
    """Extra fields this payer wants on its invoices (e.g. a provider number or claim form type).

    :return: a mapping of label to text, shown on the payer's invoice documents. Empty by default.
    """
