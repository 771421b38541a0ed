"""The Edit lines dialog from the Order menu: a unit that failed on its price cap is bought
once the cap is raised and the failed units retried; what the engine refuses is said in
the dialog, which stays open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import seed_market, tasks
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from sqlalchemy import select, update

from app.core.domain.models import OrderLine, Task
from app.core.drivers.memory import MemoryDriver
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.ui.dialogs.edit_lines import FAILED, EditLinesDialog
from app.ui.window.main_window import MainWindow

SHOTS = Path("/tmp/buyback-shots")  # for looking at the dialog; the tests do not need it


@pytest.fixture
def window(qtbot, db) -> Iterator[MainWindow]:
    seed_market(db, accounts=5)
    driver = MemoryDriver(prices={"A1": 200000, "A2": 50000})  # 2 000 ₽ and 500 ₽
    service = EngineService(
        db, lambda _m: driver, EngineSettings(concurrency=2, poll_s=0.1, rollup_s=0.1)
    )
    service.start()
    win = MainWindow(db, service)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    service.stop()


def open_dialog(qtbot, window: MainWindow, order_id: int) -> EditLinesDialog:
    qtbot.waitUntil(lambda: any(r.id == order_id for r in window.orders_view.orders.rows))
    row = next(n for n, r in enumerate(window.orders_view.orders.rows) if r.id == order_id)
    window.orders_view.selectRow(row)
    action = window.menu_actions["edit_lines"]
    assert action.isEnabled() and action.shortcut().toString() == "Ctrl+L"
    action.trigger()
    dialog = window.commands.edit_dialog
    qtbot.waitUntil(lambda: dialog.table.rowCount() > 0 and dialog.save_button.isEnabled())
    return dialog


def test_a_unit_failed_on_its_cap_is_bought_after_raising_the_cap(qtbot, window, db) -> None:
    spec = OrderSpec(
        "Client", "mem", [LineSpec("A1", 2, "P1", "1500"), LineSpec("A2", 1, "P2", "600")]
    )
    order_id = window.engine.submit(spec).result(10)
    qtbot.waitUntil(
        lambda: [r.status for r in tasks(db, order_id)] == ["failed", "failed", "purchased"],
        timeout=10000,
    )
    dialog = open_dialog(qtbot, window, order_id)
    table = dialog.table
    assert [table.item(0, c).text() for c in range(4)] == ["1", "A1 Kettle", "P1", "0"]
    assert table.item(0, FAILED).text() == "2"
    assert "above the cap" in table.item(0, FAILED).toolTip()  # why they failed
    assert [dialog.cap_edit(n).text() for n in (0, 1)] == ["1500", "600"]
    assert dialog.quantity_box(1).minimum() == 1  # one unit of line 2 is bought
    assert dialog.retry_button.isEnabled() and dialog.retry_button.isDefault()

    dialog.cap_edit(0).setText("2 100,50")
    dialog.quantity_box(0).setValue(3)
    SHOTS.mkdir(exist_ok=True)
    dialog.grab().save(str(SHOTS / "edit-lines.png"))
    qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=5000)
    assert dialog.queued == 2
    qtbot.waitUntil(
        lambda: (
            [(r.purchased, r.total, r.status) for r in window.orders_view.orders.rows]
            == [(4, 4, "purchased")]
        ),
        timeout=10000,
    )
    with db.session() as s:
        assert s.execute(
            select(OrderLine.max_unit_price_minor, OrderLine.quantity).where(OrderLine.line_no == 1)
        ).one() == (210050, 3)


def test_what_the_engine_refuses_is_said_in_the_open_dialog(qtbot, window, db) -> None:
    spec = OrderSpec("Client", "mem", [LineSpec("A1", 3, "P1", "1500")], hold=True)
    order_id = window.engine.submit(spec).result(10)
    dialog = open_dialog(qtbot, window, order_id)

    dialog.cap_edit(0).setText("cheap")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == (
        "Line 1, max price: 'cheap' is not an amount; enter rubles such as 1299.90"
    )
    assert dialog.isVisible()

    # Meanwhile two units started on another workstation.
    with db.session() as s:
        ids = s.scalars(select(Task.id).where(Task.order_id == order_id).limit(2)).all()
        s.execute(update(Task).where(Task.id.in_(ids)).values(status="running"))
        s.commit()
    dialog.cap_edit(0).setText("1500")
    dialog.quantity_box(0).setValue(1)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "cannot be less than 2" in dialog.message.text(), timeout=5000)
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert [r.status for r in tasks(db, order_id)] == ["running", "running", "pending"]
