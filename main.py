"""Entry point: `python main.py` opens the console; subcommands run without a window."""

from __future__ import annotations

import argparse
import logging
import sys


def build_parser() -> argparse.ArgumentParser:
    from app.cli import commands
    from app.sandbox import server

    parser = argparse.ArgumentParser(
        prog="main.py", description="Buyback operator console and its headless engine."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log engine details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run a demo Order on the bundled sandbox marketplace")
    commands.add_demo_arguments(demo)
    demo.set_defaults(func=commands.cmd_demo)
    run = sub.add_parser("run", help="process the queued Orders in the database")
    commands.add_run_arguments(run)
    run.set_defaults(func=commands.cmd_run)
    sandbox = sub.add_parser("sandbox", help="serve the sandbox marketplace on its own")
    server.add_arguments(sandbox)
    sandbox.set_defaults(func=server.run_from_args)
    return parser


def main(argv: list[str] | None = None) -> int:
    from app.core.errors import KnownError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KnownError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
