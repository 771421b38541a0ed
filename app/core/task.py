"""The Task runner: buys one unit with one account through a driver and records every
step, so that a purchase is never made twice and never lost."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from app.core.accounts import pool as accounts
from app.core.domain.clock import utcnow
from app.core.domain.codes import NOTHING_PLACED, OUR_SIDE, ErrorCode, account_status_after
from app.core.domain.models import Task
from app.core.domain.states import TaskStatus
from app.core.drivers.base import (
    AccountRef,
    BusinessError,
    DriverError,
    PurchaseDriver,
    PurchaseRequest,
    Receipt,
    TransientError,
)
from app.core.engine.context import EngineContext
from app.core.engine.purchases import look_for_purchase, record_purchase
from app.core.storage.journal import Claim, LostTask, transition
from app.core.storage.workers import this_host

log = logging.getLogger(__name__)
T = TaskStatus

# A retried transient failure says how many there were (Task.temporary_failures, which the
# retry policy bounds); `attempts` also counts re-runs that are no such failure: another
# account after an account error, a restart after a crash, "not bought: queue again".
_TEMPORARY = "temporary error {n} of {limit}: "


@dataclass
class Unit:
    """Everything the runner needs about its Task, loaded by the TaskManager."""

    task_id: int
    order_id: int
    job_id: int
    marketplace_id: int
    attempts: int  # attempts made before this one, whatever ended them
    account: AccountRef
    article: str
    pickup_point: str
    max_price_minor: int | None
    claim: Claim  # this worker's claim on the Task: every write is fenced by it


@dataclass
class Outcome:
    status: TaskStatus
    due: datetime | None = None  # when a retry_wait Task may run again
    receipt: Receipt | None = None
    error: str | None = None


class _Cancelled(Exception):
    pass


NOT_FRESH = (
    "not placed: this worker had not reached the database for a while (its heartbeat was "
    "late), so another worker might have taken the unit over; queued again"
)


class _NotFresh(Exception):
    """This worker's heartbeat is late (the database slow or out of reach): it may be
    taken for dead any moment, so it must not place the order."""


@dataclass
class TaskRunner:
    """Runs one attempt of one Task: running → submitting → purchased, or an error path.

    Attributes:
        unit: the Task and its account.
        driver: the marketplace's purchase driver.
        ctx: the Supervisor's shared context (database, events, settings).
    """

    unit: Unit
    driver: PurchaseDriver
    ctx: EngineContext
    submitted: bool = False
    started: datetime = field(default_factory=utcnow)

    @property
    def attempt(self) -> int:
        """This attempt's number among all of the Task's (Task.attempts)."""
        return self.unit.attempts + 1

    async def run(self) -> Outcome:
        u = self.unit
        self._publish(T.RUNNING)  # the claim wrote it (accounts.pool.claim_units)
        request = PurchaseRequest(
            u.task_id, u.account, u.article, u.pickup_point, u.max_price_minor
        )
        try:
            receipt = await self.driver.purchase(request, self._before_submit)
        except _Cancelled:
            return await self._finish(T.CANCELLED, "cancelled by the operator before submitting")
        except _NotFresh:
            return await self._finish(
                T.RETRY_WAIT,
                NOT_FRESH,
                code=ErrorCode.TIMEOUT,
                due=utcnow(),
            )
        except BusinessError as exc:
            return await self._business_error(exc)
        except TransientError as exc:
            return await self._transient_error(exc)
        except LostTask:  # another worker took the Task over: nothing more is ours to write
            raise
        except Exception as exc:  # a bug in a driver or in the engine: fail loudly, safely
            log.exception("task %s: unexpected error", u.task_id)
            reason = f"internal error: {type(exc).__name__}: {exc}"
            if self.submitted:
                return await self._finish(T.NEEDS_REVIEW, reason, code=ErrorCode.INTERNAL)
            return await self._finish(T.FAILED, reason, code=ErrorCode.INTERNAL)
        return await self._purchased(receipt, "")

    async def _before_submit(self) -> None:
        if self.ctx.cancel_requested(self.unit.order_id):
            raise _Cancelled
        # Committed before the money-spending click: a crash after this point is
        # reconciled with the marketplace, never retried blindly. Fenced by the claim and
        # by a fresh heartbeat: a worker about to be taken for dead does not click.
        try:
            await self._record(T.RUNNING, T.SUBMITTING, fresh=True)
        except LostTask:
            if await self._still_mine():
                raise _NotFresh from None
            raise
        self.submitted = True

    async def _still_mine(self) -> bool:
        """Whether the Task is still running under this worker's claim."""
        u = self.unit
        row = await self.ctx.db.read(
            lambda s: s.execute(
                select(Task.status, Task.claim, Task.worker).where(Task.id == u.task_id)
            ).first()
        )
        return row is not None and tuple(row) == (T.RUNNING, u.claim.number, u.claim.worker)

    @property
    def _current(self) -> TaskStatus:
        return T.SUBMITTING if self.submitted else T.RUNNING

    async def _business_error(self, exc: BusinessError) -> Outcome:
        # An answer about the account: it leaves the pool and another account buys the unit.
        new_status = account_status_after(exc.code)
        if new_status:
            account_id = self.unit.account.id
            await self.ctx.db.write(
                lambda c: accounts.set_status(c, account_id, new_status, exc.reason)
            )
        if self.submitted and exc.code not in NOTHING_PLACED:
            # The error came after the place-order click (e.g. the account was blocked on
            # the confirmation page): the order may exist. Never fail it blindly.
            return await self._reconcile(exc)
        if new_status:
            return await self._finish(T.PENDING, exc.reason, code=exc.code, shot=exc.screenshot)
        return await self._finish(T.FAILED, exc.reason, code=exc.code, shot=exc.screenshot)

    async def _transient_error(self, exc: TransientError) -> Outcome:
        if self.submitted:
            return await self._reconcile(exc)
        return await self._retry_or_fail(exc)

    async def _retry_or_fail(self, exc: TransientError) -> Outcome:
        """The retry policy bounds the Task's transient failures, not all its attempts."""
        policy = self.ctx.settings.retry
        task_id = self.unit.task_id
        failures = 1 + await self.ctx.db.read(
            lambda s: s.scalar(select(Task.temporary_failures).where(Task.id == task_id)) or 0
        )
        if policy.gives_up(failures):
            if failures == self.attempt:
                reason = f"gave up after {failures} attempts: {exc.reason}"
            else:
                reason = (
                    f"gave up after {failures} attempts with temporary errors ({self.attempt} "
                    f"attempts in all, counting re-runs after an account change or a restart): "
                    f"{exc.reason}"
                )
            return await self._finish(
                T.FAILED,
                reason,
                code=exc.code,
                shot=exc.screenshot,
                account_failed=exc.code not in OUR_SIDE,
                temporary_failures=failures,
            )
        due = utcnow() + timedelta(seconds=policy.delay(failures, self.ctx.rng))
        return await self._finish(
            T.RETRY_WAIT,
            _TEMPORARY.format(n=failures, limit=policy.max_attempts) + exc.reason,
            code=exc.code,
            shot=exc.screenshot,
            due=due,
            account_failed=exc.code not in OUR_SIDE,
            temporary_failures=failures,
        )

    async def _reconcile(self, exc: DriverError) -> Outcome:
        """The place-order action may or may not have happened: ask the marketplace."""
        u = self.unit
        try:
            found = await look_for_purchase(
                self.ctx.db, self.driver, u.account, u.article, self.started
            )
        except Exception as check_exc:
            reason = (
                f"{exc.reason}; the order may have been placed and the check failed "
                f"({check_exc}): look at the account's order history"
            )
            return await self._finish(
                T.NEEDS_REVIEW, reason, code=ErrorCode.UNCERTAIN, account_failed=True
            )
        if found is not None:
            return await self._purchased(found, f"found in the order history after: {exc.reason}")
        # Confirmed absent: no order was placed, so a retry cannot buy twice.
        if isinstance(exc, TransientError):
            return await self._retry_or_fail(exc)
        if account_status_after(exc.code):  # another account will buy it
            return await self._finish(T.RETRY_WAIT, exc.reason, code=exc.code, due=utcnow())
        return await self._finish(T.FAILED, exc.reason, code=exc.code, shot=exc.screenshot)

    async def _purchased(self, receipt: Receipt, detail: str) -> Outcome:
        now, frm, attempt, owner = utcnow(), self._current, self.attempt, self.ctx.worker_id
        try:
            await self._record_purchase(receipt, detail, now, frm, attempt, owner)
        except IntegrityError:
            # The marketplace's number is recorded for another unit already (the same order
            # found twice): never guess which unit it bought.
            return await self._finish(
                T.NEEDS_REVIEW,
                f"order {receipt.order_number} is already recorded for another unit; look at "
                "the account's order history and record this unit or queue it again",
                code=ErrorCode.UNCERTAIN,
            )
        self._publish(T.PURCHASED, order_number=receipt.order_number)
        return Outcome(T.PURCHASED, receipt=receipt)

    async def _record_purchase(
        self,
        receipt: Receipt,
        detail: str,
        now: datetime,
        frm: TaskStatus,
        attempt: int,
        owner: str,
    ) -> None:
        u = self.unit
        await self.ctx.db.write(
            lambda c: record_purchase(
                c,
                u.task_id,
                frm,
                receipt,
                now=now,
                attempt=attempt,
                account_id=u.account.id,
                marketplace_id=u.marketplace_id,
                owner=owner,
                detail=detail,
                claim=u.claim,
            )
        )

    async def _finish(
        self,
        to: TaskStatus,
        reason: str,
        *,
        code: ErrorCode | None = None,
        shot: str | None = None,
        due: datetime | None = None,
        account_failed: bool = False,
        temporary_failures: int | None = None,
    ) -> Outcome:
        """Records the attempt's end. `account_failed`: the failure may be the account's
        or the marketplace's for this account (not the item's), so the account rests.
        `temporary_failures`: the Task's count of transient failures, this one included."""
        u = self.unit
        frm = self._current
        values: dict[str, object] = {
            "last_error": reason,
            "error_code": code,
            "next_attempt_at": due,
        }
        if shot:
            values["screenshot"] = shot
            values["screenshot_host"] = this_host()  # a local file: says which computer's
        if temporary_failures is not None:
            values["temporary_failures"] = temporary_failures
        now = utcnow()

        def op(conn: Connection) -> None:
            transition(
                conn,
                u.task_id,
                frm,
                to,
                now=now,
                attempt=self.attempt,
                account_id=u.account.id,
                detail=reason,
                values=values,
                deferred=True,
                claim=u.claim,
            )
            if account_failed:
                accounts.release_after_failure(
                    conn,
                    u.account.id,
                    self.ctx.worker_id,
                    reason,
                    now=now,
                    rules=self.ctx.settings.pool,
                )
            else:
                accounts.release(conn, u.account.id, self.ctx.worker_id, error=reason)

        await self.ctx.db.write(op)
        self._publish(to, error=reason)
        return Outcome(to, due=due, error=reason)

    async def _record(
        self, frm: TaskStatus, to: TaskStatus, *, fresh: bool = False, **values: int | datetime
    ) -> None:
        u = self.unit
        now = utcnow()
        await self.ctx.db.write(
            lambda c: transition(
                c,
                u.task_id,
                frm,
                to,
                now=now,
                attempt=self.attempt,
                account_id=u.account.id,
                values=values,
                deferred=True,
                claim=u.claim,
                fresh=fresh,
            )
        )
        self._publish(to)

    def _publish(self, status: TaskStatus, **extra: str | None) -> None:
        u = self.unit
        self.ctx.bus.task_changed(
            u.task_id,
            u.order_id,
            u.job_id,
            status,
            account_id=u.account.id,
            attempts=self.attempt,
            **extra,
        )
