"""Helpers the console's tests share: typing into the New Order dialog as a person does."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.core.storage.db import Database
from app.ui.dialogs.new_order import ARTICLE, MAX_PRICE, PICKUP_POINT, QUANTITY, NewOrderDialog
from app.ui.views.tasks_view import TasksView


def type_line(qtbot: QtBot, dialog: NewOrderDialog, row: int, *values: str) -> None:
    for column, value in zip((ARTICLE, QUANTITY, PICKUP_POINT, MAX_PRICE), values, strict=False):
        qtbot.keyClicks(dialog.cell(row, column), value)


def shown_tasks_view(qtbot: QtBot, db: Database, rows: int, width: int, height: int) -> TasksView:
    """A Tasks view of every Task on screen at `width` x `height`, once its `rows` rows
    are listed."""
    view = TasksView(db)
    qtbot.addWidget(view)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    view.apply_filter()
    qtbot.waitUntil(lambda: view.model.rowCount() == rows, timeout=5000)
    return view
