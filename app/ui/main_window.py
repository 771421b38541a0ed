"""The console's main window: Orders on top, Tasks and Accounts below, the engine's
commands in menus and the toolbar, live counts in the status bar."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QSystemTrayIcon,
    QTabWidget,
    QWidget,
)

from app.core.domain.clock import utcnow
from app.core.domain.states import (
    ACTIVE,
    BOUGHT,
    CANCELLABLE,
    ORDER_OPEN,
    PROBLEMS,
    QUEUED,
    RETRYABLE,
    OrderStatus,
    TaskStatus,
)
from app.core.engine.events import EngineNotice, OrderProgress, Subscription, TaskChanged
from app.core.orders.catalog import load_catalogs
from app.core.service import EngineService
from app.core.storage.db import Database
from app.core.storage.queries import (
    account_rows,
    client_names,
    order_rows,
    purchases_since,
    status_counts,
)
from app.core.support.errors import KnownError, internal_error
from app.core.support.paths import log_dir
from app.ui.accounts_view import AccountsView
from app.ui.common import fill, in_background, number, status_label, when_done
from app.ui.i18n import apply_language
from app.ui.orders_view import OrdersView
from app.ui.tasks_view import TaskDetailDialog, TasksView

log = logging.getLogger(__name__)

LAYOUT = "2"  # the saved column layout's version: another one is not restored
PUMP_MS = 100  # the engine's events reach the views at most 10 times a second
REFRESH_MS = 2000  # shared state (other workstations, accounts) is re-read this often
MIN_REFRESH_S = 0.5  # progress events re-read the Orders at most this often
# Order states worth a tray message: finished, or needing the operator.
NOTIFY_ORDER = frozenset({OrderStatus.DONE, OrderStatus.PURCHASED, OrderStatus.FAILED})


class MainWindow(QMainWindow):
    """The operator console.

    Attributes:
        orders_view, tasks_view, accounts_view: the three views.
        actions: QAction by name (new_order, start, pause, cancel, retry, quit, ...).
        tray: the system-tray icon, or None where the desktop has no tray.
        current: the window on screen (class attribute): a language switch replaces it.
    Signals:
        notice(str): an engine notice was shown (for tests and logs).
        notified(str, str): a notification (title, message) was raised, tray or not.
        replaced(MainWindow): a language switch built this window's successor.
    """

    current: MainWindow | None = None
    notice = Signal(str)
    notified = Signal(str, str)
    replaced = Signal(object)

    def __init__(
        self,
        db: Database,
        engine: EngineService,
        parent: QWidget | None = None,
        *,
        events: Subscription | None = None,
    ):
        super().__init__(parent)
        self.db = db
        self.engine = engine
        self.setWindowTitle(self.tr("Buyback console"))
        self.resize(1280, 800)
        # A successor (language switch) takes over its predecessor's subscription, and
        # with it the events not yet shown.
        self.events: Subscription = events or engine.bus.subscribe()
        self._handed_over = False

        self.orders_view = OrdersView()
        self.tasks_view = TasksView(db)
        self.accounts_view = AccountsView(db, engine.check_accounts)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.tasks_view, self.tr("Tasks"))
        self.tabs.addTab(self.accounts_view, self.tr("Accounts"))
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.orders_view)
        self.splitter.addWidget(self.tabs)
        self.splitter.setSizes([260, 540])
        self.setCentralWidget(self.splitter)

        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_status_bar()
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.windowIcon(), self)
            self.tray.setToolTip(self.windowTitle())
            self.tray.show()
        self._notified: dict[int, str] = {}  # Order id → the status last notified

        self.orders_view.selectionModel().selectionChanged.connect(self._order_selected)
        self.tasks_view.detail_requested.connect(self.open_task)

        self._orders_dirty = True
        self._select_pending: int | None = None
        self._last_refresh = 0.0
        self.error_box: QMessageBox | None = None
        self._pump = QTimer(self, interval=PUMP_MS)
        self._pump.timeout.connect(self.pump)
        self._pump.start()
        self._refresh = QTimer(self, interval=REFRESH_MS)
        self._refresh.timeout.connect(self.refresh)
        self._refresh.start()
        self._restore()
        self.refresh()
        self.tasks_view.apply_filter()
        MainWindow.current = self

    # -- building ----------------------------------------------------------------------

    def _action(
        self,
        name: str,
        text: str,
        shortcut: str | QKeySequence.StandardKey | None,
        slot: Callable[[], Any],
        tip: str,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(
            f"{text.replace('&', '')} ({action.shortcut().toString()})" if shortcut else tip
        )
        action.triggered.connect(slot)
        self.actions[name] = action
        return action

    def _build_actions(self) -> None:
        new = self._action(
            "new_order",
            self.tr("&New order…"),
            "Ctrl+N",
            self.new_order,
            self.tr("Enter a client's order"),
        )
        start = self._action(
            "start",
            self.tr("&Start / resume"),
            "Ctrl+R",
            self.start_order,
            self.tr("Start or resume the selected order"),
        )
        pause = self._action(
            "pause",
            self.tr("&Pause"),
            "Ctrl+P",
            self.pause_order,
            self.tr("Start no new purchases for the selected order"),
        )
        cancel = self._action(
            "cancel",
            self.tr("&Cancel order…"),
            "Ctrl+Shift+X",
            self.cancel_order,
            self.tr("Cancel what has not been bought"),
        )
        retry = self._action(
            "retry",
            self.tr("&Retry failed"),
            "Ctrl+Shift+R",
            self.retry_failed,
            self.tr("Queue the failed units again"),
        )
        quit_ = self._action(
            "quit",
            self.tr("&Quit"),
            QKeySequence.StandardKey.Quit,
            self.close,
            self.tr("Close the console"),
        )
        find = self._action(
            "find",
            self.tr("&Find task…"),
            "Ctrl+F",
            self._focus_search,
            self.tr("Search the tasks"),
        )
        show_tasks = self._action(
            "show_tasks",
            self.tr("&Tasks"),
            "Ctrl+1",
            lambda: self.tabs.setCurrentIndex(0),
            self.tr("Show the tasks"),
        )
        show_accounts = self._action(
            "show_accounts",
            self.tr("&Accounts"),
            "Ctrl+2",
            lambda: self.tabs.setCurrentIndex(1),
            self.tr("Show the accounts"),
        )
        refresh = self._action(
            "refresh", self.tr("Re&fresh"), "F5", self.refresh_all, self.tr("Read everything again")
        )
        import_orders = self._action(
            "import_orders",
            self.tr("&Import orders…"),
            "Ctrl+I",
            self.import_orders,
            self.tr("Create orders from a CSV/XLSX list"),
        )
        export_report = self._action(
            "export_report",
            self.tr("&Export report…"),
            "Ctrl+E",
            self.export_report,
            self.tr("Save the selected order's units to XLSX or CSV"),
        )
        settings = self._action(
            "settings",
            self.tr("&Settings…"),
            None,
            self.open_settings,
            self.tr("Browser, concurrency…"),
        )
        open_logs = self._action(
            "open_logs",
            self.tr("Open &log folder"),
            None,
            self.open_log_folder,
            self.tr("Show the logs"),
        )

        menu = self.menuBar()
        file_menu = menu.addMenu(self.tr("&File"))
        file_menu.addAction(new)
        file_menu.addAction(import_orders)
        file_menu.addSeparator()
        file_menu.addAction(settings)
        file_menu.addSeparator()
        file_menu.addAction(quit_)
        order_menu = menu.addMenu(self.tr("&Order"))
        for a in (start, pause, cancel, retry):
            order_menu.addAction(a)
        order_menu.addSeparator()
        order_menu.addAction(export_report)
        view_menu = menu.addMenu(self.tr("&View"))
        for a in (show_tasks, show_accounts, find, refresh):
            view_menu.addAction(a)
        help_menu = menu.addMenu(self.tr("&Help"))
        help_menu.addAction(open_logs)
        help_menu.addAction(self.tr("&About"), self._about)

        bar = self.addToolBar(self.tr("Main"))
        bar.setObjectName("main-toolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for a in (new, None, start, pause, cancel, retry, None, refresh):
            if a is None:
                bar.addSeparator()
            else:
                bar.addAction(a)
        self._update_actions()

    def _build_status_bar(self) -> None:
        self.counts_label = QLabel()
        self.rate_label = QLabel()
        self.statusBar().addPermanentWidget(self.counts_label)
        self.statusBar().addPermanentWidget(self.rate_label)

    # -- the engine's events -----------------------------------------------------------

    def pump(self) -> None:
        """Takes every event waiting and repaints only what changed."""
        events = self.events.drain()
        if not events:
            return
        changed = [e for e in events if isinstance(e, TaskChanged)]
        if changed:
            self.tasks_view.model.apply(changed)
        if any(isinstance(e, OrderProgress) for e in events):
            self._orders_dirty = True
        for e in events:
            if isinstance(e, EngineNotice):
                self._show_notice(e)
            elif isinstance(e, OrderProgress):
                self._order_progress(e)
            elif isinstance(e, TaskChanged) and e.status == TaskStatus.NEEDS_REVIEW:
                self.notify(
                    self.tr("Needs review"),
                    fill(
                        self.tr("A unit of order #%1 needs review: %2"),
                        str(e.order_id),
                        e.error or self.tr("check it in the Tasks table"),
                    ),
                )
        if self._orders_dirty and self._refresh_due():
            self._orders_dirty = False
            self.refresh()

    def _show_notice(self, e: EngineNotice) -> None:
        self.statusBar().showMessage(e.message, 30000)
        self.notice.emit(e.message)
        if e.level == "error":
            self._show_error(e.message)

    def _show_error(self, message: str) -> None:
        """One non-modal box for engine errors: a modal one would run a nested event loop
        inside the pump, and errors arriving meanwhile would stack more boxes."""
        box = self.error_box
        if box is None:
            box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Engine"), "", parent=self)
            box.setModal(False)
            self.error_box = box
        text = box.text()
        if message not in text.split("\n\n"):
            box.setText(f"{text}\n\n{message}" if box.isVisible() and text else message)
        box.show()

    def _order_progress(self, e: OrderProgress) -> None:
        """A tray message when an Order finishes or fails, once per such state."""
        if e.status not in NOTIFY_ORDER or self._notified.get(e.order_id) == e.status:
            return
        self._notified[e.order_id] = e.status
        row = next((r for r in self.orders_view.orders.rows if r.id == e.order_id), None)
        failed = e.status == OrderStatus.FAILED
        title = self.tr("Order failed") if failed else self.tr("Order finished")
        text = (
            self.tr("Order #%1 for %2 failed: %3 of %4 units bought; it needs attention.")
            if failed
            else self.tr("Order #%1 for %2 is %5: %3 of %4 units bought.")
        )
        self.notify(
            title,
            fill(
                text,
                e.order_id,
                row.client if row else self.tr("a client"),
                number(e.purchased),
                number(e.total),
                status_label(e.status),
            ),
        )

    def notify(self, title: str, message: str) -> None:
        """Shows a tray message where the desktop has a tray; always emits `notified`."""
        if self.tray is not None:
            icon = QSystemTrayIcon.MessageIcon.Information
            self.tray.showMessage(title, message, icon, 10000)
        self.notified.emit(title, message)

    def _refresh_due(self) -> bool:
        return time.monotonic() - self._last_refresh >= MIN_REFRESH_S

    def refresh(self) -> None:
        """Re-reads Orders, counts and accounts (what the engine rolled up, and what other
        workstations changed), off the GUI thread."""
        self._last_refresh = time.monotonic()
        self._reload_orders()
        db = self.db

        def read() -> tuple[dict[str, int], int, list]:
            with db.session() as s:
                return (
                    status_counts(s),
                    purchases_since(s, utcnow() - timedelta(minutes=1)),
                    account_rows(s),
                )

        in_background(read, self._show_refresh)

    def refresh_all(self) -> None:
        self.tasks_view.model.reload()
        self.refresh()

    def _show_refresh(self, result: tuple[dict[str, int], int, list]) -> None:
        counts, per_minute, accounts = result
        running = sum(counts.get(s, 0) for s in ACTIVE)
        waiting = sum(counts.get(s, 0) for s in QUEUED)
        self.counts_label.setText(
            fill(
                self.tr("Running %1 · Queued %2 · Purchased %3 · Failed %4"),
                number(running),
                number(waiting),
                number(sum(counts.get(s, 0) for s in BOUGHT)),
                number(sum(counts.get(s, 0) for s in PROBLEMS)),
            )
        )
        self.rate_label.setText(fill(self.tr("%1 purchases/min"), number(per_minute)))
        self.accounts_view.accounts.set_rows(accounts)

    def _reload_orders(self) -> None:
        db = self.db

        def read() -> list:
            with db.session() as s:
                return order_rows(s)

        in_background(read, self._show_orders)

    def _show_orders(self, rows: list) -> None:
        selected = self.orders_view.current_order() or self._select_pending
        self._select_pending = None
        known = {r.id for r in self.orders_view.orders.rows}
        self.orders_view.orders.set_rows(rows)
        self.tasks_view.set_orders([(r.id, f"#{r.id} {r.client}") for r in rows])
        if selected is not None:
            for n, r in enumerate(rows):
                if r.id == selected:
                    self.orders_view.selectRow(n)
        if {r.id for r in rows} - known:
            self.tasks_view.model.reload()  # a new Order brought new Tasks
        self._update_actions()

    # -- the operator's commands ---------------------------------------------------------

    def _order_selected(self) -> None:
        self.tasks_view.show_order(self.orders_view.current_order())
        self._update_actions()

    def _update_actions(self) -> None:
        row = self.orders_view.current_row()
        status = row.status if row else None
        self.actions["start"].setEnabled(status is OrderStatus.PAUSED)
        self.actions["pause"].setEnabled(status in ORDER_OPEN)
        self.actions["cancel"].setEnabled(status in CANCELLABLE)
        self.actions["retry"].setEnabled(bool(row and row.failed) and status in RETRYABLE)
        self.actions["export_report"].setEnabled(row is not None)

    def _command(self, fut: Any, done_message: str) -> None:
        def ok(_result: Any) -> None:
            self.statusBar().showMessage(done_message, 5000)
            self._reload_orders()
            self.tasks_view.model.reload()

        def failed(exc: BaseException) -> None:
            # Non-modal, like the engine's own errors; a defect says it is one, with the log.
            if isinstance(exc, KnownError):
                self._show_error(str(exc))
            else:
                log.error("a command failed", exc_info=exc)
                self._show_error(internal_error(exc))

        when_done(fut, ok, failed)

    def start_order(self) -> None:
        if (order_id := self.orders_view.current_order()) is not None:
            self._command(
                self.engine.resume(order_id),
                fill(self.tr("Order #%1 started"), str(order_id)),
            )

    def pause_order(self) -> None:
        if (order_id := self.orders_view.current_order()) is not None:
            self._command(
                self.engine.pause(order_id),
                fill(self.tr("Order #%1 paused"), str(order_id)),
            )

    def cancel_order(self) -> None:
        row = self.orders_view.current_row()
        if row is None:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Cancel order"),
            fill(
                self.tr(
                    "Cancel order #%1 for %2?\n\n%3 of %4 units are bought and stay bought. "
                    "Units not started are cancelled; a purchase already being placed finishes "
                    "and is recorded."
                ),
                row.id,
                row.client,
                number(row.purchased),
                number(row.total),
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._command(
                self.engine.cancel(row.id),
                fill(self.tr("Order #%1 cancelled"), str(row.id)),
            )

    def retry_failed(self) -> None:
        if (order_id := self.orders_view.current_order()) is not None:
            self._command(self.engine.retry_failed(order_id), self.tr("Failed units queued again"))

    def new_order(self) -> None:
        from app.ui.new_order import NewOrderDialog

        db = self.db

        def read() -> tuple[dict, list[str]]:
            with db.session() as s:
                return load_catalogs(s), client_names(s)

        def show(result: tuple[dict, list[str]]) -> None:
            catalogs, clients = result
            if not catalogs:
                QMessageBox.information(
                    self, self.tr("New order"), self.tr("No marketplace is set up yet.")
                )
                return
            dialog = NewOrderDialog(
                catalogs,
                clients,
                self.engine.submit,
                max_units_per_line=self.engine.supervisor.ctx.settings.max_units_per_line,
                parent=self,
            )
            dialog.accepted.connect(lambda: self._order_created(dialog.order_id))
            self.new_order_dialog = dialog
            dialog.open()

        in_background(read, show)

    def _order_created(self, order_id: int | None) -> None:
        self.statusBar().showMessage(fill(self.tr("Order #%1 created"), str(order_id)), 5000)
        self.tasks_view.model.reload()
        self._reload_orders()

    def import_orders(self) -> None:
        from app.ui.orders_import import OrderImportDialog

        dialog = OrderImportDialog(
            self.db,
            max_units_per_line=self.engine.supervisor.ctx.settings.max_units_per_line,
            parent=self,
        )
        dialog.imported.connect(self._orders_imported)
        self.import_dialog = dialog
        dialog.open()

    def _orders_imported(self, ids: list[int]) -> None:
        self.statusBar().showMessage(
            fill(
                self.tr("Imported %1 orders: %2"), number(len(ids)), ", ".join(f"#{i}" for i in ids)
            ),
            10000,
        )
        self.tasks_view.model.reload()
        self._reload_orders()

    def export_report(self, path: str | None = None) -> None:
        """Asks where (unless given), then writes the selected Order's report off the GUI
        thread."""
        from app.core.orders.report import export_order

        row = self.orders_view.current_row()
        if row is None:
            return
        if not path:
            path, _ = QFileDialog.getSaveFileName(
                self,
                self.tr("Export report"),
                f"order-{row.id}.xlsx",
                self.tr("Excel workbook (*.xlsx);;CSV for Excel (*.csv)"),
            )
        if not path:
            return
        db, order_id = self.db, row.id

        def write() -> int:
            with db.session() as s:
                return export_order(s, order_id, path)

        def done(units: int) -> None:
            self.statusBar().showMessage(
                fill(
                    self.tr("Order #%1's report (%2 units) saved to %3"),
                    str(order_id),
                    number(units),
                    path,
                ),
                10000,
            )

        def failed(exc: BaseException) -> None:
            QMessageBox.warning(self, self.tr("Export report"), str(exc))

        in_background(write, done, failed)

    def open_settings(self) -> None:
        from app.ui.settings import SettingsDialog

        dialog = SettingsDialog(self.db.url, self)
        dialog.language_changed.connect(self.switch_language)
        self.settings_dialog = dialog
        dialog.open()

    def switch_language(self, choice: str) -> MainWindow:
        """Shows the console in another language at once: the translators change and a
        new window takes this one's place, layout, tab and selected Order (every string
        is set where it is built, so building again is what retranslates). The engine
        and the running purchases are not touched."""
        apply_language(choice)
        self.save_layout()
        self._handed_over = True
        successor = MainWindow(self.db, self.engine, events=self.events)
        successor.take_over(self)
        successor.setWindowState(self.windowState())
        successor.show()
        self.replaced.emit(successor)
        self.close()
        self.deleteLater()
        return successor

    def take_over(self, old: MainWindow) -> None:
        """What the operator had in front of them in `old`: tab, selected Order, the
        Tasks filter and sort, what was already notified, an engine error being shown."""
        self.tabs.setCurrentIndex(old.tabs.currentIndex())
        self._select_pending = old.orders_view.current_order()
        self._notified = dict(old._notified)
        tasks, before = self.tasks_view, old.tasks_view
        tasks.status_box.setCurrentIndex(before.status_box.currentIndex())
        tasks.search.setText(before.search.text())
        header = before.table.horizontalHeader()
        tasks.table.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())
        if old.error_box is not None and old.error_box.isVisible():
            for message in old.error_box.text().split("\n\n"):
                self._show_error(message)

    def open_log_folder(self) -> None:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def open_task(self, task_id: int) -> None:
        dialog = TaskDetailDialog(self.db, task_id, self, resolve=self.engine.resolve_review)
        dialog.accepted.connect(self.refresh_all)
        self.task_dialog = dialog
        dialog.open()

    def _focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.tasks_view.search.setFocus()
        self.tasks_view.search.selectAll()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About"),
            fill(
                self.tr(
                    "Buyback console: clients' orders into finished, tracked purchases."
                    "\nDatabase: %1"
                ),
                self.db.url,
            ),
        )

    # -- layout memory -----------------------------------------------------------------

    def _settings(self) -> QSettings:
        return QSettings()

    def _restore(self) -> None:
        s = self._settings()
        restorers = [
            ("window/geometry", self.restoreGeometry),
            ("window/state", self.restoreState),
            ("window/splitter", self.splitter.restoreState),
        ]
        if str(s.value("window/layout", "")) == LAYOUT:
            # Column widths saved by an older console are dropped: its columns were
            # narrower than the Russian headers need.
            restorers += [
                ("window/tasks_header", self.tasks_view.table.horizontalHeader().restoreState),
                ("window/orders_header", self.orders_view.horizontalHeader().restoreState),
            ]
        for key, restore in restorers:
            value = s.value(key)
            if isinstance(value, QByteArray):
                restore(value)

    def save_layout(self) -> None:
        s = self._settings()
        s.setValue("window/layout", LAYOUT)
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("window/tasks_header", self.tasks_view.table.horizontalHeader().saveState())
        s.setValue("window/orders_header", self.orders_view.horizontalHeader().saveState())

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self._pump.stop()
        self._refresh.stop()
        if not self._handed_over:
            self.events.close()
        super().closeEvent(event)
