"""`python main.py team zone [NAME]`: what the workstations and workers of one database
share, stored once in it. Today that is the time zone whose days the accounts' daily
limits count (storage.team): the first console or worker to open the database stored its
own; a team in another zone sets theirs here."""

from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from app.cli.accounts import add_db_option
from app.core.storage import team
from app.core.storage.db import Database
from app.core.support.errors import KnownError


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    zone = actions.add_parser(
        "zone",
        help="show or set the time zone whose days the daily limits count",
        description="Without NAME, shows the team's time zone. With NAME (an IANA name "
        "such as Europe/Moscow or Asia/Yekaterinburg), stores it for every workstation and "
        "worker of the database; each uses it from its next start.",
    )
    zone.add_argument("name", metavar="NAME", nargs="?", help="an IANA time zone name")
    add_db_option(zone)
    zone.set_defaults(func=cmd_zone)


def cmd_zone(args: argparse.Namespace) -> int:
    name = args.name.strip() if args.name else None
    if name is not None:
        _check_zone(name)
    db = Database(args.db)
    try:
        with db.engine.begin() as conn:
            before = team.team_zone(conn).key
            if name is not None and name != before:
                team.set_team_zone(conn, name)
    finally:
        db.close()
    if name is None:
        print(f"The team's time zone: {before} (daily limits count its days).")
    elif name == before:
        print(f"The team's time zone is {name} already. Nothing was changed.")
    else:
        print(
            f"The team's time zone is now {name} (it was {before}). Consoles and workers "
            "count daily limits in it from their next start."
        )
    return 0


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = sorted(z for z in available_timezones() if name.lower() in z.lower())[:5]
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise KnownError(
            f"'{name}' is not a time zone name (like Europe/Moscow).{hint} Nothing was changed."
        ) from None
