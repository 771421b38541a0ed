"""The Orders view: one row per Order with its progress bars and status."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QRect, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from app.core.domain.states import ORDER_OPEN, OrderStatus, TaskStatus
from app.core.storage.queries import OrderRow
from app.core.support.text import QT_TRANSLATE_NOOP
from app.ui.common import Index, RowsModel, fill, local_time, number, status_color, status_label

COLUMNS = [
    QT_TRANSLATE_NOOP("Column", "Order"),
    QT_TRANSLATE_NOOP("Column", "Client"),
    QT_TRANSLATE_NOOP("Column", "Marketplace"),
    QT_TRANSLATE_NOOP("Column", "Created"),
    QT_TRANSLATE_NOOP("Column", "Lines"),
    QT_TRANSLATE_NOOP("Column", "Purchased"),
    QT_TRANSLATE_NOOP("Column", "Delivered"),
    QT_TRANSLATE_NOOP("Column", "Failed"),
    QT_TRANSLATE_NOOP("Column", "Status"),
]
PURCHASED, DELIVERED, PROBLEMS, STATUS = 5, 6, 7, 8
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 1


class OrdersModel(RowsModel):
    """The newest Orders with their progress (a small list, reloaded when progress moves).

    Attributes:
        rows: OrderRow per row, newest first.
        notes: why purchases cannot start on a marketplace, by its name: said in the Status
            cell of its Orders with units to buy (set_notes).
    """

    columns = tuple(COLUMNS)

    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.notes: dict[str, str] = {}

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if col == STATUS and (note := self._note(r, role)) is not None:
            return note
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(r, col)
        if role == PROGRESS_ROLE and col in (PURCHASED, DELIVERED):
            return (r.purchased if col == PURCHASED else r.delivered, r.total)
        if role == Qt.ItemDataRole.ForegroundRole and col == STATUS:
            return status_color(r.status)
        if role == Qt.ItemDataRole.ForegroundRole and col == PROBLEMS and (r.failed or r.review):
            return status_color(TaskStatus.FAILED)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(r, col) or None
        return None

    def _text(self, r: OrderRow, col: int) -> str:
        return [
            f"#{r.id}",
            r.client,
            r.marketplace,
            local_time(r.created_at, True),
            number(r.lines),
            f"{number(r.purchased)} / {number(r.total)}",
            f"{number(r.delivered)} / {number(r.total)}",
            _problems(r),
            status_label(r.status),
        ][col]

    def _tooltip(self, r: OrderRow, col: int) -> str:
        """A cell's whole text, however narrow its column; a figure says what it counts."""
        bought = fill(self.tr("%1 of %2 units bought"), number(r.purchased), number(r.total))
        if col == PURCHASED:
            return bought
        if col == DELIVERED:
            return fill(
                self.tr("%1 of %2 units delivered to the pickup point"),
                number(r.delivered),
                number(r.total),
            )
        if col == PROBLEMS:
            lines = [fill(self.tr("Units failed: %1"), number(r.failed))] if r.failed else []
            if r.review:
                lines.append(fill(self.tr("Units to review: %1"), number(r.review)))
            return "\n".join(lines)
        if col == STATUS and r.status in (OrderStatus.PARTLY_BOUGHT, OrderStatus.FAILED):
            return f"{status_label(r.status)}: {bought}"
        return self._text(r, col)

    def order_id(self, row: int) -> int | None:
        return self.rows[row].id if 0 <= row < len(self.rows) else None

    def set_notes(self, notes: dict[str, str]) -> None:
        self.notes = dict(notes)
        if self.rows:
            self.dataChanged.emit(self.index(0, STATUS), self.index(len(self.rows) - 1, STATUS))

    def _note(self, r: OrderRow, role: int) -> Any:
        """The Status cell of an Order waiting on a marketplace whose purchases cannot
        start: the status and why, in red; None for every other cell."""
        note = self.notes.get(r.marketplace)
        if note is None or r.status not in ORDER_OPEN:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return fill(self.tr("%1: cannot start: %2"), status_label(r.status), note)
        if role == Qt.ItemDataRole.ForegroundRole:
            return status_color(TaskStatus.FAILED)
        return None


def _problems(r: OrderRow) -> str:
    """Failed units, and those waiting for the operator's review."""
    parts = [number(r.failed)] if r.failed else []
    if r.review:
        parts.append(fill(QCoreApplication.translate("OrdersModel", "%1 review"), number(r.review)))
    return " + ".join(parts)


class ProgressDelegate(QStyledItemDelegate):
    """Draws "done of total" as a progress bar."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        value = index.data(PROGRESS_ROLE)
        if value is None:
            super().paint(painter, option, index)
            return
        done, total = value
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect.adjusted(3, 3, -3, -3))
        bar.minimum, bar.maximum = 0, max(total, 1)
        bar.progress = done
        bar.text = f"{number(done)} / {number(total)}"
        bar.textVisible = True
        # Qt 6 draws a bar vertically unless told otherwise: a part-filled vertical bar
        # behind the text read as struck through.
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class OrdersView(QTableView):
    """The Orders table; its context menu (app.ui.window.context_menus) holds the Order
    menu's commands."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.orders = OrdersModel(self)
        self.setModel(self.orders)
        self.setItemDelegate(ProgressDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(26)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((60, 180, 120, 165, 60, 150, 150, 75, 100)):
            header.resizeSection(col, width)

    def current_order(self) -> int | None:
        rows = self.selectionModel().selectedRows()
        return self.orders.order_id(rows[0].row()) if rows else None

    def current_row(self) -> OrderRow | None:
        order_id = self.current_order()
        return next((r for r in self.orders.rows if r.id == order_id), None)
