"""The tables' context menus as an operator meets them: a right click, the Menu key or
Shift+F10 opens the actions for the rows under them (the window's own actions, enabled as
in its menus), and choosing one does it; Check now wants accounts selected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import seed_market
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu, QTableView
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from app.core.accounts.admin import upsert_accounts
from app.core.domain.models import MarketPlaceAccount, Order, Task
from app.core.drivers.memory import MemoryDriver
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.core.storage.db import Database
from app.ui.window.context_menus import ORDER_ACTIONS
from app.ui.window.main_window import MainWindow

SHOTS = Path("/tmp/buyback-shots")  # for looking at the menus; the tests do not need it


@pytest.fixture
def service(db: Database) -> Iterator[EngineService]:
    seed_market(db, accounts=3)
    engine = EngineService(
        db, lambda _m: MemoryDriver(), EngineSettings(concurrency=2, poll_s=0.1, rollup_s=0.1)
    )
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture
def window(qtbot: QtBot, db: Database, service: EngineService) -> Iterator[MainWindow]:
    """The console over two Orders: #1's two units bought, #2 held (its unit pending),
    its tables on screen and filled."""
    bought = service.submit(OrderSpec("Bought", "mem", [LineSpec("A1", 2, "P1")])).result(10)
    qtbot.waitUntil(lambda: statuses(db, bought) == ["purchased"] * 2, timeout=10000)
    service.submit(OrderSpec("Held", "mem", [LineSpec("A2", 1, "P2")], hold=True)).result(10)
    win = MainWindow(db, service)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    # The tables replace "Opening the database…" once the first counts are read, which
    # may be after their rows are: a click before that lands on the opening page.
    qtbot.waitUntil(lambda: win.pages.currentWidget() is win.splitter, timeout=5000)
    qtbot.waitUntil(lambda: len(win.orders_view.orders.rows) == 2, timeout=5000)
    model = win.tasks_view.model
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=5000)
    qtbot.waitUntil(lambda: all(model.row(n) for n in range(3)), timeout=5000)
    yield win
    # A purchase a test started may still be running: the window would ask before closing
    # instead of closing (and stopping its change listener).
    service.stop()
    win.close()
    assert not win.isVisible()


def statuses(db: Database, order_id: int | None = None) -> list[str]:
    with db.reading() as s:
        stmt = select(Task.status).order_by(Task.id)
        if order_id is not None:
            stmt = stmt.where(Task.order_id == order_id)
        return list(s.scalars(stmt))


def right_click(qtbot: QtBot, table: QTableView, row: int) -> None:
    """A right click on the row's first cell as a pointer makes it: it comes onto the
    cell (again if the row moved meanwhile), then presses, which selects the row and
    asks for the context menu.

    The pointer comes from another spot of the cell because Qt (6.12 here) sends the
    context menu to the widget it last saw the pointer move over: offscreen, a window just
    shown is told the pointer is at its top-left corner (on the menu bar), and a move to
    where the previous test's pointer already was is no move at all."""
    window = table.window()
    handle = window.windowHandle()

    def spot(corner: bool = False) -> QPoint:
        cell = table.visualRect(table.model().index(row, 0))
        return table.viewport().mapTo(
            window, cell.topLeft() + QPoint(2, 2) if corner else cell.center()
        )

    QTest.mouseMove(handle, spot(corner=True))
    at = None
    while at != spot():  # each move lets the window work: a notice may push the table down
        at = spot()
        QTest.mouseMove(handle, at)
    assert window.childAt(at) is table.viewport(), f"row {row} is not on screen"
    QTest.mouseClick(handle, Qt.MouseButton.RightButton, Qt.KeyboardModifier(0), at)


def opened(qtbot: QtBot, menu: QMenu, name: str) -> list[tuple[str, bool]]:
    """Waits for the menu; its entries as (text without the mnemonic, enabled), "-" for a
    separator. Saves a picture of it."""
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    SHOTS.mkdir(exist_ok=True)
    menu.grab().save(str(SHOTS / f"context-menu-{name}.png"))
    return [
        ("-", False) if a.isSeparator() else (a.text().replace("&", ""), a.isEnabled())
        for a in menu.actions()
    ]


def choose(qtbot: QtBot, menu: QMenu, action: QAction) -> None:
    at = menu.actionGeometry(action).center()
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: not menu.isVisible(), timeout=5000)


def test_right_click_on_an_order_offers_the_order_menus_commands(qtbot, db, window) -> None:
    orders = window.orders_view
    held = next(n for n, r in enumerate(orders.orders.rows) if r.client == "Held")
    right_click(qtbot, orders, held)
    menu = window.context_menus.orders.menu
    entries = opened(qtbot, menu, "orders")

    # The window's own actions, in the Order menu's order, as enabled as there: a held
    # Order can be started and cancelled, has nothing to retry.
    actions = window.menu_actions
    assert [None if a.isSeparator() else a for a in menu.actions()] == [
        None if n is None else actions[n] for n in ORDER_ACTIONS if n is None or n in actions
    ]
    assert orders.current_order() == orders.orders.rows[held].id
    shown = dict(entries)
    assert shown["Start / resume"] and shown["Cancel order…"] and shown["Export report…"]
    assert not shown["Retry failed"]

    choose(qtbot, menu, actions["start"])
    held_id = orders.orders.rows[held].id
    qtbot.waitUntil(lambda: order_status(db, held_id) != "paused", timeout=5000)


def order_status(db: Database, order_id: int) -> str:
    with db.reading() as s:
        return str(s.scalar(select(Order.status).where(Order.id == order_id)))


@pytest.mark.parametrize(
    "key, modifier",
    [
        (Qt.Key.Key_Menu, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier),
    ],
    ids=["menu-key", "shift-f10"],
)
def test_the_menu_key_offers_open_copy_and_mark_arrived_for_bought_units(
    qtbot, db, window, key, modifier
) -> None:
    tasks = window.tasks_view
    table = tasks.table
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=5000)
    arrived = window.menu_actions["mark_arrived"]
    menu = window.context_menus.tasks.menu

    # The held unit: nothing bought to mark, though the Order menu keeps Mark arrived
    # (there it says what to select).
    table.selectRow(2)
    qtbot.keyClick(table, key, modifier)
    assert opened(qtbot, menu, "tasks-pending") == [
        ("Open\tEnter", True),
        ("Copy\tCtrl+C", True),
        ("-", False),
        ("Mark arrived", False),
    ]
    # At the current row.
    assert table.viewport().rect().contains(table.viewport().mapFromGlobal(menu.pos()))
    qtbot.keyClick(menu, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not menu.isVisible(), timeout=5000)
    qtbot.waitUntil(arrived.isEnabled, timeout=5000)
    window.activateWindow()  # a desktop does it as the menu closes; offscreen does not
    qtbot.waitUntil(table.hasFocus, timeout=5000)

    # The two bought units: Mark arrived applies, and marks them.
    table.selectRow(0)
    table.selectionModel().select(
        tasks.model.index(1, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    qtbot.keyClick(table, key, modifier)
    assert dict(opened(qtbot, menu, "tasks"))["Mark arrived"]
    assert arrived in menu.actions()
    choose(qtbot, menu, arrived)
    qtbot.waitUntil(lambda: statuses(db) == ["delivered", "delivered", "pending"], timeout=5000)
    assert arrived.isEnabled()


def test_open_in_the_tasks_menu_shows_the_task(qtbot, window) -> None:
    table = window.tasks_view.table
    window.tabs.setCurrentWidget(window.tasks_view)
    right_click(qtbot, table, 1)
    menu = window.context_menus.tasks.menu
    opened(qtbot, menu, "tasks-right-click")
    choose(qtbot, menu, window.context_menus.open_task)
    qtbot.waitUntil(lambda: getattr(window, "task_dialog", None) is not None, timeout=5000)
    assert window.task_dialog.task_id == window.tasks_view.model.task_id(1)
    window.task_dialog.reject()


def test_accounts_menu_acts_on_the_selected_accounts(qtbot, db, window) -> None:
    window.tabs.setCurrentWidget(window.accounts_view)
    accounts = window.accounts_view
    qtbot.waitUntil(lambda: accounts.accounts.rowCount() == 3, timeout=5000)
    check = accounts.account_actions["check"]
    assert not check.isEnabled()  # nothing selected: nothing to check

    table = accounts.table
    right_click(qtbot, table, 1)
    menu = window.context_menus.accounts.menu
    assert opened(qtbot, menu, "accounts") == [
        ("Check now", True),
        ("Enable", True),
        ("Disable", True),
        ("-", False),
        ("Copy\tCtrl+C", True),
    ]
    assert menu.actions()[0] is check
    choose(qtbot, menu, accounts.account_actions["disable"])
    qtbot.waitUntil(
        lambda: (
            accounts_status(db)
            == {"mem-acc000": "active", "mem-acc001": "disabled", "mem-acc002": "active"}
        ),
        timeout=5000,
    )


def test_an_account_added_elsewhere_while_the_menu_is_open_leaves_it_to_the_clicked_one(
    qtbot, db, window
) -> None:
    """Another workstation imports an account that sorts above the one right-clicked: the
    rows move under the open menu, whose actions stay those of the account clicked."""
    window.tabs.setCurrentWidget(window.accounts_view)
    accounts = window.accounts_view
    qtbot.waitUntil(lambda: accounts.accounts.rowCount() == 3, timeout=5000)
    right_click(qtbot, accounts.table, 1)
    menu = window.context_menus.accounts.menu
    opened(qtbot, menu, "accounts-before-refresh")
    clicked = accounts.selected_ids()
    assert [accounts.accounts.rows[1].id] == clicked

    with db.session() as s:
        market = s.scalar(select(MarketPlaceAccount.marketplace_id).limit(1))
        assert market is not None
        upsert_accounts(s, market, [("mem-acc0005", "pw")])  # between acc000 and acc001
        s.commit()
    window.refresh()  # as the window does every few seconds
    qtbot.waitUntil(lambda: accounts.accounts.rowCount() == 4, timeout=5000)

    assert menu.isVisible()
    assert accounts.selected_ids() == clicked
    assert accounts.account_actions["disable"].isEnabled()
    choose(qtbot, menu, accounts.account_actions["disable"])
    qtbot.waitUntil(
        lambda: (
            accounts_status(db)
            == {
                "mem-acc000": "active",
                "mem-acc0005": "active",
                "mem-acc001": "disabled",
                "mem-acc002": "active",
            }
        ),
        timeout=5000,
    )


def accounts_status(db: Database) -> dict[str, str]:
    with db.reading() as s:
        return {
            login: str(status)
            for login, status in s.execute(
                select(MarketPlaceAccount.login, MarketPlaceAccount.status)
            ).all()
        }


def test_no_menu_below_the_last_row(qtbot, window) -> None:
    window.tabs.setCurrentWidget(window.accounts_view)
    table = window.accounts_view.table
    qtbot.waitUntil(lambda: table.model().rowCount() == 3, timeout=5000)
    below = table.visualRect(table.model().index(2, 0)).bottomLeft() + QPoint(5, 40)
    assert not table.indexAt(below).isValid()
    table.customContextMenuRequested.emit(below)
    assert not window.context_menus.accounts.menu.isVisible()
