"""The Import orders dialog: a CSV/XLSX list previewed row by row, then every Order of
the file created in one transaction, or none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from app.core.domain.states import TaskStatus
from app.core.orders.imports import OrderImportPlan, OrderRow, plan_orders, write_orders
from app.core.storage.db import Database
from app.core.support.text import QT_TRANSLATE_NOOP
from app.ui.common import (
    Index,
    RowsModel,
    counted,
    field_error,
    fill,
    status_background,
    status_color,
)
from app.ui.dialogs.import_dialog import ImportDialog
from app.ui.engine_texts import field_problem

LIST_FILTER = QT_TRANSLATE_NOOP(
    "ImportDialog", "Order lists (*.csv *.xlsx *.xlsm *.txt *.tsv);;All files (*)"
)
ARTICLE, PICKUP_POINT, DETAILS = 3, 5, 8
NEW_BACKGROUND = QColor("#fff8db")  # as the New Order dialog marks a new article


@dataclass(frozen=True)
class _Line:
    """A preview line: RowsModel keys its rows by `id`."""

    id: int
    row: OrderRow


class OrderPlanModel(RowsModel):
    columns = (
        QT_TRANSLATE_NOOP("Column", "Row"),
        QT_TRANSLATE_NOOP("Column", "Client"),
        QT_TRANSLATE_NOOP("Column", "Marketplace"),
        QT_TRANSLATE_NOOP("Column", "Article"),
        QT_TRANSLATE_NOOP("Column", "Qty"),
        QT_TRANSLATE_NOOP("Column", "Pickup point"),
        QT_TRANSLATE_NOOP("Column", "Max price"),
        QT_TRANSLATE_NOOP("Column", "Outcome"),
        QT_TRANSLATE_NOOP("Column", "Details"),
    )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: OrderRow = self.rows[index.row()].row
        col = index.column()
        style = TaskStatus.PURCHASED if r.ok else TaskStatus.FAILED
        if role == Qt.ItemDataRole.DisplayRole:
            outcome = (
                fill(self.tr("order %1, line %2"), str(r.order), str(r.line))
                if r.ok
                else self.tr("error")
            )
            values = (r.row, r.client, r.marketplace, r.article, r.quantity, r.pickup_point)
            details = "; ".join(self._errors(r)) if r.errors else ", ".join(self._new(r))
            return [*values, r.max_unit_price, outcome, details][col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 7:
            return status_color(style)
        if role == Qt.ItemDataRole.BackgroundRole:
            if not r.ok:
                return status_background(style)
            if (col == ARTICLE and r.new_article) or (col == PICKUP_POINT and r.new_pickup_point):
                return NEW_BACKGROUND
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == DETAILS and r.errors:
                return "\n".join(self._errors(r))
            if (col == ARTICLE and r.new_article) or (col == PICKUP_POINT and r.new_pickup_point):
                return self.tr("New: not in the marketplace's catalog yet; the import adds it")
        return None

    def _new(self, r: OrderRow) -> list[str]:
        """What the row adds to the catalog, so that a typo is seen before it is saved."""
        return [
            text
            for new, text in (
                (r.new_article, self.tr("new article")),
                (r.new_pickup_point, self.tr("new pickup point")),
            )
            if new
        ]

    def _errors(self, r: OrderRow) -> list[str]:
        return [field_error(field_problem(e), with_line=False) for e in r.errors]


class OrderImportDialog(ImportDialog):
    """Orders from a CSV/XLSX list: every Order of the file created in one transaction.

    Attributes:
        order_ids: the Orders created, after a successful import.
    Signals:
        imported(list): the new Orders' ids.
    """

    imported = Signal(list)
    file_title = QT_TRANSLATE_NOOP("ImportDialog", "Order list")
    file_filter = LIST_FILTER
    column_widths = (50, 150, 90, 90, 50, 90, 80, 110)

    def __init__(self, db: Database, *, max_units_per_line: int, parent: QWidget | None = None):
        self.max_units = max_units_per_line
        self.order_ids: list[int] = []
        super().__init__(
            db,
            OrderPlanModel(),
            self.tr("A CSV/XLSX list: Клиент; Маркетплейс; Артикул; Количество; ПВЗ; Макс. цена"),
            self.tr("Choose a list to see the orders it holds."),
            parent,
        )
        self.model.setParent(self)
        self.setWindowTitle(self.tr("Import orders"))
        self.resize(1000, 520)

    def make_plan(self, path: str, marketplace: str) -> OrderImportPlan:
        with self.db.reading() as s:
            return plan_orders(
                s, path, default_marketplace=marketplace, max_units_per_line=self.max_units
            )

    def show_plan(self, plan: OrderImportPlan) -> None:
        self.model.set_rows([_Line(n, r) for n, r in enumerate(plan.rows)])
        if plan.ok:
            orders, units = len(plan.orders), plan.units()
            text = fill(
                self.tr("%1, %2 to create."),
                counted(self.tr("%Ln order(s)", "", orders), orders),
                counted(self.tr("%Ln unit(s)", "", units), units),
            )
            articles, points = plan.new_entries()
            if articles or points:
                text += " " + fill(
                    self.tr("New in the catalog: %1, %2."),
                    counted(self.tr("%Ln article(s)", "", articles), articles),
                    counted(self.tr("%Ln pickup point(s)", "", points), points),
                )
            self.show_summary(text, plan.notes)
        else:
            bad = sum(1 for r in plan.rows if not r.ok)
            text = self.tr(
                "%Ln row(s) with errors; nothing will be imported until the list is fixed.", "", bad
            )
            self.show_error(counted(text, bad))
        self.import_button.setEnabled(plan.ok)

    def write(self, plan: OrderImportPlan) -> list[int]:
        return write_orders(self.db, plan, max_units_per_line=self.max_units)

    def written(self, ids: list[int]) -> None:
        self.order_ids = ids
        self.imported.emit(ids)
        self.accept()
