"""The Import accounts dialog: pick a list, a storage-state file or a folder, preview what
each row does, then import all accepted rows at once (or nothing on Cancel)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from app.core.accounts.imports import ImportPlan, ImportRow, Outcome, apply_import, plan_import
from app.core.domain.states import TaskStatus
from app.core.storage.db import Database
from app.core.support.text import QT_TRANSLATE_NOOP
from app.ui.common import Index, RowsModel, fill, number, status_background, status_color
from app.ui.dialogs.import_dialog import ImportDialog
from app.ui.engine_texts import engine_text

# Outcomes in the Task status palette: add like a purchase, update like running work.
OUTCOME_LABELS = {
    Outcome.ADD: QT_TRANSLATE_NOOP("PlanModel", "add"),
    Outcome.UPDATE: QT_TRANSLATE_NOOP("PlanModel", "update"),
    Outcome.SKIP: QT_TRANSLATE_NOOP("PlanModel", "skip"),
    Outcome.REJECT: QT_TRANSLATE_NOOP("PlanModel", "reject"),
}
OUTCOME_STYLE = {
    Outcome.ADD: TaskStatus.PURCHASED,
    Outcome.UPDATE: TaskStatus.RUNNING,
    Outcome.SKIP: TaskStatus.CANCELLED,
    Outcome.REJECT: TaskStatus.FAILED,
}
LIST_FILTER = QT_TRANSLATE_NOOP(
    "ImportDialog", "Account lists (*.csv *.xlsx *.xlsm *.txt *.tsv *.json);;All files (*)"
)


@dataclass(frozen=True)
class _Line:
    """A preview line: RowsModel keys its rows by `id`."""

    id: int
    row: ImportRow


class PlanModel(RowsModel):
    columns = (
        QT_TRANSLATE_NOOP("Column", "Row / file"),
        QT_TRANSLATE_NOOP("Column", "Login"),
        QT_TRANSLATE_NOOP("Column", "Marketplace"),
        QT_TRANSLATE_NOOP("Column", "Outcome"),
        QT_TRANSLATE_NOOP("Column", "Details"),
    )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: ImportRow = self.rows[index.row()].row
        col = index.column()
        style = OUTCOME_STYLE[r.outcome]
        if role == Qt.ItemDataRole.DisplayRole:
            details = engine_text(r.reason) or (
                fill(self.tr("changes %1"), ", ".join(map(engine_text, r.changes)))
                if r.changes
                else ""
            )
            outcome = self.tr(OUTCOME_LABELS[r.outcome])
            where = engine_text(r.where) or r.source
            return [where, r.login, r.marketplace, outcome, details][col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 3:
            return status_color(style)
        if role == Qt.ItemDataRole.BackgroundRole:
            return status_background(style)
        if role == Qt.ItemDataRole.ToolTipRole and col == 4:
            return engine_text(r.reason) or None
        return None


class AccountImportDialog(ImportDialog):
    """Accounts from a list, a storage-state file or a folder of sessions or profiles.

    Signals:
        imported(dict): the counts by outcome, after a successful import.
    """

    imported = Signal(dict)
    file_title = QT_TRANSLATE_NOOP("ImportDialog", "Account list or storage state")
    file_filter = LIST_FILTER
    folder_title = QT_TRANSLATE_NOOP("ImportDialog", "Folder of storage states or browser profiles")
    column_widths = (150, 170, 100, 70)

    def __init__(self, db: Database, parent: QWidget | None = None):
        super().__init__(
            db,
            PlanModel(),
            self.tr("A CSV/XLSX list, a storage-state .json, or a folder of sessions or profiles"),
            self.tr("Choose a file or folder to see what it holds."),
            parent,
        )
        self.model.setParent(self)
        self.setWindowTitle(self.tr("Import accounts"))
        self.resize(900, 520)

    def make_plan(self, path: str, marketplace: str) -> ImportPlan:
        with self.db.reading() as s:
            return plan_import(s, path, default_marketplace=marketplace)

    def show_plan(self, plan: ImportPlan) -> None:
        self.model.set_rows([_Line(n, r) for n, r in enumerate(plan.rows)])
        c = plan.counts()
        self.show_summary(
            fill(
                self.tr("%1 to add, %2 to update, %3 skipped, %4 rejected."),
                number(c["add"]),
                number(c["update"]),
                number(c["skip"]),
                number(c["reject"]),
            ),
            plan.notes,
        )
        self.import_button.setEnabled(bool(plan.accepted()))

    def write(self, plan: ImportPlan) -> dict[str, int]:
        with self.db.session() as s:
            counts = apply_import(s, plan)
            s.commit()
            return counts

    def written(self, counts: dict[str, int]) -> None:
        self.imported.emit(counts)
        self.accept()
