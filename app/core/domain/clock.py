"""The engine's time: aware UTC everywhere, and the operator's local day for daily limits."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def day_start(now: datetime) -> datetime:
    """Midnight of the operator's local day, in UTC: daily limits follow the wall clock."""
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)
