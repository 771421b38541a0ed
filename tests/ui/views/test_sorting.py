"""Sorting the Tasks table as an operator sees it: a click on a header keeps the rows on
screen, selected and scrolled where they were until the new order is there; a row the
engine changes takes its place in the order; a refresh adds and drops rows the same way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from helpers import held_order_in_statuses
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update
from ui_helpers import shown_tasks_view

from app.core.domain.models import Task
from app.core.engine.events import TaskChanged
from app.core.storage.db import Database
from app.core.storage.queries import TaskFilter, task_ids
from app.ui.views.tasks_model import COLUMNS
from app.ui.views.tasks_view import TasksView

STATUS = next(n for n, (key, _) in enumerate(COLUMNS) if key == "status")
# Statuses spread over the Tasks so that sorting by status moves nearly every row.
SPREAD = ("pending", "purchased", "failed", "running", "delivered", "retry_wait")


def seed(db: Database, units: int) -> list[int]:
    """A held Order of `units` Tasks in the statuses of SPREAD, in turn; their ids."""
    return held_order_in_statuses(db, units, SPREAD)


def db_order(db: Database, flt: TaskFilter, key: str, descending: bool = False) -> list[int]:
    with db.reading() as s:
        return task_ids(s, flt, key, descending)


@pytest.fixture
def view(qtbot: QtBot, db: Database) -> TasksView:
    seed(db, 1200)
    return shown_tasks_view(qtbot, db, 1200, 1200, 500)


def on_screen(view: TasksView) -> range:
    """The rows the table shows now."""
    table = view.table
    first = table.rowAt(0)
    last = table.rowAt(table.viewport().height() - 1)
    return range(first, (last if last >= 0 else view.model.rowCount() - 1) + 1)


def painted(qtbot: QtBot, view: TasksView) -> None:
    """Waits until every row on screen shows its Task."""
    qtbot.waitUntil(
        lambda: all(view.model.row(n) is not None for n in on_screen(view)), timeout=5000
    )


def selected_tasks(view: TasksView) -> set[int]:
    rows = view.table.selectionModel().selectedRows()
    return {view.model.task_id(i.row()) for i in rows}


def select_tasks(view: TasksView, *rows: int) -> None:
    selection = view.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag
    for n in rows:
        selection.select(view.model.index(n, 0), flags.Select | flags.Rows)
    selection.setCurrentIndex(view.model.index(rows[0], 0), flags.NoUpdate)


def test_a_header_click_keeps_the_rows_on_screen_selected_and_scrolled(qtbot, db, view) -> None:
    table, model = view.table, view.model
    bar = table.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    painted(qtbot, view)
    middle = on_screen(view)
    select_tasks(view, middle[3], middle[5], 10, 1100)
    chosen, current = selected_tasks(view), model.task_id(middle[3])
    scrolled = bar.value()

    resets: list[bool] = []
    blank: list[int] = []  # rows on screen without their Task when the new order came
    model.modelReset.connect(lambda: resets.append(True))
    model.layoutChanged.connect(
        lambda *_: blank.extend(n for n in on_screen(view) if model.row(n) is None)
    )
    header = table.horizontalHeader()
    at = QPoint(header.sectionViewportPosition(STATUS) + header.sectionSize(STATUS) // 2, 5)
    wanted = db_order(db, TaskFilter(), "status")
    with qtbot.waitSignal(model.layoutChanged, timeout=5000):
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: model.ids == wanted, timeout=5000)

    assert header.sortIndicatorSection() == STATUS
    assert not resets and blank == []
    assert selected_tasks(view) == chosen
    assert model.task_id(table.currentIndex().row()) == current
    assert bar.value() == scrolled
    by_status = sorted(SPREAD)  # 200 Tasks of each, in the database's order of names
    assert all(model.row(n).status == by_status[n // 200] for n in on_screen(view))


def test_a_row_the_engine_changes_takes_its_place_in_the_order(qtbot, db, view) -> None:
    table, model = view.table, view.model
    with qtbot.waitSignal(model.reloaded, timeout=5000):
        table.sortByColumn(STATUS, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: model.ids == db_order(db, TaskFilter(), "status"), timeout=5000)
    painted(qtbot, view)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))

    # The first delivered unit on screen is selected when the engine reports it
    # failed (it is written first, as the engine does).
    row = next(n for n in on_screen(view) if model.row(n).status == "delivered")
    task_id = model.task_id(row)
    select_tasks(view, row)
    scrolled = table.verticalScrollBar().value()
    with db.session() as s:
        s.execute(update(Task).where(Task.id == task_id).values(status="failed", attempts=1))
        s.commit()
    model.apply([TaskChanged(task_id, 1, 1, "failed", datetime.now(UTC), attempts=1)])

    # It moves among the failed ones; the table's order is the database's again.
    wanted = db_order(db, TaskFilter(), "status")
    qtbot.waitUntil(lambda: model.ids == wanted, timeout=5000)
    assert model.ids.index(task_id) != row
    assert selected_tasks(view) == {task_id}
    assert model.task_id(table.currentIndex().row()) == task_id
    assert table.verticalScrollBar().value() == scrolled
    assert not resets


def test_a_refresh_adds_and_drops_rows_keeping_the_selection(qtbot, db, view) -> None:
    table, model = view.table, view.model
    box = view.status_box
    pending = next(n for n in range(box.count()) if box.itemData(n) == frozenset({"pending"}))
    with qtbot.waitSignal(model.reloaded, timeout=5000):
        box.setCurrentIndex(pending)
    painted(qtbot, view)
    assert model.rowCount() == 200
    select_tasks(view, 5)
    chosen = model.task_id(5)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))

    # Meanwhile a unit above it was bought, two delivered ones queued again, and the
    # chosen one tried (by another workstation: no event says so).
    with db.session() as s:
        s.execute(update(Task).where(Task.id == chosen).values(attempts=5))
        s.execute(update(Task).where(Task.id == model.task_id(2)).values(status="purchased"))
        back = list(s.scalars(select(Task.id).where(Task.status == "delivered").limit(2)))
        s.execute(update(Task).where(Task.id.in_(back)).values(status="pending"))
        s.commit()
    with qtbot.waitSignal(model.reloaded, timeout=5000):
        model.reload()

    assert model.ids == db_order(db, TaskFilter(statuses=frozenset({"pending"})), "id")
    assert model.rowCount() == 201 and set(back) <= set(model.ids)
    assert selected_tasks(view) == {chosen}
    assert model.task_id(table.currentIndex().row()) == chosen
    assert not resets
    row = model.ids.index(chosen)
    qtbot.waitUntil(lambda: model.row(row).attempts == 5, timeout=5000)  # read anew
