"""The operator's commands as database changes, each in the caller's transaction: an
Order's pause, resume and cancel (its intent), failed units retried, a unit in review
settled, and an order line's price cap and quantity changed. The Supervisor runs them and
tells its TaskManagers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, select, update
from sqlalchemy.orm import Session

from app.core.domain.clock import utcnow
from app.core.domain.codes import ErrorCode
from app.core.domain.models import Article, Job, JobBatch, Order, OrderLine, PickupPoint, Task
from app.core.domain.states import (
    ACTIVE,
    BOUGHT,
    BOUGHT_OR_MAYBE,
    QUEUED,
    OrderIntent,
    TaskStatus,
    UnitRule,
    check_transition,
)
from app.core.drivers.base import Receipt
from app.core.engine.purchases import ReportedOrder, record_purchase, refuse_recorded
from app.core.orders.create import create_tasks
from app.core.orders.spec import MAX_PRICE_MINOR, parse_quantity
from app.core.storage.journal import bulk_events, transition
from app.core.support.errors import KnownError
from app.core.support.text import QT_TRANSLATE_NOOP, Refused, rub

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


# Units the quantity of a line cannot drop: bought, being bought, or maybe bought (review).
HELD = BOUGHT_OR_MAYBE | ACTIVE


@dataclass(frozen=True)
class LineState:
    """An order line as the operator edits it (EditLinesDialog): what it buys, its quantity
    and cap, and its units by what an edit may change."""

    line_id: int
    line_no: int
    article: str
    title: str
    pickup_point: str
    quantity: int
    max_unit_price_minor: int | None
    bought: int  # purchased or delivered
    held: int  # bought, being bought or in review: the least the quantity may be
    failed: int
    failure: str = ""  # why the line's last failed unit failed


@dataclass(frozen=True)
class LineEdit:
    """The operator's new price cap (None: no cap) and quantity for one order line."""

    line_id: int
    max_unit_price_minor: int | None
    quantity: int


def line_states(s: Session | Connection, order_id: int) -> list[LineState]:
    """The Order's lines in their order, with their units counted for an edit."""
    counts: dict[int, Counter[TaskStatus]] = {}
    for job_id, status, n in s.execute(
        select(Task.job_id, Task.status, func.count())
        .where(Task.order_id == order_id)
        .group_by(Task.job_id, Task.status)
    ):
        counts.setdefault(job_id, Counter())[TaskStatus(status)] = n
    failures = dict(
        s.execute(
            select(Task.job_id, Task.last_error)
            .where(Task.order_id == order_id, Task.status == T.FAILED)
            .order_by(Task.updated_at, Task.id)
        ).all()
    )  # the last one of each Job's
    rows = s.execute(
        select(
            Job.id,
            OrderLine.id,
            OrderLine.line_no,
            Article.sku,
            Article.title,
            PickupPoint.code,
            OrderLine.quantity,
            OrderLine.max_unit_price_minor,
        )
        .select_from(Job)
        .join(OrderLine, OrderLine.id == Job.order_line_id)
        .join(Article, Article.id == OrderLine.article_id)
        .join(PickupPoint, PickupPoint.id == OrderLine.pickup_point_id)
        .where(Job.order_id == order_id)
        .order_by(OrderLine.line_no)
    )
    out = []
    for job_id, line_id, line_no, sku, title, point, quantity, cap in rows:
        c = counts.get(job_id, Counter())
        out.append(
            LineState(
                line_id,
                line_no,
                sku,
                title,
                point,
                quantity,
                cap,
                sum(c[st] for st in BOUGHT),
                sum(c[st] for st in HELD),
                c[T.FAILED],
                failures.get(job_id) or "",
            )
        )
    return out


def edit_lines(
    conn: Connection,
    order_id: int,
    edits: list[LineEdit],
    *,
    retry: bool,
    max_units_per_line: int,
) -> int:
    """The operator's edits of an Order's lines (edit_line), then with `retry` its failed
    units queued again (retry_failed); refused for a cancelled Order. Returns how many
    units were queued again."""
    _refuse_cancelled(conn, order_id)
    for e in edits:
        edit_line(
            conn,
            order_id,
            e.line_id,
            e.max_unit_price_minor,
            e.quantity,
            max_units_per_line=max_units_per_line,
        )
    return retry_failed(conn, order_id) if retry else 0


def _refuse_cancelled(conn: Connection, order_id: int) -> None:
    intent = conn.scalar(select(Order.intent).where(Order.id == order_id))
    if intent is None:
        raise KnownError(f"Order #{order_id} is not in the database any more.")
    if intent == OrderIntent.CANCELLED:
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine", "Order #{order} is cancelled: its lines cannot be changed any more."
            ),
            order=order_id,
        )


def edit_line(
    conn: Connection,
    order_id: int,
    order_line_id: int,
    max_unit_price_minor: int | None,
    quantity: int,
    *,
    max_units_per_line: int,
) -> None:
    """The operator's new price cap and quantity for a line of an Order that is not
    cancelled. The cap holds for every purchase that starts from now on (TaskManagers read
    it at each start). A lower quantity drops the line's units that are not bought or
    being bought beyond it, queued ones last; it may not be lower than those bought or
    being bought (refused, nothing written). A higher one adds pending units in a batch
    of their own."""
    _refuse_cancelled(conn, order_id)
    row = conn.execute(
        select(OrderLine.line_no, Job.id)
        .join(Job, Job.order_line_id == OrderLine.id)
        .where(OrderLine.id == order_line_id, OrderLine.order_id == order_id)
    ).first()
    if row is None:
        raise Refused(
            QT_TRANSLATE_NOOP("Engine", "Order #{order} has no such line; nothing was changed."),
            order=order_id,
        )
    line_no, job_id = row
    if max_unit_price_minor is not None and not 0 < max_unit_price_minor <= MAX_PRICE_MINOR:
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine",
                "Line {line}: the price cap must be a positive amount, or empty for no cap.",
            ),
            line=line_no,
        )
    # Locked on PostgreSQL: a worker claiming one of these units meanwhile waits, then
    # finds it moved.
    units = conn.execute(
        select(Task.id, Task.status)
        .where(Task.job_id == job_id)
        .order_by(Task.unit_no)
        .with_for_update()
    ).all()
    held = sum(1 for _, status in units if status in HELD)
    parse_quantity(quantity, max_units_per_line)  # at least 1, at most the limit
    if quantity < held:
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine",
                "Line {line}: {held} units are already bought or being bought, so the quantity "
                "cannot be less than {held} (got {quantity}).",
            ),
            line=line_no,
            held=held,
            quantity=quantity,
        )
    conn.execute(
        update(OrderLine)
        .where(OrderLine.id == order_line_id)
        .values(max_unit_price_minor=max_unit_price_minor, quantity=quantity)
    )
    conn.execute(update(Job).where(Job.id == job_id).values(quantity=quantity))
    # The units an edit may drop, those kept first: queued ones, then failed ones.
    queued = [tid for tid, status in units if status in QUEUED]
    failed = [tid for tid, status in units if status == T.FAILED]
    open_units = queued + failed
    room = quantity - held
    if room > len(open_units):
        _add_units(conn, order_id, job_id, room - len(open_units))
    dropped = open_units[room:]
    if dropped:
        _drop_units(conn, dropped, f"the operator lowered the line's quantity to {quantity}")


def _add_units(conn: Connection, order_id: int, job_id: int, n: int) -> None:
    """`n` more pending units for the Job, in a batch of their own released at once."""
    last_seq = conn.scalar(select(func.max(JobBatch.seq)).where(JobBatch.job_id == job_id))
    last_unit = conn.scalar(select(func.max(Task.unit_no)).where(Task.job_id == job_id))
    batch_id = conn.execute(
        insert(JobBatch)
        .values(job_id=job_id, seq=(last_seq or 0) + 1, size=n, not_before=None)
        .returning(JobBatch.id)
    ).scalar_one()
    rule = UnitRule(conn.execute(select(Order.unit_rule).where(Order.id == order_id)).scalar_one())
    ids = create_tasks(
        conn, order_id=order_id, job_id=job_id, batches=[(batch_id, n)], now=utcnow(), rule=rule
    )
    # create_tasks numbers a Job's units from 1: these follow the Job's last one.
    conn.execute(
        update(Task).where(Task.id.in_(ids)).values(unit_no=Task.unit_no + (last_unit or 0))
    )


def _drop_units(conn: Connection, task_ids: list[int], detail: str) -> None:
    """Cancels these queued or failed units. A failed unit may only go back to the queue
    (states.TASK_TRANSITIONS): it is cancelled from there in the same transaction, so no
    worker ever sees it queued, and its history says both steps."""
    scope = Task.id.in_(task_ids)
    move_tasks(conn, scope, frozenset({T.FAILED}), T.PENDING, detail)
    move_tasks(conn, scope, QUEUED, T.CANCELLED, detail, next_attempt_at=None)
