"""The Task state machine and the roll-up of Task states into Job and Order status."""

from __future__ import annotations

import itertools

import pytest

from app.core.domain.states import (
    TASK_TRANSITIONS,
    IllegalTransition,
    JobStatus,
    OrderIntent,
    OrderStatus,
    TaskStatus,
    check_transition,
    rollup,
    shown_status,
)

T = TaskStatus


def test_happy_path_is_allowed() -> None:
    path = [T.PENDING, T.ASSIGNED, T.RUNNING, T.SUBMITTING, T.PURCHASED, T.DELIVERED]
    for a, b in itertools.pairwise(path):
        check_transition(a, b)


@pytest.mark.parametrize(
    ("frm", "to"),
    [
        # Once submitting, the unit may have been bought: never back to the queue or cancelled.
        (T.SUBMITTING, T.PENDING),
        (T.SUBMITTING, T.CANCELLED),
        (T.SUBMITTING, T.ASSIGNED),
        (T.PURCHASED, T.PENDING),
        (T.PURCHASED, T.FAILED),
        (T.PENDING, T.SUBMITTING),
        (T.PENDING, T.PURCHASED),
        (T.CANCELLED, T.PENDING),
        (T.DELIVERED, T.PURCHASED),
    ],
)
def test_forbidden_transitions_raise(frm: TaskStatus, to: TaskStatus) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(frm, to)


def test_every_state_has_an_entry() -> None:
    assert set(TASK_TRANSITIONS) == set(TaskStatus)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({T.PENDING: 3}, JobStatus.QUEUED),
        ({T.PENDING: 2, T.RUNNING: 1}, JobStatus.RUNNING),
        ({T.PURCHASED: 2, T.WAITING_ACCOUNT: 1}, JobStatus.RUNNING),
        ({T.PURCHASED: 3}, JobStatus.PURCHASED),
        ({T.PURCHASED: 1, T.DELIVERED: 2}, JobStatus.PURCHASED),
        ({T.DELIVERED: 3}, JobStatus.DONE),
        ({T.PURCHASED: 2, T.FAILED: 1}, JobStatus.FAILED),
        # Cancelled units are no longer wanted: the rest decide.
        ({T.PURCHASED: 2, T.CANCELLED: 1}, JobStatus.PURCHASED),
        ({T.DELIVERED: 2, T.CANCELLED: 1}, JobStatus.DONE),
        ({T.FAILED: 1, T.CANCELLED: 2}, JobStatus.FAILED),
        ({T.CANCELLED: 3}, JobStatus.CANCELLED),
        ({T.PURCHASED: 2, T.NEEDS_REVIEW: 1}, JobStatus.FAILED),
    ],
)
def test_rollup(counts: dict[TaskStatus, int], expected: JobStatus) -> None:
    assert rollup(counts) is expected


@pytest.mark.parametrize(
    ("intent", "progress", "bought", "expected"),
    [
        # Settled with 6 of 7 bought: partly bought, not a failed Order.
        (OrderIntent.RUN, OrderStatus.FAILED, 6, OrderStatus.PARTLY_BOUGHT),
        (OrderIntent.PAUSED, OrderStatus.FAILED, 6, OrderStatus.PARTLY_BOUGHT),
        # Nothing bought: failed it is.
        (OrderIntent.RUN, OrderStatus.FAILED, 0, OrderStatus.FAILED),
        # Still buying, or all bought: its progress; the operator's intent outranks both.
        (OrderIntent.RUN, OrderStatus.RUNNING, 6, OrderStatus.RUNNING),
        (OrderIntent.RUN, OrderStatus.PURCHASED, 7, OrderStatus.PURCHASED),
        (OrderIntent.PAUSED, OrderStatus.RUNNING, 6, OrderStatus.PAUSED),
        (OrderIntent.CANCELLED, OrderStatus.FAILED, 6, OrderStatus.CANCELLED),
    ],
)
def test_shown_status(
    intent: OrderIntent, progress: OrderStatus, bought: int, expected: OrderStatus
) -> None:
    assert shown_status(intent, progress, bought) is expected
