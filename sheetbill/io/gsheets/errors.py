"""The errors of the Google Sheets front end; ``sheetbill sync`` reports them with exit code 2."""

from __future__ import annotations


class SheetsSyncError(Exception):
    """A sync that could not be done; the message says why and what state the spreadsheet is in."""


class SheetsUnavailable(SheetsSyncError):
    """Google kept failing (rate limit, server errors, broken connections) after every retry."""


class SheetsLimitError(SheetsSyncError):
    """The outputs would not fit Google's grid or 10,000,000-cell limits."""
