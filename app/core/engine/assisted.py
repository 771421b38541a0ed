"""Purchases made by a person on an `assisted` marketplace (DESIGN.md, "Purchase drivers").

Units of such marketplaces are not run by a TaskManager: they wait in the console's To buy
view. The operator takes the next one; only then is an account leased, by the same pool
rules as an automated purchase, and the unit is in that operator's hands (`running`, its
worker "operator:NAME@HOST"). The operator's record of the outcome leads to the same
states and account rules as an automated driver's:
- bought: the unit is `purchased` with its BuyBack (order number, price paid);
- could not buy: out of stock, price above the cap, or another reason fails the unit;
  an account problem rests the account (or takes a blocked one out of the pool) and the
  unit goes back to the queue for another account;
- skip: back to the queue, the account released.
Delivery is marked by the operator (or imported from a list). Every step is in the
Task's history with the operator's name.
"""

from __future__ import annotations

import enum
import getpass
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select, update
from sqlalchemy.orm import Session

from app.core.accounts import pool as accounts
from app.core.domain.clock import utcnow
from app.core.domain.codes import AccountStatus, DeliveryStatus, ErrorCode
from app.core.domain.markets import OPERATOR_PREFIX, MarketKind, product_address
from app.core.domain.models import (
    Article,
    BuyBack,
    Client,
    Job,
    JobBatch,
    MarketPlace,
    MarketPlaceAccount,
    Order,
    OrderLine,
    PickupPoint,
    Task,
    with_line,
)
from app.core.domain.states import QUEUED, OrderIntent, TaskStatus, UnitRule
from app.core.drivers.base import Receipt
from app.core.engine.context import EngineContext
from app.core.engine.purchases import record_purchase
from app.core.storage.journal import LostTask, transition
from app.core.support.text import QT_TRANSLATE_NOOP, Refused, rub

T = TaskStatus
A = MarketPlaceAccount
# An account stays leased while the unit is in a person's hands, however long that is:
# only the operator's record (or skip) releases it; recovery never takes it back (an
# operator's worker id is never taken for a gone engine worker: engine.recovery).
# How many queued units a "take next" looks through for one whose account rules allow it.
_LOOK_AHEAD = 200


def operator_name() -> str:
    """The operator as the system knows them (the history's "who")."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in this environment
        return "operator"


def operator_worker(name: str | None = None) -> str:
    """The worker id of an operator at this workstation: what holds a unit in hand."""
    return f"{OPERATOR_PREFIX}{name or operator_name()}@{socket.gethostname()}"


def who(worker: str | None) -> str:
    """The operator's name from their worker id."""
    return (worker or "").removeprefix(OPERATOR_PREFIX).partition("@")[0]


@dataclass(frozen=True)
class HandUnit:
    """A unit in an operator's hands: what the console shows beside the browser."""

    task_id: int
    order_id: int
    job_id: int
    unit_no: int
    client: str
    marketplace_id: int
    marketplace: str
    marketplace_code: str
    account_id: int
    login: str
    label: str
    profile_dir: str | None
    profile_host: str | None  # the computer the profile folder was imported on
    article: str
    title: str
    product_url: str
    pickup_point: str
    pickup_address: str
    max_price_minor: int | None
    attempts: int
    taken_by: str
    taken_at: datetime | None


# A unit in an operator's hands: running, held by a person (not an engine worker).
_IN_HAND = (Task.status == T.RUNNING, Task.worker.like(f"{OPERATOR_PREFIX}%"))

_HAND_COLUMNS = (
    Task.id,
    Task.order_id,
    Task.job_id,
    Task.unit_no,
    Client.name,
    MarketPlace.id,
    MarketPlace.name,
    MarketPlace.code,
    A.id,
    A.login,
    A.label,
    A.profile_dir,
    A.profile_host,
    Article.sku,
    Article.title,
    MarketPlace.product_url,
    MarketPlace.base_url,
    PickupPoint.code,
    PickupPoint.address,
    OrderLine.max_unit_price_minor,
    Task.attempts,
    Task.worker,
    Task.started_at,
)


def _hand_query() -> Select[*tuple[Any, ...]]:
    return (
        with_line(select(*_HAND_COLUMNS))
        .join(Order, Order.id == Task.order_id)
        .join(Client, Client.id == Order.client_id)
        .join(MarketPlace, MarketPlace.id == Order.marketplace_id)
        .join(A, A.id == Task.account_id)
        .where(*_IN_HAND)
    )


def _hand_unit(row: tuple[Any, ...]) -> HandUnit:
    (tid, oid, jid, unit, client, mp_id, mp, code, acc, login, label, prof, host) = row[:13]
    (sku, title, template, base, point, address, cap, attempts, worker, started) = row[13:]
    return HandUnit(
        tid,
        oid,
        jid,
        unit,
        client,
        mp_id,
        mp,
        code,
        acc,
        login,
        label,
        prof,
        host,
        sku,
        title,
        product_address(template, base, sku),
        point,
        address,
        cap,
        attempts,
        who(worker),
        started,
    )


def hand_units(s: Session | Connection, task_ids: Iterable[int] | None = None) -> list[HandUnit]:
    """Units in operators' hands (all, or these), oldest first."""
    stmt = _hand_query()
    if task_ids is not None:
        stmt = stmt.where(Task.id.in_(list(task_ids)))
    rows = s.execute(stmt.order_by(Task.started_at, Task.id))
    return [_hand_unit(tuple(r)) for r in rows]


@dataclass(frozen=True)
class QueuedUnit:
    """A unit waiting in the To buy view."""

    task_id: int
    order_id: int
    unit_no: int
    client: str
    marketplace: str
    article: str
    title: str
    pickup_point: str
    pickup_address: str
    max_price_minor: int | None
    status: TaskStatus
    last_error: str | None
    due_at: datetime | None  # not before (a retry's wait, a batch's start)


def _queued_query() -> Select[*tuple[Any, ...]]:
    due = func.coalesce(Task.next_attempt_at, JobBatch.not_before)
    return (
        with_line(
            select(
                Task.id,
                Task.order_id,
                Task.unit_no,
                Client.name,
                MarketPlace.name,
                Article.sku,
                Article.title,
                PickupPoint.code,
                PickupPoint.address,
                OrderLine.max_unit_price_minor,
                Task.status,
                Task.last_error,
                due,
                Job.id,
                Order.marketplace_id,
                Order.unit_rule,
                Task.attempts,
            )
        )
        .join(JobBatch, JobBatch.id == Task.batch_id)
        .join(Order, Order.id == Task.order_id)
        .join(Client, Client.id == Order.client_id)
        .join(MarketPlace, MarketPlace.id == Order.marketplace_id)
        .where(
            MarketPlace.driver == MarketKind.ASSISTED,
            Order.intent == OrderIntent.RUN,
            Task.status.in_(QUEUED),
        )
        .order_by(Order.priority.desc(), Order.id, Job.id, Task.unit_no)
    )


def queued_units(s: Session, *, limit: int = 500) -> tuple[list[QueuedUnit], int]:
    """The first `limit` units waiting to be bought by a person, in the order they will be
    offered, and how many wait in all."""
    stmt = _queued_query()
    rows = s.execute(stmt.limit(limit)).all()
    total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    units = [QueuedUnit(*r[:10], T(r[10]), r[11], r[12]) for r in rows]  # type: ignore[call-arg]
    return units, int(total or 0)


class NothingToTake(Refused):
    """No unit can be taken now: the message says why."""


def take_next(conn: Connection, worker: str, now: datetime) -> HandUnit:
    """Puts the next unit that an account may buy now into the operator's hands, with an
    account leased by the pool's rules; raises NothingToTake saying why none can be."""
    rows = conn.execute(_queued_query().limit(_LOOK_AHEAD)).all()
    due = [r for r in rows if r[12] is None or r[12] <= now]
    if not rows:
        raise NothingToTake(
            QT_TRANSLATE_NOOP(
                "Engine",
                "nothing to buy: no unit of a running Order on a marketplace where a person "
                "buys is waiting",
            )
        )
    if not due:
        raise NothingToTake(
            QT_TRANSLATE_NOOP(
                "Engine", "the waiting units are not due yet; the first one is due at {at}"
            ),
            at=min(r[12] for r in rows).strftime("%H:%M"),
        )
    tried: set[int] = set()
    for r in due:
        task_id, job_id, mp_id, rule, status, attempts = r[0], r[13], r[14], r[15], r[10], r[16]
        if job_id in tried:  # the Job's accounts ran out for its first unit
            continue
        tried.add(job_id)
        req = accounts.LeaseRequest(
            r[1], job_id, mp_id, UnitRule(rule), [(task_id, T(status), attempts)]
        )
        pairs, _ran_out, _moved = accounts.lease_accounts(conn, req, owner=worker, now=now)
        if not pairs:
            continue
        account_id = pairs[0][1]
        transition(
            conn,
            task_id,
            T.ASSIGNED,
            T.RUNNING,
            now=now,
            attempt=attempts + 1,
            account_id=account_id,
            detail=f"taken by {who(worker)}",
            values={"attempts": attempts + 1, "started_at": now, "next_attempt_at": None},
        )
        return hand_units(conn, [task_id])[0]
    raise NothingToTake(
        QT_TRANSLATE_NOOP(
            "Engine",
            "no account may buy the waiting units now ({units} units): accounts are busy, "
            "resting after failures, at their daily limit or have bought a unit of the same "
            "line; import more accounts or wait",
        ),
        units=len(due),
    )


def _held(conn: Connection, task_id: int) -> tuple[int, int, int, str, int | None, int]:
    """(order id, account id, attempts, worker, price cap, marketplace id) of a unit in an
    operator's hands; raises Refused when it is not (any more)."""
    row = conn.execute(
        with_line(
            select(
                Task.order_id,
                Task.account_id,
                Task.attempts,
                Task.worker,
                OrderLine.max_unit_price_minor,
                Order.marketplace_id,
            )
        )
        .join(Order, Order.id == Task.order_id)
        .where(Task.id == task_id, *_IN_HAND)
    ).first()
    if row is None or row[1] is None:
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine",
                "this unit is no longer in an operator's hands (recorded from another "
                "workstation?); nothing was changed",
            )
        )
    return row[0], row[1], row[2], row[3] or "", row[4], row[5]


class OverCap(Refused):
    """The price paid is above the line's cap: recorded only when the operator confirms."""


def record_bought(
    conn: Connection,
    task_id: int,
    *,
    operator: str,
    order_number: str,
    price_minor: int,
    over_cap_ok: bool = False,
    now: datetime,
) -> int:
    """The operator bought the unit: recorded with the marketplace's order number and the
    price paid. Refuses an empty or already recorded number, a price of zero or less, and
    a price over the cap unless confirmed. Returns the Order's id."""
    number = order_number.strip()
    if not number:
        raise Refused(
            QT_TRANSLATE_NOOP("Engine", "enter the marketplace's order number for this unit")
        )
    if len(number) > 100:
        raise Refused(QT_TRANSLATE_NOOP("Engine", "the order number is longer than 100 characters"))
    if price_minor <= 0:
        raise Refused(QT_TRANSLATE_NOOP("Engine", "enter the price paid for the unit"))
    order_id, account_id, attempts, worker, cap, mp_id = _held(conn, task_id)
    other = conn.execute(
        select(Task.unit_no, Task.order_id)
        .join(BuyBack, BuyBack.task_id == Task.id)
        .where(BuyBack.marketplace_id == mp_id, BuyBack.order_number == number)
    ).first()
    if other is not None:
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine",
                "order number {number} is already recorded (unit {unit} of Order {order}); "
                "check the number",
            ),
            number=number,
            unit=other[0],
            order=other[1],
        )
    if cap is not None and price_minor > cap and not over_cap_ok:
        raise OverCap(
            QT_TRANSLATE_NOOP(
                "Engine", "the price paid, {price}, is above the line's cap of {cap}"
            ),
            price=rub(price_minor),
            cap=rub(cap),
        )
    receipt = Receipt(number, "", "", price_minor, now)
    detail = f"bought by {operator}: order {number}, {rub(price_minor)}"
    if cap is not None and price_minor > cap:
        detail += f", above the cap of {rub(cap)} (confirmed)"
    record_purchase(
        conn,
        task_id,
        T.RUNNING,
        receipt,
        now=now,
        attempt=attempts,
        account_id=account_id,
        marketplace_id=mp_id,
        owner=worker,
        detail=detail,
    )
    return order_id


class NotBought(enum.StrEnum):
    """Why the operator could not buy a unit, and what follows from it."""

    OUT_OF_STOCK = "out_of_stock"  # the unit fails
    PRICE_ABOVE_CAP = "price_above_cap"  # the unit fails
    ACCOUNT_BLOCKED = "account_blocked"  # the account leaves the pool; the unit is queued
    ACCOUNT_PROBLEM = "account_problem"  # the account rests; the unit is queued again
    OTHER = "other"  # the unit fails with the operator's note


_NOT_BOUGHT: dict[NotBought, tuple[ErrorCode, str]] = {
    NotBought.OUT_OF_STOCK: (ErrorCode.OUT_OF_STOCK, "out of stock"),
    NotBought.PRICE_ABOVE_CAP: (ErrorCode.PRICE_ABOVE_CAP, "the price is above the cap"),
    NotBought.ACCOUNT_BLOCKED: (ErrorCode.ACCOUNT_BLOCKED, "the account is blocked"),
    NotBought.ACCOUNT_PROBLEM: (ErrorCode.ERROR, "a problem with the account"),
    NotBought.OTHER: (ErrorCode.ERROR, "could not buy"),
}


def record_not_bought(
    conn: Connection,
    task_id: int,
    *,
    operator: str,
    reason: NotBought,
    note: str,
    now: datetime,
    rules: accounts.PoolRules,
) -> tuple[int, TaskStatus]:
    """The operator could not buy the unit: the same outcome an automated driver's answer
    has. Returns the Order's id and the unit's new status."""
    note = note.strip()
    if reason is NotBought.OTHER and not note:
        raise Refused(QT_TRANSLATE_NOOP("Engine", "say in the note why the unit was not bought"))
    order_id, account_id, attempts, worker, _cap, _mp = _held(conn, task_id)
    code, said = _NOT_BOUGHT[reason]
    text = f"{said}: {note}" if note else said
    detail = f"not bought ({operator}): {text}"
    values = {"last_error": text, "error_code": code, "next_attempt_at": None}
    if reason is NotBought.ACCOUNT_BLOCKED:
        accounts.set_status(conn, account_id, AccountStatus.BLOCKED, text)
    # An account's problem: another account buys the unit.
    requeue = reason in (NotBought.ACCOUNT_BLOCKED, NotBought.ACCOUNT_PROBLEM)
    to = T.PENDING if requeue else T.FAILED
    transition(
        conn,
        task_id,
        T.RUNNING,
        to,
        now=now,
        attempt=attempts,
        account_id=account_id,
        detail=detail,
        values=values,
    )
    if reason is NotBought.ACCOUNT_PROBLEM:
        accounts.release_after_failure(conn, account_id, worker, text, now=now, rules=rules)
    else:
        accounts.release(conn, account_id, worker, error=text)
    return order_id, to


def skip(conn: Connection, task_id: int, *, operator: str, now: datetime) -> int:
    """The unit goes back to the queue and its account is released, as if never taken."""
    order_id, account_id, attempts, worker, _cap, _mp = _held(conn, task_id)
    transition(
        conn,
        task_id,
        T.RUNNING,
        T.PENDING,
        now=now,
        attempt=attempts,
        account_id=account_id,
        detail=f"skipped by {operator}; back in the queue",
        values={"account_id": None, "worker": None},
    )
    accounts.release(conn, account_id, worker)
    return order_id


def mark_arrived(
    conn: Connection, task_ids: Iterable[int], *, operator: str, now: datetime
) -> dict[int, int]:
    """The operator saw these bought units at their pickup points: they are delivered.
    Units not (or no longer) bought are left alone. Returns {task id: order id} of those
    marked."""
    rows = conn.execute(
        select(Task.id, Task.order_id, Task.attempts, Task.account_id, BuyBack.id)
        .join(BuyBack, BuyBack.task_id == Task.id)
        .where(Task.id.in_(list(task_ids)), Task.status == T.PURCHASED)
    ).all()
    marked: dict[int, int] = {}
    for task_id, order_id, attempts, account_id, buyback_id in rows:
        try:
            transition(
                conn,
                task_id,
                T.PURCHASED,
                T.DELIVERED,
                now=now,
                attempt=attempts,
                account_id=account_id,
                detail=f"at the pickup point (marked by {operator})",
            )
        except LostTask:
            continue
        conn.execute(
            update(BuyBack)
            .where(BuyBack.id == buyback_id)
            .values(
                delivery_status=str(DeliveryStatus.AT_PICKUP_POINT),
                delivered_at=now,
                checked_at=now,
                next_check_at=None,
            )
        )
        marked[task_id] = order_id
    return marked


# -- the engine's side: the same writer, events and roll-up as automated purchases -------


async def take(ctx: EngineContext, worker: str) -> HandUnit:
    unit = await ctx.db.write(lambda c: take_next(c, worker, utcnow()))
    ctx.touch(unit.order_id)
    ctx.bus.task_changed(
        unit.task_id,
        unit.order_id,
        unit.job_id,
        T.RUNNING,
        attempts=unit.attempts,
        account_id=unit.account_id,
    )
    return unit


async def bought(
    ctx: EngineContext, task_id: int, order_number: str, price_minor: int, over_cap_ok: bool
) -> None:
    operator = operator_name()
    order_id = await ctx.db.write(
        lambda c: record_bought(
            c,
            task_id,
            operator=operator,
            order_number=order_number,
            price_minor=price_minor,
            over_cap_ok=over_cap_ok,
            now=utcnow(),
        )
    )
    ctx.touch(order_id)
    await _publish(ctx, task_id)


async def not_bought(ctx: EngineContext, task_id: int, reason: NotBought, note: str) -> None:
    operator, rules = operator_name(), ctx.settings.pool
    order_id, _to = await ctx.db.write(
        lambda c: record_not_bought(
            c, task_id, operator=operator, reason=reason, note=note, now=utcnow(), rules=rules
        )
    )
    ctx.touch(order_id)
    await _publish(ctx, task_id)


async def skip_unit(ctx: EngineContext, task_id: int) -> None:
    operator = operator_name()
    order_id = await ctx.db.write(lambda c: skip(c, task_id, operator=operator, now=utcnow()))
    ctx.touch(order_id)
    await _publish(ctx, task_id)


async def arrived(ctx: EngineContext, task_ids: list[int]) -> int:
    operator = operator_name()
    marked = await ctx.db.write(
        lambda c: mark_arrived(c, task_ids, operator=operator, now=utcnow())
    )
    await publish_changes(ctx, marked)
    return len(marked)


async def publish_changes(ctx: EngineContext, changed: dict[int, int]) -> None:
    """Tells the roll-up and the console about these {task id: order id}."""
    for order_id in set(changed.values()):
        ctx.touch(order_id)
    await _publish(ctx, *changed)


async def _publish(ctx: EngineContext, *task_ids: int) -> None:
    """Tells the console these Tasks' new states, as read back from the database (one
    read for all of them)."""
    if not task_ids:
        return
    rows = await ctx.db.read(
        lambda s: s.execute(
            select(
                Task.id,
                Task.order_id,
                Task.job_id,
                Task.status,
                Task.attempts,
                Task.account_id,
                Task.last_error,
            ).where(Task.id.in_(task_ids))
        ).all()
    )
    for task_id, order_id, job_id, status, attempts, account_id, error in rows:
        ctx.bus.task_changed(
            task_id,
            order_id,
            job_id,
            T(status),
            attempts=attempts,
            account_id=account_id,
            error=error,
        )
