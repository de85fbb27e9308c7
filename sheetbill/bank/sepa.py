"""SEPA direct-debit initiation files (ISO 20022 pain.008) for the creditor's bank.

:func:`pain008` writes one message in ``pain.008.001.08`` (the current version, default) or
``pain.008.001.02`` (still the one some German banks take). A message holds one or more
:class:`Collection` s -- one ``PmtInf`` each: one creditor account, scheme (``CORE`` or ``B2B``),
sequence type (``FRST``, ``RCUR``, ``OOFF``, ``FNAL``) and collection date -- with their
:class:`DirectDebit` s. The two versions differ here only in the name of the BIC element (``BIC`` in
.02, ``BICFI`` in .08); a missing BIC is written as ``Othr/Id`` ``NOTPROVIDED``, as the EPC rulebook
asks for IBAN-only collections.

The output depends on the inputs alone: the message id and the creation time are parameters, the
payment-information ids are derived from the message id, and elements come in schema order.

What the XML schema does not check is checked before anything is written, raising ``ValueError``:
IBAN and creditor-identifier check digits, amounts (positive, at most two decimals), identifiers
(1-35 characters of the SEPA set, no leading, trailing or double ``/``), and that a mandate was
signed no later than the collection date, and that names keep some letters once written in the
characters SEPA banks accept (accents dropped, German umlauts kept, others replaced by spaces).
Names are then cut to 70 characters and remittance text to 140.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.etree import ElementTree as ET

from sheetbill.bank.references import creditor_id_problem, electronic_iban, iban_is_valid, normalize
from sheetbill.bank.target_days import is_target_day, next_target_day

VERSIONS = ("pain.008.001.08", "pain.008.001.02")
SCHEMES = ("CORE", "B2B")
SEQUENCES = ("FRST", "RCUR", "OOFF", "FNAL")
_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:"
_ID = re.compile(r"[A-Za-z0-9+?/\-:().,' ]{1,35}")
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?")
_TEXT_ALLOWED = re.compile(r"[^A-Za-z0-9/\-?:().,'+ &*$%ÄÖÜäöüß]")
_MAX_AMOUNT = Decimal("999999999.99")
#: Letters that Unicode does not decompose into a base letter and an accent.
_SPELLED = str.maketrans({"Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "Æ": "AE", "æ": "ae",
                          "Œ": "OE", "œ": "oe", "ı": "i", "Þ": "Th", "þ": "th", "ẞ": "SS"})


@dataclass(frozen=True)
class DirectDebit:
    """One collection from one debtor.

    Attributes:
        end_to_end_id: the reference the debtor sees and a return quotes (e.g. the invoice number).
        amount: the amount in euro, positive, at most two decimals.
        mandate_id: the mandate reference.
        mandate_signed: the date the debtor signed the mandate.
        debtor_name: the account holder's name.
        debtor_iban: the debtor's IBAN.
        debtor_bic: the debtor bank's BIC, optional within SEPA.
        remittance: the text on the debtor's statement (up to 140 characters).
    """

    end_to_end_id: str
    amount: Decimal
    mandate_id: str
    mandate_signed: dt.date
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None = None
    remittance: str = ""


@dataclass(frozen=True)
class Collection:
    """The direct debits of one creditor account, scheme, sequence type and collection date.

    Attributes:
        creditor_name: the creditor's name as the debtor should see it.
        creditor_iban: the account the money goes to.
        creditor_id: the SEPA creditor identifier (Gläubiger-ID).
        collection_date: the requested collection (due) date.
        transactions: the direct debits.
        creditor_bic: the creditor bank's BIC, optional.
        scheme: ``CORE`` (consumers) or ``B2B``.
        sequence: ``FRST``, ``RCUR``, ``OOFF`` or ``FNAL``.
    """

    creditor_name: str
    creditor_iban: str
    creditor_id: str
    collection_date: dt.date
    transactions: tuple[DirectDebit, ...]
    creditor_bic: str | None = None
    scheme: str = "CORE"
    sequence: str = "RCUR"


def pain008(
    message_id: str,
    created: dt.datetime,
    collections: Collection | Sequence[Collection],
    *,
    version: str = "pain.008.001.08",
    initiating_party: str | None = None,
) -> bytes:
    """The pain.008 message ``message_id`` created at ``created``, as UTF-8 XML bytes.

    ``initiating_party`` defaults to the first collection's creditor name. Raises ``ValueError`` for
    an unknown version and for any input the banks would reject (see the module docstring).
    """
    batches = [collections] if isinstance(collections, Collection) else list(collections)
    if version not in VERSIONS:
        raise ValueError(f"unknown pain.008 version {version!r}; known: {', '.join(VERSIONS)}")
    if not batches:
        raise ValueError("a direct-debit file needs at least one collection")
    _check_id("message id", message_id)
    for batch in batches:
        _check_collection(batch)
    # The namespace is written as a plain attribute so every element has the default namespace, unprefixed.
    document = ET.Element("Document", {"xmlns": _NAMESPACE + version})
    root = _sub(document, "CstmrDrctDbtInitn")
    header = _sub(root, "GrpHdr")
    everything = [tx for batch in batches for tx in batch.transactions]
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", created.replace(microsecond=0).isoformat())
    _sub(header, "NbOfTxs", str(len(everything)))
    _sub(header, "CtrlSum", _amount(sum((tx.amount for tx in everything), Decimal(0))))
    _sub(_sub(header, "InitgPty"), "Nm", sepa_text(initiating_party or batches[0].creditor_name, 70))
    for number, batch in enumerate(batches, start=1):
        _payment_information(root, version, f"{message_id[:31]}-{number:03d}", batch)
    ET.indent(document)
    body = ET.tostring(document, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


def _payment_information(root: ET.Element, version: str, payment_id: str, batch: Collection) -> None:
    info = _sub(root, "PmtInf")
    _sub(info, "PmtInfId", payment_id)
    _sub(info, "PmtMtd", "DD")
    _sub(info, "BtchBookg", "true")
    _sub(info, "NbOfTxs", str(len(batch.transactions)))
    _sub(info, "CtrlSum", _amount(sum((tx.amount for tx in batch.transactions), Decimal(0))))
    kind = _sub(info, "PmtTpInf")
    _sub(_sub(kind, "SvcLvl"), "Cd", "SEPA")
    _sub(_sub(kind, "LclInstrm"), "Cd", batch.scheme)
    _sub(kind, "SeqTp", batch.sequence)
    _sub(info, "ReqdColltnDt", batch.collection_date.isoformat())
    _sub(_sub(info, "Cdtr"), "Nm", sepa_text(batch.creditor_name, 70))
    _account(info, "CdtrAcct", batch.creditor_iban)
    _agent(info, version, "CdtrAgt", batch.creditor_bic)
    _sub(info, "ChrgBr", "SLEV")
    scheme_id = _sub(_sub(_sub(_sub(info, "CdtrSchmeId"), "Id"), "PrvtId"), "Othr")
    _sub(scheme_id, "Id", normalize(batch.creditor_id))
    _sub(_sub(scheme_id, "SchmeNm"), "Prtry", "SEPA")
    for tx in batch.transactions:
        _transaction(info, version, tx)


def _transaction(info: ET.Element, version: str, tx: DirectDebit) -> None:
    node = _sub(info, "DrctDbtTxInf")
    _sub(_sub(node, "PmtId"), "EndToEndId", tx.end_to_end_id)
    _sub(node, "InstdAmt", _amount(tx.amount)).set("Ccy", "EUR")
    mandate = _sub(_sub(node, "DrctDbtTx"), "MndtRltdInf")
    _sub(mandate, "MndtId", tx.mandate_id)
    _sub(mandate, "DtOfSgntr", tx.mandate_signed.isoformat())
    _agent(node, version, "DbtrAgt", tx.debtor_bic)
    _sub(_sub(node, "Dbtr"), "Nm", sepa_text(tx.debtor_name, 70))
    _account(node, "DbtrAcct", tx.debtor_iban)
    remittance = sepa_text(tx.remittance, 140)
    if remittance:
        _sub(_sub(node, "RmtInf"), "Ustrd", remittance)


def _account(parent: ET.Element, tag: str, iban: str) -> None:
    _sub(_sub(_sub(parent, tag), "Id"), "IBAN", electronic_iban(iban))


def _agent(parent: ET.Element, version: str, tag: str, bic: str | None) -> None:
    institution = _sub(_sub(parent, tag), "FinInstnId")
    if bic:
        _sub(institution, "BIC" if version.endswith(".02") else "BICFI", normalize(bic))
    else:
        _sub(_sub(institution, "Othr"), "Id", "NOTPROVIDED")


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def _amount(amount: Decimal) -> str:
    return f"{amount:.2f}"


def sepa_text(text: str, limit: int) -> str:
    """``text`` in the characters SEPA banks accept (accents dropped, umlauts kept), cut to ``limit``."""
    spelled = " ".join(text.split()).translate(_SPELLED)
    kept = "".join(ch if ch in "ÄÖÜäöüß" else unicodedata.normalize("NFKD", ch) for ch in spelled)
    kept = "".join(ch for ch in kept if not unicodedata.combining(ch))
    return " ".join(_TEXT_ALLOWED.sub(" ", kept).split())[:limit].rstrip()


def _check_collection(batch: Collection) -> None:
    """Raise ``ValueError`` naming the first thing in ``batch`` a bank would reject."""
    if batch.scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}, not {batch.scheme!r}")
    if batch.sequence not in SEQUENCES:
        raise ValueError(f"sequence type must be one of {', '.join(SEQUENCES)}, not {batch.sequence!r}")
    if not batch.transactions:
        raise ValueError("a collection needs at least one direct debit")
    if not is_target_day(batch.collection_date):
        raise ValueError(f"collection date {batch.collection_date.isoformat()} is not a TARGET2 business day "
                         f"(weekend or TARGET holiday); the next one is {next_target_day(batch.collection_date)}")
    _check_account("creditor", batch.creditor_iban, batch.creditor_bic)
    _check_name("creditor", batch.creditor_name)
    problem = creditor_id_problem(batch.creditor_id)
    if problem:
        raise ValueError(f"creditor id {batch.creditor_id!r} {problem}")
    for tx in batch.transactions:
        _check_id("end-to-end id", tx.end_to_end_id)
        _check_id("mandate id", tx.mandate_id)
        _check_account(f"debtor of {tx.end_to_end_id}", tx.debtor_iban, tx.debtor_bic)
        _check_name(f"debtor of {tx.end_to_end_id}", tx.debtor_name)
        if not (Decimal("0.01") <= tx.amount <= _MAX_AMOUNT) or tx.amount != tx.amount.quantize(Decimal("0.01")):
            raise ValueError(f"{tx.end_to_end_id}: amount {tx.amount} is not a positive euro amount with cents")
        if tx.mandate_signed > batch.collection_date:
            raise ValueError(f"{tx.end_to_end_id}: mandate signed {tx.mandate_signed} after the collection date")


def _check_account(whose: str, iban: str, bic: str | None) -> None:
    if not iban_is_valid(iban):
        raise ValueError(f"{whose}: {iban!r} is not a valid IBAN")
    if bic and not _BIC.fullmatch(normalize(bic)):
        raise ValueError(f"{whose}: {bic!r} is not a BIC")


def _check_name(whose: str, name: str) -> None:
    if not sepa_text(name, 70):
        raise ValueError(f"{whose}: the name {name!r} has no characters a SEPA bank accepts; give it in Latin letters")


def _check_id(what: str, value: str) -> None:
    if not _ID.fullmatch(value or "") or value.startswith("/") or value.endswith("/") or "//" in value:
        raise ValueError(f"{what} {value!r}: 1-35 letters, digits or / - ? : ( ) . , ' + and space, "
                         "not starting or ending with / and without //")
