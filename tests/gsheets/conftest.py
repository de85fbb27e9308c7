"""Fixtures of the Google Sheets tests: the emulator and a gspread client connected to it."""

from tests.support.gsheets_fixtures import fake_clock, sheets_client, sheets_emulator  # noqa: F401
