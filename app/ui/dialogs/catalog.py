"""The Catalog dialog: a marketplace's articles and pickup points, their titles and
addresses edited in place (saved at once), and a list of them imported with a preview."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.core.domain.states import TaskStatus
from app.core.orders.catalog import (
    EXAMPLE_HEADER,
    CatalogEntry,
    CatalogListing,
    CatalogPlan,
    CatalogRow,
    Change,
    apply_catalog,
    catalog_listings,
    plan_catalog,
    set_article_title,
    set_point_address,
)
from app.core.storage.db import Database
from app.core.storage.markets import MarketIndex, MarketRef
from app.core.support.text import QT_TRANSLATE_NOOP
from app.ui.common import (
    Index,
    RowsModel,
    counted,
    error_text,
    field_error,
    fill,
    in_background,
    number,
    status_background,
    status_color,
)
from app.ui.dialogs.import_dialog import ImportDialog

LIST_FILTER = QT_TRANSLATE_NOOP(
    "ImportDialog", "Catalog lists (*.csv *.xlsx *.xlsm *.txt *.tsv);;All files (*)"
)
TEXT = 1  # the column edited in place: an article's title, a pickup point's address


class EntriesModel(RowsModel):
    """Articles (number, title) or pickup points (code, address); the second column is
    edited in place.

    Signals:
        edited(int, str): an entry's id and its new text, as the operator typed it.
    """

    edited = Signal(int, str)

    def __init__(self, columns: tuple[str, str], parent: Any = None):
        super().__init__(parent)
        self.columns = columns

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry: CatalogEntry = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return (entry.key, entry.text)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == TEXT:
            return self.tr("Double-click or F2 to edit; saved when you press Enter")
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == TEXT:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or index.column() != TEXT or role != Qt.ItemDataRole.EditRole:
            return False
        entry: CatalogEntry = self.rows[index.row()]
        text = " ".join(str(value).split())
        if text == entry.text:
            return False
        self.put(replace(entry, text=text))
        self.edited.emit(entry.id, text)
        return True

    def put(self, entry: CatalogEntry) -> None:
        """Shows an entry's new text (typed, or as stored once saved)."""
        for row, shown in enumerate(self.rows):
            if shown.id == entry.id:
                self.rows[row] = entry
                self.dataChanged.emit(self.index(row, TEXT), self.index(row, TEXT))
                return


def _entries_view(model: EntriesModel, proxy: QSortFilterProxyModel) -> QTableView:
    proxy.setSourceModel(model)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setFilterKeyColumn(-1)  # any column
    view = QTableView()
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(
        QAbstractItemView.EditTrigger.DoubleClicked
        | QAbstractItemView.EditTrigger.EditKeyPressed
        | QAbstractItemView.EditTrigger.AnyKeyPressed
    )
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    header = view.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return view


class CatalogDialog(QDialog):
    """One marketplace's catalog at a time: its articles and pickup points.

    Attributes:
        marketplace_box: the marketplace shown (item data: its id).
        filter_edit: shows only the entries holding its text.
        articles, points: the entries' models; articles_view, points_view their tables.
        articles_label, points_label: the counts above the tables.
        import_button: opens the import of a list into this marketplace's catalog.
        status_label: what the last edit or import did, or why it failed.
        import_dialog: the import dialog, while it is open.

    Signals:
        saved(): an edit is stored (the tests wait for it).
    """

    saved = Signal()

    def __init__(
        self, db: Database, parent: QWidget | None = None, marketplace_id: int | None = None
    ):
        super().__init__(parent)
        self.db = db
        self.import_dialog: CatalogImportDialog | None = None
        self._wanted = marketplace_id
        self._markets: dict[int, MarketRef] = {}
        self._request = 0
        self.setWindowTitle(self.tr("Catalog"))
        self.resize(980, 560)

        self.marketplace_box = QComboBox()
        self.marketplace_box.setToolTip(self.tr("The marketplace whose catalog is shown"))
        self.marketplace_box.currentIndexChanged.connect(lambda _index: self.reload())
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(self.tr("Filter: number, title, code or address"))
        self.filter_edit.setClearButtonEnabled(True)
        self.import_button = QPushButton(self.tr("&Import…"))
        self.import_button.setToolTip(
            self.tr("Add or update articles and pickup points from a CSV/XLSX list")
        )
        self.import_button.setAutoDefault(False)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.open_import)
        top = QHBoxLayout()
        label = QLabel(self.tr("&Marketplace:"))
        label.setBuddy(self.marketplace_box)
        top.addWidget(label)
        top.addWidget(self.marketplace_box, 1)
        top.addWidget(self.filter_edit, 2)
        top.addWidget(self.import_button)

        self.articles = EntriesModel(
            (QT_TRANSLATE_NOOP("Column", "Article"), QT_TRANSLATE_NOOP("Column", "Title")), self
        )
        self.points = EntriesModel(
            (QT_TRANSLATE_NOOP("Column", "Code"), QT_TRANSLATE_NOOP("Column", "Address")), self
        )
        self._proxies = (QSortFilterProxyModel(self), QSortFilterProxyModel(self))
        self.articles_view = _entries_view(self.articles, self._proxies[0])
        self.points_view = _entries_view(self.points, self._proxies[1])
        self.articles.edited.connect(lambda i, text: self._save(set_article_title, i, text))
        self.points.edited.connect(lambda i, text: self._save(set_point_address, i, text))
        self.filter_edit.textChanged.connect(self._filter)
        self.articles_label = QLabel()
        self.points_label = QLabel()
        splitter = QSplitter()
        for title, view in (
            (self.articles_label, self.articles_view),
            (self.points_label, self.points_view),
        ):
            pane = QWidget()
            column = QVBoxLayout(pane)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(title)
            column.addWidget(view, 1)
            splitter.addWidget(pane)

        self.status_label = QLabel(
            self.tr("Double-click a title or an address to change it; it is saved at once.")
        )
        self.status_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(buttons)
        self._show_counts()
        in_background(self._load_markets, self._show_markets)

    # -- loading ---------------------------------------------------------------------

    def _load_markets(self) -> list[MarketRef]:
        with self.db.reading() as s:
            return MarketIndex.load(s).markets

    def _show_markets(self, markets: list[MarketRef]) -> None:
        self._markets = {m.id: m for m in markets}
        self.marketplace_box.blockSignals(True)
        for m in markets:
            name = m.name if m.enabled else fill(self.tr("%1 (disabled)"), m.name)
            self.marketplace_box.addItem(name, m.id)
        wanted = self.marketplace_box.findData(self._wanted)
        self.marketplace_box.setCurrentIndex(max(wanted, 0) if markets else -1)
        self.marketplace_box.blockSignals(False)
        if not markets:
            self.status_label.setText(
                self.tr("No marketplace is set up yet; add one in Marketplaces first.")
            )
        self.reload()

    def marketplace(self) -> MarketRef | None:
        """The marketplace shown."""
        return self._markets.get(self.marketplace_box.currentData())

    def reload(self) -> None:
        """Reads the shown marketplace's catalog off the GUI thread."""
        market = self.marketplace()
        self.import_button.setEnabled(market is not None and market.enabled)
        if market is None:
            return
        self._request += 1
        request = self._request

        def read() -> CatalogListing:
            with self.db.reading() as s:
                return catalog_listings(s, market.id)[0]

        def show(listing: CatalogListing) -> None:
            if request == self._request:  # else another marketplace was chosen meanwhile
                self.articles.set_rows(listing.articles)
                self.points.set_rows(listing.pickup_points)
                self._show_counts()

        in_background(read, show, self._show_error)

    def _filter(self, text: str) -> None:
        for proxy in self._proxies:
            proxy.setFilterFixedString(text.strip())
        self._show_counts()

    def _show_counts(self) -> None:
        for label, template, model, proxy in (
            (self.articles_label, self.tr("Articles: %1"), self.articles, self._proxies[0]),
            (self.points_label, self.tr("Pickup points: %1"), self.points, self._proxies[1]),
        ):
            total = model.rowCount()
            shown = proxy.rowCount()
            count = number(total) if shown == total else f"{number(shown)} / {number(total)}"
            label.setText(fill(template, count))

    # -- editing ---------------------------------------------------------------------

    def _save(self, setter: Callable[[Session, int, str], str], entry_id: int, text: str) -> None:
        """Stores an edited title or address off the GUI thread; on a refusal the
        catalog is read again, so the table shows what is stored."""
        model = self.articles if setter is set_article_title else self.points

        def write() -> str:
            with self.db.session() as s:
                stored = setter(s, entry_id, text)
                s.commit()
                return stored

        def done(stored: str) -> None:
            for entry in model.rows:
                if entry.id == entry_id:
                    model.put(replace(entry, text=stored))
                    self.status_label.setStyleSheet("")
                    self.status_label.setText(fill(self.tr("Saved: %1 — %2"), entry.key, stored))
            self.saved.emit()

        def failed(exc: BaseException) -> None:
            self._show_error(exc)
            self.reload()

        in_background(write, done, failed)

    def _show_error(self, exc: BaseException) -> None:
        reason = error_text(exc)
        self.status_label.setStyleSheet(f"color: {status_color('failed').name()}")
        self.status_label.setText(fill(self.tr("Not saved: %1"), reason))

    # -- importing -------------------------------------------------------------------

    def open_import(self) -> None:
        market = self.marketplace()
        if market is None:
            return
        dialog = CatalogImportDialog(self.db, marketplace=market.code, parent=self)
        dialog.imported.connect(self._imported)
        self.import_dialog = dialog
        dialog.open()

    def _imported(self, counts: dict[str, int]) -> None:
        self.status_label.setStyleSheet("")
        self.status_label.setText(
            fill(
                self.tr(
                    "Imported. Articles: %1 new, %2 updated. Pickup points: %3 new, %4 updated."
                ),
                number(counts["articles_add"]),
                number(counts["articles_update"]),
                number(counts["pickup_points_add"]),
                number(counts["pickup_points_update"]),
            )
        )
        self.reload()


# -- the import ------------------------------------------------------------------------

ARTICLE_CHANGES = {
    Change.ADD: QT_TRANSLATE_NOOP("CatalogPlanModel", "new article"),
    Change.UPDATE: QT_TRANSLATE_NOOP("CatalogPlanModel", "new title"),
    Change.SAME: QT_TRANSLATE_NOOP("CatalogPlanModel", "article unchanged"),
}
POINT_CHANGES = {
    Change.ADD: QT_TRANSLATE_NOOP("CatalogPlanModel", "new pickup point"),
    Change.UPDATE: QT_TRANSLATE_NOOP("CatalogPlanModel", "new address"),
    Change.SAME: QT_TRANSLATE_NOOP("CatalogPlanModel", "pickup point unchanged"),
}


@dataclass(frozen=True)
class _Line:
    """A preview line: RowsModel keys its rows by `id`."""

    id: int
    row: CatalogRow


class CatalogPlanModel(RowsModel):
    columns = (
        QT_TRANSLATE_NOOP("Column", "Row"),
        QT_TRANSLATE_NOOP("Column", "Marketplace"),
        QT_TRANSLATE_NOOP("Column", "Article"),
        QT_TRANSLATE_NOOP("Column", "Title"),
        QT_TRANSLATE_NOOP("Column", "Pickup point"),
        QT_TRANSLATE_NOOP("Column", "Address"),
        QT_TRANSLATE_NOOP("Column", "Outcome"),
    )

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: CatalogRow = self.rows[index.row()].row
        col = index.column()
        style = TaskStatus.PURCHASED if r.ok else TaskStatus.FAILED
        if role == Qt.ItemDataRole.DisplayRole:
            values = (r.row, r.marketplace, r.article, r.title, r.pickup_point, r.address)
            return [*values, self.outcome(r)][col]
        if role == Qt.ItemDataRole.ForegroundRole and col == 6:
            return status_color(style)
        if role == Qt.ItemDataRole.BackgroundRole and not r.ok:
            return status_background(style)
        if role == Qt.ItemDataRole.ToolTipRole and col == 6:
            return self.outcome(r)
        return None

    def outcome(self, r: CatalogRow) -> str:
        if not r.ok:
            return "; ".join(field_error(e, with_line=False) for e in r.errors)
        changes = [
            self.tr(labels[change])
            for change, labels in (
                (r.article_change, ARTICLE_CHANGES),
                (r.point_change, POINT_CHANGES),
            )
            if change is not None
        ]
        return ", ".join(changes)


class CatalogImportDialog(ImportDialog):
    """Articles and pickup points from a CSV/XLSX list into the catalogs.

    Signals:
        imported(dict): the plan's counts (CatalogPlan.counts), after the import.
    """

    imported = Signal(dict)
    file_title = QT_TRANSLATE_NOOP("ImportDialog", "Catalog list")
    file_filter = LIST_FILTER
    column_widths = (50, 90, 110, 200, 130, 200)

    def __init__(self, db: Database, *, marketplace: str = "", parent: QWidget | None = None):
        super().__init__(
            db,
            CatalogPlanModel(),
            fill(self.tr("A CSV/XLSX list: %1"), EXAMPLE_HEADER),
            self.tr(
                "Choose a list: each row an article (with its title), a pickup point (its "
                "code, its address or both), or both."
            ),
            parent,
            marketplace=marketplace,
        )
        self.model.setParent(self)
        self.setWindowTitle(self.tr("Import catalog"))
        self.resize(1000, 520)

    def make_plan(self, path: str, marketplace: str) -> CatalogPlan:
        with self.db.reading() as s:
            return plan_catalog(s, path, default_marketplace=marketplace or None)

    def show_plan(self, plan: CatalogPlan) -> None:
        self.model.set_rows([_Line(n, r) for n, r in enumerate(plan.rows)])
        c = plan.counts()
        changes = fill(
            self.tr(
                "Articles: %1 new, %2 with a new title. Pickup points: %3 new, %4 with a "
                "new address."
            ),
            number(c["articles_add"]),
            number(c["articles_update"]),
            number(c["pickup_points_add"]),
            number(c["pickup_points_update"]),
        )
        left_out = self.tr("%Ln row(s) with errors left out.", "", c["rejected"])
        self.show_summary(f"{changes} {counted(left_out, c['rejected'])}", plan.notes)
        self.import_button.setEnabled(plan.changes())

    def write(self, plan: CatalogPlan) -> dict[str, int]:
        with self.db.session() as s:
            counts = apply_catalog(s, plan)
            s.commit()
            return counts

    def written(self, counts: dict[str, int]) -> None:
        self.imported.emit(counts)
        self.accept()
