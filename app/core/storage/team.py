"""What every workstation and worker of one database shares, stored once in it: the time
zone whose days the accounts' daily limits count (a worker on a server in UTC and a
console in Moscow must agree on when a day starts)."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal
from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.core.domain import clock
from app.core.domain.models import TeamSetting

log = logging.getLogger(__name__)

TIME_ZONE = "time_zone"


def this_host_zone() -> str:
    """This computer's time zone (an IANA name); UTC when it cannot be told."""
    try:
        name = tzlocal.get_localzone_name()
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        log.warning("this computer's time zone is unknown (%s); using UTC", exc)
        return "UTC"
    return name or "UTC"


def team_zone(conn: Connection) -> ZoneInfo:
    """The team's time zone: stored by the first console or worker that opened the
    database (its own zone), read by every other."""
    stored = select(TeamSetting.value).where(TeamSetting.key == TIME_ZONE)
    name = conn.scalar(stored)
    if name is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(
            dialect.insert(TeamSetting)
            .values(key=TIME_ZONE, value=this_host_zone())
            .on_conflict_do_nothing(index_elements=["key"])
        )
        name = conn.scalar(stored)
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("the stored time zone %r is unknown here; using UTC", name)
        return ZoneInfo("UTC")


def set_team_zone(conn: Connection, name: str) -> ZoneInfo:
    """Stores another time zone for the team (an IANA name such as Europe/Moscow)."""
    zone = ZoneInfo(name)  # raises for an unknown name
    conn.execute(update(TeamSetting).where(TeamSetting.key == TIME_ZONE).values(value=name))
    return zone


def load(conn: Connection) -> None:
    """Applies what the team shares to this process (domain.clock)."""
    clock.set_zone(team_zone(conn))
