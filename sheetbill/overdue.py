"""Overdue tracking (aging, reminders, payment plans, collections): see issue 4. Placeholder stage."""

from __future__ import annotations


def track_overdue(result) -> None:
    """Derive overdue state for ``result``; filled in by the overdue-tracking work."""
