"""The Supervisor: takes Orders, splits them into Jobs and batches, runs one TaskManager
per Job within a global bound on concurrent purchases, and rolls progress up to the Order."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from app.core.domain.clock import utcnow
from app.core.domain.states import OrderIntent
from app.core.drivers.base import DriverFactory
from app.core.engine import commands
from app.core.engine.assisted import operator_name
from app.core.engine.context import EngineContext, Signal, new_worker_id
from app.core.engine.events import EngineNotice, EventBus, OrderProgress
from app.core.engine.heartbeat import Heartbeat, clock_note
from app.core.engine.market_drivers import DriverPool
from app.core.engine.plans import JobPlan, holds, open_jobs
from app.core.engine.purchases import check_reported_order
from app.core.engine.recovery import RecoveryReport, others_at_work, recover
from app.core.engine.rollup import roll_up
from app.core.engine.settings import EngineSettings
from app.core.engine.tracking import track_due
from app.core.manager import TaskManager
from app.core.orders.create import create_order
from app.core.orders.spec import OrderSpec
from app.core.storage.db import Database
from app.core.storage.notices import WAKE_CHANNEL, Change, ChangeListener, listener_for
from app.core.storage.workers import WorkerKind
from app.core.support.errors import KnownError

log = logging.getLogger(__name__)

LOST = (
    "This worker was taken for stopped (no heartbeat for a while: the computer slept or the "
    "database was out of reach), and its purchases were handed to other workers. It joins "
    "again as a new worker once the purchases it was making are recorded."
)

# Other workers' notices wake this one at most this often (thousands arrive a second).
_WAKE_S = 0.05


class Supervisor:
    """Runs Orders to completion on this worker.

    Attributes:
        ctx: the context shared with TaskManagers and Tasks.
        drivers: the started purchase drivers, one per marketplace.
        managers: the running TaskManagers by Job id.
        parked: Jobs a defect stopped in this run, and why: not started again until the
            console restarts (their queued units failed with the reason).
    """

    def __init__(
        self,
        db: Database,
        drivers: DriverFactory,
        *,
        bus: EventBus | None = None,
        settings: EngineSettings | None = None,
        kind: WorkerKind = WorkerKind.CONSOLE,
    ):
        self.ctx = EngineContext(db, bus or EventBus(), settings or EngineSettings())
        self.db = db
        self.kind = kind
        self.heartbeat: Heartbeat | None = None  # while run() runs
        self.drivers = DriverPool(db, drivers, self.ctx.bus)
        self.managers: dict[int, asyncio.Task[None]] = {}
        self.parked: dict[int, str] = {}
        self._plans: dict[int, JobPlan] = {}  # of the running managers
        self._to_fail: list[tuple[JobPlan, str]] = []  # parked Jobs whose units to fail
        self._stuck: set[int] = set()
        self._rejoin = False  # this run was taken for dead: run again as a new worker

    @property
    def bus(self) -> EventBus:
        return self.ctx.bus

    # -- the operator's commands -----------------------------------------------------

    async def submit(self, spec: OrderSpec) -> int:
        limit = self.ctx.settings.max_units_per_line
        order_id = await self.db.write(lambda c: create_order(c, spec, max_units_per_line=limit))
        self.ctx.touch(order_id)
        return order_id

    async def pause(self, order_id: int) -> None:
        await self._intend(order_id, OrderIntent.PAUSED)

    async def resume(self, order_id: int) -> None:
        await self._intend(order_id, OrderIntent.RUN)

    async def cancel(self, order_id: int) -> None:
        """Cancels what has not started; a running Task stops before it submits, and one
        already submitting always finishes with its recorded outcome."""
        await self._intend(order_id, OrderIntent.CANCELLED)

    async def _intend(self, order_id: int, intent: OrderIntent) -> None:
        await self.db.write(lambda c: commands.set_intent(c, order_id, intent))
        held = await self.db.read(lambda s: holds(s, [order_id]))
        self.ctx.hold(order_id, held.get(order_id, OrderIntent.RUN))

    async def retry_failed(self, order_id: int) -> int:
        """Puts the Order's failed Tasks back in the queue with fresh attempts."""
        n = await self.db.write(lambda c: commands.retry_failed(c, order_id))
        self.ctx.touch(order_id)
        return n

    async def resolve_review(
        self, task_id: int, *, order_number: str | None, price_minor: int | None = None
    ) -> None:
        """The operator's verdict on a unit in review: with an order number and the price
        paid it is recorded as bought once purchases.check_reported_order lets it (refused
        with a KnownError otherwise, nothing written); without a number it is queued again.
        The Task's history names the operator (the computer's login name)."""
        reported = None
        if order_number is not None:
            reported = await check_reported_order(
                self.db, self.drivers.by_id, task_id, order_number, price_minor
            )
        number = reported.receipt.order_number if reported else None
        owner, who = self.ctx.worker_id, f"operator {operator_name()}"
        try:
            order_id = await self.db.write(
                lambda c: commands.resolve_review(
                    c,
                    task_id,
                    order_number=number,
                    price_minor=0,
                    owner=owner,
                    reported=reported,
                    who=who,
                )
            )
        except IntegrityError as exc:  # recorded meanwhile on another workstation
            raise KnownError(f"Order {number} is already recorded; nothing was recorded.") from exc
        self.ctx.touch(order_id)

    async def edit_lines(
        self, order_id: int, edits: list[commands.LineEdit], *, retry_failed: bool = False
    ) -> int:
        """The operator's new price caps and quantities for the Order's lines, and with
        `retry_failed` its failed units queued again, all or nothing (commands.edit_lines).
        Running TaskManagers use a new cap from their next purchase; units added or queued
        again start as any queued unit. Returns how many units were queued again."""
        edit = functools.partial(
            commands.edit_lines,
            order_id=order_id,
            edits=edits,
            retry=retry_failed,
            max_units_per_line=self.ctx.settings.max_units_per_line,
        )
        n = await self.db.write(edit)
        self.ctx.touch(order_id)
        return n

    def stop(self) -> None:
        """Starts no new purchase; the ones running finish and are recorded."""
        self._rejoin = False
        self.ctx.stopping = True
        self.ctx.wake()

    # -- the run loop ----------------------------------------------------------------

    async def run(self, *, until_idle: bool = False) -> None:
        """Works on every open Order until stopped (or, with `until_idle`, until nothing
        queued can make progress). A worker taken for dead by another (see `_lost`) winds
        down and joins again under a new worker id."""
        while True:
            self._rejoin = False
            await self._run(until_idle=until_idle)
            if not self._rejoin:
                return
            log.warning("joining again as a new worker")

    async def _run(self, *, until_idle: bool) -> None:
        ctx = self.ctx
        if ctx.fault is not None:
            raise ctx.fault
        ctx.until_idle = until_idle
        ctx.stopping = False
        self._stuck.clear()
        await self._start_heartbeat()
        listener = self._listen()
        last_rollup = datetime.min.replace(tzinfo=utcnow().tzinfo)
        tracker = None if until_idle else asyncio.create_task(self._track_forever())
        try:
            await self.recover()
            last_recovery = utcnow()
            while not ctx.stopping:
                token = ctx.rounds.current()
                await self._start_managers()
                if utcnow() - last_rollup >= timedelta(seconds=ctx.settings.rollup_s):
                    await self.rollup()
                    last_rollup = utcnow()
                # Idle: nothing of ours runs and no other worker holds units that could
                # come back to the queue (a retry, or a rescue should that worker die).
                if until_idle and not self.managers and not await self._others_at_work():
                    break
                if utcnow() - last_recovery >= timedelta(seconds=ctx.settings.recover_s):
                    await self.recover()
                    self.drivers.forgive()  # try the drivers that could not start again
                    last_recovery = utcnow()
                await Signal.wait(token, ctx.settings.rollup_s)
        finally:
            if listener is not None:
                await asyncio.to_thread(listener.stop)
            await self._wind_down(tracker)

    def _listen(self) -> ChangeListener | None:
        """On a server, what other workers and consoles commit wakes this one at once: a
        unit back in the queue, an account freed, a new or resumed Order (an empty notice
        on the workers' channel, one a transaction; polling every `poll_s` stays as the
        fallback)."""
        loop, ctx = asyncio.get_running_loop(), self.ctx
        pending = threading.Event()  # a wake-up is on its way: notices coalesce into it

        def wake() -> None:
            pending.clear()
            ctx.wake()

        def heard(_change: Change | None) -> None:
            if not pending.is_set():
                pending.set()
                loop.call_soon_threadsafe(loop.call_later, _WAKE_S, wake)

        return listener_for(
            self.db.url, heard, application_name="buyback-engine", channel=WAKE_CHANNEL
        )

    async def _others_at_work(self) -> bool:
        me = self.ctx.worker_id
        return await self.db.read(lambda s: others_at_work(s, me))

    async def _start_managers(self) -> None:
        await self._fail_parked()
        plans = await self.db.read(open_jobs)
        # What the operator wants of the Orders being worked on (another workstation may
        # have paused or cancelled one): read back from the database every round.
        orders = {plan.order_id for plan in self._plans.values()}
        self.ctx.held = await self.db.read(lambda s: holds(s, orders))
        for plan, market in plans:
            if plan.job_id in self.managers or plan.job_id in self.parked:
                continue
            if (self.ctx.until_idle and plan.job_id in self._stuck) or (
                market.id in self.drivers.broken
            ):
                continue
            try:
                driver = await self.drivers.get(market)
            except Exception as exc:  # no browser, a bad driver: this marketplace only
                self.drivers.mark_broken(market, exc)
                continue
            self._start_manager(plan, TaskManager(self.ctx, plan, driver))

    async def _wind_down(self, tracker: asyncio.Task[None] | None) -> None:
        ctx = self.ctx
        if tracker is not None:
            tracker.cancel()
            await asyncio.gather(tracker, return_exceptions=True)
        if self.managers:
            ctx.stopping = True
            ctx.wake()
            await asyncio.gather(*self.managers.values(), return_exceptions=True)
        try:
            await self.rollup()
        except Exception as exc:  # the database may be what failed: said once already
            self.ctx.storage_only(exc)
        finally:
            await self.drivers.close()
            await self._stop_heartbeat()

    async def _start_heartbeat(self) -> None:
        """Registers this run as a worker (a new id for each run) with its heartbeat."""
        ctx = self.ctx
        if self.heartbeat is not None:
            ctx.worker_id = new_worker_id()
        self.heartbeat = Heartbeat(
            self.db,
            ctx.worker_id,
            self.kind,
            on_lost=self._lost,
            interval_s=ctx.settings.heartbeat_s,
        )
        note = clock_note(await self.heartbeat.start())
        if note is not None:
            log.warning("%s", note)
            self.bus.publish(EngineNotice("warning", note))

    async def _stop_heartbeat(self) -> None:
        if self.heartbeat is None:
            return
        try:
            await self.heartbeat.stop()
        except Exception as exc:  # the database may be what failed: said once already
            self.ctx.storage_only(exc)

    def _lost(self) -> None:
        """Another worker took this one for dead (no heartbeat for a while: the computer
        slept, or the database was out of reach) and handed its units on: this run winds
        down (its claims are gone, so its purchases write nothing more) and `run` starts
        again under a new worker id."""
        log.error("%s", LOST)
        self.bus.publish(EngineNotice("warning", LOST))
        self.stop()
        self._rejoin = True

    async def recover(self) -> RecoveryReport:
        """Settles Tasks that dead workers left mid-purchase (see app.core.engine.recovery)."""
        report = await recover(self.db, self.drivers.by_id, self.ctx.worker_id)
        if report:
            self._stuck.clear()  # units may be back in the queue of Jobs that had ended
            self.ctx.dirty.update(report.orders)
            self.bus.publish(EngineNotice("info", f"Recovered after a stop: {report}."))
            self.ctx.wake()
        return report

    async def _track_forever(self) -> None:
        """Looks at purchased units' delivery every `track_s` seconds. A storage fault
        stops it with the purchases; a defect is reported and tracking goes on."""
        interval = self.ctx.settings.track_s
        while not self.ctx.stopping:
            try:
                arrived = await track_due(
                    self.db, self.drivers.by_id, self.bus, interval_s=interval
                )
            except Exception as exc:
                if self.ctx.report_error("Delivery tracking", exc) is None:
                    return  # a storage fault: tracking stops with the purchases
                arrived = set()
            if arrived:
                self.ctx.dirty.update(arrived)
            await asyncio.sleep(min(interval, 5.0) if arrived else interval)

    async def warm_up(self) -> None:
        """Starts the driver of every marketplace with queued work now (launching a
        browser takes a moment) instead of at the first purchase."""
        for _plan, market in await self.db.read(open_jobs):
            await self.drivers.get(market)

    def _start_manager(self, plan: JobPlan, manager: TaskManager) -> None:
        task = asyncio.create_task(manager.run(), name=f"job-{plan.job_id}")
        self.managers[plan.job_id] = task
        self._plans[plan.job_id] = plan
        self.ctx.dirty.add(plan.order_id)
        task.add_done_callback(functools.partial(self._manager_done, plan=plan))

    def _manager_done(self, task: asyncio.Task[None], plan: JobPlan) -> None:
        self.managers.pop(plan.job_id, None)
        self._plans.pop(plan.job_id, None)
        if self.ctx.until_idle:
            self._stuck.add(plan.job_id)
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            reason = self.ctx.report_error(f"Job {plan.job_id} of Order {plan.order_id}", exc)
            if reason is not None:
                self._park(plan, reason)
        self.ctx.dirty.add(plan.order_id)
        self.ctx.wake()

    def _park(self, plan: JobPlan, reason: str) -> None:
        """A defect of ours stopped this Job: it is not started again in this run, its
        queued units fail with the reason (at the loop's next round), and every other Job
        goes on."""
        self.parked[plan.job_id] = reason
        self._to_fail.append((plan, reason))

    async def _fail_parked(self) -> None:
        to_fail, self._to_fail = self._to_fail, []
        for plan, reason in to_fail:
            try:
                await self.db.write(
                    functools.partial(commands.park_job, job_id=plan.job_id, reason=reason)
                )
            except Exception as exc:  # the Job stays parked in memory all the same
                self.ctx.storage_only(exc)
            self.ctx.dirty.add(plan.order_id)

    async def rollup(self) -> list[OrderProgress]:
        """Recomputes Job and Order status for the Orders that changed and publishes their
        progress."""
        dirty, self.ctx.dirty = self.ctx.dirty, set()
        if not dirty:
            return []
        progress = await self.db.write(lambda c: roll_up(c, dirty))
        for p in progress:
            self.bus.publish(p)
        return progress
