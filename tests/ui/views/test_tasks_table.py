"""The Tasks table paints its rows itself, in one call from Qt: it looks pixel for pixel
as QTableView's own painting (statuses and their colours, cut texts, a selection and the
focused cell, in English and Russian), asks the model for no data for plain cells, gives
the style the cells it draws otherwise, and keeps the interpreter's None alive however
long it paints."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers import held_order_in_statuses
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractItemView, QTableView
from pytestqt.qtbot import QtBot
from sqlalchemy import update
from ui_helpers import shown_tasks_view

from app.core.domain.models import Task
from app.core.storage.db import Database
from app.ui.i18n import apply_language
from app.ui.views import tasks_model
from app.ui.views.tasks_model import Look
from app.ui.views.tasks_view import TasksView

STATUSES = (
    "pending",
    "running",
    "submitting",
    "purchased",
    "failed",
    "needs_review",
    "delivered",
    "waiting_account",
    "cancelled",
    "retry_wait",
)
LONG_ERROR = "out of stock: the marketplace shows no units of this article at the pickup point"


@pytest.fixture(params=["en", "ru"])
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    apply_language(request.param)
    yield request.param
    apply_language("en")  # the other tests read English


def seed(db: Database, units: int) -> None:
    """A held Order of `units` Tasks in every status in turn; the failed ones with a
    reason too long for its column."""
    held_order_in_statuses(db, units, STATUSES)
    with db.session() as s:
        s.execute(update(Task).where(Task.status == "failed").values(last_error=LONG_ERROR))
        s.commit()


@pytest.fixture
def view(qtbot: QtBot, db: Database) -> TasksView:
    seed(db, 200)
    widget = shown_tasks_view(qtbot, db, 200, 1300, 600)
    model = widget.model
    qtbot.waitUntil(lambda: all(model.row(n) is not None for n in range(20)), timeout=5000)
    return widget


def stock_table(qtbot: QtBot, view: TasksView) -> QTableView:
    """A QTableView painting the same model its own way, set up as the Tasks table."""
    table = view.table
    stock = QTableView()
    qtbot.addWidget(stock)
    stock.setModel(view.model)
    stock.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    stock.setAlternatingRowColors(False)
    stock.verticalHeader().setVisible(False)
    stock.verticalHeader().setDefaultSectionSize(table.verticalHeader().defaultSectionSize())
    stock.verticalHeader().setSectionResizeMode(table.verticalHeader().sectionResizeMode(0))
    stock.horizontalHeader().setStretchLastSection(True)
    for col in range(view.model.columnCount()):
        stock.horizontalHeader().resizeSection(col, table.columnWidth(col))
    stock.resize(table.size())
    stock.show()
    qtbot.waitExposed(stock)
    return stock


def image(qtbot: QtBot, table: QTableView, *, focused: bool = False) -> QImage:
    """What the table's rows look like (with the keyboard focus in it, if `focused`)."""
    if focused:
        table.activateWindow()
        table.setFocus()
        qtbot.waitUntil(table.hasFocus, timeout=5000)
    return table.viewport().grab().toImage()


def data_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The roles of every call Qt makes into the model's data() for a role it answers.
    (Replacing data() itself on the class crashes PySide6 6.12 once Qt has called it.)"""
    roles: list[int] = []

    def counted(role: int, answer: Callable[[Look, int], Any]) -> Callable[[Look, int], Any]:
        def count(look: Look, column: int) -> Any:
            roles.append(role)
            return answer(look, column)

        return count

    answers = {role: counted(role, answer) for role, answer in tasks_model._ANSWERS.items()}
    monkeypatch.setattr(tasks_model, "_ANSWERS", answers)
    return roles


def test_the_table_looks_as_qtableview_paints_it(qtbot, db, language, view) -> None:
    stock = stock_table(qtbot, view)
    assert image(qtbot, view.table) == image(qtbot, stock)
    assert view.table.fast and view.table.fast_selected  # not all drawn by the style

    # A selection with the current row focused.
    flags = QItemSelectionModel.SelectionFlag
    for table in (view.table, stock):
        table.selectRow(3)
        table.selectionModel().select(view.model.index(6, 0), flags.Select | flags.Rows)
        table.selectionModel().setCurrentIndex(view.model.index(6, 2), flags.NoUpdate)
    assert image(qtbot, view.table, focused=True) == image(qtbot, stock, focused=True)

    for table in (view.table, stock):
        table.selectAll()
    assert image(qtbot, view.table, focused=True) == image(qtbot, stock, focused=True)

    # Columns too narrow for their texts: each cut where the style cuts it.
    for table in (view.table, stock):
        table.clearSelection()
        table.horizontalHeader().setStretchLastSection(False)
        for col, width in enumerate((34, 20, 50, 30, 40, 25, 70, 20, 45, 60, 120)):
            table.horizontalHeader().resizeSection(col, width)
    assert image(qtbot, view.table, focused=True) == image(qtbot, stock, focused=True)


def test_a_repaint_asks_the_model_only_for_the_focused_cell(qtbot, view, monkeypatch) -> None:
    table = view.table
    table.selectAll()
    table.selectionModel().setCurrentIndex(
        view.model.index(4, 10), QItemSelectionModel.SelectionFlag.NoUpdate
    )
    image(qtbot, table, focused=True)
    roles = data_calls(monkeypatch)
    table.viewport().grab()
    # The style draws the focused cell (seven roles); the other ~200 cells, selected or
    # not, statuses in colour, reasons cut short, come from the rows' looks.
    assert 0 < len(roles) <= 10


def test_a_style_that_draws_cells_otherwise_gets_every_cell(qtbot, view) -> None:
    # A style sheet pads the cells' texts: the short way would put them elsewhere.
    style = "QTableView::item { padding: 0 6px; }"
    stock = stock_table(qtbot, view)
    for table in (view.table, stock):
        table.setStyleSheet(style)
    assert image(qtbot, view.table) == image(qtbot, stock)
    assert view.table.fast is False


@pytest.mark.parametrize("cells", ["plain", "selected", "all by the style"])
def test_painting_keeps_none_alive(qtbot, view, cells) -> None:
    # PySide6 6.12 on Python 3.11 takes a reference to None at every call of a void C++
    # method; a table painting itself makes dozens a frame. The console's (and these
    # tests') app keeps None alive: repaints leave it far from being freed.
    table = view.table
    if cells == "selected":
        table.selectAll()
        table.setFocus()
    elif cells == "all by the style":
        table.setStyleSheet("QTableView::item { padding: 0 6px; }")
    table.viewport().grab()
    assert table.fast is (cells != "all by the style")
    for n in range(200):
        table.verticalScrollBar().setValue(n % 50)
        table.viewport().grab()
    gc.collect()
    assert sys.getrefcount(None) > 1 << 40
