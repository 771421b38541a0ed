"""Workers: every running engine (a console's, a headless `main.py worker`, a `main.py
run`) has a row with a heartbeat written on the database's clock. Liveness is only ever
judged from it, the same way on every host: a worker silent for STALE_S is taken for dead
and rescued by any other (engine.recovery), and one silent for FENCE_S no longer places
an order (its claims may be about to be rescued). No process ids, no per-host guesses.

The model is the PostgreSQL job queues' (procrastinate, pg-boss, Oban, Solid Queue)."""

from __future__ import annotations

import contextlib
import enum
import hashlib
import os
import socket
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # Windows: the heartbeat alone tells
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from app.core.domain.clock import utcnow
from app.core.domain.models import Worker

W = Worker

HEARTBEAT_S = 5.0  # how often a worker writes its heartbeat
STALE_S = 30.0  # a worker silent this long is taken for dead and rescued
FENCE_S = 15.0  # a worker silent this long places no order (its claims may be rescued)
KEEP_DAYS = 7  # rows of workers that ended are kept this long, for the console's list


class WorkerKind(enum.StrEnum):
    CONSOLE = "console"  # the engine of an operator's console
    WORKER = "worker"  # `main.py worker`: headless, runs until stopped
    RUN = "run"  # `main.py run` / `demo`: headless, often until idle


class WorkerState(enum.StrEnum):
    ALIVE = "alive"
    SILENT = "silent"  # no heartbeat for a while, not yet rescued
    STOPPED = "stopped"  # stopped cleanly
    RESCUED = "rescued"  # taken for dead; its work was handed on


def this_host() -> str:
    return socket.gethostname()


def database_now(conn: Connection) -> datetime:
    """The database's time now (aware UTC). A server's own clock; for a SQLite file, which
    has no clock of its own, this computer's."""
    if conn.dialect.name == "postgresql":
        value = conn.scalar(select(func.timezone("UTC", func.clock_timestamp())))
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)
    return datetime.now(UTC)


def register(conn: Connection, worker_id: str, kind: WorkerKind, *, version: str = "") -> None:
    """Adds this worker's row, its heartbeat now."""
    now = utcnow()
    conn.execute(
        insert(W).values(
            id=worker_id,
            host=this_host(),
            pid=os.getpid(),
            kind=kind,
            version=version,
            started_at=now,
            heartbeat_at=_now_sql(conn, now),
        )
    )


def registered(conn: Connection, worker_id: str) -> bool:
    return conn.scalar(select(W.id).where(W.id == worker_id)) is not None


def _now_sql(conn: Connection, now: datetime) -> ColumnElement[datetime] | datetime:
    # On a server, its own clock (naive UTC, as UTCDateTime stores every time).
    if conn.dialect.name == "postgresql":
        return func.timezone("UTC", func.now())
    return now


def beat(conn: Connection, worker_id: str) -> bool:
    """Writes the heartbeat on the database's clock. False when this worker was taken for
    dead meanwhile (rescued, or stopped): its claims are gone and it must not go on."""
    done = conn.execute(
        update(W)
        .where(W.id == worker_id, W.rescued_by.is_(None), W.stopped_at.is_(None))
        .values(heartbeat_at=_now_sql(conn, utcnow()))
    )
    return done.rowcount == 1


def stop(conn: Connection, worker_id: str) -> None:
    """This worker stopped cleanly: whatever it still names is free at once."""
    conn.execute(
        update(W).where(W.id == worker_id, W.stopped_at.is_(None)).values(stopped_at=utcnow())
    )


def heard_since(since: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """A worker row not stopped, not rescued, heard from at `since` or later (a time or a
    bound parameter)."""
    return W.stopped_at.is_(None) & W.rescued_by.is_(None) & (W.heartbeat_at >= since)


def alive_clause(now: datetime, *, within_s: float = STALE_S) -> ColumnElement[bool]:
    """A worker row that is alive at `now`: heard from within `within_s` seconds."""
    return heard_since(now - timedelta(seconds=within_s))


def live_ids(now: datetime, *, within_s: float = STALE_S) -> Select[str]:
    """The ids of the workers alive at `now` (a subquery for `.in_`)."""
    return select(W.id).where(alive_clause(now, within_s=within_s))


def fresh_clause(
    worker_id: ColumnElement[str], since: datetime | ColumnElement[datetime]
) -> ColumnElement[bool]:
    """SQL: the worker was heard from at `since` or later (both may be bound parameters):
    with `since` FENCE_S ago, it may still place an order."""
    return worker_id.in_(select(W.id).where(heard_since(since)))


def rescue_stale(
    conn: Connection, me: str, now: datetime, *, stale_s: float = STALE_S
) -> list[str]:
    """Marks the workers silent for `stale_s` as rescued by `me` and returns their ids.
    Each is marked once (by whichever worker gets there first); its Tasks and leases are
    then settled by the caller."""
    cutoff = now - timedelta(seconds=stale_s)
    rows = conn.execute(
        update(W)
        .where(
            W.id != me,
            W.stopped_at.is_(None),
            W.rescued_by.is_(None),
            W.heartbeat_at < cutoff,
        )
        .values(rescued_by=me, rescued_at=now)
        .returning(W.id)
    )
    return [r[0] for r in rows]


def forget_old(conn: Connection, now: datetime) -> None:
    """Drops the rows of workers that ended more than KEEP_DAYS ago."""
    cutoff = now - timedelta(days=KEEP_DAYS)
    conn.execute(delete(W).where((W.stopped_at < cutoff) | (W.rescued_at < cutoff)))


@dataclass(frozen=True)
class WorkerRow:
    """A worker as the console lists it."""

    id: str
    host: str
    pid: int
    kind: WorkerKind
    version: str
    started_at: datetime
    heartbeat_at: datetime
    state: WorkerState
    ended_at: datetime | None
    rescued_by: str | None


def state_of(row: Worker, now: datetime) -> WorkerState:
    if row.rescued_by is not None:
        return WorkerState.RESCUED
    if row.stopped_at is not None:
        return WorkerState.STOPPED
    if row.heartbeat_at < now - timedelta(seconds=HEARTBEAT_S * 3):
        return WorkerState.SILENT
    return WorkerState.ALIVE


def list_workers(s: Session, now: datetime) -> list[WorkerRow]:
    """Every worker alive, and those that ended within KEEP_DAYS, the newest first."""
    rows = s.scalars(select(W).order_by(W.started_at.desc(), W.id)).all()
    return [
        WorkerRow(
            r.id,
            r.host,
            r.pid,
            WorkerKind(r.kind),
            r.version,
            r.started_at,
            r.heartbeat_at,
            state_of(r, now),
            r.rescued_at or r.stopped_at,
            r.rescued_by,
        )
        for r in rows
    ]


# -- this host's workers: known dead at once ----------------------------------------
#
# A heartbeat takes STALE_S to go stale. On this host a worker's death is known at once:
# each worker holds an exclusive lock on a file of its own, which the kernel releases when
# the process ends however it ends. Only a positive answer counts (the file is there and
# its lock can be taken); a worker whose file is not found here (another machine, another
# user, a private /tmp) is judged by its heartbeat alone.


def _lock_dir() -> Path:
    return (
        Path(tempfile.gettempdir())
        / f"buyback-workers-{os.getuid() if hasattr(os, 'getuid') else 0}"
    )


def _lock_path(worker_id: str) -> Path:
    return _lock_dir() / (hashlib.sha1(worker_id.encode()).hexdigest() + ".lock")


def hold_lock(worker_id: str) -> IO[bytes] | None:
    """Takes this worker's lock for as long as the returned file stays open (None where
    the platform or the folder does not allow it: the heartbeat alone then tells)."""
    if fcntl is None:
        return None
    try:
        _lock_dir().mkdir(mode=0o700, exist_ok=True)
        f = open(_lock_path(worker_id), "wb")  # noqa: SIM115 (held open on purpose)
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return None
    return f


def release_lock(f: IO[bytes] | None, worker_id: str) -> None:
    if f is None:
        return
    with contextlib.suppress(OSError):
        _lock_path(worker_id).unlink()
    f.close()


def died_here(worker_id: str) -> bool:
    """True only when the worker ran on this host and its process has ended."""
    if fcntl is None:
        return False
    try:
        f = open(_lock_path(worker_id), "rb")  # noqa: SIM115
    except OSError:
        return False  # never held here, or gone with a clean stop: ask the heartbeat
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return False  # held: alive
    finally:
        f.close()
    return True


def rescue_dead_here(conn: Connection, me: str, now: datetime) -> list[str]:
    """Marks the workers of this host whose process has ended as rescued by `me` (at once,
    without waiting for their heartbeat to go stale) and returns their ids."""
    rows = (
        conn.execute(
            select(W.id).where(
                W.id != me,
                W.host == this_host(),
                W.stopped_at.is_(None),
                W.rescued_by.is_(None),
            )
        )
        .scalars()
        .all()
    )
    dead = [w for w in rows if died_here(w)]
    if not dead:
        return []
    done = conn.execute(
        update(W)
        .where(W.id.in_(dead), W.stopped_at.is_(None), W.rescued_by.is_(None))
        .values(rescued_by=me, rescued_at=now)
        .returning(W.id)
    )
    return [r[0] for r in done]
