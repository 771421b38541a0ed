"""New Order dialog: type or paste an Order, see every problem inline, submit without blocking."""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.domain.states import UnitRule
from app.core.orders.catalog import Catalog
from app.core.orders.spec import FieldError, InvalidOrder, LineSpec, OrderSpec, parse_quantity
from app.core.orders.validation import check, line_entries
from app.core.support.errors import KnownError
from app.ui.common import field_error, fill, number, say

log = logging.getLogger(__name__)

ARTICLE, QUANTITY, PICKUP_POINT, MAX_PRICE = range(4)
# The column of each line field, by the name app.core.orders.spec gives it in a FieldError.
_FIELD_COLUMNS = {
    "article": ARTICLE,
    "quantity": QUANTITY,
    "pickup point": PICKUP_POINT,
    "max unit price": MAX_PRICE,
}
_NUMBER = re.compile(r"\s*[+-]?\d+\s*")
_PASTE_SEPARATORS = re.compile(r"[\t;]")
# Marked through a dynamic property so that one stylesheet covers every editor.
_STYLE = """
QLineEdit[invalid="true"], QComboBox[invalid="true"] { background-color: #ffe1e1; }
QLineEdit[new="true"], QComboBox[new="true"] { background-color: #fff8db; }
QLabel#messages { color: #a40000; }
QLabel#newMark { color: #8a6100; font-style: italic; background: transparent; }
"""


def parse_pasted(text: str) -> list[LineSpec]:
    """Rows copied from a spreadsheet (tab-separated) or a Russian CSV (';') as lines:
    article, quantity, pickup point, optional max price. Values stay as typed so that the
    invalid ones can be shown and fixed; columns after the fourth are ignored."""
    lines = []
    rows = (row for row in text.splitlines() if row.strip())
    for n, row in enumerate(rows):
        cells = [cell.strip() for cell in _PASTE_SEPARATORS.split(row)] + [""] * 3
        if n == 0 and not _NUMBER.fullmatch(cells[1]):
            continue  # a header row
        lines.append(LineSpec(cells[0], cells[1], cells[2], cells[3] or None))
    return lines


def _looks_like_rows(text: str) -> bool:
    return any(sep in text.strip() for sep in "\n\t;")


def _is_blank(line: LineSpec) -> bool:
    return not any(
        (line.article, str(line.quantity).strip(), line.pickup_point, line.max_unit_price)
    )


def _box_editor(box: QComboBox) -> QLineEdit:
    """The line edit of a box made by _choice_box."""
    edit = box.lineEdit()
    assert edit is not None  # every _choice_box is editable
    return edit


def _text_editor(widget: QComboBox | QLineEdit) -> QLineEdit:
    """Where a cell's text is typed: the cell itself, or its box's line edit."""
    return _box_editor(widget) if isinstance(widget, QComboBox) else widget


def _choice_value(box: QComboBox) -> str:
    """The code of the chosen item ("sku — title" gives sku), or the text as typed."""
    index = box.findText(box.currentText())
    return box.itemData(index) if index >= 0 else box.currentText().strip()


def _set_choice(box: QComboBox, value: str) -> None:
    index = box.findData(value)
    box.setCurrentIndex(index)
    if index < 0:
        box.setEditText(value)
    _box_editor(box).setCursorPosition(0)  # the article number first, not the title's end


def _fill_choices(box: QComboBox, choices: dict[str, str]) -> None:
    """Replaces the items (code -> label) and keeps what the cell holds."""
    value = _choice_value(box)
    box.blockSignals(True)
    box.clear()
    # Sorted, an exact code precedes longer ones ("100001 — …" < "1000010 — …"), so the
    # inline completion of a fully typed code picks that code.
    for code in sorted(choices):
        box.addItem(f"{code} — {choices[code]}", code)
    _set_choice(box, value)
    box.blockSignals(False)


def _choice_box(tip: str) -> QComboBox:
    box = QComboBox()
    box.setEditable(True)
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # typed text is a value, not an item
    box.setToolTip(tip)
    box.setProperty("hint", tip)
    return box


def _add_new_mark(box: QComboBox, text: str) -> None:
    """A word inside the box, at its right end, shown while its value is not in the
    catalog yet ("new article"): the operator sees a typo before it becomes an entry."""
    mark = QLabel(text, _box_editor(box))
    mark.setObjectName("newMark")
    mark.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    mark.hide()


def _new_mark(editor: QObject) -> QLabel | None:
    return editor.findChild(QLabel, "newMark")


def _place_new_mark(edit: QLineEdit) -> None:
    """Keeps the mark at the right end of its line edit, the typed text clear of it."""
    mark = _new_mark(edit)
    if mark is None:
        return
    size = mark.sizeHint()
    mark.resize(size)
    mark.move(max(0, edit.width() - size.width() - 4), (edit.height() - size.height()) // 2)
    edit.setTextMargins(0, 0, size.width() + 6 if mark.isVisibleTo(edit) else 0, 0)


def _number_edit(tip: str, placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setAlignment(Qt.AlignmentFlag.AlignRight)
    edit.setPlaceholderText(placeholder)
    edit.setToolTip(tip)
    edit.setProperty("hint", tip)
    return edit


class NewOrderDialog(QDialog):
    """The operator's form for a new Order: client, marketplace, account rule, whether to
    start it at once, and its lines; validated on every edit with app.core.orders.spec.check.

    Attributes:
        order_id: the id of the created Order once the dialog is accepted, else None.
        ok_button: "Create order"; enabled only while the Order is valid and not saving.
        cancel_button: closes without submitting anything.
        message_label: every problem as the core formats it, or why saving failed.
        summary_label: the line and unit counts, or "Saving…" while the engine works.
        client_box, marketplace_box, rule_box, start_check: the Order's fields.
        table: the lines, one row each; `cell(row, column)` is a cell's editor.
        add_button, remove_button, paste_button: edit the lines.

    Signals:
        _submitted(Future): the engine's future is done; emitted from the engine's thread
            and queued to the GUI thread.
    """

    _submitted = Signal(object)

    def __init__(
        self,
        catalogs: dict[str, Catalog],
        clients: list[str],
        submit: Callable[[OrderSpec], concurrent.futures.Future[int]],
        *,
        max_units_per_line: int = 1000,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.order_id: int | None = None
        self._catalogs = catalogs
        self._submit_order = submit
        self._max_units = max_units_per_line
        self._valid = False
        self._saving = False
        self._focused_row = -1  # the row whose cell had the focus last (for Remove line)
        # This dialog's Order: saving again after an error (say, the answer to the first
        # save was lost) finds the Order the first save created instead of adding another.
        self._request_id = f"dialog-{uuid.uuid4().hex}"
        # Problems are listed only after the first edit: a fresh form is not a mistake.
        self._touched = False
        self.setWindowTitle(self.tr("New order"))
        self.setStyleSheet(_STYLE)
        self.resize(760, 420)
        self._form = QWidget()
        layout = QVBoxLayout(self)
        layout.addWidget(self._form)
        form = QVBoxLayout(self._form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addLayout(self._build_fields(clients))
        table = self._build_table()
        form.addLayout(self._build_line_buttons())
        form.addWidget(table, 1)
        layout.addWidget(self._build_messages())
        layout.addLayout(self._build_footer())
        self._add_shortcuts()
        self._submitted.connect(self._on_submitted, Qt.ConnectionType.QueuedConnection)
        self.add_line()
        self.client_box.setFocus()

    # -- building ------------------------------------------------------------------------

    def _build_fields(self, clients: list[str]) -> QGridLayout:
        self.client_box = _choice_box(
            self.tr("Who the order is for; type a new name to add a client")
        )
        self.client_box.addItems(clients)
        self.client_box.setCurrentIndex(-1)
        self.client_box.editTextChanged.connect(self._on_edit)
        self.marketplace_box = QComboBox()
        self.marketplace_box.setToolTip(self.tr("Where the units are bought"))
        for catalog in self._catalogs.values():
            if catalog.enabled:  # a disabled marketplace takes no new Orders
                self.marketplace_box.addItem(catalog.name, catalog.code)
        self.marketplace_box.currentIndexChanged.connect(self._on_marketplace_changed)
        self.rule_box = QComboBox()
        self.rule_box.setToolTip(self.tr("How many units of this order one account may buy"))
        self.rule_box.addItem(self.tr("One unit per account per line (default)"), UnitRule.PER_JOB)
        self.rule_box.addItem(self.tr("One unit per account per order"), UnitRule.PER_ORDER)
        self.rule_box.addItem(self.tr("No limit"), UnitRule.OFF)
        self.start_check = QCheckBox(self.tr("&Start immediately"))
        self.start_check.setChecked(True)
        self.start_check.setToolTip(
            self.tr("Unchecked, the order is saved paused and started later by hand")
        )
        grid = QGridLayout()
        self._add_field(grid, 0, 0, self.tr("&Client:"), self.client_box)
        self._add_field(grid, 0, 2, self.tr("&Marketplace:"), self.marketplace_box)
        self._add_field(grid, 1, 0, self.tr("Account &rule:"), self.rule_box)
        grid.addWidget(self.start_check, 1, 3)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 2)
        return grid

    def _add_field(self, grid: QGridLayout, row: int, col: int, text: str, w: QWidget) -> None:
        label = QLabel(text)
        label.setBuddy(w)
        grid.addWidget(label, row, col)
        grid.addWidget(w, row, col + 1)

    def _build_line_buttons(self) -> QHBoxLayout:
        self.add_button = QPushButton(self.tr("&Add line"))
        self.add_button.setToolTip(self.tr("Add an empty line (Ctrl+Shift+N or Insert)"))
        self.add_button.clicked.connect(self._add_empty_line)
        self.remove_button = QPushButton(self.tr("Re&move line"))
        self.remove_button.setToolTip(self.tr("Remove the selected lines (Delete)"))
        self.remove_button.clicked.connect(self.remove_selected_lines)
        self.remove_button.setEnabled(False)  # until a line is selected or being edited
        self.table.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(self.table.selectionModel().hasSelection())
        )
        self.paste_button = QPushButton(self.tr("&Paste lines"))
        self.paste_button.setToolTip(
            self.tr(
                "Append lines copied from a spreadsheet or a ';' CSV: article, quantity, "
                "pickup point, optional max price (Ctrl+V in the table)"
            )
        )
        self.paste_button.clicked.connect(self.paste_lines)
        lines_label = QLabel(self.tr("&Lines:"))
        lines_label.setBuddy(self.table)
        row = QHBoxLayout()
        row.addWidget(lines_label)
        row.addStretch(1)
        for button in (self.add_button, self.remove_button, self.paste_button):
            button.setAutoDefault(False)  # Enter in a cell must not add or remove lines
            row.addWidget(button)
        return row

    def _build_table(self) -> QTableWidget:
        table = QTableWidget(0, 4)
        headers = [
            (self.tr("Article"), self.tr("Article number (sku); pick from the list or type it")),
            (self.tr("Quantity"), self.tr("Units to buy, a whole number")),
            (self.tr("Pickup point"), self.tr("Where the units are delivered")),
            (self.tr("Max unit price (₽)"), self.tr("Optional: do not buy above this price")),
        ]
        table.setHorizontalHeaderLabels([title for title, _ in headers])
        for col, (_, tip) in enumerate(headers):
            item = table.horizontalHeaderItem(col)
            assert item is not None  # setHorizontalHeaderLabels made one for each column
            item.setToolTip(tip)
        self._column_tips = [tip for _, tip in headers]
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for col, width in ((QUANTITY, 80), (MAX_PRICE, 170)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            table.setColumnWidth(col, width)
        table.verticalHeader().setDefaultSectionSize(_choice_box("").sizeHint().height() + 2)
        table.verticalHeader().sectionClicked.connect(lambda _row: table.setFocus())
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # cells are widgets
        table.setTabKeyNavigation(False)  # Tab moves between the cell editors instead
        self.table = table
        return table

    def _build_messages(self) -> QScrollArea:
        self.message_label = QLabel()
        self.message_label.setObjectName("messages")
        self.message_label.setWordWrap(True)
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long list scrolls instead of squeezing the table.
        area = QScrollArea()
        area.setWidget(self.message_label)
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        area.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 4)
        return area

    def _build_footer(self) -> QHBoxLayout:
        self.summary_label = QLabel()
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton(
            self.tr("Create order"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.ok_button.setDefault(True)
        self.ok_button.setToolTip(self.tr("Save the order (Ctrl+Enter)"))
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button.clicked.connect(self._submit)
        self.cancel_button.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.summary_label, 1)
        row.addWidget(buttons)
        return row

    def _add_shortcuts(self) -> None:
        for keys in ("Ctrl+Shift+N", "Ins"):
            QShortcut(QKeySequence(keys), self, self._add_empty_line)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self._submit)
        # Only when the table itself has focus: in a cell, Delete and Ctrl+V edit the text.
        for standard_key, slot in (
            (QKeySequence.StandardKey.Delete, self.remove_selected_lines),
            (QKeySequence.StandardKey.Paste, self.paste_lines),
        ):
            QShortcut(standard_key, self.table, slot, context=Qt.ShortcutContext.WidgetShortcut)

    # -- lines -----------------------------------------------------------------------------

    def cell(self, row: int, column: int) -> QComboBox | QLineEdit:
        """The editor of one cell: a QComboBox for article and pickup point, else a QLineEdit."""
        widget = self.table.cellWidget(row, column)
        assert isinstance(widget, QComboBox | QLineEdit)  # _append_row gives each cell one
        return widget

    def _box(self, row: int, column: int) -> QComboBox:
        box = self.cell(row, column)
        assert isinstance(box, QComboBox)  # ARTICLE and PICKUP_POINT
        return box

    def _edit(self, row: int, column: int) -> QLineEdit:
        edit = self.cell(row, column)
        assert isinstance(edit, QLineEdit)  # QUANTITY and MAX_PRICE
        return edit

    def add_line(self, line: LineSpec | None = None) -> None:
        """Appends a line, empty or with the values given (kept even when invalid); a line
        with values takes the place of blank rows at the end."""
        if line is not None:
            self._drop_trailing_blanks()
        self._append_row(line or LineSpec("", "", ""))
        self._lines_changed()

    def remove_selected_lines(self) -> None:
        """Removes the selected rows, else the row whose cell had the focus last."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        if not rows and 0 <= self._focused_row < self.table.rowCount():
            rows = [self._focused_row]
        self._focused_row = -1
        for row in reversed(rows):
            self.table.removeRow(row)
        if not self.table.rowCount():
            self._append_row(LineSpec("", "", ""))
        self._lines_changed(edited=bool(rows))

    def paste_lines(self) -> None:
        """Appends the clipboard's rows; an empty last row is replaced rather than kept."""
        lines = parse_pasted(QApplication.clipboard().text())
        if not lines:
            return
        self._drop_trailing_blanks()
        for line in lines:
            self._append_row(line)
        self._lines_changed(edited=True)

    def _drop_trailing_blanks(self) -> None:
        while self.table.rowCount() and _is_blank(self._line(self.table.rowCount() - 1)):
            self.table.removeRow(self.table.rowCount() - 1)

    @Slot()
    def _add_empty_line(self) -> None:
        self.add_line()
        self.cell(self.table.rowCount() - 1, ARTICLE).setFocus()

    def _append_row(self, line: LineSpec) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        article = _choice_box(self._column_tips[ARTICLE])
        quantity = _number_edit(self._column_tips[QUANTITY], "")
        point = _choice_box(self._column_tips[PICKUP_POINT])
        price = _number_edit(self._column_tips[MAX_PRICE], self.tr("optional, e.g. 1299.90"))
        self._fill_row_choices(article, point)
        _add_new_mark(article, self.tr("new article"))
        _add_new_mark(point, self.tr("new pickup point"))
        _set_choice(article, str(line.article))
        quantity.setText(str(line.quantity))
        _set_choice(point, str(line.pickup_point))
        price.setText(str(line.max_unit_price or ""))
        editors: tuple[QComboBox | QLineEdit, ...] = (article, quantity, point, price)
        for col, widget in enumerate(editors):
            self.table.setCellWidget(row, col, widget)
            _text_editor(widget).textChanged.connect(self._on_edit)
            _text_editor(widget).installEventFilter(self)

    def _fill_row_choices(self, article: QComboBox, point: QComboBox) -> None:
        catalog = self._catalog()
        _fill_choices(article, catalog.article_titles if catalog else {})
        _fill_choices(point, catalog.pickup_addresses if catalog else {})

    def _lines_changed(self, *, edited: bool = False) -> None:
        self._update_tab_order()
        if edited:
            self._on_edit()
        else:
            self._validate()

    def _update_tab_order(self) -> None:
        chain = [self.client_box, self.marketplace_box, self.rule_box, self.start_check]
        chain.append(self.table)
        chain += [self.cell(r, c) for r in range(self.table.rowCount()) for c in range(4)]
        chain += [self.add_button, self.remove_button, self.paste_button]
        chain += [self.ok_button, self.cancel_button]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _row_of(self, editor: QObject) -> int:
        for row, col in itertools.product(range(self.table.rowCount()), range(4)):
            if _text_editor(self.cell(row, col)) is editor:
                return row
        return -1

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Cell editors: focusing one makes its row the one Remove line removes, and Ctrl+V
        of spreadsheet rows into one appends lines instead of gluing them into one cell.
        The focus event changes no selection: a selection change from inside a cell's focus
        event re-enters the table's own focus handling and crashed the whole console."""
        if event.type() == QEvent.Type.FocusIn:
            row = self._row_of(watched)
            if row >= 0:
                self._focused_row = row
        elif event.type() == QEvent.Type.Resize and isinstance(watched, QLineEdit):
            _place_new_mark(watched)
        elif (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Paste)
            and _looks_like_rows(QApplication.clipboard().text())
        ):
            self.paste_lines()
            return True
        return super().eventFilter(watched, event)

    # -- the Order -----------------------------------------------------------------------

    def spec(self) -> OrderSpec:
        """The Order as entered. Empty rows at the end are not lines, as in a spreadsheet."""
        lines = [self._line(row) for row in range(self.table.rowCount())]
        while lines and _is_blank(lines[-1]):
            lines.pop()
        return OrderSpec(
            client=self.client_box.currentText().strip(),
            marketplace=self.marketplace_box.currentData() or "",
            lines=lines,
            unit_rule=UnitRule(self.rule_box.currentData()),  # Qt stores the enum as str
            hold=not self.start_check.isChecked(),
            request_id=self._request_id,
        )

    def _line(self, row: int) -> LineSpec:
        return LineSpec(
            article=_choice_value(self._box(row, ARTICLE)),
            quantity=self._edit(row, QUANTITY).text(),
            pickup_point=_choice_value(self._box(row, PICKUP_POINT)),
            max_unit_price=self._edit(row, MAX_PRICE).text().strip() or None,
        )

    def _catalog(self) -> Catalog | None:
        return self._catalogs.get(self.marketplace_box.currentData())

    @Slot()
    def _on_marketplace_changed(self) -> None:
        for row in range(self.table.rowCount()):
            self._fill_row_choices(self._box(row, ARTICLE), self._box(row, PICKUP_POINT))
        self._on_edit()

    @Slot()
    def _on_edit(self) -> None:
        self._touched = True
        self._validate()

    def _validate(self) -> None:
        spec = self.spec()
        try:
            check(spec, self._catalogs, max_units_per_line=self._max_units)
            errors: list[FieldError] = []
        except InvalidOrder as exc:
            errors = exc.errors
        self._valid = not errors
        shown = errors if self._touched else []
        self._mark(shown)
        self._mark_new(spec)
        self._show_messages([field_error(error) for error in shown])
        self._update_summary(spec)
        self.ok_button.setEnabled(self._valid and not self._saving)

    def _mark(self, errors: list[FieldError]) -> None:
        messages: dict[tuple[int | None, str], list[str]] = defaultdict(list)
        for error in errors:
            messages[error.line, error.field].append(say(error.message))
        self._mark_widget(self.client_box, messages.get((None, "client"), []))
        for row in range(self.table.rowCount()):
            for field, col in _FIELD_COLUMNS.items():
                self._mark_widget(self.cell(row, col), messages.get((row + 1, field), []))

    def _mark_new(self, spec: OrderSpec) -> None:
        """Marks the articles and pickup points an open catalog does not have yet: the
        Order adds them to it."""
        catalog = self._catalog()
        rows = self.table.rowCount()
        for row in range(rows):
            article = point = None
            if catalog is not None and catalog.open and row < len(spec.lines):
                article, point = line_entries(spec.lines[row], catalog)
            for col, new in ((ARTICLE, article), (PICKUP_POINT, point)):
                self._show_new(self._box(row, col), new is not None and new.new)

    def _show_new(self, box: QComboBox, new: bool) -> None:
        edit = _box_editor(box)
        mark = _new_mark(edit)
        assert mark is not None  # _append_row gives every box one
        if new and not edit.property("invalid"):
            catalog = self._catalog()
            name = catalog.name if catalog else ""
            box.setToolTip(fill(self.tr("New: not in %1's catalog yet; the order adds it"), name))
        if mark.isVisibleTo(edit) == new:
            return
        mark.setVisible(new)
        for target in (box, edit):
            target.setProperty("new", new)
            target.style().unpolish(target)
            target.style().polish(target)
        _place_new_mark(edit)

    def _mark_widget(self, widget: QComboBox | QLineEdit, messages: list[str]) -> None:
        widget.setToolTip("\n".join(messages) or widget.property("hint"))
        for target in {widget, _text_editor(widget)}:
            if target.property("invalid") != bool(messages):
                target.setProperty("invalid", bool(messages))
                # A stylesheet reads dynamic properties only when the widget is polished.
                target.style().unpolish(target)
                target.style().polish(target)

    def _show_messages(self, messages: list[str]) -> None:
        self.message_label.setText("\n".join(messages))

    def _update_summary(self, spec: OrderSpec) -> None:
        units = 0
        for line in spec.lines:
            try:
                units += parse_quantity(line.quantity, self._max_units)
            except ValueError:
                pass  # listed among the problems; it adds no units
        self.summary_label.setText(
            fill(self.tr("Lines: %1  ·  units: %2"), number(len(spec.lines)), number(units))
        )

    # -- submitting ----------------------------------------------------------------------

    @Slot()
    def _submit(self) -> None:
        if not self._valid or self._saving:
            return  # Ctrl+Enter reaches here even while the button is disabled
        future = self._submit_order(self.spec())
        self._set_saving(True)
        future.add_done_callback(self._relay)

    def _relay(self, future: concurrent.futures.Future[int]) -> None:
        """Runs in the engine's thread: the queued signal carries the result to the GUI."""
        try:
            self._submitted.emit(future)
        except RuntimeError:
            pass  # the dialog was destroyed with its parent; nobody is waiting any more

    @Slot(object)
    def _on_submitted(self, future: concurrent.futures.Future[int]) -> None:
        self._set_saving(False)
        try:
            order_id = future.result()
        except InvalidOrder as exc:
            # The engine checks again, against the catalog as it is now, which may have
            # changed since this dialog loaded it.
            self._valid = False
            self.ok_button.setEnabled(False)
            self._mark(exc.errors)
            self._show_messages(
                [self.tr("The order was not saved:"), *(field_error(e) for e in exc.errors)]
            )
        except Exception as exc:
            if not isinstance(exc, KnownError):
                log.error("Saving an order failed", exc_info=exc)
            reason = str(exc) or type(exc).__name__
            self._show_messages([fill(self.tr("The order was not saved: %1"), reason)])
        else:
            self.order_id = order_id
            self.accept()

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        self._form.setEnabled(not saving)
        self.cancel_button.setEnabled(not saving)
        self.ok_button.setEnabled(self._valid and not saving)
        if saving:
            self.summary_label.setText(self.tr("Saving…"))
        else:
            self._update_summary(self.spec())

    def reject(self) -> None:
        """Cancel, Esc or the window's close button; ignored while the engine is saving,
        since the Order may be written and its id must not be lost."""
        if not self._saving:
            super().reject()
