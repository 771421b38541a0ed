"""What the Supervisor reads to plan its work: the Jobs with units to buy in Orders the
operator lets run, each with what its TaskManager needs, and the operator's holds; and
what a TaskManager reads again before each purchase it starts: the price cap."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app.core.domain.markets import MarketKind
from app.core.domain.models import (
    Article,
    Job,
    MarketPlace,
    Order,
    OrderLine,
    PickupPoint,
    Task,
    with_line,
)
from app.core.domain.states import QUEUED, OrderIntent, UnitRule
from app.core.drivers.base import MarketInfo


@dataclass(frozen=True)
class JobPlan:
    """What a TaskManager needs to know about its Job. Not the price cap: the operator may
    change it while the Job runs (see `price_cap`)."""

    job_id: int
    order_id: int
    marketplace_id: int
    unit_rule: UnitRule
    article: str
    pickup_point: str


def open_jobs(s: Session) -> list[tuple[JobPlan, MarketInfo]]:
    """Jobs with queued Tasks in Orders that the operator lets run, most urgent first."""
    has_queued = select(Task.id).where(Task.job_id == Job.id, Task.status.in_(QUEUED)).exists()
    rows = s.execute(
        with_line(
            select(
                Job.id,
                Order.id,
                Order.unit_rule,
                Article.sku,
                PickupPoint.code,
                MarketPlace.id,
                MarketPlace.code,
                MarketPlace.name,
                MarketPlace.base_url,
                MarketPlace.driver,
            ),
            from_task=False,
        )
        .join(Order, Order.id == Job.order_id)
        .join(MarketPlace, MarketPlace.id == Order.marketplace_id)
        # A person buys on an assisted marketplace: its units wait in the To buy view.
        .where(Order.intent == OrderIntent.RUN, MarketPlace.driver != MarketKind.ASSISTED)
        .where(has_queued)
        .order_by(Order.priority.desc(), Order.id, Job.id)
    )
    return [
        (
            JobPlan(job_id, order_id, mp_id, UnitRule(rule), sku, point),
            MarketInfo(mp_id, code, name, url, driver),
        )
        for job_id, order_id, rule, sku, point, mp_id, code, name, url, driver in rows
    ]


def holds(s: Session, order_ids: Collection[int]) -> dict[int, OrderIntent]:
    """The operator's pause or cancel of these Orders (those that are let run are left
    out): what running TaskManagers must obey, whichever workstation said it."""
    if not order_ids:
        return {}
    rows = s.execute(
        select(Order.id, Order.intent).where(
            Order.id.in_(order_ids), Order.intent != OrderIntent.RUN
        )
    )
    return {order_id: OrderIntent(intent) for order_id, intent in rows}


def price_cap(conn: Connection, job_id: int) -> int | None:
    """The Job's price cap as stored now (its order line's): read as each purchase starts,
    so a cap the operator changed, on any workstation, holds from the next purchase."""
    return conn.scalar(
        select(OrderLine.max_unit_price_minor)
        .join(Job, Job.order_line_id == OrderLine.id)
        .where(Job.id == job_id)
    )
