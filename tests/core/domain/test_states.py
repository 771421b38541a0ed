"""The Task state machine and the roll-up of Task states into Job and Order status."""

from __future__ import annotations

import itertools

import pytest

from app.core.domain.states import (
    TASK_TRANSITIONS,
    IllegalTransition,
    JobStatus,
    TaskStatus,
    check_transition,
    rollup,
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
        ({T.PURCHASED: 2, T.CANCELLED: 1}, JobStatus.CANCELLED),
        ({T.PURCHASED: 2, T.NEEDS_REVIEW: 1}, JobStatus.FAILED),
    ],
)
def test_rollup(counts: dict[TaskStatus, int], expected: JobStatus) -> None:
    assert rollup(counts) is expected
