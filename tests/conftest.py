"""Fixtures every test gets: the run memo's cache folder is a per-test temporary folder, so no test reads
or writes the real home's cache (and no test sees another's memo)."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _session_cache_dir(tmp_path_factory):
    """Point ``SHEETBILL_CACHE_DIR`` at a folder of the session's own before any fixture runs: a module's
    fixtures are set up before each test's own folder is (:func:`_private_cache_dir`), and the processes
    they start take the environment as it is then."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHEETBILL_CACHE_DIR", str(tmp_path_factory.mktemp("session-cache")))
        patch.delenv("SHEETBILL_CACHE", raising=False)
        yield


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path_factory, monkeypatch):
    """Point ``SHEETBILL_CACHE_DIR`` at a fresh folder of this test's own."""
    monkeypatch.setenv("SHEETBILL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("SHEETBILL_CACHE", raising=False)
