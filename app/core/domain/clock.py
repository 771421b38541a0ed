"""The engine's time: aware UTC everywhere, on the database's clock, and the operator's
local day for daily limits.

Several workers on several hosts share one database, so no comparison may rest on one
host's clock: `utcnow()` is this host's clock corrected by its offset from the database
server's, which the worker's heartbeat measures every few seconds (engine.heartbeat). On a
SQLite file the database has no clock of its own and the offset stays 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def utcnow() -> datetime:
    """Now, on the database's clock (aware UTC)."""
    return datetime.now(UTC) + _offset


def set_offset(offset: timedelta) -> None:
    """How far the database's clock is ahead of this host's (negative: behind)."""
    global _offset
    _offset = offset


def offset() -> timedelta:
    return _offset


def day_start(now: datetime) -> datetime:
    """Midnight of the operator's local day, in UTC: daily limits follow the wall clock."""
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)
