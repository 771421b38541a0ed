"""Delivery tracking on the real sandbox: purchased units are polled until the shop says
they are at the pickup point, the Order is done only then, and tracking picks up where it
left off after a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import tasks, wait_for
from sqlalchemy import select

from app.core.domain.models import BuyBack, Order
from app.core.domain.states import OrderStatus
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.supervisor import Supervisor
from app.demo import seed_sandbox
from app.sandbox.process import ledger_orders
from app.sandbox.server import SandboxOptions, SandboxServer

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(
        tmp_path / "ledger.sqlite3", SandboxOptions(accounts=4, delivery_seconds=1.0)
    )
    server.start_in_thread()
    yield server
    server.stop_thread()


def console(db: Database) -> Supervisor:
    settings = EngineSettings(concurrency=2, poll_s=0.05, rollup_s=0.05, track_s=0.3)
    return Supervisor(db, driver_factory(db, DriverOptions()), settings=settings)


def order_status(db: Database, order_id: int) -> str:
    with db.session() as s:
        return s.scalar(select(Order.status).where(Order.id == order_id))


async def test_order_is_done_when_every_unit_is_at_the_pickup_point(db, shop) -> None:
    seed_sandbox(db, shop.url, accounts=4)
    sup = console(db)
    order_id = await sup.submit(OrderSpec("C", "sandbox", [LineSpec("100003", 2, "PVZ-002")]))
    running = asyncio.create_task(sup.run())
    await wait_for(lambda: order_status(db, order_id) == OrderStatus.PURCHASED, timeout=60)
    assert all(t.status == "purchased" for t in tasks(db, order_id))  # bought, not yet there
    await wait_for(lambda: order_status(db, order_id) == OrderStatus.DONE, timeout=60)
    sup.stop()
    await running
    assert [t.status for t in tasks(db, order_id)] == ["delivered", "delivered"]
    assert {o["status"] for o in ledger_orders(shop.url)} == {"at_pickup_point"}
    with db.session() as s:
        rows = s.execute(select(BuyBack.delivery_status, BuyBack.delivered_at)).all()
    assert all(status == "at_pickup_point" and at is not None for status, at in rows)


async def test_tracking_goes_on_after_a_restart(db, shop) -> None:
    seed_sandbox(db, shop.url, accounts=4)
    shop.update_options(delivery_seconds=2.0)
    sup = console(db)
    order_id = await sup.submit(OrderSpec("C", "sandbox", [LineSpec("100003", 1, "PVZ-002")]))
    await sup.run(until_idle=True)  # buys, then leaves without tracking
    assert [t.status for t in tasks(db, order_id)] == ["purchased"]

    restarted = console(db)
    running = asyncio.create_task(restarted.run())
    await wait_for(lambda: order_status(db, order_id) == OrderStatus.DONE, timeout=60)
    restarted.stop()
    await running
    assert [t.status for t in tasks(db, order_id)] == ["delivered"]
