"""Entry point: `python main.py` opens the console; subcommands run without a window.
The only place that wires the command line, the console and the demo together."""

from __future__ import annotations

import argparse
import logging
import sys


def build_parser() -> argparse.ArgumentParser:
    from app import __version__
    from app.cli import accounts as accounts_cli
    from app.cli import commands
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
    console = sub.add_parser("console", help="open the console window (the default)")
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


def _console(args: argparse.Namespace) -> int:
    from app.ui.app import run_console

    return run_console(args)


def _demo(args: argparse.Namespace) -> int:
    """The demo in the console window (--gui) or with terminal progress."""
    from app.cli import commands

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

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    shown = argv if argv is not None else sys.argv[1:]
    logging.getLogger(__name__).info("started: main.py %s", " ".join(shown))
    if args.command is None:
        args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "console"])
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
