"""A unit bought, and the question asked before any retry: recording a purchase with its
BuyBack, and looking for one in the account's order history on the marketplace."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, select

from app.core.accounts import pool as accounts
from app.core.domain.models import BuyBack
from app.core.domain.states import TaskStatus
from app.core.drivers.base import AccountRef, PurchaseDriver, Receipt, TransientError
from app.core.storage.db import Database
from app.core.storage.journal import transition

T = TaskStatus
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
) -> None:
    """The unit is bought: the Task becomes `purchased`, its BuyBack is stored and the
    account's lease ends, in one transaction."""
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
    )
    conn.execute(
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
    for attempt in range(1, tries + 1):
        try:
            return await driver.find_purchase(account, article, since, known)
        except TransientError:
            if attempt == tries:
                raise
            await asyncio.sleep(0.5 * 2 ** (attempt - 1))
    return None  # not reached: the loop returns or raises
