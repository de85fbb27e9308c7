"""What the commands after billing will need, checked up front: for ``sheetbill check`` and dry runs.

``documents`` and ``send`` need a valid Bank IBAN (else no document with payment details is made),
Email cells that are addresses (else that party's documents are not sent), and, for email, complete
SMTP settings with a password in the environment or the keyring. ``check`` reports all of them
(:func:`readiness_problems`), so a clerk learns before a real run what would stop it; the real
commands apply the same rules (:func:`smtp_config` is what ``send`` connects with; the IBAN rule is
:func:`sheetbill.bank.references.iban_problem`; the email rule :func:`sheetbill.dunning.is_valid_email`).

Nothing here imports the documents package, so the core (``check``) runs without the documents extra.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .bank.references import iban_problem
from .book import Book
from .dunning import is_valid_email
from .models import Settings
from .problems import Problem, error, warning

PASSWORD_ENV = "SHEETBILL_SMTP_PASSWORD"
KEYRING_SERVICE = "sheetbill-smtp:{host}"
SECURITIES = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}


def _setting(settings: Settings, attribute: str) -> object | None:
    """A typed setting, stripped; blank is ``None`` and a whole float an int."""
    value = getattr(settings, attribute, None)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip() or None
    return value


def iban_error(settings: Settings) -> Problem | None:
    """The error of an invalid Bank IBAN (blank is fine: documents then show no bank details)."""
    iban = (settings.bank_iban or "").strip()
    why = iban_problem(iban) if iban else None
    if why is None:
        return None
    return error(f"Bank IBAN {settings.bank_iban!r} {why}; documents with payment details are not made until it "
                 "is fixed", "Settings", settings.rows.get("bankiban"), "Value", code="bad-iban")


def email_problems(book: Book) -> list[Problem]:
    """An error for each Email cell of Customers and Payers that is filled in but is not an address
    (``name(at)example.org``): that party's documents could not be sent."""
    problems = []
    for sheet, parties in (("Customers", book.customers), ("Payers", book.payers)):
        for party in parties.values():
            email = (party.email or "").strip()
            if email and not is_valid_email(email):
                problems.append(error(f"Email {party.email!r} is not a valid address: documents for this party "
                                      "cannot be sent; correct it (or clear it to send letters)", sheet, party.row,
                                      "Email", code="bad-email"))
    return problems


def readiness_problems(book: Book) -> list[Problem]:
    """Everything ``documents`` and ``send`` would refuse, found without making a document: the Bank
    IBAN, the Email cells and, when some party has an email address, the SMTP settings (a blank SMTP
    Host is a warning, as an office may send its documents another way; any other SMTP fault an error)."""
    settings = book.settings
    problems = [p for p in (iban_error(settings),) if p is not None]
    problems += email_problems(book)
    parties = [*book.customers.values(), *book.payers.values()]
    if any(is_valid_email(party.email) for party in parties):
        if _setting(settings, "smtp_host") is None:
            problems.append(warning("SMTP Host is blank: documents for parties with an Email cannot be sent by "
                                    "`sheetbill send` (set SMTP Host, SMTP Port, SMTP Security, SMTP User and "
                                    "Sender Email)", "Settings", settings.rows.get("smtphost"), "Value",
                                    code="smtp-incomplete"))
        else:
            problems += smtp_config(settings)[1]
    return problems


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send mail, from Settings (the password from the environment or keyring)."""

    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    sender: str
    sender_name: str
    reply_to: str | None = None


def smtp_config(settings) -> tuple[SmtpConfig | None, list[Problem]]:
    """The SMTP settings, checked; ``None`` with Problems when email cannot be sent."""
    rows = settings.rows
    problems: list[Problem] = []
    host = _setting(settings, "smtp_host")
    if not host:
        problems.append(error("SMTP Host is blank: documents that go by email cannot be sent (set SMTP Host, "
                              "SMTP Port, SMTP Security, SMTP User and Sender Email)", "Settings",
                              rows.get("smtphost"), "Value", code="smtp-incomplete"))
        return None, problems
    security = str(_setting(settings, "smtp_security") or "starttls").casefold()
    if security not in SECURITIES:
        problems.append(error(f"SMTP Security {security!r} must be one of none, starttls, tls", "Settings",
                              rows.get("smtpsecurity"), "Value", code="bad-setting"))
        return None, problems
    port_value = _setting(settings, "smtp_port")
    try:
        port = DEFAULT_PORTS[security] if port_value in (None, "") else int(str(port_value))
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        problems.append(error(f"SMTP Port {port_value!r} is not a port number (e.g. 587)", "Settings",
                              rows.get("smtpport"), "Value", code="bad-setting"))
        return None, problems
    sender = str(_setting(settings, "sender_email") or settings.company_email or "").strip()
    if not is_valid_email(sender):
        where = "senderemail" if _setting(settings, "sender_email") else "companyemail"
        problems.append(error(f"Sender Email {sender!r} is not an email address (it is the From of every message)",
                              "Settings", rows.get(where), "Value", code="bad-email"))
        return None, problems
    user = _setting(settings, "smtp_user")
    user = str(user) if user else None
    password = os.environ.get(PASSWORD_ENV) or None
    if user and password is None:
        password = _keyring_password(str(host), user)
        if password is None:
            problems.append(error(f"no password for SMTP User {user!r}: set the environment variable {PASSWORD_ENV} "
                                  f"or store it with `keyring set {KEYRING_SERVICE.format(host=host)} {user}` "
                                  "(never in the workbook)", "Settings", rows.get("smtpuser"), "Value",
                                  code="smtp-password-missing"))
            return None, problems
    reply_to = settings.company_email.strip() if settings.company_email and settings.company_email.strip() != sender \
        and is_valid_email(settings.company_email) else None
    return SmtpConfig(str(host), port, security, user, password, sender, settings.company_name or "", reply_to), []


def _keyring_password(host: str, user: str) -> str | None:
    """The password from the system keyring, if the optional ``keyring`` package is installed and has it."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE.format(host=host), user)
    except Exception:  # a keyring backend that cannot be reached is the same as no password stored
        return None
