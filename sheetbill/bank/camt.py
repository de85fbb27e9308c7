"""Reader for ISO 20022 cash-management statements: camt.053, camt.052 and camt.054.

One reader serves all three messages and every version from ``001.02`` on: namespaces are dropped
after parsing, and the few names that changed between versions (``BIC``/``BICFI``, a party's name
directly under ``Dbtr`` or under ``Dbtr/Pty``, the status as text or as ``Sts/Cd``) are looked up
in both forms.

* camt.053 ``BkToCstmrStmt/Stmt`` (end-of-day statement), camt.052 ``BkToCstmrAcctRpt/Rpt``
  (intraday report) and camt.054 ``BkToCstmrDbtCdtNtfctn/Ntfctn`` (notification) each become one
  :class:`~sheetbill.bank.entries.Statement`.
* An entry (``Ntry``) whose details hold several transactions (``TxDtls``) with their own amounts
  -- a batch booking -- becomes one :class:`~sheetbill.bank.entries.BankEntry` per transaction, so
  each payment can be matched on its own. With one ``TxDtls``, or when the transactions carry no
  amounts, the entry stays one ``BankEntry`` with the entry's amount.
* The sign comes from ``CdtDbtInd`` alone; a reversal (``RvslInd``) keeps the indicator the bank
  gives. The counterparty is the debtor of a credit and the creditor of a debit.

Any document type declaration is refused before the XML is parsed (a first pass of expat over the
prolog, which stops at one), so a file cannot make the reader expand entities or fetch external ones; the
document is then parsed by ElementTree's C parser. (``defusedxml`` gives the same refusal but
parses with ElementTree's pure-Python builder, three times slower on a statement of 10,000
entries.)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError, fromstring
from xml.parsers import expat

from sheetbill.bank.entries import (
    Statement,
    StatementError,
    built_with_ids,
    real_reference,
)

#: camt message element -> the element of each statement inside it.
_CONTAINERS = {"BkToCstmrStmt": "Stmt", "BkToCstmrAcctRpt": "Rpt", "BkToCstmrDbtCdtNtfctn": "Ntfctn"}
_OPENING, _CLOSING = ("OPBD", "PRCD"), ("CLBD",)


class _Declaration(Exception):
    """A document type declaration or entity declaration met by :func:`_refuse_declarations`."""


def _declaration(*_args: object) -> None:
    raise _Declaration


class _RootElement(Exception):
    """The root element's start tag, met by :func:`_refuse_declarations`: the prolog is over."""


def _root_element(*_args: object) -> None:
    raise _RootElement


def _refuse_declarations(data: bytes) -> None:
    """Raise :class:`StatementError` when ``data`` declares a document type or entities, or its prolog
    is not well-formed; expat is stopped at the declaration, before it expands or fetches anything.

    A document type declaration, and with it every entity declaration, can only stand in the prolog,
    before the root element: expat is stopped at the root element's start tag too, so this reads the
    first few hundred bytes of a statement, not all of it."""
    checker = expat.ParserCreate()
    checker.StartDoctypeDeclHandler = _declaration
    checker.EntityDeclHandler = _declaration
    checker.ExternalEntityRefHandler = _declaration
    checker.StartElementHandler = _root_element
    try:
        checker.Parse(data, True)
    except _RootElement:
        return
    except _Declaration:
        raise StatementError("refused XML with a document type declaration or entities") from None
    except expat.ExpatError as exc:
        raise StatementError(f"not well-formed XML: {exc}") from exc


def parse_xml(data: bytes) -> Element:
    """The root of the XML document ``data``, namespaces removed; refuses DTDs, entities and broken XML."""
    _refuse_declarations(data)
    try:
        root = fromstring(data)
    except ParseError as exc:
        raise StatementError(f"not well-formed XML: {exc}") from exc
    local: dict[str, str] = {}
    for element in root.iter():
        tag = element.tag
        if tag[0] == "{":
            name = local.get(tag)
            if name is None:
                name = local[tag] = tag[tag.index("}") + 1:]
            element.tag = name
    return root


def camt_message(data: bytes) -> str | None:
    """The camt message name and version of ``data`` (``camt.053.001.02``), or ``None``."""
    head = data[:2000].decode("utf-8", "replace")
    marker = head.find("camt.05")
    if marker < 0:
        return None
    name = head[marker:marker + 15]
    return name if len(name) == 15 else None


def read_camt(data: bytes) -> list[Statement]:
    """Every statement, report or notification in the camt.052/.053/.054 document ``data``."""
    message = camt_message(data) or "camt"
    root = parse_xml(data)
    if root.tag != "Document":
        raise StatementError(f"not an ISO 20022 document (root element {root.tag!r})")
    statements = []
    for container, item in _CONTAINERS.items():
        for block in root.findall(container):
            statements.extend(_statement(node, message) for node in block.findall(item))
    if not statements and not any(root.find(c) is not None for c in _CONTAINERS):
        raise StatementError("the document is not a camt.052, camt.053 or camt.054 message")
    return statements


def _statement(node: Element, message: str) -> Statement:
    account = node.find("Acct")
    iban = _text(account, "Id/IBAN")
    other = _text(account, "Id/Othr/Id")
    currency = _text(account, "Ccy")
    opening = closing = None
    for balance in node.findall("Bal"):
        code = _text(balance, "Tp/CdOrPrtry/Cd") or _text(balance, "Tp/CdOrPrtry/Prtry")
        amount = _signed(balance)
        if code in _OPENING and opening is None:
            opening = amount
        elif code in _CLOSING:
            closing = amount
    ident = iban or other
    entries: list[dict] = []
    for entry in node.findall("Ntry"):
        entries.extend(_entries(entry, ident, currency))
    return Statement(
        format=message, account_iban=iban, account=ident,
        statement_id=_text(node, "Id"), currency=currency, opening_balance=opening, closing_balance=closing,
        entries=built_with_ids(ident, entries),
    )


class _Paths:
    """The elements below a node by their path (``Refs/EndToEndId``), each the first in document order,
    as ``Element.find`` gives it, found in one walk of the subtree. An entry is asked for some thirty
    paths; a dictionary lookup each is several times faster than ``find`` walking the tree each time.
    Offers ``find`` for paths without wildcards or predicates; ``node`` is the element itself."""

    __slots__ = ("_first", "_prefix", "node")

    def __init__(self, node: Element, within: _Paths | None = None, prefix: str = ""):
        """Index ``node``'s subtree, or, with ``within``, look up in the index of an ancestor whose
        path to ``node`` is ``prefix`` (which must then be the first such element there)."""
        self.node, self._prefix = node, prefix
        if within is not None:
            self._first = within._first
            return
        first: dict[str, Element] = {}
        # Level by level: the elements of one path all sit at one depth, and a level is walked in
        # document order, so the first element met at a path is the first in the document.
        level = [(node, "")]
        while level:
            below = []
            for parent, prefix in level:
                for child in parent:
                    path = prefix + child.tag
                    if path not in first:
                        first[path] = child
                    if len(child):
                        below.append((child, path + "/"))
            level = below
        self._first = first

    def find(self, path: str) -> Element | None:
        """The first element at ``path`` below the node, or ``None``."""
        return self._first.get(self._prefix + path)


def _entries(entry: Element, account: str | None, currency: str | None) -> list[dict]:
    """The fields of the BankEntries of one ``Ntry``: one per ``TxDtls`` of a batch with per-transaction
    amounts (with its ``entry_id``)."""
    details = _below(entry, "NtryDtls", "TxDtls")
    entry = _Paths(entry)
    amount = _signed(entry)
    common = {
        "currency": _currency(entry) or currency or "",
        "booking_date": _date(entry, "BookgDt"),
        "value_date": _date(entry, "ValDt"),
        "status": _text(entry, "Sts/Cd") or _text(entry, "Sts"),
        "additional_info": _text(entry, "AddtlNtryInf"),
    }
    entry_ref = real_reference(_text(entry, "AcctSvcrRef"))
    if len(details) > 1 and all(_tx_amount(tx) is not None for tx in details):
        result = []
        for number, tx in enumerate(details, start=1):
            tx = _Paths(tx)
            sign = -1 if (_text(tx, "CdtDbtInd") or _text(entry, "CdtDbtInd")) == "DBIT" else 1
            fields = _transaction(tx, entry, common | {"amount": sign * _tx_amount(tx)})
            ident = f"{(account or '').replace(' ', '')}:ref:{entry_ref}/{number}" if entry_ref else ""
            result.append(fields | {"entry_id": ident})
        return result
    if len(details) == 1:  # the usual case: the entry's index holds its only transaction's paths too
        tx = _Paths(details[0], entry, "NtryDtls/TxDtls/")
    else:
        tx = _Paths(details[0]) if details else None
    return [_transaction(tx, entry, common | {"amount": amount})]


def _transaction(tx: _Paths | None, entry: _Paths, common: dict) -> dict:
    """The fields of one transaction; ``tx`` is ``None`` for an entry without details."""
    debit = common["amount"] < 0 or (common["amount"] == 0 and _text(entry, "CdtDbtInd") == "DBIT")
    side, agent = ("Cdtr", "CdtrAgt") if debit else ("Dbtr", "DbtrAgt")
    lines = _below(tx.node, "RmtInf", "Ustrd") if tx is not None else []
    purpose = " ".join(u.text.strip() for u in lines if u.text and u.text.strip())
    own_ref = _text(tx, "Refs/AcctSvcrRef")
    return common | {
        "counterparty_name": _text(tx, f"RltdPties/{side}/Nm") or _text(tx, f"RltdPties/{side}/Pty/Nm"),
        "counterparty_iban": _text(tx, f"RltdPties/{side}Acct/Id/IBAN")
        or _text(tx, f"RltdPties/{side}Acct/Id/Othr/Id"),
        "counterparty_bic": _text(tx, f"RltdAgts/{agent}/FinInstnId/BICFI")
        or _text(tx, f"RltdAgts/{agent}/FinInstnId/BIC"),
        "purpose": purpose or None,
        "structured_reference": _text(tx, "RmtInf/Strd/CdtrRefInf/Ref"),
        "end_to_end_id": real_reference(_text(tx, "Refs/EndToEndId")),
        "bank_reference": real_reference(_text(entry, "AcctSvcrRef")) or real_reference(own_ref)
        or real_reference(_text(tx, "Refs/Prtry/Ref")),
        "transaction_code": _bank_code(tx) or _bank_code(entry),
        "return_reason": _text(tx, "RtrInf/Rsn/Cd") or _text(tx, "RtrInf/Rsn/Prtry"),
        "mandate_id": _text(tx, "Refs/MndtId"),
        "creditor_id": _text(tx, "RltdPties/Cdtr/Id/PrvtId/Othr/Id"),
    }


def _below(node: Element, child: str, grandchild: str) -> list[Element]:
    """``node.findall("child/grandchild")``, in document order, without ElementPath's parsing of the path
    (twice for each of 10,000s of entries)."""
    return [element for parent in node if parent.tag == child for element in parent if element.tag == grandchild]


def _bank_code(node: Element | None) -> str | None:
    """``PMNT-RCDT-ESCT`` from the ISO domain code, else the proprietary code (``NTRF+166+...``)."""
    if node is None:
        return None
    parts = [_text(node, f"BkTxCd/Domn/{path}") for path in ("Cd", "Fmly/Cd", "Fmly/SubFmlyCd")]
    if all(parts):
        return "-".join(parts)
    return _text(node, "BkTxCd/Prtry/Cd")


def _tx_amount(tx: Element) -> Decimal | None:
    """The transaction's own amount (``Amt`` from 001.03 on, ``AmtDtls/TxAmt/Amt`` in 001.02)."""
    for path in ("Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/InstdAmt/Amt"):
        value = _text(tx, path)
        if value:
            return _decimal(value)
    return None


def _signed(node: Element) -> Decimal | None:
    value = _text(node, "Amt")
    if value is None:
        return None
    amount = _decimal(value)
    return -amount if _text(node, "CdtDbtInd") == "DBIT" else amount


def _currency(node: Element) -> str | None:
    amount = node.find("Amt")
    return amount.get("Ccy") if amount is not None else None


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation as exc:
        raise StatementError(f"not an amount: {text!r}") from exc


def _date(node: Element, path: str) -> dt.date | None:
    """``BookgDt``/``ValDt`` as a date, from ``Dt`` or ``DtTm``; a zone suffix (``+02:00``) is ignored."""
    value = _text(node, f"{path}/Dt") or _text(node, f"{path}/DtTm")
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise StatementError(f"not a date: {value!r}") from exc


def _text(node: Element | None, path: str) -> str | None:
    """The stripped text at ``path`` under ``node``, ``None`` when absent or empty."""
    if node is None:
        return None
    found = node.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None
