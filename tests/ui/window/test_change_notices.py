"""Consoles sharing a PostgreSQL database: what another worker commits shows in the window
at once, without F5, and after the notices' connection was lost, everything is read
again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from helpers import seed_market
from sqlalchemy import select, text

from app.core.domain.clock import utcnow
from app.core.domain.models import MarketPlaceAccount, Task
from app.core.domain.states import TaskStatus
from app.core.drivers.base import Receipt
from app.core.drivers.memory import MemoryDriver
from app.core.engine.purchases import record_purchase
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.core.storage.db import Database
from app.core.storage.journal import transition
from app.ui.common import status_label
from app.ui.views.tasks_model import COLUMNS
from app.ui.window.main_window import MainWindow

T = TaskStatus
COLUMN = {key: n for n, (key, _) in enumerate(COLUMNS)}


@dataclass
class Console:
    window: MainWindow
    db: Database
    url: str
    market_id: int
    order_id: int
    task_ids: list[int]

    def shown(self, task_id: int, key: str) -> str | None:
        """What the Tasks table shows for this Task in column `key` (None: not yet)."""
        model = self.window.tasks_view.model
        if task_id not in model.ids:
            return None
        return model.data(model.index(model.ids.index(task_id), COLUMN[key]))


@pytest.fixture
def console(qtbot, pg_db_url: str) -> Iterator[Console]:
    """A console on a PostgreSQL database with a held Order of two units, both shown."""
    db = Database(pg_db_url)
    market = seed_market(db, accounts=3)
    service = EngineService(db, lambda _m: MemoryDriver(), EngineSettings(rollup_s=0.05))
    service.start()
    spec = OrderSpec("Client", "mem", [LineSpec("A1", 2, "P1")], hold=True)
    order_id = service.submit(spec).result(timeout=10)
    with db.reading() as s:
        ids = list(s.scalars(select(Task.id).where(Task.order_id == order_id).order_by(Task.id)))
    window = MainWindow(db, service)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    shown = Console(window, db, pg_db_url, market.id, order_id, ids)
    try:
        assert window.listener is not None and window.listener.wait_listening(10)
        pending = status_label(T.PENDING)
        qtbot.waitUntil(
            lambda: all(shown.shown(i, "status") == pending for i in ids), timeout=10000
        )
        yield shown
    finally:
        window.close()
        service.stop()
        db.close()
    assert window.listener.backend_pid is None  # closed with the window


def elsewhere(url: str, work) -> float:
    """Runs `work(conn)` in one transaction of another worker (a Database of its own, on a
    thread of its own); returns when it committed (time.monotonic())."""
    committed: list[float] = []
    failed: list[BaseException] = []

    def run() -> None:
        other = Database(url)
        try:
            with other.engine.begin() as conn:
                work(conn)
            committed.append(time.monotonic())
        except BaseException as exc:
            failed.append(exc)
        finally:
            other.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if failed:
        raise failed[0]
    return committed[0]


def buy(task_id: int, market_id: int, number: str):
    """A worker's purchase of the unit: leased, running, bought with this order number."""

    def work(conn) -> None:
        account_id = conn.scalar(select(MarketPlaceAccount.id).order_by(MarketPlaceAccount.id))
        now = utcnow()
        lease = {"account_id": account_id, "attempts": 1}
        transition(
            conn,
            task_id,
            T.PENDING,
            T.ASSIGNED,
            now=now,
            attempt=1,
            account_id=account_id,
            values=lease,
        )
        transition(conn, task_id, T.ASSIGNED, T.RUNNING, now=now, attempt=1, account_id=account_id)
        receipt = Receipt(number, "A1", "P1", 99000, now)
        record_purchase(
            conn,
            task_id,
            T.RUNNING,
            receipt,
            now=now,
            attempt=1,
            account_id=account_id,
            marketplace_id=market_id,
            owner="elsewhere",
        )

    return work


def cancel(task_id: int):
    def work(conn) -> None:
        transition(conn, task_id, T.PENDING, T.CANCELLED, now=utcnow(), attempt=0, account_id=None)

    return work


def test_a_unit_another_worker_bought_shows_within_a_second(qtbot, console: Console) -> None:
    task_id = console.task_ids[0]
    committed = elsewhere(console.url, buy(task_id, console.market_id, "MP-7001"))
    purchased = status_label(T.PURCHASED)
    qtbot.waitUntil(
        lambda: (
            console.shown(task_id, "status") == purchased
            and console.shown(task_id, "order_number") == "MP-7001"
        ),
        timeout=1000,
    )
    assert time.monotonic() - committed < 1.0
    assert console.shown(console.task_ids[1], "status") == status_label(T.PENDING)
    # The Orders view catches up too (its roll-up of the units bought).
    qtbot.waitUntil(
        lambda: [r.purchased for r in console.window.orders_view.orders.rows] == [1],
        timeout=2000,
    )


def test_after_the_notices_connection_was_lost_everything_is_read_again(
    qtbot, console: Console
) -> None:
    listener = console.window.listener
    assert listener is not None
    first = listener.backend_pid
    with console.db.reading() as s:
        assert s.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    qtbot.waitUntil(lambda: listener.backend_pid is None, timeout=5000)
    # Committed while nobody listens: its notice is lost; the reconnection says so.
    task_id = console.task_ids[1]
    elsewhere(console.url, cancel(task_id))
    qtbot.waitUntil(
        lambda: console.shown(task_id, "status") == status_label(T.CANCELLED), timeout=10000
    )
    assert listener.backend_pid not in (None, first)
