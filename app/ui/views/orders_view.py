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

from app.core.domain.states import TaskStatus
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
PURCHASED, DELIVERED = 5, 6
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 1


class OrdersModel(RowsModel):
    """The newest Orders with their progress (a small list, reloaded when progress moves).

    Attributes:
        rows: OrderRow per row, newest first.
    """

    columns = tuple(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
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
        if role == PROGRESS_ROLE and col in (PURCHASED, DELIVERED):
            return (r.purchased if col == PURCHASED else r.delivered, r.total)
        if role == Qt.ItemDataRole.ForegroundRole and col == 8:
            return status_color(r.status)
        if role == Qt.ItemDataRole.ForegroundRole and col == 7 and (r.failed or r.review):
            return status_color(TaskStatus.FAILED)
        return None

    def order_id(self, row: int) -> int | None:
        return self.rows[row].id if 0 <= row < len(self.rows) else None


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
    """The Orders table."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.orders = OrdersModel(self)
        self.setModel(self.orders)
        self.setItemDelegate(ProgressDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
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
