"""Cell values as sheetbill reads them: text, amounts, dates, yes/no, lists, payment terms.

The same cell semantics for every front end (see :mod:`sheetbill.tables` for the tables they make up):

* identifiers stay text (``"00123"``); a number typed into an ID column loses only a ``.0``;
* amounts become ``Decimal`` (floats through ``str``); text numbers accept ``12.50``, ``12,50``,
  ``1.234,56``, ``1,234.56`` and a currency sign; ``"abc"`` or an ambiguous ``1,500`` is a
  :class:`CellError`;
* dates accept real dates, datetimes, Excel serial numbers, ISO text (``2026-01-31``) and
  ``31.01.2026``;
* numbers beyond what their kind allows are refused (:func:`check_range`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from .i18n import Msg, msg
from .money import D
from .sheets import CellValue
from .terms import MAX_TERMS_DAYS, FeeRule, PaymentTerms, TermsError, parse_fees, parse_payment_terms

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MAX_SERIAL = 2_958_465  # 9999-12-31

#: The valid range of every date cell (and ``--as-of``): late enough to leave room for every due
#: date, reminder and installment computed from it before the calendar ends at 9999-12-31.
DATE_MIN, DATE_MAX = dt.date(1900, 1, 1), dt.date(9000, 12, 31)
#: The largest amount (exclusive): 15 significant digits with cents, what a spreadsheet cell (a
#: double) holds exactly, so an amount read back from history is the amount written.
MAX_AMOUNT = Decimal(10) ** 13
#: The largest quantity, rate or other decimal number (exclusive), and the largest whole number
#: unless a column says less.
MAX_DECIMAL = Decimal(10) ** 9
MAX_INT = 10**9
#: The longest text or ID cell of an input table: generated cells (a reminder's text) combine a few
#: of them and must stay within Excel's 32,767 characters a cell.
MAX_TEXT = 4_000


def normalize(header: object) -> str:
    """The matching key of a header or sheet name: casefolded, without spaces, ``_`` or ``-``."""
    return re.sub(r"[\s_\-]+", "", str(header or "")).casefold()


class CellError(ValueError):
    """A cell whose value does not fit its column; the message is for the clerk, ``code`` for machines
    (the Problem's code: ``not-a-number``, ``ambiguous-amount``, ``not-a-date``, ...)."""

    def __init__(self, message: Msg | str, code: str = "bad-value"):
        super().__init__(str(message))
        self.code = code
        self.message = message


#: The error values a spreadsheet shows in a cell (and front ends pass on as text).
ERROR_VALUES = frozenset({"#N/A", "#NAME?", "#REF!", "#VALUE!", "#DIV/0!", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                           "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"})


def is_blank(value: CellValue) -> bool:
    """True for an empty cell: ``None``, ``""`` or only white space."""
    return value is None or (isinstance(value, str) and not value.strip())


# --- coercion -------------------------------------------------------------------------------------


def to_text(value: CellValue) -> str:
    """Any cell as text: numbers without a spurious ``.0``, dates as ISO."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_CURRENCY_AFFIX = re.compile(r"^(?:[A-Za-z]{3}|[€$£¥₹])|(?:[A-Za-z]{3}|[€$£¥₹])$")


@lru_cache(maxsize=1 << 16)
def _float_decimal(value: float) -> Decimal:
    """``D(value)``, remembered: a sheet holds the same few amounts a million times (prices, shares),
    and converting a float through ``str`` costs ten times a dictionary lookup."""
    return D(value)


def to_decimal(value: CellValue) -> Decimal:
    """A number cell as ``Decimal``; text in either decimal convention is accepted when unambiguous."""
    if type(value) is float:
        try:
            return _float_decimal(value)
        except ValueError as err:
            raise CellError(msg("expected a finite number"), "not-a-number") from err
    if isinstance(value, bool):
        raise CellError(msg("expected a number, found yes/no"), "not-a-number")
    if isinstance(value, (int, float, Decimal)):
        try:
            return D(value)
        except ValueError as err:
            raise CellError(msg("expected a finite number"), "not-a-number") from err
    if isinstance(value, (dt.date, dt.time)):
        raise CellError(msg("expected a number, found a date"), "not-a-number")
    text = re.sub(r"[\s\u00a0\u202f']", "", str(value))
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    text = _CURRENCY_AFFIX.sub("", text).strip()
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        if re.fullmatch(r"[-+]?\d{1,3}(,\d{3}){2,}", text):
            text = text.replace(",", "")
        elif re.fullmatch(r"[-+]?\d{1,3},\d{3}", text):
            raise CellError(msg("{value} is ambiguous: write {whole} or {decimal}", value=repr(value),
                                whole=text.replace(',', ''), decimal=text.replace(',', '.')),
                            "ambiguous-amount")
        elif text.count(",") == 1:
            text = text.replace(",", ".")
        else:
            raise CellError(msg("{value} is not a number", value=repr(value)), "not-a-number")
    elif text.count(".") > 1:
        if re.fullmatch(r"[-+]?\d{1,3}(\.\d{3})+", text):
            text = text.replace(".", "")
        else:
            raise CellError(msg("{value} is not a number", value=repr(value)), "not-a-number")
    try:
        number = Decimal(text)
    except InvalidOperation as err:
        raise CellError(msg("{value} is not a number", value=repr(value)), "not-a-number") from err
    if not number.is_finite():
        raise CellError(msg("{value} is not a number", value=repr(value)), "not-a-number")
    return -number if negative else number


def to_percent(value: CellValue) -> Decimal:
    """A percentage as a number of percent (80 for 80 %).

    ``"80%"`` and ``80`` mean 80 %; a number between 0 and 1 (exclusive of 0) comes from a cell
    formatted as a percentage in Excel, which stores 80 % as 0.8, and is scaled to 80.
    """
    if isinstance(value, str) and value.strip().endswith("%"):
        return to_decimal(value.strip()[:-1])
    number = to_decimal(value)
    if Decimal(0) < number <= Decimal(1) and not isinstance(value, str):
        number = number * 100
    if number < 0 or number > 100:
        raise CellError(msg("{value} is not a percentage between 0 and 100", value=to_text(value)),
                        "out-of-range")
    return number.normalize() if number == number.to_integral() else number


def to_int(value: CellValue) -> int:
    """A whole number (days, counts, priorities)."""
    number = to_decimal(value)
    if number != number.to_integral_value():
        raise CellError(msg("expected a whole number, found {value}", value=to_text(value)),
                        "not-a-whole-number")
    return int(number)


_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+(?:Z|[+-]\d\d:?\d\d)?)?")


def to_date(value: CellValue) -> dt.date:
    """A date from a date cell, a datetime, an Excel serial number, ISO text or ``31.01.2026``,
    between :data:`DATE_MIN` and :data:`DATE_MAX`."""
    return _in_date_range(_any_date(value))


def _any_date(value: CellValue) -> dt.date:
    """A date from any of the forms :func:`to_date` accepts, whatever its year."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise CellError(msg("expected a date, found yes/no"), "not-a-date")
    if isinstance(value, (int, float, Decimal)):
        serial = float(value) if not (isinstance(value, Decimal) and value.is_snan()) else 0.0
        if not 1 <= serial <= _MAX_SERIAL:
            raise CellError(msg("{value} is not a date", value=to_text(value)), "not-a-date")
        return _EXCEL_EPOCH + dt.timedelta(days=int(serial))
    text = str(value).strip()
    match = _ISO.fullmatch(text)
    try:
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        match = _DOTTED.fullmatch(text)
        if match:
            return dt.date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError as err:
        raise CellError(msg("{value} is not a valid date", value=repr(text)), "not-a-date") from err
    raise CellError(msg("{value} is not a date: write 2026-01-31 or 31.01.2026", value=repr(text)),
                    "not-a-date")


def _in_date_range(day: dt.date) -> dt.date:
    """``day`` when it lies in :data:`DATE_MIN` .. :data:`DATE_MAX`, else :class:`CellError`."""
    if not DATE_MIN <= day <= DATE_MAX:
        raise CellError(msg("{day} is outside the dates sheetbill works with ({first} to {last})", day=day.isoformat(),
                            first=DATE_MIN.isoformat(), last=DATE_MAX.isoformat()), "out-of-range")
    return day


_YES = {"yes", "y", "true", "1", "x", "ja", "j", "wahr"}
_NO = {"no", "n", "false", "0", "nein", "falsch"}


def to_bool(value: CellValue) -> bool:
    """A yes/no cell: yes, no, true, false, 1, 0, x (and German ja/nein)."""
    if isinstance(value, bool):
        return value
    key = to_text(value).casefold()
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise CellError(msg("{value} is not yes or no", value=repr(to_text(value))), "not-yes-or-no")


def to_int_list(value: CellValue) -> tuple[int, ...]:
    """A comma- or semicolon-separated list of whole numbers, e.g. ``14, 14, 14``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (to_int(value),)
    parts = [p for p in re.split(r"[;,\s]+", to_text(value)) if p]
    return tuple(to_int(p) for p in parts)


def to_decimal_list(value: CellValue) -> tuple[Decimal, ...]:
    """A semicolon-separated (or comma-and-space separated) list of amounts, e.g. ``0, 5, 10``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (to_decimal(value),)
    text = to_text(value)
    parts = re.split(r";|,\s+|\s+", text) if (";" in text or ", " in text or " " in text) else [text]
    if len(parts) == 1 and "," in text and "." not in text and re.fullmatch(r"[\d,]+", text):
        parts = text.split(",")  # "0,5,10": a list, not a decimal comma
    return tuple(to_decimal(p) for p in parts if p.strip())


def to_payment_terms(value: CellValue) -> PaymentTerms:
    """Payment terms: a number of days (``30``) or ``EOM``, ``EOM + 15``, ``15th next month``
    (the grammar of :mod:`sheetbill.terms`)."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        days = to_int(value)
        if not 0 <= days <= MAX_TERMS_DAYS:
            raise CellError(msg("{value} is out of range (allowed: {allowed})", value=to_text(value),
                                allowed=f"0 to {MAX_TERMS_DAYS:,}"), "out-of-range")
        return PaymentTerms(days)
    try:
        return parse_payment_terms(to_text(value))
    except TermsError as err:
        raise CellError(str(err), "bad-terms") from err


def to_fee_list(value: CellValue) -> tuple[FeeRule, ...]:
    """Reminder Fees: one fee per level, each ``5``, ``2%``, ``2% min 5`` or ``2% min 5 max 50``."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (FeeRule(to_decimal(value)),)
    try:
        return parse_fees(to_text(value))
    except TermsError as err:
        raise CellError(str(err), "bad-terms") from err



COERCERS: dict[str, Callable[[CellValue], Any]] = {
    "raw": lambda value: value,
    "id": to_text,
    "text": to_text,
    "decimal": to_decimal,
    "money": to_decimal,
    "percent": to_percent,
    "int": to_int,
    "date": to_date,
    "yesno": to_bool,
    "intlist": to_int_list,
    "decimallist": to_decimal_list,
    "terms": to_payment_terms,
    "feelist": to_fee_list,
}



def with_shortcut(kind: str, coerce: Callable[[CellValue], Any], positive: bool = False,
                  nonnegative: bool = False) -> Callable[[CellValue], Any]:
    """``coerce`` (a column's whole reading of a cell, checks included) with a shortcut for the cells
    most sheets are made of: a float or Decimal in an amount or decimal column, a date in a date
    column. The shortcut returns only what ``coerce`` would return for the cell; anything else,
    errors included, goes through ``coerce``. ``positive``/``nonnegative``: the column's sign rule,
    as :class:`sheetbill.tables.Field` has it."""
    if kind in ("money", "decimal"):
        limit = MAX_AMOUNT if kind == "money" else MAX_DECIMAL

        def number(value: CellValue) -> Any:
            if type(value) is float and value == value and abs(value) < 1e300:
                result = _float_decimal(value)
            elif type(value) is Decimal and value.is_finite():
                result = value
            else:
                return coerce(value)
            if abs(result) >= limit or (positive and result <= 0) or (nonnegative and result < 0):
                return coerce(value)
            return result
        return number
    if kind == "date" and not positive and not nonnegative:
        def date(value: CellValue) -> Any:
            if type(value) is dt.date:
                day = value
            elif type(value) is dt.datetime:
                day = value.date()
            else:
                return coerce(value)
            return day if DATE_MIN <= day <= DATE_MAX else coerce(value)
        return date
    return coerce


def check_range(value: Any, kind: str, maximum: int | None = None, minimum: int | None = None) -> None:
    """Raise :class:`CellError` (``out-of-range``) for a number beyond what its kind allows: an amount of
    :data:`MAX_AMOUNT` or more, another decimal of :data:`MAX_DECIMAL` or more, a whole number beyond
    ``maximum`` (default :data:`MAX_INT`) or below ``minimum``. Lists are checked item by item."""
    if isinstance(value, tuple):
        for item in value:
            check_range(item, "int" if kind == "intlist" else "decimal", maximum, minimum)
        return
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return
    if kind == "money":
        limit = MAX_AMOUNT
    elif kind in ("int", "intlist"):
        limit = MAX_INT if maximum is None else maximum
    elif kind in ("decimal", "decimallist", "percent"):
        limit = MAX_DECIMAL
    else:
        return
    if kind in ("int", "intlist") and (value > limit or (minimum is not None and value < minimum)):
        low = "" if minimum is None else f"{minimum} to "
        raise CellError(msg("{value} is out of range (allowed: {allowed})", value=str(value),
                            allowed=f"{low}{limit:,}"), "out-of-range")
    if kind not in ("int", "intlist") and abs(value) >= limit:
        raise CellError(msg("{value} is too large (at most {most})", value=f"{value:.15g}",
                            most=f"{limit - Decimal('0.01'):,}"), "out-of-range")
