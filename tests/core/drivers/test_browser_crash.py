"""A browser crash in the middle of purchases costs a retry, not the other Tasks: the
driver starts a new browser and every unit is still bought exactly once. The crash is
this computer's, not the accounts': none of them is rested for it (a rested account
kept the Line's last unit waiting a minute for an account)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import psutil
import pytest
from helpers import tasks
from sqlalchemy import select

from app.core.domain.models import MarketPlaceAccount
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.engine.settings import EngineSettings, RetryPolicy
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.supervisor import Supervisor
from app.demo import seed_sandbox
from app.sandbox.process import ledger_orders
from app.sandbox.server import SandboxOptions, SandboxServer

pytestmark = pytest.mark.browser


def browsers() -> list[psutil.Process]:
    found = []
    for p in psutil.Process(os.getpid()).children(recursive=True):
        try:
            name = p.name().lower()
        except psutil.NoSuchProcess:  # a renderer that ended since the listing
            continue
        if "chrom" in name or "headless" in name:
            found.append(p)
    return found


def pages_open() -> bool:
    """Whether the browser has a page renderer: a purchase is on a page right now."""
    for p in browsers():
        try:
            if "--type=renderer" in p.cmdline():
                return True
        except psutil.NoSuchProcess:
            pass
    return False


def kill_browsers() -> int:
    victims = browsers()
    for p in victims:
        p.kill()
    return len(victims)


async def test_other_tasks_survive_a_browser_crash(db, tmp_path: Path) -> None:
    shop = SandboxServer(tmp_path / "ledger.sqlite3", SandboxOptions(accounts=8, latency_ms=150))
    shop.start_in_thread()
    try:
        seed_sandbox(db, shop.url, accounts=8)
        retry = RetryPolicy(max_attempts=4, base_delay_s=0.2, max_delay_s=1.0)
        settings = EngineSettings(concurrency=3, poll_s=0.05, rollup_s=0.05, retry=retry)
        sup = Supervisor(db, driver_factory(db, DriverOptions()), settings=settings)
        order_id = await sup.submit(OrderSpec("C", "sandbox", [LineSpec("100002", 6, "PVZ-003")]))
        running = asyncio.create_task(sup.run(until_idle=True))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not pages_open():
            assert loop.time() < deadline
            await asyncio.sleep(0.05)
        assert kill_browsers() > 0
        await running
        done = tasks(db, order_id)
        assert [t.status for t in done] == ["purchased"] * 6
        assert any(t.attempts > 1 for t in done)  # the crash cost a purchase its attempt
        orders = ledger_orders(shop.url)
        assert len(orders) == 6 and len({o["login"] for o in orders}) == 6
        with db.session() as s:
            rested = s.scalars(
                select(MarketPlaceAccount.login).where(
                    MarketPlaceAccount.cooldown_until.is_not(None)
                )
            ).all()
        assert rested == []
    finally:
        shop.stop_thread()
