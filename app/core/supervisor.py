"""The Supervisor: takes Orders, splits them into Jobs and batches, runs one TaskManager
per Job within a global bound on concurrent purchases, and rolls progress up to the Order."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from app.core.domain.models import (
    Article,
    Client,
    Job,
    JobBatch,
    MarketPlace,
    Order,
    OrderLine,
    PickupPoint,
    Task,
    utcnow,
)
from app.core.domain.states import (
    ORDER_OPEN,
    QUEUED,
    OrderStatus,
    TaskStatus,
    UnitRule,
    rollup,
)
from app.core.drivers.base import PurchaseDriver, Receipt
from app.core.engine.context import EngineContext, EngineSettings, Signal
from app.core.engine.events import EngineNotice, EventBus, OrderProgress
from app.core.engine.recovery import LIVE_WORKERS, RecoveryReport, recover
from app.core.engine.tracking import track_due
from app.core.manager import JobPlan, TaskManager, create_tasks
from app.core.orders.spec import OrderSpec, ValidOrder, validate
from app.core.storage.db import Database
from app.core.storage.journal import bulk_events, transition
from app.core.support.errors import KnownError
from app.core.task import record_purchase

log = logging.getLogger(__name__)
T = TaskStatus


_HELD = (OrderStatus.PAUSED, OrderStatus.CANCELLED)


@dataclass(frozen=True)
class MarketInfo:
    id: int
    code: str
    name: str
    base_url: str
    driver: str


DriverFactory = Callable[[MarketInfo], PurchaseDriver]


def split(quantity: int, batch_size: int | None) -> list[int]:
    """Sizes of a Job's batches (sub-jobs): the whole Job at once unless a size is set."""
    if not batch_size or batch_size >= quantity:
        return [quantity]
    full, rest = divmod(quantity, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def create_order(conn: Connection, spec: OrderSpec, *, max_units_per_line: int) -> int:
    """Validates the Order and writes it with its Jobs, batches and Tasks, all in the
    caller's transaction: an invalid Order raises InvalidOrder and writes nothing."""
    valid: ValidOrder = validate(Session(bind=conn), spec, max_units_per_line=max_units_per_line)
    now = utcnow()
    client_id = conn.scalar(select(Client.id).where(Client.name == valid.client))
    if client_id is None:
        client_id = conn.scalar(
            insert(Client).values(name=valid.client, created_at=now).returning(Client.id)
        )
    order_id = conn.scalar(
        insert(Order)
        .values(
            client_id=client_id,
            marketplace_id=valid.marketplace_id,
            status=OrderStatus.PAUSED if spec.hold else OrderStatus.QUEUED,
            unit_rule=spec.unit_rule,
            priority=spec.priority,
            note=spec.note,
            created_at=now,
            updated_at=now,
        )
        .returning(Order.id)
    )
    for line in valid.lines:
        line_id = conn.scalar(
            insert(OrderLine)
            .values(
                order_id=order_id,
                line_no=line.line_no,
                article_id=line.article_id,
                pickup_point_id=line.pickup_point_id,
                quantity=line.quantity,
                max_unit_price_minor=line.max_unit_price_minor,
            )
            .returning(OrderLine.id)
        )
        job_id = conn.scalar(
            insert(Job)
            .values(order_id=order_id, order_line_id=line_id, quantity=line.quantity)
            .returning(Job.id)
        )
        batches = []
        for seq, size in enumerate(split(line.quantity, spec.batch_size)):
            not_before = now + timedelta(seconds=spec.batch_interval_s * seq) if seq else None
            batch_id = conn.scalar(
                insert(JobBatch)
                .values(job_id=job_id, seq=seq, size=size, not_before=not_before)
                .returning(JobBatch.id)
            )
            batches.append((batch_id, size))
        create_tasks(conn, order_id=order_id, job_id=job_id, batches=batches, now=now)
    return order_id


def _open_jobs(s: Session) -> tuple[list[tuple[JobPlan, MarketInfo]], dict[int, OrderStatus]]:
    """Jobs with queued Tasks in Orders the engine works on, and every Order's status
    that a running TaskManager may need to obey."""
    has_queued = select(Task.id).where(Task.job_id == Job.id, Task.status.in_(QUEUED)).exists()
    rows = s.execute(
        select(
            Job.id,
            Order.id,
            Order.unit_rule,
            Article.sku,
            PickupPoint.code,
            OrderLine.max_unit_price_minor,
            MarketPlace.id,
            MarketPlace.code,
            MarketPlace.name,
            MarketPlace.base_url,
            MarketPlace.driver,
        )
        .join(Order, Order.id == Job.order_id)
        .join(OrderLine, OrderLine.id == Job.order_line_id)
        .join(Article, Article.id == OrderLine.article_id)
        .join(PickupPoint, PickupPoint.id == OrderLine.pickup_point_id)
        .join(MarketPlace, MarketPlace.id == Order.marketplace_id)
        .where(Order.status.in_(ORDER_OPEN), has_queued)
        .order_by(Order.priority.desc(), Order.id, Job.id)
    )
    plans = [
        (
            JobPlan(job_id, order_id, mp_id, UnitRule(rule), sku, point, cap),
            MarketInfo(mp_id, code, name, url, driver),
        )
        for job_id, order_id, rule, sku, point, cap, mp_id, code, name, url, driver in rows
    ]
    statuses = dict(s.execute(select(Order.id, Order.status)).all())
    return plans, {k: OrderStatus(v) for k, v in statuses.items()}


def _rollup(conn: Connection, order_ids: set[int]) -> list[OrderProgress]:
    rows = conn.execute(
        select(Task.order_id, Task.job_id, Task.status, func.count())
        .where(Task.order_id.in_(order_ids))
        .group_by(Task.order_id, Task.job_id, Task.status)
    )
    jobs: dict[int, dict[TaskStatus, int]] = defaultdict(lambda: defaultdict(int))
    orders: dict[int, dict[TaskStatus, int]] = defaultdict(lambda: defaultdict(int))
    for order_id, job_id, status, n in rows:
        jobs[job_id][T(status)] += n
        orders[order_id][T(status)] += n
    for job_id, counts in jobs.items():
        conn.execute(update(Job).where(Job.id == job_id).values(status=rollup(counts)))
    current = dict(
        conn.execute(select(Order.id, Order.status).where(Order.id.in_(order_ids))).all()
    )
    out = []
    for order_id, counts in orders.items():
        status = OrderStatus(current[order_id])
        if status not in (OrderStatus.PAUSED, OrderStatus.CANCELLED):
            status = OrderStatus(rollup(counts).value)
            conn.execute(
                update(Order)
                .where(Order.id == order_id, Order.status == current[order_id])
                .values(status=status, updated_at=utcnow())
            )
        out.append(
            OrderProgress(
                order_id, str(status), sum(counts.values()), {str(k): v for k, v in counts.items()}
            )
        )
    return out


def _requeue(conn: Connection, order_id: int) -> None:
    """The Order has queued units again; a paused or cancelled one stays so: putting units
    back is not resuming."""
    conn.execute(
        update(Order)
        .where(Order.id == order_id, Order.status.not_in(_HELD))
        .values(status=OrderStatus.QUEUED)
    )


def _bulk_move(
    conn: Connection,
    order_id: int,
    frm: frozenset[TaskStatus],
    to: TaskStatus,
    detail: str,
    **values: object,
) -> int:
    now = utcnow()
    rows = conn.execute(
        select(Task.id, Task.status, Task.account_id).where(
            Task.order_id == order_id, Task.status.in_(frm)
        )
    ).all()
    if not rows:
        return 0
    conn.execute(
        update(Task)
        .where(Task.order_id == order_id, Task.status.in_(frm))
        .values(status=to, updated_at=now, **values)
    )
    bulk_events(conn, ((tid, T(st), to, acc) for tid, st, acc in rows), now=now, detail=detail)
    return len(rows)


class Supervisor:
    """Runs Orders to completion on this worker.

    Attributes:
        ctx: the context shared with TaskManagers and Tasks.
        managers: the running TaskManagers by Job id.
    """

    def __init__(
        self,
        db: Database,
        drivers: DriverFactory,
        *,
        bus: EventBus | None = None,
        settings: EngineSettings | None = None,
    ):
        self.ctx = EngineContext(db, bus or EventBus(), settings or EngineSettings())
        self.db = db
        self._driver_factory = drivers
        self._drivers: dict[int, PurchaseDriver] = {}
        self.managers: dict[int, asyncio.Task[None]] = {}
        self._stuck: set[int] = set()
        self._broken: dict[int, str] = {}  # marketplaces whose driver cannot start, and why
        self._said: set[str] = set()

    @property
    def bus(self) -> EventBus:
        return self.ctx.bus

    # -- the operator's commands -----------------------------------------------------

    async def submit(self, spec: OrderSpec) -> int:
        limit = self.ctx.settings.max_units_per_line
        order_id = await self.db.write(lambda c: create_order(c, spec, max_units_per_line=limit))
        self.ctx.dirty.add(order_id)
        self.ctx.changed.fire()
        return order_id

    async def pause(self, order_id: int) -> None:
        await self._set_order(order_id, OrderStatus.PAUSED, ORDER_OPEN)
        self.ctx.control(order_id).paused = True
        self.ctx.changed.fire()

    async def resume(self, order_id: int) -> None:
        await self._set_order(order_id, OrderStatus.QUEUED, frozenset({OrderStatus.PAUSED}))
        self.ctx.control(order_id).paused = False
        self.ctx.changed.fire()

    async def cancel(self, order_id: int) -> None:
        """Cancels what has not started; a running Task stops before it submits, and one
        already submitting always finishes with its recorded outcome."""

        def op(conn: Connection) -> None:
            conn.execute(
                update(Order)
                .where(Order.id == order_id)
                .values(status=OrderStatus.CANCELLED, updated_at=utcnow())
            )
            _bulk_move(conn, order_id, QUEUED, T.CANCELLED, "cancelled by the operator")

        await self.db.write(op)
        self.ctx.control(order_id).cancelled = True
        self.ctx.dirty.add(order_id)
        self.ctx.changed.fire()

    async def retry_failed(self, order_id: int) -> int:
        """Puts the Order's failed Tasks back in the queue with fresh attempts."""

        def op(conn: Connection) -> int:
            n = _bulk_move(
                conn,
                order_id,
                frozenset({T.FAILED}),
                T.PENDING,
                "retry requested by the operator",
                attempts=0,
                last_error=None,
                error_code=None,
                next_attempt_at=None,
            )
            if n:
                _requeue(conn, order_id)
            return n

        n = await self.db.write(op)
        self.ctx.dirty.add(order_id)
        self.ctx.changed.fire()
        return n

    async def resolve_review(
        self, task_id: int, *, order_number: str | None, price_minor: int = 0
    ) -> None:
        """The operator looked at a unit in `needs_review`: with the marketplace's order
        number it is recorded as bought; without one it goes back to the queue."""
        now, owner = utcnow(), self.ctx.worker_id

        def op(conn: Connection) -> int:
            row = conn.execute(
                select(Task.order_id, Task.account_id, Task.attempts, Order.marketplace_id)
                .join(Order, Order.id == Task.order_id)
                .where(Task.id == task_id, Task.status == T.NEEDS_REVIEW)
            ).first()
            if row is None:
                raise KnownError(f"Task {task_id} is not waiting for review any more.")
            order_id, account_id, attempts, marketplace_id = row
            if order_number:
                if account_id is None:
                    raise KnownError(f"Task {task_id} has no account to record the order on.")
                receipt = Receipt(order_number.strip(), "", "", price_minor, now)
                record_purchase(
                    conn,
                    task_id,
                    T.NEEDS_REVIEW,
                    receipt,
                    now=now,
                    attempt=attempts,
                    account_id=account_id,
                    marketplace_id=marketplace_id,
                    owner=owner,
                    detail=f"the operator recorded order {receipt.order_number}",
                )
            else:
                transition(
                    conn,
                    task_id,
                    T.NEEDS_REVIEW,
                    T.PENDING,
                    now=now,
                    attempt=attempts,
                    account_id=account_id,
                    detail="the operator found no order; queued again",
                    values={"last_error": None, "error_code": None, "next_attempt_at": None},
                )
                _requeue(conn, order_id)
            return order_id

        order_id = await self.db.write(op)
        self.ctx.dirty.add(order_id)
        self.ctx.changed.fire()

    async def _set_order(
        self, order_id: int, status: OrderStatus, allowed: frozenset[OrderStatus]
    ) -> None:
        await self.db.write(
            lambda c: c.execute(
                update(Order)
                .where(Order.id == order_id, Order.status.in_(allowed))
                .values(status=status, updated_at=utcnow())
            )
        )
        self.ctx.dirty.add(order_id)

    def stop(self) -> None:
        """Starts no new purchase; the ones running finish and are recorded."""
        self.ctx.stopping = True
        self.ctx.changed.fire()

    # -- the run loop ----------------------------------------------------------------

    async def run(self, *, until_idle: bool = False) -> None:
        """Works on every open Order until stopped (or, with `until_idle`, until nothing
        queued can make progress)."""
        ctx = self.ctx
        if ctx.fault is not None:
            raise KnownError(ctx.fault)
        ctx.until_idle = until_idle
        ctx.stopping = False
        self._stuck.clear()
        last_rollup = datetime.min.replace(tzinfo=utcnow().tzinfo)
        tracker = None if until_idle else asyncio.create_task(self._track_forever())
        LIVE_WORKERS.add(ctx.worker_id)
        try:
            await self.recover()
            last_recovery = utcnow()
            while not ctx.stopping:
                token = ctx.changed.current()
                plans, statuses = await self.db.read(_open_jobs)
                self._sync_controls(statuses)
                startable = [(p, m) for p, m in plans if p.job_id not in self.managers]
                for plan, market in startable:
                    if (until_idle and plan.job_id in self._stuck) or market.id in self._broken:
                        continue
                    try:
                        await self._start_manager(plan, market)
                    except Exception as exc:  # no browser, a bad driver: this market only
                        self._market_broken(market, exc)
                if utcnow() - last_rollup >= timedelta(seconds=ctx.settings.rollup_s):
                    await self.rollup()
                    last_rollup = utcnow()
                if until_idle and not self.managers:
                    break
                if utcnow() - last_recovery >= timedelta(seconds=ctx.settings.recover_s):
                    await self.recover()
                    self._broken.clear()  # try those drivers again
                    last_recovery = utcnow()
                await Signal.wait(token, ctx.settings.rollup_s)
        finally:
            if tracker is not None:
                tracker.cancel()
                await asyncio.gather(tracker, return_exceptions=True)
            if self.managers:
                ctx.stopping = True
                ctx.changed.fire()
                await asyncio.gather(*self.managers.values(), return_exceptions=True)
            try:
                await self.rollup()
            except Exception:  # the database may be what failed; the fault was reported
                log.exception("final roll-up failed")
            await self.close_drivers()
            LIVE_WORKERS.discard(ctx.worker_id)

    async def recover(self) -> RecoveryReport:
        """Settles Tasks that dead workers left mid-purchase (see app.core.engine.recovery)."""
        report = await recover(self.db, self._driver_for, self.ctx.worker_id)
        if report:
            self.ctx.dirty.update(report.orders)
            self.bus.publish(EngineNotice("info", f"Recovered after a stop: {report}."))
            self.ctx.changed.fire()
        return report

    async def _track_forever(self) -> None:
        """Looks at purchased units' delivery every `track_s` seconds."""
        interval = self.ctx.settings.track_s
        while not self.ctx.stopping:
            try:
                arrived = await track_due(self.db, self._driver_for, self.bus, interval_s=interval)
            except Exception as exc:
                log.exception("delivery tracking failed")
                self.ctx.report_fault(exc)
                return
            if arrived:
                self.ctx.dirty.update(arrived)
            await asyncio.sleep(min(interval, 5.0) if arrived else interval)

    async def _driver_for(self, marketplace_id: int) -> PurchaseDriver:
        driver = self._drivers.get(marketplace_id)
        if driver is not None:
            return driver

        def load(s: Session) -> MarketInfo:
            mp = s.get(MarketPlace, marketplace_id)
            assert mp is not None
            return MarketInfo(mp.id, mp.code, mp.name, mp.base_url, mp.driver)

        return await self._driver(await self.db.read(load))

    def _market_broken(self, market: MarketInfo, exc: Exception) -> None:
        """Purchases on this marketplace cannot start now; the others go on. Said once per
        distinct reason, tried again at the next recovery round."""
        message = f"{market.name}: purchases cannot start: {exc}"
        self._broken[market.id] = message
        log.error("%s", message)
        if message not in self._said:
            self._said.add(message)
            self.bus.publish(EngineNotice("error", message))

    def _sync_controls(self, statuses: dict[int, OrderStatus]) -> None:
        # Another workstation (or this one's UI through the database) may have paused
        # or cancelled an Order: obey the database.
        for order_id, status in statuses.items():
            ctl = self.ctx.control(order_id)
            ctl.paused = status is OrderStatus.PAUSED
            ctl.cancelled = status is OrderStatus.CANCELLED

    async def warm_up(self) -> None:
        """Starts the driver of every marketplace with queued work now (launching a
        browser takes a moment) instead of at the first purchase."""
        plans, _ = await self.db.read(_open_jobs)
        for _plan, market in plans:
            await self._driver(market)

    async def _driver(self, market: MarketInfo) -> PurchaseDriver:
        driver = self._drivers.get(market.id)
        if driver is None:
            driver = self._driver_factory(market)
            await driver.start()
            self._drivers[market.id] = driver
        return driver

    async def _start_manager(self, plan: JobPlan, market: MarketInfo) -> None:
        manager = TaskManager(self.ctx, plan, await self._driver(market))
        task = asyncio.create_task(manager.run(), name=f"job-{plan.job_id}")
        self.managers[plan.job_id] = task
        self.ctx.dirty.add(plan.order_id)
        task.add_done_callback(lambda t, p=plan: self._manager_done(t, p))

    def _manager_done(self, task: asyncio.Task[None], plan: JobPlan) -> None:
        self.managers.pop(plan.job_id, None)
        if self.ctx.until_idle:
            self._stuck.add(plan.job_id)
        if not task.cancelled() and task.exception() is not None:
            log.error("job %s: manager failed", plan.job_id, exc_info=task.exception())
            self.ctx.report_fault(task.exception())  # type: ignore[arg-type]
        self.ctx.dirty.add(plan.order_id)
        self.ctx.changed.fire()

    async def rollup(self) -> list[OrderProgress]:
        """Recomputes Job and Order status for the Orders that changed and publishes their
        progress."""
        dirty, self.ctx.dirty = self.ctx.dirty, set()
        if not dirty:
            return []
        progress = await self.db.write(lambda c: _rollup(c, dirty))
        for p in progress:
            self.bus.publish(p)
        return progress

    async def close_drivers(self) -> None:
        drivers, self._drivers = self._drivers, {}
        for driver in drivers.values():
            try:
                await driver.close()
            except Exception:
                log.exception("closing a driver failed")


async def order_progress(db: Database, order_id: int) -> OrderProgress:
    """The Order's current progress, read from the database."""

    def query(s: Session) -> OrderProgress:
        status = s.scalar(select(Order.status).where(Order.id == order_id))
        counts = dict(
            s.execute(
                select(Task.status, func.count())
                .where(Task.order_id == order_id)
                .group_by(Task.status)
            ).all()
        )
        return OrderProgress(
            order_id, str(status), sum(counts.values()), {str(k): v for k, v in counts.items()}
        )

    return await db.read(query)
