"""Roll-up: a Job's and an Order's progress recomputed from their Tasks' states, stored,
and published for the views."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from app.core.domain.clock import utcnow
from app.core.domain.models import Job, Order, Task
from app.core.domain.states import (
    BOUGHT,
    JobStatus,
    OrderStatus,
    TaskStatus,
    rollup,
    shown_status,
)
from app.core.engine.events import OrderProgress
from app.core.storage.db import Database


def roll_up(conn: Connection, order_ids: set[int]) -> list[OrderProgress]:
    """Stores the progress of these Orders and their Jobs; the operator's intent (pause,
    cancel) is another column, which this never writes."""
    # Each Job's Tasks counted on the (job, status) index alone.
    rows = conn.execute(
        select(Job.order_id, Job.id, Job.status, Task.status, func.count())
        .join(Task, Task.job_id == Job.id)
        .where(Job.order_id.in_(order_ids))
        .group_by(Job.order_id, Job.id, Job.status, Task.status)
    )
    jobs: dict[int, tuple[JobStatus, dict[TaskStatus, int]]] = {}
    orders: dict[int, dict[TaskStatus, int]] = defaultdict(lambda: defaultdict(int))
    for order_id, job_id, job_was, status, n in rows:
        jobs.setdefault(job_id, (job_was, {}))[1][TaskStatus(status)] = n
        orders[order_id][TaskStatus(status)] += n
    for job_id, (job_was, counts) in jobs.items():
        job_status = rollup(counts)
        if job_status != job_was:
            conn.execute(update(Job).where(Job.id == job_id).values(status=job_status))
    stored = {
        i: (intent, status)
        for i, intent, status in conn.execute(
            select(Order.id, Order.intent, Order.status).where(Order.id.in_(order_ids))
        )
    }
    now = utcnow()
    out = []
    for order_id, counts in orders.items():
        intent, order_was = stored[order_id]
        progress = OrderStatus(rollup(counts).value)
        if progress != order_was:
            conn.execute(
                update(Order).where(Order.id == order_id).values(status=progress, updated_at=now)
            )
        shown = shown_status(intent, progress, _bought(counts))
        out.append(OrderProgress(order_id, shown, sum(counts.values()), counts))
    return out


async def order_progress(db: Database, order_id: int) -> OrderProgress:
    """The Order's current progress, read from the database."""

    def query(s: Session) -> OrderProgress:
        progress, intent = s.execute(
            select(Order.status, Order.intent).where(Order.id == order_id)
        ).one()
        counts = {
            TaskStatus(status): n
            for status, n in s.execute(
                select(Task.status, func.count())
                .join(Job, Job.id == Task.job_id)  # on the (job, status) index
                .where(Job.order_id == order_id)
                .group_by(Task.status)
            )
        }
        shown = shown_status(intent, progress, _bought(counts))
        return OrderProgress(order_id, shown, sum(counts.values()), counts)

    return await db.read(query)


def _bought(counts: dict[TaskStatus, int]) -> int:
    return sum(counts.get(s, 0) for s in BOUGHT)
