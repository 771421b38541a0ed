"""The operator's verdict on a unit in review, through the engine as the console gives it:
an order number is recorded as bought only when the account's order history at the shop
has it for the unit's article (real sandbox shop, real browser), at the shop's price; a
made-up, foreign or already recorded number is refused with nothing written."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import row_counts, seed_market, tasks
from sqlalchemy import select, update

from app.core.accounts.pool import account_refs
from app.core.domain.clock import utcnow
from app.core.domain.codes import DeliveryStatus, Health
from app.core.domain.models import BuyBack, MarketPlaceAccount, Task, TaskEvent
from app.core.domain.states import UnitRule
from app.core.drivers.base import AccountRef, BusinessError, PurchaseRequest, Receipt
from app.core.drivers.memory import MemoryDriver
from app.core.drivers.sandbox import SandboxDriver
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.core.storage.db import Database
from app.core.support.errors import KnownError
from app.demo import seed_sandbox
from app.sandbox.seed import MARKETPLACE_NAME
from app.sandbox.server import SandboxOptions, SandboxServer


def settings() -> EngineSettings:
    return EngineSettings(concurrency=1, poll_s=0.05, rollup_s=0.05)


class Sessions:
    """The test's own SessionStore: its purchases do not share the engine's database writer."""

    def __init__(self) -> None:
        self.states: dict[int, Any] = {}

    async def load(self, account_id: int) -> Any:
        return self.states.get(account_id)

    async def save(self, account_id: int, state: Any) -> None:
        self.states[account_id] = state


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[SandboxServer]:
    server = SandboxServer(tmp_path / "ledger.sqlite3", SandboxOptions(accounts=3))
    server.start_in_thread()
    yield server
    server.stop_thread()


@pytest.fixture
def engine(db: Database, shop: SandboxServer) -> Iterator[EngineService]:
    seed_sandbox(db, shop.url, accounts=3)
    service = EngineService(db, driver_factory(db, DriverOptions()), settings())
    service.start()
    yield service
    service.stop()


def in_review(
    db: Database,
    service: EngineService,
    login: str,
    *,
    market: str = "sandbox",
    article: str = "100001",
    units: int = 1,
) -> list[int]:
    """A new Order's units, held (the engine buys nothing itself) and in review on the
    account `login`, as a lost answer from the shop leaves them (several units on one
    account: the Order's one-unit-per-account rule is off)."""
    pickup_point = "PVZ-001" if market == "sandbox" else "P1"
    spec = OrderSpec(
        "C", market, [LineSpec(article, units, pickup_point)], hold=True, unit_rule=UnitRule.OFF
    )
    order_id = service.submit(spec).result(10)
    with db.session() as s:
        account = s.scalar(select(MarketPlaceAccount.id).where(MarketPlaceAccount.login == login))
        s.execute(
            update(Task)
            .where(Task.order_id == order_id)
            .values(status="needs_review", account_id=account, attempts=1)
        )
        s.commit()
    return [t.id for t in tasks(db, order_id)]


def account(db: Database, login: str) -> AccountRef:
    with db.session() as s:
        account_id = s.scalars(
            select(MarketPlaceAccount.id).where(MarketPlaceAccount.login == login)
        ).one()
        return account_refs(s, [account_id])[account_id]


async def buy_at_the_shop(shop: SandboxServer, who: AccountRef, article: str) -> Receipt:
    """A real purchase in the shop for the account (a browser of the test's own)."""
    driver = SandboxDriver(shop.url, Sessions(), shop=MARKETPLACE_NAME)
    await driver.start()

    async def nothing() -> None:
        pass

    try:
        return await driver.purchase(PurchaseRequest(0, who, article, "PVZ-001"), nothing)
    finally:
        await driver.close()


async def verdict(
    service: EngineService, task_id: int, number: str | None, price: int | None
) -> None:
    await asyncio.wrap_future(service.resolve_review(task_id, number, price))


async def refused(service: EngineService, task_id: int, number: str, price: int) -> str:
    with pytest.raises(KnownError) as refusal:
        await verdict(service, task_id, number, price)
    return str(refusal.value)


def events(db: Database, task_id: int) -> list[tuple[str, str]]:
    with db.session() as s:
        return list(
            s.execute(
                select(TaskEvent.to_status, TaskEvent.detail)
                .where(TaskEvent.task_id == task_id)
                .order_by(TaskEvent.id)
            ).all()
        )


@pytest.mark.browser
async def test_a_made_up_or_another_articles_number_is_refused(db, shop, engine) -> None:
    (task,) = in_review(db, engine, "buyer001")
    (other,) = in_review(db, engine, "buyer002", article="100002")
    mug = await buy_at_the_shop(shop, account(db, "buyer001"), "100002")
    before = row_counts(db)

    said = await refused(engine, task, "SB-00000000", 100)
    assert said == (
        f"Order SB-00000000 is not in the order history of buyer001 at {MARKETPLACE_NAME}; "
        "nothing was recorded. Check the number (and that it is this account's order)."
    )
    said = await refused(engine, task, mug.order_number, mug.price_minor)
    assert said == (
        f"Order {mug.order_number} of buyer001 at {MARKETPLACE_NAME} is for article 100002, "
        "not 100001; nothing was recorded."
    )
    # Another account's order of the article is not this account's.
    assert "not in the order history of buyer002" in await refused(
        engine, other, mug.order_number, mug.price_minor
    )

    assert row_counts(db) == before
    assert [t.status for t in tasks(db)] == ["needs_review", "needs_review"]


@pytest.mark.browser
async def test_a_number_in_the_history_is_recorded_at_the_shops_price_once(
    db, shop, engine
) -> None:
    first, second = in_review(db, engine, "buyer001", units=2)
    bought = await buy_at_the_shop(shop, account(db, "buyer001"), "100001")
    assert bought.price_minor > 100

    # The operator typed the number in small letters and mistyped the price (1,00 ₽): the
    # shop's number and price are recorded.
    await verdict(engine, first, bought.order_number.lower(), 100)

    with db.session() as s:
        recorded = s.execute(
            select(BuyBack.task_id, BuyBack.order_number, BuyBack.price_minor, BuyBack.purchased_at)
        ).one()
    assert recorded[:3] == (first, bought.order_number, bought.price_minor)
    assert recorded.purchased_at.replace(tzinfo=None) == bought.placed_at.replace(tzinfo=None)
    assert [t.status for t in tasks(db)] == ["purchased", "needs_review"]
    status, detail = events(db, first)[-1]
    assert status == "purchased"
    assert detail.startswith(f"operator {getpass.getuser()} recorded order ")
    assert bought.order_number in detail
    assert f"checked in the order history of buyer001 at {MARKETPLACE_NAME}" in detail
    assert "the shop's price is recorded, not the 1,00\u00a0₽ typed" in detail

    before = row_counts(db)
    said = await refused(engine, second, bought.order_number, bought.price_minor)
    assert said == (
        f"Order {bought.order_number} is already recorded, for Task {first}; nothing was recorded."
    )
    assert row_counts(db) == before
    assert [o.order_number for o in shop.ledger.orders()] == [bought.order_number]


@pytest.mark.browser
async def test_a_shop_that_cannot_be_read_now_refuses_for_now(db, shop, engine) -> None:
    (task,) = in_review(db, engine, "buyer001")
    bought = await buy_at_the_shop(shop, account(db, "buyer001"), "100001")
    before = row_counts(db)
    shop.update_options(error_rate=1.0)  # every page answers 503

    said = await refused(engine, task, bought.order_number, bought.price_minor)
    assert said.startswith(
        f"Could not check order {bought.order_number} in the order history of buyer001 at "
        f"{MARKETPLACE_NAME} now ("
    )
    assert said.endswith("nothing was recorded. Try again in a moment.")
    assert row_counts(db) == before

    shop.update_options(error_rate=0.0)
    await verdict(engine, task, bought.order_number, bought.price_minor)
    assert [t.status for t in tasks(db)] == ["purchased"]


class Assisted:
    """A driver that cannot read order histories (as the assisted one: a person buys)."""

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def purchase(self, request, before_submit):
        raise BusinessError("a person buys here")

    async def find_purchase(self, account, article, since, exclude):
        return None

    async def track(self, account, order_number):
        return DeliveryStatus.UNKNOWN

    async def check(self, account):
        return Health.VALID, ""


@pytest.fixture
def memory_engine(db: Database) -> Iterator[tuple[EngineService, dict[str, Any]]]:
    seed_market(db, accounts=2, code="mem")
    seed_market(db, accounts=2, code="person")
    drivers: dict[str, Any] = {"mem": MemoryDriver(), "person": Assisted()}
    service = EngineService(db, lambda m: drivers[m.code], settings())
    service.start()
    yield service, drivers
    service.stop()


async def test_where_orders_cannot_be_read_the_operators_word_is_recorded_unchecked(
    db, memory_engine
) -> None:
    engine, drivers = memory_engine
    assert not hasattr(drivers["person"], "find_order")
    first, second = in_review(db, engine, "person-acc000", market="person", article="A1", units=2)

    await verdict(engine, first, "  WB-123456789 ", 129990)

    with db.session() as s:
        recorded = s.execute(select(BuyBack.order_number, BuyBack.price_minor)).one()
    assert tuple(recorded) == ("WB-123456789", 129990)
    assert "(unchecked: the console cannot read Market person's orders)" in events(db, first)[-1][1]
    said = await refused(engine, second, "WB-123456789", 129990)
    assert said.startswith("Order WB-123456789 is already recorded, for Task ")


async def test_the_memory_shops_history_is_checked_too(db, memory_engine) -> None:
    engine, drivers = memory_engine
    (task,) = in_review(db, engine, "mem-acc000", market="mem", article="A1")
    before = row_counts(db)
    assert "is not in the order history of mem-acc000" in await refused(engine, task, "MEM-1", 5)
    assert row_counts(db) == before

    receipt = Receipt("MEM-00000007", "A1", "P1", 4200, utcnow(), DeliveryStatus.IN_TRANSIT)
    drivers["mem"].ledger.append(("mem-acc000", "A1", receipt))
    await verdict(engine, task, "MEM-00000007", 4200)
    with db.session() as s:
        recorded = s.execute(select(BuyBack.price_minor, BuyBack.delivery_status)).one()
    assert tuple(recorded) == (4200, "in_transit")
    assert events(db, task)[-1][1].endswith(
        "recorded order MEM-00000007 at 42,00\u00a0₽ (checked in the order history of "
        "mem-acc000 at Market mem)"
    )


@pytest.mark.parametrize(
    ("number", "price"), [("", 100), ("MEM-1", None), ("MEM-1", 0), ("MEM-1", -100)]
)
async def test_no_number_or_price_is_refused_by_the_engine_too(
    db, memory_engine, number, price
) -> None:
    engine, _drivers = memory_engine
    (task,) = in_review(db, engine, "mem-acc000", market="mem", article="A1")
    before = row_counts(db)
    with pytest.raises(KnownError, match=r"^Enter the"):
        await verdict(engine, task, number, price)
    assert row_counts(db) == before


async def test_not_bought_queues_again_naming_the_operator(db, memory_engine) -> None:
    engine, _drivers = memory_engine
    (task,) = in_review(db, engine, "mem-acc000", market="mem", article="A1")
    await verdict(engine, task, None, None)
    assert [t.status for t in tasks(db)] == ["pending"]
    assert events(db, task)[-1][1].endswith("found no order; queued again")


async def test_a_unit_no_longer_in_review_is_refused(db, memory_engine) -> None:
    engine, _drivers = memory_engine
    (task,) = in_review(db, engine, "mem-acc000", market="mem", article="A1")
    await verdict(engine, task, None, None)  # another operator queued it again meanwhile
    with pytest.raises(KnownError, match=rf"^Task {task} is not waiting for review any more"):
        await verdict(engine, task, "MEM-1", 100)
