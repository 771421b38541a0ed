"""Roll-up: a Job's and an Order's progress recomputed from their Tasks' states, stored,
and published for the views."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from app.core.domain.clock import utcnow
from app.core.domain.models import Job, Order, Task
from app.core.domain.states import BOUGHT, OrderStatus, TaskStatus, rollup, shown_status
from app.core.engine.events import OrderProgress
from app.core.storage.db import Database


def roll_up(conn: Connection, order_ids: set[int]) -> list[OrderProgress]:
    """Stores the progress of these Orders and their Jobs; the operator's intent (pause,
    cancel) is another column, which this never writes."""
    jobs = conn.execute(
        select(Job.id, Job.order_id, Job.status).where(Job.order_id.in_(order_ids))
    ).all()
    job_counts = _job_counts(conn, [j for j, _o, _s in jobs])
    orders: dict[int, dict[TaskStatus, int]] = defaultdict(lambda: defaultdict(int))
    for job_id, order_id, job_was in jobs:
        counts = job_counts.get(job_id)
        if not counts:
            continue
        for status, n in counts.items():
            orders[order_id][status] += n
        job_status = rollup(counts)
        if job_status != job_was:
            conn.execute(update(Job).where(Job.id == job_id).values(status=job_status))
    stored_orders = {
        i: (intent, status)
        for i, intent, status in conn.execute(
            select(Order.id, Order.intent, Order.status).where(Order.id.in_(order_ids))
        )
    }
    now = utcnow()
    out = []
    for order_id, counts in orders.items():
        intent, order_was = stored_orders[order_id]
        progress = OrderStatus(rollup(counts).value)
        if progress != order_was:
            conn.execute(
                update(Order).where(Order.id == order_id).values(status=progress, updated_at=now)
            )
        shown = shown_status(intent, progress, _bought(counts))
        out.append(OrderProgress(order_id, shown, sum(counts.values()), counts))
    return out


def _job_counts(conn: Connection | Session, job_ids: list[int]) -> dict[int, dict[TaskStatus, int]]:
    """Each Job's Tasks counted by status, from the (job, status) index alone."""
    counts: dict[int, dict[TaskStatus, int]] = defaultdict(dict)
    if job_ids:
        for job_id, status, n in conn.execute(
            select(Task.job_id, Task.status, func.count())
            .where(Task.job_id.in_(job_ids))
            .group_by(Task.job_id, Task.status)
        ):
            counts[job_id][TaskStatus(status)] = n
    return counts


async def order_progress(db: Database, order_id: int) -> OrderProgress:
    """The Order's current progress, read from the database."""

    def query(s: Session) -> OrderProgress:
        progress, intent = s.execute(
            select(Order.status, Order.intent).where(Order.id == order_id)
        ).one()
        job_ids = list(s.scalars(select(Job.id).where(Job.order_id == order_id)))
        counts: dict[TaskStatus, int] = defaultdict(int)
        for by_status in _job_counts(s, job_ids).values():
            for status, n in by_status.items():
                counts[status] += n
        shown = shown_status(intent, progress, _bought(counts))
        return OrderProgress(order_id, shown, sum(counts.values()), counts)

    return await db.read(query)


def _bought(counts: dict[TaskStatus, int]) -> int:
    return sum(counts.get(s, 0) for s in BOUGHT)
