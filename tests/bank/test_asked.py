"""The import indexes only what its credits ask (:class:`sheetbill.bank.matching.Asked`): it must decide
every credit as the full index of every customer and open item decides it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal

import pytest

from sheetbill import bank_import
from sheetbill.bank.entries import BankEntry
from sheetbill.bank.matching import Asked, Matcher, OpenItem, Payer, invoice_rf
from sheetbill.bank.references import mod97
from tests.bank.test_import import AS_OF, CHARGES, credit, do_import, run, statement
from tests.helpers import book, rows_of, sheet, with_outputs

NAMES = ("Anna Weber", "Bernd Koch", "Clara Wolf", "weber, anna", "Dieter Hahn", "Eva Roth")


def iban(number: int) -> str:
    bban = f"50010517{number:010d}"
    return f"DE{98 - mod97(bban + 'DE00'):02d}{bban}"


def typed_iban(rng: random.Random, number: int) -> str | None:
    """Customer ``number``'s IBAN as staff type them: none, valid, spaced and lower case, with a typo, or
    one shared with other customers."""
    value = iban(number)
    kind = rng.randrange(6)
    if kind == 0:
        return None
    if kind == 1:
        return " ".join(value[i:i + 4] for i in range(0, len(value), 4)).lower()
    if kind == 2:
        return value[:-2] + value[-1] + value[-2] if value[-1] != value[-2] else value[:-1]
    return iban(0) if kind == 3 else value


def random_workbook(rng: random.Random, customers: int = 30):
    rows = [(f"C{n}", rng.choice((f"Kunde {n}", f"Kunde {n}", rng.choice(NAMES))), typed_iban(rng, n))
            for n in range(1, customers + 1)]
    charges = [(str(n), f"2026-02-{rng.randrange(1, 28):02d}", f"C{rng.randrange(1, customers + 1)}",
                rng.choice("ST"), rng.choice((1, 1, 2)), None) for n in range(1, 2 * customers)]
    sheets = book(
        sheet("Settings", ("Setting", "Value"), ("Invoice Prefix", "INV-"), ("Payment Terms Days", 14)),
        sheet("Customers", ("Customer ID", "Name", "IBAN"), *rows),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Session", 80), ("T", "Test", 25)),
        sheet("Charges", CHARGES, *charges),
        sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount", "Type")),
    )
    outputs = run(sheets).outputs
    return with_outputs(sheets, outputs), rows_of(outputs, "Invoices"), {row[0]: row for row in rows}


def random_credits(rng: random.Random, invoices: list[dict], customers: dict, start: int, count: int):
    """Credits for ``invoices``: from their customer's typed IBAN or name, or someone else's, or nobody's;
    of the invoice's amount or another; naming the invoice (loosely, with another, by RF) or not."""
    result = []
    for n in range(start, start + count):
        invoice = rng.choice(invoices)
        _, name, typed = customers[invoice["Customer ID"]]
        amount = rng.choice((invoice["Amount"], invoice["Amount"], Decimal("25.00"), Decimal("80.00"),
                             Decimal(rng.randrange(1, 300))))
        payer = {"name": rng.choice((name, name.upper(), rng.choice(NAMES), "Someone Else", None)),
                 "iban": rng.choice((typed, typed, iban(rng.randrange(40)), None))}
        purpose = rng.choice((None, "Danke", "Danke", f"Rechnung {invoice['Invoice No']}",
                              f"inv {int(invoice['Invoice No'][4:])}", f"{invoice['Invoice No']} und INV-000002"))
        structured = invoice_rf(invoice["Invoice No"]) if rng.random() < 0.2 else None
        result.append(credit(f"R{n}", str(amount), purpose=purpose, structured=structured, **payer))
    return result


def decided(outcome):
    return (outcome.summary, outcome.outputs,
            [(m.entry.entry_id, m.rule, m.allocations, m.reason, m.suggestions) for m in outcome.matches])


class _AskedNothing:
    """``Asked`` that never narrows: the import then indexes every customer and open item."""

    @staticmethod
    def by(entries):
        return None


@pytest.mark.parametrize("seed", range(6))
def test_the_narrowed_index_decides_every_credit_as_the_full_index(seed, monkeypatch):
    rng = random.Random(seed)
    sheets, invoices, customers = random_workbook(rng)
    first = statement(*random_credits(rng, invoices, customers, 0, 40))
    second = statement(*random_credits(rng, invoices, customers, 40, 40), statement_id="S2")

    narrowed, after = do_import(sheets, first)
    narrowed_again, _ = do_import(after, second)  # learned IBANs and review rows from the first import
    with monkeypatch.context() as patch:
        patch.setattr(bank_import, "Asked", _AskedNothing)
        full, full_after = do_import(sheets, first)
        full_again, _ = do_import(full_after, second)
    assert decided(narrowed) == decided(full) and decided(narrowed_again) == decided(full_again)
    rules = {m.rule for o in (narrowed, narrowed_again) for m in o.matches}
    assert "amount" in rules and "" in rules  # the payers' index was asked, and some credits were left


def test_a_credit_asks_its_payers_iban_and_name_as_the_index_keys_them():
    sheets = book(
        sheet("Settings", ("Setting", "Value"), ("Invoice Prefix", "INV-"), ("Payment Terms Days", 14)),
        sheet("Customers", ("Customer ID", "Name", "IBAN"), ("C1", "Weber, Anna", iban(1).lower()),
              ("C2", "Bernd Koch", None)),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Session", 80), ("T", "Test", 25)),
        sheet("Charges", CHARGES, ("1", "2026-02-01", "C1", "S", 1, None), ("2", "2026-02-02", "C2", "T", 1, None)),
        sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount", "Type")),
    )
    sheets = with_outputs(sheets, run(sheets, AS_OF).outputs)
    spaced = " ".join(iban(1)[i:i + 4] for i in range(0, 22, 4))
    outcome, _ = do_import(sheets, statement(credit("A1", "80.00", iban=spaced, purpose="Danke"),
                                             credit("A2", "25.00", name="  bernd   KOCH ", purpose="Danke")))
    assert [(p["Invoice No"], p["Rule"]) for p in rows_of(outcome.outputs, "Bank Payments")] == \
        [("INV-000001", "amount"), ("INV-000002", "amount")]
    assert dt.date(2026, 3, 5) == rows_of(outcome.outputs, "Bank Payments")[0]["Date"]


# Invoice numbers of several shapes: prefixes that share numbers, no prefix, letters only, digits inside.
SHAPES = ("INV-{:06d}", "ABC-{:06d}", "R-{}", "{:04d}", "A1B-{}", "inv {:03d}", "ZZ")


def random_items(rng: random.Random, count: int = 60) -> list[OpenItem]:
    numbers = rng.sample(range(1, 400), count)
    return [OpenItem(rng.choice(SHAPES).format(number), f"C{rng.randrange(8)}", dt.date(2026, 3, rng.randrange(1, 29)),
                     Decimal(rng.choice((25, 80, 105, rng.randrange(1, 200)))),
                     ((1, Decimal(40)), (2, Decimal(40))) if rng.random() < 0.1 else ())
            for number in numbers]


def random_purpose(rng: random.Random, items: list[OpenItem]) -> tuple[str | None, str | None]:
    """A purpose and a structured reference naming an item loosely, by another prefix, by a near miss, ..."""
    item = rng.choice(items)
    digits = "".join(ch for ch in item.invoice_no if ch.isdigit()) or "7"
    number = int(digits)
    purpose = rng.choice((
        None, "Danke", item.invoice_no, item.invoice_no.lower().replace("-", " "), f"Rechnung {number}",
        f"ABC {digits}", f"INV {digits}", f"XYZ {digits}", f"{number + 1}", f"{digits[:3]} {digits[3:]}",
        f"{item.invoice_no} und {rng.choice(items).invoice_no}", f"{item.invoice_no} 2 Stück",
        f"RF {invoice_rf(item.invoice_no)}",
        f"{invoice_rf(item.invoice_no)[:-1]}9",
    ))
    rf = invoice_rf(item.invoice_no)
    structured = rng.choice((None, None, rf, f"{rf[:7]} {rf[7:]}", invoice_rf(rng.choice(items).invoice_no),
                             "RF00INV000001", "ANY-REF-1"))
    return purpose, structured


@pytest.mark.parametrize("seed", range(20))
def test_the_matcher_narrowed_to_the_numbers_asked_decides_as_the_full_one(seed):
    rng = random.Random(seed)
    items = random_items(rng)
    payers = [Payer(f"C{n}", rng.choice(NAMES), (iban(n),) if n % 2 else ()) for n in range(8)]
    entries = []
    for n in range(40):
        purpose, structured = random_purpose(rng, items)
        entries.append(BankEntry(Decimal(rng.choice((25, 80, 40, 105, rng.randrange(1, 200)))), "EUR",
                                 counterparty_name=rng.choice((None, *NAMES)),
                                 counterparty_iban=rng.choice((None, iban(rng.randrange(10)))),
                                 purpose=purpose, structured_reference=structured, entry_id=f"E{n}"))

    def decisions(asked):
        matcher = Matcher([dataclasses.replace(item) for item in items], payers, asked=asked)
        return [(m.rule, m.allocations, m.reason, m.suggestions) for m in map(matcher.match, entries)]

    asked = Asked.by(entries)
    assert asked.numbers and len(asked.numbers) < 400
    narrowed, full = decisions(asked), decisions(None)
    assert narrowed == full
    assert {"reference", "invoice number", ""} <= {rule for rule, *_ in full}
