"""Payment references: ISO 11649 RF creditor references and SEPA creditor identifiers.

**RF creditor reference** (ISO 11649): ``RF``, two check digits, then 1 to 21 letters and digits chosen
by the creditor (an invoice number, a customer number). The check digits make the whole reference,
with ``RF`` and the check digits moved to the end and letters counted A=10 ... Z=35, leave 1 modulo
97 (ISO 7064 MOD 97-10), so a payer's typo is caught by the bank or by us. On paper it is printed in
groups of four (``RF18 5390 0754 7034``); electronically it has no spaces. Readers here accept either
and any letter case.

**SEPA creditor identifier** (Gläubiger-Identifikationsnummer, e.g. ``DE98ZZZ09999999999``): the
country, two check digits, a three-character business code that the creditor may choose freely and
that is therefore *not* part of the check, and the national identifier. The check digits are
``98 - (national id + country + "00") mod 97``, letters counted as above.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_RF = re.compile(r"RF[0-9]{2}[A-Z0-9]{1,21}")
_CREDITOR_ID = re.compile(
    r"(?P<country>[A-Z]{2})(?P<check>[0-9]{2})(?P<business>[A-Z0-9]{3})(?P<national>[A-Z0-9]{1,28})"
)
#: IBAN length by country (ISO 13616 registry): a wrong length is caught before mod-97.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
#: Length of the whole creditor identifier where the country fixes it (Deutsche Bundesbank: always 18).
CREDITOR_ID_LENGTHS = {"DE": 18}


_WHITESPACE = re.compile(r"\s+")
_NOT_LETTER_OR_DIGIT = re.compile(r"[^A-Z0-9]")
_IBAN_SEPARATORS = re.compile(r"[\s\-.]+")
#: The digits ending each line (one match per line, ``""`` for a line ending in a letter).
_DIGITS_AT_END = re.compile(r"([0-9]*)\n")


def normalize(text: str) -> str:
    """``text`` without spaces (or other whitespace) and in upper case: ``rf18 5390`` -> ``RF185390``."""
    if text and text.isalnum():  # nothing to take out (most IBANs and references): no regex
        return text.upper()
    return _WHITESPACE.sub("", text or "").upper()


#: Letters as the numbers ISO 7064 MOD 97-10 counts them (A=10 ... Z=35), for :func:`mod97`.
_LETTER_NUMBERS = str.maketrans({ch: str(int(ch, 36)) for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"})


def mod97(text: str) -> int:
    """ISO 7064 MOD 97-10 remainder of ``text``, letters counted A=10 ... Z=35.

    :raises ValueError: for anything but ASCII letters and digits.
    """
    rest = text.lstrip("0123456789")  # digits before the first letter (most of an IBAN) stay as they are
    digits = text[:len(text) - len(rest)] + rest.translate(_LETTER_NUMBERS)
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{text!r}: only letters and digits have a MOD 97-10 value")
    return int(digits) % 97


def creditor_reference(base: str) -> str:
    """The RF creditor reference for ``base`` (1-21 letters and digits; spaces ignored): ``RF18539007547034``.

    Raises ``ValueError`` for an empty or too long base or one with other characters.
    """
    value = normalize(base)
    if not re.fullmatch(r"[A-Z0-9]{1,21}", value):
        raise ValueError(f"{base!r} cannot be made an RF creditor reference (1-21 letters and digits)")
    return f"RF{98 - mod97(value + 'RF00'):02d}{value}"


def invoice_key(invoice_no: str) -> str:
    """The invoice number with only its letters and digits, upper case: ``INV-000123`` -> ``INV000123``."""
    key = invoice_no.upper()
    if key.isascii() and key.isalnum():
        return key
    plain = key.replace("-", "")  # the usual separator; letters and digits without it need no regex
    return plain if plain.isascii() and plain.isalnum() else _NOT_LETTER_OR_DIGIT.sub("", key)


def invoice_keys(invoice_nos: Sequence[str]) -> list[str]:
    """:func:`invoice_key` of every number: in a few passes over all of them at once when they are
    letters, digits and hyphens only (the usual sheet of 100,000s), else one by one."""
    joined = "\n".join(invoice_nos).upper().replace("-", "")
    if joined.count("\n") == len(invoice_nos) - 1 and joined.isascii() and joined.replace("\n", "").isalnum():
        return joined.split("\n")
    return list(map(invoice_key, invoice_nos))


def key_numbers(keys: Sequence[str]) -> list[str]:
    """The digits at the end of each invoice key (``INV000123`` -> ``000123``; ``""`` when it ends in a
    letter): the number an invoice is named by in a purpose text."""
    if not keys:
        return []
    return _DIGITS_AT_END.findall("\n".join(keys) + "\n")


def invoice_rf(invoice_no: str) -> str | None:
    """The RF creditor reference of an invoice: ``RF``, check digits, :func:`invoice_key` of its number
    (``INV-000123`` -> ``RF29INV000123``).

    ``None`` when the number has no letters or digits, or more than the 21 an RF reference can carry
    (the invoice number itself is then the reference).
    """
    key = invoice_key(invoice_no)
    return creditor_reference(key) if 0 < len(key) <= 21 else None


def is_valid_rf(reference: str) -> bool:
    """True when ``reference`` (spaces and case ignored) is an RF creditor reference with good check digits."""
    value = normalize(reference)
    return bool(_RF.fullmatch(value)) and mod97(value[4:] + value[:4]) == 1


def format_rf(reference: str) -> str:
    """An RF reference as printed on paper, in groups of four: ``RF18 5390 0754 7034``."""
    value = normalize(reference)
    return " ".join(value[i:i + 4] for i in range(0, len(value), 4))


def creditor_id_check_digits(country: str, national_id: str) -> str:
    """The two check digits of a SEPA creditor identifier of ``country`` with ``national_id``."""
    return f"{98 - mod97(normalize(national_id) + normalize(country) + '00'):02d}"


def creditor_id_problem(creditor_id: str) -> str | None:
    """Why ``creditor_id`` is not a valid SEPA creditor identifier, or ``None`` when it is."""
    value = normalize(creditor_id)
    match = _CREDITOR_ID.fullmatch(value)
    if not match:
        return "is not a SEPA creditor identifier: country, two check digits, three characters, national id"
    expected = CREDITOR_ID_LENGTHS.get(match["country"])
    if expected is not None and len(value) != expected:
        return f"has {len(value)} characters; a creditor identifier from {match['country']} has {expected}"
    if creditor_id_check_digits(match["country"], match["national"]) != match["check"]:
        return "fails the check digits (a typo?)"
    return None


def is_valid_creditor_id(creditor_id: str) -> bool:
    """True when ``creditor_id`` (spaces and case ignored) is a SEPA creditor identifier with good check digits."""
    return creditor_id_problem(creditor_id) is None


@dataclass(frozen=True)
class IbanFault:
    """Why a text is not a valid IBAN (:func:`iban_fault`).

    Attributes:
        kind: ``shape`` (not two letters, two digits and 11 to 30 letters or digits), ``length`` (not
            the length its country prescribes) or ``check`` (the mod-97 check digits fail).
        country: the two letters it starts with (for ``length``).
        length, expected: its length and the country's (for ``length``).
    """

    kind: str
    country: str = ""
    length: int = 0
    expected: int = 0


def electronic_iban(iban: str) -> str:
    """``iban`` in the electronic format of ISO 13616, without spaces, dashes or dots and in upper case
    (``de89 3704-0044.0532 0130 00`` -> ``DE89370400440532013000``): the form IBANs are written in
    files and compared in, however they were typed."""
    return iban.upper() if iban and iban.isalnum() else _IBAN_SEPARATORS.sub("", iban or "").upper()


def iban_fault(iban: str) -> IbanFault | None:
    """Why ``iban`` (spaces, dashes, dots and case ignored) is not a valid IBAN, or ``None`` when it is:
    the shape, the length the country prescribes (:data:`IBAN_LENGTHS`) and the mod-97 check digits
    (ISO 13616). The one IBAN rule; Settings, Mandates, Customers and direct debits all use it."""
    value = electronic_iban(iban)
    if not _IBAN.fullmatch(value):
        return IbanFault("shape")
    expected = IBAN_LENGTHS.get(value[:2])
    if expected is not None and len(value) != expected:
        return IbanFault("length", value[:2], len(value), expected)
    if mod97(value[4:] + value[:4]) != 1:
        return IbanFault("check")
    return None


def iban_problem(iban: str) -> str | None:
    """Why ``iban`` is not a valid IBAN (:func:`iban_fault`) in the clerk's words (English), or ``None``."""
    fault = iban_fault(iban)
    if fault is None:
        return None
    if fault.kind == "shape":
        return ("is not an IBAN: two letters, two check digits, then the account number "
                "(e.g. DE89 3704 0044 0532 0130 00)")
    if fault.kind == "length":
        return f"has {fault.length} characters; an IBAN from {fault.country} has {fault.expected}"
    return "fails the IBAN check digits (a typo or two swapped digits?)"


def iban_is_valid(iban: str) -> bool:
    """True when ``iban`` (spaces and case ignored) is a valid IBAN (:func:`iban_problem`)."""
    return iban_problem(iban) is None
