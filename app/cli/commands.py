"""`python main.py demo` and `python main.py run`: the engine without a window."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from app.cli.progress import TerminalProgress
from app.cli.words import plural
from app.core.accounts.keys import open_database
from app.core.domain.models import BuyBack, MarketPlaceAccount, Task
from app.core.domain.states import QUEUED, TaskStatus
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.engine.rollup import order_progress
from app.core.engine.settings import EngineSettings
from app.core.storage.db import Database, display_url
from app.core.storage.workers import WorkerKind
from app.core.supervisor import Supervisor
from app.demo import (
    MAX_DEMO_ACCOUNTS,
    demo_accounts_for,
    demo_order,
    fresh_demo_db,
    prepare_demo,
)

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    units: int
    purchased: int
    failed: int
    other: dict[TaskStatus, int]
    seconds: float
    order_numbers: list[str]


async def _run_engine(
    db: Database, args: argparse.Namespace, *, until_idle: bool, order_id: int | None = None
) -> Supervisor:
    settings = EngineSettings(concurrency=args.concurrency)
    options = DriverOptions(args.browser, headless=not args.show_browsers)
    sup = Supervisor(db, driver_factory(db, options), settings=settings, kind=WorkerKind.RUN)
    if order_id is None:
        total = await db.read(
            lambda s: s.execute(
                select(func.count()).select_from(Task).where(Task.status.in_(QUEUED))
            ).scalar_one()
        )
    else:
        total = (await order_progress(db, order_id)).total
    logins = await db.read(
        lambda s: dict(s.execute(select(MarketPlaceAccount.id, MarketPlaceAccount.login)).all())
    )
    view = TerminalProgress(sup.bus.subscribe(), total, logins)
    stop = asyncio.Event()
    drawing = asyncio.create_task(view.run(stop))
    stop_gently_on_signals(sup)
    try:
        await sup.run(until_idle=until_idle)
    finally:
        stop.set()
        await drawing
    if sup.ctx.fault is not None:
        raise sup.ctx.fault  # purchases stopped: the command fails with the one message
    return sup


def stop_gently_on_signals(
    sup: Supervisor, *, announce: Callable[[signal.Signals], None] | None = None
) -> None:
    """Ctrl+C or SIGTERM: start no new purchase, let the running ones finish and be
    recorded, then exit. A second Ctrl+C quits at once (what was in flight is settled
    with the marketplace at the next start). `announce(signal)` says that it stops (by
    default a line on stderr)."""
    loop = asyncio.get_running_loop()

    def first(signum: int) -> None:
        if announce is not None:
            announce(signal.Signals(signum))
        else:
            print(
                "Stopping: the running purchases finish and are recorded "
                "(Ctrl+C again to quit now).",
                file=sys.stderr,
            )
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        sup.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, first, sig)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C stays immediate
            return


def cmd_demo(args: argparse.Namespace) -> int:
    accounts = demo_accounts_for(args.units, args.accounts)
    short = accounts_short(args.units, accounts, given=args.accounts is not None)
    if short:
        print(
            f"{args.units - accounts:,} of {args.units:,} units will wait: {short}.",
            file=sys.stderr,
        )
    with ExitStack() as stack:
        db = open_database(args.db or fresh_demo_db())
        stack.callback(db.close)
        url = prepare_demo(stack, db, accounts=accounts, marketplace_url=args.marketplace_url)
        result = asyncio.run(_demo(db, args))
    print_summary(result, url, db.url, as_json=args.json, waiting_why=short)
    return 0 if result.purchased == result.units else 1


def accounts_short(units: int, accounts: int, *, given: bool) -> str:
    """Why some units of the sample Order cannot be bought, or "" when all can: it buys
    one unit per account, so units beyond the accounts wait for one that never frees."""
    if accounts >= units:
        return ""
    why = "--accounts" if given else f"the demo seeds at most {MAX_DEMO_ACCOUNTS:,}"
    return f"only {plural(accounts, 'demo account')} ({why}), one unit each"


def cmd_selftest(args: argparse.Namespace) -> int:
    """A fresh database, the bundled shop, one real purchase in the browser: proves that
    an installation works end to end. Exit status 0 when the unit was bought."""
    with tempfile.TemporaryDirectory() as tmp:
        demo = argparse.Namespace(
            units=1,
            concurrency=1,
            accounts=2,
            marketplace_url=None,
            gui=False,
            db=str(Path(tmp) / "selftest.sqlite3"),
            json=args.json,
            browser=args.browser,
            show_browsers=False,
        )
        return cmd_demo(demo)


async def _demo(db: Database, args: argparse.Namespace) -> RunResult:
    started = time.monotonic()
    settings = EngineSettings(concurrency=args.concurrency)
    probe = Supervisor(db, driver_factory(db, DriverOptions()), settings=settings)
    order_id = await probe.submit(demo_order(args.units))
    await _run_engine(db, args, until_idle=True, order_id=order_id)
    return await order_result(db, order_id, time.monotonic() - started)


async def order_result(db: Database, order_id: int, seconds: float) -> RunResult:
    progress = await order_progress(db, order_id)
    numbers = await db.read(
        lambda s: list(
            s.scalars(
                select(BuyBack.order_number)
                .join(Task, Task.id == BuyBack.task_id)
                .where(Task.order_id == order_id)
                .order_by(Task.id)
            )
        )
    )
    shown_apart = (TaskStatus.PURCHASED, TaskStatus.DELIVERED, TaskStatus.FAILED)
    other = {k: v for k, v in progress.counts.items() if k not in shown_apart}
    return RunResult(
        progress.total,
        progress.purchased,
        progress.counts.get(TaskStatus.FAILED, 0),
        other,
        round(seconds, 2),
        numbers,
    )


def print_summary(
    r: RunResult, url: str, db_url: str, *, as_json: bool, waiting_why: str = ""
) -> None:
    """What the demo did; `waiting_why` says why units still queued could not be bought."""
    rate = r.purchased / r.seconds if r.seconds else 0.0
    print(f"Marketplace: {url}")
    print(f"Database:    {display_url(db_url)}")
    print(
        f"Purchased {r.purchased} of {plural(r.units, 'unit')} in {r.seconds:.1f} s "
        f"({rate:.2f}/s); "
        f"failed {r.failed}" + "".join(f"; {k} {v}" for k, v in r.other.items())
    )
    waiting = sum(n for status, n in r.other.items() if status in QUEUED)
    if waiting and waiting_why:
        print(f"{plural(waiting, 'unit')} left waiting: {waiting_why}.")
    if r.order_numbers:
        print("Marketplace order numbers: " + ", ".join(r.order_numbers))
    if as_json:
        print(
            json.dumps(
                {
                    "units": r.units,
                    "purchased": r.purchased,
                    "failed": r.failed,
                    **r.other,
                    "seconds": r.seconds,
                    "purchases_per_s": round(rate, 3),
                    "order_numbers": r.order_numbers,
                }
            )
        )


def cmd_run(args: argparse.Namespace) -> int:
    db = open_database(args.db)
    try:
        asyncio.run(_run_engine(db, args, until_idle=args.until_idle))
    except KeyboardInterrupt:
        print("Stopped.")
    finally:
        db.close()
    return 0
