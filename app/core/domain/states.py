"""Task, Job and Order states and the transitions the engine may make between them."""

from __future__ import annotations

import enum


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    WAITING_ACCOUNT = "waiting_account"
    ASSIGNED = "assigned"
    RUNNING = "running"
    SUBMITTING = "submitting"
    PURCHASED = "purchased"
    DELIVERED = "delivered"
    RETRY_WAIT = "retry_wait"
    FAILED = "failed"
    CANCELLED = "cancelled"
    NEEDS_REVIEW = "needs_review"


T = TaskStatus

# Every transition the engine may make. `submitting` leads only to an outcome
# (purchased, failed, needs_review): once the place-order action may have happened,
# nothing may put the unit back in the queue without reconciling with the marketplace.
TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    # A queued unit fails without an attempt only when a defect stopped its Job.
    T.PENDING: frozenset({T.ASSIGNED, T.WAITING_ACCOUNT, T.CANCELLED, T.FAILED}),
    T.WAITING_ACCOUNT: frozenset({T.ASSIGNED, T.CANCELLED, T.FAILED}),
    T.ASSIGNED: frozenset({T.RUNNING, T.PENDING, T.CANCELLED}),
    # running -> purchased: an operator records a purchase they made by hand (assisted).
    T.RUNNING: frozenset(
        {T.SUBMITTING, T.PURCHASED, T.RETRY_WAIT, T.FAILED, T.CANCELLED, T.PENDING, T.NEEDS_REVIEW}
    ),
    T.SUBMITTING: frozenset({T.PURCHASED, T.FAILED, T.NEEDS_REVIEW, T.RETRY_WAIT}),
    T.PURCHASED: frozenset({T.DELIVERED}),
    T.DELIVERED: frozenset(),
    T.RETRY_WAIT: frozenset({T.ASSIGNED, T.WAITING_ACCOUNT, T.CANCELLED, T.FAILED}),
    T.FAILED: frozenset({T.PENDING}),  # the operator's "retry failed"
    T.CANCELLED: frozenset(),
    T.NEEDS_REVIEW: frozenset({T.PURCHASED, T.PENDING, T.FAILED}),
}

# Tasks that wait for the engine to pick them up.
QUEUED = frozenset({T.PENDING, T.WAITING_ACCOUNT, T.RETRY_WAIT})
# Queued, and the operator is told why they are not running yet.
WAITING = frozenset({T.WAITING_ACCOUNT, T.RETRY_WAIT})
# Tasks a worker holds right now (with an account lease).
ACTIVE = frozenset({T.ASSIGNED, T.RUNNING, T.SUBMITTING})
# A unit that is bought, or may have been: the account counts as having bought it.
BOUGHT_OR_MAYBE = frozenset({T.SUBMITTING, T.PURCHASED, T.DELIVERED, T.NEEDS_REVIEW})
# Bought: the marketplace confirmed the order.
BOUGHT = frozenset({T.PURCHASED, T.DELIVERED})
# Units the operator should look at.
PROBLEMS = frozenset({T.FAILED, T.NEEDS_REVIEW})
# No more engine work for the purchase itself.
SETTLED = frozenset({T.PURCHASED, T.DELIVERED, T.FAILED, T.CANCELLED, T.NEEDS_REVIEW})


class IllegalTransition(Exception):
    """A bug: the engine tried a state change the state machine forbids."""


def check_transition(current: TaskStatus, new: TaskStatus) -> None:
    if new not in TASK_TRANSITIONS[current]:
        raise IllegalTransition(f"task cannot go from {current} to {new}")


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PURCHASED = "purchased"  # every unit bought, waiting for delivery
    DONE = "done"  # every unit at the pickup point
    FAILED = "failed"  # settled with at least one unit not bought
    CANCELLED = "cancelled"


class OrderStatus(enum.StrEnum):
    """An Order as the operator reads it. `Order.status` stores its progress (the roll-up
    of its Tasks: every value but PAUSED and PARTLY_BOUGHT); `Order.intent` what the
    operator wants."""

    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    PURCHASED = "purchased"
    DONE = "done"
    PARTLY_BOUGHT = "partly_bought"  # FAILED with some units bought: shown, never stored
    FAILED = "failed"
    CANCELLED = "cancelled"


class OrderIntent(enum.StrEnum):
    """What the operator wants of an Order, stored apart from its progress."""

    RUN = "run"
    PAUSED = "paused"  # no new purchase starts; running ones finish
    CANCELLED = "cancelled"  # queued units are cancelled; none starts again


# Progress that still has units to buy.
ORDER_OPEN = frozenset({OrderStatus.QUEUED, OrderStatus.RUNNING})
# Orders the operator may cancel, and whose failed units may be queued again.
CANCELLABLE = ORDER_OPEN | {OrderStatus.PAUSED, OrderStatus.PARTLY_BOUGHT, OrderStatus.FAILED}
RETRYABLE = frozenset(OrderStatus) - {OrderStatus.CANCELLED}


def shown_status(
    intent: OrderIntent | str, progress: OrderStatus | str, bought: int = 0
) -> OrderStatus:
    """The status the operator reads: a cancelled Order says so; a paused one says so
    while it has units to buy; one that ended with `bought` units bought and others not
    is partly bought (the stored progress, failed, drives what the engine does);
    otherwise its progress."""
    if intent == OrderIntent.CANCELLED:
        return OrderStatus.CANCELLED
    if intent == OrderIntent.PAUSED and progress in ORDER_OPEN:
        return OrderStatus.PAUSED
    if progress == OrderStatus.FAILED and bought:
        return OrderStatus.PARTLY_BOUGHT
    return OrderStatus(progress)


class UnitRule(enum.StrEnum):
    """How many units of one Order an account may buy (the seed's rule is PER_JOB)."""

    PER_JOB = "per_job"  # at most one unit of each Job
    PER_ORDER = "per_order"  # at most one unit of the whole Order
    OFF = "off"

    def scope(self, order_id: int, job_id: int) -> str | None:
        """Task.unit_scope of a unit of this Job: what the database's constraint keys the
        rule on (None: the rule is off)."""
        if self is UnitRule.PER_JOB:
            return f"j{job_id}"
        if self is UnitRule.PER_ORDER:
            return f"o{order_id}"
        return None


def rollup(counts: dict[TaskStatus, int]) -> JobStatus:
    """The status of a Job (or the purchase side of an Order) from its Tasks' counts."""
    total = sum(counts.values())
    if total == 0:
        return JobStatus.QUEUED
    settled = sum(n for s, n in counts.items() if s in SETTLED)
    if settled < total:
        started = total - counts.get(T.PENDING, 0)
        return JobStatus.RUNNING if started else JobStatus.QUEUED
    # Cancelled units are no longer wanted (the operator cancelled the Order, or lowered
    # a line's quantity): the Job is judged by the units it still wants.
    wanted = total - counts.get(T.CANCELLED, 0)
    if wanted == 0:
        return JobStatus.CANCELLED
    if counts.get(T.DELIVERED, 0) == wanted:
        return JobStatus.DONE
    if sum(counts.get(s, 0) for s in BOUGHT) == wanted:
        return JobStatus.PURCHASED
    return JobStatus.FAILED
