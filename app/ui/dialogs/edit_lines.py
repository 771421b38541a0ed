"""The Edit lines dialog: an Order's lines with their price caps and quantities to change,
saved by the engine in one go, optionally with the Order's failed units queued again."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.domain.states import TaskStatus
from app.core.engine.commands import LineEdit, LineState, line_states
from app.core.orders.spec import parse_money
from app.core.storage.db import Database
from app.core.support.text import QT_TRANSLATE_NOOP, Refused
from app.ui.common import (
    column_title,
    error_text,
    fill,
    in_background,
    number,
    say,
    status_color,
    when_done,
)
from app.ui.engine_texts import engine_text

# Saves the edits of an Order's lines, with its failed units queued again or not; the
# future holds how many were queued again (EngineService.edit_lines).
EditLines = Callable[..., concurrent.futures.Future[int]]

COLUMNS = (
    QT_TRANSLATE_NOOP("Column", "Line"),
    QT_TRANSLATE_NOOP("Column", "Article"),
    QT_TRANSLATE_NOOP("Column", "Pickup point"),
    QT_TRANSLATE_NOOP("Column", "Bought"),
    QT_TRANSLATE_NOOP("Column", "Failed"),
    QT_TRANSLATE_NOOP("Column", "Quantity"),
    QT_TRANSLATE_NOOP("Column", "Max price"),
    QT_TRANSLATE_NOOP("Column", "Last failure"),
)
FAILED, QUANTITY, CAP, FAILURE = 4, 5, 6, 7


def plain_rubles(minor: int | None) -> str:
    """A cap as the operator types it back: 1500, 1299.90 (parse_money reads both)."""
    if minor is None:
        return ""
    rubles, kopecks = divmod(minor, 100)
    return f"{rubles}.{kopecks:02d}" if kopecks else str(rubles)


class EditLinesDialog(QDialog):
    """Attributes:
        order_id: the Order whose lines these are.
        lines: the lines as read when the dialog opened.
        table: a row per line; the Quantity and Max price cells are editable; the last
            failure says why the line's units failed.
        message: why the edit was not saved (a field, or the engine's refusal).
        save_button, retry_button: save; save and queue the failed units again.
        queued: how many units were queued again, once saved.
    Signals:
        saved(int): the engine saved the edit; how many failed units it queued again.
    """

    saved = Signal(int)

    def __init__(
        self,
        db: Database,
        order_id: int,
        edit: EditLines,
        *,
        max_units_per_line: int,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.order_id = order_id
        self._edit = edit
        self._max_units = max_units_per_line
        self.lines: list[LineState] = []
        self.queued = 0
        self.setWindowTitle(fill(self.tr("Order #%1: lines"), order_id))
        self.resize(1000, 320)

        hint = QLabel(
            self.tr(
                "A new price cap holds from the next purchase. A lower quantity cancels the "
                "units beyond it that are not bought or being bought; a higher one adds units."
            )
        )
        hint.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([column_title(c) for c in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        for col, width in enumerate((45, 180, 100, 65, 65, 85, 110)):
            header.resizeSection(col, width)
        header.setStretchLastSection(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {status_color(TaskStatus.FAILED).name()}")
        self.message.setVisible(False)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = QPushButton(self.tr("Save"))
        self.retry_button = QPushButton(self.tr("Save and retry failed"))
        self.retry_button.setToolTip(
            self.tr("Save, then queue the order's failed units again with fresh attempts")
        )
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        self.save_button.clicked.connect(lambda: self.save(retry_failed=False))
        self.retry_button.clicked.connect(lambda: self.save(retry_failed=True))
        self._enable(False)

        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

        def read() -> list[LineState]:
            with db.reading() as s:
                return line_states(s, order_id)

        in_background(read, self.show_lines, self._say)

    def show_lines(self, lines: list[LineState]) -> None:
        self.lines = lines
        self.table.setRowCount(len(lines))
        for row, line in enumerate(lines):
            article = f"{line.article} {line.title}".strip()
            cells = (str(line.line_no), article, line.pickup_point, number(line.bought))
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
            failure = engine_text(line.failure) if line.failed and line.failure else ""
            for col, text in (
                (FAILED, number(line.failed) if line.failed else ""),
                (FAILURE, failure),
            ):
                item = QTableWidgetItem(text)
                item.setForeground(status_color(TaskStatus.FAILED))
                item.setToolTip(failure)
                self.table.setItem(row, col, item)
            quantity = QSpinBox()
            quantity.setRange(max(line.held, 1), max(self._max_units, line.quantity))
            quantity.setValue(line.quantity)
            if line.held:
                quantity.setToolTip(
                    fill(self.tr("At least %1: bought or being bought"), number(line.held))
                )
            self.table.setCellWidget(row, QUANTITY, quantity)
            cap = QLineEdit(plain_rubles(line.max_unit_price_minor))
            cap.setPlaceholderText(self.tr("no cap"))
            cap.setToolTip(self.tr("The most a unit may cost, in rubles; empty: no cap"))
            self.table.setCellWidget(row, CAP, cap)
        failed_units = sum(line.failed for line in lines)
        self._enable(True)
        self.retry_button.setEnabled(failed_units > 0)
        (self.retry_button if failed_units else self.save_button).setDefault(True)

    def quantity_box(self, row: int) -> QSpinBox:
        box = self.table.cellWidget(row, QUANTITY)
        assert isinstance(box, QSpinBox)
        return box

    def cap_edit(self, row: int) -> QLineEdit:
        edit = self.table.cellWidget(row, CAP)
        assert isinstance(edit, QLineEdit)
        return edit

    def edits(self) -> list[LineEdit]:
        """The lines the operator changed; raises ValueError saying, in the operator's
        language, which line's max price is not an amount."""
        out = []
        for row, line in enumerate(self.lines):
            text = self.cap_edit(row).text().strip()
            try:
                cap = parse_money(text) if text else None
            except Refused as exc:
                problem = say(exc.message)
                raise ValueError(
                    fill(self.tr("Line %1, max price: %2"), line.line_no, problem)
                ) from None
            quantity = self.quantity_box(row).value()
            if (cap, quantity) != (line.max_unit_price_minor, line.quantity):
                out.append(LineEdit(line.line_id, cap, quantity))
        return out

    def save(self, *, retry_failed: bool) -> None:
        """Sends the changed lines to the engine (and with `retry_failed` the failed units
        back to the queue); closes once it saved them, else says why and stays open."""
        try:
            edits = self.edits()
        except ValueError as exc:
            self._show_message(str(exc))
            return
        if not edits and not retry_failed:
            self.accept()
            return
        self._enable(False)
        self.message.setVisible(False)
        fut = self._edit(self.order_id, edits, retry_failed=retry_failed)
        when_done(fut, self._saved, self._failed)

    def _saved(self, queued: int) -> None:
        self.queued = queued
        self.saved.emit(queued)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._say(exc)
        self._enable(True)
        self.retry_button.setEnabled(any(line.failed for line in self.lines))

    def _say(self, exc: BaseException) -> None:
        self._show_message(error_text(exc))

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(True)

    def _enable(self, enabled: bool) -> None:
        self.save_button.setEnabled(enabled)
        self.retry_button.setEnabled(enabled)
