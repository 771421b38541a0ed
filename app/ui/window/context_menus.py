"""Context menus on the Orders, Tasks and Accounts tables: the actions for the rows under
the pointer (a right click) or the current row (the Menu key, Shift+F10), made of the
actions the window's menus and toolbars already hold, so their texts, shortcuts and
enabled states are the same everywhere."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu, QTableView

from app.core.domain.states import TaskStatus
from app.ui.common import copy_rows

if TYPE_CHECKING:
    from app.ui.views.tasks_view import TasksView
    from app.ui.window.main_window import MainWindow

# The keyboard's ways to a context menu. Windows turns the Menu key into a context menu
# event of its own, X11 and Wayland leave both keys to the application; a second request
# while the menu is open is ignored.
MENU_KEYS = [QKeySequence(Qt.Key.Key_Menu), QKeySequence("Shift+F10")]

# The Order menu's commands on the selected Order, in its order (None: a separator);
# "edit_lines" where the window has it.
ORDER_ACTIONS = ("start", "pause", "cancel", "retry", None, "edit_lines", "export_report")

Entries = Callable[[], Sequence[QAction | None]]


class TableMenu(QObject):
    """One table's context menu, filled anew each time it opens.

    Attributes:
        table: the table.
        menu: the menu (open, or the last one opened).
    """

    def __init__(
        self,
        table: QTableView,
        entries: Entries,
        *,
        applies: Callable[[], dict[QAction, bool]] | None = None,
    ):
        """`entries`: the actions, in order. `applies`: whether shared actions that the
        window's menus keep enabled apply to these rows (the state holds while the menu
        is open)."""
        super().__init__(table)
        self.table = table
        self._entries = entries
        self._applies = applies
        self._restore: dict[QAction, bool] = {}
        self.menu = QMenu(table)
        self.menu.aboutToHide.connect(self._hidden)
        table.customContextMenuRequested.connect(self._at_pointer)
        keys = QShortcut(table)
        keys.setKeys(MENU_KEYS)
        keys.setContext(Qt.ShortcutContext.WidgetShortcut)  # only while the table has focus
        keys.activated.connect(self._at_current)

    def _at_pointer(self, pos: QPoint) -> None:
        # A right click has already selected the row under the pointer (or kept the
        # selection it is part of); below the last row there is nothing to act on.
        if self.table.indexAt(pos).isValid():
            self.popup(self.table.viewport().mapToGlobal(pos))

    def _at_current(self) -> None:
        # Under the current cell, where the keyboard is; the actions are the selection's.
        if not self.table.selectionModel().hasSelection():
            return
        index, at = self.table.currentIndex(), QPoint(0, 0)
        if index.isValid():
            self.table.scrollTo(index)
            at = self.table.visualRect(index).bottomLeft()
        self.popup(self.table.viewport().mapToGlobal(at))

    def popup(self, at: QPoint) -> None:
        """Opens the menu at `at` (global coordinates)."""
        if self.menu.isVisible():
            return
        self.menu.clear()
        for action in self._entries():
            if action is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(action)
        applies = self._applies() if self._applies else {}
        self._restore = {action: action.isEnabled() for action in applies}
        for action, enabled in applies.items():
            action.setEnabled(enabled)
        self.menu.popup(at)

    def _hidden(self) -> None:
        # A menu hides before it triggers the chosen action, which must still be enabled
        # then: the window's own states come back once that is done.
        restore, self._restore = self._restore, {}

        def back() -> None:
            for action, enabled in restore.items():
                action.setEnabled(enabled)

        if restore:
            QTimer.singleShot(0, back)


class ContextMenus(QObject):
    """The window's three table menus.

    Attributes:
        orders, tasks, accounts: their TableMenus.
        open_task, copy_tasks, copy_accounts: the actions only these menus hold.
    """

    def __init__(self, window: MainWindow):
        super().__init__(window)
        actions = window.menu_actions
        tasks, accounts = window.tasks_view, window.accounts_view

        def orders() -> list[QAction | None]:
            return [actions[n] if n else None for n in ORDER_ACTIONS if n is None or n in actions]

        self.orders = TableMenu(window.orders_view, orders)

        # Return and the keypad's Enter open it; "Enter" is what people call both.
        self.open_task = _action(
            tasks.table, QCoreApplication.translate("ContextMenus", "&Open"), Qt.Key.Key_Enter
        )
        self.open_task.triggered.connect(lambda: _open_current(tasks))
        self.copy_tasks = _action(
            tasks.table,
            QCoreApplication.translate("ContextMenus", "&Copy"),
            QKeySequence.StandardKey.Copy,
        )
        self.copy_tasks.triggered.connect(lambda: copy_rows(tasks.table))
        arrived = actions["mark_arrived"]

        def task_entries() -> list[QAction | None]:
            selected = tasks.table.selectionModel().hasSelection()
            self.open_task.setEnabled(tasks.table.currentIndex().isValid())
            self.copy_tasks.setEnabled(selected)
            return [self.open_task, self.copy_tasks, None, arrived]

        self.tasks = TableMenu(
            tasks.table, task_entries, applies=lambda: {arrived: _bought_selected(tasks)}
        )

        views = accounts.account_actions
        self.copy_accounts = _action(
            accounts.table,
            QCoreApplication.translate("ContextMenus", "&Copy"),
            QKeySequence.StandardKey.Copy,
        )
        self.copy_accounts.triggered.connect(lambda: copy_rows(accounts.table))

        def account_entries() -> list[QAction | None]:
            self.copy_accounts.setEnabled(accounts.table.selectionModel().hasSelection())
            return [views["check"], views["enable"], views["disable"], None, self.copy_accounts]

        self.accounts = TableMenu(accounts.table, account_entries)


def install_context_menus(window: MainWindow) -> ContextMenus:
    """Gives the window's Orders, Tasks and Accounts tables their context menus."""
    return ContextMenus(window)


def _action(
    parent: QObject, text: str, keys: Qt.Key | QKeySequence.StandardKey | QKeySequence
) -> QAction:
    """An action that names its key (the table's own shortcut) without taking it: the
    menu shows the text after a tab in its shortcut column."""
    key = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)
    return QAction(f"{text}\t{key}", parent)


def _open_current(view: TasksView) -> None:
    task_id = view.model.task_id(view.table.currentIndex().row())
    if task_id is not None:
        view.detail_requested.emit(task_id)


def _bought_selected(view: TasksView) -> bool:
    """Whether the selected Tasks hold a bought unit (Mark arrived applies); a row not
    read yet may be one."""
    model, selection = view.model, view.table.selectionModel().selection()
    for span in (selection.at(i) for i in range(selection.count())):
        for n in range(span.top(), span.bottom() + 1):
            row = model.row(n)
            if row is None or row.status == TaskStatus.PURCHASED:
                return True
    return False
