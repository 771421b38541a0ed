"""The Accounts view: every marketplace account, whether it is busy, its purchases
today and its last error."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

from app.ui.common import Index, RowsModel, local_time, status_color

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


class AccountsModel(RowsModel):
    columns = tuple(COLUMNS)

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
