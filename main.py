"""Entry point: `python main.py` opens the console; subcommands run without a window.
The only place that wires the command line, the console and the demo together."""

from __future__ import annotations

import argparse
import logging
import sys


def build_parser() -> argparse.ArgumentParser:
    from app import __version__
    from app.cli import accounts as accounts_cli
    from app.cli import catalog as catalog_cli
    from app.cli import commands
    from app.cli import deliveries as deliveries_cli
    from app.cli import marketplaces as marketplaces_cli
    from app.cli import orders as orders_cli
    from app.sandbox import server

    parser = argparse.ArgumentParser(
        prog="main.py", description="Buyback operator console and its headless engine."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log engine details")
    parser.add_argument("--version", action="version", version=f"Buyback console {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run a demo Order on the bundled sandbox marketplace")
    commands.add_demo_arguments(demo)
    demo.set_defaults(func=_demo)
    run = sub.add_parser("run", help="process the queued Orders in the database")
    commands.add_run_arguments(run)
    run.set_defaults(func=commands.cmd_run)
    selftest = sub.add_parser(
        "selftest", help="make one real purchase on the bundled sandbox to check the install"
    )
    selftest.add_argument("--browser", help="path to Chromium/Chrome/Edge")
    selftest.add_argument("--json", action="store_true", help="print a JSON summary last")
    selftest.set_defaults(func=_selftest)
    sandbox = sub.add_parser("sandbox", help="serve the sandbox marketplace on its own")
    server.add_arguments(sandbox)
    sandbox.set_defaults(func=server.run_from_args)
    accounts = sub.add_parser("accounts", help="import, list and check marketplace accounts")
    accounts_cli.add_arguments(accounts)
    orders = sub.add_parser("orders", help="import Orders from CSV/XLSX, export their reports")
    orders_cli.add_arguments(orders)
    catalog = sub.add_parser("catalog", help="import and list articles and pickup points")
    catalog_cli.add_arguments(catalog)
    deliveries = sub.add_parser("deliveries", help="record delivery statuses from a list")
    deliveries_cli.add_arguments(deliveries)
    markets = sub.add_parser("marketplaces", help="add, list, edit, enable or disable marketplaces")
    marketplaces_cli.add_arguments(markets)
    console = sub.add_parser(
        "console", help="open the console window (the default: `main.py --db FILE` opens it too)"
    )
    commands.add_engine_arguments(console)
    commands.add_language_argument(console)
    # None: not given, so the console takes it from Settings (see console_defaults).
    console.set_defaults(func=_console, concurrency=None)
    shots = sub.add_parser("screenshot", help="run the demo console offscreen and save PNGs")
    commands.add_demo_arguments(shots)
    shots.add_argument("--out", default="docs/screenshots", help="folder for the PNGs")
    shots.add_argument("--timeout", type=float, default=240, help="give up after this many s")
    shots.set_defaults(func=_screenshots)
    return parser


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """The command line, with the console as the default command: `main.py [-v] [console
    options]` is `main.py [-v] console [console options]`, so `main.py --db FILE` opens the
    console on FILE as `main.py console --db FILE` does."""
    start = 0
    while start < len(argv) and argv[start] in ("-v", "--verbose"):
        start += 1
    rest = argv[start:]
    if not rest or (rest[0].startswith("-") and rest[0] not in ("-h", "--help", "--version")):
        argv = [*argv[:start], "console", *rest]
    return build_parser().parse_args(argv)


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
