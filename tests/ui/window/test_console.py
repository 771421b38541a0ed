"""The console window as an operator uses it: a typed Order is bought by real browsers on
the real sandbox, bad input writes nothing, and pause and cancel do what they say."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from helpers import GatedDriver, row_counts, seed_market
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox
from sqlalchemy import select, update
from ui_helpers import type_line

from app.core.domain.models import BuyBack, MarketPlaceAccount, Task
from app.core.domain.states import UnitRule
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.core.storage import queries
from app.core.storage.db import Database
from app.demo import seed_sandbox
from app.sandbox.server import SandboxOptions, SandboxServer
from app.ui.views import accounts_view
from app.ui.window.main_window import MainWindow


def open_window(
    qtbot, db: Database, drivers, concurrency: int = 3
) -> tuple[MainWindow, EngineService]:
    service = EngineService(
        db, drivers, EngineSettings(concurrency=concurrency, poll_s=0.2, rollup_s=0.2)
    )
    service.start()
    window = MainWindow(db, service)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window, service


def shown_rows(window: MainWindow) -> list:
    model = window.tasks_view.model
    return [model.row(n) for n in range(model.rowCount())]


def order_row(window: MainWindow, order_id: int):
    """The Orders table's row of this Order, or None while it is not shown."""
    return next((r for r in window.orders_view.orders.rows if r.id == order_id), None)


@pytest.mark.browser
def test_an_order_typed_in_the_window_is_bought_and_the_shop_agrees(qtbot, db, tmp_path) -> None:
    server = SandboxServer(tmp_path / "ledger.sqlite3", SandboxOptions(accounts=10))
    url = server.start_in_thread()
    seed_sandbox(db, url, accounts=10)
    window, service = open_window(qtbot, db, driver_factory(db, DriverOptions()))
    try:
        window.menu_actions["new_order"].trigger()
        qtbot.waitUntil(lambda: getattr(window, "new_order_dialog", None) is not None, timeout=5000)
        dialog = window.new_order_dialog
        qtbot.keyClicks(dialog.client_box, "Test client")
        type_line(qtbot, dialog, 0, "100001", "2", "PVZ-002")
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        type_line(qtbot, dialog, 1, "100004", "1", "PVZ-003", "3000")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=10000)

        def all_bought() -> bool:
            rows = shown_rows(window)
            return len(rows) == 3 and all(
                r and r.status == "purchased" and r.order_number for r in rows
            )

        qtbot.waitUntil(all_bought, timeout=120000)
        rows = shown_rows(window)
        with urllib.request.urlopen(f"{url}/admin/orders.json", timeout=10) as r:
            ledger = {o["order_number"]: o for o in json.load(r)}
        assert set(ledger) == {r.order_number for r in rows}
        for r in rows:
            assert (ledger[r.order_number]["login"], ledger[r.order_number]["article"]) == (
                r.account,
                r.article,
            )
            assert ledger[r.order_number]["pickup_point"] == r.pickup_point
        # The Orders view catches up with the engine's roll-up.
        qtbot.waitUntil(
            lambda: (
                [(r.purchased, r.status) for r in window.orders_view.orders.rows]
                == [(3, "purchased")]
            ),
            timeout=5000,
        )
    finally:
        window.close()
        service.stop()
        server.stop_thread()


def test_invalid_input_keeps_the_dialog_open_and_cancel_writes_nothing(qtbot, db) -> None:
    seed_market(db, accounts=3, code="sandbox")
    window, service = open_window(qtbot, db, lambda _m: GatedDriver())
    try:
        before = row_counts(db)
        window.menu_actions["new_order"].trigger()
        qtbot.waitUntil(lambda: getattr(window, "new_order_dialog", None) is not None, timeout=5000)
        dialog = window.new_order_dialog
        qtbot.keyClicks(dialog.client_box, "Test client")
        type_line(qtbot, dialog, 0, "A1", "0", "P1")
        assert not dialog.ok_button.isEnabled()
        assert "Line 1, quantity: must be at least 1 (got 0)" in dialog.message_label.text()
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)  # disabled: nothing happens
        assert dialog.isVisible()
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible()
        assert row_counts(db) == before
    finally:
        window.close()
        service.stop()


def test_pause_stops_new_purchases_and_cancel_cancels_the_rest(qtbot, db, monkeypatch) -> None:
    seed_market(db, accounts=10)
    driver = GatedDriver()
    window, service = open_window(qtbot, db, lambda _m: driver, concurrency=2)

    async def release(_sup) -> None:
        driver.gate.set()

    try:
        order_id = service.submit(OrderSpec("Client", "mem", [LineSpec("A1", 6, "P1")])).result(10)
        qtbot.waitUntil(lambda: driver.started == 2, timeout=10000)
        qtbot.waitUntil(lambda: len(window.orders_view.orders.rows) == 1, timeout=5000)
        window.orders_view.selectRow(0)
        assert window.menu_actions["pause"].isEnabled()
        window.menu_actions["pause"].trigger()
        qtbot.waitUntil(lambda: window.orders_view.orders.rows[0].status == "paused", timeout=5000)
        actions = window.menu_actions
        assert actions["start"].isEnabled() and not actions["pause"].isEnabled()

        service.call(release).result(5)
        qtbot.waitUntil(lambda: order_row(window, order_id).purchased == 2, timeout=5000)
        # The engine's chance to start more: another Order, placed while this one is
        # paused, gets the free slots and is bought in full; the paused one buys nothing.
        other = service.submit(OrderSpec("Other", "mem", [LineSpec("A2", 2, "P2")])).result(10)
        qtbot.waitUntil(
            lambda: (
                order_row(window, other) is not None
                and (order_row(window, other).purchased, order_row(window, other).status)
                == (2, "purchased")
            ),
            timeout=10000,
        )
        assert [article for _login, article, _r in driver.ledger].count("A1") == 2
        assert driver.started == 4  # two of the paused Order, two of the other
        assert order_row(window, order_id).status == "paused"
        assert window.orders_view.current_order() == order_id  # still the one selected

        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
        window.menu_actions["cancel"].trigger()
        qtbot.waitUntil(lambda: order_row(window, order_id).status == "cancelled", timeout=5000)
        qtbot.waitUntil(
            lambda: (
                Counter(r.status for r in shown_rows(window) if r)
                == {"purchased": 2, "cancelled": 4}
            ),
            timeout=5000,
        )
        assert driver.started == 4 and len(driver.ledger) == 4
        assert window.tasks_view.model.task_filter.order_id == order_id
    finally:
        window.close()
        service.stop()


@pytest.mark.browser
def test_screenshot_command_saves_every_view(tmp_path: Path) -> None:
    import subprocess
    import sys

    from helpers import ROOT

    out = tmp_path / "shots"
    done = subprocess.run(
        [
            sys.executable,
            "main.py",
            "screenshot",
            "--out",
            str(out),
            "--units",
            "3",
            "--db",
            str(tmp_path / "c.sqlite3"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    names = {p.stem for p in out.glob("*.png")}
    assert {"main-window", "task-detail", "accounts", "new-order"} <= names
    from PySide6.QtGui import QImage

    image = QImage(str(out / "main-window.png"))
    assert image.width() >= 1000 and image.height() >= 600


def test_task_detail_shows_history_error_and_the_failure_screenshot(qtbot, db, tmp_path) -> None:
    from PySide6.QtGui import QColor, QImage

    from app.core.drivers.base import BusinessError
    from app.core.drivers.memory import MemoryDriver
    from app.ui.views.tasks_view import TaskDetailDialog

    shot = tmp_path / "task-1.png"
    image = QImage(320, 200, QImage.Format.Format_RGB32)
    image.fill(QColor("#c00000"))
    image.save(str(shot))

    def out_of_stock(request, phase) -> None:
        raise BusinessError("Article A1 is out of stock", code="out_of_stock", screenshot=str(shot))

    seed_market(db, accounts=2)
    window, service = open_window(qtbot, db, lambda _m: MemoryDriver(faults=out_of_stock))
    try:
        service.submit(OrderSpec("Client", "mem", [LineSpec("A1", 1, "P1")])).result(10)
        qtbot.waitUntil(
            lambda: [r.status for r in shown_rows(window) if r] == ["failed"], timeout=10000
        )
        dialog = TaskDetailDialog(db, window.tasks_view.model.ids[0])
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.history.rowCount() > 0, timeout=5000)
        steps = [dialog.history.item(n, 2).text() for n in range(dialog.history.rowCount())]
        assert steps == ["pending", "assigned", "running", "failed"]
        assert dialog.history.item(3, 4).text() == "Article A1 is out of stock"
        assert dialog.shot_area.isVisible()
        assert dialog.screenshot.pixmap().width() == 700  # scaled to the dialog
    finally:
        window.close()
        service.stop()


def test_engine_errors_share_one_box_that_does_not_block(qtbot, db) -> None:
    from app.core.engine.events import EngineNotice

    seed_market(db, accounts=1)
    window, service = open_window(qtbot, db, lambda _m: GatedDriver())
    try:
        for message in ("first problem", "second problem", "first problem"):
            service.bus.publish(EngineNotice("error", message))
        qtbot.waitUntil(lambda: window.error_box is not None and window.error_box.isVisible())
        box = window.error_box
        assert not box.isModal()
        assert box.text() == "first problem\n\nsecond problem"
    finally:
        window.close()
        service.stop()


def test_review_verdicts_from_the_task_detail(qtbot, db) -> None:
    from app.core.domain.clock import utcnow
    from app.core.drivers.base import Receipt
    from app.core.drivers.memory import MemoryDriver

    seed_market(db, accounts=3)
    driver = MemoryDriver()
    window, service = open_window(qtbot, db, lambda _m: driver)
    try:
        order_id = service.submit(
            OrderSpec("C", "mem", [LineSpec("A1", 2, "P1")], hold=True, unit_rule=UnitRule.OFF)
        ).result(10)
        with db.session() as s:  # two units the engine could not settle, on one account
            account, login = s.execute(
                select(MarketPlaceAccount.id, MarketPlaceAccount.login).limit(1)
            ).one()
            s.execute(update(Task).values(status="needs_review", account_id=account))
            s.commit()
        first, second = window_task_ids(db, order_id)
        # The account's order history at the shop holds the first unit's order.
        driver.ledger.append((login, "A1", Receipt("MEM-00000042", "A1", "P1", 123450, utcnow())))

        window.open_task(first)
        dialog = window.task_dialog
        qtbot.waitUntil(lambda: dialog.bought_button.isVisible(), timeout=5000)
        qtbot.mouseClick(dialog.bought_button, Qt.MouseButton.LeftButton)
        record = dialog.record_dialog
        assert record is not None and record.price.isVisible()  # the price is asked too
        qtbot.keyClicks(record.number, "MEM-99999999")  # not in the account's history
        qtbot.keyClicks(record.price, "1 234,50")
        qtbot.mouseClick(record.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "not in the order history" in record.message.text(), timeout=5000)
        assert record.isVisible() and dialog.isVisible()  # open for the correction
        record.number.clear()
        qtbot.keyClicks(record.number, "MEM-00000042")
        qtbot.mouseClick(record.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=5000)

        window.open_task(second)
        dialog = window.task_dialog
        qtbot.waitUntil(lambda: dialog.not_bought_button.isVisible(), timeout=5000)
        qtbot.mouseClick(dialog.not_bought_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=5000)

        with db.session() as s:
            statuses = dict(s.execute(select(Task.id, Task.status)).all())
            bought = s.execute(select(BuyBack.order_number, BuyBack.price_minor)).all()
        assert statuses == {first: "purchased", second: "pending"}
        assert bought == [("MEM-00000042", 123450)]
    finally:
        window.close()
        service.stop()


def window_task_ids(db: Database, order_id: int) -> list[int]:
    with db.session() as s:
        return list(s.scalars(select(Task.id).where(Task.order_id == order_id).order_by(Task.id)))


def hold_back_first_read(
    monkeypatch, window: MainWindow, module: object, name: str, gate: threading.Event
) -> threading.Event:
    """Patches the read `<module>.<name>`: its next call reads, then waits for `gate`
    (a read begun now that finishes later). The window's own refreshes are stopped, so
    that the reads are the test's. Returns the event set when the read waits."""
    real, reading, first = getattr(module, name), threading.Event(), threading.Lock()
    window._refresh.stop()  # the periodic refresh
    monkeypatch.setattr(window, "_refresh_due", lambda: False)  # the one after changes

    def held_back(s):
        rows = real(s)
        if first.acquire(blocking=False):  # the first call only, whatever the thread
            reading.set()
            assert gate.wait(10)
        return rows

    monkeypatch.setattr(module, name, held_back)
    return reading


def test_an_older_read_of_the_orders_finishing_last_does_not_hide_a_new_order(
    qtbot, db, monkeypatch
) -> None:
    """Reads of the Orders run side by side: one begun before an Order was created may
    finish after one begun since. The newer rows stay on screen."""
    seed_market(db, accounts=3)
    window, service = open_window(qtbot, db, lambda _m: GatedDriver())
    gate = threading.Event()
    try:
        spec = OrderSpec("Early", "mem", [LineSpec("A1", 1, "P1")], hold=True)
        first = service.submit(spec).result(10)
        qtbot.waitUntil(lambda: order_row(window, first) is not None, timeout=5000)
        reading = hold_back_first_read(monkeypatch, window, queries, "order_rows", gate)
        shown: dict[int, bool] = {}  # each read shown: the new Order on screen after it
        real_show = window._show_orders

        def show(rows, asked):
            real_show(rows, asked)
            shown[asked] = order_row(window, late) is not None

        monkeypatch.setattr(window, "_show_orders", show)
        window._reload_orders()  # the older read
        older = window._order_reads.asked
        assert reading.wait(10)
        late = service.submit(OrderSpec("Late", "mem", [LineSpec("A1", 1, "P1")], hold=True))
        late = late.result(10)
        window._reload_orders()  # a newer read, which shows the new Order
        newer = window._order_reads.asked
        qtbot.waitUntil(lambda: shown.get(newer) is True, timeout=5000)
        gate.set()  # the older read finishes last
        qtbot.waitUntil(lambda: older in shown, timeout=5000)
        assert shown[older] is True
    finally:
        gate.set()
        window.close()
        service.stop()


def test_a_refresh_begun_before_an_account_was_disabled_does_not_show_it_active_again(
    qtbot, db, monkeypatch
) -> None:
    """The window's periodic refresh reads the accounts again. One begun before the
    operator disabled an account may finish after the read that follows the change: the
    account must not show active again."""
    seed_market(db, accounts=2)
    window, service = open_window(qtbot, db, lambda _m: GatedDriver())
    gate = threading.Event()
    view = window.accounts_view

    def statuses() -> dict[str, str]:
        return {r.login: str(r.status) for r in view.accounts.rows}

    try:
        qtbot.waitUntil(lambda: len(statuses()) == 2, timeout=5000)
        reading = hold_back_first_read(monkeypatch, window, accounts_view, "account_rows", gate)
        delivered: list[int] = []  # the reads handed to the view, shown or not
        real_fresh = view.reads.fresh

        def fresh(n: int) -> bool:
            delivered.append(n)
            return real_fresh(n)

        monkeypatch.setattr(view.reads, "fresh", fresh)
        login = sorted(statuses())[0]
        window.refresh()  # the older read
        older = view.reads.asked
        assert reading.wait(10)
        with db.session() as s:
            s.execute(
                update(MarketPlaceAccount)
                .where(MarketPlaceAccount.login == login)
                .values(status="disabled")
            )
            s.commit()
        view.reload()  # as after the operator's "Disable"
        qtbot.waitUntil(lambda: statuses()[login] == "disabled", timeout=5000)
        gate.set()  # the refresh finishes last
        qtbot.waitUntil(lambda: older in delivered, timeout=5000)
        assert statuses()[login] == "disabled"
    finally:
        gate.set()
        window.close()
        service.stop()
