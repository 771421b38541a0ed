"""The TaskManager's account assignment: the right accounts, one unit of a Job per
account by default, never one account in two running Tasks, and waiting (not failing)
when no account is free."""

from __future__ import annotations

import asyncio
from collections import Counter

from helpers import make_supervisor, seed_market, tasks
from sqlalchemy import update

from app.core.domain.models import MarketPlaceAccount
from app.core.domain.states import UnitRule
from app.core.drivers.base import PurchaseRequest
from app.core.drivers.memory import MemoryDriver
from app.core.orders.spec import LineSpec, OrderSpec


async def test_each_unit_of_a_job_is_bought_by_a_different_account(db, market) -> None:
    driver = MemoryDriver()
    sup = make_supervisor(db, driver, concurrency=5)
    order_id = await sup.submit(
        OrderSpec("C", "mem", [LineSpec("A1", 10, "P1"), LineSpec("A2", 10, "P1")])
    )
    await sup.run(until_idle=True)
    rows = tasks(db, order_id)
    assert all(r.status == "purchased" for r in rows)
    for job_id in {r.job_id for r in rows}:
        logins = [r.login for r in rows if r.job_id == job_id]
        assert len(set(logins)) == len(logins) == 10


async def test_per_order_rule_uses_a_new_account_for_every_unit(db, market) -> None:
    sup = make_supervisor(db, MemoryDriver(), concurrency=4)
    spec = OrderSpec(
        "C", "mem", [LineSpec("A1", 6, "P1"), LineSpec("A2", 6, "P2")], unit_rule=UnitRule.PER_ORDER
    )
    order_id = await sup.submit(spec)
    await sup.run(until_idle=True)
    logins = [r.login for r in tasks(db, order_id)]
    assert len(set(logins)) == 12


async def test_units_wait_for_an_account_when_the_pool_runs_out(db) -> None:
    seed_market(db, accounts=3)
    driver = MemoryDriver()
    sup = make_supervisor(db, driver, concurrency=4)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 5, "P1")]))
    await sup.run(until_idle=True)
    statuses = Counter(r.status for r in tasks(db, order_id))
    # Three accounts can buy three units of the Job; the other two wait, not fail.
    assert statuses == {"purchased": 3, "waiting_account": 2}
    assert len(driver.ledger) == 3

    # A new account arrives: one waiting unit goes on with it.
    with db.session() as s:
        s.add(MarketPlaceAccount(marketplace_id=1, login="late-comer", password="pw"))
        s.commit()
    await sup.run(until_idle=True)
    statuses = Counter(r.status for r in tasks(db, order_id))
    assert statuses == {"purchased": 4, "waiting_account": 1}
    assert driver.ledger[-1][0] == "late-comer"


async def test_waiting_units_start_when_a_running_task_frees_its_account(db) -> None:
    seed_market(db, accounts=2)
    active: Counter[str] = Counter()
    overlap = []

    class Slow(MemoryDriver):
        async def purchase(self, request: PurchaseRequest, before_submit):  # type: ignore[override]
            active[request.account.login] += 1
            if active[request.account.login] > 1:
                overlap.append(request.account.login)
            try:
                await asyncio.sleep(0.02)
                return await super().purchase(request, before_submit)
            finally:
                active[request.account.login] -= 1

    driver = Slow()
    sup = make_supervisor(db, driver, concurrency=6)
    spec = OrderSpec("C", "mem", [LineSpec("A1", 10, "P1")], unit_rule=UnitRule.OFF)
    order_id = await sup.submit(spec)
    await sup.run(until_idle=True)
    rows = tasks(db, order_id)
    assert all(r.status == "purchased" for r in rows)
    assert overlap == []  # an account never ran two Tasks at once
    assert Counter(r.login for r in rows) == {"mem-acc000": 5, "mem-acc001": 5}


async def test_only_active_accounts_of_the_right_marketplace_are_used(db, market) -> None:
    seed_market(db, accounts=5, code="other")
    with db.session() as s:
        s.execute(
            update(MarketPlaceAccount)
            .where(MarketPlaceAccount.login.in_(["mem-acc000", "mem-acc001"]))
            .values(status="disabled")
        )
        s.commit()
    sup = make_supervisor(db, MemoryDriver(), concurrency=4)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 18, "P1")]))
    await sup.run(until_idle=True)
    rows = tasks(db, order_id)
    used = {r.login for r in rows if r.login}
    assert Counter(r.status for r in rows) == {"purchased": 18}
    assert not used & {"mem-acc000", "mem-acc001"}
    assert all(login.startswith("mem-") for login in used)


async def test_an_expired_lease_of_a_dead_worker_frees_the_account(db) -> None:
    from datetime import timedelta

    from app.core.domain.clock import utcnow

    seed_market(db, accounts=1)
    with db.session() as s:
        s.execute(
            update(MarketPlaceAccount).values(
                lease_owner="dead-host:1:x", lease_expires_at=utcnow() - timedelta(seconds=1)
            )
        )
        s.commit()
    sup = make_supervisor(db, MemoryDriver())
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    assert [r.status for r in tasks(db, order_id)] == ["purchased"]
