"""The event stream from the engine to its observers (console views, terminal progress).

The engine publishes small immutable events; each observer drains its own thread-safe
queue at its own pace (the console at about 10 Hz), so a slow view never slows a purchase.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime

from app.core.domain.clock import utcnow
from app.core.domain.states import BOUGHT, OrderStatus, TaskStatus


@dataclass(frozen=True, slots=True)
class TaskChanged:
    task_id: int
    order_id: int
    job_id: int
    status: TaskStatus
    at: datetime
    account_id: int | None = None
    attempts: int = 0
    error: str | None = None
    order_number: str | None = None


@dataclass(frozen=True, slots=True)
class OrderProgress:
    order_id: int
    status: OrderStatus  # as the operator reads it: paused and cancelled outrank progress
    total: int
    counts: dict[TaskStatus, int] = field(default_factory=dict)

    @property
    def purchased(self) -> int:
        return sum(self.counts.get(s, 0) for s in BOUGHT)


@dataclass(frozen=True, slots=True)
class EngineNotice:
    """Something the operator should read: a stopped engine, a storage fault."""

    level: str  # info|warning|error
    message: str


@dataclass(frozen=True, slots=True)
class MarketBlocked:
    """Purchases on a marketplace cannot start (its driver did not start), and what to do
    about it; with `reason` None, its driver started after all. Said when it changes."""

    marketplace_id: int
    marketplace: str  # its name, as the Orders view shows it
    reason: str | None


Event = TaskChanged | OrderProgress | EngineNotice | MarketBlocked


class Subscription:
    """One observer's queue of events."""

    def __init__(self, bus: EventBus):
        self._bus = bus
        self.queue: queue.SimpleQueue[Event] = queue.SimpleQueue()

    def drain(self, limit: int | None = None) -> list[Event]:
        """Takes every event waiting now (or at most `limit`), without blocking."""
        out: list[Event] = []
        try:
            while limit is None or len(out) < limit:
                out.append(self.queue.get_nowait())
        except queue.Empty:
            pass
        return out

    def close(self) -> None:
        self._bus.unsubscribe(self)


class EventBus:
    """Fans events out to every subscriber; safe to publish from any thread."""

    def __init__(self) -> None:
        self._subs: tuple[Subscription, ...] = ()
        self._lock = threading.Lock()

    def subscribe(self) -> Subscription:
        sub = Subscription(self)
        with self._lock:
            self._subs = (*self._subs, sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs = tuple(s for s in self._subs if s is not sub)

    def publish(self, event: Event) -> None:
        for sub in self._subs:
            sub.queue.put(event)

    def task_changed(
        self,
        task_id: int,
        order_id: int,
        job_id: int,
        status: TaskStatus,
        *,
        attempts: int,
        account_id: int | None = None,
        error: str | None = None,
        order_number: str | None = None,
    ) -> None:
        """Says that a Task moved to `status` now (every TaskChanged is made here)."""
        self.publish(
            TaskChanged(
                task_id,
                order_id,
                job_id,
                status,
                utcnow(),
                account_id=account_id,
                attempts=attempts,
                error=error,
                order_number=order_number,
            )
        )
