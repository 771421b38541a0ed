"""TaskManager: created by the Supervisor for one Job; creates its Tasks, finds free
accounts for them, runs them and watches them."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from sqlalchemy import Connection

from app.core.accounts import pool as accounts
from app.core.domain.clock import utcnow
from app.core.domain.states import TaskStatus
from app.core.drivers.base import AccountRef, PurchaseDriver
from app.core.engine.context import EngineContext, Signal
from app.core.engine.plans import JobPlan, price_cap
from app.core.storage.journal import Claim, LostTask
from app.core.task import Outcome, TaskRunner, Unit

log = logging.getLogger(__name__)
T = TaskStatus


class TaskManager:
    """Runs one Job's queued Tasks until none is left (or the operator pauses or cancels).
    The Tasks are claimed from the database as slots free up (accounts.pool.claim_units),
    so several workers may run the same Job side by side.

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
        p = plan
        self._req = accounts.LeaseRequest(p.order_id, p.job_id, p.marketplace_id, p.unit_rule, [])

    async def run(self) -> None:
        ctx, order_id = self.ctx, self.plan.order_id
        while True:
            token = ctx.changed.current()
            if not ctx.may_dispatch(order_id):
                if not self.running:
                    break
                await Signal.wait(token, ctx.settings.poll_s)
                continue
            if not ctx.slots.free:
                await Signal.wait(token, ctx.settings.poll_s)
                continue
            result = await self._dispatch()
            if result.more is False and not result.claimed and not self.running:
                break  # nothing of this Job is queued any more
            if (
                result.starved
                and ctx.until_idle
                and ctx.slots.busy == 0
                and not await self._may_free_up()
            ):
                log.info("job %s: no account can become free; leaving", self.plan.job_id)
                await self._wait_for_accounts()
                break
            if result.claimed and ctx.slots.free:
                continue  # a free slot is left: look again at once
            await Signal.wait(token, self._sleep_time(result))

    async def _wait_for_accounts(self) -> None:
        p, now = self.plan, utcnow()
        waiting = await self.ctx.db.write(lambda c: accounts.wait_for_accounts(c, p.job_id, now))
        self._announce_waiting(waiting)

    def _announce_waiting(self, waiting: list[tuple[int, int]]) -> None:
        p = self.plan
        for task_id, attempts in waiting:
            self.ctx.bus.task_changed(
                task_id, p.order_id, p.job_id, T.WAITING_ACCOUNT, attempts=attempts
            )

    async def _may_free_up(self) -> bool:
        req, owner = self._req, self.ctx.worker_id
        return await self.ctx.db.read(lambda s: accounts.pool_may_free_up(s, req, owner, utcnow()))

    def _sleep_time(self, result: accounts.ClaimResult) -> float:
        poll = self.ctx.settings.poll_s
        if result.contended:
            return min(poll, 0.05)
        if result.next_due is None or result.starved:
            return poll
        wait = (result.next_due - utcnow()).total_seconds()
        return min(poll, max(wait, 0.0))

    async def _dispatch(self) -> accounts.ClaimResult:
        """Claims as many due Tasks as there are free slots (each with an account) and
        starts them."""
        ctx, p, req = self.ctx, self.plan, self._req
        taken = ctx.slots.take(ctx.slots.free)
        now = utcnow()

        def claim(
            conn: Connection,
        ) -> tuple[accounts.ClaimResult, int | None]:
            result = accounts.claim_units(conn, req, owner=ctx.worker_id, now=now, limit=taken)
            return result, price_cap(conn, p.job_id) if result.claimed else None

        try:
            result, cap = await ctx.db.write(claim)
        except BaseException:
            ctx.slots.give(taken)
            raise
        ctx.slots.give(taken - len(result.claimed))  # each runner gives its own back
        for c in result.claimed:
            self._start(c, result.accounts[c.account_id], cap)
        self._announce_waiting(result.waiting)
        return result

    def _start(self, c: accounts.Claimed, account: AccountRef, cap: int | None) -> None:
        p = self.plan
        unit = Unit(
            c.task_id,
            p.order_id,
            p.job_id,
            p.marketplace_id,
            c.attempts,
            account,
            p.article,
            p.pickup_point,
            cap,
            Claim(self.ctx.worker_id, c.claim),
        )
        runner = asyncio.create_task(
            TaskRunner(unit, self.driver, self.ctx, started=c.started).run()
        )
        self.ctx.dirty.add(p.order_id)  # the Order is now running
        self.running.add(runner)
        runner.add_done_callback(partial(self._done, task_id=c.task_id))

    def _done(self, runner: asyncio.Task[Outcome], task_id: int) -> None:
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
            # or a defect. The Task stays as last recorded; recovery settles it with the
            # marketplace when this worker stops or is taken for dead.
            if isinstance(exc, LostTask):
                log.info("task %s was moved by someone else: %s", task_id, exc)
            else:
                ctx.report_error(f"Task {task_id}", exc)
