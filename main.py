"""Entry point: `python main.py` opens the console; subcommands run without a window.
The only place that wires the command line, the console and the demo together."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `command`, the parser of that command alone (the console
    opens sooner without every command's modules and options)."""
    from app import __version__

    parser = argparse.ArgumentParser(
        prog="main.py", description="Buyback operator console and its headless engine."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log engine details")
    parser.add_argument("--version", action="version", version=f"Buyback console {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add) in COMMANDS.items():
        if command in (None, name):
            add(sub.add_parser(name, help=help_text))
    return parser


def _add_demo(p: argparse.ArgumentParser) -> None:
    from app.cli import arguments

    arguments.add_demo_arguments(p)
    p.set_defaults(func=_demo)


def _add_run(p: argparse.ArgumentParser) -> None:
    from app.cli import arguments, commands

    arguments.add_run_arguments(p)
    p.set_defaults(func=commands.cmd_run)


def _add_worker(p: argparse.ArgumentParser) -> None:
    from app.cli import arguments

    arguments.add_engine_arguments(p)
    p.set_defaults(func=_worker)


def _add_selftest(p: argparse.ArgumentParser) -> None:
    p.add_argument("--browser", help="path to Chromium/Chrome/Edge")
    p.add_argument("--json", action="store_true", help="print a JSON summary last")
    p.set_defaults(func=_selftest)


def _add_sandbox(p: argparse.ArgumentParser) -> None:
    from app.sandbox import server

    server.add_arguments(p)
    p.set_defaults(func=server.run_from_args)


def _add_accounts(p: argparse.ArgumentParser) -> None:
    from app.cli import accounts

    accounts.add_arguments(p)


def _add_orders(p: argparse.ArgumentParser) -> None:
    from app.cli import orders

    orders.add_arguments(p)


def _add_catalog(p: argparse.ArgumentParser) -> None:
    from app.cli import catalog

    catalog.add_arguments(p)


def _add_deliveries(p: argparse.ArgumentParser) -> None:
    from app.cli import deliveries

    deliveries.add_arguments(p)


def _add_marketplaces(p: argparse.ArgumentParser) -> None:
    from app.cli import marketplaces

    marketplaces.add_arguments(p)


def _add_key(p: argparse.ArgumentParser) -> None:
    from app.cli import key

    key.add_arguments(p)


def _add_team(p: argparse.ArgumentParser) -> None:
    from app.cli import team

    team.add_arguments(p)


def _add_console(p: argparse.ArgumentParser) -> None:
    from app.cli import arguments

    arguments.add_engine_arguments(p, from_settings=True)
    arguments.add_language_argument(p)
    p.set_defaults(func=_console)


def _add_screenshot(p: argparse.ArgumentParser) -> None:
    from app.cli import arguments

    arguments.add_demo_arguments(p)
    p.add_argument("--out", default="docs/screenshots", help="folder for the PNGs")
    p.add_argument("--timeout", type=float, default=240, help="give up after this many s")
    p.set_defaults(func=_screenshots)


# name: (help, what adds its options and its function)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "demo": ("run a demo Order on the bundled sandbox marketplace", _add_demo),
    "run": ("process the queued Orders in the database", _add_run),
    "worker": (
        "work on the database's Orders without a window until stopped (Ctrl+C, SIGTERM)",
        _add_worker,
    ),
    "selftest": (
        "make one real purchase on the bundled sandbox to check the install",
        _add_selftest,
    ),
    "sandbox": ("serve the sandbox marketplace on its own", _add_sandbox),
    "accounts": ("import, list and check marketplace accounts", _add_accounts),
    "orders": ("import Orders from CSV/XLSX, export their reports", _add_orders),
    "catalog": ("import and list articles and pickup points", _add_catalog),
    "deliveries": ("record delivery statuses from a list", _add_deliveries),
    "marketplaces": ("add, list, edit, enable or disable marketplaces", _add_marketplaces),
    "key": ("export or import the secrets key a team's workstations share", _add_key),
    "team": ("show or set what a team's workstations share (the time zone)", _add_team),
    "console": (
        "open the console window (the default: `main.py --db FILE` opens it too)",
        _add_console,
    ),
    "screenshot": ("run the demo console offscreen and save PNGs", _add_screenshot),
}


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """The command line, with the console as the default command: `main.py [-v] [console
    options]` is `main.py [-v] console [console options]`, so `main.py --db FILE` opens the
    console on FILE as `main.py console --db FILE` does. Only the command given is built
    (every command for help, a version or a mistyped command)."""
    start = 0
    while start < len(argv) and argv[start] in ("-v", "--verbose"):
        start += 1
    rest = argv[start:]
    if not rest or (rest[0].startswith("-") and rest[0] not in ("-h", "--help", "--version")):
        argv = [*argv[:start], "console", *rest]
        rest = argv[start:]
    command = rest[0] if rest[0] in COMMANDS else None
    return build_parser(command).parse_args(argv)


def _console(args: argparse.Namespace) -> int:
    from app.ui.app import run_console

    return run_console(args)


def _demo(args: argparse.Namespace) -> int:
    """The demo in the console window (--gui) or with terminal progress."""
    from app.cli import commands

    if args.practice and not args.gui:
        from app.core.support.errors import KnownError

        return _refuse(KnownError("--practice needs --gui: a person buys its units in To buy"))
    if args.gui:
        from app.ui.app import run_console

        return run_console(args, demo=True)
    return commands.cmd_demo(args)


def _worker(args: argparse.Namespace) -> int:
    from app.cli.worker import cmd_worker

    return cmd_worker(args)


def _selftest(args: argparse.Namespace) -> int:
    """One real purchase on the bundled shop, and every console language loads."""
    from app.cli import commands

    code = commands.cmd_selftest(args)
    try:
        from app.ui.i18n import languages_installed
    except ImportError:  # installed without the console (no PySide6): nothing to check
        print("Console languages: the console is not installed", file=sys.stderr)
    else:
        if not languages_installed():
            code = code or 1
    print("selftest: passed" if code == 0 else "selftest: FAILED", file=sys.stderr)
    return code


def _screenshots(args: argparse.Namespace) -> int:
    from app.ui.app import take_screenshots

    return take_screenshots(args)


def main(argv: list[str] | None = None) -> int:
    from app.core.support.logs import setup_logging

    given = argv if argv is not None else sys.argv[1:]
    args = parse_arguments(given)
    setup_logging(args.verbose)
    logging.getLogger(__name__).info("started: main.py %s", " ".join(given))
    try:
        return int(args.func(args) or 0)
    except Exception as exc:
        return _refuse(exc)


def _refuse(exc: Exception) -> int:
    """One line on the screen for whatever stopped a command, the traceback in the log:
    the environment's fault or bad input (exit 2, with what to do), or our defect (exit 1,
    with where the log is)."""
    from app.core.storage.errors import known
    from app.core.support.errors import internal_error

    log = logging.getLogger(__name__)
    refusal = known(exc)
    if refusal is not None:
        log.info("refused: %s", refusal, exc_info=exc)
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    log.error("stopped by a defect", exc_info=exc)
    print(f"error: {internal_error(exc)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
