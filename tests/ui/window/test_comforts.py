"""The console's comforts as an operator meets them: orders imported from a list and a
report exported from the window, a dialog naming the log file instead of a vanished
window, tray messages when an Order finishes, and settings kept for the next start."""

from __future__ import annotations

import csv
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import row_counts, seed_market
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog

import main
from app.core.drivers.memory import MemoryDriver
from app.core.engine.events import OrderProgress, TaskChanged
from app.core.engine.settings import EngineSettings
from app.core.service import EngineService
from app.ui.dialogs import crash
from app.ui.dialogs.settings import SettingsDialog, console_defaults
from app.ui.window.main_window import MainWindow

SHOTS = Path("/tmp/buyback-shots")  # for looking at the dialogs; the tests do not need it


@pytest.fixture
def window(qtbot, db) -> Iterator[MainWindow]:
    seed_market(db, accounts=5)
    service = EngineService(
        db, lambda _m: MemoryDriver(), EngineSettings(concurrency=2, poll_s=0.1, rollup_s=0.1)
    )
    service.start()
    win = MainWindow(db, service)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    service.stop()


def grab(widget, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


def test_orders_imported_from_a_list_are_bought_and_their_report_exported(
    qtbot, db, window, tmp_path
) -> None:
    listing = tmp_path / "заказы.csv"
    listing.write_bytes(
        "Клиент;Маркетплейс;Артикул;Кол-во;ПВЗ;Макс. цена\n"
        "ООО Ромашка;mem;A1;2;P1;1500\n"
        "ООО Ромашка;mem;A2;1;P2;\n"
        "ИП Сидоров;mem;A3;1;P1;\n".encode("cp1251")
    )
    window.menu_actions["import_orders"].trigger()
    dialog = window.import_dialog
    dialog.choose(listing)
    qtbot.waitUntil(dialog.import_button.isEnabled, timeout=5000)
    model = dialog.model
    assert [model.data(model.index(n, 7)) for n in range(3)] == [
        "order 1, line 1",
        "order 1, line 2",
        "order 2, line 1",
    ]
    assert "2 orders, 4 units" in dialog.summary.text()
    dialog.resize(1000, 360)
    grab(dialog, "import-orders")

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=5000)
    bought = {("ООО Ромашка", "purchased"), ("ИП Сидоров", "purchased")}
    qtbot.waitUntil(
        lambda: {(r.client, r.status) for r in window.orders_view.orders.rows} == bought,
        timeout=15000,
    )

    window.orders_view.selectRow(0)
    out = tmp_path / "report.csv"
    window.export_report(str(out))
    qtbot.waitUntil(out.exists, timeout=5000)
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert len(rows) > 1 and all(r[7] and r[5] and r[9] == "purchased" for r in rows[1:])


def test_a_list_with_a_bad_row_cannot_be_imported(qtbot, db, window, tmp_path) -> None:
    listing = tmp_path / "orders.csv"
    listing.write_text("client;article;qty;pvz\nAcme;A1;2;P1\nAcme;ZZZ;1;P1\n", encoding="utf-8")
    before = row_counts(db)
    window.menu_actions["import_orders"].trigger()
    dialog = window.import_dialog
    dialog.choose(listing)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=5000)
    model = dialog.model
    assert model.data(model.index(1, 7)) == "error"
    assert "Article: 'ZZZ' is not in" in model.data(model.index(1, 8))
    assert "1 row with errors" in dialog.summary.text()
    assert not dialog.import_button.isEnabled()
    dialog.import_plan()  # even forced, a plan with errors writes nothing
    dialog.reject()
    assert row_counts(db) == before


def test_an_unexpected_exception_shows_the_log_path_and_is_logged(
    qtbot, monkeypatch, tmp_path, caplog
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(crash.QMessageBox, "critical", lambda _p, _t, text: shown.append(text))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    log_path = tmp_path / "log" / "console.log"
    crash.install_excepthook(log_path)
    try:
        raise RuntimeError("boom in a slot")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())

    assert len(shown) == 1
    assert str(log_path) in shown[0] and "boom in a slot" in shown[0]
    logged = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert logged and logged[0].exc_info and "boom in a slot" in str(logged[0].exc_info[1])


def test_a_finished_order_raises_one_notification(qtbot, window) -> None:
    done = OrderProgress(7, "done", 3, {"purchased": 3})
    with qtbot.waitSignal(window.notified, timeout=3000) as raised:
        window.engine.bus.publish(done)
    title, message = raised.args
    assert title == "Order finished" and "#7" in message and "3 of 3" in message

    seen: list[tuple[str, str]] = []
    window.notified.connect(lambda *args: seen.append(args))
    window.engine.bus.publish(done)  # the same state again: no second message
    review = TaskChanged(41, 8, 1, "needs_review", datetime.now(UTC), error="check the shop")
    with qtbot.waitSignal(window.notified, timeout=3000):
        window.engine.bus.publish(review)
    assert [t for t, _ in seen] == ["Needs review"]


def test_settings_are_saved_and_picked_up_by_the_next_console_start(qtbot, db, tmp_path) -> None:
    dialog = SettingsDialog(db.url)
    qtbot.addWidget(dialog)
    assert dialog.data_edit.text() == str(tmp_path) and dialog.data_edit.isReadOnly()
    dialog.browser_edit.setText("/opt/chrome/chrome")
    dialog.concurrency_box.setValue(7)
    dialog.language_box.setCurrentIndex(dialog.language_box.findData("ru"))
    dialog.show()
    grab(dialog, "settings")
    dialog.accept()

    stored = QSettings()
    assert stored.value("ui/language") == "ru"
    args = main.build_parser().parse_args(["console"])
    console_defaults(args)
    assert (args.browser, args.concurrency) == ("/opt/chrome/chrome", 7)

    given = main.build_parser().parse_args(["console", "--concurrency", "2", "--browser", "/b"])
    console_defaults(given)
    assert (given.browser, given.concurrency) == ("/b", 2)  # the command line wins


def test_without_settings_the_console_keeps_its_defaults(qtbot) -> None:
    args = main.build_parser().parse_args(["console"])
    console_defaults(args)
    assert (args.browser, args.concurrency) == (None, 4)


def test_a_change_held_back_by_the_refresh_limit_is_shown_without_another_event(
    window, monkeypatch
) -> None:
    """Orders (and To buy) are re-read at most every MIN_REFRESH_S; a change that came
    sooner is re-read at the next pump once the time is up, not at the next event."""
    from app.core.domain.states import OrderStatus
    from app.ui.window import main_window

    window._pump.stop()  # the test pumps by hand
    refreshed: list[float] = []
    monkeypatch.setattr(window, "refresh", lambda: refreshed.append(1.0))
    clock = [1000.0]
    monkeypatch.setattr(main_window, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    window._last_refresh = clock[0]  # a refresh just now
    window.engine.bus.publish(OrderProgress(1, OrderStatus.RUNNING, 1))
    window.pump()
    assert refreshed == []  # too soon: held back
    clock[0] += main_window.MIN_REFRESH_S
    window.pump()  # no event waiting
    assert refreshed == [1.0]
