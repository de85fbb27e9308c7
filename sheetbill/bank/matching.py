"""Match incoming bank credits to open items, rule by rule, each match with the rule that made it.

Pure functions over typed records: the caller (:mod:`sheetbill.bank_import`) hands over every
invoice as an :class:`OpenItem` (with what is still open on it and on its installments) and every
customer as a :class:`Payer` (name and known IBANs); :class:`Matcher` indexes them once and
:meth:`Matcher.match` decides each credit. The rules, in order:

1. **reference** -- a valid ISO 11649 RF creditor reference (the structured reference field, or an
   ``RF..`` written into the purpose) whose base is an invoice number (:func:`invoice_rf`). A
   reference that fails its check digits is a typo and matches nothing; it is also taken out of the
   purpose text, so rule 2 cannot read a wrong number out of it.
2. **invoice number** -- an invoice number in the purpose text. Tolerated: spaces and hyphens
   (``INV 000123``, ``INV-000-123``), letter case, a missing prefix when the number keeps its full
   width (``000123``), missing leading zeros when the prefix is there (``INV123``). A number written
   with neither prefix nor full width (``123``) is only taken when the credit is exactly that
   invoice's open amount (or an open installment's). Numbers are compared exactly: ``000124`` is
   never ``000123``.
3. **amount** -- no invoice named, but the payer is one customer, known by IBAN (Customers IBAN, or
   learned from earlier matched payments) or else by exactly the customer's name, and exactly one
   of that customer's open items or installments is of the credit's amount.
4. **several invoices** -- the purpose names two or more invoices: the amount is split over them in
   the ledger's order (oldest due date first), each up to what is open on it; anything left over is
   credit of the customer (when all named invoices are one customer's) or goes to the last one.

Everything else is left for review, with a reason and suggestions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from .entries import BankEntry
from .references import electronic_iban, invoice_key, invoice_keys, invoice_rf, is_valid_rf, key_numbers, normalize

__all__ = ["Allocation", "Asked", "Match", "Matcher", "OpenItem", "Payer", "invoice_key", "invoice_rf", "name_key"]

ZERO = Decimal("0")

REFERENCE, INVOICE_NUMBER, AMOUNT, SEVERAL, REVIEW = "reference", "invoice number", "amount", "several invoices", \
    "review"
#: The rules in the order they are tried (the summary counts matches by these names).
RULES = (REFERENCE, INVOICE_NUMBER, AMOUNT, SEVERAL)

_RF_IN_TEXT = re.compile(r"(?<![A-Z0-9])RF[0-9]{2}(?:[A-Z0-9]{1,21}|(?: ?[A-Z0-9]{4}){1,5}(?: ?[A-Z0-9]{1,4})?)"
                         r"(?![A-Z0-9])")
_NUMBER_IN_TEXT = re.compile(r"(?<![A-Z0-9])(?:(?P<prefix>[A-Z]+)[\s\-/.:#]*)?(?P<digits>[0-9]+(?:[\s\-][0-9]+)*)"
                             r"(?![0-9])")
_NAME_NOISE = re.compile(r"[^\w]+")


def name_key(name: str | None) -> str:
    """A name compared loosely: case, punctuation and spacing ignored (``Weber, Anna`` = ``weber anna``)."""
    text = (name or "").casefold()
    if text.replace(" ", "").isalnum():  # letters, digits and spaces only (most names): no regex
        return " ".join(text.split())
    return " ".join(_NAME_NOISE.sub(" ", text).split())


@dataclass(eq=False, slots=True)
class OpenItem:
    """An invoice as matching sees it.

    Attributes:
        invoice_no: the invoice number.
        customer_id: whose invoice it is.
        due_date: its due date (the ledger's order for splitting).
        open: what is open on it now (principal, fees, interest).
        installments: (installment number, open amount) of each open plan installment.
    """

    invoice_no: str
    customer_id: str
    due_date: dt.date
    open: Decimal
    installments: tuple[tuple[int, Decimal], ...] = ()


@dataclass(frozen=True)
class Payer:
    """A customer as a possible payer: ID, name and the IBANs known to be theirs."""

    customer_id: str
    name: str
    ibans: tuple[str, ...] = ()


def payer_iban(entry: BankEntry) -> str:
    """The payer's IBAN of ``entry`` as the payers' index is keyed (:func:`electronic_iban`), or ``""``."""
    return electronic_iban(entry.counterparty_iban or "")


@dataclass(frozen=True)
class Asked:
    """What the credits about to be matched can ask of a :class:`Matcher`'s indexes: their payers'
    IBANs (:func:`payer_iban`) and names (:func:`name_key`), their amounts, and the invoice numbers
    their references and purpose texts can name.

    Rule 3 looks a payer up by the credit's IBAN or name and the open items by the credit's amount;
    rules 1, 2 and 4 look invoices up by the number at the end of their key (:func:`key_numbers`),
    read out of an RF reference or the purpose text; and nothing else: an index built for these keys
    alone answers every credit as the full index would. An import of 10,000 credits against 100,000
    customers and invoices so indexes a few thousand of them.

    Attributes:
        numbers: the numbers, as integers (``INV-000123`` is named by 123), or None for any.
    """

    ibans: frozenset[str]
    names: frozenset[str]
    amounts: frozenset[Decimal]
    numbers: frozenset[int] | None = None

    @classmethod
    def by(cls, entries: Iterable[BankEntry]) -> Asked:
        """What ``entries`` can ask."""
        entries = list(entries)
        # Every credit's text at once, each after a NUL: no reference or number reads across it, so the
        # patterns find in the whole what they find in each text (as match() reads it) and nothing else.
        texts = "".join(["\0" + _purpose_text(entry) for entry in entries])
        references = [m.group(0) for m in _RF_IN_TEXT.finditer(texts)]
        references += filter(None, map(_structured_rf, entries))
        numbers = {int(end) for end in key_numbers([normalize(reference)[4:] for reference in references]) if end}
        for _, digits in _NUMBER_IN_TEXT.findall(_RF_IN_TEXT.sub(" ", texts)):
            numbers.update(map(int, _readings(digits)))
        return cls(frozenset(map(payer_iban, entries)) - {""},
                   frozenset(name_key(entry.counterparty_name) for entry in entries) - {""},
                   frozenset(entry.amount for entry in entries), frozenset(numbers))


def _purpose_text(entry: BankEntry) -> str:
    """The purpose and the structured reference of ``entry``, upper case: the text rules 1 and 2 read."""
    return " ".join(filter(None, (entry.purpose, entry.structured_reference))).upper()


def _rf_candidates(entry: BankEntry, text: str) -> list[str]:
    """What may be an RF reference in ``entry``: ``RF..`` in its ``text``, and its structured reference."""
    candidates = [m.group(0) for m in _RF_IN_TEXT.finditer(text)]
    structured = _structured_rf(entry)
    if structured:
        candidates.append(structured)
    return candidates


def _structured_rf(entry: BankEntry) -> str | None:
    """The structured reference of ``entry`` without spaces, when it starts as an RF reference does."""
    value = normalize(entry.structured_reference or "")
    return value if value.startswith("RF") else None


def _readings(digits: str) -> list[str]:
    """The numbers a run of digit groups (``000 123-4``) can be read as: its first group, the first two
    joined, ... (``000``, ``000123``, ``0001234``)."""
    if digits.isdigit():  # one group (most numbers)
        return [digits]
    groups = re.split(r"[\s\-]", digits)
    return ["".join(groups[:end]) for end in range(1, len(groups) + 1)]


@dataclass(frozen=True)
class Allocation:
    """Part of a credit posted to an invoice, or (``invoice_no`` None) as credit of a customer."""

    invoice_no: str | None
    customer_id: str | None
    amount: Decimal


@dataclass(frozen=True)
class Match:
    """What :meth:`Matcher.match` decided for one credit.

    Attributes:
        entry: the bank entry.
        rule: one of :data:`RULES`, or ``""`` when the credit is left for review.
        allocations: where the money goes (empty when left for review).
        reason: why it is left for review.
        suggestions: invoice numbers or customers it might be.
    """

    entry: BankEntry
    rule: str
    allocations: tuple[Allocation, ...] = ()
    reason: str = ""
    suggestions: tuple[str, ...] = field(default_factory=tuple)

    @property
    def matched(self) -> bool:
        """True when the credit was matched."""
        return bool(self.rule)


class Matcher:
    """The open items and payers, indexed once; :meth:`match` decides one credit at a time.

    Amounts matched are taken off the items as credits are decided, so two credits in one import
    cannot both be "the amount of the one open item".

    With ``settle``, the items come unsettled: ``open`` is the invoice's issued amount and
    ``due_date`` its own, until ``settle(items)`` fills in what is open on them (the bank import
    books only the accounts its credits point to, :class:`sheetbill.open_items.OpenItems`). The
    matcher settles every item before it looks at what is open on it. Suggestions for a credit
    nobody can be told from are then the open invoices *issued* for its amount, not every invoice
    whose open rest happens to be that amount.

    With ``asked`` (:class:`Asked`), only the credits it was made of may be matched: the open items
    are indexed by amount only for the amounts asked, and by key and number only for the numbers
    asked (every invoice prefix is still known, so that ``ABC 123`` never names ``INV-000123``). A
    customer's open items are indexed only for the customers among ``payers`` (rule 3 reaches a
    customer through them and no other way), so the caller passes only the payers whose IBAN or name
    is asked, too.
    """

    def __init__(self, items: Iterable[OpenItem] | dict[str, OpenItem], payers: list[Payer],
                 settle: Callable[[Iterable[OpenItem]], None] | None = None, asked: Asked | None = None):
        """``items``: the open items, or a dictionary of them by invoice number (kept as it is: the
        import's :attr:`sheetbill.open_items.OpenItems.items`); one item per invoice number."""
        self._settle = settle
        self.items = items if isinstance(items, dict) else {item.invoice_no: item for item in items}
        self.by_key: dict[str, OpenItem] = {}
        self.by_number: dict[int, list[tuple[str, int, OpenItem]]] = defaultdict(list)
        self.by_customer: dict[str, list[OpenItem]] = defaultdict(list)
        self.by_amount: dict[Decimal, list[str]] = defaultdict(list)
        self.prefixes: set[str] = set()
        self.by_iban: dict[str, set[str]] = defaultdict(set)
        self.by_name: dict[str, set[str]] = defaultdict(set)
        for payer in payers:
            for iban in payer.ibans:
                if iban:
                    self.by_iban[electronic_iban(iban)].add(payer.customer_id)
            name = name_key(payer.name)
            if name:
                self.by_name[name].add(payer.customer_id)
        values = list(self.items.values())
        self._index_numbers(list(self.items), values, asked.numbers if asked is not None else None)
        self._index_customers_and_amounts(values, {payer.customer_id for payer in payers},
                                          asked.amounts if asked is not None else None)

    def _index_numbers(self, numbers: list[str], items: list[OpenItem], asked: frozenset[int] | None) -> None:
        """``by_key`` and ``by_number`` of the items (``numbers``: their invoice numbers) whose number is
        one of those ``asked`` (None: every item), and of every item whose key ends in a letter;
        ``prefixes`` of every item."""
        keys = invoice_keys(numbers)
        ends = key_numbers(keys)  # the key is letters and digits: its number is the digits at its end
        self.prefixes = {key[:len(key) - len(end)] for key, end in zip(keys, ends, strict=True) if end} - {""}
        indexed = range(len(items)) if asked is None else \
            [i for i, end in enumerate(ends) if not end or int(end) in asked]
        by_key, by_number = self.by_key, self.by_number
        for i in indexed:
            item, key, end = items[i], keys[i], ends[i]
            if key not in by_key:
                by_key[key] = item
            if end:
                by_number[int(end)].append((key[:len(key) - len(end)], len(end), item))

    def _index_customers_and_amounts(self, items: list[OpenItem], reachable: set[str],
                                     amounts: frozenset[Decimal] | None) -> None:
        """``by_customer`` of the ``reachable`` customers, ``by_amount`` of the ``amounts`` (None: all)."""
        by_customer, by_amount = self.by_customer, self.by_amount
        for item in items:  # the import indexes 100,000s of them, in one pass: the usual item (no plan) first
            if item.customer_id in reachable:
                by_customer[item.customer_id].append(item)
            if not item.installments:
                if item.open > 0 and (amounts is None or item.open in amounts):
                    by_amount[item.open].append(item.invoice_no)
                continue
            for amount in {item.open, *(open_ for _, open_ in item.installments)}:
                if amount > 0 and (amounts is None or amount in amounts):
                    by_amount[amount].append(item.invoice_no)

    # --- the rules ---------------------------------------------------------------------------------

    def match(self, entry: BankEntry) -> Match:
        """Decide one credit (see the module docstring for the rules)."""
        text = _purpose_text(entry)
        by_reference, bad_references, text = self._references(entry, text)
        numbered, ambiguous = self._numbers(text, entry.amount)
        named = list(dict.fromkeys([*by_reference, *numbered]))
        self.settle(named)
        if ambiguous and not named:
            return self._review(entry, "the purpose names an invoice number that fits several invoices",
                                tuple(item.invoice_no for item in ambiguous))
        if len(named) == 1:
            rule = REFERENCE if by_reference else INVOICE_NUMBER
            return self._post(entry, rule, [Allocation(named[0].invoice_no, named[0].customer_id, entry.amount)])
        if len(named) > 1:
            return self._post(entry, SEVERAL, self._split(named, entry.amount))
        return self._by_amount(entry, bad_references)

    def _references(self, entry: BankEntry, text: str) -> tuple[list[OpenItem], list[str], str]:
        """Rule 1: the invoices named by valid RF references; the invalid ones; the text without them."""
        found: list[OpenItem] = []
        bad: list[str] = []
        for candidate in _rf_candidates(entry, text):
            value = normalize(candidate)
            if not is_valid_rf(value):
                bad.append(value)
                continue
            item = self.by_key.get(value[4:])
            if item is not None:
                found.append(item)
            else:
                bad.append(value)
        return found, bad, _RF_IN_TEXT.sub(" ", text)

    def _numbers(self, text: str, amount: Decimal) -> tuple[list[OpenItem], list[OpenItem]]:
        """Rule 2: the invoices whose numbers the text names, and candidates it cannot tell apart."""
        found: list[OpenItem] = []
        ambiguous: list[OpenItem] = []
        for hit in _NUMBER_IN_TEXT.finditer(text):
            prefix = hit["prefix"] if hit["prefix"] in self.prefixes else None
            for digits in _readings(hit["digits"]):
                candidates = self._numbered(prefix, digits, amount)
                if len(candidates) == 1:
                    found.append(candidates[0])
                elif len(candidates) > 1:
                    ambiguous.extend(candidates)
        return found, ambiguous

    def _numbered(self, prefix: str | None, digits: str, amount: Decimal) -> list[OpenItem]:
        """The invoices ``digits`` (after ``prefix``, if it is an invoice prefix) can name."""
        result = []
        numbered = self.by_number.get(int(digits), ())
        if prefix is None:
            self.settle(item for _, _, item in numbered)
        for item_prefix, width, item in numbered:
            if prefix is not None:
                if item_prefix == prefix:
                    result.append(item)
            elif len(digits) >= width or self._amount_fits(item, amount):
                result.append(item)
        return list(dict.fromkeys(result))

    @staticmethod
    def _amount_fits(item: OpenItem, amount: Decimal) -> bool:
        return amount == item.open or any(amount == open_ for _, open_ in item.installments)

    def _by_amount(self, entry: BankEntry, bad_references: list[str]) -> Match:
        """Rule 3: one customer (by IBAN, else by name) with exactly one open item of this amount."""
        customers = self.by_iban.get(payer_iban(entry), set())
        how = "IBAN"
        if not customers:
            customers = self.by_name.get(name_key(entry.counterparty_name), set())
            how = "name"
        note = f"the reference {bad_references[0]} is not one of ours (a typo?); " if bad_references else ""
        if len(customers) != 1:
            if len(customers) > 1:
                return self._review(entry, f"{note}the payer's {how} belongs to several customers",
                                    tuple(sorted(customers)))
            return self._review(entry, f"{note}no invoice number, reference or known payer",
                                self._same_amount(entry.amount))
        customer = next(iter(customers))
        self.settle(self.by_customer.get(customer, ()))
        open_items = [item for item in self.by_customer.get(customer, ()) if item.open > 0]
        fits = [item for item in open_items if self._amount_fits(item, entry.amount)]
        if len(fits) == 1:
            return self._post(entry, AMOUNT, [Allocation(fits[0].invoice_no, customer, entry.amount)])
        why = "several open items of" if fits else "no open item of"
        suggestions = tuple(f"{i.invoice_no} ({i.open})" for i in (fits or open_items)[:5]) or (customer,)
        return self._review(entry, f"{note}customer {customer} (by {how}) has {why} this amount",
                            (f"customer {customer}", *suggestions))

    def _same_amount(self, amount: Decimal, most: int = 5) -> tuple[str, ...]:
        """Up to ``most`` invoices open for exactly ``amount`` (or an installment of it), as suggestions."""
        numbers = self.by_amount.get(amount, [])
        if self._settle is None:
            return tuple(numbers[:most])
        found: list[str] = []
        for start in range(0, len(numbers), most):
            batch = [self.items[no] for no in numbers[start:start + most]]
            self.settle(batch)
            found += [item.invoice_no for item in batch if self._amount_fits(item, amount)]
            if len(found) >= most:
                break
        return tuple(found[:most])

    def settle(self, items: Iterable[OpenItem]) -> None:
        """Make sure what is open on ``items`` is known (see the class docstring)."""
        if self._settle is not None:
            self._settle(items)

    # --- results ------------------------------------------------------------------------------------

    def _split(self, items: list[OpenItem], amount: Decimal) -> list[Allocation]:
        """Rule 4: ``amount`` over ``items`` oldest due first, each up to its open amount; the rest as
        credit of their one customer, or on the last item when they are several customers'."""
        ordered = sorted(items, key=lambda item: (item.due_date, item.invoice_no))
        left = amount
        allocations: list[Allocation] = []
        for item in ordered:
            part = min(left, max(item.open, ZERO))
            if part > 0:
                allocations.append(Allocation(item.invoice_no, item.customer_id, part))
                left -= part
        if left > 0:
            customers = {item.customer_id for item in ordered}
            if len(customers) == 1:
                allocations.append(Allocation(None, ordered[0].customer_id, left))
            else:
                last = ordered[-1]
                allocations = [a for a in allocations if a.invoice_no != last.invoice_no]
                taken = sum((a.amount for a in allocations), ZERO)
                allocations.append(Allocation(last.invoice_no, last.customer_id, amount - taken))
        return allocations

    def _post(self, entry: BankEntry, rule: str, allocations: list[Allocation]) -> Match:
        for allocation in allocations:
            item = self.items.get(allocation.invoice_no or "")
            if item is not None:
                self._take(item, allocation.amount)
        return Match(entry, rule, tuple(allocations))

    @staticmethod
    def _take(item: OpenItem, amount: Decimal) -> None:
        """Take ``amount`` off ``item`` and its installments in due order (as the ledger allocates)."""
        item.open -= amount
        left, installments = amount, []
        for number, open_ in item.installments:
            part = min(left, open_)
            left -= part
            if open_ - part > 0:
                installments.append((number, open_ - part))
        item.installments = tuple(installments)

    @staticmethod
    def _review(entry: BankEntry, reason: str, suggestions: tuple[str, ...] = ()) -> Match:
        return Match(entry, "", (), reason, suggestions)

    def post_answer(self, entry: BankEntry, invoice_no: str | None, customer_id: str | None) -> Match:
        """The clerk's answer in Bank Review, posted: to the invoice (its customer's), or as credit of the
        customer; amounts taken off as for a match."""
        item = self.items.get(invoice_no or "")
        if item is not None:
            self.settle([item])
        customer = item.customer_id if item is not None else customer_id
        return self._post(entry, REVIEW, [Allocation(invoice_no or None, customer, entry.amount)])
