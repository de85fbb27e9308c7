"""Test helpers for sheetbill and for payer plugin authors (also a pytest plugin)."""
