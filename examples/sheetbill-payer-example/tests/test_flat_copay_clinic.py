"""Tests of the example plugin, written with the helpers sheetbill ships for plugin authors."""

from decimal import Decimal

import sheetbill_payer_example as plugin

from sheetbill.testing import assert_valid_adjudication, make_claim, output_rows, run_tables


def test_flat_copay_whatever_the_service():
    claim = make_claim("250.00", plugin="flat_copay_clinic", coverage_copay="15.00")
    result = assert_valid_adjudication(claim, plugin.sheetbill_adjudicate(claim))
    assert (result.payer_share, result.customer_share, result.reason) == (Decimal("235.00"), Decimal("15.00"),
                                                                         "flat copay")


def test_free_after_twelve_copays():
    claim = make_claim("80.00", plugin="flat_copay_clinic", out_of_pocket_used="120.00")
    result = assert_valid_adjudication(claim, plugin.sheetbill_adjudicate(claim))
    assert result.customer_share == 0


def test_billing_run_uses_the_plugin(sheetbill_plugins):
    result = run_tables(
        plugins=sheetbill_plugins(plugin),
        customers=[{"Customer ID": "K1", "Name": "Ann"}],
        payers=[{"Payer ID": "FCC", "Name": "Clinic Network", "Plugin": "flat_copay_clinic"}],
        coverage=[{"Customer ID": "K1", "Payer ID": "FCC", "Member ID": "N-7"}],
        services=[{"Service Code": "OV", "Description": "Office visit", "Price": "90.00"}],
        charges=[{"Charge ID": "C1", "Date": "2026-05-04", "Customer ID": "K1", "Service Code": "OV"}],
    )
    lines = {(row["Billed Code"], row["Amount"]) for row in output_rows(result, "Invoice Lines")}
    assert lines == {("FCC-OV", Decimal("80.00")), ("OV", Decimal("10.00"))}
