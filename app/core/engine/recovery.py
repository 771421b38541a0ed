"""Recovery after a crash: Tasks left `assigned`, `running` or `submitting` by a worker
that is gone are reconciled with the marketplace before anything is retried, and the dead
worker's account leases are released.

A worker is gone when it stopped, or when its heartbeat went stale (storage.workers): any
worker on any host rescues it, once. Every move of a rescued Task is fenced by the dead
worker's claim and raises the claim number, so the worker, should it come back, can no
longer write anything about it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy import ColumnElement, Connection, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.core.accounts import pool as accounts
from app.core.domain.clock import utcnow
from app.core.domain.codes import ErrorCode
from app.core.domain.markets import OPERATOR_PREFIX
from app.core.domain.models import Article, MarketPlaceAccount, Order, Task, with_line
from app.core.domain.states import ACTIVE, TaskStatus
from app.core.drivers.base import AccountRef, DriverFor, Receipt
from app.core.engine.purchases import look_for_purchase, record_purchase
from app.core.storage import workers
from app.core.storage.db import Database
from app.core.storage.journal import Claim, LostTask, transition

log = logging.getLogger(__name__)
T = TaskStatus
A = MarketPlaceAccount


@dataclass(frozen=True)
class StaleTask:
    task_id: int
    order_id: int
    job_id: int
    status: TaskStatus
    attempts: int
    worker: str
    claim: int
    marketplace_id: int
    account: AccountRef | None
    article: str
    started_at: datetime | None


def _gone(column: InstrumentedAttribute[str | None], me: str, now: datetime) -> ColumnElement[bool]:
    """SQL: the worker named by `column` is gone: not this one, not an operator (a person
    holds it: only their record settles it), and not alive by its heartbeat."""
    return and_(
        or_(column.is_(None), column != me),
        or_(column.is_(None), ~column.startswith(OPERATOR_PREFIX, autoescape=True)),
        or_(column.is_(None), column.not_in(workers.live_ids(now))),
    )


def stale_tasks(s: Session, me: str, now: datetime) -> list[StaleTask]:
    """Tasks some other worker left in the middle of a purchase and is not working on."""
    dead = s.execute(
        with_line(
            select(
                Task.id,
                Task.order_id,
                Task.job_id,
                Task.status,
                Task.attempts,
                Task.worker,
                Task.claim,
                Task.account_id,
                Task.started_at,
                Order.marketplace_id,
                Article.sku,
            )
        )
        .join(Order, Order.id == Task.order_id)
        .where(Task.status.in_(ACTIVE), _gone(Task.worker, me, now))
    ).all()
    refs = accounts.account_refs(s, [r.account_id for r in dead if r.account_id is not None])
    return [
        StaleTask(
            r.id,
            r.order_id,
            r.job_id,
            T(r.status),
            r.attempts,
            r.worker or "",
            r.claim,
            r.marketplace_id,
            refs.get(r.account_id) if r.account_id else None,
            r.sku,
            r.started_at,
        )
        for r in dead
    ]


def dead_leases(s: Session, me: str, now: datetime) -> list[tuple[int, str]]:
    """(account id, owner) of leases held by workers that are gone."""
    rows = s.execute(
        select(A.id, A.lease_owner).where(A.lease_owner.is_not(None), _gone(A.lease_owner, me, now))
    ).all()
    return [(i, owner) for i, owner in rows if owner is not None]


def others_at_work(s: Session, me: str) -> bool:
    """Whether another engine worker holds Tasks mid-purchase: they may yet come back to
    the queue (a retry, or a rescue if that worker dies)."""
    return (
        s.execute(
            select(Task.id)
            .where(
                Task.status.in_(ACTIVE),
                Task.worker != me,
                ~Task.worker.startswith(OPERATOR_PREFIX, autoescape=True),
            )
            .limit(1)
        ).first()
        is not None
    )


class DriverUnavailable(Exception):
    """The marketplace's driver cannot start, so a stale Task cannot be checked yet."""


@dataclass
class RecoveryReport:
    requeued: int = 0  # nothing was bought: back in the queue
    found: int = 0  # bought before the crash: recorded now
    review: int = 0  # could not tell: for the operator
    leases: int = 0  # account leases of dead workers released
    orders: set[int] = field(default_factory=set)  # Orders whose Tasks were settled
    rescued: list[str] = field(default_factory=list)  # workers taken for dead now

    def __str__(self) -> str:
        return (
            f"{self.found} bought before the stop and recorded now, {self.requeued} queued "
            f"again, {self.review} for review, {self.leases} account leases released"
        )

    def __bool__(self) -> bool:
        return bool(self.requeued or self.found or self.review or self.leases)


def _rescue(conn: Connection, me: str, now: datetime) -> list[str]:
    rescued = workers.rescue_dead_here(conn, me, now)
    rescued += workers.rescue_stale(conn, me, now)
    workers.forget_old(conn, now)
    return rescued


async def recover(db: Database, drivers: DriverFor, me: str) -> RecoveryReport:
    """Settles what dead workers left: each unit ends bought exactly once or back in the
    queue, and what cannot be told goes to `needs_review`."""
    now = utcnow()
    report = RecoveryReport()
    report.rescued = await db.write(lambda c: _rescue(c, me, now))
    if report.rescued:
        log.warning("workers taken for dead (no heartbeat): %s", ", ".join(report.rescued))
    for t in await db.read(lambda s: stale_tasks(s, me, now)):
        try:
            await _settle(db, drivers, me, t, report)
            report.orders.add(t.order_id)
        except LostTask:
            log.info("task %s was settled by someone else meanwhile", t.task_id)
        except DriverUnavailable as exc:  # left as it is, for the next round
            log.warning("task %s: cannot check the marketplace now: %s", t.task_id, exc.__cause__)
    for account_id, owner in await db.read(lambda s: dead_leases(s, me, now)):
        await db.write(partial(accounts.release, account_id=account_id, owner=owner))
        report.leases += 1
    if report:
        log.warning("recovery after a crash: %s", report)
    return report


async def _settle(
    db: Database, drivers: DriverFor, me: str, t: StaleTask, report: RecoveryReport
) -> None:
    now = utcnow()
    if t.status is T.ASSIGNED or t.account is None:
        await _move(db, t, T.PENDING, "the worker stopped before starting; back in the queue")
        report.requeued += 1
        return
    account = t.account
    try:
        driver = await drivers(t.marketplace_id)
    except Exception as exc:  # e.g. no browser installed: nothing to learn, nothing to move
        raise DriverUnavailable from exc
    try:
        found = await look_for_purchase(db, driver, account, t.article, t.started_at or now)
    except Exception as exc:  # the check itself failed: never guess with money
        await _move(
            db,
            t,
            T.NEEDS_REVIEW,
            f"after a restart the order history could not be checked ({exc}); look at "
            f"account {account.login}'s orders for article {t.article} and record or retry",
            code=ErrorCode.UNCERTAIN,
        )
        report.review += 1
        return
    if found is not None:
        await _found(db, t, found, me, now)
        report.found += 1
    else:
        await _move(
            db,
            t,
            T.RETRY_WAIT,
            "no order on the marketplace after a restart; the unit is queued again",
            next_attempt_at=now,
        )
        report.requeued += 1


async def _found(db: Database, t: StaleTask, receipt: Receipt, me: str, now: datetime) -> None:
    assert t.account is not None
    account_id, worker = t.account.id, t.worker

    def op(conn: Connection) -> None:
        record_purchase(
            conn,
            t.task_id,
            t.status,
            receipt,
            now=now,
            attempt=t.attempts,
            account_id=account_id,
            marketplace_id=t.marketplace_id,
            owner=worker,
            detail=f"order {receipt.order_number} found in the order history after a restart",
            claim=Claim(worker, t.claim) if worker else None,
        )

    await db.write(op)


async def _move(
    db: Database,
    t: StaleTask,
    to: TaskStatus,
    detail: str,
    *,
    code: ErrorCode | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
    now = utcnow()
    values = {
        "next_attempt_at": next_attempt_at,
        "last_error": detail,
        "error_code": code,
        "claim": t.claim + 1,  # the dead worker's claim ends here
    }
    account_id = t.account.id if t.account else None

    def op(conn: Connection) -> None:
        transition(
            conn,
            t.task_id,
            t.status,
            to,
            now=now,
            attempt=t.attempts,
            account_id=account_id,
            detail=detail,
            values=values,
            claim=Claim(t.worker, t.claim) if t.worker else None,
        )
        if account_id is not None:
            accounts.release(conn, account_id, t.worker)

    await db.write(op)
