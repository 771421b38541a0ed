"""Several workers on one database: liveness is the heartbeat (on the database's clock),
a silent worker is rescued by another and loses its claims, a late heartbeat never
clicks, a dead process on this host is known at once, and the account rules hold in the
database itself."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta

import pytest
from helpers import GatedDriver, make_supervisor, seed_market, tasks, wait_for
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core.domain.clock import utcnow
from app.core.domain.models import MarketPlaceAccount, Order, Task, Worker
from app.core.domain.states import UnitRule
from app.core.drivers.base import PurchaseRequest
from app.core.drivers.memory import MemoryDriver
from app.core.engine.events import EngineNotice
from app.core.orders.create import create_order
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage import workers
from app.core.storage.db import Database


def silence(db: Database, worker_id: str, seconds: float) -> None:
    """The worker's last heartbeat, `seconds` ago (as a frozen or cut-off worker leaves it)."""
    with db.engine.begin() as conn:
        conn.execute(
            update(Worker)
            .where(Worker.id == worker_id)
            .values(heartbeat_at=utcnow() - timedelta(seconds=seconds))
        )


def worker_row(db: Database, worker_id: str) -> Worker:
    with db.reading() as s:
        row = s.get(Worker, worker_id)
        assert row is not None
        return row


async def test_a_silent_worker_is_rescued_and_its_claim_can_no_longer_click(db) -> None:
    seed_market(db, accounts=3)
    held = GatedDriver()  # worker A: its purchase hangs before the place-order step
    a = make_supervisor(db, held, heartbeat_s=3600)  # and it writes no further heartbeat
    order_id = await a.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    run_a = asyncio.create_task(a.run())
    await wait_for(lambda: held.started == 1)
    (task,) = tasks(db, order_id)
    assert task.status == "running"

    silence(db, a.ctx.worker_id, workers.STALE_S + 1)
    free = MemoryDriver()  # worker B, on another host for all the database knows
    b = make_supervisor(db, free)
    report = await b.recover()
    assert report.rescued == [a.ctx.worker_id]
    assert worker_row(db, a.ctx.worker_id).rescued_by == b.ctx.worker_id
    (task,) = tasks(db, order_id)
    assert task.status == "retry_wait"  # nothing was placed: back in the queue
    with db.reading() as s:
        assert (
            s.scalar(
                select(MarketPlaceAccount.lease_owner).where(
                    MarketPlaceAccount.lease_owner == a.ctx.worker_id
                )
            )
            is None
        )

    held.gate.set()  # A wakes up and goes on with its purchase
    await wait_for(lambda: held.now == 0)
    assert held.ledger == []  # its claim was gone: it never clicked
    await b.run(until_idle=True)
    assert [t.status for t in tasks(db, order_id)] == ["purchased"]
    assert len(free.ledger) == 1
    a.stop()
    await run_a


async def test_a_worker_taken_for_dead_joins_again_as_a_new_worker_and_goes_on(db) -> None:
    """A laptop that slept: another worker rescued its units meanwhile. When it wakes it
    says so, records nothing more under its old claims, and goes on as a new worker."""
    seed_market(db, accounts=3)
    held = GatedDriver()
    a = make_supervisor(db, held, heartbeat_s=0.1)
    events = a.bus.subscribe()
    first = await a.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    run_a = asyncio.create_task(a.run())
    await wait_for(lambda: held.started == 1)
    old_id = a.ctx.worker_id

    # A stops beating (the computer sleeps) and B rescues it and its unit meanwhile.
    b_id = "ws-b:1:b"
    with db.engine.begin() as conn:
        silence_at = utcnow() - timedelta(seconds=workers.STALE_S + 1)
        conn.execute(update(Worker).where(Worker.id == old_id).values(heartbeat_at=silence_at))
        assert workers.rescue_stale(conn, b_id, utcnow()) == [old_id]
    b = make_supervisor(db, MemoryDriver())
    b.ctx.worker_id = b_id
    report = await b.recover()
    assert report.requeued == 1
    assert tasks(db, first)[0].status == "retry_wait"

    held.gate.set()  # A wakes: its purchase's claim is gone, so it never clicks
    await wait_for(lambda: a.ctx.worker_id != old_id, what="A joined again")
    said = [e.message for e in events.drain() if isinstance(e, EngineNotice)]
    assert any("joins again as a new worker" in m for m in said)
    # A, now a new worker, buys what is queued: the unit it lost and a new Order.
    second = await a.submit(OrderSpec("C", "mem", [LineSpec("A2", 2, "P2")]))
    await wait_for(
        lambda: [t.status for t in tasks(db)] == ["purchased"] * 3,
        timeout=20,
        what="every unit bought",
    )
    assert len(held.ledger) == 3  # each unit once: the lost click never happened
    assert worker_row(db, old_id).rescued_by == b_id
    new = worker_row(db, a.ctx.worker_id)
    assert new.rescued_by is None and new.stopped_at is None
    assert len(tasks(db, second)) == 2
    a.stop()
    await run_a


async def test_a_worker_whose_heartbeat_is_late_does_not_click(db) -> None:
    """The write before the place-order click needs a heartbeat heard within FENCE_S: a
    worker cut off from the database for that long may be rescued any moment."""
    seed_market(db, accounts=3)

    class LateOnce(MemoryDriver):
        late = 0

        async def purchase(self, request: PurchaseRequest, before_submit):  # type: ignore[override]
            if not self.late:
                self.late += 1
                silence(db, sup.ctx.worker_id, workers.FENCE_S + 1)
            return await super().purchase(request, before_submit)

    driver = LateOnce()
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    run = asyncio.create_task(sup.run())
    await wait_for(lambda: driver.late == 1 and tasks(db, order_id)[0].status == "retry_wait")
    (task,) = tasks(db, order_id)
    assert "heartbeat was late" in task.last_error and driver.ledger == []
    # The next heartbeat is on time again: the unit is bought, once.
    await wait_for(lambda: tasks(db, order_id)[0].status == "purchased", timeout=20)
    assert len(driver.ledger) == 1
    sup.stop()
    await run


_HOLDER = """
import sys, time
from app.core.storage import workers
from app.core.storage.db import Database
db = Database(sys.argv[1])
lock = workers.hold_lock(sys.argv[2])
with db.engine.begin() as conn:
    workers.register(conn, sys.argv[2], workers.WorkerKind.WORKER)
print("ready", flush=True)
time.sleep(600)
"""


async def test_a_dead_process_on_this_host_is_rescued_at_once(db) -> None:
    """No waiting for its heartbeat to go stale: its lock on this host says it ended."""
    worker_id = f"{workers.this_host()}:x:dead-here"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, db.url, worker_id], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        with db.engine.begin() as conn:
            assert workers.rescue_dead_here(conn, "me", utcnow()) == []  # it is alive
        proc.kill()
        proc.wait(10)
        with db.engine.begin() as conn:
            assert workers.rescue_dead_here(conn, "me", utcnow()) == [worker_id]
    finally:
        proc.kill()
        proc.wait(10)
    row = worker_row(db, worker_id)
    assert row.rescued_by == "me" and row.heartbeat_at > utcnow() - timedelta(seconds=60)


async def test_a_stopped_worker_says_so_and_a_new_run_is_a_new_worker(db) -> None:
    seed_market(db, accounts=3)
    sup = make_supervisor(db, MemoryDriver())
    await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 2, "P1")]))
    await sup.run(until_idle=True)
    first = sup.ctx.worker_id
    assert worker_row(db, first).stopped_at is not None
    await sup.run(until_idle=True)
    assert sup.ctx.worker_id != first and worker_row(db, sup.ctx.worker_id).stopped_at
    with db.reading() as s:
        states = {w.id: w.state for w in workers.list_workers(s, utcnow())}
    assert states[first] == workers.WorkerState.STOPPED


async def test_the_account_rules_hold_in_the_database_itself(db) -> None:
    market = seed_market(db, accounts=3)
    sup = make_supervisor(db, MemoryDriver())
    order_id = await sup.submit(
        OrderSpec("C", "mem", [LineSpec("A1", 2, "P1")], hold=True, unit_rule=UnitRule.PER_JOB)
    )
    first, second = (t.id for t in tasks(db, order_id))
    with db.reading() as s:
        account = s.scalars(
            select(MarketPlaceAccount.id).where(MarketPlaceAccount.marketplace_id == market.id)
        ).first()

    def set_tasks(values: list[tuple[int, str]]) -> None:
        with db.engine.begin() as conn:
            for task_id, status in values:
                conn.execute(
                    update(Task)
                    .where(Task.id == task_id)
                    .values(status=status, account_id=account, worker="w")
                )

    # One account in two active Tasks at once (two units of different Jobs would do too).
    with pytest.raises(IntegrityError):
        set_tasks([(first, "running"), (second, "assigned")])
    # One unit of the Job per account: bought, then another of the same Job.
    set_tasks([(first, "purchased")])
    with pytest.raises(IntegrityError):
        set_tasks([(second, "assigned")])
    assert [t.status for t in tasks(db, order_id)] == ["purchased", "pending"]


async def test_an_order_sent_twice_is_created_once(db) -> None:
    seed_market(db, accounts=3)
    spec = OrderSpec("C", "mem", [LineSpec("A1", 3, "P1")], request_id="dialog-1")
    with db.engine.begin() as conn:
        first = create_order(conn, spec, max_units_per_line=100)
    with db.engine.begin() as conn:
        again = create_order(conn, spec, max_units_per_line=100)
    assert again == first
    with db.reading() as s:
        assert s.scalars(select(Order.id)).all() == [first]
    assert len(tasks(db, first)) == 3
