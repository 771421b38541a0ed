"""Recovery after a crash, against the real sandbox shop and a real browser: whatever
moment the console died at, each unit ends bought exactly once or clearly not bought,
and the console's records agree with the shop's ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import history, tasks
from sqlalchemy import select, update

from app.core.accounts.pool import account_refs
from app.core.accounts.sessions import DbSessionStore
from app.core.domain.clock import utcnow
from app.core.domain.models import BuyBack, MarketPlaceAccount, Task, TaskEvent
from app.core.drivers.base import PurchaseRequest
from app.core.drivers.sandbox import SandboxDriver
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage import workers
from app.core.storage.db import Database
from app.core.supervisor import Supervisor
from app.demo import seed_sandbox
from app.sandbox.seed import MARKETPLACE_NAME
from app.sandbox.server import SandboxOptions, SandboxServer

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(tmp_path / "ledger.sqlite3", SandboxOptions(accounts=5))
    server.start_in_thread()
    yield server
    server.stop_thread()


@pytest.fixture
def console(db: Database, shop: SandboxServer) -> Supervisor:
    seed_sandbox(db, shop.url, accounts=5)
    settings = EngineSettings(concurrency=2, poll_s=0.05, rollup_s=0.05)
    return Supervisor(db, driver_factory(db, DriverOptions()), settings=settings)


def crashed_worker() -> str:
    import socket

    return f"{socket.gethostname()}:4194999:crashed"  # beyond Linux's pid_max: not running


def leave_mid_purchase(db: Database, task_id: int, status: str) -> int:
    """Puts the Task where a console killed at that moment leaves it: the state written,
    the account leased to the dead worker. Returns the account id."""
    now = utcnow()
    with db.session() as s:
        account = s.scalar(select(MarketPlaceAccount).where(MarketPlaceAccount.login == "buyer001"))
        s.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(
                status=status,
                account_id=account.id,
                worker=crashed_worker(),
                attempts=1,
                started_at=now - timedelta(seconds=1),
            )
        )
        account.lease_owner = crashed_worker()
        account.lease_expires_at = now + timedelta(minutes=10)
        s.commit()
        return account.id


async def place_directly(db: Database, shop: SandboxServer, task_id: int, account_id: int) -> str:
    """The shop takes the order, as it would have just before the console died."""
    driver = SandboxDriver(shop.url, DbSessionStore(db), shop=MARKETPLACE_NAME)
    await driver.start()
    try:
        with db.session() as s:
            account = account_refs(s, [account_id])[account_id]

        async def nothing() -> None:
            pass

        receipt = await driver.purchase(
            PurchaseRequest(task_id, account, "100001", "PVZ-001"), nothing
        )
        return receipt.order_number
    finally:
        await driver.close()


async def one_unit(console: Supervisor) -> int:
    order_id = await console.submit(OrderSpec("C", "sandbox", [LineSpec("100001", 1, "PVZ-001")]))
    return order_id


async def test_crash_after_the_shop_answered_before_the_record(db, shop, console) -> None:
    order_id = await one_unit(console)
    (task,) = tasks(db, order_id)
    account_id = leave_mid_purchase(db, task.id, "submitting")
    number = await place_directly(db, shop, task.id, account_id)

    await console.run(until_idle=True)

    (task,) = tasks(db, order_id)
    assert task.status == "purchased" and task.login == "buyer001"
    assert [o.order_number for o in shop.ledger.orders()] == [number]  # not bought twice
    with db.session() as s:
        assert list(s.scalars(select(BuyBack.order_number))) == [number]
        assert s.get(MarketPlaceAccount, account_id).lease_owner is None
    assert history(db, task.id)[-1] == "purchased"


@pytest.mark.parametrize("status", ["submitting", "running"])
async def test_crash_before_the_shop_took_the_order(db, shop, console, status) -> None:
    order_id = await one_unit(console)
    (task,) = tasks(db, order_id)
    leave_mid_purchase(db, task.id, status)

    await console.run(until_idle=True)

    (task,) = tasks(db, order_id)
    assert task.status == "purchased"
    orders = shop.ledger.orders()
    assert len(orders) == 1  # bought once, after the shop confirmed it had nothing
    with db.session() as s:
        assert list(s.scalars(select(BuyBack.order_number))) == [orders[0].order_number]
    with db.session() as s:
        requeued = s.scalar(
            select(TaskEvent.detail).where(
                TaskEvent.task_id == task.id, TaskEvent.from_status == status
            )
        )
    assert requeued == "no order on the marketplace after a restart; the unit is queued again"


async def test_crash_while_the_shop_is_unreachable_goes_to_review(db, shop, console) -> None:
    order_id = await one_unit(console)
    (task,) = tasks(db, order_id)
    leave_mid_purchase(db, task.id, "submitting")
    shop.update_options(error_rate=1.0)  # every page answers 503

    await console.run(until_idle=True)

    (task,) = tasks(db, order_id)
    assert task.status == "needs_review"
    assert "buyer001" in task.last_error and "100001" in task.last_error
    assert shop.ledger.orders() == []


async def test_a_worker_that_is_alive_is_left_alone(db, shop, console) -> None:
    order_id = await one_unit(console)
    (task,) = tasks(db, order_id)
    leave_mid_purchase(db, task.id, "submitting")
    alive = "another-host:4242:other-console"  # its heartbeat is fresh: it is at work
    with db.engine.begin() as conn:
        workers.register(conn, alive, workers.WorkerKind.CONSOLE)
    with db.session() as s:
        s.execute(update(Task).values(worker=alive))
        s.execute(
            update(MarketPlaceAccount)
            .where(MarketPlaceAccount.login == "buyer001")
            .values(lease_owner=alive)
        )
        s.commit()
    report = await console.recover()
    assert not report
    assert [t.status for t in tasks(db, order_id)] == ["submitting"]
