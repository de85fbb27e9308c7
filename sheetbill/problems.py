"""Problems: errors as values that say where they are.

Like beancount's error tuples, a :class:`Problem` carries its source (sheet, row, column) with the
message, so the clerk can go straight to the cell. Every stage returns its results together with
the problems it found; the run collects them, skips the rows they name, and shows them in the
Problems sheet and on the command line. Only broken configuration, which makes the whole run
meaningless, is raised as :class:`ConfigurationError` and aborts before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the workbook.

    Attributes:
        severity: ``"error"`` when the row was skipped (nothing of it billed), ``"warning"`` when the
            run went on with it and the clerk should still look.
        message: what is wrong and, where possible, what to do, in the clerk's words.
        sheet: the sheet the problem is on ("" when it concerns no sheet, e.g. a plugin).
        row: the 1-based sheet row, or ``None`` for a whole sheet or column.
        column: the header of the column, or "" for a whole row or sheet.
        code: a stable, machine-readable name of the kind of problem (``unknown-service``,
            ``ambiguous-amount``, ``edited-history``): what tests, ``--json`` users and documents match
            on, never the prose. ``docs/workbook.md`` lists every code.
    """

    severity: Severity
    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    code: str = ""

    @property
    def location(self) -> str:
        """Where the problem is, as a clerk would say it: ``Charges row 7, column Quantity``."""
        parts = []
        if self.sheet:
            parts.append(self.sheet)
        if self.row is not None:
            parts.append(f"row {self.row}")
        text = " ".join(parts)
        if self.column:
            text = f"{text}, column {self.column}" if text else f"column {self.column}"
        return text

    def __str__(self) -> str:
        where = self.location
        return f"{self.severity}: {where}: {self.message}" if where else f"{self.severity}: {self.message}"


def error(message: str, sheet: str = "", row: int | None = None, column: str = "", *, code: str) -> Problem:
    """A problem that skipped its row."""
    return Problem("error", message, sheet, row, column, code)


def warning(message: str, sheet: str = "", row: int | None = None, column: str = "", *, code: str) -> Problem:
    """A problem the run went on with."""
    return Problem("warning", message, sheet, row, column, code)


class ConfigurationError(Exception):
    """The workbook or the installation is broken so that no run can be trusted.

    Raised for a missing required input column, an unusable currency, or two plugins claiming
    the same payer name; the front end reports it and exits without writing anything.
    """

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []
