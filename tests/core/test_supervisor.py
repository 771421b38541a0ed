"""The Supervisor: splitting Orders into Jobs and batches, the global concurrency bound,
status roll-up, and the operator's pause, resume, cancel and retry."""

from __future__ import annotations

import asyncio
from collections import Counter

from helpers import GatedDriver, make_supervisor, tasks, wait_for
from sqlalchemy import select, update

from app.core.domain.models import BuyBack, Job, JobBatch, Order, Task
from app.core.domain.states import JobStatus, OrderIntent, OrderStatus, shown_status
from app.core.drivers.base import BusinessError, PurchaseRequest
from app.core.drivers.memory import MemoryDriver
from app.core.engine.context import EngineContext
from app.core.orders.create import split
from app.core.orders.spec import LineSpec, OrderSpec


def test_split_into_batches() -> None:
    assert split(10, None) == [10]
    assert split(10, 4) == [4, 4, 2]
    assert split(8, 4) == [4, 4]
    assert split(3, 10) == [3]


async def test_order_is_split_into_one_job_per_line_and_one_task_per_unit(db, market) -> None:
    sup = make_supervisor(db, MemoryDriver())
    spec = OrderSpec(
        "ООО Ромашка",
        "mem",
        [LineSpec("A1", 3, "P1"), LineSpec("A2", 2, "P2", "1500")],
        batch_size=2,
    )
    order_id = await sup.submit(spec)
    with db.session() as s:
        jobs = s.scalars(select(Job).where(Job.order_id == order_id).order_by(Job.id)).all()
        assert [j.quantity for j in jobs] == [3, 2]
        batches = s.scalars(select(JobBatch.size).where(JobBatch.job_id == jobs[0].id)).all()
        assert sorted(batches) == [1, 2]
    rows = tasks(db, order_id)
    assert [r.job_id for r in rows] == [jobs[0].id] * 3 + [jobs[1].id] * 2
    assert {r.status for r in rows} == {"pending"}


async def test_run_buys_every_unit_and_rolls_status_up(db, market) -> None:
    driver = MemoryDriver()
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(
        OrderSpec("Client", "mem", [LineSpec("A1", 4, "P1"), LineSpec("A2", 3, "P2")])
    )
    await sup.run(until_idle=True)
    assert [r.status for r in tasks(db, order_id)] == ["purchased"] * 7
    assert len(driver.ledger) == 7
    with db.session() as s:
        assert s.get(Order, order_id).status == OrderStatus.PURCHASED
        assert set(s.scalars(select(Job.status).where(Job.order_id == order_id))) == {
            JobStatus.PURCHASED
        }
        numbers = set(s.scalars(select(BuyBack.order_number)))
    assert numbers == {r.order_number for _, _, r in driver.ledger}


async def test_concurrency_is_bounded_across_all_orders(db, market, monkeypatch) -> None:
    looked: Counter[int] = Counter()  # Order id -> times its TaskManagers looked for work
    may_dispatch = EngineContext.may_dispatch

    def counted(self: EngineContext, order_id: int) -> bool:
        looked[order_id] += 1
        return may_dispatch(self, order_id)

    monkeypatch.setattr(EngineContext, "may_dispatch", counted)
    driver = GatedDriver()
    sup = make_supervisor(db, driver, concurrency=3)
    for _ in range(2):
        await sup.submit(
            OrderSpec("Client", "mem", [LineSpec("A1", 4, "P1"), LineSpec("A2", 4, "P2")])
        )
    runner = asyncio.create_task(sup.run(until_idle=True))
    await wait_for(lambda: driver.started == 3)
    # Every chance to over-start: the two Jobs' TaskManagers of each Order have looked for
    # work twice each since the three purchases started (they look again every poll).
    looked.clear()
    await wait_for(lambda: len(looked) == 2 and min(looked.values()) >= 4)
    assert driver.now == 3
    # A unit started by those looks is leased before they end, though it reaches the
    # driver only later: none is.
    assert [r.status for r in tasks(db)].count("pending") == 13
    driver.gate.set()
    await runner
    assert driver.peak == 3
    assert len(driver.ledger) == 16


async def test_pause_stops_new_purchases_and_resume_continues(db, market) -> None:
    driver = GatedDriver()
    sup = make_supervisor(db, driver, concurrency=2)
    order_id = await sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", 6, "P1")]))
    runner = asyncio.create_task(sup.run())
    await wait_for(lambda: driver.started == 2)
    await sup.pause(order_id)
    driver.gate.set()
    await wait_for(lambda: driver.now == 0)
    # The engine's chance to start more: another Order, placed while this one is paused,
    # gets the free slots and is bought in full.
    other = await sup.submit(OrderSpec("Other", "mem", [LineSpec("A2", 2, "P2")]))
    await wait_for(lambda: [r.status for r in tasks(db, other)] == ["purchased"] * 2)
    assert bought(driver, "A1") == 2  # nothing new started while paused
    statuses = [r.status for r in tasks(db, order_id)]
    assert statuses.count("purchased") == 2 and statuses.count("pending") == 4
    with db.session() as s:
        order = s.get(Order, order_id)
        assert order.intent == OrderIntent.PAUSED  # the operator's pause, apart from progress
        assert shown_status(order.intent, order.status) == OrderStatus.PAUSED
    await sup.resume(order_id)
    await wait_for(lambda: bought(driver, "A1") == 6)
    sup.stop()
    await runner
    with db.session() as s:
        assert s.get(Order, order_id).status == OrderStatus.PURCHASED


def bought(driver: MemoryDriver, article: str) -> int:
    """Units of the article the marketplace sold."""
    return sum(1 for _login, art, _receipt in driver.ledger if art == article)


async def test_cancel_cancels_queued_units_and_lets_started_ones_finish(db, market) -> None:
    driver = GatedDriver()
    sup = make_supervisor(db, driver, concurrency=2)
    order_id = await sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", 5, "P1")]))
    runner = asyncio.create_task(sup.run(until_idle=True))
    await wait_for(lambda: driver.started == 2)
    await sup.cancel(order_id)
    driver.gate.set()
    await runner
    statuses = [r.status for r in tasks(db, order_id)]
    # The two running Tasks had not reached "submitting": they stop before buying.
    assert statuses.count("cancelled") == 5
    assert driver.ledger == []
    with db.session() as s:
        assert s.get(Order, order_id).status == OrderStatus.CANCELLED


async def test_cancel_never_interrupts_a_submitting_unit(db, market) -> None:
    sup = make_supervisor(db, MemoryDriver(), concurrency=1)
    order_id = await sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", 3, "P1")]))
    cancelled = asyncio.Event()

    class CancelDuringSubmit(MemoryDriver):
        async def purchase(self, request, before_submit):  # type: ignore[override]
            async def submit_then_cancel() -> None:
                await before_submit()
                if not cancelled.is_set():
                    cancelled.set()
                    await sup.cancel(order_id)

            return await super().purchase(request, submit_then_cancel)

    driver = CancelDuringSubmit()
    sup.drivers._factory = lambda _m: driver
    await sup.run(until_idle=True)
    statuses = [r.status for r in tasks(db, order_id)]
    assert statuses == ["purchased", "cancelled", "cancelled"]
    assert len(driver.ledger) == 1


async def test_retry_failed_puts_failed_units_back(db, market) -> None:
    prices = {"A1": 200000}
    driver = MemoryDriver(prices=prices)
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", 2, "P1", "1500")]))
    await sup.run(until_idle=True)
    rows = tasks(db, order_id)
    assert [r.status for r in rows] == ["failed", "failed"]
    assert "above the cap" in rows[0].last_error
    with db.session() as s:
        assert s.get(Order, order_id).status == OrderStatus.FAILED
    prices["A1"] = 140000  # the price came down
    assert await sup.retry_failed(order_id) == 2
    await sup.run(until_idle=True)
    assert [r.status for r in tasks(db, order_id)] == ["purchased", "purchased"]
    with db.session() as s:
        assert s.get(Order, order_id).status == OrderStatus.PURCHASED


async def test_business_error_is_not_retried(db, market) -> None:
    calls = []

    def out_of_stock(request: PurchaseRequest, phase: str) -> None:
        if phase == "before":
            calls.append(request.task_id)
            raise BusinessError("Article A1 is out of stock", code="out_of_stock")

    sup = make_supervisor(db, MemoryDriver(faults=out_of_stock))
    order_id = await sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    (row,) = tasks(db, order_id)
    assert row.status == "failed" and row.last_error == "Article A1 is out of stock"
    assert len(calls) == 1


async def test_retrying_failed_units_of_a_paused_order_keeps_it_paused(db, market) -> None:
    sup = make_supervisor(db, MemoryDriver())
    spec = OrderSpec("Client", "mem", [LineSpec("A1", 4, "P1")], hold=True)  # saved paused
    order_id = await sup.submit(spec)
    with db.session() as s:  # two units failed before the operator paused
        first_two = select(Task.id).where(Task.order_id == order_id).limit(2)
        s.execute(update(Task).where(Task.id.in_(first_two)).values(status="failed"))
        s.commit()

    assert await sup.retry_failed(order_id) == 2
    await sup.run(until_idle=True)

    assert [r.status for r in tasks(db, order_id)] == ["pending"] * 4  # nothing bought
    with db.session() as s:
        order = s.get(Order, order_id)
        assert order.intent == OrderIntent.PAUSED  # not resumed by a retry
        assert shown_status(order.intent, order.status) == OrderStatus.PAUSED


async def test_a_marketplace_whose_driver_cannot_start_does_not_stop_the_others(db, market) -> None:
    from helpers import seed_market

    from app.core.engine.events import EngineNotice
    from app.core.support.errors import KnownError

    seed_market(db, accounts=3, code="nobrowser")
    good = MemoryDriver()

    def drivers(m):
        if m.code == "nobrowser":
            raise KnownError("No Chromium, Chrome or Edge found. Install one")
        return good

    sup = make_supervisor(db, good)
    sup.drivers._factory = drivers
    notices = sup.bus.subscribe()
    ok = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 2, "P1")]))
    stuck = await sup.submit(OrderSpec("C", "nobrowser", [LineSpec("A1", 2, "P1")]))
    await sup.run(until_idle=True)

    assert [r.status for r in tasks(db, ok)] == ["purchased", "purchased"]
    assert [r.status for r in tasks(db, stuck)] == ["pending", "pending"]  # waits, not failed
    said = [e.message for e in notices.drain() if isinstance(e, EngineNotice)]
    assert said == [
        "Market nobrowser: purchases cannot start: No Chromium, Chrome or Edge found. Install one"
    ]


async def test_the_operator_settles_a_unit_in_review(db, market) -> None:
    from app.core.drivers.base import TransientError

    class Uncertain(MemoryDriver):
        """The first unit's order goes through but the answer is lost; the second unit's
        click never reaches the shop; and the order history cannot be read."""

        history_down = True

        async def purchase(self, request, before_submit):  # type: ignore[override]
            if not self.history_down:
                return await super().purchase(request, before_submit)
            if not self.ledger:
                await super().purchase(request, before_submit)
            else:
                await before_submit()
            raise TransientError("connection dropped after the click", code="connection")

        async def find_purchase(self, *a, **k):  # type: ignore[override]
            if self.history_down:
                raise TransientError("order history did not load", code="timeout")
            return await super().find_purchase(*a, **k)

    driver = Uncertain()
    sup = make_supervisor(db, driver, concurrency=1)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 2, "P1")]))
    await sup.run(until_idle=True)
    first, second = tasks(db, order_id)
    assert first.status == second.status == "needs_review"
    assert len(driver.ledger) == 1

    # The operator finds the first order in the account's history, and none for the second.
    receipt = driver.ledger[0][2]
    await sup.resolve_review(
        first.id, order_number=receipt.order_number, price_minor=receipt.price_minor
    )
    await sup.resolve_review(second.id, order_number=None)
    driver.history_down = False
    await sup.run(until_idle=True)

    assert [t.status for t in tasks(db, order_id)] == ["purchased", "purchased"]
    assert len(driver.ledger) == 2  # each unit bought once
    with db.session() as s:
        assert s.get(Order, order_id).status == OrderStatus.PURCHASED
        recorded = sorted(s.scalars(select(BuyBack.order_number)))
    assert recorded == sorted(r.order_number for _, _, r in driver.ledger)
