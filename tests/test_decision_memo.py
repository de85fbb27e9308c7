"""The adjudication's memo: a run given the previous run's DecisionMemo decides only the customers whose
inputs changed, and decides, issues and writes exactly what a run without it does.

The workbooks are random (seeded): customers with and without coverage, deductibles, out-of-pocket
maximums, secondary payers under each Secondary Method, balance billing, GOÄ and fee-schedule payers,
an employer budget, prior authorization (held and upcoming charges), charges a plugin refuses, a payer
whose plugin is missing and problem rows. Between runs charges are added, edited in the middle and
deleted, Charges columns are reordered, one customer's coverage and a service's price change, the
as-of date moves and a payer plugin's version changes; each run's decisions and full outputs with the
memo are compared with a run without it. Calls are counted through a real payer plugin.
"""

from __future__ import annotations

import datetime as dt
import pickle
import random
from dataclasses import replace
from decimal import Decimal

import pytest

from sheetbill import decisions as decisions_module
from sheetbill.adjudication import adjudicate_all
from sheetbill.billing import active_lines, lines_in_issue_order
from sheetbill.book import load_book
from sheetbill.decision_memo import DecisionMemo, PackedDecisions, _bucket, unpacked
from sheetbill.memo import RunMemo
from sheetbill.models import Invoice, InvoiceLine
from sheetbill.money import quantize
from sheetbill.payers import standard
from sheetbill.plugins import hookimpl
from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.plugins.types import Adjudication
from sheetbill.run import DECISIONS, RunMode, run_billing
from sheetbill.sheets import RawSheet
from tests.helpers import book, rows_of, sheet, with_outputs

AS_OF = dt.date(2026, 3, 1)
CHARGES = ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price", "Authorization No", "Factor",
           "Justification", "Fee Agreement")
COVERAGE = ("Customer ID", "Payer ID", "Member ID", "Priority", "Valid From", "Valid To", "Covered Percent",
            "Copay", "Annual Deductible", "Out of Pocket Max", "Annual Budget", "Copay Then Coinsurance")
SERVICES = [("S", "Session", "80"), ("T", "Test", "12.50"), ("MRI", "MRI scan", "900"), ("1", "Beratung", "10"),
            ("5", "Untersuchung", "15"), ("250", "Blutentnahme", "7.20")]
PAYERS = [
    ("P1", "Acme Health", "insurer", "", None, None),
    ("P2", "Second Mutual", "insurer", "", "non-duplication", None),
    ("P3", "Private GOÄ", "insurer", "goae", None, None),
    ("P4", "Employer Fund", "employer", "employer_budget", None, None),
    ("P5", "Schedule Care", "government", "fee_schedule", "medicare-secondary", None),
    ("P6", "Out Net", "insurer", "", "standard", "yes"),
    ("P7", "Recorded Care", "insurer", "recorded", None, None),
    ("P8", "Gone Plugin", "other", "no_such_plugin", None, None),
]
PAYER_CODES = [("P1", "MRI", None, None, None, None, "yes", None), ("P1", "T", None, None, "5", None, None, None),
               ("P5", "S", "97110", "60", None, None, None, None),
               ("P5", "MRI", "70551", "700", None, None, None, None), ("P3", "S", "3", None, None, None, None, None),
               ("P7", "MRI", None, None, None, None, "yes", None), ("P6", "S", None, "50", None, None, None, None)]


class Recorder:
    """A real payer plugin (standard rules, or 50 % in its second version) that records every claim."""

    def __init__(self, version: str | None = "1"):
        if version is not None:
            self.__version__ = version
        self.claims: list[str] = []

    @hookimpl
    def sheetbill_payer_names(self):
        return ["recorded"]

    @hookimpl
    def sheetbill_needs_authorization(self, payer_code):
        return bool(payer_code and payer_code.prior_authorization)

    @hookimpl
    def sheetbill_adjudicate(self, claim):
        self.claims.append(claim.charge.charge_id)
        if getattr(self, "__version__", None) == "2":
            base = claim.allowed if claim.is_secondary else claim.charge_amount
            pays = quantize(base * Decimal("0.5"), claim.currency)
            return Adjudication(pays, base - pays, claim.charge_amount - base, reason="half")
        return standard.sheetbill_adjudicate(claim)


def plugins_with(recorder: Recorder) -> Plugins:
    return Plugins(get_plugin_manager([recorder], entry_points=False))


class Workbook:
    """A random workbook's input rows, changed step by step as a clerk would."""

    def __init__(self, seed: int, customers: int = 24, charges: int = 160):
        self.rng = rng = random.Random(seed)
        self.customers = [f"C{n}" for n in range(1, customers + 1)]
        self.services = [list(s) for s in SERVICES]
        self.coverage = [row for customer in self.customers[3:] for row in self._coverage_of(customer)]
        self.coverage += [["C1", "P8", "M-C1", 1, *[None] * 8],  # a payer no installed plugin handles
                          ["C2", "P1", "M-C2", 1, *[None] * 8], ["C3", "P3", "M-C3", 1, *[None] * 8]]
        self.charges = [self._charge(n) for n in range(1, charges + 1)]
        self.charges += [["X9997", "2026-05-04", "C2", "MRI", 1, *[None] * 5],  # upcoming, needs authorization
                         ["X9998", "2026-01-05", "C999", "S", 1, *[None] * 5],  # an unknown customer
                         ["X9999", "2026-01-06", "C1", "S", 1, *[None] * 5],
                         ["X9996", "2026-01-07", "C3", "5", 1, None, None, "3.0", None, None]]  # refused: no reason
        self.charge_columns = list(CHARGES)
        self.next_id = charges + 1
        self.as_of = AS_OF
        self.history: dict = {}
        rng.shuffle(self.charges)
        self.charges.sort(key=lambda row: rng.random() < 0.8)  # some sheet order, not date order

    def _coverage_of(self, customer: str) -> list[list]:
        rng = self.rng
        kind = rng.random()
        if kind < 0.2:
            return []  # self-pay
        primary = rng.choice(["P1", "P3", "P4", "P5", "P7", "P7", "P1", "P8"])
        rows = [[customer, primary, f"M-{customer}", 1, rng.choice([None, "2025-06-01", "2026-01-15"]),
                 rng.choice([None, None, "2026-02-10"]), rng.choice([None, "80", "90"]), rng.choice([None, "10"]),
                 rng.choice([None, "100", "250"]), rng.choice([None, "400"]),
                 "300" if primary == "P4" else None, rng.choice([None, "yes"])]]
        if kind > 0.6:
            second = rng.choice(["P2", "P5", "P6", "P7"])
            rows.append([customer, second, f"S-{customer}", 2, None, None, rng.choice([None, "50", "100"]), None,
                         rng.choice([None, "50"]), None, None, None])
        return rows

    def _charge(self, n: int, date: dt.date | None = None) -> list:
        rng = self.rng
        service = rng.choice(["S", "S", "T", "MRI", "1", "5", "250"])
        date = date or dt.date(2025, 11, 1) + dt.timedelta(days=rng.randrange(150))
        factor = justification = agreement = None
        if service in ("1", "5", "250") and rng.random() < 0.4:
            factor = rng.choice(["1.8", "2.3", "3.0", "3.5", "4"])
            justification = rng.choice([None, "aufwendig"])
            agreement = rng.choice([None, "yes"])
        quantity = rng.choice([1, 1, 1, 2, "0.5"])
        if rng.random() < 0.03:
            quantity = "two"  # a problem row
        return [f"X{n:04d}", date.isoformat(), rng.choice(self.customers),
                service, quantity, rng.choice([None] * 9 + ["33.335"]), rng.choice([None, None, "A-1"]),
                factor, justification, agreement]

    def sheets(self) -> dict:
        order = [CHARGES.index(column) for column in self.charge_columns]
        return {**self.history, **book(
            sheet("Settings", ("Setting", "Value"), ("Invoice Prefix", "R-"), ("As Of Date", self.as_of.isoformat()),
                  ("GOÄ Point Value", "0.0582873")),
            sheet("Customers", ("Customer ID", "Name"), *[(c, f"Customer {c}") for c in self.customers]),
            sheet("Payers", ("Payer ID", "Name", "Type", "Plugin", "Secondary Method", "Balance Billing"), *PAYERS),
            sheet("Services", ("Service Code", "Description", "Price"), *self.services),
            sheet("Payer Codes", ("Payer ID", "Service Code", "Payer Code", "Allowed Amount", "Copay", "Covered",
                                  "Prior Authorization", "Points"), *PAYER_CODES),
            sheet("Coverage", COVERAGE, *self.coverage),
            sheet("Charges", self.charge_columns, *[[row[i] for i in order] for row in self.charges]))}

    # --- what a clerk does between runs ------------------------------------------------------------

    def add_charges(self, count: int) -> None:
        for _ in range(count):
            self.charges.append(self._charge(self.next_id, self.as_of - dt.timedelta(days=self.rng.randrange(3))))
            self.next_id += 1

    def edit_a_charge_in_the_middle(self) -> None:
        row = self.charges[len(self.charges) // 2]
        row[4] = 3 if row[4] != 3 else 1

    def delete_a_charge(self) -> None:
        del self.charges[len(self.charges) // 3]

    def change_coverage_of_one_customer(self) -> None:
        row = next(row for row in self.coverage if row[1] in ("P1", "P7"))
        row[6], row[8] = ("60", "500") if row[8] != "500" else ("80", "100")

    def change_a_price(self) -> None:
        self.services[1][2] = "13.00" if self.services[1][2] != "13.00" else "12.50"

    def reorder_charge_columns(self) -> None:
        self.rng.shuffle(self.charge_columns)


def decide(sheets, plugins, memo=None):
    loaded, _ = load_book(sheets)
    return loaded, adjudicate_all(loaded, plugins, until=loaded.settings.as_of, memo=memo)


def written(result) -> list:
    return [(o.name, list(o.headers), [tuple(row) for row in o.rows]) for o in result.outputs]


STEPS = ["new charges", "edit in the middle", "coverage of one customer", "price of a service", "nothing",
         "deleted row", "reordered columns", "plugin version", "as-of date", "nothing"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_runs_with_the_memo_decide_issue_and_write_what_runs_without_it_do(seed):
    workbook = Workbook(seed)
    recorder = Recorder("1")
    plugins = plugins_with(recorder)
    memo: DecisionMemo | None = None
    held, codes = set(), set()
    for step in ["first run", *STEPS]:
        if step == "new charges":
            workbook.add_charges(5)
        elif step == "edit in the middle":
            workbook.edit_a_charge_in_the_middle()
            workbook.add_charges(1)
        elif step == "coverage of one customer":
            workbook.change_coverage_of_one_customer()
        elif step == "price of a service":
            workbook.change_a_price()
        elif step == "deleted row":
            workbook.delete_a_charge()
        elif step == "reordered columns":
            workbook.reorder_charge_columns()
        elif step == "plugin version":
            recorder = Recorder("2")
            plugins = plugins_with(recorder)
        elif step == "as-of date":
            workbook.as_of += dt.timedelta(days=20)
        sheets = workbook.sheets()
        loaded, fresh = decide(sheets, plugins)
        _, remembered = decide(sheets, plugins, memo)
        assert list(remembered.decisions) == list(fresh.decisions), step
        assert remembered.decisions == fresh.decisions, step
        if step in ("nothing", "reordered columns"):
            assert remembered.customers_decided == 0, step
        elif step in ("new charges", "edit in the middle", "coverage of one customer"):
            assert 1 <= remembered.customers_decided <= {"coverage of one customer": 1}.get(step, 6), step
            assert remembered.customers_reused >= len(workbook.customers) - 6, step
        elif step in ("first run", "price of a service", "plugin version", "as-of date"):
            assert remembered.customers_reused == 0, step
        charges = {id(charge) for charge in loaded.charges}
        assert all(id(d.charge) in charges for d in fresh.decisions.values())
        _, again = decide(sheets, plugins, memo)  # bound to this load's charges, not to the memo's
        assert _alike(remembered.memo, fresh.memo) and again.decisions == fresh.decisions
        without = run_billing(sheets, plugins=plugins)
        with_memo = run_billing(sheets, plugins=plugins, decision_memo=memo)
        assert written(with_memo) == written(without), step
        assert (with_memo.problems, with_memo.advice, with_memo.new_invoices) == \
            (without.problems, without.advice, without.new_invoices), step
        assert with_memo.decision_memo == without.decision_memo
        held |= {d.held for d in fresh.decisions.values()}
        codes |= {p.code for p in without.problems}
        memo = pickle.loads(pickle.dumps(with_memo.decision_memo))  # as a store would keep it
        workbook.history = {name: value for name, value in with_outputs(sheets, with_memo.outputs).items()
                            if name not in sheets or name in ("Invoices", "Invoice Lines", "Reminders", "Collections")}
    assert codes >= {"claim-refused", "payer-plugin-missing", "unknown-customer", "not-a-number"}
    assert held >= {None, "prior authorization", "upcoming", "refused", "payer plugin missing"}


def _alike(remembered: DecisionMemo, fresh: DecisionMemo) -> bool:
    """The same memo, but that a decision taken from the last run's memo may lack its shares (its charge was
    billed then: the run drops them, see test_billed_charges_are_remembered_without_their_shares)."""
    if remembered.context != fresh.context or remembered.customers.keys() != fresh.customers.keys():
        return False
    for customer_id, entry in remembered.customers.items():
        other = fresh.customers[customer_id]
        if (entry.key, entry.upcoming, len(entry.due)) != (other.key, other.upcoming, len(other.due)):
            return False
        for kept, made in zip(entry.due, other.due, strict=True):
            if kept != made and (kept[1] is not None or kept[:1] + kept[2:] != made[:1] + made[2:]):
                return False
    return True


def test_only_customers_whose_inputs_changed_are_decided_again():
    workbook = Workbook(7)
    recorder = Recorder("1")
    plugins = plugins_with(recorder)
    first = run_billing(workbook.sheets(), plugins=plugins)
    asked_first = set(recorder.claims)
    assert len(asked_first) > 10
    workbook.history = _history(workbook.sheets(), first)

    recorder.claims.clear()
    idle = run_billing(workbook.sheets(), plugins=plugins, decision_memo=first.decision_memo)
    assert recorder.claims == []  # nothing changed: nobody is decided again
    assert written(idle) == written(first)

    customer = next(c[0] for c in workbook.coverage if c[1] == "P7" and c[3] == 1 and c[5] is None
                    and any(row[2] == c[0] and row[0] in asked_first for row in workbook.charges))
    workbook.charges.append(["NEW1", "2026-02-27", customer, "S", 1, None, None, None, None, None])
    result = _adjudicate(workbook, plugins, idle.decision_memo)
    assert "NEW1" in recorder.claims
    assert set(recorder.claims) <= {row[0] for row in workbook.charges if row[2] == customer}
    assert (result.customers_decided, result.customers_reused) == (1, len(idle.decision_memo.customers) - 1)

    recorder.claims.clear()
    workbook.change_a_price()  # the Services are every customer's input: all are decided again
    result = _adjudicate(workbook, plugins, result.memo)
    assert result.customers_reused == 0 and set(recorder.claims) >= asked_first | {"NEW1"}


def _history(sheets, result) -> dict:
    """The history sheets ``result``'s run wrote, as the next run reads them."""
    return {name: value for name, value in with_outputs(sheets, result.outputs).items()
            if name in ("Invoices", "Invoice Lines", "Reminders", "Collections")}


def _adjudicate(workbook: Workbook, plugins: Plugins, memo: DecisionMemo | None):
    loaded, _ = load_book(workbook.sheets())
    return adjudicate_all(loaded, plugins, until=loaded.settings.as_of, memo=memo)


def test_a_plugin_without_a_version_is_asked_every_run():
    workbook = Workbook(5)
    recorder = Recorder(None)
    plugins = plugins_with(recorder)
    first = run_billing(workbook.sheets(), plugins=plugins)
    assert first.decision_memo is not None and first.decision_memo.context is None
    asked = len(recorder.claims)
    assert asked
    run_billing(workbook.sheets(), plugins=plugins, decision_memo=first.decision_memo)
    assert len(recorder.claims) == 2 * asked


# --- issuing, made cheaper for a history of mostly billed charges -------------------------------------


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_lines_in_issue_order_are_the_stable_sort_of_the_lines_by_issue_date_and_number(seed):
    rng = random.Random(seed)
    invoices = [Invoice(f"R-{n:03d}", rng.choice(["Invoice", "Credit Note"]), dt.date(2026, 1, rng.randrange(1, 9)),
                        dt.date(2026, 2, 1), "customer", "C1", "Ann", "C1", Decimal("1.00")) for n in range(40)]
    numbers = [i.invoice_no for i in invoices] + ["R-900", "R-901"]  # lines whose invoice is missing
    lines = [InvoiceLine(rng.choice(numbers), rng.choice([None, *(f"X{k}" for k in range(30))]),
                         dt.date(2026, 1, 1), "C1", "S", "S", Decimal(1), Decimal("1.00"), Decimal("1.00"), row=row)
             for row in range(400)]
    lines.sort(key=lambda line: (rng.random() < 0.3, line.invoice_no))  # runs of one invoice, most split in two
    issued = {i.invoice_no: i.issue_date for i in invoices}
    expected = sorted(lines, key=lambda line: (issued.get(line.invoice_no, dt.date.max), line.invoice_no))
    assert [line.row for line in lines_in_issue_order(invoices, lines)] == [line.row for line in expected]
    kinds = {i.invoice_no: i.kind for i in invoices}
    active: dict[str, list] = {}
    for line in expected:  # the rule, line by line: a credit note ends what bills its charge
        if line.charge_id:
            if kinds.get(line.invoice_no) == "Credit Note":
                active[line.charge_id] = []
            else:
                active.setdefault(line.charge_id, []).append(line)
    assert active_lines(invoices, lines) == {charge_id: tuple(found) for charge_id, found in active.items()}


def test_credit_notes_list_the_changed_charges_in_charge_id_order_whatever_the_sheet_order():
    workbook = Workbook(21, customers=4, charges=60)
    workbook.coverage = []
    workbook.charges = [row for row in workbook.charges if row[2] != "C999" and row[4] != "two"]
    plugins = plugins_with(Recorder("1"))
    sheets = workbook.sheets()
    first = run_billing(sheets, plugins=plugins)
    history = {name: value for name, value in with_outputs(sheets, first.outputs).items()
               if name in ("Invoices", "Invoice Lines")}
    billed = {line.charge_id for line in first.issued.lines}
    edited = sorted((row for row in workbook.charges if row[0] in billed), key=lambda row: row[1])[::3]
    for row in edited:
        row[4] = 7
    results = []
    for order in (list(workbook.charges), sorted(workbook.charges, key=lambda row: row[1], reverse=True)):
        workbook.charges = order
        workbook.history = history
        results.append(run_billing(workbook.sheets(), plugins=plugins))
    credits = [inv.invoice_no for inv in results[0].issued.invoices if inv.kind == "Credit Note"]
    assert len(credits) > 1
    credited = [line for line in results[0].issued.lines if line.invoice_no in credits]
    assert {line.charge_id for line in credited} == {row[0] for row in edited}
    for number in credits:
        ids = [line.charge_id for line in credited if line.invoice_no == number]
        assert ids == sorted(ids)
    assert [line.charge_id for line in credited] != sorted(line.charge_id for line in credited) or len(credits) == 1
    assert results[0].issued == results[1].issued


def test_a_run_makes_no_remembered_decision_of_a_charge_billed_already(monkeypatch):
    """Issuing asks a billed charge's decision only for its charge amount, problems and advice, which the
    memo holds: the decisions of unchanged customers are made (restored) only for their unbilled charges."""
    workbook = Workbook(5)
    plugins = plugins_with(Recorder("1"))
    first = run_billing(workbook.sheets(), plugins=plugins)
    workbook.history = {name: value for name, value in with_outputs(workbook.sheets(), first.outputs).items()
                        if name in ("Invoices", "Invoice Lines", "Reminders", "Collections")}
    workbook.add_charges(3)
    made: list[str] = []
    restore = decisions_module.restore
    monkeypatch.setattr(decisions_module, "restore",
                        lambda kept, charge, shares: made.append(charge.charge_id) or restore(kept, charge, shares))
    with_memo = run_billing(workbook.sheets(), plugins=plugins, decision_memo=first.decision_memo)
    restored = list(made)
    without = run_billing(workbook.sheets(), plugins=plugins)
    assert written(with_memo) == written(without)
    assert (with_memo.problems, with_memo.advice) == (without.problems, without.advice)
    billed = {line.charge_id for line in first.issued.lines}
    unbilled = {charge.charge_id for charge in without.book.charges} - billed
    assert len(billed) > 50 and restored and set(restored) <= unbilled


def test_billed_charges_are_remembered_without_their_shares():
    """The memo a run leaves keeps the shares of the decisions on charges it has not billed (held, refused,
    upcoming) and only the charge amount, problems and advice of those it has: the lines on its Invoice
    Lines sheet say which."""
    workbook = Workbook(5)
    plugins = plugins_with(Recorder("1"))
    first = run_billing(workbook.sheets(), plugins=plugins)
    billed = {row["Charge ID"] for row in rows_of(first.outputs, "Invoice Lines")}
    loaded, fresh = decide(workbook.sheets(), plugins)  # the decisions with their shares, made anew
    kept = {charge.charge_id: remembered for customer_id, entry in first.decision_memo.customers.items()
            for charge, remembered in zip(fresh.due.get(customer_id, []), entry.due, strict=True)}
    assert kept.keys() == {charge.charge_id for charge in loaded.charges if charge.date <= workbook.as_of}
    assert len(billed) > 50 and len(kept.keys() - billed) > 5
    for charge_id, remembered in kept.items():
        decision = fresh.decisions[charge_id]
        assert remembered[0] == decision.charge_amount and remembered[2:4] == (decision.held, tuple(decision.problems))
        assert (remembered[1] is None) == (charge_id in billed), charge_id


def test_billed_decisions_that_are_their_amount_alone_are_one_object_per_spelling():
    """Without their shares, the decisions on billed charges that hold nothing but their charge amount are
    one object per amount as spelled (80.0 and 80.00 apart), kept so through the run memo's pack and unpack
    (one bucket); a decision with a problem, advice or a hold keeps its own."""
    from decimal import Decimal
    from types import SimpleNamespace

    from sheetbill.decision_memo import CustomerDecisions, DecisionMemo, without_billed_shares
    from sheetbill.memo import pack, unpack

    share = (("Customer", "P1", Decimal("80.00"), Decimal("0.00"), "self-pay", None),)
    made = [(Decimal("80.00"), share, None, (), (), None), (Decimal("80.00"), share, None, (), (), None),
            (Decimal("80.0"), share, None, (), (), None), (Decimal("80.00"), share, "held", (), (), None),
            (Decimal("80.00"), share, None, (), ("ask for authorization",), None),
            (Decimal("80.00"), share, None, (), (), None)]
    charges = [SimpleNamespace(charge_id=f"X{n}") for n in range(len(made))]
    memo = DecisionMemo(b"context", {"P1": CustomerDecisions(b"key", tuple(made))})
    left = without_billed_shares(memo, {"P1": charges}, {"X5"}).customers["P1"].due  # X5 is not billed
    assert [kept[1] is None for kept in left] == [True] * 5 + [False]
    assert [(str(kept[0]), *kept[2:]) for kept in left[:5]] == [(str(m[0]), *m[2:]) for m in made[:5]]
    assert left[0] is left[1] and left[2] is not left[0] and left[3] is not left[0] and left[4] is not left[0]
    back = unpack(pack(left))
    assert back == left and back[0] is back[1]


@pytest.mark.parametrize("seed", [1, 2])
def test_customers_decided_in_a_run_are_remembered_after_issuing_as_if_remembered_at_once(seed):
    """A run keeps the decisions it made themselves until the invoices are issued (no copy of their shares
    beside them) and remembers them then: the memo it keeps is the one remembering every decision at once
    and then leaving out the billed shares gives, byte for byte as packed, held and refused charges too."""
    from sheetbill.billing import issue
    from sheetbill.decision_memo import packed, without_billed_shares
    from sheetbill.decisions import Decided

    workbook = Workbook(seed)
    loaded, adjudicated = decide(workbook.sheets(), plugins_with(Recorder("1")))
    pending = adjudicated.pending.customers
    assert pending and all(isinstance(entry, Decided) for entry in pending.values())
    assert all(decision is adjudicated.decisions[decision.charge.charge_id]
               for entry in pending.values() for decision in entry.due)
    issued = issue(loaded, adjudicated.decisions)
    assert issued.unbilled and issued.lines  # some held or refused, the rest billed
    kept = without_billed_shares(adjudicated.pending, adjudicated.due, issued.unbilled)
    at_once = without_billed_shares(adjudicated.memo, adjudicated.due, issued.unbilled)
    assert kept == at_once and packed(kept) == packed(at_once)
    left = [kept_one for entry in kept.customers.values() for kept_one in entry.due]
    assert sum(kept_one[1] is None for kept_one in left) == len(left) - sum(
        charge.charge_id in issued.unbilled for charges in adjudicated.due.values() for charge in charges)


def test_the_entries_of_customers_the_run_billed_nothing_of_are_kept_as_they_are():
    """A customer as the last run left it (see ``sheetbill.billing.issue``) is not among the customers issuing
    looked at, so its unbilled charges (held: X1) are not named; its entry stays the very object it was, shares
    and all, while another customer's billed shares are left out."""
    from decimal import Decimal
    from types import SimpleNamespace

    from sheetbill.decision_memo import CustomerDecisions, DecisionMemo, without_billed_shares

    share = (("Customer", "P1", Decimal("80.00"), Decimal("0.00"), "self-pay", None),)
    billed, held = (Decimal("80.00"), None, None, (), (), None), (Decimal("80.00"), share, "held", (), (), None)
    left_as_it_was = CustomerDecisions(b"key", (billed, held))
    billed_now = CustomerDecisions(b"other", ((Decimal("80.00"), share, None, (), (), None),))
    memo = DecisionMemo(b"context", {"P1": left_as_it_was, "P2": billed_now})
    due = {"P1": [SimpleNamespace(charge_id="X0"), SimpleNamespace(charge_id="X1")],
           "P2": [SimpleNamespace(charge_id="Y0")]}
    after = without_billed_shares(memo, due, set(), {"P1"}).customers
    assert after["P1"] is left_as_it_was and after["P2"].due[0][1] is None
    assert without_billed_shares(memo, due, set()).customers["P1"].due[1][1] is None  # named by nobody: dropped


def test_decisions_list_the_charges_with_a_decision_in_their_reserved_order():
    """A Charge ID reserved but given no decision is no key of the decisions; the others come in the
    order reserved, whether made or kept from the memo, and stay so once a kept one is made."""
    from types import SimpleNamespace

    from sheetbill.decisions import Decision, Decisions

    share = (("Customer", "P1", Decimal("80.00"), Decimal("0.00"), "self-pay", None),)
    charges = {n: SimpleNamespace(charge_id=n, customer_id="P1") for n in ("X1", "X2", "X3", "X4", "X5")}
    decisions = Decisions()
    decisions.reserve(["X4", "X1", "X5", "X2", "X3"])
    decisions.add(Decision(charges["X2"], Decimal("10.00")))
    decisions.add_kept([(Decimal("80.00"), share, None, (), (), None)] * 2, [charges["X4"], charges["X3"]])
    assert list(decisions) == ["X4", "X2", "X3"] and len(decisions) == 3
    assert "X1" not in decisions and "X5" not in decisions and "X4" in decisions
    assert decisions["X4"].charge_amount == Decimal("80.00")  # made now
    assert list(decisions) == ["X4", "X2", "X3"]
    with pytest.raises(KeyError):
        decisions["X1"]


def test_a_billed_charge_whose_lines_went_missing_is_decided_again_and_billed_as_without_the_memo():
    workbook = Workbook(5)
    recorder = Recorder("1")
    plugins = plugins_with(recorder)
    first = run_billing(workbook.sheets(), plugins=plugins)
    claimed = set(recorder.claims)  # charges a payer plugin was asked about
    workbook.history = _history(workbook.sheets(), first)
    lines = workbook.history["Invoice Lines"]
    charge_column = lines.rows[0].index("Charge ID")
    gone = next(row[charge_column] for row in lines.rows[1:] if row[charge_column] in claimed)
    workbook.history["Invoice Lines"] = RawSheet(lines.name, [row for row in lines.rows
                                                              if row[charge_column] != gone])
    customer = next(row[2] for row in workbook.charges if row[0] == gone)
    recorder.claims.clear()
    with_memo = run_billing(workbook.sheets(), plugins=plugins, decision_memo=first.decision_memo)
    asked = set(recorder.claims)
    without = run_billing(workbook.sheets(), plugins=plugins)
    assert written(with_memo) == written(without)
    assert (with_memo.problems, with_memo.advice) == (without.problems, without.advice)
    assert gone in {line.charge_id for line in with_memo.issued.lines}  # billed again, as without the memo
    assert asked and asked <= {row[0] for row in workbook.charges if row[2] == customer}  # only its customer


def test_with_built_in_payers_alone_the_memo_serves_the_next_days_too():
    workbook = Workbook(31)
    plugins = Plugins(get_plugin_manager(entry_points=False))  # no installed payer plugin reads the as-of date
    memo = run_billing(workbook.sheets(), plugins=plugins).decision_memo
    for days in (1, 7, 30):
        before, workbook.as_of = workbook.as_of, AS_OF + dt.timedelta(days=days)
        loaded, fresh = decide(workbook.sheets(), plugins)
        _, remembered = decide(workbook.sheets(), plugins, memo)
        assert remembered.decisions == fresh.decisions and list(remembered.decisions) == list(fresh.decisions)
        moved = {charge.customer_id for charge in loaded.charges if before < charge.date <= workbook.as_of}
        assert remembered.customers_decided == len(moved)  # only customers with a charge falling due
        assert remembered.customers_reused > 0
        memo = remembered.memo


def test_an_overdue_run_adjudicates_nothing_and_passes_the_memo_on():
    workbook = Workbook(41, customers=6, charges=30)
    plugins = plugins_with(Recorder("1"))
    memo = run_billing(workbook.sheets(), plugins=plugins).decision_memo
    overdue = run_billing(workbook.sheets(), plugins=plugins, mode=RunMode.OVERDUE, decision_memo=memo)
    assert overdue.decision_memo is memo and overdue.new_invoices == []


def test_the_run_memo_keeps_the_decisions_for_the_next_run():
    workbook = Workbook(7)
    recorder = Recorder("1")
    plugins = plugins_with(recorder)
    memo = RunMemo()
    first = run_billing(workbook.sheets(), plugins=plugins, memo=memo)
    kept = memo.extras[DECISIONS]
    # packed: loading the memo does not unpack them
    assert isinstance(kept, PackedDecisions) and all(isinstance(data, bytes) for data in kept.buckets)
    workbook.history = _history(workbook.sheets(), first)
    recorder.claims.clear()
    second = run_billing(workbook.sheets(), plugins=plugins, memo=memo)
    assert recorder.claims == [] and written(second) == written(first)
    assert memo.extras[DECISIONS].buckets == kept.buckets  # every decision reused: every bucket kept
    damaged = next(index for index, data in enumerate(kept.buckets) if len(data) > 20)
    memo.extras[DECISIONS] = replace(kept, buckets=(*kept.buckets[:damaged], kept.buckets[damaged][:-9],
                                                    *kept.buckets[damaged + 1:]))
    third = run_billing(workbook.sheets(), plugins=plugins, memo=memo)  # damaged: every customer decided again
    assert recorder.claims and written(third) == written(first)


def test_only_the_buckets_of_customers_decided_again_are_packed_anew():
    workbook = Workbook(11, customers=40, charges=120)
    plugins = plugins_with(Recorder("1"))
    memo = RunMemo()
    run_billing(workbook.sheets(), plugins=plugins, memo=memo)
    before = memo.extras[DECISIONS]
    changed = "C5"
    workbook.charges.append(["X8888", "2026-01-10", changed, "S", 1, *[None] * 5])  # its key changes: decided again
    run_billing(workbook.sheets(), plugins=plugins, memo=memo)
    after = memo.extras[DECISIONS]
    moved = [index for index, (old, new) in enumerate(zip(before.buckets, after.buckets, strict=True)) if old != new]
    assert moved == [_bucket(changed)]
    assert all(new is old for index, (old, new) in enumerate(zip(before.buckets, after.buckets, strict=True))
               if index != moved[0])  # kept as they were, not packed again
    decisions, _ = unpacked(after)
    fresh = run_billing(workbook.sheets(), plugins=plugins).decision_memo
    assert decisions.context == fresh.context and dict(decisions.customers) == dict(fresh.customers)
