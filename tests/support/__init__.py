"""Test helpers shared by sheetbill's test suites: the Google Sheets API emulator and its fixtures."""
