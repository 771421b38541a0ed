"""The Tasks and Accounts tables from the keyboard: Enter opens the Task under the cursor as
a double-click does, and Ctrl+C copies the selected rows as a spreadsheet pastes them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import seed_market
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QTableView, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from app.core.domain.models import MarketPlaceAccount
from app.core.drivers.memory import MemoryDriver
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.core.storage.db import Database
from app.ui.views.accounts_view import AccountsView
from app.ui.views.tasks_view import TasksView


@pytest.fixture
def service(db: Database) -> Iterator[EngineService]:
    seed_market(db, accounts=3)
    engine = EngineService(
        db, lambda _market: MemoryDriver(), EngineSettings(poll_s=0.2, rollup_s=0.2)
    )
    engine.start()
    yield engine
    engine.stop()


def focused(qtbot: QtBot, view: QWidget, table: QTableView) -> None:
    """Shows the view and puts the keyboard's focus in its table, as a click there does."""
    view.resize(1200, 400)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=5000)


@pytest.fixture
def tasks_view(qtbot: QtBot, db: Database, service: EngineService) -> TasksView:
    # A held Order: its five Tasks stay pending, so the rows hold still.
    service.submit(OrderSpec("Client", "mem", [LineSpec("A1", 5, "P1")], hold=True)).result(10)
    view = TasksView(db)
    qtbot.addWidget(view)
    view.apply_filter()
    qtbot.waitUntil(lambda: view.model.rowCount() == 5, timeout=5000)
    # Rows are fetched when first asked for: wait until all five are there.
    qtbot.waitUntil(lambda: all(view.model.row(n) for n in range(5)), timeout=5000)
    focused(qtbot, view, view.table)
    return view


@pytest.fixture
def accounts_view(qtbot: QtBot, db: Database, service: EngineService) -> AccountsView:
    with db.session() as s:  # a label a spreadsheet would split into cells and rows
        s.execute(
            update(MarketPlaceAccount)
            .where(MarketPlaceAccount.login == "mem-acc001")
            .values(label="desk 1\twindow\r\nback")
        )
        s.commit()
    view = AccountsView(db, service.check_accounts)
    qtbot.addWidget(view)
    view.reload()
    qtbot.waitUntil(lambda: view.accounts.rowCount() == 3, timeout=5000)
    focused(qtbot, view, view.table)
    return view


def select_rows(table: QTableView, *rows: int) -> None:
    model = table.model()
    last = model.columnCount() - 1
    selection = QItemSelection()
    for n in rows:
        selection.select(model.index(n, 0), model.index(n, last))
    table.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    table.selectionModel().setCurrentIndex(
        model.index(rows[-1], 0), QItemSelectionModel.SelectionFlag.NoUpdate
    )


def shown_fields(table: QTableView, row: int) -> list[str]:
    """The texts the table shows in this row, left to right, hidden columns left out."""
    header = table.horizontalHeader()
    model = table.model()
    columns = [header.logicalIndex(v) for v in range(header.count())]
    return [model.data(model.index(row, c)) or "" for c in columns if not table.isColumnHidden(c)]


def copied(qtbot: QtBot, table: QTableView) -> list[list[str]]:
    """Presses Ctrl+C in the table; the clipboard's text as a spreadsheet splits it."""
    clipboard = QApplication.clipboard()
    clipboard.setText("before")
    qtbot.keyClick(table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: clipboard.text() != "before", timeout=5000)
    return [line.split("\t") for line in clipboard.text().split("\n")]


@pytest.mark.parametrize(
    "key, modifier",
    [
        (Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier),
        (Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier),
    ],
    ids=["return", "keypad-enter"],
)
def test_enter_opens_the_task_under_the_cursor(qtbot, tasks_view, key, modifier) -> None:
    table, search = tasks_view.table, tasks_view.search
    table.setCurrentIndex(tasks_view.model.index(2, 3))
    wanted = tasks_view.model.task_id(2)
    # Enter in the search box is the box's own, even with a Task under the cursor.
    search.setFocus()
    qtbot.waitUntil(search.hasFocus, timeout=5000)
    with qtbot.assertNotEmitted(tasks_view.detail_requested, wait=100):
        qtbot.keyClick(search, key, modifier)
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=5000)
    with qtbot.waitSignal(tasks_view.detail_requested, timeout=5000) as opened:
        qtbot.keyClick(table, key, modifier)
    assert opened.args == [wanted]


def test_copy_puts_the_selected_tasks_as_spreadsheet_rows(qtbot, tasks_view) -> None:
    table = tasks_view.table
    header = table.horizontalHeader()
    header.moveSection(header.visualIndex(3), 0)  # the operator dragged Article first
    table.setColumnHidden(10, True)  # and hid Error
    select_rows(table, 4, 0, 2)
    rows = copied(qtbot, table)
    assert rows == [shown_fields(table, n) for n in (0, 2, 4)]
    assert all(len(fields) == 10 for fields in rows)
    ids = [tasks_view.model.task_id(n) for n in (0, 2, 4)]
    assert [(fields[0], fields[1]) for fields in rows] == [("A1", str(i)) for i in ids]


def test_copy_puts_the_selected_accounts_as_spreadsheet_rows(qtbot, accounts_view) -> None:
    table = accounts_view.table
    select_rows(table, 0, 1, 2)
    rows = copied(qtbot, table)
    assert len(rows) == 3
    assert all(len(fields) == table.model().columnCount() for fields in rows)
    assert [fields[0] for fields in rows] == ["mem-acc000", "mem-acc001", "mem-acc002"]
    # The label's tab and line break became spaces: its row and columns stay whole.
    assert rows[1][2] == "desk 1 window back"
    assert [fields[:2] + fields[3:] for fields in rows] == [
        (lambda f: f[:2] + f[3:])(shown_fields(table, n)) for n in range(3)
    ]
