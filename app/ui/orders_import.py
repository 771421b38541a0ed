"""The Import orders dialog: a CSV/XLSX list previewed row by row, then every Order of
the file created in one transaction, or none."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.db import Database
from app.core.order_import import OrderImportPlan, OrderRow, plan_orders, write_orders
from app.core.orders import load_catalogs
from app.ui.common import Index, RowsModel, in_background, status_background, status_color

LIST_FILTER = "Order lists (*.csv *.xlsx *.xlsm *.txt *.tsv);;All files (*)"


@dataclass(frozen=True)
class _Line:
    """A preview line: RowsModel keys its rows by `id`."""

    id: int
    row: OrderRow


class OrderPlanModel(RowsModel):
    columns = (
        "Row",
        "Client",
        "Marketplace",
        "Article",
        "Qty",
        "Pickup point",
        "Max price",
        "Outcome",
        "Details",
    )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: OrderRow = self.rows[index.row()].row
        col = index.column()
        style = "purchased" if r.ok else "failed"
        if role == Qt.ItemDataRole.DisplayRole:
            outcome = (
                self.tr("order %1, line %2").replace("%1", str(r.order)).replace("%2", str(r.line))
                if r.ok
                else self.tr("error")
            )
            values = (r.row, r.client, r.marketplace, r.article, r.quantity, r.pickup_point)
            return [*values, r.max_unit_price, outcome, "; ".join(r.errors)][col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 7:
            return status_color(style)
        if role == Qt.ItemDataRole.BackgroundRole and not r.ok:
            return status_background(style)
        if role == Qt.ItemDataRole.ToolTipRole and col == 8 and r.errors:
            return "\n".join(r.errors)
        return None


class OrderImportDialog(QDialog):
    """Attributes:
        path_edit, marketplace_box: the list and the marketplace of rows naming none.
        preview: the table of the plan; summary: its counts, or why the list was refused.
        import_button: creates the Orders (enabled only when every row is fine).
        plan: the current plan, or None.
        order_ids: the Orders created, after a successful import.
    Signals:
        imported(list): the new Orders' ids.
    """

    imported = Signal(list)

    def __init__(self, db: Database, *, max_units_per_line: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.db = db
        self.max_units = max_units_per_line
        self.plan: OrderImportPlan | None = None
        self.order_ids: list[int] = []
        self._request = 0  # counts previews: only the latest one's answer is shown
        self.setWindowTitle(self.tr("Import orders"))
        self.resize(1000, 520)

        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(
            self.tr("A CSV/XLSX list: Клиент; Маркетплейс; Артикул; Количество; ПВЗ; Макс. цена")
        )
        self.path_edit.returnPressed.connect(self.refresh_preview)
        file_button = QPushButton(self.tr("File…"))
        file_button.clicked.connect(self._pick_file)
        self.marketplace_box = QComboBox()
        self.marketplace_box.setToolTip(self.tr("The marketplace of rows that name none"))
        self.marketplace_box.currentIndexChanged.connect(lambda _index: self.refresh_preview())
        source = QHBoxLayout()
        source.addWidget(self.path_edit, 1)
        source.addWidget(file_button)
        source.addWidget(QLabel(self.tr("Marketplace:")))
        source.addWidget(self.marketplace_box)

        self.model = OrderPlanModel(self)
        self.preview = QTableView()
        self.preview.setModel(self.model)
        self.preview.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview.verticalHeader().setVisible(False)
        self.preview.verticalHeader().setDefaultSectionSize(24)
        self.preview.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate((50, 150, 90, 90, 50, 90, 80, 110)):
            self.preview.horizontalHeader().resizeSection(col, width)
        self.summary = QLabel(self.tr("Choose a list to see the orders it holds."))
        self.summary.setWordWrap(True)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = buttons.addButton(
            self.tr("Import"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setEnabled(False)
        self.import_button.setAutoDefault(False)  # Enter in the path field previews
        buttons.accepted.connect(self.import_plan)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(source)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        self._markets_loaded = False
        in_background(self._marketplaces, self._show_marketplaces)

    def _marketplaces(self) -> list[str]:
        with self.db.session() as s:
            return sorted(load_catalogs(s))

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Order list"), "", self.tr(LIST_FILTER))
        if path:
            self.choose(path)

    def choose(self, path: str | Path) -> None:
        self.path_edit.setText(str(path))
        self.refresh_preview()

    def _show_marketplaces(self, codes: list[str]) -> None:
        self._markets_loaded = True
        self.marketplace_box.blockSignals(True)
        self.marketplace_box.addItems(codes)
        self.marketplace_box.blockSignals(False)
        self.refresh_preview()  # a file chosen meanwhile is read now

    def refresh_preview(self) -> None:
        """Plans the import off the GUI thread (writes nothing)."""
        path, market = self.path_edit.text().strip(), self.marketplace_box.currentText()
        if not self._markets_loaded:
            return  # planned once the marketplaces are known (rows may name none)
        if not path:
            return
        self._request += 1
        request = self._request
        self.plan = None
        self.import_button.setEnabled(False)
        self.summary.setStyleSheet("")
        self.summary.setText(self.tr("Reading %1…").replace("%1", path))

        def read() -> OrderImportPlan:
            with self.db.session() as s:
                return plan_orders(
                    s, path, default_marketplace=market, max_units_per_line=self.max_units
                )

        def show(plan: OrderImportPlan) -> None:
            if request == self._request:  # else the operator chose another list meanwhile
                self._show_plan(plan)

        def refused(exc: BaseException) -> None:
            if request == self._request:
                self.model.set_rows([])
                self._show_error(exc)

        in_background(read, show, refused)

    def _show_plan(self, plan: OrderImportPlan) -> None:
        self.plan = plan
        self.model.set_rows([_Line(n, r) for n, r in enumerate(plan.rows)])
        notes = (" " + "; ".join(plan.notes).capitalize() + ".") if plan.notes else ""
        if plan.ok:
            self.summary.setStyleSheet("")
            self.summary.setText(
                self.tr("%1 orders, %2 units to create.")
                .replace("%1", str(len(plan.orders)))
                .replace("%2", str(plan.units()))
                + notes
            )
        else:
            bad = sum(1 for r in plan.rows if not r.ok)
            self._show_error(
                self.tr(
                    "%1 rows have errors; nothing will be imported until they are fixed."
                ).replace("%1", str(bad))
                + notes
            )
        self.import_button.setEnabled(plan.ok)

    def _show_error(self, exc: BaseException | str) -> None:
        self.summary.setStyleSheet(f"color: {status_color('failed').name()}")
        self.summary.setText(str(exc))

    def import_plan(self) -> None:
        """Creates every Order in one transaction off the GUI thread, then closes; on an
        error the dialog stays with the reason and nothing is written."""
        plan = self.plan
        if plan is None or not plan.ok:
            return
        self.import_button.setEnabled(False)

        def write() -> list[int]:
            return write_orders(self.db, plan, max_units_per_line=self.max_units)

        def done(ids: list[int]) -> None:
            self.order_ids = ids
            self.imported.emit(ids)
            self.accept()

        in_background(write, done, self._show_error)
