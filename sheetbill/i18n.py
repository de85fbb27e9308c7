"""The language of every sentence sheetbill writes into sheets: gettext catalogues read with Babel.

Sentences are written in English in the code, as gettext message ids with named placeholders
(``"on hold until {until}"``), and looked up in ``sheetbill/locale/<language>/LC_MESSAGES/sheetbill.po``
when a sheet is written. The catalogues are plain ``.po`` files read with Babel at first use (cached):
nothing is compiled at install. English and German are shipped complete; a test checks that every
message id the code uses is in both and that no German entry is untranslated or fuzzy.

A sentence is kept as a :class:`Msg` (its message id and values) until the run knows the language,
so a Problem found before Settings were read is still written in the workbook's language. Values
are formatted by type when the sentence is rendered, in the language's locale: a :class:`Money` as
``106,40 EUR`` (``106.40 EUR`` in English), a date as ``28.02.2026`` (ISO ``2026-02-28`` in English,
as the workbook's own dates are typed), a Decimal with the locale's decimal sign, a nested
:class:`Msg` in the same language.

Names of sheets, columns and settings, and the values other tools and sheetbill itself read back
(Status ``Paid``, Kind ``Credit Note``, Bill To Type ``Payer``, Severity ``error``, problem codes),
are the contract and stay as :mod:`sheetbill.contract` names them, in every language.

Documents (PDF letters) have their own wording in TOML templates per language, which an office can
override (:mod:`sheetbill.documents.templates`); they format dates and amounts the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from .money import fmt, minor_unit, quantize

if TYPE_CHECKING:
    from babel.numbers import NumberPattern

# Babel is imported where a sentence is first rendered, not here: records import this module for Msg,
# and a run with nothing new (the stamp check) must not pay for loading Babel's locale data.

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "sheetbill"
#: The languages whose catalogues ship with sheetbill.
SHIPPED = ("en", "de")
_LANGUAGE_NAMES = {"english": "en", "englisch": "en", "german": "de", "deutsch": "de"}
#: How each shipped language writes a date in a sentence (a CLDR pattern); others use the locale's medium form.
_DATE_PATTERNS = {"en": "yyyy-MM-dd", "de": "dd.MM.yyyy"}


@cache
def _money_pattern(digits: int) -> NumberPattern:
    """The CLDR pattern of an amount with ``digits`` decimals and the currency's code."""
    from babel.numbers import parse_pattern

    return parse_pattern("#,##0" + ("." + "0" * digits if digits else "") + " ¤¤")


def language_code(value: str | None) -> str:
    """A Settings ``Language`` value as a two-letter code: ``de``, ``DE``, ``de-AT``, ``Deutsch`` -> ``de``."""
    text = (value or "").strip().casefold()
    if text in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[text]
    return text.replace("_", "-").split("-")[0][:8] or "en"


@dataclass(frozen=True)
class Money:
    """An amount in a sentence: written with the currency's minor unit and code (``106,40 EUR``)."""

    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Msg:
    """A sentence not yet in a language: its English message id and the values of its placeholders.

    ``str(msg)`` is the English sentence; :meth:`Language.render` writes it in another language.
    """

    msgid: str
    params: tuple[tuple[str, object], ...] = ()

    def __str__(self) -> str:
        return language("en").render(self)


def msg(msgid: str, /, **params: object) -> Msg:
    """The sentence ``msgid`` (a message id of the catalogues) with the values of its placeholders."""
    return Msg(msgid, tuple(params.items()))


class Language:
    """One language's catalogue and number and date formats: what renders a :class:`Msg`."""

    def __init__(self, code: str, messages: Mapping[str, str]):
        self.code = code
        self.messages = dict(messages)
        self._date_pattern = _DATE_PATTERNS.get(code, "medium")
        self._dates: dict[dt.date, str] = {}
        self._locale = None

    @property
    def locale(self):
        """Babel's locale of the language (English when Babel does not know the code)."""
        if self._locale is None:
            from babel import Locale

            try:
                self._locale = Locale.parse(self.code)
            except (ValueError, LookupError):
                self._locale = Locale.parse("en")
        return self._locale

    def gettext(self, msgid: str) -> str:
        """The translation of ``msgid``, or ``msgid`` itself when the catalogue lacks it."""
        return self.messages.get(msgid) or msgid

    def render(self, text: Msg | str) -> str:
        """``text`` in this language, its values formatted by type; a plain ``str`` is returned as it is."""
        if not isinstance(text, Msg):
            return text
        template = self.gettext(text.msgid)
        if not text.params:
            return template
        return template.format(**{name: self.value(value) for name, value in text.params})

    def value(self, value: object) -> str:
        """One placeholder's value as this language writes it in a sentence."""
        if isinstance(value, str):
            return value
        if isinstance(value, Msg):
            return self.render(value)
        if isinstance(value, tuple | list):
            return ", ".join(self.value(v) for v in value)
        if isinstance(value, Money):
            return self.money(value.amount, value.currency)
        if isinstance(value, dt.datetime):
            return self.date(value.date())
        if isinstance(value, dt.date):
            return self.date(value)
        if isinstance(value, Decimal | float):
            return self.number(Decimal(str(value)))
        return str(value)

    def date(self, day: dt.date) -> str:
        """``day`` as this language writes it in a sentence (``28.02.2026``, ``2026-02-28``)."""
        if self.code == "en":
            return day.isoformat()
        text = self._dates.get(day)
        if text is None:
            from babel.dates import format_date

            text = self._dates[day] = format_date(day, self._date_pattern, locale=self.locale)
        return text

    def money(self, amount: Decimal, currency: str) -> str:
        """``amount`` at the currency's minor unit with its code: ``1.234,50 EUR``, ``1,234.50 EUR``."""
        if self.code == "en":
            return fmt(amount, currency)  # what CLDR's English pattern gives, without loading Babel
        pattern = _money_pattern(minor_unit(currency))
        return pattern.apply(quantize(amount, currency), self.locale, currency=currency, currency_digits=False)

    def number(self, value: Decimal) -> str:
        """A plain number (a rate, a quantity) with the locale's signs and no trailing zeros: ``8,12``."""
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if self.code == "en":
            return text
        return text.replace(".", self.locale.number_symbols["latn"]["decimal"])


def catalogue_path(code: str) -> Path:
    """Where the shipped catalogue of ``code`` is."""
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(path: Path) -> dict[str, str]:
    """The translated, non-fuzzy entries of a ``.po`` file: ``{msgid: msgstr}``."""
    from babel.messages.pofile import read_po

    with open(path, "rb") as handle:
        catalog = read_po(handle)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


@cache
def language(value: str | None) -> Language:
    """The language of a Settings ``Language`` value (cached); unknown languages write English."""
    code = language_code(value)
    path = catalogue_path(code)
    if code == "en" or not path.exists():
        # The English catalogue translates every message id into itself (a test checks that): English
        # sentences need neither the file nor Babel.
        return Language("en", {})
    return Language(code, read_catalogue(path))
