"""Test helpers for payer plugin authors (and sheetbill's own tests); also a pytest plugin.

sheetbill announces this module in the ``pytest11`` entry-point group, so in any project where
sheetbill is installed, pytest offers the :func:`sheetbill_plugins` fixture without a
``conftest.py``. Everything else is plain functions you import::

    from sheetbill.testing import assert_valid_adjudication, make_claim, output_rows, run_tables

* :func:`make_claim` builds a :class:`~sheetbill.plugins.types.Claim` with sensible defaults, to call
  your ``sheetbill_adjudicate`` directly;
* :func:`assert_valid_adjudication` checks an answer the way sheetbill does at run time (types,
  signs, rounding, shares adding up);
* :func:`run_tables` runs a whole billing run over tiny tables written as lists, with only the
  built-in payers and the plugins you pass (hermetic: installed plugins are not loaded);
* :func:`output_rows` reads an output sheet of the run back as dictionaries.

pytest imports this module at start-up in every project where sheetbill is installed, so it
imports nothing heavy at module level and has no side effects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Settings
    from .plugins.manager import Plugins
    from .plugins.types import Adjudication, Claim
    from .run import RunResult

try:  # the fixture needs pytest; the helpers do not
    import pytest
except ImportError:  # pragma: no cover - sheetbill.testing used outside pytest
    pytest = None  # type: ignore[assignment]

__all__ = ["assert_valid_adjudication", "make_claim", "make_plugins", "output_rows", "raw_sheet", "run_tables"]


def _decimal(value: object) -> Decimal:
    from .money import D

    return D(value)


def _optional_decimal(value: object) -> Decimal | None:
    return None if value is None else _decimal(value)


def _date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def make_claim(
    price: object = "100.00",
    *,
    quantity: object = 1,
    date: dt.date | str = "2026-01-15",
    service_code: str = "S1",
    description: str = "Service",
    charge_id: str = "C1",
    authorization_no: str | None = None,
    plugin: str | None = None,
    payer_id: str = "P1",
    payer_name: str = "Test Payer",
    code_system: str | None = None,
    payer_code: str | None = None,
    allowed_amount: object = None,
    copay: object = None,
    covered: bool | None = None,
    prior_authorization: bool | None = None,
    member_id: str | None = "M1",
    priority: int = 1,
    covered_percent: object = None,
    coverage_copay: object = None,
    annual_deductible: object = None,
    out_of_pocket_max: object = None,
    annual_budget: object = None,
    deductible_used: object = 0,
    out_of_pocket_used: object = 0,
    payer_paid: object = 0,
    allowed: object = None,
    patient_responsibility: object = None,
    copay_then_coinsurance: bool | None = None,
    copay_counts_to_deductible: bool | None = None,
    points: object = None,
    factor: object = None,
    justification: str | None = None,
    fee_agreement: bool | None = None,
    secondary_method: str | None = None,
    balance_billing: bool | None = None,
    currency: str = "EUR",
    settings: Settings | Mapping[str, object] | None = None,
) -> Claim:
    """A claim for one charge of customer ``K1`` under one coverage, with sensible defaults.

    Amounts may be given as ``str``, ``int`` or ``Decimal`` (never ``float`` in tests: write
    ``"12.50"``). The charge amount is ``price x quantity`` rounded like sheetbill rounds it.

    :param plugin: the payer's ``Plugin`` cell (``None``: the standard payer).
    :param payer_code, allowed_amount, copay, covered, prior_authorization: the Payer Codes row;
        it exists only when one of these is given.
    :param covered_percent, coverage_copay, annual_deductible, out_of_pocket_max, annual_budget:
        the Coverage row's terms.
    :param deductible_used, out_of_pocket_used, payer_paid: the year-to-date totals before the charge.
    :param allowed, patient_responsibility: set both to present the claim to a secondary payer
        (the primary's allowed amount and the customer share it left).
    :param copay_then_coinsurance, copay_counts_to_deductible: the Coverage row's copay rules.
    :param points: the Payer Codes ``Points`` (GOÄ).
    :param factor, justification, fee_agreement: the Charges row's GOÄ columns.
    :param secondary_method, balance_billing: the Payers row's columns.
    :param settings: a :class:`~sheetbill.models.Settings`, or extra settings by name
        (``{"Employer Budget": "500"}``), which plugins find in ``claim.settings.extra``.
    """
    from .cells import normalize
    from .models import Charge, Coverage, Customer, Payer, PayerCode, Service, Settings
    from .money import quantize
    from .plugins.types import Claim, YearToDate

    day = _date(date)
    unit_price = _decimal(price)
    qty = _decimal(quantity)
    if not isinstance(settings, Settings):
        extra = {normalize(k): v for k, v in (settings or {}).items()}
        settings = Settings(currency=currency, as_of=day, extra=extra)
    charge = Charge(charge_id, day, "K1", service_code, qty, unit_price, authorization_no, factor=_optional_decimal(
        factor), justification=justification, fee_agreement=fee_agreement, row=2)
    code_given = any(v is not None for v in (payer_code, allowed_amount, copay, covered, prior_authorization, points))
    code_row = PayerCode(payer_id, service_code, payer_code, _optional_decimal(allowed_amount),
                         _optional_decimal(copay), covered, prior_authorization, _optional_decimal(points),
                         row=2) if code_given else None
    coverage = Coverage("K1", payer_id, member_id, priority, None, None, _optional_decimal(covered_percent),
                        _optional_decimal(coverage_copay), _optional_decimal(annual_deductible),
                        _optional_decimal(out_of_pocket_max), _optional_decimal(annual_budget),
                        copay_then_coinsurance, copay_counts_to_deductible, row=2)
    return Claim(
        charge=charge,
        customer=Customer("K1", "Test Customer", row=2),
        service=Service(service_code, description, unit_price, row=2),
        payer=Payer(payer_id, payer_name, plugin=plugin, code_system=code_system,
                    secondary_method=secondary_method, balance_billing=balance_billing, row=2),
        coverage=coverage,
        payer_code=code_row,
        charge_amount=quantize(unit_price * qty, settings.currency),
        allowed=_optional_decimal(allowed),
        patient_responsibility=_optional_decimal(patient_responsibility),
        year_to_date=YearToDate(_decimal(deductible_used), _decimal(out_of_pocket_used), _decimal(payer_paid)),
        currency=settings.currency,
        settings=settings,
    )


def assert_valid_adjudication(claim: Claim, adjudication: object) -> Adjudication:
    """Fail unless ``adjudication`` is an answer sheetbill accepts for ``claim``; return it.

    The same check runs on every answer during a billing run (see
    :func:`sheetbill.plugins.manager.check_adjudication`): an ``Adjudication`` whose amounts are
    non-negative ``Decimal`` values rounded to the currency's minor unit and whose payer share,
    customer share and adjustment add up to the charge amount.
    """
    from .plugins.manager import check_adjudication

    wrong = check_adjudication(claim, adjudication)
    if wrong is not None:
        raise AssertionError(f"invalid adjudication of charge {claim.charge.charge_id} "
                             f"({claim.charge_amount} {claim.currency}): {wrong}")
    return adjudication  # type: ignore[return-value]


def make_plugins(*extra: object, entry_points: bool = False) -> Plugins:
    """A fresh plugin facade: the built-in payers plus ``extra`` plugins (modules, classes or objects).

    :param entry_points: also load installed plugins (off by default, so tests are hermetic).
    """
    from .plugins.manager import Plugins, get_plugin_manager

    return Plugins(get_plugin_manager(extra, entry_points=entry_points))


TableRows = Sequence[Mapping[str, object]] | Sequence[Sequence[object]] | Mapping[str, object]


def raw_sheet(name: str, table: TableRows) -> Any:
    """A :class:`~sheetbill.sheets.RawSheet` from a list of dicts (keys are headers), a list of
    rows whose first row is the header, or, for Settings, a mapping of setting to value."""
    from .sheets import RawSheet

    if isinstance(table, Mapping):
        rows: list[list[object]] = [["Setting", "Value"], *([k, v] for k, v in table.items())]
    elif table and isinstance(table[0], Mapping):
        headers: list[str] = []
        for record in table:
            headers.extend(h for h in record if h not in headers)  # type: ignore[union-attr]
        rows = [list(headers), *([record.get(h) for h in headers] for record in table)]  # type: ignore[union-attr]
    else:
        rows = [list(row) for row in table]
    return RawSheet(name, rows)


def _sheet_name(keyword: str) -> str:
    """``payer_codes`` -> ``Payer Codes`` (sheet names match ignoring case, spaces and ``_``)."""
    return keyword.replace("_", " ").title()


def run_tables(
    *,
    as_of: dt.date | str = "2026-06-30",
    plugins: Iterable[object] | Plugins = (),
    entry_points: bool = False,
    previous: RunResult | None = None,
    mode: str = "bill",
    **tables: TableRows,
) -> RunResult:
    """Run :func:`sheetbill.run.run_billing` over tables given as lists.

    Each keyword names a sheet (``customers``, ``payers``, ``coverage``, ``services``,
    ``payer_codes``, ``charges``, ``payments``, ``settings``, ...; underscores become spaces)::

        result = run_tables(
            customers=[{"Customer ID": "K1", "Name": "Ann"}],
            services=[{"Service Code": "OV", "Description": "Office visit", "Price": "200.00"}],
            charges=[{"Charge ID": "C1", "Date": "2026-03-02", "Customer ID": "K1", "Service Code": "OV"}],
        )

    :param as_of: the run's date.
    :param plugins: extra plugins to register next to the built-in payers, or a ready
        :class:`~sheetbill.plugins.manager.Plugins` facade.
    :param entry_points: also load installed plugins (off: the run is hermetic).
    :param previous: an earlier run whose history sheets (Invoices, Invoice Lines, ...) this run
        reads back, as a workbook would hold them after the earlier run was saved.
    :param mode: ``"bill"`` (default: bill and track overdue invoices) or ``"overdue"`` (issue nothing).
    """
    from .contract import HISTORY_SHEETS
    from .plugins.manager import Plugins
    from .run import RunMode, run_billing

    sheets = {}
    if previous is not None:
        for output in previous.outputs:
            if output.name in HISTORY_SHEETS:
                sheets[output.name] = raw_sheet(output.name, [output.headers, *output.rows])
    for keyword, table in tables.items():
        name = _sheet_name(keyword)
        sheets[name] = raw_sheet(name, table)
    facade = plugins if isinstance(plugins, Plugins) else make_plugins(*plugins, entry_points=entry_points)
    return run_billing(sheets, as_of=_date(as_of), plugins=facade, mode=RunMode(mode))


def output_rows(result: RunResult, sheet: str) -> list[dict[str, object]]:
    """The rows of output sheet ``sheet`` (e.g. ``"Invoice Lines"``) as dictionaries by header."""
    for output in result.outputs:
        if output.name == sheet:
            return [dict(zip(output.headers, row, strict=False)) for row in output.rows]
    raise KeyError(f"the run wrote no sheet {sheet!r}: {[o.name for o in result.outputs]}")


if pytest is not None:

    @pytest.fixture
    def sheetbill_plugins() -> Callable[..., Plugins]:
        """A factory for fresh plugin facades: ``sheetbill_plugins(MyPayer())`` gives the built-in
        payers plus ``MyPayer`` (installed plugins only with ``entry_points=True``)."""
        return make_plugins
