"""The console leaves the operator no dead end: an Order whose marketplace's purchases
cannot start says why on its row, notifications stay in the window where there is no
tray, a notice said once is not replaced by the next message, and quitting with purchases
running asks first and closes once they are recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import GatedDriver, seed_market, tasks
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSystemTrayIcon

from app.core.drivers.browser import BrowserNotFound
from app.core.drivers.memory import MemoryDriver
from app.core.engine.events import OrderProgress
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.core.support import secrets
from app.ui.views.orders_view import STATUS
from app.ui.window.main_window import MainWindow

SHOTS = Path("/tmp/buyback-shots")  # for looking at the window; the tests do not need it
NO_BROWSER = "The browser /opt/nothing does not exist. Fix the browser path in settings."


@pytest.fixture(autouse=True)
def no_tray(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))


class BrokenStart(MemoryDriver):
    """Cannot start while `broken` (as a browser path to nothing)."""

    broken = True

    async def start(self) -> None:
        if BrokenStart.broken:
            raise BrowserNotFound(NO_BROWSER)


def open_window(qtbot, db, drivers, **settings: float) -> tuple[MainWindow, EngineService]:
    service = EngineService(
        db, drivers, EngineSettings(concurrency=2, poll_s=0.1, rollup_s=0.1, **settings)
    )
    service.start()
    window = MainWindow(db, service)
    qtbot.addWidget(window)
    window.show()
    return window, service


@pytest.fixture
def window(qtbot, db) -> Iterator[MainWindow]:
    seed_market(db, accounts=3)
    win, service = open_window(qtbot, db, lambda _m: MemoryDriver())
    yield win
    win.close()
    service.stop()


def grab(widget, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


def status_cell(window: MainWindow, role=Qt.ItemDataRole.DisplayRole) -> str:
    model = window.orders_view.orders
    return model.data(model.index(0, STATUS), role) if model.rows else ""


def test_an_order_whose_driver_cannot_start_says_why_on_its_row(qtbot, db) -> None:
    seed_market(db, accounts=3)
    BrokenStart.broken = True
    driver = BrokenStart()
    window, service = open_window(qtbot, db, lambda _m: driver, recover_s=0.3)
    try:
        order_id = service.submit(OrderSpec("Client", "mem", [LineSpec("A1", 2, "P1")])).result(10)
        said = f"queued: cannot start: {NO_BROWSER}"
        qtbot.waitUntil(lambda: status_cell(window) == said, timeout=5000)
        assert status_cell(window, Qt.ItemDataRole.ToolTipRole) == said
        grab(window, "order-cannot-start")
        # A console opened after it was said hears it too.
        later = MainWindow(db, service)
        qtbot.addWidget(later)
        qtbot.waitUntil(lambda: status_cell(later) == said, timeout=5000)
        later.close()

        BrokenStart.broken = False  # the operator fixed the browser: tried again, it starts
        qtbot.waitUntil(lambda: status_cell(window) == "purchased", timeout=10000)
        assert [r.status for r in tasks(db, order_id)] == ["purchased", "purchased"]
    finally:
        window.close()
        service.stop()


def test_notifications_stay_in_the_window_without_a_tray(qtbot, window) -> None:
    assert window.notices.tray is None and not window.notices.area.isVisible()
    for order_id, status in ((7, "done"), (8, "failed")):
        with qtbot.waitSignal(window.notified, timeout=3000):
            window.engine.bus.publish(OrderProgress(order_id, status, 3, {"purchased": 2}))
    area = window.notices.area
    assert area.isVisible()
    texts = area.texts()
    assert len(texts) == 2  # newest first, each with its time
    assert "Order failed: Order #8 for a client failed: 2 of 3 units bought" in texts[0]
    assert "Order finished: Order #7 for a client is done: 2 of 3 units bought." in texts[1]
    qtbot.mouseClick(area.dismiss_button, Qt.MouseButton.LeftButton)
    assert not area.isVisible() and area.texts() == []


def test_the_secrets_key_notice_is_not_replaced_by_the_next_message(
    qtbot, db, tmp_path, monkeypatch
) -> None:
    # No keyring on this computer: the key lives in a file the operator must back up.
    monkeypatch.delenv(secrets.KEY_FILE_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(secrets, "_keyring_key", lambda: None)
    secrets.get_vault.cache_clear()
    seed_market(db, accounts=2)
    window, service = open_window(qtbot, db, lambda _m: MemoryDriver())
    try:
        area = window.notices.area
        qtbot.waitUntil(lambda: bool(area.texts()), timeout=5000)
        key_notice = area.texts()[0]
        assert key_notice.startswith("Secrets key: No OS keyring is available")
        assert "Back it up" in key_notice

        accounts = window.accounts_view
        qtbot.waitUntil(lambda: len(accounts.accounts.rows) == 2, timeout=5000)
        accounts.table.selectAll()
        accounts.check_now()  # its message replaces the Accounts view's line
        qtbot.waitUntil(lambda: accounts.message.text().startswith("Checked"), timeout=10000)
        window.engine.bus.publish(OrderProgress(9, "done", 1, {"purchased": 1}))
        qtbot.waitUntil(lambda: len(area.texts()) == 2, timeout=3000)
        assert area.texts()[0] == key_notice and area.isVisible()  # still first
        grab(window, "notices-in-window")
    finally:
        window.close()
        service.stop()
        secrets.get_vault.cache_clear()


def test_quitting_with_purchases_running_asks_and_waits_for_them(qtbot, db) -> None:
    seed_market(db, accounts=5)
    driver = GatedDriver()
    window, service = open_window(qtbot, db, lambda _m: driver)

    async def release(_sup) -> None:
        driver.gate.set()

    try:
        order_id = service.submit(OrderSpec("Client", "mem", [LineSpec("A1", 3, "P1")])).result(10)
        qtbot.waitUntil(lambda: driver.started == 2, timeout=10000)
        window.menu_actions["quit"].trigger()
        box = window.quit_box
        qtbot.waitUntil(box.isVisible)
        assert window.isVisible()
        assert box.text().startswith(
            "2 purchases are running. They finish and are recorded before the console closes; "
            "it waits for them at most 60 seconds."
        )
        grab(box, "quit-with-purchases-running")
        quit_button = next(b for b in box.buttons() if b.text() == "Quit")
        qtbot.mouseClick(quit_button, Qt.MouseButton.LeftButton)
        assert window.isVisible()  # until the two purchases are recorded
        assert (
            window.statusBar()
            .currentMessage()
            .startswith("Closing: waiting for 2 running purchases to be recorded")
        )
        grab(window, "quitting")
        service.call(release)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10000)
        assert not service.running  # the engine ended with the window
        assert sorted(r.status for r in tasks(db, order_id)) == [
            "pending",
            "purchased",
            "purchased",
        ]
    finally:
        window.close()
        service.stop()


def test_cancelling_the_quit_keeps_the_console_working(qtbot, db) -> None:
    seed_market(db, accounts=5)
    driver = GatedDriver()
    window, service = open_window(qtbot, db, lambda _m: driver)

    async def release(_sup) -> None:
        driver.gate.set()

    try:
        order_id = service.submit(OrderSpec("Client", "mem", [LineSpec("A1", 3, "P1")])).result(10)
        qtbot.waitUntil(lambda: driver.started == 2, timeout=10000)
        window.close()
        qtbot.waitUntil(window.quit_box.isVisible)
        window.quit_box.reject()
        service.call(release)
        qtbot.waitUntil(
            lambda: [r.status for r in tasks(db, order_id)] == ["purchased"] * 3, timeout=10000
        )
        assert window.isVisible() and service.running
    finally:
        service.stop()
        window.close()
