"""The Marketplaces dialog: the marketplaces set up here with their accounts and Orders,
and a form to add one from a preset (Wildberries, Ozon, Yandex Market, the sandbox) or by
hand, edit one, enable or disable it. A refused value is shown at its field in the
operator's language and nothing is written."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.domain.markets import PRESETS, MarketKind, name_key
from app.core.orders.marketplaces import (
    MarketFields,
    MarketRow,
    add_marketplace,
    checked,
    from_preset,
    marketplace_rows,
    set_marketplace_enabled,
    update_marketplace,
)
from app.core.storage.db import Database
from app.core.storage.errors import known
from app.core.support.text import QT_TRANSLATE_NOOP, Message, Refused
from app.ui.common import (
    Index,
    Newest,
    RowsModel,
    fill,
    in_background,
    number,
    say,
    status_color,
)

COLUMNS = (
    QT_TRANSLATE_NOOP("Column", "Name"),
    QT_TRANSLATE_NOOP("Column", "Code"),
    QT_TRANSLATE_NOOP("Column", "Who buys"),
    QT_TRANSLATE_NOOP("Column", "Site"),
    QT_TRANSLATE_NOOP("Column", "Status"),
    QT_TRANSLATE_NOOP("Column", "Accounts"),
    QT_TRANSLATE_NOOP("Column", "Orders"),
)
# Who makes a marketplace's purchases, as the operator reads it.
KIND_LABELS: dict[str, str] = {
    MarketKind.ASSISTED: QT_TRANSLATE_NOOP("Marketplaces", "a person, in a browser"),
    MarketKind.SANDBOX: QT_TRANSLATE_NOOP("Marketplaces", "automatic (bundled sandbox)"),
    MarketKind.MEMORY: QT_TRANSLATE_NOOP("Marketplaces", "automatic (test shop)"),
}
OTHER = ""  # the preset box's "Other": every field typed by hand
_STYLE = """
QLineEdit[invalid="true"], QComboBox[invalid="true"] { background-color: #ffe1e1; }
QLineEdit[readOnly="true"] { background-color: #f3f4f6; color: #4b5563; }
"""


def kind_label(kind: str) -> str:
    source = KIND_LABELS.get(kind)
    return QCoreApplication.translate("Marketplaces", source) if source else kind


def _restyle(widget: QWidget) -> None:
    """Applies the style sheet again after a property it selects on changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class MarketplacesModel(RowsModel):
    """The marketplaces (MarketRow), by name."""

    columns = COLUMNS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: MarketRow = self.rows[index.row()]
        f, col = r.fields, COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                "Name": f.name,
                "Code": f.code,
                "Who buys": kind_label(f.kind),
                "Site": f.base_url,
                "Status": self.tr("enabled") if f.enabled else self.tr("disabled"),
                "Accounts": number(r.accounts),
                "Orders": number(r.orders),
            }[col]
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == "Status":
                return status_color("active" if f.enabled else "disabled")
            return None if f.enabled else QColor("#9ca3af")
        if role == Qt.ItemDataRole.TextAlignmentRole and col in ("Accounts", "Orders"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class MarketplacesDialog(QDialog):
    """The marketplaces and the form that adds or edits one.

    Attributes:
        model, table: the marketplaces set up here.
        add_button, edit_button, switch_button: add one; edit or enable/disable the
            selected one.
        message: what the last action did.
        form: the add/edit form (hidden until Add or Edit), with preset_box (adding only),
            code_edit (read-only when editing: files refer to it), name_edit, kind_box,
            url_edit, product_edit, pattern_edit, example_edit, currency_edit,
            aliases_edit; error_label shows a refusal; save_button, cancel_button.
        editing: the id of the marketplace the form edits; None while adding.
    Signals:
        changed(): a marketplace was added, edited, enabled or disabled.
    """

    changed = Signal()

    def __init__(self, db: Database, parent: QWidget | None = None, *, adding: bool = False):
        super().__init__(parent)
        self.db = db
        self.reads = Newest()
        self.editing: int | None = None
        self._enabled = True  # the edited marketplace's: the form does not change it
        self._add_when_loaded = adding
        self.setWindowTitle(self.tr("Marketplaces"))
        self.setStyleSheet(_STYLE)
        self.resize(960, 720)

        self.model = MarketplacesModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        for col, width in enumerate((160, 80, 200, 0, 100, 90, 90)):
            header.resizeSection(col, width)
        header.setSectionResizeMode(COLUMNS.index("Site"), QHeaderView.ResizeMode.Stretch)
        # A few rows: the kind's wording (longer in Russian) is never cut.
        header.setSectionResizeMode(
            COLUMNS.index("Who buys"), QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.doubleClicked.connect(lambda _index: self.start_edit())
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)

        self.add_button = QPushButton(self.tr("Add…"))
        self.add_button.clicked.connect(lambda: self.start_add())
        self.edit_button = QPushButton(self.tr("Edit…"))
        self.edit_button.clicked.connect(self.start_edit)
        self.switch_button = QPushButton(self.tr("Disable"))
        self.switch_button.clicked.connect(self.switch_selected)
        actions = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.switch_button):
            button.setAutoDefault(False)
            actions.addWidget(button)
        actions.addStretch(1)
        self.message = QLabel()
        self.message.setWordWrap(True)

        self.form = self._build_form()
        self.form.setVisible(False)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        close.button(QDialogButtonBox.StandardButton.Close).setAutoDefault(False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        layout.addWidget(self.form)
        layout.addWidget(close)
        self._update_buttons()
        self.reload()

    def _build_form(self) -> QGroupBox:
        box = QGroupBox()
        self.preset_box = QComboBox()
        for key, preset in PRESETS.items():
            self.preset_box.addItem(preset.name, key)
        self.preset_box.addItem(self.tr("Other (type its settings)"), OTHER)
        self.preset_box.activated.connect(
            lambda _i: self.choose_preset(self.preset_box.currentData())
        )
        self.preset_hint = QLabel(self.tr("Fills the fields below; change any of them."))
        self.preset_hint.setStyleSheet("color: #6b7280")
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset_box)
        preset_row.addWidget(self.preset_hint, 1)

        self.code_edit = QLineEdit()
        self.code_edit.setPlaceholderText(self.tr("Latin letters, like wb or ozon"))
        self.name_edit = QLineEdit()
        self.kind_box = QComboBox()
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://shop.example")
        self.product_edit = QLineEdit()
        self.product_edit.setPlaceholderText("https://shop.example/product/{article}")
        self.product_edit.setToolTip(self.tr("Put {article} where the article number goes"))
        self.pattern_edit = QLineEdit()
        self.pattern_edit.setPlaceholderText(self.tr("Any: the catalog decides"))
        self.pattern_edit.setToolTip(
            self.tr("A regular expression every article number matches, like \\d{6,12}")
        )
        self.example_edit = QLineEdit()
        self.currency_edit = QLineEdit()
        self.currency_edit.setMaxLength(3)
        self.currency_edit.setMaximumWidth(80)
        self.aliases_edit = QLineEdit()
        self.aliases_edit.setPlaceholderText(self.tr("Other names in files, comma-separated"))
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {status_color('failed').name()}")
        self.error_label.setVisible(False)

        form = self.form_layout = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.tr("Preset:"), preset_row)
        form.addRow(self.tr("Code:"), self.code_edit)
        form.addRow(self.tr("Name:"), self.name_edit)
        form.addRow(self.tr("Who buys:"), self.kind_box)
        form.addRow(self.tr("Site address:"), self.url_edit)
        form.addRow(self.tr("Product page:"), self.product_edit)
        form.addRow(self.tr("Article format:"), self.pattern_edit)
        form.addRow(self.tr("Example article:"), self.example_edit)
        form.addRow(self.tr("Currency:"), self.currency_edit)
        form.addRow(self.tr("Aliases:"), self.aliases_edit)
        for edit in self._fields():
            signal = edit.currentIndexChanged if isinstance(edit, QComboBox) else edit.textEdited
            signal.connect(self._clear_refusal)

        self.save_button = QPushButton(self.tr("Add marketplace"))
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.close_form)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        column = QVBoxLayout(box)
        column.addLayout(form)
        column.addWidget(self.error_label)
        column.addLayout(buttons)
        return box

    def _fields(self) -> list[QLineEdit | QComboBox]:
        return [
            self.code_edit,
            self.name_edit,
            self.kind_box,
            self.url_edit,
            self.product_edit,
            self.pattern_edit,
            self.example_edit,
            self.currency_edit,
            self.aliases_edit,
        ]

    # -- the table ---------------------------------------------------------------------

    def reload(self) -> None:
        db, asked = self.db, self.reads.ask()

        def read() -> list[MarketRow]:
            with db.reading() as s:
                return marketplace_rows(s)

        def show(rows: list[MarketRow]) -> None:
            if self.reads.fresh(asked):  # not one begun before the last change shown
                self._show_rows(rows)

        in_background(read, show, self._failed)

    def _show_rows(self, rows: list[MarketRow]) -> None:
        selected = self.selected()
        self.model.set_rows(rows)
        for n, r in enumerate(rows):
            if selected is not None and r.id == selected.id:
                self.table.selectRow(n)
        self._update_buttons()  # the selected one may have been enabled or disabled
        if self._add_when_loaded or (not rows and not self.form.isVisible()):
            self._add_when_loaded = False
            self.start_add()

    def selected(self) -> MarketRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        row = self.selected()
        self.edit_button.setEnabled(row is not None)
        self.switch_button.setEnabled(row is not None)
        enabled = row is None or row.fields.enabled
        self.switch_button.setText(self.tr("Disable") if enabled else self.tr("Enable"))
        self.switch_button.setToolTip(
            self.tr("Take no new orders or accounts for it; its orders go on")
            if enabled
            else self.tr("Take new orders and accounts for it again")
        )

    def switch_selected(self) -> None:
        """Enables a disabled marketplace, disables an enabled one."""
        row = self.selected()
        if row is None:
            return
        db, mp_id, enable = self.db, row.id, not row.fields.enabled

        def write() -> None:
            with db.session() as s:
                set_marketplace_enabled(s, mp_id, enable)
                s.commit()

        def done(_: None) -> None:
            if self.editing == mp_id:
                self._enabled = enable  # saving the form open on it keeps the switch
            text = self.tr("%1 is enabled.") if enable else self.tr("%1 is disabled.")
            self._say(fill(text, row.fields.name))
            self.reload()
            self.changed.emit()

        in_background(write, done, self._failed)

    # -- the form ----------------------------------------------------------------------

    def start_add(self, preset: str | None = None) -> None:
        """Shows the form for a new marketplace, filled from `preset` (by default the
        first preset not set up here yet)."""
        have = {r.fields.code for r in self.model.rows}
        if preset is None:
            preset = next((k for k, p in PRESETS.items() if p.code not in have), OTHER)
        self.editing = None
        self.table.clearSelection()
        self.form.setTitle(self.tr("New marketplace"))
        self.save_button.setText(self.tr("Add marketplace"))
        self.form_layout.setRowVisible(0, True)  # the preset
        self.code_edit.setReadOnly(False)
        _restyle(self.code_edit)
        self.code_edit.setToolTip(self.tr("A short code files and the command line use"))
        self.choose_preset(preset)
        self._open_form(self.code_edit if preset == OTHER else self.name_edit)

    def choose_preset(self, key: str) -> None:
        """Fills the form from a preset (OTHER: empty fields to type)."""
        self.preset_box.setCurrentIndex(max(self.preset_box.findData(key), 0))
        if key == OTHER:
            fields = MarketFields("", "", MarketKind.ASSISTED, "", "")
        else:
            fields = from_preset(key)
        self._fill(fields)

    def start_edit(self) -> None:
        row = self.selected()
        if row is None:
            return
        self.editing = row.id
        self.form.setTitle(fill(self.tr("Edit %1"), row.fields.name))
        self.save_button.setText(self.tr("Save changes"))
        self.form_layout.setRowVisible(0, False)  # the preset
        self.code_edit.setReadOnly(True)
        _restyle(self.code_edit)
        self.code_edit.setToolTip(self.tr("The code stays: files and other computers use it"))
        self._fill(row.fields)
        self._open_form(self.name_edit)

    def _open_form(self, focus: QWidget) -> None:
        self._clear_refusal()
        self.form.setVisible(True)
        self.save_button.setEnabled(True)
        self.save_button.setDefault(True)
        focus.setFocus()

    def close_form(self) -> None:
        self._clear_refusal()
        self.editing = None
        self.save_button.setDefault(False)
        self.form.setVisible(False)

    def _fill(self, f: MarketFields) -> None:
        self._enabled = f.enabled
        self.kind_box.clear()
        kinds = [MarketKind.ASSISTED, MarketKind.SANDBOX]
        if f.kind not in kinds:
            kinds.append(MarketKind(f.kind))  # a test shop keeps its kind
        for kind in kinds:
            self.kind_box.addItem(kind_label(kind), str(kind))
        self.kind_box.setCurrentIndex(max(self.kind_box.findData(str(f.kind)), 0))
        for edit, value in (
            (self.code_edit, f.code),
            (self.name_edit, f.name),
            (self.url_edit, f.base_url),
            (self.product_edit, f.product_url),
            (self.pattern_edit, f.article_pattern),
            (self.example_edit, f.article_example),
            (self.currency_edit, f.currency),
            (self.aliases_edit, f.aliases),
        ):
            edit.setText(value)
            edit.setCursorPosition(0)
        self._clear_refusal()

    def form_fields(self) -> MarketFields:
        """What the form holds."""
        return MarketFields(
            code=self.code_edit.text(),
            name=self.name_edit.text(),
            kind=str(self.kind_box.currentData() or ""),
            base_url=self.url_edit.text(),
            product_url=self.product_edit.text(),
            article_pattern=self.pattern_edit.text(),
            article_example=self.example_edit.text(),
            currency=self.currency_edit.text(),
            aliases=self.aliases_edit.text(),
            enabled=self._enabled,
        )

    def save(self) -> None:
        """Checks the form at once, then adds or changes the marketplace off the GUI
        thread; a refusal stays in the form with its field marked, nothing written."""
        if not self.form.isVisible() or not self.save_button.isEnabled():
            return
        fields = self.form_fields()
        try:
            fields = checked(fields)
        except Refused as exc:
            self.show_refusal(exc)
            return
        db, mp_id = self.db, self.editing
        self.save_button.setEnabled(False)

        def write() -> MarketFields:
            with db.session() as s:
                if mp_id is None:
                    mp = add_marketplace(s, fields)
                else:
                    mp = update_marketplace(s, mp_id, fields)
                stored = MarketFields.of(mp)
                s.commit()
                return stored

        def done(stored: MarketFields) -> None:
            text = self.tr("%1 added.") if mp_id is None else self.tr("%1 saved.")
            self.close_form()
            self._say(fill(text, stored.name))
            self.reload()
            self.changed.emit()

        def refused(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.show_refusal(exc)

        in_background(write, done, refused)

    def show_refusal(self, exc: BaseException) -> None:
        """The reason at the bottom of the form and its field marked."""
        if isinstance(exc, Refused):
            text = say(exc.message)
            field = self._field_of(exc.message)
        else:
            text, field = str(known(exc) or exc), None
        self._clear_refusal()
        self.error_label.setText(text[:1].upper() + text[1:])
        self.error_label.setVisible(True)
        if field is not None:
            self._mark(field, True)
            field.setFocus()

    def _field_of(self, message: Message) -> QLineEdit | QComboBox | None:
        """The field a refusal is about, from the values it names."""
        values = dict(message.values)
        if "alias" in values:
            key = values["alias"]
            if key == name_key(self.name_edit.text()):
                return self.name_edit
            return self.code_edit if key == name_key(self.code_edit.text()) else self.aliases_edit
        if "url" in values:
            return self.url_edit if message.template.startswith("address") else self.product_edit
        by_value: dict[str, QLineEdit | QComboBox] = {
            "code": self.code_edit,
            "kind": self.kind_box,
            "pattern": self.pattern_edit,
            "example": self.example_edit,
            "currency": self.currency_edit,
        }
        for name, field in by_value.items():
            if name in values:
                return field
        return self.name_edit if "name" in message.template and not values else None

    def _mark(self, widget: QWidget, invalid: bool) -> None:
        widget.setProperty("invalid", invalid)
        _restyle(widget)

    def _clear_refusal(self) -> None:
        self.error_label.setVisible(False)
        self.error_label.setText("")
        for edit in self._fields():
            if edit.property("invalid"):
                self._mark(edit, False)

    # -- messages ----------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(text)

    def _failed(self, exc: BaseException) -> None:
        self.message.setStyleSheet(f"color: {status_color('failed').name()}")
        refusal = exc.message if isinstance(exc, Refused) else None
        self.message.setText(say(refusal) if refusal else str(known(exc) or exc))
