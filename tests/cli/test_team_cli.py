"""What a team's workstations share, from the command line: the time zone whose days the
daily limits count is shown, set for every workstation of the database, and a name that
is no time zone is refused with a suggestion, changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from helpers import run_main

from app.core.domain import clock
from app.core.storage import team
from app.core.storage.db import Database


def test_the_team_zone_is_shown_set_and_used_by_the_next_start(tmp_path) -> None:
    db = str(tmp_path / "team.sqlite3")
    shown = run_main(tmp_path, "team", "zone", "--db", db)
    assert shown.returncode == 0, shown.stderr
    first = shown.stdout.split(": ", 1)[1].split(" ", 1)[0]  # this computer's own zone

    done = run_main(tmp_path, "team", "zone", "Asia/Yekaterinburg", "--db", db)
    assert done.returncode == 0, done.stderr
    assert "now Asia/Yekaterinburg" in done.stdout and f"it was {first}" in done.stdout
    again = run_main(tmp_path, "team", "zone", "Asia/Yekaterinburg", "--db", db)
    assert "already" in again.stdout

    # A console or worker starting on the database counts days in the team's zone: at
    # 20:30 UTC it is already the next day in Yekaterinburg (UTC+5).
    database = Database(db)
    before = clock._zone
    try:
        with database.engine.begin() as conn:
            team.load(conn)
        evening = datetime(2026, 11, 27, 20, 30, tzinfo=UTC)
        assert clock.day_start(evening) == datetime(2026, 11, 27, 19, 0, tzinfo=UTC)
    finally:
        clock.set_zone(before)
        database.close()


def test_a_name_that_is_no_time_zone_is_refused_and_nothing_changes(tmp_path) -> None:
    db = str(tmp_path / "team.sqlite3")
    run_main(tmp_path, "team", "zone", "Europe/Moscow", "--db", db)
    refused = run_main(tmp_path, "team", "zone", "moscow", "--db", db)
    assert refused.returncode == 2
    assert "'moscow' is not a time zone name" in refused.stderr
    assert "Did you mean: Europe/Moscow?" in refused.stderr
    assert "Traceback" not in refused.stderr
    shown = run_main(tmp_path, "team", "zone", "--db", db)
    assert "Europe/Moscow" in shown.stdout
