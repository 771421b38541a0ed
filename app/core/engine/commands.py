"""The operator's commands as database changes, each in the caller's transaction: an
Order's pause, resume and cancel (its intent), failed units retried, and a unit in review
settled. The Supervisor runs them and tells its TaskManagers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, select, update

from app.core.domain.clock import utcnow
from app.core.domain.codes import ErrorCode
from app.core.domain.models import Order, Task
from app.core.domain.states import QUEUED, OrderIntent, TaskStatus, check_transition
from app.core.drivers.base import Receipt
from app.core.engine.purchases import ReportedOrder, record_purchase, refuse_recorded
from app.core.storage.journal import bulk_events, transition
from app.core.support.errors import KnownError
from app.core.support.text import rub

T = TaskStatus
_CLEARED = {"last_error": None, "error_code": None, "next_attempt_at": None}


def set_intent(conn: Connection, order_id: int, intent: OrderIntent) -> None:
    """Pause or resume (a cancelled Order stays cancelled), or cancel: its queued units
    are cancelled; running ones stop before they submit, and one already submitting
    finishes with its recorded outcome."""
    stmt = update(Order).where(Order.id == order_id)
    if intent is not OrderIntent.CANCELLED:
        stmt = stmt.where(Order.intent != OrderIntent.CANCELLED)
    conn.execute(stmt.values(intent=intent, updated_at=utcnow()))
    if intent is OrderIntent.CANCELLED:
        move_tasks(
            conn, Task.order_id == order_id, QUEUED, T.CANCELLED, "cancelled by the operator"
        )


def move_tasks(
    conn: Connection,
    scope: ColumnElement[bool],
    frm: frozenset[TaskStatus],
    to: TaskStatus,
    detail: str,
    **values: Any,
) -> int:
    """Moves every Task in `scope` (an Order's, a Job's) that is in one of the `frm`
    states to `to`, with its history; returns how many."""
    for status in frm:
        check_transition(status, to)
    now = utcnow()
    rows = conn.execute(
        select(Task.id, Task.status, Task.account_id).where(scope, Task.status.in_(frm))
    ).all()
    if not rows:
        return 0
    conn.execute(
        update(Task).where(scope, Task.status.in_(frm)).values(status=to, updated_at=now, **values)
    )
    bulk_events(conn, ((tid, T(st), to, acc) for tid, st, acc in rows), now=now, detail=detail)
    return len(rows)


def retry_failed(conn: Connection, order_id: int) -> int:
    """The Order's failed units back in the queue with fresh attempts (a paused Order
    stays paused: putting units back is not resuming)."""
    return move_tasks(
        conn,
        Task.order_id == order_id,
        frozenset({T.FAILED}),
        T.PENDING,
        "retry requested by the operator",
        attempts=0,
        temporary_failures=0,
        **_CLEARED,
    )


def resolve_review(
    conn: Connection,
    task_id: int,
    *,
    order_number: str | None,
    price_minor: int,
    owner: str,
    reported: ReportedOrder | None = None,
    who: str = "the operator",
) -> int:
    """The operator looked at a unit in `needs_review`: with the marketplace's order (the
    `reported` one, as purchases.check_reported_order checked it; else the number and
    price as given) it is recorded as bought, unless that order is already recorded;
    without one it goes back to the queue. `who` is named in the Task's history. Returns
    the unit's Order."""
    now = utcnow()
    row = conn.execute(
        select(Task.order_id, Task.account_id, Task.attempts, Order.marketplace_id)
        .join(Order, Order.id == Task.order_id)
        .where(Task.id == task_id, Task.status == T.NEEDS_REVIEW)
    ).first()
    if row is None:
        raise KnownError(f"Task {task_id} is not waiting for review any more.")
    order_id, account_id, attempts, marketplace_id = row
    if not order_number and reported is None:
        transition(
            conn,
            task_id,
            T.NEEDS_REVIEW,
            T.PENDING,
            now=now,
            attempt=attempts,
            account_id=account_id,
            detail=f"{who} found no order; queued again",
            values=_CLEARED,
        )
        return int(order_id)
    if account_id is None:
        raise KnownError(f"Task {task_id} has no account to record the order on.")
    if reported is not None:
        receipt, note = reported.receipt, f" ({reported.note})"
    else:
        receipt, note = Receipt((order_number or "").strip(), "", "", price_minor, now), ""
    refuse_recorded(conn, marketplace_id, receipt.order_number)
    record_purchase(
        conn,
        task_id,
        T.NEEDS_REVIEW,
        receipt,
        now=now,
        attempt=attempts,
        account_id=account_id,
        marketplace_id=marketplace_id,
        owner=owner,
        detail=f"{who} recorded order {receipt.order_number} at {rub(receipt.price_minor)}{note}",
    )
    return int(order_id)


def park_job(conn: Connection, job_id: int, reason: str) -> int:
    """A defect stopped the Job's TaskManager: its queued units fail with the reason (the
    operator can retry them once the console is fixed). Returns how many."""
    return move_tasks(
        conn,
        Task.job_id == job_id,
        QUEUED,
        T.FAILED,
        reason,
        last_error=reason,
        error_code=ErrorCode.INTERNAL,
        next_attempt_at=None,
    )
