"""The shape every import dialog shares: a source picked or typed, previewed as a plan off
the GUI thread (writing nothing), then written at once on Import, or nothing on Cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.storage.db import Database
from app.core.storage.markets import MarketIndex
from app.core.support.text import QT_TRANSLATE_NOOP
from app.ui import folders
from app.ui.common import (
    RowsModel,
    fill,
    in_background,
    status_color,
)
from app.ui.engine_texts import engine_text


def _translated(source: str) -> str:
    return QCoreApplication.translate("ImportDialog", source) if source else ""


class ImportDialog(QDialog):
    """Subclasses provide the model, how to plan and write, and the words.

    Attributes:
        path_edit, marketplace_box: the source, and the marketplace of rows naming none.
        model, preview: the plan's rows and their table.
        summary: the plan's counts, or why the source was refused.
        import_button, cancel_button: write the plan; close writing nothing.
        plan: the plan shown, once read.
    """

    # Marked with QT_TRANSLATE_NOOP("ImportDialog", ...) where set, translated when shown.
    file_title = QT_TRANSLATE_NOOP("ImportDialog", "Import")
    file_filter = QT_TRANSLATE_NOOP("ImportDialog", "All files (*)")
    folder_title: str | None = None  # a Folder… button too, with this title
    column_widths: tuple[int, ...] = ()

    def __init__(
        self,
        db: Database,
        model: RowsModel,
        placeholder: str,
        hint: str,
        parent: QWidget | None,
        *,
        marketplace: str = "",
    ):
        """`marketplace`: the code chosen at first for rows that name none."""
        super().__init__(parent)
        self.db = db
        self._preferred_marketplace = marketplace
        self.model = model
        self.plan: Any = None
        self._request = 0  # the latest planning request: older answers are dropped
        self._planned: tuple[str, str] | None = None
        self._markets_loaded = False

        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(placeholder)
        # Leaving the field (say, to click Import) re-reads only a changed path; Enter
        # always re-reads, for a file fixed meanwhile.
        self.path_edit.editingFinished.connect(self.refresh_preview)
        self.path_edit.returnPressed.connect(lambda: self.refresh_preview(force=True))
        self.marketplace_box = QComboBox()
        self.marketplace_box.setToolTip(self.tr("The marketplace of rows that name none"))
        self.marketplace_box.currentIndexChanged.connect(lambda _index: self.refresh_preview())
        source = QHBoxLayout()
        source.addWidget(self.path_edit, 1)
        file_button = QPushButton(self.tr("File…"))
        file_button.clicked.connect(self._pick_file)
        source.addWidget(file_button)
        if self.folder_title:
            folder_button = QPushButton(self.tr("Folder…"))
            folder_button.clicked.connect(self._pick_folder)
            source.addWidget(folder_button)
        source.addWidget(QLabel(self.tr("Marketplace:")))
        source.addWidget(self.marketplace_box)

        self.preview = QTableView()
        self.preview.setModel(model)
        self.preview.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview.verticalHeader().setVisible(False)
        self.preview.verticalHeader().setDefaultSectionSize(24)
        self.preview.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate(self.column_widths):
            self.preview.horizontalHeader().resizeSection(col, width)
        self.summary = QLabel(hint)
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
        in_background(self.marketplaces, self._show_marketplaces)

    # -- what subclasses say -----------------------------------------------------------

    def marketplaces(self) -> list[str]:
        """Marketplace codes to offer: the enabled ones (runs off the GUI thread)."""
        with self.db.reading() as s:
            return sorted(m.code for m in MarketIndex.load(s).markets if m.enabled)

    def make_plan(self, path: str, marketplace: str) -> Any:
        """Reads the source into a plan, writing nothing (runs off the GUI thread)."""
        raise NotImplementedError

    def show_plan(self, plan: Any) -> None:
        """Fills the preview and summary, and enables Import if there is something to do."""
        raise NotImplementedError

    def write(self, plan: Any) -> Any:
        """Writes the plan in one transaction (runs off the GUI thread)."""
        raise NotImplementedError

    def written(self, result: Any) -> None:
        """The plan is written: tell the window, then close."""
        self.accept()

    # -- the shared mechanics ----------------------------------------------------------

    def _show_marketplaces(self, codes: list[str]) -> None:
        self._markets_loaded = True
        self.marketplace_box.blockSignals(True)
        self.marketplace_box.addItems(codes)
        if self._preferred_marketplace in codes:
            self.marketplace_box.setCurrentIndex(codes.index(self._preferred_marketplace))
        self.marketplace_box.blockSignals(False)
        self.refresh_preview(force=True)  # a source chosen meanwhile is read now

    def _pick_file(self) -> None:
        # Each kind of import (the subclass) remembers its own folder.
        path = folders.open_file(
            self, type(self).__name__, _translated(self.file_title), _translated(self.file_filter)
        )
        if path:
            self.choose(path)

    def _pick_folder(self) -> None:
        title = _translated(self.folder_title or "")
        path = folders.open_folder(self, type(self).__name__, title)
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
        self.summary.setStyleSheet("")
        self.summary.setText(fill(self.tr("Reading %1…"), path))

        def show(plan: Any) -> None:
            if request == self._request:  # else the operator chose another source meanwhile
                self.plan = plan
                self.show_plan(plan)

        def refused(exc: BaseException) -> None:
            if request == self._request:
                self.model.set_rows([])
                self.show_error(exc)

        in_background(lambda: self.make_plan(path, market), show, refused)

    def show_summary(self, text: str, notes: list[str]) -> None:
        if notes:
            said = "; ".join(engine_text(n) for n in notes)
            text += f" {said[:1].upper()}{said[1:]}."
        self.summary.setStyleSheet("")
        self.summary.setText(text)

    def show_error(self, exc: BaseException | str) -> None:
        self.summary.setStyleSheet(f"color: {status_color('failed').name()}")
        self.summary.setText(str(exc))

    def import_plan(self) -> None:
        """Writes the plan off the GUI thread, then closes; on an error the dialog stays
        with the reason and nothing is written."""
        plan = self.plan
        if plan is None or not self.import_button.isEnabled():
            return
        self.import_button.setEnabled(False)
        in_background(lambda: self.write(plan), self.written, self.show_error)
