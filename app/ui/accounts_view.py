"""The Accounts view: every marketplace account, whether it is busy, its purchases
today and its last error."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

from app.core.queries import AccountRow
from app.ui.common import local_time, status_color

Index = QModelIndex | QPersistentModelIndex
COLUMNS = [
    "Login",
    "Marketplace",
    "Label",
    "Status",
    "Busy",
    "Purchases today",
    "Last used",
    "Last error",
]
ACCOUNT_COLORS = {"active": "purchased", "disabled": "cancelled", "blocked": "failed"}


class AccountsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None):
        super().__init__(parent)
        self.rows: list[AccountRow] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.tr(COLUMNS[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return [
                r.login,
                r.marketplace,
                r.label,
                r.status,
                self.tr("busy") if r.busy else "",
                str(r.purchases_today),
                local_time(r.last_used_at, True),
                r.last_error,
            ][col]
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 3:
                return status_color(ACCOUNT_COLORS.get(r.status, "pending"))
            if col == 4 and r.busy:
                return status_color("running")
            if col == 7:
                return status_color("failed")
        if role == Qt.ItemDataRole.ToolTipRole and col == 7 and r.last_error:
            return r.last_error
        return None

    def set_rows(self, rows: list[AccountRow]) -> None:
        if [r.id for r in rows] == [r.id for r in self.rows]:
            self.rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()


class AccountsView(QTableView):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.accounts = AccountsModel(self)
        self.setModel(self.accounts)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(24)
        self.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate((120, 130, 80, 80, 60, 120, 140)):
            self.horizontalHeader().resizeSection(col, width)
