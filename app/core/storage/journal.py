"""Recording Task state changes: a guarded update of the Task and its TaskEvent, together."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Update, bindparam, exists, insert, select, update

from app.core.domain.models import Task, TaskEvent, Worker
from app.core.domain.states import TaskStatus, check_transition
from app.core.storage.db import defer, defer_insert, execute_many
from app.core.storage.workers import FENCE_S, heard_since

_INSERT_EVENT = insert(TaskEvent)


@dataclass(frozen=True, slots=True)
class Claim:
    """A worker's claim on a Task: every write it makes of the Task is fenced by it, so a
    worker whose claim was rescued (its heartbeat went stale) can never move the Task,
    even if the Task is back in the same status under a new claim."""

    worker: str
    number: int  # Task.claim when it was claimed


# The worker was heard from within FENCE_S, on the database's clock: it may place an
# order. A worker that is about to be rescued must not click.
_FRESH = exists(
    select(Worker.id).where(Worker.id == bindparam("_me"), heard_since(bindparam("_fresh_since")))
)


@functools.cache
def _update_statement(
    columns: tuple[str, ...], fenced: bool = False, fresh: bool = False
) -> Update:
    # Built once per set of columns: statement construction and cache-key generation
    # cost more than the SQL itself at thousands of transitions a second.
    stmt = update(Task).where(Task.id == bindparam("_tid"), Task.status == bindparam("_frm"))
    if fenced:
        stmt = stmt.where(Task.claim == bindparam("_claim"), Task.worker == bindparam("_me"))
    if fresh:
        stmt = stmt.where(_FRESH)
    return stmt.values({c: bindparam(c) for c in ("status", "updated_at", *columns)})


class LostTask(Exception):
    """The Task is no longer in the state this worker believed (another worker or the
    operator changed it); the worker must drop it."""


def transition(
    conn: Connection,
    task_id: int,
    frm: TaskStatus,
    to: TaskStatus,
    *,
    now: datetime,
    attempt: int,
    account_id: int | None,
    detail: str = "",
    values: dict[str, Any] | None = None,
    deferred: bool = False,
    claim: Claim | None = None,
    fresh: bool = False,
) -> None:
    """Moves one Task from `frm` to `to` and appends the event, in the caller's transaction.

    The update is guarded by the expected current status, so two workers (or a worker and
    an operator's cancel) can never both move the same Task. `account_id` is the account
    named in the event; `values` are further Task columns to set. `deferred`: the update
    may go with other units' in the writer's group commit (db.defer), and a lost Task then
    fails the caller's unit of work later instead of raising LostTask here. `claim`: the
    update is fenced by the worker's claim too; `fresh` (with a claim): and by the
    worker's heartbeat being fresh (the write before the place-order click).
    """
    check_transition(frm, to)
    values = values or {}
    params = {**values, "_tid": task_id, "_frm": frm, "status": to, "updated_at": now}
    if claim is not None:
        params["_claim"] = claim.number
        params["_me"] = claim.worker
        if fresh:
            params["_fresh_since"] = now - timedelta(seconds=FENCE_S)
    elif fresh:
        raise ValueError("a fresh-heartbeat fence needs a claim")
    stmt = _update_statement(tuple(sorted(values)), claim is not None, fresh)
    if deferred:
        defer(conn, stmt, params, lost=lambda: _lost(task_id, frm), key=(Task, task_id))
    elif conn.execute(stmt, params).rowcount != 1:
        raise _lost(task_id, frm)
    defer_insert(
        conn, _INSERT_EVENT, _event(task_id, frm, to, now, attempt, account_id, detail), stamp="at"
    )


def _lost(task_id: int, frm: TaskStatus) -> LostTask:
    return LostTask(f"task {task_id} is no longer {frm}")


def _event(
    task_id: int,
    frm: TaskStatus | None,
    to: TaskStatus,
    now: datetime,
    attempt: int,
    account_id: int | None,
    detail: str,
) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "at": now,
        "from_status": frm,
        "to_status": to,
        "attempt": attempt,
        "account_id": account_id,
        "detail": detail,
    }


@dataclass(frozen=True, slots=True)
class Move:
    """One Task's move in `transition_all`: from `frm`, naming `account_id` in the event,
    setting `values`."""

    task_id: int
    frm: TaskStatus
    attempt: int
    account_id: int | None
    values: dict[str, Any]


def transition_all(
    conn: Connection,
    moves: Sequence[Move],
    to: TaskStatus,
    *,
    now: datetime,
    detail: str = "",
    via: TaskStatus | None = None,
) -> bool:
    """`transition` for many Tasks with the same columns in `values`, in one executemany.
    True when every Task moved (their events are appended); False when one was no longer
    where expected: the others did move, and the caller rolls them back (a savepoint) to
    take the Tasks one at a time. Only where the driver counts rows (db.sane_rowcount).
    `via`: a state each Task passes through on the way, in the same write (its history
    has both steps)."""
    if not moves:
        return True
    columns = tuple(sorted(moves[0].values))
    params = []
    for m in moves:
        if via is None:
            check_transition(m.frm, to)
        else:
            check_transition(m.frm, via)
            check_transition(via, to)
        if tuple(sorted(m.values)) != columns:
            raise ValueError("transition_all: every move must set the same columns")
        params.append(
            {**m.values, "_tid": m.task_id, "_frm": m.frm, "status": to, "updated_at": now}
        )
    if execute_many(conn, _update_statement(columns), params) != len(moves):
        return False
    for m in moves:
        if via is not None:
            event = _event(m.task_id, m.frm, via, now, m.attempt, m.account_id, detail)
            defer_insert(conn, _INSERT_EVENT, event, stamp="at")
        frm = m.frm if via is None else via
        event = _event(m.task_id, frm, to, now, m.attempt, m.account_id, detail)
        defer_insert(conn, _INSERT_EVENT, event, stamp="at")
    return True


def bulk_events(
    conn: Connection,
    rows: Iterable[tuple[int, TaskStatus | None, TaskStatus, int | None]],
    *,
    now: datetime,
    detail: str = "",
) -> None:
    """Appends events for many Tasks whose rows were updated in bulk by the caller:
    rows of (task_id, from_status, to_status, account_id)."""
    execute_many(
        conn,
        _INSERT_EVENT,
        [_event(tid, frm, to, now, 0, acc, detail) for tid, frm, to, acc in rows],
    )
