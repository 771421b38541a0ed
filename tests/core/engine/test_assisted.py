"""Purchases made by a person on an assisted marketplace: the engine leaves the units for
the To buy view; taking one leases an account by the pool's rules; the operator's record
leads to the same states and account rules as an automated purchase."""

from __future__ import annotations

import pytest
from helpers import history, make_supervisor, seed_market, tasks
from sqlalchemy import select, update

from app.core.domain.codes import AccountStatus, DeliveryStatus
from app.core.domain.markets import MarketKind
from app.core.domain.models import BuyBack, MarketPlace, MarketPlaceAccount, Order, TaskEvent
from app.core.domain.states import OrderStatus
from app.core.drivers.memory import MemoryDriver
from app.core.engine import assisted
from app.core.engine.assisted import NotBought, NothingToTake, OverCap
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.support.text import Refused

ME = "operator:ivan@ws1"


def assisted_market(db, accounts: int) -> None:
    seed_market(db, accounts=accounts, code="wb")
    with db.session() as s:
        s.execute(
            update(MarketPlace).values(driver=MarketKind.ASSISTED, base_url="https://wb.example")
        )
        s.commit()


async def submit(sup, *lines: LineSpec, **kw) -> int:
    return await sup.submit(OrderSpec("Client", "wb", list(lines), **kw))


def account_row(db, login: str) -> MarketPlaceAccount:
    with db.reading() as s:
        return s.scalars(select(MarketPlaceAccount).where(MarketPlaceAccount.login == login)).one()


def order_status(db, order_id: int) -> str:
    with db.reading() as s:
        return s.scalar(select(Order.status).where(Order.id == order_id))


async def test_the_engine_leaves_the_units_to_a_person(db) -> None:
    assisted_market(db, accounts=3)
    sup = make_supervisor(db, MemoryDriver())
    order_id = await submit(sup, LineSpec("A1", 2, "P1", "1000"))
    await sup.run(until_idle=True)

    assert [t.status for t in tasks(db, order_id)] == ["pending", "pending"]
    with db.reading() as s:
        queued, total = assisted.queued_units(s)
    assert total == 2
    assert [(u.article, u.pickup_point, u.max_price_minor) for u in queued] == [
        ("A1", "P1", 100000),
        ("A1", "P1", 100000),
    ]


async def test_taking_a_unit_leases_an_account_by_the_pool_rules(db) -> None:
    assisted_market(db, accounts=2)
    sup = make_supervisor(db, MemoryDriver())
    await submit(sup, LineSpec("A1", 3, "P1"))

    first = await assisted.take(sup.ctx, ME)
    second = await assisted.take(sup.ctx, ME)
    # One unit of a line per account (the seed's rule): the third has no account.
    with pytest.raises(NothingToTake, match="no account may buy"):
        await assisted.take(sup.ctx, ME)

    assert first.login != second.login
    assert first.product_url == "https://wb.example/product/A1"
    assert (first.article, first.pickup_point, first.taken_by) == ("A1", "P1", "ivan")
    assert account_row(db, first.login).lease_owner == ME
    with db.reading() as s:
        in_hand = assisted.hand_units(s)
    assert {u.task_id for u in in_hand} == {first.task_id, second.task_id}
    assert history(db, first.task_id)[-2:] == ["assigned", "running"]


async def test_nothing_to_take_says_why(db) -> None:
    assisted_market(db, accounts=1)
    sup = make_supervisor(db, MemoryDriver())
    with pytest.raises(NothingToTake, match="nothing to buy"):
        await assisted.take(sup.ctx, ME)


async def test_bought_is_recorded_with_number_and_price_and_the_account_freed(db) -> None:
    assisted_market(db, accounts=2)
    sup = make_supervisor(db, MemoryDriver())
    order_id = await submit(sup, LineSpec("A1", 1, "P1", "1000"))
    unit = await assisted.take(sup.ctx, ME)

    with pytest.raises(Refused, match="order number"):
        await assisted.bought(sup.ctx, unit.task_id, "  ", 99000, False)
    with pytest.raises(OverCap, match="above the line's cap"):
        await assisted.bought(sup.ctx, unit.task_id, "WB-1", 120000, False)
    assert [t.status for t in tasks(db, order_id)] == ["running"]  # nothing recorded

    await assisted.bought(sup.ctx, unit.task_id, " WB-1 ", 99000, False)
    await sup.rollup()

    with db.reading() as s:
        bb = s.scalars(select(BuyBack)).one()
        detail = s.scalars(select(TaskEvent.detail).where(TaskEvent.task_id == unit.task_id)).all()[
            -1
        ]
    assert (bb.order_number, bb.price_minor, bb.account_id) == ("WB-1", 99000, unit.account_id)
    assert "bought by" in detail and "WB-1" in detail
    assert account_row(db, unit.login).lease_owner is None
    assert order_status(db, order_id) == OrderStatus.PURCHASED


async def test_a_number_already_recorded_is_refused_and_over_cap_needs_a_yes(db) -> None:
    assisted_market(db, accounts=2)
    sup = make_supervisor(db, MemoryDriver())
    await submit(sup, LineSpec("A1", 2, "P1", "1000"))
    one = await assisted.take(sup.ctx, ME)
    two = await assisted.take(sup.ctx, ME)
    await assisted.bought(sup.ctx, one.task_id, "WB-7", 50000, False)

    with pytest.raises(Refused, match="already recorded"):
        await assisted.bought(sup.ctx, two.task_id, "WB-7", 50000, False)
    await assisted.bought(sup.ctx, two.task_id, "WB-8", 150000, True)  # confirmed

    with db.reading() as s:
        prices = dict(s.execute(select(BuyBack.order_number, BuyBack.price_minor)).all())
    assert prices == {"WB-7": 50000, "WB-8": 150000}


async def test_could_not_buy_leads_where_an_automated_answer_does(db) -> None:
    assisted_market(db, accounts=3)
    sup = make_supervisor(db, MemoryDriver())
    order_id = await submit(sup, LineSpec("A1", 1, "P1"), LineSpec("A2", 1, "P1"))
    stock = await assisted.take(sup.ctx, ME)
    blocked = await assisted.take(sup.ctx, ME)

    await assisted.not_bought(sup.ctx, stock.task_id, NotBought.OUT_OF_STOCK, "none left")
    await assisted.not_bought(sup.ctx, blocked.task_id, NotBought.ACCOUNT_BLOCKED, "")
    with pytest.raises(Refused, match="note"):
        await assisted.not_bought(sup.ctx, blocked.task_id, NotBought.OTHER, "")

    rows = {t.id: t for t in tasks(db, order_id)}
    assert rows[stock.task_id].status == "failed"
    assert rows[stock.task_id].last_error == "out of stock: none left"
    # The account's fault: it leaves the pool and the unit waits for another account.
    assert rows[blocked.task_id].status == "pending"
    assert account_row(db, blocked.login).status == AccountStatus.BLOCKED
    again = await assisted.take(sup.ctx, ME)
    assert again.task_id == blocked.task_id and again.login != blocked.login


async def test_an_account_problem_rests_the_account(db) -> None:
    assisted_market(db, accounts=1)
    sup = make_supervisor(db, MemoryDriver())
    await submit(sup, LineSpec("A1", 1, "P1"))
    unit = await assisted.take(sup.ctx, ME)
    await assisted.not_bought(sup.ctx, unit.task_id, NotBought.ACCOUNT_PROBLEM, "asks for a code")

    acc = account_row(db, unit.login)
    assert acc.cooldown_until is not None and acc.lease_owner is None
    with pytest.raises(NothingToTake, match="resting"):  # the only account rests
        await assisted.take(sup.ctx, ME)


async def test_skip_puts_the_unit_back_and_frees_the_account(db) -> None:
    assisted_market(db, accounts=1)
    sup = make_supervisor(db, MemoryDriver())
    order_id = await submit(sup, LineSpec("A1", 1, "P1"))
    unit = await assisted.take(sup.ctx, ME)
    await assisted.skip_unit(sup.ctx, unit.task_id)

    assert [t.status for t in tasks(db, order_id)] == ["pending"]
    assert account_row(db, unit.login).lease_owner is None
    with pytest.raises(Refused, match="no longer in an operator's hands"):
        await assisted.skip_unit(sup.ctx, unit.task_id)
    again = await assisted.take(sup.ctx, ME)  # the same account may take it again
    assert again.task_id == unit.task_id


async def test_recovery_leaves_units_in_a_persons_hands_alone(db) -> None:
    assisted_market(db, accounts=1)
    sup = make_supervisor(db, MemoryDriver())
    order_id = await submit(sup, LineSpec("A1", 1, "P1"))
    unit = await assisted.take(sup.ctx, ME)

    later = make_supervisor(db, MemoryDriver())  # the console started again
    report = await later.recover()

    assert not report
    assert [t.status for t in tasks(db, order_id)] == ["running"]
    assert account_row(db, unit.login).lease_owner == ME


async def test_arrivals_marked_by_the_operator_finish_the_order(db) -> None:
    assisted_market(db, accounts=2)
    sup = make_supervisor(db, MemoryDriver())
    order_id = await submit(sup, LineSpec("A1", 2, "P1"))
    units = [await assisted.take(sup.ctx, ME) for _ in range(2)]
    for n, unit in enumerate(units):
        await assisted.bought(sup.ctx, unit.task_id, f"WB-{n}", 1000, False)

    assert await assisted.arrived(sup.ctx, [units[0].task_id]) == 1
    await sup.rollup()
    assert order_status(db, order_id) == OrderStatus.PURCHASED
    # Marking again, or a unit not bought, changes nothing.
    assert await assisted.arrived(sup.ctx, [units[0].task_id, units[1].task_id]) == 1
    await sup.rollup()

    assert order_status(db, order_id) == OrderStatus.DONE
    with db.reading() as s:
        assert set(s.scalars(select(BuyBack.delivery_status))) == {DeliveryStatus.AT_PICKUP_POINT}
