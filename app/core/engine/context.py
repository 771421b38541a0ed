"""What the Supervisor shares with its TaskManagers and Tasks: settings, the database,
the event bus, the bound on purchases, and what the operator wants of each Order."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from dataclasses import dataclass, field

from app.core.domain.states import OrderIntent
from app.core.engine.events import EngineNotice, EventBus
from app.core.engine.settings import EngineSettings
from app.core.storage.db import Database
from app.core.storage.errors import StorageFault, classify
from app.core.support.errors import internal_error

log = logging.getLogger(__name__)


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


class Slots:
    """The global bound on concurrent purchases; `busy` is how many run now."""

    def __init__(self, size: int):
        self.size = size
        self.free = size

    @property
    def busy(self) -> int:
        return self.size - self.free

    def take(self, wanted: int) -> int:
        n = min(self.free, wanted)
        self.free -= n
        return n

    def give(self, n: int = 1) -> None:
        self.free += n


@dataclass
class EngineContext:
    """Attributes:
    held: the operator's pause or cancel of Orders this worker is working on, as stored
        in the database (Order.intent); the Supervisor reads it back every round, so a
        pause from another workstation is obeyed too.
    dirty: Orders whose progress changed since the last roll-up.
    fault: why purchases stopped (a storage fault), until the operator restarts.
    """

    db: Database
    bus: EventBus
    settings: EngineSettings
    worker_id: str = field(default_factory=new_worker_id)
    rng: random.Random = field(default_factory=random.Random)
    held: dict[int, OrderIntent] = field(default_factory=dict)
    # A Task, an Order or the worker changed: the TaskManagers look again.
    changed: Signal = field(default_factory=Signal)
    # An Order, a Job or the worker changed (not merely a Task): the Supervisor looks again.
    # A Task ending fires only `changed`: a round of the Supervisor per purchase read the
    # open Jobs again thousands of times a second.
    rounds: Signal = field(default_factory=Signal)
    slots: Slots = field(init=False)
    stopping: bool = False
    until_idle: bool = False  # leave when nothing can progress instead of waiting
    dirty: set[int] = field(default_factory=set)
    fault: StorageFault | None = None
    _said: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.slots = Slots(self.settings.concurrency)

    def cancel_requested(self, order_id: int) -> bool:
        return self.held.get(order_id) is OrderIntent.CANCELLED

    def may_dispatch(self, order_id: int) -> bool:
        return order_id not in self.held and not self.stopping

    def hold(self, order_id: int, intent: OrderIntent) -> None:
        """The operator's pause, resume or cancel, obeyed at once by this worker."""
        if intent is OrderIntent.RUN:
            self.held.pop(order_id, None)
        else:
            self.held[order_id] = intent
        self.touch(order_id)

    def touch(self, order_id: int) -> None:
        """The Order's Tasks changed: roll it up, and wake whoever waits for work."""
        self.dirty.add(order_id)
        self.wake()

    def wake(self) -> None:
        """Wakes the Supervisor and every TaskManager."""
        self.changed.fire()
        self.rounds.fire()

    def report_fault(self, fault: StorageFault) -> None:
        """The engine cannot record what it does (disk full, database locked or broken):
        no new purchase may start; the operator is told why, once."""
        if self.fault is not None:
            return
        log.error("storage fault: %s", fault.reason)
        self.stopping = True
        self.fault = fault
        self.bus.publish(EngineNotice("error", fault.purchases_stopped()))
        self.wake()

    def report_error(self, what: str, exc: BaseException) -> str | None:
        """Whatever stopped `what`, said once: a storage fault stops purchases (returns
        None); anything else is a defect of ours (returns the text to record on what it
        touched)."""
        fault = classify(exc)
        if fault is not None:
            self.report_fault(fault)
            return None
        return self.report_defect(what, exc)

    def storage_only(self, exc: BaseException) -> None:
        """Where only the database can fail (a write, a roll-up): its fault is reported;
        anything else is raised again."""
        fault = classify(exc)
        if fault is None:
            raise exc
        self.report_fault(fault)

    def report_defect(self, what: str, exc: BaseException) -> str:
        """A defect of ours hit `what` ("Job 7", "delivery tracking"): logged with its
        traceback, said to the operator once per distinct message; the rest goes on.
        Returns the text recorded on what it touched."""
        log.error("%s stopped on an internal error", what, exc_info=exc)
        reason = internal_error(exc)
        message = f"{what} stopped on an {reason}. Other purchases go on."
        if message not in self._said:
            self._said.add(message)
            self.bus.publish(EngineNotice("error", message))
        return reason
