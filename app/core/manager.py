"""TaskManager: created by the Supervisor for one Job; creates its Tasks, finds free
accounts for them, runs them and watches them."""

from __future__ import annotations

import asyncio
import heapq
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app.core.accounts import pool as accounts
from app.core.domain.clock import utcnow
from app.core.domain.models import JobBatch, Task
from app.core.domain.states import QUEUED, TaskStatus
from app.core.drivers.base import AccountRef, PurchaseDriver
from app.core.engine.context import EngineContext, Signal
from app.core.engine.plans import JobPlan, price_cap
from app.core.storage.journal import LostTask, transition
from app.core.task import Outcome, TaskRunner, Unit

log = logging.getLogger(__name__)
T = TaskStatus


@dataclass(order=True)
class _Queued:
    due: datetime
    task_id: int
    status: TaskStatus
    attempts: int


class TaskManager:
    """Runs one Job's queued Tasks until none is left (or the operator pauses or cancels).

    Attributes:
        plan: the Job.
        driver: the purchase driver of the Job's marketplace.
        running: asyncio tasks of the runners alive now.
    """

    def __init__(self, ctx: EngineContext, plan: JobPlan, driver: PurchaseDriver):
        self.ctx = ctx
        self.plan = plan
        self.driver = driver
        self.running: set[asyncio.Task[Outcome]] = set()
        self._queue: list[_Queued] = []

    async def run(self) -> None:
        await self._load()
        ctx, order_id = self.ctx, self.plan.order_id
        while self._queue or self.running:
            token = ctx.changed.current()
            if not ctx.may_dispatch(order_id):
                if not self.running:
                    break
                await Signal.wait(token, ctx.settings.poll_s)
                continue
            starved = await self._dispatch()
            if starved and ctx.until_idle and ctx.slots.busy == 0 and not await self._may_free_up():
                log.info("job %s: no account can become free; leaving", self.plan.job_id)
                left, self._queue = self._queue, []
                await self._mark_waiting(left, utcnow())  # all of them wait for an account
                break
            await Signal.wait(token, self._sleep_time(starved))

    async def _may_free_up(self) -> bool:
        p, owner = self.plan, self.ctx.worker_id
        req = accounts.LeaseRequest(p.order_id, p.job_id, p.marketplace_id, p.unit_rule, [])
        return await self.ctx.db.read(lambda s: accounts.pool_may_free_up(s, req, owner, utcnow()))

    async def _load(self) -> None:
        job_id = self.plan.job_id

        def query(s: Session) -> list[_Queued]:
            rows = s.execute(
                select(
                    Task.id, Task.status, Task.attempts, Task.next_attempt_at, JobBatch.not_before
                )
                .join(JobBatch, JobBatch.id == Task.batch_id)
                .where(Task.job_id == job_id, Task.status.in_(QUEUED))
                .order_by(Task.unit_no)
            )
            epoch = utcnow()
            return [
                _Queued(max(d for d in (nxt, nb, epoch) if d is not None), tid, T(st), att)
                for tid, st, att, nxt, nb in rows
            ]

        self._queue = await self.ctx.db.read(query)
        heapq.heapify(self._queue)

    def _sleep_time(self, starved: bool) -> float:
        poll = self.ctx.settings.poll_s
        if starved or not self._queue:
            return poll
        wait = (self._queue[0].due - utcnow()).total_seconds()
        return min(poll, max(wait, 0.0)) if self.ctx.slots.free else poll

    async def _dispatch(self) -> bool:
        """Starts as many due Tasks as there are free slots and accounts; returns True
        when due Tasks are left waiting for an account."""
        now = utcnow()
        due: list[_Queued] = []
        while self._queue and self._queue[0].due <= now and len(due) < self.ctx.slots.free:
            due.append(heapq.heappop(self._queue))
        if not due:
            return False
        taken = self.ctx.slots.take(len(due))
        p = self.plan
        req = accounts.LeaseRequest(
            p.order_id,
            p.job_id,
            p.marketplace_id,
            p.unit_rule,
            [(q.task_id, q.status, q.attempts) for q in due],
        )
        ctx = self.ctx

        def lease(
            conn: Connection,
        ) -> tuple[list[tuple[int, int]], bool, set[int], dict[int, AccountRef], int | None]:
            pairs, ran_out, moved = accounts.lease_accounts(
                conn, req, owner=ctx.worker_id, now=now, lease_seconds=ctx.settings.lease_seconds
            )
            refs = accounts.account_refs(conn, [a for _, a in pairs])
            return pairs, ran_out, moved, refs, price_cap(conn, p.job_id)

        pairs, ran_out, moved, refs, cap = await ctx.db.write(lease)
        ctx.slots.give(taken - len(pairs))
        leased = dict(pairs)
        for q in due:
            if q.task_id in leased:
                self._start(q, refs[leased[q.task_id]], cap)
        left = [q for q in due if q.task_id not in leased]
        if left:
            await self._mark_waiting(left, now, moved=moved)
        return ran_out

    async def _mark_waiting(
        self, items: list[_Queued], now: datetime, *, moved: frozenset[int] | set[int] = frozenset()
    ) -> None:
        """Records that these Tasks wait for an account and keeps them queued. Another
        worker may have moved one meanwhile (`moved`, or found so here): its current state
        is read back, and it stays queued only if it still waits."""
        to_mark = [q for q in items if q.status is not T.WAITING_ACCOUNT or q.task_id in moved]

        def op(conn: Connection) -> dict[int, tuple[TaskStatus, int] | None]:
            current: dict[int, tuple[TaskStatus, int] | None] = {}
            for q in to_mark:
                status, attempts = q.status, q.attempts
                if status is not T.WAITING_ACCOUNT or q.task_id in moved:
                    try:
                        if q.task_id in moved:
                            raise LostTask(f"task {q.task_id} moved")
                        transition(
                            conn,
                            q.task_id,
                            status,
                            T.WAITING_ACCOUNT,
                            now=now,
                            attempt=attempts,
                            account_id=None,
                            detail="no free account",
                        )
                    except LostTask:
                        row = conn.execute(
                            select(Task.status, Task.attempts).where(Task.id == q.task_id)
                        ).first()
                        if row is None or T(row[0]) not in QUEUED:
                            current[q.task_id] = None  # settled or taken elsewhere
                            continue
                        status, attempts = T(row[0]), row[1]
                        if status is not T.WAITING_ACCOUNT:
                            current[q.task_id] = (status, attempts)
                            continue
                current[q.task_id] = (T.WAITING_ACCOUNT, attempts)
            return current

        current = await self.ctx.db.write(op) if to_mark else {}
        for q in items:
            if q.task_id in current:
                state = current[q.task_id]
                if state is None:
                    continue
                q.status, q.attempts = state
                if q.status is T.WAITING_ACCOUNT:
                    p = self.plan
                    self.ctx.bus.task_changed(
                        q.task_id, p.order_id, p.job_id, q.status, attempts=q.attempts
                    )
            heapq.heappush(self._queue, q)

    def _start(self, q: _Queued, account: AccountRef, cap: int | None) -> None:
        p = self.plan
        unit = Unit(
            q.task_id,
            p.order_id,
            p.job_id,
            p.marketplace_id,
            q.attempts,
            account,
            p.article,
            p.pickup_point,
            cap,
        )
        runner = asyncio.create_task(TaskRunner(unit, self.driver, self.ctx).run())
        self.ctx.dirty.add(p.order_id)  # the Order is now running
        self.running.add(runner)
        runner.add_done_callback(partial(self._done, q=q))

    def _done(self, runner: asyncio.Task[Outcome], q: _Queued) -> None:
        ctx = self.ctx
        self.running.discard(runner)
        ctx.slots.give()
        ctx.dirty.add(self.plan.order_id)
        ctx.changed.fire()
        if runner.cancelled():
            return
        exc = runner.exception()
        if exc is not None:
            # The runner records every outcome itself; reaching here means a write failed
            # or a defect. The Task stays as last recorded and is not retried in this run;
            # recovery settles it with the marketplace at the next start.
            if isinstance(exc, LostTask):
                log.info("task %s was moved by someone else: %s", q.task_id, exc)
            else:
                ctx.report_error(f"Task {q.task_id}", exc)
            return
        outcome = runner.result()
        if outcome.status in (T.RETRY_WAIT, T.PENDING):
            q.status = outcome.status
            q.attempts += 1
            q.due = outcome.due or utcnow()
            heapq.heappush(self._queue, q)
