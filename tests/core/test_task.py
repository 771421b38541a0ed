"""The Task runner: its retry policy for transient errors, failing on business errors,
and reconciling with the marketplace when the place-order step may have happened."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from helpers import history, make_supervisor, tasks
from sqlalchemy import select

from app.core.domain.models import BuyBack, MarketPlaceAccount, TaskEvent
from app.core.drivers.base import BusinessError, PurchaseRequest, TransientError
from app.core.drivers.memory import MemoryDriver
from app.core.engine.settings import RetryPolicy
from app.core.orders.spec import LineSpec, OrderSpec


def test_backoff_grows_exponentially_within_jitter_and_cap() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay_s=2, factor=2, max_delay_s=10, jitter=0.25)
    rng = random.Random(1)
    for attempt, nominal in [(1, 2), (2, 4), (3, 8), (4, 10), (5, 10)]:
        delays = [policy.delay(attempt, rng) for _ in range(200)]
        assert nominal * 0.75 <= min(delays) and max(delays) <= nominal * 1.25
        assert max(delays) - min(delays) > 0  # jitter spreads the retries
    assert not policy.gives_up(5) and policy.gives_up(6)


def flaky(times: int, phase: str = "before", code: str = "http_5xx"):
    """A fault plan: each Task fails with a TransientError its first `times` attempts."""
    seen: Counter[int] = Counter()

    def plan(request: PurchaseRequest, at: str) -> None:
        if at == phase and seen[request.task_id] < times:
            seen[request.task_id] += 1
            raise TransientError("HTTP 503 from the marketplace", code=code)

    return plan


async def test_transient_error_is_retried_then_succeeds(db, market) -> None:
    driver = MemoryDriver(faults=flaky(2))
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    (row,) = tasks(db, order_id)
    assert row.status == "purchased" and row.attempts == 3
    assert history(db, row.id).count("retry_wait") == 2
    assert len(driver.ledger) == 1


async def test_transient_error_gives_up_after_the_bounded_attempts(db, market) -> None:
    driver = MemoryDriver(faults=flaky(99))
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    (row,) = tasks(db, order_id)
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: HTTP 503 from the marketplace"
    assert driver.ledger == []


@pytest.mark.parametrize(("code", "rested"), [("http_5xx", True), ("browser_crash", False)])
async def test_only_the_marketplaces_temporary_errors_rest_the_account(
    db, market, code: str, rested: bool
) -> None:
    """A crash of this computer's browser is not the account's doing: up to the last
    attempt, the accounts it hit go back to the pool without resting."""
    sup = make_supervisor(db, MemoryDriver(faults=flaky(99, code=code)))
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    assert [t.status for t in tasks(db, order_id)] == ["failed"]
    with db.session() as s:
        resting = s.scalars(
            select(MarketPlaceAccount.login).where(MarketPlaceAccount.cooldown_until.is_not(None))
        ).all()
    assert bool(resting) is rested


async def test_attempts_moved_to_another_account_do_not_use_up_the_retries(db, market) -> None:
    # Two accounts turn out blocked (the unit moves on to another account each time), then
    # the shop keeps answering 503: the unit still gets its three tries at the 503s.
    runs: Counter[int] = Counter()

    def blocked_twice_then_down(request: PurchaseRequest, at: str) -> None:
        if at != "before":
            return
        runs[request.task_id] += 1
        if runs[request.task_id] <= 2:
            raise BusinessError(
                f"Account {request.account.login} is blocked", code="account_blocked"
            )
        raise TransientError("HTTP 503 from the marketplace", code="http_5xx")

    sup = make_supervisor(db, MemoryDriver(faults=blocked_twice_then_down))
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)

    (row,) = tasks(db, order_id)
    assert runs[row.id] == 5 and row.attempts == 5
    assert row.status == "failed"
    assert row.last_error == (
        "gave up after 3 attempts with temporary errors (5 attempts in all, counting re-runs "
        "after an account change or a restart): HTTP 503 from the marketplace"
    )
    with db.session() as s:
        retried = s.scalars(
            select(TaskEvent.detail)
            .where(TaskEvent.task_id == row.id, TaskEvent.to_status == "retry_wait")
            .order_by(TaskEvent.id)
        ).all()
    assert retried == [
        "temporary error 1 of 3: HTTP 503 from the marketplace",
        "temporary error 2 of 3: HTTP 503 from the marketplace",
    ]


async def test_retry_failed_gives_the_unit_its_retries_again(db, market) -> None:
    driver = MemoryDriver(faults=flaky(99))
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    assert await sup.retry_failed(order_id) == 1
    await sup.run(until_idle=True)

    (row,) = tasks(db, order_id)
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: HTTP 503 from the marketplace"
    assert history(db, row.id).count("retry_wait") == 4  # two per round


async def test_lost_answer_after_the_order_was_placed_is_recorded_not_repeated(db, market) -> None:
    # The shop records the order, then the connection drops before the answer.
    driver = MemoryDriver(faults=flaky(1, phase="after"))
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 3, "P1")]))
    await sup.run(until_idle=True)
    rows = tasks(db, order_id)
    assert [r.status for r in rows] == ["purchased"] * 3
    assert len(driver.ledger) == 3  # bought exactly once each
    with db.session() as s:
        recorded = set(s.scalars(select(BuyBack.order_number)))
    assert recorded == {r.order_number for _, _, r in driver.ledger}
    assert "submitting" in history(db, rows[0].id)


async def test_failure_after_submitting_without_an_order_is_retried(db, market) -> None:
    seen: set[int] = set()

    class ClickFails(MemoryDriver):
        async def purchase(self, request, before_submit):  # type: ignore[override]
            if request.task_id not in seen:
                seen.add(request.task_id)
                await before_submit()
                raise TransientError("page crashed on the place-order click", code="browser_crash")
            return await super().purchase(request, before_submit)

    driver = ClickFails()
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    (row,) = tasks(db, order_id)
    assert row.status == "purchased"
    assert history(db, row.id) == [
        "pending",
        "assigned",
        "running",
        "submitting",
        "retry_wait",
        "assigned",
        "running",
        "submitting",
        "purchased",
    ]
    assert len(driver.ledger) == 1


async def test_uncertain_outcome_goes_to_review_not_to_a_blind_retry(db, market) -> None:
    class HistoryDown(MemoryDriver):
        async def find_purchase(self, *a, **k):  # type: ignore[override]
            raise TransientError("order history did not load", code="timeout")

    driver = HistoryDown(faults=flaky(1, phase="after"))
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    (row,) = tasks(db, order_id)
    assert row.status == "needs_review"
    assert "may have been placed" in row.last_error
    assert len(driver.ledger) == 1


async def test_blocked_account_is_taken_out_and_the_unit_bought_by_another(db, market) -> None:
    def blocked(request: PurchaseRequest, at: str) -> None:
        if request.account.login == "mem-acc000":
            raise BusinessError(
                "Account mem-acc000 is blocked by the marketplace", code="account_blocked"
            )

    driver = MemoryDriver(faults=blocked)
    sup = make_supervisor(db, driver, concurrency=1)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 2, "P1")]))
    await sup.run(until_idle=True)
    rows = tasks(db, order_id)
    assert [r.status for r in rows] == ["purchased", "purchased"]
    assert "mem-acc000" not in {login for login, _, _ in driver.ledger}
    with db.session() as s:
        acc = s.scalar(select(MarketPlaceAccount).where(MarketPlaceAccount.login == "mem-acc000"))
        assert acc.status == "blocked" and "blocked" in acc.last_error


@pytest.mark.parametrize("code", ["out_of_stock", "price_above_cap"])
async def test_business_error_fails_with_the_reason(db, market, code: str) -> None:
    def fail(request: PurchaseRequest, at: str) -> None:
        raise BusinessError(f"reason for {code}", code=code)

    sup = make_supervisor(db, MemoryDriver(faults=fail))
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    (row,) = tasks(db, order_id)
    assert row.status == "failed" and row.last_error == f"reason for {code}" and row.attempts == 1


async def test_business_error_after_the_click_is_checked_not_failed_blindly(db, market) -> None:
    # The account is blocked right after the order went through (the confirmation page
    # says "blocked"): the order exists, so the unit is recorded, not failed and re-bought.
    def blocked_after(request: PurchaseRequest, at: str) -> None:
        if at == "after":
            raise BusinessError("Account is blocked by the marketplace", code="account_blocked")

    driver = MemoryDriver(faults=blocked_after)
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    (row,) = tasks(db, order_id)
    assert row.status == "purchased"
    assert len(driver.ledger) == 1
    with db.session() as s:
        assert s.scalar(select(BuyBack.order_number)) == driver.ledger[0][2].order_number


async def test_an_order_number_recorded_for_another_unit_goes_to_review(db, market) -> None:
    """Two shops' answers with one number (or one order found twice) would record one
    purchase for two units: the second unit goes to review instead, never stranded."""
    twin = MemoryDriver()
    sup = make_supervisor(db, twin)
    first = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))
    await sup.run(until_idle=True)
    again = MemoryDriver()  # numbers from 1 again: its first order is "MEM-00000001" too
    second = await make_supervisor(db, again).submit(
        OrderSpec("C", "mem", [LineSpec("A2", 1, "P1")])
    )
    await make_supervisor(db, again).run(until_idle=True)
    assert [t.status for t in tasks(db, first)] == ["purchased"]
    (unit,) = tasks(db, second)
    assert unit.status == "needs_review"
    assert unit.last_error.startswith("order MEM-00000001 is already recorded for another unit")
