"""The engine on a thread of its own: one asyncio loop running the Supervisor, taking
commands from another thread (the console's GUI) and answering with futures."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from app.core.accounts.health import CheckResult, check_accounts
from app.core.drivers.base import DriverFactory
from app.core.engine import assisted, deliveries
from app.core.engine.assisted import HandUnit, NotBought
from app.core.engine.commands import LineEdit
from app.core.engine.deliveries import DeliveryPlan
from app.core.engine.events import EngineNotice, EventBus
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import OrderSpec
from app.core.storage.db import Database
from app.core.storage.errors import StorageFault, classify
from app.core.supervisor import Supervisor
from app.core.support.errors import BugError, KnownError, internal_error

log = logging.getLogger(__name__)
R = TypeVar("R")


class EngineStopped(KnownError):
    """A command given after the engine stopped (a storage fault, or the console is
    closing): said in one line, with the reason when there is one."""

    def __init__(self, fault: StorageFault | None = None):
        reason = f": {fault.reason}" if fault is not None else ""
        super().__init__(
            f"The engine has stopped, so nothing was done{reason}. Start the console again."
        )


class EngineService:
    """Runs a Supervisor forever on its own thread until `stop()`.

    Attributes:
        db: the console's database (shared: the GUI reads it directly, WAL lets it).
        drivers: makes a marketplace's driver (for the Supervisor and account checks).
        bus: events from the engine; subscribe to observe.
        supervisor: the Supervisor (use only through `call`).
    """

    def __init__(
        self, db: Database, drivers: DriverFactory, settings: EngineSettings | None = None
    ):
        self.db = db
        self.drivers = drivers
        self.bus = EventBus()
        self.supervisor = Supervisor(db, drivers, bus=self.bus, settings=settings)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._done: concurrent.futures.Future[None] = concurrent.futures.Future()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="engine", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._ready.set()
        try:
            loop.run_until_complete(self._run())
            self._done.set_result(None)
        except BaseException as exc:  # reported to whoever waits on stop()
            log.exception("the engine stopped")
            self._done.set_exception(exc)
        finally:
            loop.close()

    async def _run(self) -> None:
        delay, last = 2.0, ""
        while True:
            try:
                await self.supervisor.run()
                return
            except Exception as exc:  # keep the console alive; tell the operator
                fault = classify(exc)
                if fault is not None:
                    self.supervisor.ctx.report_fault(fault)
                if self.supervisor.ctx.fault is not None:
                    return  # storage fault: said once; the operator restarts after fixing it
                log.exception("engine run loop failed; restarting it in %.0f s", delay)
                if str(exc) != last:  # a repeating error is said once
                    last = str(exc)
                    message = f"The engine restarts after an {internal_error(exc)}"
                    self.bus.publish(EngineNotice("error", message))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._done.done()

    def call(
        self, fn: Callable[[Supervisor], Coroutine[Any, Any, R]]
    ) -> concurrent.futures.Future[R]:
        """Schedules `fn(supervisor)` on the engine's loop; the future resolves there. Once
        the engine has stopped, the future holds EngineStopped, saying why."""
        loop = self._loop
        if loop is None:
            raise BugError("EngineService.call() before start()")
        if self.running and not loop.is_closed():
            coro = fn(self.supervisor)
            try:
                return asyncio.run_coroutine_threadsafe(coro, loop)
            except RuntimeError:  # the loop closed in between
                coro.close()
        stopped: concurrent.futures.Future[R] = concurrent.futures.Future()
        stopped.set_exception(EngineStopped(self.supervisor.ctx.fault))
        return stopped

    def submit(self, spec: OrderSpec) -> concurrent.futures.Future[int]:
        return self.call(lambda s: s.submit(spec))

    def pause(self, order_id: int) -> concurrent.futures.Future[None]:
        return self.call(lambda s: s.pause(order_id))

    def resume(self, order_id: int) -> concurrent.futures.Future[None]:
        return self.call(lambda s: s.resume(order_id))

    def cancel(self, order_id: int) -> concurrent.futures.Future[None]:
        return self.call(lambda s: s.cancel(order_id))

    def retry_failed(self, order_id: int) -> concurrent.futures.Future[int]:
        return self.call(lambda s: s.retry_failed(order_id))

    def resolve_review(
        self, task_id: int, order_number: str | None, price_minor: int | None = None
    ) -> concurrent.futures.Future[None]:
        return self.call(
            lambda s: s.resolve_review(task_id, order_number=order_number, price_minor=price_minor)
        )

    def edit_lines(
        self, order_id: int, edits: list[LineEdit], *, retry_failed: bool = False
    ) -> concurrent.futures.Future[int]:
        return self.call(lambda s: s.edit_lines(order_id, edits, retry_failed=retry_failed))

    def check_accounts(
        self, ids: list[int] | None = None
    ) -> concurrent.futures.Future[list[CheckResult]]:
        """Checks the accounts' health on the engine's loop (its database writer lives
        there), with drivers of their own."""
        return self.call(lambda _s: check_accounts(self.db, self.drivers, ids))

    # -- purchases made by a person (engine.assisted) -----------------------------------

    def take_next(self, worker: str | None = None) -> concurrent.futures.Future[HandUnit]:
        """The next unit to buy by hand, with its account leased; the future raises
        NothingToTake saying why when none can be taken."""
        me = worker or assisted.operator_worker()
        return self.call(lambda s: assisted.take(s.ctx, me))

    def record_bought(
        self, task_id: int, order_number: str, price_minor: int, *, over_cap_ok: bool = False
    ) -> concurrent.futures.Future[None]:
        return self.call(
            lambda s: assisted.bought(s.ctx, task_id, order_number, price_minor, over_cap_ok)
        )

    def record_not_bought(
        self, task_id: int, reason: NotBought, note: str = ""
    ) -> concurrent.futures.Future[None]:
        return self.call(lambda s: assisted.not_bought(s.ctx, task_id, reason, note))

    def skip_unit(self, task_id: int) -> concurrent.futures.Future[None]:
        return self.call(lambda s: assisted.skip_unit(s.ctx, task_id))

    def mark_arrived(self, task_ids: list[int]) -> concurrent.futures.Future[int]:
        return self.call(lambda s: assisted.arrived(s.ctx, task_ids))

    def import_deliveries(self, plan: DeliveryPlan) -> concurrent.futures.Future[int]:
        return self.call(lambda s: deliveries.import_deliveries(s.ctx, plan))

    def stop(self, timeout: float = 60.0) -> None:
        """Starts no new purchase, lets running ones finish and be recorded, then ends;
        nothing to do once the engine has stopped by itself (a storage fault)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            loop.call_soon_threadsafe(self.supervisor.stop)
        except RuntimeError:  # the loop has closed: the engine ended already
            pass
        thread.join(timeout)
