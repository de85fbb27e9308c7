"""The Leitweg-ID: how German public bodies are addressed in XRechnung (buyer reference, BT-10).

A Leitweg-ID is ``coarse[-fine]-check``: a coarse address of 2 to 12 digits, an optional fine
address of up to 30 letters and digits, and two check digits computed with ISO 7064 Mod 97-10
over coarse and fine address (letters counted like in an IBAN, A = 10 ... Z = 35). The number
formed by the whole ID without hyphens is then 1 modulo 97 (KoSIT, "Formatspezifikation
Leitweg-ID" 2.0.x). ``04011000-12345-03`` is valid; ``04011000-12345-04`` is not.
"""

from __future__ import annotations

import re

_SHAPE = re.compile(r"^(\d{2,12})(?:-([A-Za-z0-9]{1,30}))?-(\d{2})$")


def looks_like_leitweg_id(text: str) -> bool:
    """True when ``text`` has the shape of a Leitweg-ID (digits, optional fine part, two check digits)."""
    return bool(_SHAPE.match(text.strip()))


def _digits(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text.upper()))


def check_digits(coarse: str, fine: str = "") -> str:
    """The two check digits of a Leitweg-ID with ``coarse`` (and ``fine``) address."""
    return f"{98 - _digits(coarse + fine + '00') % 97:02d}"


def leitweg_problem(text: str) -> str | None:
    """Why ``text`` is not a valid Leitweg-ID (``None`` when it is)."""
    match = _SHAPE.match(text.strip())
    if not match:
        return ("is not a Leitweg-ID (2 to 12 digits, optionally a hyphen and up to 30 letters or digits, then "
                "a hyphen and two check digits, e.g. 04011000-12345-03)")
    coarse, fine, check = match[1], match[2] or "", match[3]
    if _digits(coarse + fine + check) % 97 != 1:
        return f"has wrong check digits {check} (they should be {check_digits(coarse, fine)}): a typing error?"
    return None
