"""Value added tax: the one place for sheetbill's tax rules (EN 16931, German UStG).

A workbook is *taxed* when anything on it speaks of tax (a Tax Rate, Tax Category or Tax Exemption
on a service, a Default Tax Rate/Category/Exemption, or Small Business yes). An untaxed workbook
bills exactly as sheetbill always did: its lines carry no Net and no category, its invoices no Net
and no Tax, and nothing is added to any amount.

In a taxed workbook:

* Every service has a :class:`LineTax`: a category (UNCL 5305 code, :class:`TaxCategory`), a rate
  in percent and, for everything but S and Z, an exemption reason printed on the invoice
  (:func:`resolve_service_tax`). Small Business (§ 19 UStG) makes every line category E with the
  § 19 note.
* Prices are net unless Prices Include Tax says yes. A charge's *gross* amount is what payers and the
  customer split (the split stays on gross amounts): with net prices it is net + tax of the charge
  (:func:`gross_of`), with gross prices it is the priced amount.
* Each line carries its own Net, derived once (:func:`share_nets`): a party's gross share
  divided by (1 + rate), rounded half-up, and the last party of a charge gets the rest of the
  charge's net, so the parties' nets add up to the charge's net to the cent.
* An invoice's tax is computed per category and rate from its lines, as EN 16931 has it
  (:func:`invoice_tax_breakdown`): basis = sum of the line nets (BR-CO-13/BR-S-08 ...), tax =
  basis x rate / 100 rounded half-up (BR-CO-17), Net = sum of bases (BT-109), Tax = sum of taxes
  (BT-110). Amount, what the party owes (BT-115), is the sum of the lines' gross amounts; where it
  differs from Net + Tax (BT-112) by a cent, the difference is the rounding amount (BT-114),
  shown, never hidden. With net prices a whole-charge line's gross is set at issue so that the
  invoice foots without one (:func:`allocate_tax`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .money import ZERO, quantize

HUNDRED = Decimal(100)


class TaxCategory(StrEnum):
    """The VAT category of a line (EN 16931 BT-151, UNCL 5305 codes)."""

    STANDARD = "S"
    ZERO_RATED = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"
    OUTSIDE_SCOPE = "O"


#: Categories that charge no tax: their rate is 0 and their lines need an exemption reason.
ZERO_CATEGORIES = frozenset({TaxCategory.EXEMPT, TaxCategory.REVERSE_CHARGE, TaxCategory.INTRA_COMMUNITY,
                             TaxCategory.EXPORT, TaxCategory.OUTSIDE_SCOPE})

#: The exemption reason printed when a line of these categories names none (EN 16931 requires one:
#: BR-AE-10, BR-IC-10, BR-G-10, BR-O-10). Category E has no default: the reason is the law that exempts.
DEFAULT_EXEMPTIONS = {
    TaxCategory.REVERSE_CHARGE: "Reverse charge",
    TaxCategory.INTRA_COMMUNITY: "Intra-community supply",
    TaxCategory.EXPORT: "Export outside the EU",
    TaxCategory.OUTSIDE_SCOPE: "Not subject to VAT",
}

#: The § 19 UStG note of a small business (Kleinunternehmer): the exemption reason of every line.
SMALL_BUSINESS_NOTE = "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet."


@dataclass(frozen=True, slots=True)
class LineTax:
    """The tax a service's lines carry.

    Attributes:
        category: a :class:`TaxCategory` code.
        rate: percent (19 for 19 %); 0 for every category but S.
        exemption: the reason printed for a category without tax (None for S and Z).
    """

    category: str
    rate: Decimal
    exemption: str | None = None


@dataclass(frozen=True, slots=True)
class TaxSubtotal:
    """One row of an invoice's VAT breakdown (EN 16931 BG-23): all its lines of one category and rate.

    Attributes:
        category: a :class:`TaxCategory` code (BT-118).
        rate: percent (BT-119).
        basis: the sum of the lines' nets, the taxable amount (BT-116).
        tax: basis x rate / 100, rounded half-up once (BT-117, BR-CO-17).
        exemption_reason: the reason(s) printed for a category without tax, joined by "; " (BT-120).
    """

    category: str
    rate: Decimal
    basis: Decimal
    tax: Decimal
    exemption_reason: str | None = None


@dataclass(frozen=True, slots=True)
class TaxBreakdown:
    """An invoice's tax (:func:`invoice_tax_breakdown`).

    Attributes:
        subtotals: one per category and rate, S first, then by rate (highest first) and category.
        net: the sum of the line nets (BT-106 = BT-109: sheetbill has no document-level charges).
        tax: the sum of the subtotals' tax (BT-110).
        amount: the sum of the lines' gross amounts: what the party owes (BT-115).
    """

    subtotals: tuple[TaxSubtotal, ...]
    net: Decimal
    tax: Decimal
    amount: Decimal

    @property
    def gross(self) -> Decimal:
        """Net + Tax (BT-112)."""
        return self.net + self.tax

    @property
    def rounding(self) -> Decimal:
        """Amount - (Net + Tax): the rounding amount (BT-114); zero on almost every invoice."""
        return self.amount - self.gross


def tax_of(basis: Decimal, rate: Decimal, currency: str = "EUR") -> Decimal:
    """basis x rate / 100, rounded half-up to the currency's minor unit (BR-CO-17)."""
    return quantize(basis * rate / HUNDRED, currency)


def gross_of(net: Decimal, rate: Decimal, currency: str = "EUR") -> Decimal:
    """A net amount's gross: net + :func:`tax_of` (a charge's gross under net prices)."""
    return net + tax_of(net, rate, currency)


def net_of(gross: Decimal, rate: Decimal, currency: str = "EUR") -> Decimal:
    """A gross amount's net, rounded half-up once: gross x 100 / (100 + rate)."""
    if not rate:
        return gross
    return quantize(gross * HUNDRED / (HUNDRED + rate), currency)


def charge_gross_and_net(listed: Decimal, line_tax: LineTax, prices_include_tax: bool,
                         currency: str = "EUR") -> tuple[Decimal, Decimal]:
    """A charge's gross (what its parties split) and net from its priced amount (price x quantity,
    rounded): with net prices the gross is net + tax; with gross prices the net is derived once."""
    if prices_include_tax:
        return listed, net_of(listed, line_tax.rate, currency)
    return gross_of(listed, line_tax.rate, currency), listed


def share_nets(shares: Sequence[Decimal], charge_net: Decimal, rate: Decimal, currency: str = "EUR") -> list[Decimal]:
    """The net of each party's gross share of one charge, derived once; the last share (the customer's)
    gets the rest of ``charge_net`` so the nets add up to the charge's net to the cent.

    A charge with a single share keeps its whole net.
    """
    if len(shares) <= 1:
        return [charge_net] * len(shares)
    nets = [net_of(share, rate, currency) for share in shares[:-1]]
    return [*nets, charge_net - sum(nets, ZERO)]


def allocate_tax(nets: Sequence[Decimal], rate: Decimal, currency: str = "EUR") -> list[Decimal]:
    """Each line's part of the tax on the sum of ``nets``, so that the parts add up to
    ``tax_of(sum(nets))`` exactly: line ``i`` gets tax(net_1 + ... + net_i) - tax(net_1 + ... + net_{i-1})
    (each within a cent of its own tax)."""
    parts: list[Decimal] = []
    running, before = ZERO, ZERO
    for net in nets:
        running += net
        now = tax_of(running, rate, currency)
        parts.append(now - before)
        before = now
    return parts


def _order(key: tuple[str, Decimal]) -> tuple:
    category, rate = key
    return (category != TaxCategory.STANDARD, -rate, category)


def invoice_tax_breakdown(lines: Iterable[object], currency: str = "EUR") -> TaxBreakdown | None:
    """The VAT breakdown of an invoice or credit note from its lines (each with ``net``,
    ``tax_category``, ``tax_rate``, ``tax_exemption`` and ``amount``, as
    :class:`sheetbill.models.InvoiceLine`); None when no line carries tax (an untaxed invoice).

    Per category and rate: basis = sum of line nets, tax = round half-up(basis x rate / 100).
    Lines without a Net (untaxed history) add to the amount only.
    """
    bases: dict[tuple[str, Decimal], Decimal] = defaultdict(lambda: ZERO)
    reasons: dict[tuple[str, Decimal], list[str]] = defaultdict(list)
    amount = ZERO
    taxed = False
    for line in lines:
        amount += line.amount
        if line.net is None:
            continue
        taxed = True
        key = (str(line.tax_category or TaxCategory.STANDARD), line.tax_rate if line.tax_rate is not None else ZERO)
        bases[key] += line.net
        reason = line.tax_exemption
        if reason and reason not in reasons[key]:
            reasons[key].append(reason)
    if not taxed:
        return None
    subtotals = tuple(TaxSubtotal(category, rate, basis, tax_of(basis, rate, currency),
                                  "; ".join(reasons[(category, rate)]) or None)
                      for (category, rate), basis in sorted(bases.items(), key=lambda kv: _order(kv[0])))
    net = sum((s.basis for s in subtotals), ZERO)
    tax = sum((s.tax for s in subtotals), ZERO)
    return TaxBreakdown(subtotals, net, tax, amount)


# --- what each service's lines carry -------------------------------------------------------------


def workbook_is_taxed(settings: object, services: Iterable[object]) -> bool:
    """True when anything in the workbook speaks of tax: Small Business yes, a Default Tax Rate,
    Category or Exemption, or a Tax Rate, Category or Exemption on any service. An untaxed workbook
    bills exactly as sheetbill did before it knew tax."""
    if settings.small_business or settings.default_tax_rate is not None or settings.default_tax_category \
            or settings.default_tax_exemption:
        return True
    return any(s.tax_rate is not None or s.tax_category or s.tax_exemption for s in services)


def parse_category(text: str | None) -> TaxCategory | None:
    """A Tax Category cell as a :class:`TaxCategory` (``s``, ``S``, ``AE`` ...); None when blank.
    Raises ``ValueError`` for anything else."""
    if text is None or not str(text).strip():
        return None
    return TaxCategory(str(text).strip().upper())


def resolve_service_tax(service: object, settings: object) -> tuple[LineTax | None, list[tuple[str, str, str]]]:
    """The tax of a service's lines, from its own Tax Rate, Category and Exemption, else the Default
    Tax settings; Small Business makes it E with the § 19 UStG note.

    Returns the :class:`LineTax` (None when the service cannot be taxed) and what is wrong, as
    ``(column, message, code)`` for the caller to locate (an error when no LineTax is returned).
    """
    if settings.small_business:
        return LineTax(TaxCategory.EXEMPT, ZERO, SMALL_BUSINESS_NOTE), []
    rate = service.tax_rate if service.tax_rate is not None else settings.default_tax_rate
    own_category = bool(service.tax_category)
    try:
        category = parse_category(service.tax_category) if own_category else parse_category(
            settings.default_tax_category)
        if not own_category and service.tax_rate is not None and category is not None \
                and (category in ZERO_CATEGORIES or category == TaxCategory.ZERO_RATED) == (service.tax_rate > 0):
            category = None  # the service's own rate says which: the default category is for another kind
    except ValueError:
        codes = ", ".join(c.value for c in TaxCategory)
        column = "Tax Category" if own_category else ""
        typed = service.tax_category if own_category else settings.default_tax_category
        return None, [(column, f"Tax Category {typed!r} is not one of {codes}", "bad-tax-category")]
    if category is None:
        if rate is None:
            return None, [("Tax Rate", "no Tax Rate and no Default Tax Rate: the service's tax is unknown",
                           "tax-rate-missing")]
        category = TaxCategory.STANDARD if rate > 0 else TaxCategory.EXEMPT
    if category == TaxCategory.STANDARD:
        if rate is None or rate <= 0:
            return None, [("Tax Rate", "category S needs a Tax Rate above 0", "tax-rate-missing")]
        warnings = [("Tax Exemption", "an exemption reason on a taxed service is not printed",
                     "tax-exemption-ignored")] if service.tax_exemption else []
        return LineTax(TaxCategory.STANDARD, rate, None), warnings
    if rate is not None and rate != 0:
        return None, [("Tax Rate", f"category {category.value} has no tax: its Tax Rate must be 0 or blank",
                       "bad-tax-rate")]
    if category == TaxCategory.ZERO_RATED:
        return LineTax(category, ZERO, None), []
    reason = service.tax_exemption or settings.default_tax_exemption or DEFAULT_EXEMPTIONS.get(category)
    if not reason:
        return None, [("Tax Exemption", "an exempt service (category E) needs the reason printed on the invoice, "
                       "e.g. Steuerfrei nach § 4 Nr. 14 UStG (or a Default Tax Exemption)", "tax-exemption-missing")]
    return LineTax(category, ZERO, reason), []


def check_tax_ids(settings: object) -> list[tuple[str, str, str, str]]:
    """Tax Number and VAT ID as Settings Problems ``(setting key, message, code, severity)``: a VAT ID
    that fails its check digits (python-stdnum) is an error; a Tax Number of no German form a warning."""
    found: list[tuple[str, str, str, str]] = []
    if not settings.vat_id and not settings.tax_number:
        return found  # python-stdnum's VAT module loads every country's: only when there is something to check
    try:
        from stdnum.de import stnr
        from stdnum.eu import vat
    except ImportError:  # pragma: no cover - Pyodide (Excel Lite) installs without python-stdnum
        return found
    if settings.vat_id:
        if not vat.is_valid(settings.vat_id):
            found.append(("vatid", f"VAT ID {settings.vat_id!r} is not a valid VAT identification number "
                          "(country prefix and check digits, e.g. DE136695976)", "bad-vat-id", "error"))
    if settings.tax_number:
        if not stnr.is_valid(settings.tax_number):
            found.append(("taxnumber", f"Tax Number {settings.tax_number!r} has no form of a German tax number "
                          "(e.g. 181/815/08155)", "bad-tax-number", "warning"))
    return found
