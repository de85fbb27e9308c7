"""sheetbill: billing for the spreadsheets small service providers already run on.

The core reads input tables (customers, payers, coverage, charges, payments, ...) from any
front end, bills every charge to the right party and derives the output tables (invoices,
invoice lines, overdue, problems, ...) that the front end writes back into the same workbook.
"""

__version__ = "0.2.0.dev0"
