"""The settings documents and sending read, and reading them.

The names in :data:`SETTINGS` are part of ``sheetbill.contract.SETTING_FIELDS`` (so they are typed
attributes of :class:`~sheetbill.models.Settings`); :func:`setting` also finds a name that is only in
``Settings.extra`` (unknown settings, by normalized name).
"""

from __future__ import annotations

from ..cells import normalize
from ..contract import SETTING_FIELDS

#: Settings read by documents and sending (defined with all others in the workbook contract).
SETTINGS: dict[str, tuple[str, str, str]] = {name: SETTING_FIELDS[name] for name in (
    "Document Templates", "Bank BIC", "SMTP Host", "SMTP Port", "SMTP Security", "SMTP User", "Sender Email",
    "Send Documents From", "Company Country")}


def is_valid_email(text: str | None) -> bool:
    """True when ``text`` has the syntax of an email address (``name@example.org``): the same check overdue
    tracking makes before it issues a reminder, so both agree on which addresses are usable."""
    from ..dunning import is_valid_email as check

    return check(text)


def setting(settings, name: str) -> object | None:
    """A setting of :data:`SETTINGS`, whether merged into :class:`~sheetbill.models.Settings` (an attribute)
    or still in ``Settings.extra``; text is stripped, whole floats become ints, blank is ``None``."""
    attribute = SETTINGS[name][0] if name in SETTINGS else name.casefold().replace(" ", "_")
    value = getattr(settings, attribute) if hasattr(settings, attribute) else settings.extra.get(normalize(name))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip() or None
    return value
