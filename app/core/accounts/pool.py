"""The account pool: which account a Task may use (leases), and each account's stored
browser session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.core.domain.clock import day_start
from app.core.domain.codes import AccountStatus
from app.core.domain.models import BuyBack, MarketPlace, MarketPlaceAccount, Task
from app.core.domain.states import ACTIVE, BOUGHT_OR_MAYBE, TaskStatus, UnitRule
from app.core.drivers.base import AccountRef
from app.core.storage.db import defer, execute_many, sane_rowcount
from app.core.storage.journal import LostTask, Move, transition, transition_all
from app.core.support.secrets import get_vault

A = MarketPlaceAccount


@dataclass(frozen=True)
class LeaseRequest:
    """Tasks of one Job asking for accounts, with their current statuses."""

    order_id: int
    job_id: int
    marketplace_id: int
    unit_rule: UnitRule
    tasks: list[tuple[int, TaskStatus, int]]  # (task id, status, attempts)


def _free(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
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
# A purchase went through: the account is healthy again.
_RELEASE_OK = _RELEASE.values(failures_in_row=0, cooldown_until=None)
_RELEASE_WITH_ERROR = _RELEASE.values(last_error=bindparam("error"))
_RELEASE_FAILED = _RELEASE.values(
    last_error=bindparam("error"),
    failures_in_row=A.failures_in_row + 1,
    cooldown_until=bindparam("cooldown_until"),
)


@dataclass(frozen=True)
class PoolRules:
    """How accounts rest after failures: `cooldown_s` after the first failure in a row,
    doubling with each further one, at most `cooldown_max_s`."""

    cooldown_s: float = 60.0
    cooldown_max_s: float = 1800.0

    def cooldown(self, failures_in_row: int) -> float:
        return min(self.cooldown_max_s, self.cooldown_s * 2 ** max(0, failures_in_row - 1))


def _eligible(req: LeaseRequest, now: datetime, limit: int) -> Select[int]:
    stmt = select(A.id).where(
        A.marketplace_id == req.marketplace_id, A.status == AccountStatus.ACTIVE
    )
    stmt = stmt.where(_free(now))
    stmt = stmt.where(or_(A.cooldown_until.is_(None), A.cooldown_until <= now))
    bought_today = (
        select(func.count())
        .select_from(BuyBack)
        .where(BuyBack.account_id == A.id, BuyBack.purchased_at >= day_start(now))
        .scalar_subquery()
    )
    stmt = stmt.where(or_(A.daily_limit.is_(None), bought_today < A.daily_limit))
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


def pool_may_free_up(
    conn: Connection | Session, req: LeaseRequest, owner: str, now: datetime
) -> bool:
    """Whether the Job can still get an account without the operator: one is eligible
    right now (it came back since the last try), rests after failures, or is leased by
    another worker."""
    if conn.execute(_eligible(req, now, 1)).first() is not None:
        return True
    soon = select(A.id).where(
        A.marketplace_id == req.marketplace_id,
        A.status == AccountStatus.ACTIVE,
        or_(
            A.cooldown_until > now,
            (A.lease_owner.is_not(None)) & (A.lease_owner != owner) & (A.lease_expires_at > now),
        ),
    )
    return conn.execute(soon.limit(1)).first() is not None


def lease_accounts(
    conn: Connection, req: LeaseRequest, *, owner: str, now: datetime, lease_seconds: float
) -> tuple[list[tuple[int, int]], bool, set[int]]:
    """Leases one free, eligible account to each of `req.tasks` it can and moves those
    Tasks to `assigned`. Returns the (task id, account id) pairs, whether eligible
    accounts ran out, and the Tasks found no longer in the state the caller believed.
    Every step is a guarded update, so concurrent workers on a shared database never take
    the same account or the same Task."""
    found = conn.execute(_eligible(req, now, len(req.tasks))).scalars().all()
    expires = now + timedelta(seconds=lease_seconds)
    at_once = _lease_at_once(conn, req, found, owner=owner, now=now, expires=expires)
    if at_once is not None:
        return at_once, len(found) < len(req.tasks), set()
    candidates = iter(found)
    leased: list[tuple[int, int]] = []
    spare: int | None = None  # taken, but its Task was gone: kept for the next Task
    ran_out = False
    moved: set[int] = set()
    for task_id, status, attempts in req.tasks:
        account_id, spare = spare, None
        while account_id is None:
            candidate = next(candidates, None)
            if candidate is None:
                ran_out = True
                break
            took = conn.execute(
                _TAKE, {"_id": candidate, "_now": now, "owner": owner, "expires": expires}
            )
            if took.rowcount == 1:  # else another worker took it after our select
                account_id = candidate
        if account_id is None:
            break
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
        except LostTask:  # another worker or the operator moved the Task
            spare = account_id
            moved.add(task_id)
            continue
        leased.append((task_id, account_id))
    if spare is not None:
        release(conn, spare, owner)
    return leased, ran_out, moved


def _lease_at_once(
    conn: Connection,
    req: LeaseRequest,
    found: Sequence[int],
    *,
    owner: str,
    now: datetime,
    expires: datetime,
) -> list[tuple[int, int]] | None:
    """The usual case of `lease_accounts` in one executemany per statement: every account
    found is still free and every Task still where the caller believed. None, with
    nothing changed, when one is not (another worker was quicker): then the Tasks are
    taken one at a time."""
    pairs = list(zip(req.tasks, found, strict=False))
    if not pairs or not sane_rowcount(conn):
        return None
    savepoint = conn.begin_nested()
    took = execute_many(
        conn,
        _TAKE,
        [{"_id": a, "_now": now, "owner": owner, "expires": expires} for _, a in pairs],
    )
    moves = [
        Move(task_id, status, attempts, a, {"account_id": a, "worker": owner})
        for (task_id, status, attempts), a in pairs
    ]
    if took == len(pairs) and transition_all(conn, moves, TaskStatus.ASSIGNED, now=now):
        savepoint.commit()
        return [(m.task_id, a) for m, (_, a) in zip(moves, pairs, strict=True)]
    savepoint.rollback()
    return None


def release(conn: Connection, account_id: int, owner: str, *, error: str | None = None) -> None:
    """Ends this worker's lease on the account (a no-op if the lease already expired and
    another worker holds it now); `error` is kept as the account's last error."""
    if error is None:
        defer(conn, _RELEASE, {"_id": account_id, "_owner": owner}, key=(A, account_id))
    else:
        params = {"_id": account_id, "_owner": owner, "error": error}
        defer(conn, _RELEASE_WITH_ERROR, params, key=(A, account_id))


def release_after_purchase(conn: Connection, account_id: int, owner: str) -> None:
    defer(conn, _RELEASE_OK, {"_id": account_id, "_owner": owner}, key=(A, account_id))


def release_after_failure(
    conn: Connection, account_id: int, owner: str, error: str, *, now: datetime, rules: PoolRules
) -> None:
    """Ends the lease of an account whose attempt failed for a reason that may be its own
    (timeouts, errors, an uncertain outcome) and rests it: the more failures in a row,
    the longer."""
    failures = conn.scalar(select(A.failures_in_row).where(A.id == account_id)) or 0
    until = now + timedelta(seconds=rules.cooldown(failures + 1))
    conn.execute(
        _RELEASE_FAILED,
        {"_id": account_id, "_owner": owner, "error": error, "cooldown_until": until},
    )


def set_status(conn: Connection, account_id: int, status: AccountStatus, reason: str) -> None:
    conn.execute(update(A).where(A.id == account_id).values(status=status, last_error=reason))


def account_refs(conn: Connection | Session, ids: list[int]) -> dict[int, AccountRef]:
    rows = conn.execute(
        select(A.id, A.login, A.password, MarketPlace.base_url)
        .join(MarketPlace, MarketPlace.id == A.marketplace_id)
        .where(A.id.in_(ids))
    )
    # Decrypted only here, when Tasks take the accounts: the cost is one per purchase.
    decrypt = get_vault().decrypt
    return {i: AccountRef(i, login, decrypt(pw), url) for i, login, pw, url in rows}
