"""The account pool's rules: daily limits, rest after failures, and leases that keep an
account in one running Task at a time, even with two workers on one database."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from helpers import make_supervisor, seed_market, tasks
from sqlalchemy import select, update

from app.core.accounts.pool import A, LeaseRequest, PoolRules, lease_accounts
from app.core.domain.clock import day_start, utcnow
from app.core.domain.models import BuyBack, MarketPlaceAccount, Order, Task, TaskEvent
from app.core.domain.states import TaskStatus, UnitRule
from app.core.drivers.base import PurchaseRequest, TransientError
from app.core.drivers.memory import MemoryDriver
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.supervisor import Supervisor


class WatchingDriver(MemoryDriver):
    """Takes a little time per purchase and notes any account used twice at once."""

    def __init__(self) -> None:
        super().__init__()
        self.active: Counter[str] = Counter()
        self.overlaps: list[str] = []

    async def purchase(self, request: PurchaseRequest, before_submit):  # type: ignore[override]
        login = request.account.login
        self.active[login] += 1
        if self.active[login] > 1:
            self.overlaps.append(login)
        try:
            await asyncio.sleep(0.002)
            return await super().purchase(request, before_submit)
        finally:
            self.active[login] -= 1


async def test_two_workers_never_share_an_account_or_pass_a_daily_limit(db_url) -> None:
    first, second = Database(db_url), Database(db_url)  # two workstations, one database
    seed_market(first, accounts=20)
    with first.session() as s:
        s.execute(update(MarketPlaceAccount).values(daily_limit=7))
        s.commit()
    driver = WatchingDriver()
    settings = {"concurrency": 8, "poll_s": 0.05, "rollup_s": 0.05}
    workers = [
        Supervisor(db, lambda _m: driver, settings=EngineSettings(**settings))
        for db in (first, second)
    ]
    spec = OrderSpec(
        "C", "mem", [LineSpec("A1", 100, "P1"), LineSpec("A2", 100, "P2")], unit_rule=UnitRule.OFF
    )
    order_id = await workers[0].submit(spec)
    await asyncio.gather(*(w.run(until_idle=True) for w in workers))

    assert driver.overlaps == []
    per_account = Counter(login for login, _, _ in driver.ledger)
    assert max(per_account.values()) <= 7
    statuses = Counter(r.status for r in tasks(first, order_id))
    assert statuses == {"purchased": 140, "waiting_account": 60}
    with first.session() as s:
        assert (
            s.scalar(
                select(MarketPlaceAccount.id).where(MarketPlaceAccount.lease_owner.is_not(None))
            )
            is None
        )
    first.close()
    second.close()


async def test_only_todays_purchases_count_against_the_limit(db) -> None:
    market = seed_market(db, accounts=1)
    with db.session() as s:
        s.execute(update(MarketPlaceAccount).values(daily_limit=1))
        s.commit()
    sup = make_supervisor(db, MemoryDriver())
    old = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    with db.session() as s:  # that purchase was yesterday
        s.execute(update(BuyBack).values(purchased_at=day_start(utcnow()) - timedelta(hours=1)))
        s.commit()
    new = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 2, "P1")], unit_rule=UnitRule.OFF))
    await sup.run(until_idle=True)
    assert [r.status for r in tasks(db, old)] == ["purchased"]
    assert sorted(r.status for r in tasks(db, new)) == ["purchased", "waiting_account"]
    assert market.id == 1


async def test_an_account_rests_after_failures_and_recovers_on_success(db) -> None:
    seed_market(db, accounts=1)
    fails = {"left": 2}

    def flaky(request: PurchaseRequest, phase: str) -> None:
        if phase == "before" and fails["left"]:
            fails["left"] -= 1
            raise TransientError("timeout on the product page", code="timeout")

    sup = make_supervisor(db, MemoryDriver(faults=flaky))
    sup.ctx.settings.pool = PoolRules(cooldown_s=0.2, cooldown_max_s=1.0)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    started = asyncio.get_running_loop().time()
    await sup.run(until_idle=True)
    took = asyncio.get_running_loop().time() - started
    (row,) = tasks(db, order_id)
    assert row.status == "purchased" and row.attempts == 3
    # The only account rested 0.2 s after the first failure and 0.4 s after the second.
    assert took >= 0.6
    with db.session() as s:
        acc = s.scalar(select(MarketPlaceAccount))
        assert acc.failures_in_row == 0 and acc.cooldown_until is None


async def test_a_resting_account_is_not_leased(db) -> None:
    seed_market(db, accounts=2)
    with db.session() as s:
        s.execute(
            update(MarketPlaceAccount)
            .where(MarketPlaceAccount.login == "mem-acc000")
            .values(cooldown_until=utcnow() + timedelta(hours=1))
        )
        s.commit()
    driver = MemoryDriver()
    sup = make_supervisor(db, driver)
    await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1"), LineSpec("A2", 1, "P1")]))
    await sup.run(until_idle=True)
    assert {login for login, _, _ in driver.ledger} == {"mem-acc001"}


async def test_a_lease_for_tasks_one_of_which_moved_takes_the_others_only(db) -> None:
    """Leases are taken for all Tasks in one go; when one Task is no longer where the
    worker believed (the operator cancelled it), the others still get their accounts, the
    moved one is reported, and no account stays leased for it."""
    seed_market(db, accounts=5)
    sup = make_supervisor(db, MemoryDriver())
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 3, "P1")]))
    with db.session() as s:
        ids = list(s.scalars(select(Task.id).where(Task.order_id == order_id).order_by(Task.id)))
        job_id, mp_id = s.execute(select(Task.job_id, Order.marketplace_id).join(Order)).first()
        s.execute(update(Task).where(Task.id == ids[1]).values(status=TaskStatus.CANCELLED))
        s.commit()
    req = LeaseRequest(
        order_id, job_id, mp_id, UnitRule.PER_JOB, [(i, TaskStatus.PENDING, 0) for i in ids]
    )
    leased, ran_out, moved = await db.write(
        lambda c: lease_accounts(c, req, owner="w1", now=utcnow())
    )
    assert [t for t, _ in leased] == [ids[0], ids[2]] and moved == {ids[1]} and not ran_out
    with db.reading() as s:
        held = set(s.scalars(select(A.id).where(A.lease_owner == "w1")))
        assigned = dict(s.execute(select(Task.id, Task.account_id).where(Task.id.in_(ids))).all())
        events = s.scalars(select(TaskEvent.task_id).where(TaskEvent.to_status == "assigned"))
        assert sorted(events) == [ids[0], ids[2]]
    assert held == {a for _, a in leased}
    assert assigned == {ids[0]: leased[0][1], ids[1]: None, ids[2]: leased[1][1]}
