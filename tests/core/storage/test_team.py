"""What a team shares through its database: the time zone whose days the accounts' daily
limits count, stored by the first console or worker and read by every other whatever its
own zone."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy import select

from app.core.domain import clock
from app.core.domain.models import TeamSetting
from app.core.storage import team
from app.core.storage.db import Database

_DAY_START = """
import sys
from datetime import UTC, datetime
from app.core.domain.clock import day_start
from app.core.storage.db import Database
Database(sys.argv[1]).close()
print(day_start(datetime(2026, 11, 27, 22, 30, tzinfo=UTC)).isoformat())
"""


def day_start_in(url: str, tz: str) -> str:
    """The start of the day at 22:30 UTC, as a process whose own zone is `tz` counts it."""
    out = subprocess.run(
        [sys.executable, "-c", _DAY_START, url],
        env={**os.environ, "TZ": tz},
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_every_worker_counts_the_day_in_the_zone_stored_first(db: Database, db_url: str) -> None:
    with db.engine.begin() as conn:
        team.set_team_zone(conn, "Europe/Moscow")  # 22:30 UTC is 01:30 the next day there
    # A worker on a server in UTC and a console in New York agree with Moscow's day.
    assert day_start_in(db_url, "UTC") == "2026-11-27T21:00:00+00:00"
    assert day_start_in(db_url, "America/New_York") == "2026-11-27T21:00:00+00:00"


def test_the_first_to_open_the_database_stores_its_zone(db: Database) -> None:
    with db.reading() as s:
        stored = s.scalar(select(TeamSetting.value).where(TeamSetting.key == team.TIME_ZONE))
    assert stored == team.this_host_zone()
    try:
        with db.engine.begin() as conn:
            clock.set_zone(team.set_team_zone(conn, "Asia/Vladivostok"))
        start = clock.day_start(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
        assert start == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 22:00 there: its midnight
    finally:
        clock.set_zone(None)
