"""The error every part of the xlsx front end raises for a file it cannot read or write."""


class WorkbookFormatError(Exception):
    """The file is not an .xlsx/.xlsm package sheetbill can read or write (the message says why)."""
