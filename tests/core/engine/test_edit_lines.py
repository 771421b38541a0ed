"""Editing an Order's lines (commands.edit_line, Supervisor.edit_lines): a new price cap
holds from the next purchase, even of a Job already running; a lower quantity drops the
units not bought, never those bought or being bought; a higher one adds units."""

from __future__ import annotations

import asyncio

import pytest
from helpers import GatedDriver, history, make_supervisor, row_counts, tasks, wait_for
from sqlalchemy import select, update

from app.core.domain.models import Job, JobBatch, OrderLine, Task
from app.core.drivers.memory import MemoryDriver
from app.core.engine.commands import LineEdit, line_states
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.support.text import Refused


def line_id(db, order_id: int) -> int:
    with db.session() as s:
        return s.scalar(select(OrderLine.id).where(OrderLine.order_id == order_id))


def set_statuses(db, order_id: int, statuses: list[str]) -> list[int]:
    """Puts the Order's units (in unit order) in these states; returns their ids."""
    with db.session() as s:
        ids = list(
            s.scalars(select(Task.id).where(Task.order_id == order_id).order_by(Task.unit_no))
        )
        for task_id, status in zip(ids, statuses, strict=True):
            s.execute(update(Task).where(Task.id == task_id).values(status=status))
        s.commit()
    return ids


async def test_units_failed_on_the_cap_are_bought_after_the_cap_is_raised(db, market) -> None:
    driver = MemoryDriver(prices={"A1": 200000})
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", 2, "P1", "1500")]))
    await sup.run(until_idle=True)
    assert [r.status for r in tasks(db, order_id)] == ["failed", "failed"]

    edit = LineEdit(line_id(db, order_id), 250000, 2)
    assert await sup.edit_lines(order_id, [edit], retry_failed=True) == 2
    await sup.run(until_idle=True)
    assert [r.status for r in tasks(db, order_id)] == ["purchased", "purchased"]
    assert [r.price_minor for _, _, r in driver.ledger] == [200000, 200000]
    (line,) = await db.read(lambda s: line_states(s, order_id))
    assert (line.max_unit_price_minor, line.quantity, line.bought, line.failed) == (
        250000,
        2,
        2,
        0,
    )


async def test_a_running_job_uses_the_new_cap_from_its_next_purchase(db, market) -> None:
    driver = GatedDriver()  # every article costs 1 000 ₽
    sup = make_supervisor(db, driver, concurrency=1)
    order_id = await sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", 3, "P1", "900")]))
    runner = asyncio.create_task(sup.run(until_idle=True))
    await wait_for(lambda: driver.started == 1)  # the Job's TaskManager is running
    await sup.edit_lines(order_id, [LineEdit(line_id(db, order_id), 150000, 3)])
    driver.gate.set()
    await runner
    # The unit that had started keeps the cap it started with; the next ones the new one.
    assert [r.status for r in tasks(db, order_id)] == ["failed", "purchased", "purchased"]


async def test_a_lower_quantity_drops_units_not_bought_and_keeps_queued_ones(db, market) -> None:
    sup = make_supervisor(db, MemoryDriver())
    order_id = await sup.submit(
        OrderSpec("Client", "mem", [LineSpec("A1", 6, "P1", "1500")], hold=True)
    )
    ids = set_statuses(
        db, order_id, ["purchased", "running", "failed", "pending", "retry_wait", "failed"]
    )
    await sup.edit_lines(order_id, [LineEdit(line_id(db, order_id), 150000, 3)])
    # Bought and running stay; of the rest the first queued unit stays, the others go.
    assert [r.status for r in tasks(db, order_id)] == [
        "purchased",
        "running",
        "cancelled",
        "pending",
        "cancelled",
        "cancelled",
    ]
    assert history(db, ids[2])[-2:] == ["pending", "cancelled"]  # failed ones say both steps
    with db.session() as s:
        assert s.scalar(select(Job.quantity).where(Job.order_id == order_id)) == 3
    # The failed units dropped are not queued again by a later retry.
    assert await sup.retry_failed(order_id) == 0


async def test_the_quantity_cannot_go_below_what_is_bought_or_being_bought(db, market) -> None:
    sup = make_supervisor(db, MemoryDriver())
    order_id = await sup.submit(
        OrderSpec("Client", "mem", [LineSpec("A1", 4, "P1", "1500")], hold=True)
    )
    set_statuses(db, order_id, ["purchased", "submitting", "failed", "pending"])
    before, statuses = row_counts(db), [r.status for r in tasks(db, order_id)]
    with pytest.raises(Refused) as refused:
        await sup.edit_lines(
            order_id, [LineEdit(line_id(db, order_id), 300000, 1)], retry_failed=True
        )
    assert str(refused.value) == (
        "Line 1: 2 units are already bought or being bought, so the quantity cannot be "
        "less than 2 (got 1)."
    )
    assert row_counts(db) == before and [r.status for r in tasks(db, order_id)] == statuses
    (line,) = await db.read(lambda s: line_states(s, order_id))
    assert (line.max_unit_price_minor, line.quantity, line.held) == (150000, 4, 2)


async def test_a_higher_quantity_adds_units_that_are_bought(db, market) -> None:
    driver = MemoryDriver()
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", 2, "P1")]))
    await sup.run(until_idle=True)
    await sup.edit_lines(order_id, [LineEdit(line_id(db, order_id), None, 4)])
    with db.session() as s:
        units = s.execute(
            select(Task.unit_no, JobBatch.seq)
            .join(JobBatch, JobBatch.id == Task.batch_id)
            .where(Task.order_id == order_id)
            .order_by(Task.id)
        ).all()
    assert [tuple(u) for u in units] == [(1, 0), (2, 0), (3, 1), (4, 1)]
    await sup.run(until_idle=True)
    assert [r.status for r in tasks(db, order_id)] == ["purchased"] * 4
    assert len(driver.ledger) == 4


async def test_a_cancelled_order_is_not_edited(db, market) -> None:
    sup = make_supervisor(db, MemoryDriver())
    order_id = await sup.submit(OrderSpec("Client", "mem", [LineSpec("A1", 2, "P1")], hold=True))
    await sup.cancel(order_id)
    with pytest.raises(Refused, match="is cancelled"):
        await sup.edit_lines(order_id, [LineEdit(line_id(db, order_id), None, 3)])
    with pytest.raises(Refused, match="is cancelled"):  # nor are its units queued again
        await sup.edit_lines(order_id, [], retry_failed=True)
    assert [r.status for r in tasks(db, order_id)] == ["cancelled", "cancelled"]
