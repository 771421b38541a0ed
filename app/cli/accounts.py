"""`python main.py accounts import|list|check`: the account pool from the terminal."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.cli.words import plural
from app.core.accounts.health import CheckResult, check_accounts
from app.core.accounts.imports import ImportPlan, Outcome, apply_import, plan_import
from app.core.accounts.keys import open_database
from app.core.drivers.base import DriverFactory
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.storage.markets import MarketIndex
from app.core.storage.queries import account_rows
from app.core.support.errors import KnownError
from app.core.support.text import Refused
from app.sandbox.seed import MARKETPLACE_CODE


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="import accounts from a CSV/XLSX list, storage-state files or profile folders",
        description="Prints what each row or file does (add, update, skip, reject) and, "
        "unless --dry-run, writes all accepted rows in one transaction. Exits 1 when a row "
        "was rejected.",
    )
    imp.add_argument("path", help="a .csv/.xlsx list, a storage-state .json, or a folder")
    add_import_options(imp)
    imp.set_defaults(func=cmd_import)
    ls = actions.add_parser("list", help="list the accounts (no secrets)")
    ls.set_defaults(func=cmd_list)
    check = actions.add_parser(
        "check", help="log each account in and record valid / session_expired / blocked"
    )
    check.add_argument(
        "--marketplace-url", help="check the sandbox marketplace running there instead"
    )
    check.add_argument("--browser", help="path to Chromium/Chrome/Edge")
    check.set_defaults(func=cmd_check)
    for sub in (ls, check):
        add_db_option(sub)
        sub.add_argument("--json", action="store_true", help="print a JSON report as the last line")


def add_db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="database URL or SQLite file (default: the user data folder)")


def add_import_options(p: argparse.ArgumentParser) -> None:
    """What every import command takes besides its source: a dry run, a JSON report, the
    marketplace of rows that name none, and the database."""
    p.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    p.add_argument("--json", action="store_true", help="print a JSON report as the last line")
    p.add_argument(
        "--marketplace",
        help="marketplace of rows that name none: its code, name or an alias "
        f"(default {MARKETPLACE_CODE})",
    )
    add_db_option(p)


def chosen_marketplace(s: Session, given: str | None) -> str:
    """The code of the marketplace --marketplace names (checked before any file is
    read: an unknown or disabled one stops the command with what to do), or the default
    for rows that name none."""
    if given is None:
        return MARKETPLACE_CODE
    try:
        return MarketIndex.load(s).get(given).code
    except Refused as exc:
        raise KnownError(f"--marketplace {given}: {exc}") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _local(value: datetime | None) -> str:
    return value.astimezone().strftime("%d.%m.%Y %H:%M") if value else "never checked"


def print_json(data: Any) -> None:
    print(json.dumps(data, default=_json_default, ensure_ascii=False))


def print_plan(plan: ImportPlan) -> None:
    print(f"{plan.path} ({plan.kind})")
    for note in plan.notes:
        print(f"  note: {note}")
    for r in plan.rows:
        detail = r.reason or (f"changes {', '.join(r.changes)}" if r.changes else "")
        account = f"{r.login} @ {r.marketplace}" if r.marketplace else r.login
        print(f"  {r.where or r.source:<24} {r.outcome:<7} {account:<32} {detail}")


def cmd_import(args: argparse.Namespace) -> int:
    db = open_database(args.db)
    try:
        with db.session() as s:
            market = chosen_marketplace(s, args.marketplace)
            plan = plan_import(s, args.path, default_marketplace=market)
            print_plan(plan)
            counts = plan.counts()
            if not args.dry_run and plan.accepted():
                apply_import(s, plan)
                s.commit()
    finally:
        db.close()
    written = not args.dry_run and bool(plan.accepted())
    add, upd, skip, rej = (counts[str(o)] for o in Outcome)
    if written:
        print(f"Imported: {add} added, {upd} updated, {skip} skipped, {rej} rejected.")
    elif args.dry_run:
        print(
            f"Dry run, nothing written: {add} to add, {upd} to update, {skip} to skip, "
            f"{rej} rejected."
        )
    else:
        print(f"Nothing imported: no row to add or update ({skip} skipped, {rej} rejected).")
    if args.json:
        print_json(plan.report() | {"dry_run": args.dry_run, "written": written})
    return 1 if counts[Outcome.REJECT] else 0


def cmd_list(args: argparse.Namespace) -> int:
    db = open_database(args.db)
    try:
        with db.session() as s:
            rows = account_rows(s)
    finally:
        db.close()
    for r in rows:
        limit = f"{r.purchases_today}/{r.daily_limit}" if r.daily_limit is not None else ""
        print(
            f"{r.login:<24} {r.marketplace:<16} {r.status:<9} {r.health:<16} "
            f"{_local(r.checked_at):<16} {limit:<6} {r.phone}"
        )
    print(f"{plural(len(rows), 'account')}.")
    if args.json:
        print_json([dataclasses.asdict(r) for r in rows])
    return 0


def _with_url(drivers: DriverFactory, url: str | None) -> DriverFactory:
    """The factory, pointing the sandbox marketplace at `url` for this run only."""
    if not url:
        return drivers
    return lambda m: drivers(
        dataclasses.replace(m, base_url=url.rstrip("/")) if m.driver == "sandbox" else m
    )


def _show_check(r: CheckResult) -> None:
    verdict = r.health or "not checked"
    print(f"{r.login:<24} {r.marketplace:<12} {verdict:<16} {r.detail}", flush=True)


def cmd_check(args: argparse.Namespace) -> int:
    db = open_database(args.db)
    try:
        drivers = _with_url(driver_factory(db, DriverOptions(args.browser)), args.marketplace_url)
        results = asyncio.run(check_accounts(db, drivers, on_result=_show_check))
    finally:
        db.close()
    counts = Counter(r.health or "not_checked" for r in results)
    print(
        f"Checked {plural(len(results), 'account')}: "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    if args.json:
        print_json({"counts": dict(counts), "results": [dataclasses.asdict(r) for r in results]})
    return 1 if counts["not_checked"] else 0
