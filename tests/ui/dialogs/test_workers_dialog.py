"""The Workers dialog as an operator reads it: every worker row of the database with its
host, kind, state and last heartbeat, this console's marked; a worker that starts while
the dialog is open shows up without a click; an unreachable database is said in the
dialog, which stays open and usable."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import insert

import app.ui.common
from app.core.domain.models import Worker
from app.core.drivers.memory import MemoryDriver
from app.core.engine.settings import EngineSettings
from app.core.service import EngineService
from app.core.storage.db import Database
from app.ui.dialogs.workers import COLUMNS, WorkerRow, WorkersDialog
from app.ui.window.main_window import MainWindow

ME = "console-host:4242:abcd1234"
# A team's database as well as one PC's: the list is what PostgreSQL teams look at.
BOTH = pytest.mark.parametrize("db_kind", ["sqlite", "postgresql"], indirect=True)


def write_worker(
    db: Database,
    worker_id: str,
    host: str,
    kind: str,
    *,
    heartbeat_s_ago: float = 0,
    stopped: bool = False,
    rescued_by: str | None = None,
) -> None:
    """A worker row as the engines write them (the database server runs on this computer:
    its clock is this one's)."""
    now = datetime.now(UTC)
    beat = now - timedelta(seconds=heartbeat_s_ago)
    with db.session() as s:
        s.execute(
            insert(Worker).values(
                id=worker_id,
                host=host,
                pid=1000 + len(worker_id),
                kind=kind,
                version="0.1.0",
                started_at=beat - timedelta(minutes=5),
                heartbeat_at=beat,
                stopped_at=beat if stopped else None,
                rescued_by=rescued_by,
                rescued_at=now if rescued_by else None,
            )
        )
        s.commit()


def shown(dialog: WorkersDialog) -> dict[str, dict[str, str]]:
    """What the table shows, by host: column title -> text."""
    model = dialog.model
    rows = {}
    for r in range(model.rowCount()):
        cells = {col: model.data(model.index(r, c)) for c, col in enumerate(COLUMNS)}
        rows[cells["Host"]] = cells
    return rows


@pytest.fixture
def open_dialog(qtbot) -> Callable[[Database], WorkersDialog]:
    def opened(db: Database) -> WorkersDialog:
        dialog = WorkersDialog(db, ME)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    return opened


@BOTH
def test_it_lists_every_worker_with_its_state(qtbot, db, open_dialog) -> None:
    write_worker(db, ME, "console-host", "console", heartbeat_s_ago=1)
    write_worker(db, "ws-02:77:aa", "ws-02", "worker", heartbeat_s_ago=3)
    write_worker(db, "ws-03:78:bb", "ws-03", "run", heartbeat_s_ago=600, stopped=True)
    write_worker(db, "ws-04:79:cc", "ws-04", "worker", heartbeat_s_ago=20)
    write_worker(db, "ws-05:80:dd", "ws-05", "worker", heartbeat_s_ago=7200, rescued_by=ME)

    dialog = open_dialog(db)
    qtbot.waitUntil(lambda: len(shown(dialog)) == 5, timeout=5000)
    rows = shown(dialog)
    assert {host: (r["Kind"], r["State"]) for host, r in rows.items()} == {
        "console-host": ("this console", "alive"),
        "ws-02": ("worker (no window)", "alive"),
        "ws-03": ("run command", "stopped"),
        "ws-04": ("worker (no window)", "silent"),
        "ws-05": ("worker (no window)", "rescued"),
    }
    # A few seconds pass between writing and reading; the text says how long ago.
    assert rows["ws-02"]["Last heartbeat"] in {f"{n} s ago" for n in range(3, 9)}
    assert rows["ws-03"]["Last heartbeat"] == "10 min ago"
    assert rows["ws-05"]["Last heartbeat"] == "2 h ago"
    assert rows["ws-02"]["Ended"] == "" and rows["ws-03"]["Ended"] != ""
    assert rows["ws-02"]["Started"] and rows["ws-02"]["Version"] == "0.1.0"

    model = dialog.model
    mine = next(r for r in range(model.rowCount()) if model.rows[r].id == ME)
    assert model.data(model.index(mine, 0), Qt.ItemDataRole.FontRole).bold()
    rescued = next(r for r in range(model.rowCount()) if model.rows[r].host == "ws-05")
    tip = model.data(model.index(rescued, COLUMNS.index("State")), Qt.ItemDataRole.ToolTipRole)
    assert tip == f"Taken for dead; {ME} handed its work on"
    assert dialog.message.text().startswith("Read at ")


@BOTH
def test_a_worker_that_starts_while_it_is_open_shows_up(qtbot, db, open_dialog) -> None:
    write_worker(db, ME, "console-host", "console")
    dialog = open_dialog(db)
    qtbot.waitUntil(lambda: list(shown(dialog)) == ["console-host"], timeout=5000)

    write_worker(db, "ws-09:90:ee", "ws-09", "worker")
    qtbot.waitUntil(lambda: "ws-09" in shown(dialog), timeout=10000)
    assert shown(dialog)["ws-09"]["State"] == "alive"


def test_an_unreachable_database_is_said_in_the_dialog(qtbot, open_dialog) -> None:
    # A PostgreSQL server that is not there: nothing listens on port 1.
    gone = Database("postgresql+psycopg://buyback:secret@127.0.0.1:1/buyback", migrate=False)
    try:
        dialog = open_dialog(gone)
        qtbot.waitUntil(lambda: "Cannot read the workers" in dialog.message.text(), timeout=10000)
        assert "Connection refused" in dialog.message.text()
        assert "secret" not in dialog.message.text()
        assert dialog.isVisible() and dialog.model.rowCount() == 0
        # It keeps trying while open.
        assert dialog.timer.isActive()
    finally:
        gone.close()


@BOTH
def test_view_workers_shows_this_console_alive_without_blocking_the_window(qtbot, db) -> None:
    write_worker(db, "ws-02:77:aa", "ws-02", "worker", heartbeat_s_ago=600, stopped=True)
    engine = EngineService(db, lambda _m: MemoryDriver(), EngineSettings(concurrency=1))
    engine.start()
    window = MainWindow(db, engine)
    qtbot.addWidget(window)
    try:
        window.show()
        qtbot.waitExposed(window)
        window.menu_actions["workers"].trigger()
        dialog = window.workers_dialog
        qtbot.waitUntil(lambda: "this console" in [r["Kind"] for r in shown(dialog).values()])
        mine = next(r for r in shown(dialog).values() if r["Kind"] == "this console")
        assert mine["State"] == "alive"
        assert shown(dialog)["ws-02"]["State"] == "stopped"
        assert not dialog.isModal() and dialog.isVisible()
        # Asked again, the one dialog comes to the front.
        window.menu_actions["workers"].trigger()
        assert window.workers_dialog is dialog
        dialog.close()
        assert not dialog.timer.isActive()  # closed: it reads no more
    finally:
        window.close()
        engine.stop()


class LateLettingGo:
    """A worker pool whose thread lets go of its work only after the GUI thread has taken
    the answer and is done with it: what the real pool's threads do now and then when the
    computer is busy (a thread is paused between finishing and forgetting its work)."""

    def __init__(self) -> None:
        self.let_go = threading.Event()
        self.threads: list[threading.Thread] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def work(future: concurrent.futures.Future[Any] = future) -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)
            self.let_go.wait(10)  # the thread's references to the work go only now

        thread = threading.Thread(target=work, name="late-worker")
        self.threads.append(thread)
        thread.start()
        return future


def test_a_dialog_closed_while_it_reads_is_destroyed_on_the_gui_thread(
    qtbot, db, monkeypatch
) -> None:
    """The Workers dialog closes (and is forgotten) while its list is being read: when the
    answer comes, the dialog goes on the GUI thread. A worker thread holding the last
    reference to it destroyed it there, which crashes the console when the GUI thread is
    painting meanwhile."""
    pool = LateLettingGo()
    monkeypatch.setattr(app.ui.common, "_pool", pool)
    answered = threading.Event()

    class Watched(WorkersDialog):
        def _show(self, result: tuple[list[WorkerRow], datetime]) -> None:
            super()._show(result)
            answered.set()

    dialog = Watched(db, ME)  # a parentless dialog: Python's references keep it alive
    destroyed_on: list[str] = []
    dialog.destroyed.connect(
        lambda: destroyed_on.append(threading.current_thread().name),
        Qt.ConnectionType.DirectConnection,
    )
    dialog.show()  # reads the list
    qtbot.waitExposed(dialog)
    dialog.close()
    del dialog
    try:
        qtbot.waitUntil(answered.is_set, timeout=5000)
    finally:
        pool.let_go.set()
        for thread in pool.threads:
            thread.join(10)
    qtbot.waitUntil(lambda: bool(destroyed_on), timeout=5000)
    assert destroyed_on == [threading.main_thread().name]
