"""The worker's heartbeat: its row in the `worker` table, written on the database's clock
every few seconds (storage.workers), on a thread and connection of its own so that a busy
writer never delays it. Each beat also measures how far this host's clock is from the
database server's and corrects the engine's clock by it (domain.clock)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import IO, TypeVar

from sqlalchemy import Connection

from app import __version__
from app.core.domain import clock
from app.core.storage import workers
from app.core.storage.db import Database

log = logging.getLogger(__name__)
R = TypeVar("R")

# A host whose clock is further off the server's than this is told so at start (the
# engine uses the server's time all the same).
CLOCK_WARN_S = 5.0


class Heartbeat:
    """Attributes:
    worker_id: the worker whose heartbeat this is.
    lost: the worker was taken for dead by another (its claims are gone).
    """

    def __init__(
        self,
        db: Database,
        worker_id: str,
        kind: workers.WorkerKind,
        *,
        on_lost: Callable[[], None],
        interval_s: float = workers.HEARTBEAT_S,
    ):
        self.db = db
        self.worker_id = worker_id
        self.kind = kind
        self.interval_s = interval_s
        self.lost = False
        self._on_lost = on_lost
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="heartbeat")
        self._task: asyncio.Task[None] | None = None
        self._lock: IO[bytes] | None = None
        self._failing = False

    async def start(self) -> timedelta:
        """Registers the worker (its row, its lock on this host) and returns how far the
        database's clock is ahead of this host's."""
        self._lock = workers.hold_lock(self.worker_id)
        offset = await self._run(self._register)
        self._task = asyncio.create_task(self._beat_forever(), name="heartbeat")
        return offset

    async def stop(self) -> None:
        """Ends the heartbeat and marks the worker stopped: what it still names is free."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self._run(self._stop)
        finally:
            workers.release_lock(self._lock, self.worker_id)
            self._lock = None
            self._pool.shutdown(wait=False)

    async def _run(self, fn: Callable[[], R]) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def _measure(self, conn: Connection) -> timedelta:
        before = time.time()
        server = workers.database_now(conn)
        after = time.time()
        local = datetime.fromtimestamp((before + after) / 2, UTC)
        offset = server - local
        clock.set_offset(offset)
        return offset

    def _register(self) -> timedelta:
        try:
            with self.db.engine.begin() as conn:
                offset = self._measure(conn)
                workers.register(conn, self.worker_id, self.kind, version=__version__)
            return offset
        except Exception:
            # The COMMIT's answer may have been lost: the row tells whether it happened.
            with self.db.engine.connect() as conn:
                if not workers.registered(conn, self.worker_id):
                    raise
                return self._measure(conn)

    def _beat(self) -> bool:
        with self.db.engine.begin() as conn:
            self._measure(conn)
            return workers.beat(conn, self.worker_id)

    def _stop(self) -> None:
        with self.db.engine.begin() as conn:
            workers.stop(conn, self.worker_id)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                alive = await self._run(self._beat)
            except Exception as exc:  # the database out of reach: the fence keeps it safe
                if not self._failing:
                    log.warning("heartbeat not written: %s", exc)
                self._failing = True
                continue
            if self._failing:
                log.info("heartbeat written again")
                self._failing = False
            if not alive:
                self.lost = True
                self._on_lost()
                return


def clock_note(offset: timedelta) -> str | None:
    """What to tell the operator about this host's clock, if it is off the server's."""
    seconds = offset.total_seconds()
    if abs(seconds) <= CLOCK_WARN_S:
        return None
    if seconds > 0:
        return (
            f"This computer's clock is {abs(seconds):.0f} s behind the database server's. The "
            "engine uses the server's time; set this computer's clock right (time sync)."
        )
    return (
        f"This computer's clock is {abs(seconds):.0f} s ahead of the database server's. The "
        "engine uses the server's time; set this computer's clock right (time sync)."
    )
