"""What a German invoice must show (§ 14 (4) UStG, § 33 UStDV), checked by ``sheetbill check``.

A pure function of the run: it looks at the invoices a run would issue and names each item the law
requires that the workbook cannot fill in. It applies to a German sender only: Settings Company
Country (or Country) DE, or no country and Currency EUR. Nothing here changes what is billed: the
Problems are warnings for the clerk, reported once per item with the invoices it concerns.

§ 14 (4) UStG requires the sender's and the recipient's full name and address, the sender's Tax
Number or VAT ID, the issue date, a unique invoice number, the kind and quantity of the service and
its date, the net amount per tax rate, the rate and the tax (or the reason of an exemption).
sheetbill always fills in the issue date, the number, the description, the quantity and the date of
service. An invoice of at most 250 EUR gross (§ 33 UStDV) needs only the sender's name and address,
the issue date, kind and quantity, the gross amount and the rate (or the exemption note): its
recipient and tax number may be missing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from .book import Book
from .dunning import postal_address
from .models import BillToType, Invoice, InvoiceKind
from .problems import Problem, warning

#: The gross amount up to which § 33 UStDV's small-amount rule applies.
SMALL_AMOUNT = Decimal("250")
_SHOWN = 3


def sender_country(settings: object) -> str | None:
    """The sender's country as Settings say it (Company Country, or a setting named Country), upper case;
    None when neither is filled in (Company Country's default DE is not a statement of the sender)."""
    given = "companycountry" in settings.rows
    value = (getattr(settings, "company_country", None) if given else None) or settings.extra.get("country")
    text = str(value).strip().upper() if value is not None else ""
    return text or None


def is_german_sender(settings: object) -> bool:
    """True for Country DE (or Germany/Deutschland), or no country and Currency EUR."""
    country = sender_country(settings)
    if country is None:
        return settings.currency == "EUR"
    return country in ("DE", "DEU", "GERMANY", "DEUTSCHLAND")


def _which(numbers: Sequence[str]) -> str:
    shown = ", ".join(numbers[:_SHOWN])
    more = f" and {len(numbers) - _SHOWN} more" if len(numbers) > _SHOWN else ""
    return f"{len(numbers)} invoice{'s' if len(numbers) != 1 else ''} ({shown}{more})"


def check_invoice_requirements(book: Book, invoices: Iterable[Invoice]) -> list[Problem]:
    """The § 14 (4) UStG items the new ``invoices`` would lack, for a German sender; each a warning
    naming the item, where to fill it in, and the invoices concerned. Also a warning when such a
    sender's workbook has no tax information at all (``tax-info-missing``)."""
    settings = book.settings
    if not is_german_sender(settings):
        return []
    problems: list[Problem] = []
    if not book.taxed and not settings.tax_number and not settings.vat_id:
        problems.append(warning("no tax information: a German invoice needs the Tax Number or VAT ID and, per "
                                "service, the tax rate and tax or the exemption reason (Tax Rate, Tax Category, "
                                "Tax Exemption on Services, or the Default Tax and Small Business settings; see "
                                "docs/tax.md)", "Settings", None, "", code="tax-info-missing"))
    issued = [inv for inv in invoices if inv.kind == InvoiceKind.INVOICE and inv.amount > 0]
    if not issued:
        return problems
    missing: dict[tuple[str, str, int | None, str], list[str]] = defaultdict(list)
    for invoice in issued:
        small = invoice.amount <= SMALL_AMOUNT and settings.currency == "EUR"
        for item in _missing(book, invoice, small):
            missing[item].append(invoice.invoice_no)
    for (what, sheet, row, column), numbers in missing.items():
        problems.append(warning(f"§ 14 (4) UStG: {_which(numbers)} would lack {what}", sheet, row, column,
                                code="invoice-requirement-missing"))
    return problems


def _missing(book: Book, invoice: Invoice, small: bool) -> list[tuple[str, str, int | None, str]]:
    """The items one invoice lacks, as (what, sheet, row, column)."""
    settings, rows = book.settings, book.settings.rows
    found: list[tuple[str, str, int | None, str]] = []
    if not settings.company_name:
        found.append(("the sender's full name: fill in Company Name", "Settings", rows.get("companyname"), "Value"))
    if not settings.company_address:
        found.append(("the sender's address: fill in Company Address", "Settings", rows.get("companyaddress"),
                      "Value"))
    if invoice.net is None:
        found.append(("the net amount per tax rate, the rate and the tax (or the exemption reason): give the "
                      "services a Tax Rate or Tax Category (or set the Default Tax settings)", "Services", None,
                      "Tax Rate"))
    if small:
        return found
    if not settings.tax_number and not settings.vat_id:
        found.append(("the sender's Tax Number or VAT ID: fill in Tax Number or VAT ID", "Settings",
                      rows.get("taxnumber") or rows.get("vatid"), "Value"))
    is_payer = invoice.bill_to_type == BillToType.PAYER
    party = (book.payers if is_payer else book.customers).get(invoice.bill_to_id)
    sheet = "Payers" if is_payer else "Customers"
    if party is None or not party.name:
        found.append(("the recipient's full name", sheet, party.row if party else None, "Name"))
    elif postal_address(party.street, party.postal_code, party.city) is None:
        found.append((f"the recipient's full address: fill in Street, Postal Code and City of {party.name}",
                      sheet, party.row, "Street"))
    return found
