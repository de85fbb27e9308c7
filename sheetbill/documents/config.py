"""Settings this package adds, and reading them whether or not the core knows them yet.

The names in :data:`SETTINGS` are meant for ``sheetbill.contract.SETTING_FIELDS``. Until they are
merged there, the core keeps them in ``Settings.extra`` by normalized name; :func:`setting` reads
either way, so nothing here changes when they are merged.
"""

from __future__ import annotations

from ..tables import normalize

#: Settings read by documents and sending: name -> (attribute when merged into Settings, kind, description).
SETTINGS: dict[str, tuple[str, str, str]] = {
    "Document Templates": ("document_templates", "text",
                           "Folder of the office's own document templates (relative to the workbook's folder)."),
    "Bank BIC": ("bank_bic", "text", "BIC of the bank account; printed on documents and put into the EPC QR code."),
    "SMTP Host": ("smtp_host", "text", "Mail server for sending documents (e.g. smtp.example.org)."),
    "SMTP Port": ("smtp_port", "int", "Its port (default 587 with starttls, 465 with tls, 25 with none)."),
    "SMTP Security": ("smtp_security", "text", "starttls (default), tls or none."),
    "SMTP User": ("smtp_user", "text",
                  "Login name; the password comes from SHEETBILL_SMTP_PASSWORD or the system keyring."),
    "Sender Email": ("sender_email", "text", "From address of sent documents (default Company Email)."),
    "Send Documents From": ("send_documents_from", "date",
                            "Documents dated before this day are never sent (they went out by other means)."),
}

def is_valid_email(text: str | None) -> bool:
    """True when ``text`` has the syntax of an email address (``name@example.org``): the same check overdue
    tracking makes before it issues a reminder, so both agree on which addresses are usable."""
    from ..overdue import is_valid_email as check

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
