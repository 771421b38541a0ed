"""The To buy view: units that a person buys on an assisted marketplace.

The operator takes the next unit (Ctrl+T); the engine leases an account for it and the
console opens that account's own browser profile on the product page. Beside it the view
shows what to buy, where it goes and the price cap; the operator records Bought, Could
not buy or Skip. The console never drives or reads the marketplace's pages.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.drivers.assisted import BrowserLaunch, browser_launch, profile_folder, start_browser
from app.core.engine.assisted import HandUnit, NotBought, QueuedUnit, hand_units, queued_units
from app.core.service import EngineService
from app.core.storage.db import Database
from app.core.support.text import QT_TRANSLATE_NOOP
from app.ui.common import (
    RowsModel,
    counted,
    error_text,
    fill,
    in_background,
    money,
    number,
    status_label,
    when_done,
)
from app.ui.engine_texts import engine_text

log = logging.getLogger(__name__)
Index = QModelIndex | QPersistentModelIndex


def _point(code: str, address: str) -> str:
    """A pickup point as the operator finds it at checkout: its code and address, once
    when a typed address is its own code."""
    return code if address in ("", code) else f"{code} {address}"


def _cap(minor: int | None) -> str:
    return money(minor) if minor is not None else "—"


@dataclass(frozen=True)
class _Row:
    id: int
    cells: tuple[str, ...]
    unit: Any


class _UnitsModel(RowsModel):
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return row.cells[index.column()]
        return None


class HandModel(_UnitsModel):
    columns = (
        QT_TRANSLATE_NOOP("Column", "Task"),
        QT_TRANSLATE_NOOP("Column", "Client"),
        QT_TRANSLATE_NOOP("Column", "Account"),
        QT_TRANSLATE_NOOP("Column", "Article"),
        QT_TRANSLATE_NOOP("Column", "Pickup point"),
        QT_TRANSLATE_NOOP("Column", "Price cap"),
        QT_TRANSLATE_NOOP("Column", "Taken by"),
    )

    def show(self, units: list[HandUnit]) -> None:
        self.set_rows(
            [
                _Row(
                    u.task_id,
                    (
                        str(u.task_id),
                        u.client,
                        u.login,
                        f"{u.article} {u.title}".strip(),
                        _point(u.pickup_point, u.pickup_address),
                        _cap(u.max_price_minor),
                        u.taken_by,
                    ),
                    u,
                )
                for u in units
            ]
        )


class QueueModel(_UnitsModel):
    columns = (
        QT_TRANSLATE_NOOP("Column", "Task"),
        QT_TRANSLATE_NOOP("Column", "Client"),
        QT_TRANSLATE_NOOP("Column", "Marketplace"),
        QT_TRANSLATE_NOOP("Column", "Article"),
        QT_TRANSLATE_NOOP("Column", "Pickup point"),
        QT_TRANSLATE_NOOP("Column", "Price cap"),
        QT_TRANSLATE_NOOP("Column", "Status"),
        QT_TRANSLATE_NOOP("Column", "Last error"),
    )

    def show(self, units: list[QueuedUnit]) -> None:
        self.set_rows(
            [
                _Row(
                    u.task_id,
                    (
                        str(u.task_id),
                        u.client,
                        u.marketplace,
                        f"{u.article} {u.title}".strip(),
                        _point(u.pickup_point, u.pickup_address),
                        _cap(u.max_price_minor),
                        status_label(u.status),
                        engine_text(u.last_error or ""),
                    ),
                    u,
                )
                for u in units
            ]
        )


def _table(model: RowsModel) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.setWordWrap(False)
    # Short columns as wide as their text; the article and the pickup point take the rest.
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    for column in (3, 4):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
    return table


class ToBuyView(QWidget):
    """Units to buy by hand: those in operators' hands (with what to do next) and those
    waiting.

    Attributes:
        hands, queue: the two tables' models.
        message: the last refusal or what happened, in one line.
        launched: the browser launches this view started (the last is the operator's).
        start_browser: starts a launch (a seam: tests look at what would start).
    Signals:
        changed: a unit was taken or recorded (the window re-reads the Orders).
    """

    changed = Signal()

    def __init__(
        self,
        db: Database,
        engine: EngineService,
        browser: str | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.db = db
        self.engine = engine
        self.browser = browser
        self.launched: list[BrowserLaunch] = []
        self.start_browser: Callable[[BrowserLaunch], None] = start_browser
        self._loading = False
        self._again = False  # a reload was asked while a read was under way
        self._select_after: int | None = None

        self.take_button = QPushButton(self.tr("Take the next unit (Ctrl+T)"))
        self.take_button.clicked.connect(self.take_next)
        self.counts = QLabel()
        self.message = QLabel()
        self.message.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.take_button)
        top.addWidget(self.counts, 1)

        self.hands = HandModel(self)
        self.hand_table = _table(self.hands)
        self.hand_table.setMinimumHeight(110)
        self.hand_table.selectionModel().selectionChanged.connect(self._show_selected)
        self.queue = QueueModel(self)
        self.queue_table = _table(self.queue)

        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.open_button = QPushButton(self.tr("Open browser"))
        self.open_button.clicked.connect(lambda: self._on_selected(self.open_browser))
        self.copy_button = QPushButton(self.tr("Copy page address"))
        self.copy_button.clicked.connect(lambda: self._on_selected(self._copy_address))
        self.bought_button = QPushButton(self.tr("Bought…"))
        self.bought_button.clicked.connect(lambda: self._on_selected(self.record_bought))
        self.not_bought_button = QPushButton(self.tr("Could not buy…"))
        self.not_bought_button.clicked.connect(lambda: self._on_selected(self.record_not_bought))
        self.skip_button = QPushButton(self.tr("Skip"))
        self.skip_button.setToolTip(self.tr("Back to the queue; the account is released"))
        self.skip_button.clicked.connect(lambda: self._on_selected(self.skip))
        # What the operator does with the selected unit in hand.
        self.unit_buttons = (
            self.open_button,
            self.copy_button,
            self.bought_button,
            self.not_bought_button,
            self.skip_button,
        )
        buttons = QHBoxLayout()
        for b in self.unit_buttons:
            buttons.addWidget(b)
        buttons.addStretch(1)

        hand_box = QGroupBox(self.tr("In hand"))
        hand_layout = QVBoxLayout(hand_box)
        hand_layout.addWidget(self.hand_table, 2)
        hand_layout.addWidget(self.detail, 1)
        hand_layout.addLayout(buttons)
        queue_box = QGroupBox(self.tr("Waiting"))
        queue_layout = QVBoxLayout(queue_box)
        queue_layout.addWidget(self.queue_table)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(hand_box)
        split.addWidget(queue_box)
        split.setSizes([300, 200])

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)
        self._show_selected()
        self.message.hide()

    # -- reading ---------------------------------------------------------------------

    def reload(self) -> None:
        """Re-reads both lists off the GUI thread, one read at a time. Asked while a read
        is under way, it reads again once that one is shown: the read under way may have
        begun before what the caller just did (a unit taken or recorded), and its lists
        alone would leave a unit that is gone selected until the next refresh."""
        if self._loading:
            self._again = True
            return
        self._loading = True
        self._again = False
        db = self.db

        def read() -> tuple[list[HandUnit], list[QueuedUnit], int]:
            with db.reading() as s:
                queued, total = queued_units(s)
                return hand_units(s), queued, total

        in_background(read, self._show, self._read_failed)

    def _read_failed(self, exc: BaseException) -> None:
        self._loading = False
        self.say(error_text(exc), error=True)
        if self._again:
            self.reload()

    def _show(self, result: tuple[list[HandUnit], list[QueuedUnit], int]) -> None:
        self._loading = False
        hands, queued, total = result
        selected = self.selected_unit()
        keep = self._select_after or (selected.task_id if selected else None)
        self.hands.show(hands)
        self.queue.show(queued)
        waiting = counted(self.tr("%Ln unit(s) waiting · %1 in hand", "", total), total)
        self.counts.setText(fill(waiting, number(len(hands))))
        rows = [r.id for r in self.hands.rows]
        if keep in rows:
            self._select_after = None
            self.hand_table.selectRow(rows.index(keep))
        elif rows and self.selected_unit() is None:
            self.hand_table.selectRow(0)
        self._show_selected()
        if self._again:  # what was shown may predate what was asked since: read again
            self.reload()

    def selected_unit(self) -> HandUnit | None:
        rows = self.hand_table.selectionModel().selectedRows()
        if not rows:
            return None
        unit: HandUnit = self.hands.rows[rows[0].row()].unit
        return unit

    def _show_selected(self) -> None:
        u = self.selected_unit()
        for b in self.unit_buttons:
            b.setEnabled(u is not None)
        if u is None:
            self.detail.setText(
                self.tr(
                    "Take the next unit: the console leases an account for it and opens "
                    "that account's browser profile on the product page."
                )
            )
            return
        account = f"{u.login} ({u.label})" if u.label else u.login
        self.detail.setText(
            "\n".join(
                (
                    fill(self.tr("Account: %1"), account),
                    fill(self.tr("Article: %1 %2"), u.article, u.title),
                    fill(self.tr("Product page: %1"), u.product_url),
                    fill(
                        self.tr("Pickup point (choose it at checkout): %1"),
                        _point(u.pickup_point, u.pickup_address),
                    ),
                    fill(self.tr("Price cap: %1"), _cap(u.max_price_minor)),
                    fill(self.tr("Order #%1 for %2 on %3"), u.order_id, u.client, u.marketplace),
                )
            )
        )

    def _on_selected(self, action: Callable[[HandUnit], None]) -> None:
        unit = self.selected_unit()
        if unit is not None:
            action(unit)

    def say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b91c1c" if error else "")
        self.message.setText(text)
        self.message.show()

    # -- the operator's commands -------------------------------------------------------

    def take_next(self) -> None:
        self.take_button.setEnabled(False)

        def taken(unit: HandUnit) -> None:
            self.take_button.setEnabled(True)
            self._select_after = unit.task_id
            self.say(
                fill(
                    self.tr("Task %1 is in your hands with account %2."),
                    unit.task_id,
                    unit.login,
                )
            )
            self.open_browser(unit)
            self.changed.emit()
            self.reload()

        def refused(exc: BaseException) -> None:
            self.take_button.setEnabled(True)
            self.say(error_text(exc), error=True)

        when_done(self.engine.take_next(), taken, refused)

    def open_browser(self, unit: HandUnit) -> None:
        """Starts the account's own browser profile on the product page."""
        profile = profile_folder(
            unit.marketplace_code, unit.account_id, unit.profile_dir, unit.profile_host
        )
        self.launch(profile, unit.product_url)

    def launch(self, profile: Path, url: str) -> None:
        """Starts the browser with this profile on this page, off the GUI thread; a
        browser that cannot start is said in one line."""
        browser, start = self.browser, self.start_browser

        def launch() -> BrowserLaunch:
            launch = browser_launch(profile, url, browser)
            start(launch)
            return launch

        def done(launch: BrowserLaunch) -> None:
            self.launched.append(launch)

        in_background(
            launch,
            done,
            lambda exc: self.say(
                fill(self.tr("The browser did not open: %1"), error_text(exc)), error=True
            ),
        )

    def _copy_address(self, unit: HandUnit) -> None:
        QGuiApplication.clipboard().setText(unit.product_url)
        self.say(self.tr("The product page's address is on the clipboard."))

    def record_bought(self, unit: HandUnit) -> None:
        from app.ui.views.tasks_view import RecordPurchaseDialog

        engine, task_id = self.engine, unit.task_id
        dialog = RecordPurchaseDialog(
            self,
            lambda number, price: engine.record_bought(task_id, number, price),
            record_over_cap=lambda number, price: engine.record_bought(
                task_id, number, price, over_cap_ok=True
            ),
        )
        dialog.accepted.connect(lambda: self._recorded(self.tr("Recorded as bought.")))
        self.record_dialog = dialog
        dialog.open()

    def record_not_bought(self, unit: HandUnit) -> None:
        dialog = NotBoughtDialog(self, unit, self.engine)
        dialog.accepted.connect(lambda: self._recorded(self.tr("Recorded as not bought.")))
        self.not_bought_dialog = dialog
        dialog.open()

    def skip(self, unit: HandUnit) -> None:
        self._send(self.engine.skip_unit(unit.task_id), self.tr("Back in the queue."))

    def _send(self, fut: concurrent.futures.Future[Any], done: str) -> None:
        when_done(
            fut, lambda _r: self._recorded(done), lambda e: self.say(error_text(e), error=True)
        )

    def _recorded(self, text: str) -> None:
        self.say(text)
        self.changed.emit()
        self.reload()


# Reason: (label, what follows), in the order the dialog offers them.
_REASONS: tuple[tuple[NotBought, str, str], ...] = (
    (
        NotBought.OUT_OF_STOCK,
        QT_TRANSLATE_NOOP("NotBoughtDialog", "Out of stock"),
        QT_TRANSLATE_NOOP("NotBoughtDialog", "the unit fails"),
    ),
    (
        NotBought.PRICE_ABOVE_CAP,
        QT_TRANSLATE_NOOP("NotBoughtDialog", "Price above the cap"),
        QT_TRANSLATE_NOOP("NotBoughtDialog", "the unit fails"),
    ),
    (
        NotBought.ACCOUNT_PROBLEM,
        QT_TRANSLATE_NOOP("NotBoughtDialog", "A problem with the account"),
        QT_TRANSLATE_NOOP("NotBoughtDialog", "the account rests; the unit goes back to the queue"),
    ),
    (
        NotBought.ACCOUNT_BLOCKED,
        QT_TRANSLATE_NOOP("NotBoughtDialog", "The account is blocked"),
        QT_TRANSLATE_NOOP(
            "NotBoughtDialog", "the account leaves the pool; the unit goes back to the queue"
        ),
    ),
    (
        NotBought.OTHER,
        QT_TRANSLATE_NOOP("NotBoughtDialog", "Other (say why in the note)"),
        QT_TRANSLATE_NOOP("NotBoughtDialog", "the unit fails"),
    ),
)


class NotBoughtDialog(QDialog):
    """Why the unit could not be bought, with a note; each reason says what follows.

    Attributes:
        reasons: the radio buttons by reason.
        note: the note.
        ok_button: records.
        message: a refusal, in one line.
    """

    def __init__(self, parent: QWidget, unit: HandUnit, engine: EngineService):
        super().__init__(parent)
        self._unit, self._engine = unit, engine
        self.setWindowTitle(self.tr("Could not buy"))
        self.group = QButtonGroup(self)
        self.reasons: dict[NotBought, QRadioButton] = {}
        box = QVBoxLayout()
        for reason, label, follows in _REASONS:
            button = QRadioButton(self.tr(label))
            self.group.addButton(button)
            self.reasons[reason] = button
            box.addWidget(button)
            consequence = QLabel(self.tr(follows))
            consequence.setStyleSheet("color: #6b7280; margin-left: 22px")
            box.addWidget(consequence)
        self.reasons[NotBought.OUT_OF_STOCK].setChecked(True)
        self.note = QLineEdit()
        self.note.setPlaceholderText(self.tr("What the marketplace said"))
        self.message = QLabel()
        self.message.setStyleSheet("color: #b91c1c")
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
        form.addRow(self.tr("Note:"), self.note)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                fill(
                    self.tr("Task %1, article %2, account %3:"),
                    unit.task_id,
                    unit.article,
                    unit.login,
                )
            )
        )
        layout.addLayout(box)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def chosen(self) -> NotBought:
        return next(r for r, b in self.reasons.items() if b.isChecked())

    def _submit(self) -> None:
        self.ok_button.setEnabled(False)  # one record per click: the engine is asked once
        fut = self._engine.record_not_bought(self._unit.task_id, self.chosen(), self.note.text())

        def refused(exc: BaseException) -> None:
            self.ok_button.setEnabled(True)
            self.message.setText(error_text(exc))
            self.message.show()

        when_done(fut, lambda _r: self.accept(), refused)

    def reject(self) -> None:
        """Cancel or Esc; ignored while the engine records, so the operator sees how it
        ended."""
        if self.ok_button.isEnabled():
            super().reject()
