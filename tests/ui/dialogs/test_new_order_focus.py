"""New Order survives whatever order an operator puts focus on its cells in: Tab and
Shift+Tab through every field, mouse clicks on every cell of several rows, typing in
each. Focusing a cell of a row that is not selected yet used to kill the whole console
(a selection change from inside the cell's focus event)."""

from __future__ import annotations

import itertools
import random

import pytest
from PySide6.QtCore import QPoint, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QComboBox, QWidget

from app.ui.dialogs.new_order import ARTICLE, MAX_PRICE, PICKUP_POINT, QUANTITY, NewOrderDialog

CELLS = (ARTICLE, QUANTITY, PICKUP_POINT, MAX_PRICE)
TYPED = {ARTICLE: "100001", QUANTITY: "2", PICKUP_POINT: "PVZ-001", MAX_PRICE: "1500"}


@pytest.fixture
def warnings() -> list[str]:
    """Qt's warnings while the test runs (an invalid index is one)."""
    seen: list[str] = []

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        if kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            seen.append(message)

    previous = qInstallMessageHandler(handler)
    yield seen
    qInstallMessageHandler(previous)


@pytest.fixture
def dialog(qtbot, catalogs, engine) -> NewOrderDialog:
    dlg = NewOrderDialog(catalogs, ["ООО Ромашка"], engine.submit)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    for _ in range(2):
        dlg.add_line()  # three rows
    return dlg


def editor(dialog: NewOrderDialog, row: int, col: int) -> QWidget:
    cell = dialog.cell(row, col)
    line = cell.lineEdit() if isinstance(cell, QComboBox) else cell
    assert line is not None
    return line


def focused(dialog: NewOrderDialog, row: int, col: int) -> bool:
    return QApplication.focusWidget() in (dialog.cell(row, col), editor(dialog, row, col))


def click(qtbot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=QPoint(5, widget.height() // 2))


def relevant(warnings: list[str]) -> list[str]:
    return [w for w in warnings if "propagateSizeHints" not in w]


def test_clicking_every_cell_in_every_order_keeps_the_dialog_alive(qtbot, dialog, warnings) -> None:
    cells = list(itertools.product(range(3), CELLS))
    for first, second in itertools.permutations(cells, 2):
        if first[0] == second[0]:
            continue  # across rows: the focused row is not the selected one
        click(qtbot, editor(dialog, *first))
        click(qtbot, editor(dialog, *second))
        assert focused(dialog, *second)
    assert relevant(warnings) == []
    assert dialog.isVisible()


def test_tab_and_shift_tab_through_every_field_typing_in_each(qtbot, dialog, warnings) -> None:
    click(qtbot, dialog.client_box.lineEdit())
    qtbot.keyClicks(dialog.client_box, "Lutik LLC")
    seen: set[int] = set()
    for _ in range(40):  # forward through the form and the three rows
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        for row, col in itertools.product(range(3), CELLS):
            if focused(dialog, row, col):
                seen.add(row * 4 + col)
                if not editor(dialog, row, col).property("text"):
                    qtbot.keyClicks(editor(dialog, row, col), TYPED[col])
    for _ in range(40):  # and back
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Backtab)
    assert len(seen) == 12  # every cell was reached with Tab
    assert relevant(warnings) == []
    assert [line.article for line in dialog.spec().lines] == ["100001"] * 3


def test_a_random_walk_of_keys_and_clicks(qtbot, dialog, warnings) -> None:
    rng = random.Random(20261127)
    for _ in range(300):
        row, col = rng.randrange(3), rng.choice(CELLS)
        target = editor(dialog, row, col)
        action = rng.randrange(4)
        if action == 0:
            click(qtbot, target)
        elif action == 1:
            qtbot.keyClick(QApplication.focusWidget() or target, Qt.Key.Key_Tab)
        elif action == 2:
            qtbot.keyClick(QApplication.focusWidget() or target, Qt.Key.Key_Backtab)
        else:
            click(qtbot, target)
            qtbot.keyClicks(target, rng.choice(["1", "PVZ", "x", "100002", " "]))
    assert relevant(warnings) == []
    assert dialog.isVisible()
