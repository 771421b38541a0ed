"""The account pool: which account a Task may use (leases), and each account's stored
browser session."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from app.core.drivers.base import AccountRef
from app.core.journal import LostTask, transition
from app.core.models import MarketPlace, MarketPlaceAccount, Task
from app.core.states import ACTIVE, BOUGHT_OR_MAYBE, TaskStatus, UnitRule

A = MarketPlaceAccount


@dataclass(frozen=True)
class LeaseRequest:
    """Tasks of one Job asking for accounts, with their current statuses."""

    order_id: int
    job_id: int
    marketplace_id: int
    unit_rule: UnitRule
    tasks: list[tuple[int, TaskStatus, int]]  # (task id, status, attempts)


def _free(now: datetime) -> Any:
    return or_(A.lease_owner.is_(None), A.lease_expires_at < now)


# Built once: these run for every purchase.
_TAKE = (
    update(A)
    .where(A.id == bindparam("_id"), _free(bindparam("_now")))
    .values(
        lease_owner=bindparam("owner"),
        lease_expires_at=bindparam("expires"),
        last_used_at=bindparam("_now"),
    )
)
_RELEASE = (
    update(A)
    .where(A.id == bindparam("_id"), A.lease_owner == bindparam("_owner"))
    .values(lease_owner=None, lease_expires_at=None)
)
_RELEASE_WITH_ERROR = _RELEASE.values(last_error=bindparam("error"))


def _eligible(req: LeaseRequest, now: datetime, limit: int) -> Any:
    stmt = select(A.id).where(A.marketplace_id == req.marketplace_id, A.status == "active")
    stmt = stmt.where(_free(now))
    if req.unit_rule is not UnitRule.OFF:
        # An account that bought (or may have bought, or is buying) a unit of this
        # Job/Order is not used for another one: the seed's rule.
        scope = Task.job_id == req.job_id
        if req.unit_rule is UnitRule.PER_ORDER:
            scope = Task.order_id == req.order_id
        used = (
            select(Task.id)
            .where(Task.account_id == A.id, scope)
            .where(Task.status.in_(BOUGHT_OR_MAYBE | ACTIVE))
        )
        stmt = stmt.where(~exists(used))
    # Least recently used first spreads purchases over the pool.
    return stmt.order_by(A.last_used_at.asc().nulls_first(), A.id).limit(limit)


def lease_accounts(
    conn: Connection, req: LeaseRequest, *, owner: str, now: datetime, lease_seconds: float
) -> list[tuple[int, int]]:
    """Leases one free, eligible account to each of `req.tasks` it can and moves those
    Tasks to `assigned`; returns (task id, account id) pairs. Every step is a guarded
    update, so concurrent workers on a shared database never take the same account."""
    candidates = conn.execute(_eligible(req, now, len(req.tasks))).scalars().all()
    expires = now + timedelta(seconds=lease_seconds)
    leased: list[tuple[int, int]] = []
    accounts = iter(candidates)
    for task_id, status, attempts in req.tasks:
        account_id = next(accounts, None)
        if account_id is None:
            break
        took = conn.execute(
            _TAKE, {"_id": account_id, "_now": now, "owner": owner, "expires": expires}
        )
        if took.rowcount != 1:
            continue  # another worker took it between our select and update
        try:
            transition(
                conn,
                task_id,
                status,
                TaskStatus.ASSIGNED,
                now=now,
                attempt=attempts,
                account_id=account_id,
                values={"account_id": account_id, "worker": owner},
            )
        except LostTask:
            release(conn, account_id, owner)
            continue
        leased.append((task_id, account_id))
    return leased


def release(conn: Connection, account_id: int, owner: str, *, error: str | None = None) -> None:
    """Ends this worker's lease on the account (a no-op if the lease already expired and
    another worker holds it now)."""
    if error is None:
        conn.execute(_RELEASE, {"_id": account_id, "_owner": owner})
    else:
        conn.execute(_RELEASE_WITH_ERROR, {"_id": account_id, "_owner": owner, "error": error})


def set_status(conn: Connection, account_id: int, status: str, reason: str) -> None:
    conn.execute(update(A).where(A.id == account_id).values(status=status, last_error=reason))


def account_refs(conn: Connection | Session, ids: list[int]) -> dict[int, AccountRef]:
    rows = conn.execute(
        select(A.id, A.login, A.password, MarketPlace.base_url)
        .join(MarketPlace, MarketPlace.id == A.marketplace_id)
        .where(A.id.in_(ids))
    )
    return {i: AccountRef(i, login, pw, url) for i, login, pw, url in rows}


class DbSessionStore:
    """Keeps each account's Playwright storage state in the console's database."""

    def __init__(self, db: Any):
        self._db = db

    async def load(self, account_id: int) -> dict[str, Any] | None:
        text = await self._db.read(lambda s: s.get(A, account_id).session_state)
        return json.loads(text) if text else None

    async def save(self, account_id: int, state: dict[str, Any] | None) -> None:
        text = json.dumps(state) if state is not None else None
        await self._db.write(
            lambda c: c.execute(update(A).where(A.id == account_id).values(session_state=text))
        )
