"""Fixtures for the bank tests: the shared oracle folder, skipped cleanly where it is absent."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

#: The oracle folder beside the project root; a user's clone of the project does not have it.
ORACLES = Path(__file__).resolve().parents[2].parent / "shared" / "oracles"


def _oracle_folder() -> Path:
    """``ORACLES``, else ``$SHEETBILL_ORACLES``, else ``shared/oracles`` beside a folder further up.

    The last covers a git worktree kept one level deeper than the main checkout.
    """
    root = Path(__file__).resolve().parents[2]
    candidates = [ORACLES]
    if os.environ.get("SHEETBILL_ORACLES"):
        candidates.append(Path(os.environ["SHEETBILL_ORACLES"]))
    candidates += [folder.parent / "shared" / "oracles" for folder in root.parents]
    for folder in candidates:
        if (folder / "bank").is_dir() and (folder / "sepa").is_dir():
            return folder
    return ORACLES


@pytest.fixture(scope="session")
def oracles() -> Path:
    """The oracle folder (``bank/`` statements with expected entries, ``sepa/`` schemas and validator)."""
    folder = _oracle_folder()
    if not (folder / "bank").is_dir() or not (folder / "sepa").is_dir():
        pytest.skip(f"oracle folder not present at {ORACLES} (only in the project's shared workspace)")
    return folder


@pytest.fixture(scope="session")
def pain_validator(oracles: Path) -> Path:
    """The pain.008 schema validator script; skipped when xmlschema, which it needs, is not installed."""
    if importlib.util.find_spec("xmlschema") is None:
        pytest.skip("the pain validator needs xmlschema (pip install xmlschema)")
    return oracles / "sepa" / "validate.py"
