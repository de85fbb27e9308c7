"""Pytest fixtures for Google Sheets tests: a running emulator and a real gspread client talking to it.

The client is built by production code (:func:`sheetbill.io.gsheets.connect`) from the same
environment variables an office would set, ``SHEETBILL_GOOGLE_TOKEN`` and
``SHEETBILL_GOOGLE_API_URL``, so tests exercise the real transport: gspread, requests and real
HTTP to 127.0.0.1. Only the sleep between retries is replaced, by :class:`FakeClock`, which also
drives the emulator's quota windows so that waiting out a 429 takes no real time.
"""

from __future__ import annotations

from collections.abc import Iterator

import gspread
import pytest

from sheetbill.io.gsheets import ENV_API_URL, ENV_TOKEN, RetryPolicy, connect
from tests.support.sheets_emulator import SheetsEmulator


class FakeClock:
    """Time that passes only when someone sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass at once."""
        self.sleeps.append(seconds)
        self.now += seconds


def emulator_client(
    emulator: SheetsEmulator, clock: FakeClock, policy: RetryPolicy | None = None
) -> gspread.Client:
    """A gspread client whose requests go to ``emulator``, sleeping on ``clock``."""
    environ = {ENV_TOKEN: "test-token", ENV_API_URL: emulator.url}
    return connect(environ=environ, sleep=clock.sleep, policy=policy or RetryPolicy())


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock for retry sleeps and quota windows."""
    return FakeClock()


@pytest.fixture
def sheets_emulator(fake_clock: FakeClock) -> Iterator[SheetsEmulator]:
    """A running Google Sheets API emulator whose quota windows follow ``fake_clock``."""
    with SheetsEmulator() as emulator:
        emulator.clock = fake_clock
        yield emulator


@pytest.fixture
def sheets_client(sheets_emulator: SheetsEmulator, fake_clock: FakeClock) -> gspread.Client:
    """A real gspread client connected to ``sheets_emulator``."""
    return emulator_client(sheets_emulator, fake_clock)
