"""The Accounts view: every marketplace account with its health, use today, rest and
lease, and the operator's actions on them (import, enable, disable, check now)."""

from __future__ import annotations

import concurrent.futures
from collections import Counter
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QMessageBox,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.core.accounts.admin import set_enabled
from app.core.accounts.health import CheckResult
from app.core.domain.codes import AccountStatus, account_status_after
from app.core.domain.states import TaskStatus
from app.core.storage.db import Database
from app.core.storage.queries import AccountRow, account_rows
from app.core.support.secrets import get_vault
from app.core.support.text import QT_TRANSLATE_NOOP
from app.ui.common import (
    Index,
    Newest,
    RowsModel,
    copy_rows,
    counted,
    error_text,
    fill,
    in_background,
    local_time,
    number,
    status_color,
    status_label,
    when_done,
)
from app.ui.engine_texts import engine_text

COLUMNS = (
    QT_TRANSLATE_NOOP("Column", "Login"),
    QT_TRANSLATE_NOOP("Column", "Marketplace"),
    QT_TRANSLATE_NOOP("Column", "Label"),
    QT_TRANSLATE_NOOP("Column", "Phone"),
    QT_TRANSLATE_NOOP("Column", "Status"),
    QT_TRANSLATE_NOOP("Column", "Health"),
    QT_TRANSLATE_NOOP("Column", "Checked"),
    QT_TRANSLATE_NOOP("Column", "Today / limit"),
    QT_TRANSLATE_NOOP("Column", "Resting until"),
    QT_TRANSLATE_NOOP("Column", "Busy"),
    QT_TRANSLATE_NOOP("Column", "Last used"),
    QT_TRANSLATE_NOOP("Column", "Last error"),
)

Checker = Callable[[list[int] | None], concurrent.futures.Future[list[CheckResult]]]


class AccountsModel(RowsModel):
    columns = COLUMNS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r: AccountRow = self.rows[index.row()]
        col = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(r, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._color(r, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(r, col) or None
        return None

    def _tooltip(self, r: AccountRow, col: str) -> str:
        """A cell's whole text, however narrow its column; the login with where the
        account's browser state is kept."""
        lines = [self._text(r, col)]
        if col == "Login":
            if r.has_session:
                lines.append(self.tr("Stored browser session"))
            if r.profile_dir:
                lines.append(fill(self.tr("Browser profile: %1"), r.profile_dir))
        return "\n".join(line for line in lines if line)

    def _color(self, r: AccountRow, col: str) -> QColor | None:
        if col == "Status":
            return status_color(r.status)
        if col == "Health":
            return status_color(r.health)
        limit_reached = r.daily_limit is not None and r.purchases_today >= r.daily_limit
        if col == "Resting until" or (col == "Today / limit" and limit_reached):
            return status_color(TaskStatus.WAITING_ACCOUNT)
        if col == "Busy":
            return status_color(TaskStatus.RUNNING)
        if col == "Last error" and r.last_error:
            # Red only for the account's own fault; a failure that may be its own and rests
            # it now in the colour of its rest. Any other error (a unit out of stock, an
            # operator's cancellation) only happened while the account was used.
            if _accounts_fault(r):
                return status_color(TaskStatus.FAILED)
            if r.cooldown_until is not None:
                return status_color(TaskStatus.WAITING_ACCOUNT)
        return None

    def _text(self, r: AccountRow, col: str) -> str:
        if col == "Today / limit":
            limit = "∞" if r.daily_limit is None else number(r.daily_limit)
            return f"{number(r.purchases_today)} / {limit}"
        return {
            "Login": r.login,
            "Marketplace": r.marketplace,
            "Label": r.label,
            "Phone": r.phone,
            "Status": status_label(r.status),
            "Health": _health(r.health),
            "Checked": local_time(r.checked_at, True),
            "Resting until": local_time(r.cooldown_until, True),
            "Busy": self.tr("busy") if r.busy else "",
            "Last used": local_time(r.last_used_at, True),
            "Last error": engine_text(r.last_error) if r.last_error else "",
        }[col]


def _accounts_fault(r: AccountRow) -> bool:
    """Whether the marketplace answered about the account itself (domain.codes
    ACCOUNT_ANSWERS: blocked, password refused), as its status or last check says. A
    disabled account alone proves nothing: the operator may have disabled it."""
    return r.status is AccountStatus.BLOCKED or account_status_after(r.health) is not None


def _health(health: str | None) -> str:
    if not health or health == "unknown":
        return QCoreApplication.translate("AccountsModel", "not checked")
    return status_label(health)


class AccountsView(QWidget):
    """The accounts table with its toolbar.

    Attributes:
        accounts: the table's model (its rows are AccountRows).
        table: the table.
        actions: QAction by name (import, enable, disable, check).
        message: a line saying what the last action did (or why the secrets key cannot
            be loaded).
    Signals:
        changed(): accounts were imported, enabled, disabled or checked.

    Ctrl+C (the platform's Copy key) in the table copies the selected rows for a spreadsheet;
    its context menu (app.ui.window.context_menus) holds the actions on them.
    """

    changed = Signal()

    def __init__(self, db: Database, check: Checker, parent: QWidget | None = None):
        super().__init__(parent)
        self.db = db
        self._check = check
        self.accounts = AccountsModel(self)
        self.reads = Newest()
        self.table = QTableView()
        self.table.setModel(self.accounts)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for col, width in enumerate((140, 110, 90, 120, 80, 105, 135, 105, 135, 55, 150)):
            header.resizeSection(col, width)
        copy = QShortcut(self.table)
        copy.setKeys(QKeySequence.StandardKey.Copy)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)  # only while the table has focus
        copy.activated.connect(self._copy_rows)

        bar = QToolBar()
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.account_actions = {
            "import": bar.addAction(self.tr("Import…"), self.open_import),
            "enable": bar.addAction(self.tr("Enable"), lambda: self.set_enabled(True)),
            "disable": bar.addAction(self.tr("Disable"), lambda: self.set_enabled(False)),
            "check": bar.addAction(self.tr("Check now"), self.check_now),
        }
        self.account_actions["import"].setToolTip(
            self.tr("Import accounts from a list, sessions or profiles")
        )
        self.account_actions["check"].setToolTip(self.tr("Log the selected accounts in"))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setContentsMargins(8, 0, 8, 0)
        self.message.hide()  # until there is something to say
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.table)

        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.accounts.modelReset.connect(self._update_actions)
        self._checking = False
        self._update_actions()
        # Loading the key may ask the OS keyring (D-Bus): never on the GUI thread. Where
        # the key is kept is said once, pinned in the window's notifications; a key that
        # cannot be loaded is said here, beside the accounts it locks.
        in_background(get_vault, lambda _vault: None, lambda exc: self._say(error_text(exc)))

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.accounts.rows[n].id for n in rows]

    def _copy_rows(self) -> None:
        copy_rows(self.table)

    def _update_actions(self) -> None:
        selected = bool(self.table.selectionModel().hasSelection())
        self.account_actions["enable"].setEnabled(selected)
        self.account_actions["disable"].setEnabled(selected)
        self.account_actions["check"].setEnabled(selected and not self._checking)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def reload(self) -> None:
        db, asked = self.db, self.reads.ask()

        def read() -> list[AccountRow]:
            with db.reading() as s:
                return account_rows(s)

        def show(rows: list[AccountRow]) -> None:
            if self.reads.fresh(asked):
                self.accounts.set_rows(rows)

        in_background(read, show)

    def _failed(self, exc: BaseException) -> None:
        QMessageBox.warning(self, self.tr("Accounts"), str(exc))

    def set_enabled(self, enabled: bool) -> None:
        ids = self.selected_ids()
        db = self.db

        def write() -> int:
            with db.session() as s:
                n = set_enabled(s, ids, enabled)
                s.commit()
                return n

        def done(n: int) -> None:
            if enabled:
                text = self.tr("%Ln account(s) enabled", "", n)
            else:
                text = self.tr("%Ln account(s) disabled", "", n)
            self._say(counted(text, n))
            self.reload()
            self.changed.emit()

        in_background(write, done, self._failed)

    def check_now(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return  # the action is disabled then; a check of nothing says nothing
        self._checking = True
        self._update_actions()
        self._say(self.tr("Checking the accounts…"))
        when_done(self._check(ids), self._checked, self._check_failed)

    def _checked(self, results: list[CheckResult]) -> None:
        self._checking = False
        self._update_actions()
        counts = Counter(_health(r.health) for r in results)
        self._say(
            fill(
                counted(self.tr("Checked %Ln account(s): %1", "", len(results)), len(results)),
                ", ".join(f"{k} {number(v)}" for k, v in counts.items()) or "-",
            )
        )
        self.reload()
        self.changed.emit()

    def _check_failed(self, exc: BaseException) -> None:
        self._checking = False
        self._update_actions()
        self._say("")
        self._failed(exc)

    def open_import(self) -> None:
        from app.ui.dialogs.accounts_import import AccountImportDialog

        dialog = AccountImportDialog(self.db, self)
        dialog.imported.connect(self._imported)
        self.import_dialog = dialog
        dialog.open()

    def _imported(self, counts: dict[str, int]) -> None:
        self._say(
            fill(
                self.tr("Imported: %1 added, %2 updated"),
                number(counts["add"]),
                number(counts["update"]),
            )
        )
        self.reload()
        self.changed.emit()
