"""The Tasks view: the live table with its filters, the Task detail dialog, and the
dialog recording a bought unit's order number and price."""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.domain.states import ACTIVE, PROBLEMS, WAITING, TaskStatus
from app.core.drivers.assisted import profile_folder
from app.core.engine.assisted import OverCap
from app.core.orders.spec import parse_money
from app.core.storage.db import Database
from app.core.storage.queries import TaskDetail, TaskFilter, task_detail
from app.core.support.text import Refused
from app.ui.common import (
    copy_rows,
    counted,
    error_text,
    fill,
    in_background,
    local_time,
    money,
    say,
    status_color,
    status_label,
    when_done,
)
from app.ui.engine_texts import engine_text
from app.ui.views.tasks_model import TasksModel
from app.ui.views.tasks_table import TasksTable

log = logging.getLogger(__name__)


class TasksView(QWidget):
    """Filter bar (Order, status, free text) over the live Tasks table.

    Attributes:
        model: the TasksModel.
        table: the TasksTable.
        order_box, status_box, search: the filter widgets.
    Signals:
        detail_requested(int): a Task was double-clicked, Enter pressed on it, or Open
            chosen in its context menu (app.ui.window.context_menus).

    Ctrl+C (the platform's Copy key) in the table copies the selected rows for a spreadsheet.
    """

    detail_requested = Signal(int)

    def __init__(self, db: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self.db = db
        self.model = TasksModel(db, self)
        self.order_box = QComboBox()
        self.order_box.setMinimumWidth(180)
        self.order_box.addItem(self.tr("All orders"), None)
        self.status_box = QComboBox()
        self.status_box.addItem(self.tr("All statuses"), frozenset())
        self.status_box.addItem(
            self.tr("Active (running, waiting)"),
            ACTIVE | WAITING,
        )
        self.status_box.addItem(self.tr("Problems (failed, review)"), PROBLEMS)
        for status in TaskStatus:
            self.status_box.addItem(status_label(status), frozenset({status}))
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            self.tr("Search article, account, order no., error…  (Ctrl+F)")
        )
        self.search.setClearButtonEnabled(True)
        self.count_label = QLabel()

        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Order:")))
        bar.addWidget(self.order_box)
        bar.addWidget(QLabel(self.tr("Status:")))
        bar.addWidget(self.status_box)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count_label)

        self.table = TasksTable(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.setAlternatingRowColors(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for col, width in enumerate((70, 60, 70, 80, 110, 90, 165, 70, 95, 170, 200)):
            header.resizeSection(col, width)
        self.model.on_screen = self._rows_on_screen
        self.table.doubleClicked.connect(self._open_detail)
        for keys, slot in (
            # Key_Enter is the keypad's Enter.
            ([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)], self._open_current),
            (QKeySequence.keyBindings(QKeySequence.StandardKey.Copy), self._copy_rows),
        ):
            shortcut = QShortcut(self.table)
            shortcut.setKeys(keys)
            # Only while the table has focus (Enter in the search box is the box's own).
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table)

        # Typing in the search box waits for a pause before querying.
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._debounce.start)
        self.order_box.currentIndexChanged.connect(self.apply_filter)
        self.status_box.currentIndexChanged.connect(self.apply_filter)
        self.model.reloaded.connect(self._update_count)
        self.model.modelReset.connect(self._update_count)

    def _rows_on_screen(self) -> range:
        """The table's rows in view (none while it is hidden)."""
        if not self.table.isVisible():
            return range(0)
        top = self.table.rowAt(0)
        if top < 0:
            return range(0)
        bottom = self.table.rowAt(self.table.viewport().height() - 1)
        return range(top, (bottom if bottom >= 0 else self.model.rowCount() - 1) + 1)

    def apply_filter(self) -> None:
        self.model.set_filter(
            TaskFilter(
                order_id=self.order_box.currentData(),
                statuses=self.status_box.currentData() or frozenset(),
                text=self.search.text().strip(),
            )
        )

    def set_orders(self, choices: list[tuple[int, str]]) -> None:
        """Refreshes the Order filter's choices, keeping the current one."""
        current = self.order_box.currentData()
        self.order_box.blockSignals(True)
        self.order_box.clear()
        self.order_box.addItem(self.tr("All orders"), None)
        for order_id, label in choices:
            self.order_box.addItem(label, order_id)
        i = self.order_box.findData(current)
        self.order_box.setCurrentIndex(max(i, 0))
        self.order_box.blockSignals(False)

    def show_order(self, order_id: int | None) -> None:
        i = self.order_box.findData(order_id)
        if i >= 0 and i != self.order_box.currentIndex():
            self.order_box.setCurrentIndex(i)

    def _update_count(self) -> None:
        n = len(self.model.ids)
        self.count_label.setText(counted(self.tr("%n task(s)", "", n), n))

    def _copy_rows(self) -> None:
        copy_rows(self.table)

    def _open_current(self) -> None:
        self._open_detail(self.table.currentIndex())

    def _open_detail(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        task_id = self.model.task_id(index.row())
        if task_id is not None:
            self.detail_requested.emit(task_id)


# The engine's verdict on a unit in review: (task id, order number, price in kopecks), no
# number for "not bought" (EngineService.resolve_review).
Resolve = Callable[[int, str | None, int | None], concurrent.futures.Future[None]]


class RecordPurchaseDialog(QDialog):
    """Asks for the order number and the price paid of a bought unit and hands them to the
    engine, which checks them (in the account's order history, where the console can read
    it) before recording. A refusal (a typo caught here, or the engine's) is one line under
    the fields, and the dialog stays open for the correction.

    Attributes:
        number, price: the fields.
        message: the line saying what was refused, or that the check is under way.
        ok_button: records.
    """

    def __init__(
        self,
        parent: QWidget,
        record: Callable[[str, int], concurrent.futures.Future[None]],
        *,
        record_over_cap: Callable[[str, int], concurrent.futures.Future[None]] | None = None,
    ):
        super().__init__(parent)
        self._record = record
        # Where a price above the line's cap may be recorded once the operator says yes.
        self._record_over_cap = record_over_cap
        self._typed: tuple[str, int] = ("", 0)
        self._checking = False
        self.setWindowTitle(self.tr("Record the purchase"))
        self.number = QLineEdit()
        self.number.setPlaceholderText(self.tr("as in the account's order history"))
        self.price = QLineEdit()
        self.price.setPlaceholderText(self.tr("e.g. 1 299,00"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("Record"))
        buttons.accepted.connect(self._submit)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(self.tr("Marketplace order number:"), self.number)
        form.addRow(self.tr("Price paid, ₽:"), self.price)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    def _submit(self) -> None:
        number = self.number.text().strip()
        if not number:
            self._refuse(self.tr("Enter the order number as the account's order history shows it."))
            self.number.setFocus()
            return
        try:
            price = parse_money(self.price.text())
        except Refused as exc:
            self._refuse(
                fill(self.tr("Price paid: %1"), say(exc.message))
                if self.price.text().strip()
                else self.tr("Enter the price paid, in rubles (e.g. 1 299,00).")
            )
            self.price.setFocus()
            return
        self._send(self._record, number, price)

    def _send(
        self,
        record: Callable[[str, int], concurrent.futures.Future[None]],
        number: str,
        price: int,
    ) -> None:
        self._typed = (number, price)
        self._set_checking(True)
        when_done(record(number, price), lambda _r: self._recorded(), self._refused)

    def _recorded(self) -> None:
        self._set_checking(False)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self._set_checking(False)
        over_cap = self._record_over_cap
        if isinstance(exc, OverCap) and over_cap is not None:
            self.message.hide()
            said = error_text(exc)
            self._confirm_over_cap(said[:1].upper() + said[1:], over_cap)
            return
        self._refuse(error_text(exc))  # a defect says it is one, with where the log is
        self.number.setFocus()

    def _confirm_over_cap(
        self, said: str, record: Callable[[str, int], concurrent.futures.Future[None]]
    ) -> None:
        """A price above the cap is recorded only when the operator says so."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Price above the cap"),
            fill(self.tr("%1. Record the purchase at this price anyway?"), said.rstrip(".")),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        self.over_cap_box = box

        def answered(_result: int) -> None:
            if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
                self._send(record, *self._typed)
            else:
                self._refuse(said)
                self.price.setFocus()

        box.finished.connect(answered)
        box.open()

    def _refuse(self, text: str) -> None:
        self.message.setStyleSheet("color: #b91c1c")
        self.message.setText(text)
        self.message.show()
        self.adjustSize()

    def _set_checking(self, checking: bool) -> None:
        self._checking = checking
        for widget in (self.number, self.price, self.ok_button):
            widget.setEnabled(not checking)
        if checking:
            self.message.setStyleSheet("")
            self.message.setText(self.tr("Checking and recording the order…"))
            self.message.show()

    def reject(self) -> None:
        """Cancel, Esc or the window's close button; ignored while the engine checks, since
        the purchase may be recorded and the operator must see that it was."""
        if not self._checking:
            super().reject()


class TaskDetailDialog(QDialog):
    """One Task's history (its TaskEvents), its BuyBack and the screenshot of a failed
    browser step; for a unit in review, the operator's verdict.

    Attributes:
        bought_button, not_bought_button: the review verdicts (shown for needs_review).
        record_dialog: the RecordPurchaseDialog "It was bought…" opened, if any.
    """

    def __init__(
        self,
        db: Database,
        task_id: int,
        parent: QWidget | None = None,
        *,
        resolve: Resolve | None = None,
        open_account: Callable[[Path, str], None] | None = None,
    ):
        super().__init__(parent)
        self.task_id = task_id
        self._resolve = resolve
        self._open_account = open_account
        self.record_dialog: RecordPurchaseDialog | None = None
        self.setWindowTitle(fill(self.tr("Task %1"), str(task_id)))
        self.resize(760, 520)
        self.summary = QFormLayout()
        self.history = QTableWidget(0, 5)
        self.history.setHorizontalHeaderLabels(
            [self.tr("Time"), self.tr("From"), self.tr("To"), self.tr("Attempt"), self.tr("Detail")]
        )
        self.history.horizontalHeader().setStretchLastSection(True)
        self.history.verticalHeader().setVisible(False)
        self.history.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.screenshot = QLabel()
        self.screenshot.setAlignment(Qt.AlignmentFlag.AlignCenter)
        shot_area = QScrollArea()
        shot_area.setWidget(self.screenshot)
        shot_area.setWidgetResizable(True)
        self.shot_area = shot_area
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.bought_button = buttons.addButton(
            self.tr("It was bought…"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.bought_button.setToolTip(
            self.tr("The order is in the account's history: record its number and price")
        )
        self.not_bought_button = buttons.addButton(
            self.tr("Not bought: queue again"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.account_button = buttons.addButton(
            self.tr("Open account in browser"), QDialogButtonBox.ButtonRole.ActionRole
        )
        self.account_button.setToolTip(
            self.tr("The account's own browser profile, to look at its orders")
        )
        self.account_button.setAutoDefault(False)
        self.account_button.hide()
        self.bought_button.clicked.connect(self._record_bought)
        self.not_bought_button.clicked.connect(lambda: self._verdict(None))
        for b in (self.bought_button, self.not_bought_button):
            # A verdict about money is clicked, never given by Enter.
            b.setAutoDefault(False)
            b.hide()
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addLayout(self.summary)
        layout.addWidget(QLabel(self.tr("History")))
        layout.addWidget(self.history, 2)
        layout.addWidget(shot_area, 3)
        layout.addWidget(buttons)
        shot_area.hide()

        def load() -> TaskDetail | None:
            with db.reading() as s:
                return task_detail(s, task_id)

        in_background(load, self._show)

    def _record_bought(self) -> None:
        resolve = self._resolve
        assert resolve is not None
        dialog = RecordPurchaseDialog(
            self, lambda number, price: resolve(self.task_id, number, price)
        )
        dialog.accepted.connect(self.accept)
        self.record_dialog = dialog
        dialog.open()

    def _verdict(self, order_number: str | None) -> None:
        assert self._resolve is not None
        for b in (self.bought_button, self.not_bought_button):
            b.setEnabled(False)

        def failed(exc: BaseException) -> None:
            QMessageBox.warning(self, self.tr("Review"), str(exc))
            for b in (self.bought_button, self.not_bought_button):
                b.setEnabled(True)

        when_done(self._resolve(self.task_id, order_number, None), lambda _r: self.accept(), failed)

    def _show(self, d: TaskDetail | None) -> None:
        if d is None:
            self.summary.addRow(QLabel(self.tr("This task no longer exists.")))
            return
        r = d.row
        if r.status is TaskStatus.NEEDS_REVIEW and self._resolve is not None:
            for b in (self.bought_button, self.not_bought_button):
                b.show()
        page, opener = d.account_page, self._open_account
        if r.status is TaskStatus.NEEDS_REVIEW and page is not None and opener is not None:
            code, account_id, profile_dir, url = page
            profile = profile_folder(code, account_id, profile_dir)
            self.account_button.clicked.connect(lambda: opener(profile, url))
            self.account_button.show()
        status = QLabel(status_label(r.status))
        status.setStyleSheet(f"color: {status_color(r.status).name()}; font-weight: bold")
        self.summary.addRow(self.tr("Status:"), status)
        if r.status is TaskStatus.RETRY_WAIT and r.next_attempt_at is not None:
            self.summary.addRow(self.tr("Next try:"), QLabel(local_time(r.next_attempt_at, True)))
        self.summary.addRow(self.tr("Article:"), QLabel(f"{r.article} — {r.article_title}"))
        self.summary.addRow(self.tr("Account:"), QLabel(r.account or "—"))
        self.summary.addRow(self.tr("Pickup point:"), QLabel(r.pickup_point))
        self.summary.addRow(self.tr("Order / Job:"), QLabel(f"#{r.order_id} / {r.job_id}"))
        if d.buyback:
            number, price, at, delivery = d.buyback
            self.summary.addRow(
                self.tr("Purchase:"),
                QLabel(
                    f"{d.marketplace} {number}, {money(price)}, "
                    f"{local_time(at, True)}, {status_label(delivery)}"
                ),
            )
        if r.error:
            err = QLabel(engine_text(r.error))
            err.setWordWrap(True)
            err.setStyleSheet("color: #b91c1c")
            self.summary.addRow(self.tr("Error:"), err)
        self.history.setRowCount(len(d.history))
        for n, (at, frm, to, attempt, detail) in enumerate(d.history):
            for col, text in enumerate(
                (
                    local_time(at, True),
                    status_label(frm),
                    status_label(to),
                    str(attempt),
                    engine_text(detail),
                )
            ):
                item = QTableWidgetItem(text)
                if col == 2:
                    item.setForeground(status_color(to))
                self.history.setItem(n, col, item)
        self.history.resizeColumnsToContents()
        self.history.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        if d.screenshot and d.screenshot_host:  # a file on another workstation's disk
            where = self.tr("The screenshot is on computer %1: %2")
            self.screenshot.setText(fill(where, d.screenshot_host, d.screenshot))
            self.screenshot.setWordWrap(True)
            self.screenshot.setToolTip(d.screenshot)
            self.shot_area.show()
        elif d.screenshot and Path(d.screenshot).exists():
            self.screenshot.setPixmap(
                QPixmap(d.screenshot).scaledToWidth(700, Qt.TransformationMode.SmoothTransformation)
            )
            self.screenshot.setToolTip(d.screenshot)
            self.shot_area.show()
