"""The options the engine's commands and the console share (database, concurrency,
browser, language; the demo's and `run`'s own), and the checks of their values.

Light to import: `main.py --db FILE` parses these before the console's first paint, so the
engine's modules load only where a value needs them."""

from __future__ import annotations

import argparse

from app.core.support.text import LANGUAGES


def at_least_one(text: str) -> int:
    """A count the operator gives (units, accounts): a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def concurrency(text: str) -> int:
    """Purchases at once: at least 1, at most what this computer can hold."""
    from app.core.engine.settings import BROWSER_MB_PER_PURCHASE, concurrency_limit

    value = at_least_one(text)
    limit = concurrency_limit()
    if value > limit:
        raise argparse.ArgumentTypeError(
            f"at most {limit} on this computer (got {value}): each purchase at once holds a "
            f"browser page of about {BROWSER_MB_PER_PURCHASE} MB"
        )
    return value


def add_engine_arguments(p: argparse.ArgumentParser, *, from_settings: bool = False) -> None:
    """--db, --concurrency, --browser, --show-browsers. `from_settings` (the console):
    what is not given comes from Settings (None here, filled in as it opens)."""
    p.add_argument("--db", help="database URL or SQLite file (default: the user data folder)")
    if from_settings:
        default, said = None, "as in Settings"
    else:
        from app.core.engine.settings import DEFAULT_CONCURRENCY

        default, said = DEFAULT_CONCURRENCY, str(DEFAULT_CONCURRENCY)
    p.add_argument(
        "--concurrency",
        type=concurrency,
        default=default,
        help=f"purchases at once (default {said})",
    )
    p.add_argument("--browser", help="path to Chromium/Chrome/Edge (default: found on the system)")
    p.add_argument("--show-browsers", action="store_true", help="show the browser windows")


def add_language_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--language",
        choices=("system", *LANGUAGES),
        help="the console's language (default: as in Settings, else the system's)",
    )


def add_demo_arguments(p: argparse.ArgumentParser) -> None:
    from app.demo import MAX_DEMO_ACCOUNTS

    add_engine_arguments(p)
    add_language_argument(p)
    p.add_argument(
        "--units", type=at_least_one, default=12, help="units in the demo Order (default 12)"
    )
    p.add_argument(
        "--accounts",
        type=at_least_one,
        help=f"demo accounts to use (default: one per unit, at most {MAX_DEMO_ACCOUNTS})",
    )
    p.add_argument(
        "--marketplace-url", help="use a sandbox already running there instead of starting one"
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    p.add_argument(
        "--gui", action="store_true", help="open the console window instead of terminal progress"
    )
    p.add_argument(
        "--practice",
        action="store_true",
        help="with --gui: the sample Order goes to the sandbox set up as a marketplace where "
        "a person buys, to practise the To buy view (Ctrl+T)",
    )


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    add_engine_arguments(p)
    p.add_argument(
        "--until-idle", action="store_true", help="exit once nothing queued can make progress"
    )
