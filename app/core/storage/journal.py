"""Recording Task state changes: a guarded update of the Task and its TaskEvent, together."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Update, bindparam, insert, update

from app.core.domain.models import Task, TaskEvent
from app.core.domain.states import TaskStatus, check_transition
from app.core.storage.db import defer_insert

_INSERT_EVENT = insert(TaskEvent)


@functools.cache
def _update_statement(columns: tuple[str, ...]) -> Update:
    # Built once per set of columns: statement construction and cache-key generation
    # cost more than the SQL itself at thousands of transitions a second.
    return (
        update(Task)
        .where(Task.id == bindparam("_tid"), Task.status == bindparam("_frm"))
        .values({c: bindparam(c) for c in ("status", "updated_at", *columns)})
    )


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
) -> None:
    """Moves one Task from `frm` to `to` and appends the event, in the caller's transaction.

    The update is guarded by the expected current status, so two workers (or a worker and
    an operator's cancel) can never both move the same Task. `account_id` is the account
    named in the event; `values` are further Task columns to set.
    """
    check_transition(frm, to)
    values = values or {}
    params = {**values, "_tid": task_id, "_frm": frm, "status": to, "updated_at": now}
    result = conn.execute(_update_statement(tuple(sorted(values))), params)
    if result.rowcount != 1:
        raise LostTask(f"task {task_id} is no longer {frm}")
    defer_insert(
        conn,
        _INSERT_EVENT,
        {
            "task_id": task_id,
            "at": now,
            "from_status": frm,
            "to_status": to,
            "attempt": attempt,
            "account_id": account_id,
            "detail": detail,
        },
    )


def bulk_events(
    conn: Connection,
    rows: Iterable[tuple[int, TaskStatus | None, TaskStatus, int | None]],
    *,
    now: datetime,
    detail: str = "",
) -> None:
    """Appends events for many Tasks whose rows were updated in bulk by the caller:
    rows of (task_id, from_status, to_status, account_id)."""
    params = [
        {
            "task_id": tid,
            "at": now,
            "from_status": frm,
            "to_status": to,
            "attempt": 0,
            "account_id": acc,
            "detail": detail,
        }
        for tid, frm, to, acc in rows
    ]
    if params:
        conn.execute(insert(TaskEvent), params)
