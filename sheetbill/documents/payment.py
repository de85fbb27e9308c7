"""Bank details on documents: BIC checks, creditor references and the EPC QR code payload (the IBAN
rule is :func:`sheetbill.bank.references.iban_problem`, re-exported here).

The IBAN and RF reference rules live in :mod:`sheetbill.bank.references` (one place); a bad IBAN
is a Problem and no QR code is printed with it: a customer paying by scanning would send money
nowhere.

The EPC QR code ("GiroCode", European Payments Council guideline EPC069-12) is plain text, one
field a line: service tag ``BCD``, version ``001`` (with BIC) or ``002`` (BIC optional), character
set ``1`` (UTF-8), ``SCT``, BIC, beneficiary name, IBAN, ``EUR`` amount, purpose, then either a
structured ISO 11649 creditor reference (``RF..``) or an unstructured remittance text.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ..bank.references import (
    IBAN_LENGTHS,
    creditor_reference,
    electronic_iban,
    iban_is_valid,
    iban_problem,
    is_valid_rf,
)

__all__ = ["IBAN_LENGTHS", "bic_is_valid", "compact", "creditor_reference", "epc_payload", "format_iban",
           "iban_is_valid", "iban_problem", "is_creditor_reference"]

_BIC_SHAPE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")

#: EPC limits: beneficiary name, structured reference, remittance text, whole payload (bytes).
EPC_NAME_MAX, EPC_REFERENCE_MAX, EPC_TEXT_MAX, EPC_PAYLOAD_MAX = 70, 35, 140, 331
EPC_AMOUNT_MAX = Decimal("999999999.99")


def compact(text: str) -> str:
    """An IBAN, BIC or reference without spaces, dashes or dots, upper case (``de89 3704...`` ->
    ``DE893704...``): the electronic form of an IBAN (:func:`~sheetbill.bank.references.electronic_iban`),
    which a BIC and a reference are written in too."""
    return electronic_iban(text)


def format_iban(iban: str) -> str:
    """An IBAN in groups of four, as printed on paper: ``DE89 3704 0044 0532 0130 00``."""
    value = compact(iban)
    return " ".join(value[i:i + 4] for i in range(0, len(value), 4))


def bic_is_valid(bic: str) -> bool:
    """True when ``bic`` has the shape of a BIC (ISO 9362): 8 or 11 letters and digits."""
    return bool(_BIC_SHAPE.match(compact(bic)))


def is_creditor_reference(reference: str) -> bool:
    """True when ``reference`` is an ISO 11649 structured creditor reference (``RF18 5390 0754 7034``)."""
    return is_valid_rf(compact(reference))


def epc_payload(*, name: str, iban: str, amount: Decimal, reference: str, bic: str = "", text: str = "") -> str:
    """The EPC QR code text for a SEPA credit transfer in euro.

    ``reference`` goes into the structured field when it is an RF creditor reference, otherwise
    into the remittance text (where ``text`` is then ignored). Version ``001`` is used when a BIC
    is given, ``002`` (BIC optional, EEA transfers) otherwise.

    :raises ValueError: for an amount outside 0.01 .. 999,999,999.99, an invalid IBAN, or a
        payload longer than the 331 bytes the standard allows.
    """
    if iban_problem(iban):
        raise ValueError(f"invalid IBAN {iban!r}")
    if not Decimal("0.01") <= amount <= EPC_AMOUNT_MAX:
        raise ValueError(f"an EPC QR code needs an amount from 0.01 to {EPC_AMOUNT_MAX} EUR, not {amount}")
    structured = is_creditor_reference(reference)
    fields = [
        "BCD",
        "001" if bic else "002",
        "1",
        "SCT",
        compact(bic),
        _clip(" ".join(name.split()), EPC_NAME_MAX),
        compact(iban),
        f"EUR{amount.quantize(Decimal('0.01'))}",
        "",
        compact(reference) if structured else "",
        "" if structured else _clip(reference or text, EPC_TEXT_MAX),
    ]
    payload = "\n".join(fields).rstrip("\n")
    if len(payload.encode("utf-8")) > EPC_PAYLOAD_MAX:
        raise ValueError("the EPC QR code text is longer than 331 bytes")
    return payload


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]
