"""PostgreSQL's change notices: what a notice says, and a listener that hears another
connection's commits, comes back after its connection is killed and stops at once."""

from __future__ import annotations

import logging
import queue
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from helpers import seed_market
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import select, text, update

from app.core.domain.clock import utcnow
from app.core.domain.models import Task
from app.core.domain.states import TaskStatus
from app.core.orders.create import create_order
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.storage.journal import transition
from app.core.storage.notices import (
    WAKE,
    WAKE_CHANNEL,
    Change,
    ChangeKind,
    ChangeListener,
    conninfo,
    listener_for,
    parse_change,
)

T = ChangeKind


# -- what a notice says ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "change"),
    [
        (
            '{"kind": "task", "orders": [3], "tasks": [7, 8], "freed": true}',
            Change(T.TASK, frozenset({3}), frozenset({7, 8}), freed=True),
        ),
        (
            '{"kind": "task", "orders": [3, 4], "tasks": null, "freed": false}',
            Change(T.TASK, frozenset({3, 4}), None),
        ),
        # A statement that changed no row: bool_or() of nothing is null.
        ('{"kind": "task", "orders": [], "tasks": [], "freed": null}', Change(T.TASK)),
        ('{"kind": "order", "orders": [5]}', Change(T.ORDER, frozenset({5}))),
        ('{"kind": "account"}', Change(T.ACCOUNT)),
    ],
)
def test_a_notice_says_what_changed(payload: str, change: Change) -> None:
    assert parse_change(payload) == change


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "task 7",
        "[1, 2]",
        '{"orders": [1]}',
        '{"kind": "worker"}',
        '{"kind": "task", "orders": [1], "tasks": ["7"], "freed": true}',
        '{"kind": "task", "orders": [true], "tasks": [], "freed": true}',
        '{"kind": "order", "orders": 5}',
        '{"kind": "task", "orders": [1], "tasks": [1], "freed": "yes"}',
    ],
)
def test_a_malformed_notice_is_refused(payload: str) -> None:
    with pytest.raises(ValueError):
        parse_change(payload)


def test_the_connection_string_takes_the_urls_parts_and_options() -> None:
    info = conninfo(
        "postgresql+psycopg://buyer:p%40ss@db.example:6543/team?sslmode=require&keepalives_idle=5",
        "console 42",
    )
    parts = conninfo_to_dict(info)
    assert parts["host"] == "db.example"
    assert parts["port"] == "6543"
    assert parts["dbname"] == "team"
    assert parts["user"] == "buyer"
    assert parts["password"] == "p@ss"
    assert parts["sslmode"] == "require"
    assert parts["keepalives_idle"] == "5"  # the URL's own, over the default
    assert parts["keepalives"] == "1"
    assert parts["application_name"] == "console 42"


def test_sqlite_has_no_notices(tmp_path) -> None:
    assert listener_for(f"sqlite:///{tmp_path / 'x.sqlite3'}", lambda _c: None) is None


def test_an_unreachable_server_is_logged_without_its_password(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="app.core.storage.notices")
    listener = ChangeListener(
        "postgresql+psycopg://buyer:s3cret-pw@127.0.0.1:1/team", lambda _c: None
    ).start()
    try:
        wait_until(lambda: "cannot connect" in caplog.text, what="the failure logged")
    finally:
        started = time.monotonic()
        listener.stop()
        assert time.monotonic() - started < 1  # stopped while waiting to try again
    assert "buyer:***@127.0.0.1:1/team" in caplog.text
    assert "s3cret-pw" not in caplog.text


# -- listening to a real server --------------------------------------------------------


@dataclass
class Seeded:
    db: Database
    order_id: int
    task_ids: list[int]


@pytest.fixture
def seeded(pg_db_url: str) -> Iterator[Seeded]:
    db = Database(pg_db_url)
    seed_market(db, accounts=3)
    spec = OrderSpec("Client", "mem", [LineSpec("A1", 3, "P1")], hold=True)
    with db.engine.begin() as conn:
        order_id = create_order(conn, spec, max_units_per_line=100)
    with db.reading() as s:
        ids = list(s.scalars(select(Task.id).where(Task.order_id == order_id).order_by(Task.id)))
    yield Seeded(db, order_id, ids)
    db.close()


Heard = queue.SimpleQueue[Change | None]


@pytest.fixture
def heard() -> Heard:
    return queue.SimpleQueue()


@pytest.fixture
def listener(pg_db_url: str, heard: Heard) -> Iterator[ChangeListener]:
    name = f"test-notices-{uuid.uuid4().hex[:8]}"
    found = listener_for(pg_db_url, heard.put, application_name=name)
    assert found is not None
    assert found.wait_listening(10)
    yield found
    found.stop()


def cancel(db: Database, task_id: int) -> None:
    """Another connection's commit: the Task is cancelled."""
    with db.engine.begin() as conn:
        transition(
            conn,
            task_id,
            TaskStatus.PENDING,
            TaskStatus.CANCELLED,
            now=utcnow(),
            attempt=0,
            account_id=None,
        )


def next_heard(heard: Heard, timeout: float = 5.0) -> Change | None:
    try:
        return heard.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"nothing heard within {timeout} s") from None


def wait_until(condition: Callable[[], object], timeout: float = 10.0, *, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.01)


def test_a_task_changed_by_another_connection_is_heard_at_once(
    seeded: Seeded, listener: ChangeListener, heard: Heard
) -> None:
    task_id = seeded.task_ids[0]
    started = time.monotonic()
    cancel(seeded.db, task_id)
    change = next_heard(heard, timeout=1.0)
    assert time.monotonic() - started < 1.0
    assert change == Change(T.TASK, frozenset({seeded.order_id}), frozenset({task_id}), True)


def test_a_statement_that_changed_nothing_says_nothing(
    seeded: Seeded, listener: ChangeListener, heard: Heard
) -> None:
    with seeded.db.engine.begin() as conn:
        conn.execute(update(Task).where(Task.id == -1).values(attempts=1))
    cancel(seeded.db, seeded.task_ids[1])
    assert next_heard(heard) == Change(
        T.TASK, frozenset({seeded.order_id}), frozenset({seeded.task_ids[1]}), True
    )


def test_a_malformed_notice_is_logged_and_the_next_one_heard(
    seeded: Seeded, listener: ChangeListener, heard: Heard, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="app.core.storage.notices")
    with seeded.db.engine.begin() as conn:
        conn.execute(text("SELECT pg_notify('buyback', 'not a change')"))
    cancel(seeded.db, seeded.task_ids[0])
    change = next_heard(heard)
    assert change is not None and change.tasks == {seeded.task_ids[0]}
    assert "ignored a malformed notice" in caplog.text
    assert "not a change" in caplog.text


def test_a_killed_connection_is_made_again_and_says_to_read_everything(
    seeded: Seeded, listener: ChangeListener, heard: Heard
) -> None:
    def backend() -> int | None:
        with seeded.db.reading() as s:
            return s.scalar(
                text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                {"name": listener.application_name},
            )

    first = backend()
    assert first is not None and first == listener.backend_pid
    with seeded.db.reading() as s:
        assert s.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    # The listener notices at once; a change made before it listens again goes unheard,
    # and the None it hands on says so.
    wait_until(lambda: listener.backend_pid is None, what="the lost connection noticed")
    cancel(seeded.db, seeded.task_ids[0])
    assert next_heard(heard, timeout=10) is None
    assert listener.backend_pid is not None and listener.backend_pid != first
    assert backend() == listener.backend_pid
    cancel(seeded.db, seeded.task_ids[1])  # and it goes on hearing
    change = next_heard(heard)
    assert change is not None and change.tasks == {seeded.task_ids[1]}
    assert heard.empty()


def test_stop_ends_the_listener_and_its_connection_at_once(
    seeded: Seeded, listener: ChangeListener
) -> None:
    started = time.monotonic()
    listener.stop()
    assert time.monotonic() - started < 0.5
    assert listener.backend_pid is None

    def connected() -> int:
        with seeded.db.reading() as s:
            return int(
                s.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"),
                    {"n": listener.application_name},
                )
                or 0
            )

    wait_until(lambda: connected() == 0, what="the listener's connection closed")


def test_workers_hear_only_that_there_may_be_work_again(
    seeded: Seeded, pg_db_url: str, heard: Heard
) -> None:
    """The workers' channel: one empty notice a transaction when units come back to the
    queue or an account is freed, nothing when units are merely taken or bought."""
    found = listener_for(pg_db_url, heard.put, application_name="test-wake", channel=WAKE_CHANNEL)
    assert found is not None and found.wait_listening(10)
    try:
        cancel(seeded.db, seeded.task_ids[0])  # settled: nothing for a worker to take
        for frm, to in (
            (TaskStatus.PENDING, TaskStatus.ASSIGNED),
            (TaskStatus.ASSIGNED, TaskStatus.PENDING),
        ):
            # Taken (nothing to hear), then back in the queue: two units, one transaction.
            with seeded.db.engine.begin() as conn:
                for task_id in seeded.task_ids[1:]:
                    transition(conn, task_id, frm, to, now=utcnow(), attempt=0, account_id=None)
        assert next_heard(heard) == WAKE
        with pytest.raises(AssertionError, match="nothing heard"):
            next_heard(heard, timeout=0.5)  # one notice for the transaction, none for the cancel
    finally:
        found.stop()
