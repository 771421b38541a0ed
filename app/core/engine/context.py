"""What the Supervisor shares with its TaskManagers and Tasks: settings, the database,
the event bus, and the operator's controls."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import uuid
from dataclasses import dataclass, field

from app.core.accounts.pool import PoolRules
from app.core.domain.models import utcnow
from app.core.engine.events import EngineNotice, EventBus, TaskChanged
from app.core.storage.db import Database
from app.core.task import RetryPolicy


@dataclass
class EngineSettings:
    concurrency: int = 4  # purchases running at once, over all Orders
    lease_seconds: float = 600.0  # an account lease outlives any purchase; a crash frees it
    max_units_per_line: int = 1000
    poll_s: float = 1.0  # how often shared state (other workstations) is looked at
    rollup_s: float = 0.5  # how often Order/Job progress is recomputed
    track_s: float = 30.0  # how often a purchased unit's delivery is looked at
    recover_s: float = 60.0  # how often Tasks of dead workers are looked for
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    pool: PoolRules = field(default_factory=PoolRules)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Signal:
    """Wakes every waiter when something changed (a Task ended, an account was freed, the
    operator pressed a button). Take `current()` before looking at the state, then
    `wait(token, timeout)`: a change in between is never missed."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        return self._event

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    @staticmethod
    async def wait(token: asyncio.Event, timeout: float) -> None:
        try:
            await asyncio.wait_for(token.wait(), max(0.0, timeout))
        except TimeoutError:
            pass


@dataclass
class OrderControl:
    paused: bool = False
    cancelled: bool = False


class Slots:
    """The global bound on concurrent purchases."""

    def __init__(self, size: int):
        self.size = size
        self.free = size

    def take(self, wanted: int) -> int:
        n = min(self.free, wanted)
        self.free -= n
        return n

    def give(self, n: int = 1) -> None:
        self.free += n


@dataclass
class EngineContext:
    db: Database
    bus: EventBus
    settings: EngineSettings
    worker_id: str = field(default_factory=new_worker_id)
    rng: random.Random = field(default_factory=random.Random)
    controls: dict[int, OrderControl] = field(default_factory=dict)
    changed: Signal = field(default_factory=Signal)
    slots: Slots = field(init=False)
    running: int = 0  # runners alive in this worker
    stopping: bool = False
    until_idle: bool = False  # leave when nothing can progress instead of waiting
    dirty: set[int] = field(default_factory=set)  # Orders whose progress changed
    fault: str | None = None  # why purchases stopped (storage), until the operator restarts

    def __post_init__(self) -> None:
        self.slots = Slots(self.settings.concurrency)

    @property
    def retry(self) -> RetryPolicy:
        return self.settings.retry

    @property
    def pool(self) -> PoolRules:
        return self.settings.pool

    def control(self, order_id: int) -> OrderControl:
        return self.controls.setdefault(order_id, OrderControl())

    def cancel_requested(self, order_id: int) -> bool:
        return self.control(order_id).cancelled

    def may_dispatch(self, order_id: int) -> bool:
        ctl = self.control(order_id)
        return not (ctl.paused or ctl.cancelled or self.stopping)

    def publish_task(self, task_id: int, plan: object, status: str, attempts: int) -> None:
        self.bus.publish(
            TaskChanged(
                task_id,
                plan.order_id,  # type: ignore[attr-defined]
                plan.job_id,  # type: ignore[attr-defined]
                str(status),
                utcnow(),
                attempts=attempts,
            )
        )

    def report_fault(self, exc: BaseException) -> None:
        """The engine cannot record what it does (disk full, database locked or broken):
        no new purchase may start; the operator is told why."""
        if self.fault is not None:
            return  # said once
        self.stopping = True
        self.fault = (
            f"Purchases stopped: the database refused a write ({exc}). Nothing recorded so "
            "far is lost; free disk space or fix the database, then start the console again."
        )
        self.bus.publish(EngineNotice("error", self.fault))
        self.changed.fire()
