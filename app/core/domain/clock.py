"""The engine's time: aware UTC everywhere, on the database's clock, and the operator's
local day for daily limits.

Several workers on several hosts share one database, so no comparison may rest on one
host's clock: `utcnow()` is this host's clock corrected by its offset from the database
server's, which the worker's heartbeat measures every few seconds (engine.heartbeat). On a
SQLite file the database has no clock of its own and the offset stays 0."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

_offset = timedelta(0)
_zone: tzinfo | None = None  # the team's time zone (storage.team); None: this host's


def utcnow() -> datetime:
    """Now, on the database's clock (aware UTC)."""
    return datetime.now(UTC) + _offset


def set_offset(offset: timedelta) -> None:
    """How far the database's clock is ahead of this host's (negative: behind)."""
    global _offset
    _offset = offset


def offset() -> timedelta:
    return _offset


def set_zone(zone: tzinfo | None) -> None:
    """The time zone whose days daily limits count: stored once in the database, so that
    every workstation and worker counts the same day whatever its own zone."""
    global _zone
    _zone = zone


def day_start(now: datetime) -> datetime:
    """Midnight of the operators' day, in UTC: daily limits follow the wall clock."""
    local = now.astimezone(_zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)
