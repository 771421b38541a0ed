"""Delivery tracking: purchased units are polled through their marketplace's driver until
it reports them at the pickup point; an Order is done only then. The schedule lives in the
database (BuyBack.next_check_at), so tracking goes on after a restart where it stopped."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Connection, or_, select, update
from sqlalchemy.orm import Session

from app.core.accounts import pool as accounts
from app.core.domain.clock import utcnow
from app.core.domain.codes import DeliveryStatus
from app.core.domain.markets import MarketKind
from app.core.domain.models import BuyBack, MarketPlace, Order, Task
from app.core.domain.states import TaskStatus
from app.core.drivers.base import AccountRef, DriverFor
from app.core.engine.events import EventBus
from app.core.storage.db import Database
from app.core.storage.journal import LostTask, transition

log = logging.getLogger(__name__)
T = TaskStatus


@dataclass(frozen=True)
class Parcel:
    buyback_id: int
    task_id: int
    order_id: int
    job_id: int
    marketplace_id: int
    account: AccountRef
    order_number: str
    attempts: int


# A parcel a worker took to look at is not due for the others for this long: each parcel
# is looked at by one worker at a time (the claim is its next check time, moved on).
_CLAIM_S = 120.0


def claim_parcels(conn: Connection, now: datetime, limit: int) -> list[Parcel]:
    """The parcels due for a look, claimed by this worker: locked as they are read (SKIP
    LOCKED: other workers take others) and not due again for anyone for _CLAIM_S."""
    parcels = due_parcels(conn, now, limit, lock=True)
    if parcels:
        conn.execute(
            update(BuyBack)
            .where(BuyBack.id.in_([p.buyback_id for p in parcels]))
            .values(next_check_at=now + timedelta(seconds=_CLAIM_S))
        )
    return parcels


def due_parcels(
    s: Session | Connection, now: datetime, limit: int, *, lock: bool = False
) -> list[Parcel]:
    stmt = (
        select(
            BuyBack.id,
            Task.id,
            Task.order_id,
            Task.job_id,
            Order.marketplace_id,
            BuyBack.account_id,
            BuyBack.order_number,
            Task.attempts,
        )
        .join(Task, Task.id == BuyBack.task_id)
        .join(Order, Order.id == Task.order_id)
        .join(MarketPlace, MarketPlace.id == Order.marketplace_id)
        # On an assisted marketplace the operator marks arrivals (engine.assisted).
        .where(Task.status == T.PURCHASED, MarketPlace.driver != MarketKind.ASSISTED)
        .where(or_(BuyBack.next_check_at.is_(None), BuyBack.next_check_at <= now))
        .order_by(BuyBack.next_check_at.asc().nulls_first(), BuyBack.id)
        .limit(limit)
    )
    if lock:
        stmt = stmt.with_for_update(skip_locked=True, of=BuyBack)
    rows = s.execute(stmt).all()
    refs = accounts.account_refs(s, [r[5] for r in rows])
    return [Parcel(b, t, o, j, m, refs[a], n, att) for b, t, o, j, m, a, n, att in rows]


async def track_due(
    db: Database, drivers: DriverFor, bus: EventBus, *, interval_s: float, limit: int = 20
) -> set[int]:
    """Checks the parcels that are due; returns the Orders whose units arrived."""
    arrived: set[int] = set()
    for parcel in await db.write(lambda c: claim_parcels(c, utcnow(), limit)):
        now = utcnow()
        try:
            driver = await drivers(parcel.marketplace_id)
            status = await driver.track(parcel.account, parcel.order_number)
        except Exception as exc:  # tracking is retried at the next interval
            log.warning("tracking %s failed: %s", parcel.order_number, exc)
            status = None
        next_check = now + timedelta(seconds=interval_s)
        if status is DeliveryStatus.AT_PICKUP_POINT:
            try:
                await db.write(partial(_delivered, p=parcel, now=now))
            except LostTask:
                continue
            arrived.add(parcel.order_id)
            bus.task_changed(
                parcel.task_id,
                parcel.order_id,
                parcel.job_id,
                T.DELIVERED,
                account_id=parcel.account.id,
                attempts=parcel.attempts,
                order_number=parcel.order_number,
            )
        else:
            values: dict[str, datetime | str] = {"next_check_at": next_check, "checked_at": now}
            if status is not None:
                values["delivery_status"] = str(status)
            await db.write(partial(_set_buyback, buyback_id=parcel.buyback_id, values=values))
    return arrived


def _set_buyback(conn: Connection, buyback_id: int, values: dict[str, datetime | str]) -> None:
    conn.execute(update(BuyBack).where(BuyBack.id == buyback_id).values(values))


def _delivered(conn: Connection, p: Parcel, now: datetime) -> None:
    transition(
        conn,
        p.task_id,
        T.PURCHASED,
        T.DELIVERED,
        now=now,
        attempt=p.attempts,
        account_id=p.account.id,
        detail=f"order {p.order_number} is at the pickup point",
    )
    conn.execute(
        update(BuyBack)
        .where(BuyBack.id == p.buyback_id)
        .values(
            delivery_status=str(DeliveryStatus.AT_PICKUP_POINT),
            delivered_at=now,
            checked_at=now,
            next_check_at=None,
        )
    )
