"""`python main.py worker`: the engine without a window, working on every queued Order of
the database until it is stopped (Ctrl+C, SIGTERM): what a team's extra machines run next
to the consoles on one PostgreSQL database. It says one line per notable thing."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import time
from datetime import datetime

from sqlalchemy import select

from app import __version__
from app.cli.commands import stop_gently_on_signals
from app.cli.words import plural
from app.core.accounts.keys import open_database
from app.core.domain.models import MarketPlaceAccount
from app.core.domain.states import OrderStatus, TaskStatus
from app.core.engine.events import (
    EngineNotice,
    MarketBlocked,
    OrderProgress,
    Subscription,
    TaskChanged,
)
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.engine.settings import EngineSettings
from app.core.storage.db import Database, display_url
from app.core.storage.workers import WorkerKind
from app.core.supervisor import Supervisor

log = logging.getLogger(__name__)

DRAIN_S = 0.2  # how often the engine's events are turned into lines


def cmd_worker(args: argparse.Namespace) -> int:
    """Runs until stopped: 0 once the purchases under way are finished and recorded; 130
    when a second Ctrl+C quit at once."""
    db = open_database(args.db)
    try:
        asyncio.run(work(db, args))
    except KeyboardInterrupt:
        say("stopped at once: what was in flight is settled with the marketplace at the next start")
        return 130
    finally:
        db.close()
    return 0


def say(text: str) -> None:
    """One line of the worker's log: on stdout with the local time, and in the log file."""
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} {text}", flush=True)
    log.info("worker: %s", text)


async def work(db: Database, args: argparse.Namespace) -> None:
    settings = EngineSettings(concurrency=args.concurrency)
    options = DriverOptions(args.browser, headless=not args.show_browsers)
    sup = Supervisor(db, driver_factory(db, options), settings=settings, kind=WorkerKind.WORKER)
    lines = WorkerLines(sup.bus.subscribe(), db)
    say(
        f"started as worker {sup.ctx.worker_id} (version {__version__}) on "
        f"{display_url(db.url)}, {plural(settings.concurrency, 'purchase')} at once"
    )

    def stopping(sig: signal.Signals) -> None:
        running = sup.ctx.slots.busy
        finishing = (
            f"{plural(running, 'purchase')} under way finish and are recorded "
            "(Ctrl+C again to quit now)"
            if running
            else "none is under way"
        )
        say(f"stopping ({sig.name}): no new purchase starts; {finishing}")

    stop_gently_on_signals(sup, announce=stopping)
    started = time.monotonic()
    done = asyncio.Event()
    telling = asyncio.create_task(lines.run(done))
    try:
        await sup.run(until_idle=False)
    finally:
        done.set()
        await telling
    if sup.ctx.fault is not None:
        raise sup.ctx.fault  # purchases stopped: the command fails with the one message
    say(f"stopped after {_duration(time.monotonic() - started)}: {lines.summary()}")


def _words(status: str) -> str:
    return status.replace("_", " ")


def _duration(seconds: float) -> str:
    minutes, s = divmod(round(seconds), 60)
    hours, m = divmod(minutes, 60)
    if hours:
        return f"{hours} h {m} min"
    return f"{m} min {s} s" if m else f"{s} s"


class WorkerLines:
    """Turns the engine's events into the worker's log lines: a unit bought, failed or
    needing review, an Order's new status, an engine notice, a marketplace blocked.

    Attributes:
        counts: units this worker saw end, by status.
    """

    NOTABLE = (TaskStatus.PURCHASED, TaskStatus.FAILED, TaskStatus.NEEDS_REVIEW)

    def __init__(self, sub: Subscription, db: Database):
        self.sub = sub
        self.db = db
        self.counts: dict[TaskStatus, int] = {}
        self._logins: dict[int, str] = {}
        self._orders: dict[int, OrderStatus] = {}

    async def run(self, done: asyncio.Event) -> None:
        try:
            while not done.is_set():
                await self.tell()
                try:
                    await asyncio.wait_for(done.wait(), DRAIN_S)
                except TimeoutError:
                    pass
            await self.tell()
        finally:
            self.sub.close()

    async def tell(self) -> None:
        for ev in self.sub.drain():
            if isinstance(ev, TaskChanged) and ev.status in self.NOTABLE:
                self.counts[ev.status] = self.counts.get(ev.status, 0) + 1
                say(await self._unit(ev))
            elif isinstance(ev, OrderProgress) and self._orders.get(ev.order_id) != ev.status:
                self._orders[ev.order_id] = ev.status
                say(
                    f"order {ev.order_id}: {_words(ev.status)}, "
                    f"{ev.purchased:,} of {plural(ev.total, 'unit')} bought"
                )
            elif isinstance(ev, EngineNotice):
                say(f"{ev.level}: {ev.message}")
            elif isinstance(ev, MarketBlocked):
                if ev.reason is None:
                    say(f"{ev.marketplace}: purchases can start again")
                else:
                    say(f"{ev.marketplace}: purchases cannot start: {ev.reason}")

    async def _unit(self, ev: TaskChanged) -> str:
        who = f"task {ev.task_id} of order {ev.order_id}"
        if ev.account_id is not None:
            who += f", account {await self._login(ev.account_id)}"
        if ev.status is TaskStatus.PURCHASED:
            return f"purchased: {who}, marketplace order {ev.order_number}"
        return f"{_words(ev.status)}: {who}: {ev.error or 'no reason given'}"

    async def _login(self, account_id: int) -> str:
        if account_id not in self._logins:  # an account imported since: read them again
            self._logins = await self.db.read(
                lambda s: dict(
                    s.execute(select(MarketPlaceAccount.id, MarketPlaceAccount.login)).all()
                )
            )
        return self._logins.get(account_id, f"#{account_id}")

    def summary(self) -> str:
        bought = self.counts.get(TaskStatus.PURCHASED, 0)
        failed = self.counts.get(TaskStatus.FAILED, 0)
        review = self.counts.get(TaskStatus.NEEDS_REVIEW, 0)
        text = f"{plural(bought, 'unit')} bought, {failed:,} failed"
        return text + (f", {review:,} to review" if review else "")
