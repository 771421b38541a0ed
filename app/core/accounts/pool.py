"""The account pool: which account a Task may use (leases), and each account's stored
browser session."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.domain.clock import day_start
from app.core.domain.codes import AccountStatus
from app.core.domain.models import (
    QUEUED_SQL,
    SCOPED_SQL,
    BuyBack,
    JobBatch,
    MarketPlace,
    MarketPlaceAccount,
    Task,
)
from app.core.domain.states import QUEUED, TaskStatus, UnitRule
from app.core.drivers.base import AccountRef
from app.core.storage import workers
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


# An account is free when nobody holds it: a worker's leases end with the worker (released
# when it stops, or by whoever rescues it: engine.recovery), an operator's when they record.
_FREE = A.lease_owner.is_(None)

# Built once: these run for every purchase.
_TAKE = (
    update(A)
    .where(A.id == bindparam("_id"), _FREE)
    .values(lease_owner=bindparam("owner"), last_used_at=bindparam("_now"))
)
_RELEASE = (
    update(A)
    .where(A.id == bindparam("_id"), A.lease_owner == bindparam("_owner"))
    .values(lease_owner=None)
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


def _eligible(
    req: LeaseRequest, now: datetime, limit: int, *, lock: bool = False, refs: bool = False
) -> tuple[Select[Any], dict[str, object]]:
    """The query of the accounts that may take the Job's units now, least recently used
    first, and its parameters. Its rows: the account's id; with `refs`, also what an
    AccountRef is made of (login, encrypted password, the marketplace's address)."""
    scope = req.unit_rule.scope(req.order_id, req.job_id)
    params: dict[str, object] = {
        "marketplace": req.marketplace_id,
        "now": now,
        "day_start": day_start(now),
        "limit": limit,
    }
    if scope is not None:
        params["scope"] = scope
    return _eligible_statement(scope is not None, lock, refs), params


@functools.cache
def _eligible_statement(scoped: bool, lock: bool, refs: bool) -> Select[Any]:
    # Built once for each shape, with bound parameters: a claim runs it for every batch of
    # purchases, and building it cost more than running it.
    now = bindparam("now", type_=A.cooldown_until.type)
    columns: list[Any] = [A.id]
    if refs:
        # Read for the rows taken only (a subquery, not a join: the pick's index order
        # stays the query's, on both databases).
        url = select(MarketPlace.base_url).where(MarketPlace.id == A.marketplace_id)
        columns += [A.login, A.password, url.scalar_subquery()]
    stmt = select(*columns).where(
        A.marketplace_id == bindparam("marketplace"), A.status == AccountStatus.ACTIVE, _FREE
    )
    stmt = stmt.where(or_(A.cooldown_until.is_(None), A.cooldown_until <= now))
    # The day's purchases are counted only for an account that has a daily limit, each
    # on its own index range (ix_buyback_account_day): a CASE is evaluated lazily by
    # SQLite and PostgreSQL alike, so a pool without limits pays nothing, and the cost
    # never grows with the day's purchases of the whole pool (a count of all of them at
    # every claim made the engine slower by the hour).
    bought_today = (
        select(func.count())
        .where(
            BuyBack.account_id == A.id,
            BuyBack.purchased_at >= bindparam("day_start", type_=BuyBack.purchased_at.type),
        )
        .scalar_subquery()
    )
    stmt = stmt.where(case((A.daily_limit.is_(None), True), else_=bought_today < A.daily_limit))
    if scoped:
        # An account that bought (or may have bought, or is buying) a unit of this
        # Job/Order is not used for another one: the seed's rule, held by the unique
        # index ux_task_account_scope, whose own rows (its WHERE, as written there) are
        # read here.
        used = select(Task.account_id).where(
            Task.unit_scope == bindparam("scope"), text(SCOPED_SQL), Task.account_id.is_not(None)
        )
        stmt = stmt.where(A.id.not_in(used))
    # Least recently used first spreads purchases over the pool.
    stmt = stmt.order_by(A.last_used_at.asc().nulls_first(), A.id).limit(bindparam("limit"))
    if lock:
        # On a server, workers claiming at once each get other accounts, without waiting
        # (a SQLite writer holds the whole database: no clause there).
        stmt = stmt.with_for_update(skip_locked=True, of=A)
    return stmt


def pool_may_free_up(
    conn: Connection | Session, req: LeaseRequest, owner: str, now: datetime
) -> bool:
    """Whether the Job can still get an account without the operator: one is eligible
    right now (it came back since the last try), rests after failures, or is leased by
    another worker."""
    if conn.execute(*_eligible(req, now, 1)).first() is not None:
        return True
    soon = select(A.id).where(
        A.marketplace_id == req.marketplace_id,
        A.status == AccountStatus.ACTIVE,
        or_(A.cooldown_until > now, (A.lease_owner.is_not(None)) & (A.lease_owner != owner)),
    )
    return conn.execute(soon.limit(1)).first() is not None


@dataclass(frozen=True, slots=True)
class Claimed:
    """A Task claimed with its account, now `running`: the claim fences every later
    write of it."""

    task_id: int
    account_id: int
    attempts: int  # the attempts made before this one
    claim: int
    started: datetime  # when this attempt started (Task.started_at)


@dataclass
class ClaimResult:
    """What `claim_units` did for one Job.

    Attributes:
        claimed: the Tasks now `running` for the caller, with their accounts.
        accounts: those accounts, by id, as the drivers take them.
        starved: due Tasks were left without an account (now `waiting_account`).
        waiting: those of them that were not waiting before: (task id, attempts).
        more: queued Tasks of the Job are left (due or not); None: not counted (the
            caller got all it asked for).
        next_due: the earliest time a queued Task that is not due yet becomes due.
        contended: another claim got in the way (a rule's index refused it): nothing was
            claimed; try again.
    """

    claimed: list[Claimed] = field(default_factory=list)
    accounts: dict[int, AccountRef] = field(default_factory=dict)
    starved: bool = False
    waiting: list[tuple[int, int]] = field(default_factory=list)
    more: bool | None = None
    next_due: datetime | None = None
    contended: bool = False


def _due(
    job_id: int, owner: str, now: datetime, limit: int
) -> tuple[Select[int, TaskStatus, int, int], dict[str, object]]:
    """The query of up to `limit` of the Job's queued Tasks that are due now, and its
    parameters."""
    params: dict[str, object] = {
        "job": job_id,
        "owner": owner,
        "now": now,
        "fresh_since": now - timedelta(seconds=workers.FENCE_S),
        "limit": limit,
    }
    return _due_statement(), params


@functools.cache
def _due_statement() -> Select[int, TaskStatus, int, int]:
    # Built once, with bound parameters (see _eligible_statement).
    now = bindparam("now", type_=Task.next_attempt_at.type)
    fresh_since = bindparam("fresh_since", type_=Task.next_attempt_at.type)
    # The Job's released batches, a handful of rows, read as one set: a join of each due
    # Task with its batch ran as a loop over every Task of a fresh, not yet analyzed Job.
    released = select(JobBatch.id).where(
        JobBatch.job_id == bindparam("job"),
        or_(JobBatch.not_before.is_(None), JobBatch.not_before <= now),
    )
    return (
        select(Task.id, Task.status, Task.attempts, Task.claim)
        # As ix_task_queue's WHERE is written: the claim walks that index in unit order
        # and stops at `limit`, whatever the size of the Job.
        .where(Task.job_id == bindparam("job"), text(QUEUED_SQL))
        .where(Task.batch_id.in_(released))
        # Only a worker heard from lately claims: one that was taken for dead, or is
        # about to be, takes nothing new.
        .where(workers.fresh_clause(bindparam("owner", type_=Task.worker.type), fresh_since))
        .where(or_(Task.next_attempt_at.is_(None), Task.next_attempt_at <= now))
        .order_by(Task.unit_no)
        .limit(bindparam("limit"))
        # Workers claiming the same Job at once take different units, without waiting.
        .with_for_update(skip_locked=True, of=Task)
    )


def claim_units(
    conn: Connection, req: LeaseRequest, *, owner: str, now: datetime, limit: int
) -> ClaimResult:
    """Claims up to `limit` due Tasks of the Job (`req.tasks` is not used) with one free,
    eligible account each, in the caller's transaction: the Tasks become `running` for
    `owner` (through `assigned`) under a new claim number, their attempt started, the
    accounts leased to it. Due Tasks left without an account become `waiting_account`.
    Workers on a shared database never take the same Task or account: both are locked as
    they are read (SKIP LOCKED) and every write is guarded."""
    result = ClaimResult()
    due = conn.execute(*_due(req.job_id, owner, now, limit)).all()
    if due:
        rows = conn.execute(*_eligible(req, now, len(due), lock=True, refs=True)).all()
        pairs = [(t, r.id) for t, r in zip(due, rows, strict=False)]
        savepoint = conn.begin_nested()
        try:
            took = execute_many(
                conn, _TAKE, [{"_id": a, "_now": now, "owner": owner} for _, a in pairs]
            )
            # Straight to `running` (through `assigned`, which the history keeps): the
            # attempt starts now, in the claim's own write. Nothing is placed before
            # `submitting` is committed; a unit a dead worker left `running` is checked
            # with the marketplace on rescue, as before.
            moves = [
                Move(
                    tid,
                    TaskStatus(st),
                    att + 1,
                    a,
                    {
                        "account_id": a,
                        "worker": owner,
                        "claim": c + 1,
                        "attempts": att + 1,
                        "started_at": now,
                    },
                )
                for (tid, st, att, c), a in pairs
            ]
            moved = transition_all(
                conn, moves, TaskStatus.RUNNING, via=TaskStatus.ASSIGNED, now=now
            )
        except IntegrityError:  # a rule's unique index: another claim was quicker
            savepoint.rollback()
            result.contended = True
            return result
        if sane_rowcount(conn) and (took != len(pairs) or not moved):
            savepoint.rollback()  # cannot happen with the rows locked; never half-done
            result.contended = True
            return result
        savepoint.commit()
        result.claimed = [Claimed(tid, a, att, c + 1, now) for (tid, _st, att, c), a in pairs]
        result.accounts = _refs(rows)  # at most one a due Task (the query's LIMIT): all taken
        left = due[len(pairs) :]
        if left:
            result.starved = True
            waiting = [r for r in left if r[1] != TaskStatus.WAITING_ACCOUNT]
            transition_all(
                conn,
                [Move(tid, TaskStatus(st), att, None, {}) for tid, st, att, _c in waiting],
                TaskStatus.WAITING_ACCOUNT,
                now=now,
                detail="no free account",
            )
            result.waiting = [(r[0], r[2]) for r in waiting]
    if len(result.claimed) < limit:
        result.more, result.next_due = _left(conn, req.job_id, now)
    return result


def wait_for_accounts(conn: Connection, job_id: int, now: datetime) -> list[tuple[int, int]]:
    """Every queued Task of the Job not yet waiting for an account becomes
    `waiting_account` (a worker leaves a Job no account can serve); returns their (task
    id, attempts)."""
    rows = conn.execute(
        select(Task.id, Task.status, Task.attempts)
        .where(
            Task.job_id == job_id,
            Task.status.in_(QUEUED - {TaskStatus.WAITING_ACCOUNT}),
        )
        .with_for_update(skip_locked=True, of=Task)
    ).all()
    moves = [
        Move(tid, TaskStatus(st), att, None, {"next_attempt_at": None}) for tid, st, att in rows
    ]
    transition_all(conn, moves, TaskStatus.WAITING_ACCOUNT, now=now, detail="no free account")
    return [(m.task_id, m.attempt) for m in moves]


def _left(conn: Connection, job_id: int, now: datetime) -> tuple[bool, datetime | None]:
    """Whether queued Tasks of the Job are left, and the earliest time one that is not due
    yet becomes due (approximate: never later than the truth)."""
    count, retry_at, batch_at = conn.execute(
        select(
            func.count(),
            func.min(case((Task.next_attempt_at > now, Task.next_attempt_at))),
            func.min(case((JobBatch.not_before > now, JobBatch.not_before))),
        )
        .select_from(Task)
        .join(JobBatch, JobBatch.id == Task.batch_id)
        .where(Task.job_id == job_id, text(QUEUED_SQL))  # ix_task_queue
    ).one()
    times = [t for t in (retry_at, batch_at) if t is not None]
    return bool(count), min(times) if times else None


def lease_accounts(
    conn: Connection, req: LeaseRequest, *, owner: str, now: datetime
) -> tuple[list[tuple[int, int]], bool, set[int]]:
    """Leases one free, eligible account to each of `req.tasks` it can and moves those
    Tasks to `assigned` (a new claim). Returns the (task id, account id) pairs, whether
    eligible accounts ran out, and the Tasks found no longer in the state the caller
    believed. Every step is a guarded update, so concurrent workers on a shared database
    never take the same account or the same Task."""
    found = conn.execute(*_eligible(req, now, len(req.tasks), lock=True)).scalars().all()
    claims = dict(
        conn.execute(
            select(Task.id, Task.claim).where(Task.id.in_([t for t, _, _ in req.tasks]))
        ).all()
    )
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
            took = conn.execute(_TAKE, {"_id": candidate, "_now": now, "owner": owner})
            if took.rowcount == 1:  # else another worker took it after our select
                account_id = candidate
        if account_id is None:
            break
        try:
            with conn.begin_nested():
                transition(
                    conn,
                    task_id,
                    status,
                    TaskStatus.ASSIGNED,
                    now=now,
                    attempt=attempts,
                    account_id=account_id,
                    values={
                        "account_id": account_id,
                        "worker": owner,
                        "claim": claims.get(task_id, 0) + 1,
                    },
                )
        except (LostTask, IntegrityError):  # another worker or the operator moved the Task
            spare = account_id
            moved.add(task_id)
            continue
        leased.append((task_id, account_id))
    if spare is not None:
        release(conn, spare, owner)
    return leased, ran_out, moved


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
    return _refs(
        conn.execute(
            select(A.id, A.login, A.password, MarketPlace.base_url)
            .join(MarketPlace, MarketPlace.id == A.marketplace_id)
            .where(A.id.in_(ids))
        )
    )


def _refs(rows: Iterable[Sequence[Any]]) -> dict[int, AccountRef]:
    """AccountRefs of rows of (id, login, encrypted password, the marketplace's address)."""
    # Decrypted only here, when Tasks take the accounts: the cost is one per purchase.
    decrypt = get_vault().decrypt
    return {i: AccountRef(i, login, decrypt(pw), url) for i, login, pw, url in rows}
