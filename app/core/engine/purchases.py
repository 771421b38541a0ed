"""A unit bought, and the questions asked of the account's order history on the
marketplace: recording a purchase with its BuyBack, looking for one before any retry, and
checking an order the operator says bought a unit in review."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from app.core.accounts import pool as accounts
from app.core.domain.clock import utcnow
from app.core.domain.models import (
    Article,
    BuyBack,
    MarketPlace,
    Order,
    PickupPoint,
    Task,
    with_line,
)
from app.core.domain.states import TaskStatus
from app.core.drivers.base import (
    AccountRef,
    DriverError,
    DriverFor,
    OrderLookup,
    PurchaseDriver,
    Receipt,
    TransientError,
)
from app.core.storage.db import Database, defer
from app.core.storage.journal import Claim, transition
from app.core.support.errors import KnownError
from app.core.support.text import rub

T = TaskStatus
R = TypeVar("R")
_INSERT_BUYBACK = insert(BuyBack)


def record_purchase(
    conn: Connection,
    task_id: int,
    frm: TaskStatus,
    receipt: Receipt,
    *,
    now: datetime,
    attempt: int,
    account_id: int,
    marketplace_id: int,
    owner: str,
    detail: str = "",
    claim: Claim | None = None,
) -> None:
    """The unit is bought: the Task becomes `purchased`, its BuyBack is stored and the
    account's lease ends, in one transaction. The writes may go with other units' in the
    writer's group commit (db.defer): a lost Task fails the caller's unit of work.
    `claim`: the worker's claim that fences the write (None: the operator's record)."""
    transition(
        conn,
        task_id,
        frm,
        T.PURCHASED,
        now=now,
        attempt=attempt,
        account_id=account_id,
        detail=detail or f"order {receipt.order_number}",
        values={"last_error": None, "error_code": None},
        deferred=True,
        claim=claim,
    )
    defer(
        conn,
        _INSERT_BUYBACK,
        {
            "task_id": task_id,
            "marketplace_id": marketplace_id,
            "account_id": account_id,
            "order_number": receipt.order_number,
            "price_minor": receipt.price_minor,
            "purchased_at": receipt.placed_at,
            "delivery_status": str(receipt.status),
        },
    )
    accounts.release_after_purchase(conn, account_id, owner)


async def look_for_purchase(
    db: Database,
    driver: PurchaseDriver,
    account: AccountRef,
    article: str,
    started: datetime,
    *,
    tries: int = 3,
) -> Receipt | None:
    """The order the account placed for the article since the attempt started, if the
    marketplace has one the console has not recorded yet. A hiccup while looking is tried
    again (an unanswered question costs the operator a review); raises if it persists."""
    known = await db.read(
        lambda s: frozenset(
            s.scalars(select(BuyBack.order_number).where(BuyBack.account_id == account.id))
        )
    )
    # A little slack for clocks: the shop stamps the order, we stamped the start.
    since = started - timedelta(seconds=5)
    return await _patiently(lambda: driver.find_purchase(account, article, since, known), tries)


async def _patiently(ask: Callable[[], Awaitable[R]], tries: int) -> R:
    """`ask()`, asked again after a hiccup (TransientError) with a growing pause; the
    last hiccup is raised when it persists."""
    for attempt in range(1, tries):
        try:
            return await ask()
        except TransientError:
            await asyncio.sleep(0.5 * 2 ** (attempt - 1))
    return await ask()


@dataclass(frozen=True)
class ReportedOrder:
    """An order the operator says bought a unit in review, as it is to be recorded.

    Attributes:
        receipt: the order as the marketplace's history shows it (its number, price and
            time), or as the operator typed it where the history cannot be read.
        note: how it was checked, for the Task's history.
    """

    receipt: Receipt
    note: str


@dataclass(frozen=True)
class _InReview:
    account: AccountRef
    article: str
    pickup_point: str
    marketplace_id: int
    market: str


async def check_reported_order(
    db: Database,
    driver_for: DriverFor,
    task_id: int,
    order_number: str,
    price_minor: int | None,
    *,
    tries: int = 2,
) -> ReportedOrder:
    """Checks the order number and price the operator gives for a unit in review before
    anything is recorded: a number already recorded on the marketplace is refused; where
    the marketplace's driver can read the account's order history, the order must be
    there and be for the unit's article, and the shop's price is what gets recorded.
    Raises KnownError (nothing written) with the reason for the operator."""
    number = order_number.strip()
    if not number:
        raise KnownError("Enter the marketplace's order number; nothing was recorded.")
    if price_minor is None or price_minor <= 0:
        raise KnownError(f"Enter the price paid for order {number}; nothing was recorded.")
    unit = await db.read(lambda s: _unit_in_review(s, task_id))
    await db.read(lambda s: refuse_recorded(s, unit.marketplace_id, number))
    login, market = unit.account.login, unit.market
    try:
        driver = await driver_for(unit.marketplace_id)
    except Exception as exc:  # no browser, a driver that cannot start: as the Supervisor
        raise KnownError(
            f"Could not check order {number} at {market}: its driver cannot start ({exc}); "
            "nothing was recorded."
        ) from exc
    if not isinstance(driver, OrderLookup):
        receipt = Receipt(number, unit.article, unit.pickup_point, price_minor, utcnow())
        return ReportedOrder(receipt, f"unchecked: the console cannot read {market}'s orders")
    account = unit.account
    try:
        found = await _patiently(lambda: driver.find_order(account, number), tries)
    except TransientError as exc:
        raise KnownError(
            f"Could not check order {number} in the order history of {login} at {market} "
            f"now ({exc.reason}); nothing was recorded. Try again in a moment."
        ) from exc
    except DriverError as exc:  # BusinessError: the account cannot log in, a wrong address
        raise KnownError(
            f"Could not check order {number} in the order history of {login} at {market}: "
            f"{exc.reason}; nothing was recorded."
        ) from exc
    if found is None:
        raise KnownError(
            f"Order {number} is not in the order history of {login} at {market}; nothing "
            "was recorded. Check the number (and that it is this account's order)."
        )
    if found.article != unit.article:
        raise KnownError(
            f"Order {found.order_number} of {login} at {market} is for article "
            f"{found.article}, not {unit.article}; nothing was recorded."
        )
    note = f"checked in the order history of {login} at {market}"
    if found.price_minor != price_minor:
        # The shop's ledger is what was paid; the typed price was read off a page by eye.
        note += f"; the shop's price is recorded, not the {rub(price_minor)} typed"
    return ReportedOrder(found, note)


def _unit_in_review(s: Session, task_id: int) -> _InReview:
    row = s.execute(
        with_line(
            select(
                Task.status,
                Task.account_id,
                Article.sku,
                PickupPoint.code,
                MarketPlace.id,
                MarketPlace.name,
            )
        )
        .join(Order, Order.id == Task.order_id)
        .join(MarketPlace, MarketPlace.id == Order.marketplace_id)
        .where(Task.id == task_id)
    ).first()
    if row is None or row.status != T.NEEDS_REVIEW:
        raise KnownError(f"Task {task_id} is not waiting for review any more.")
    if row.account_id is None:
        raise KnownError(f"Task {task_id} has no account to record the order on.")
    account = accounts.account_refs(s, [row.account_id])[row.account_id]
    return _InReview(account, row.sku, row.code, row.id, row.name)


def refuse_recorded(conn: Connection | Session, marketplace_id: int, order_number: str) -> None:
    """Raises KnownError when the marketplace's order number is already recorded (for
    another unit): one order is one unit bought."""
    task_id = conn.execute(
        select(BuyBack.task_id).where(
            BuyBack.marketplace_id == marketplace_id, BuyBack.order_number == order_number
        )
    ).scalar()
    if task_id is not None:
        raise KnownError(
            f"Order {order_number} is already recorded, for Task {task_id}; nothing was recorded."
        )
