"""The Import accounts dialog: pick a list, a storage-state file or a folder, preview what
each row does, then import all accepted rows at once (or nothing on Cancel)."""

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
from sqlalchemy import select

from app.core.account_import import ImportPlan, ImportRow, Outcome, apply_import, plan_import
from app.core.db import Database
from app.core.models import MarketPlace
from app.ui.common import Index, RowsModel, in_background, status_background, status_color

# Outcomes in the Task status palette: add like a purchase, update like running work.
OUTCOME_STYLE = {
    Outcome.ADD: "purchased",
    Outcome.UPDATE: "running",
    Outcome.SKIP: "cancelled",
    Outcome.REJECT: "failed",
}
LIST_FILTER = "Account lists (*.csv *.xlsx *.xlsm *.txt *.tsv *.json);;All files (*)"


@dataclass(frozen=True)
class _Line:
    """A preview line: RowsModel keys its rows by `id`."""

    id: int
    row: ImportRow


class PlanModel(RowsModel):
    columns = ("Row / file", "Login", "Marketplace", "Outcome", "Details")

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: ImportRow = self.rows[index.row()].row
        col = index.column()
        style = OUTCOME_STYLE[r.outcome]
        if role == Qt.ItemDataRole.DisplayRole:
            details = r.reason or (
                self.tr("changes %1").replace("%1", ", ".join(r.changes)) if r.changes else ""
            )
            return [r.where or r.source, r.login, r.marketplace, str(r.outcome), details][col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 3:
            return status_color(style)
        if role == Qt.ItemDataRole.BackgroundRole:
            return status_background(style)
        if role == Qt.ItemDataRole.ToolTipRole and col == 4:
            return r.reason or None
        return None


class AccountImportDialog(QDialog):
    """Attributes:
        path_edit, marketplace_box: the source and the marketplace of rows naming none.
        preview: the table of the plan; summary: its counts or why the source was refused.
        import_button: imports the accepted rows (enabled when there are some).
        plan: the current plan, or None.
    Signals:
        imported(dict): the counts by outcome, after a successful import.
    """

    imported = Signal(dict)

    def __init__(self, db: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self.db = db
        self.plan: ImportPlan | None = None
        self._request = 0  # counts previews: only the latest one's answer is shown
        self._planned: tuple[str, str] | None = None  # (path, marketplace) of the latest
        self.setWindowTitle(self.tr("Import accounts"))
        self.resize(900, 520)

        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(
            self.tr("A CSV/XLSX list, a storage-state .json, or a folder of sessions or profiles")
        )
        # Leaving the field (say, to click Import) re-reads only a changed path; Enter
        # always re-reads, for a file fixed meanwhile.
        self.path_edit.editingFinished.connect(self.refresh_preview)
        self.path_edit.returnPressed.connect(lambda: self.refresh_preview(force=True))
        file_button = QPushButton(self.tr("File…"))
        file_button.clicked.connect(self._pick_file)
        folder_button = QPushButton(self.tr("Folder…"))
        folder_button.clicked.connect(self._pick_folder)
        self.marketplace_box = QComboBox()
        self.marketplace_box.setToolTip(self.tr("The marketplace of rows that name none"))
        self.marketplace_box.currentIndexChanged.connect(lambda _index: self.refresh_preview())
        source = QHBoxLayout()
        source.addWidget(self.path_edit, 1)
        source.addWidget(file_button)
        source.addWidget(folder_button)
        source.addWidget(QLabel(self.tr("Marketplace:")))
        source.addWidget(self.marketplace_box)

        self.model = PlanModel(self)
        self.preview = QTableView()
        self.preview.setModel(self.model)
        self.preview.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview.verticalHeader().setVisible(False)
        self.preview.verticalHeader().setDefaultSectionSize(24)
        self.preview.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate((150, 170, 100, 70)):
            self.preview.horizontalHeader().resizeSection(col, width)
        self.summary = QLabel(self.tr("Choose a file or folder to see what it holds."))
        self.summary.setWordWrap(True)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = buttons.addButton(
            self.tr("Import"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setEnabled(False)
        # Enter in the path field previews; it must not import what was shown before.
        self.import_button.setAutoDefault(False)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
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
            return list(s.scalars(select(MarketPlace.code).order_by(MarketPlace.code)))

    def _show_marketplaces(self, codes: list[str]) -> None:
        self._markets_loaded = True
        self.marketplace_box.blockSignals(True)
        self.marketplace_box.addItems(codes)
        self.marketplace_box.blockSignals(False)
        self.refresh_preview(force=True)  # a source chosen meanwhile is read now

    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Account list or storage state"), "", self.tr(LIST_FILTER)
        )
        if path:
            self.choose(path)

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, self.tr("Folder of storage states or browser profiles")
        )
        if path:
            self.choose(path)

    def choose(self, path: str | Path) -> None:
        self.path_edit.setText(str(path))
        self.refresh_preview(force=True)

    def refresh_preview(self, force: bool = False) -> None:
        """Plans the import of the chosen source off the GUI thread (writes nothing)."""
        path, market = self.path_edit.text().strip(), self.marketplace_box.currentText()
        if not self._markets_loaded or not path or (not force and (path, market) == self._planned):
            return  # planned once the marketplaces are known (rows may name none)
        self._planned = (path, market)
        self._request += 1
        request = self._request
        self.plan = None
        self.import_button.setEnabled(False)
        self.summary.setText(self.tr("Reading %1…").replace("%1", path))

        def read() -> ImportPlan:
            with self.db.session() as s:
                return plan_import(s, path, default_marketplace=market)

        def show(plan: ImportPlan) -> None:
            if request == self._request:  # else the operator chose another source meanwhile
                self._show_plan(plan)

        def refused(exc: BaseException) -> None:
            if request == self._request:
                self.model.set_rows([])
                self._show_error(exc)

        in_background(read, show, refused)

    def _show_plan(self, plan: ImportPlan) -> None:
        self.plan = plan
        self.model.set_rows([_Line(n, r) for n, r in enumerate(plan.rows)])
        c = plan.counts()
        text = (
            self.tr("%1 to add, %2 to update, %3 skipped, %4 rejected.")
            .replace("%1", str(c["add"]))
            .replace("%2", str(c["update"]))
            .replace("%3", str(c["skip"]))
            .replace("%4", str(c["reject"]))
        )
        if plan.notes:
            text += " " + "; ".join(plan.notes).capitalize() + "."
        self.summary.setStyleSheet("")
        self.summary.setText(text)
        self.import_button.setEnabled(bool(plan.accepted()))

    def _show_error(self, exc: BaseException) -> None:
        self.summary.setStyleSheet(f"color: {status_color('failed').name()}")
        self.summary.setText(str(exc))

    def import_plan(self) -> None:
        """Writes every accepted row in one transaction, then closes; on an error the
        dialog stays with the reason and nothing is written."""
        plan = self.plan
        if plan is None or not plan.accepted():
            return
        self.import_button.setEnabled(False)

        def write() -> dict[str, int]:
            with self.db.session() as s:
                counts = apply_import(s, plan)
                s.commit()
                return counts

        def done(counts: dict[str, int]) -> None:
            self.imported.emit(counts)
            self.accept()

        in_background(write, done, self._show_error)
