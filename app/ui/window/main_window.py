"""The console's main window: Orders on top, Tasks and Accounts below, the engine's
commands in menus and the toolbar, live counts in the status bar."""

from __future__ import annotations

import importlib
import logging
import queue
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from app.core.domain.clock import utcnow
from app.core.domain.states import (
    ACTIVE,
    BOUGHT,
    PROBLEMS,
    QUEUED,
    TaskStatus,
)
from app.core.engine.events import (
    EngineNotice,
    MarketBlocked,
    OrderProgress,
    Subscription,
    TaskChanged,
)
from app.core.support.paths import log_dir
from app.ui import folders
from app.ui.common import (
    Newest,
    counted,
    error_text,
    fill,
    in_background,
    number,
    say,
    when_done,
)
from app.ui.i18n import apply_language
from app.ui.window.layout import restore_views, restore_window, save_layout
from app.ui.window.menus import build_menus, menu_path

if TYPE_CHECKING:  # the engine, the database and the views load after the first paint
    from app.core.engine.deliveries import DeliveryPlan
    from app.core.service import EngineService
    from app.core.storage.db import Database
    from app.core.storage.notices import Change, ChangeListener
    from app.core.supervisor import Supervisor
    from app.ui.views.accounts_view import AccountsView
    from app.ui.views.orders_view import OrdersView
    from app.ui.views.tasks_view import TasksView
    from app.ui.views.to_buy import ToBuyView
    from app.ui.views.welcome import WelcomePanel
    from app.ui.window.notices import Notices
    from app.ui.window.order_commands import OrderCommands

log = logging.getLogger(__name__)

# What attach() builds the window from: a worker thread may import these first (only
# import: the widgets are made on the GUI thread), which keeps that time off the GUI thread.
VIEW_MODULES = (
    "app.ui.views.accounts_view",
    "app.ui.views.orders_view",
    "app.ui.views.tasks_view",
    "app.ui.views.to_buy",
    "app.ui.views.welcome",
    "app.ui.window.context_menus",
    "app.ui.window.notices",
    "app.ui.window.order_commands",
    "app.core.storage.queries",
    "app.core.storage.notices",
)

PUMP_MS = 100  # the engine's events reach the views at most 10 times a second
REFRESH_MS = 2000  # shared state (other workstations, accounts) is re-read this often
MIN_REFRESH_S = 0.5  # progress events re-read the Orders at most this often
QUIT_WAIT_S = 60  # closing, the window waits this long for running purchases to finish
LISTENER_STOP_S = 1.0  # closing, the window waits this long for the notices' connection


class MainWindow(QMainWindow):
    """The operator console.

    Built without a database and an engine, the window opens at once with its menus and
    says it is opening the database; attach() fills it with the views once they are
    ready (the console's start), and the first counts read replace that page.

    Attributes:
        pages: the opening page, the views (splitter) and the first launch panel (welcome).
        attached: attach() has built the views.
        orders_view, tasks_view, accounts_view, to_buy_view: the views (from attach()).
        menu_actions: QAction by name (new_order, start, pause, cancel, retry, quit, ...).
        notices: the engine's messages and the notifications.
        commands: the commands on the selected Order.
        context_menus: the tables' context menus (app.ui.window.context_menus).
        listener: on PostgreSQL, the ChangeListener that hears what other workers and
            consoles commit (from attach() until the window closes); None on SQLite.
        current: the window on screen (class attribute): a language switch replaces it.
    Signals:
        notice(str): an engine notice was shown (for tests and logs).
        notified(str, str): a notification (title, message) was raised, tray or not.
        replaced(MainWindow): a language switch built this window's successor.
        loaded(): the first read after attach() is on screen (the views, or the first
            launch panel, instead of the opening page).
    """

    current: MainWindow | None = None
    notice = Signal(str)
    notified = Signal(str, str)
    replaced = Signal(object)
    loaded = Signal()

    db: Database
    engine: EngineService
    browser: str | None
    events: Subscription
    orders_view: OrdersView
    tasks_view: TasksView
    accounts_view: AccountsView
    to_buy_view: ToBuyView
    welcome: WelcomePanel
    notices: Notices
    commands: OrderCommands

    def __init__(
        self,
        db: Database | None = None,
        engine: EngineService | None = None,
        parent: QWidget | None = None,
        *,
        events: Subscription | None = None,
        browser: str | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Buyback console"))
        self.resize(1280, 800)
        self.attached = False
        self._handed_over = False
        self._quitting = False  # the operator chose to quit once the purchases are recorded
        self.opening = QLabel(self.tr("Opening the database…"))
        self.opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.opening)
        self.setCentralWidget(self.pages)
        self.menu_actions: dict[str, QAction] = {}
        self._build_actions()
        self._build_status_bar()
        restore_window(self)
        if db is not None and engine is not None:
            self.attach(db, engine, events=events, browser=browser)

    def attach(
        self,
        db: Database,
        engine: EngineService,
        *,
        events: Subscription | None = None,
        browser: str | None = None,
    ) -> None:
        """Builds the views over `db` and `engine` and starts reading; the opening page
        stays until the first read is shown."""
        from app.core.storage.notices import listener_for
        from app.ui.views.accounts_view import AccountsView
        from app.ui.views.orders_view import OrdersView
        from app.ui.views.tasks_view import TasksView
        from app.ui.views.to_buy import ToBuyView
        from app.ui.views.welcome import WelcomePanel
        from app.ui.window.context_menus import install_context_menus
        from app.ui.window.notices import Notices
        from app.ui.window.order_commands import OrderCommands

        self.db = db
        self.engine = engine
        self.browser = browser  # the operator's browser (Settings, --browser), else found
        # A successor (language switch) takes over its predecessor's subscription, and
        # with it the events not yet shown.
        self.events = events or engine.bus.subscribe()

        self.orders_view = OrdersView()
        self.tasks_view = TasksView(db)
        self.accounts_view = AccountsView(db, engine.check_accounts)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.tasks_view, self.tr("Tasks"))
        self.tabs.addTab(self.accounts_view, self.tr("Accounts"))
        self.to_buy_view = ToBuyView(db, engine, browser)
        self.to_buy_view.changed.connect(self._reload_orders)
        self.tabs.addTab(self.to_buy_view, self.tr("To buy"))
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.orders_view)
        self.splitter.addWidget(self.tabs)
        self.splitter.setSizes([260, 540])
        # A database with nothing set up shows what to do first instead of empty tables.
        self.welcome = WelcomePanel(menu_path("marketplaces"))
        self.welcome.add_marketplace.connect(lambda: self.open_marketplaces(adding=True))
        self.welcome.import_accounts.connect(self.import_accounts)
        self.pages.addWidget(self.splitter)
        self.pages.addWidget(self.welcome)

        self.notices = Notices(self, self.orders_view, engine.supervisor.drivers.blocked())
        self.notices.notice.connect(self.notice)
        self.notices.notified.connect(self.notified)
        self.commands = OrderCommands(
            self,
            self.orders_view,
            engine,
            done=self._command_done,
            failed=self.notices.error,
        )
        self.orders_view.selectionModel().selectionChanged.connect(self._order_selected)
        self.tasks_view.detail_requested.connect(self.open_task)
        self.context_menus = install_context_menus(self)

        self._orders_dirty = True
        self._order_reads = Newest()
        self._select_pending: int | None = None
        self._last_refresh = 0.0
        self._pump = QTimer(self, interval=PUMP_MS)
        self._pump.timeout.connect(self.pump)
        self._pump.start()
        self._refresh = QTimer(self, interval=REFRESH_MS)
        self._refresh.timeout.connect(self.refresh)
        self._refresh.start()
        # On PostgreSQL, what other workers and consoles commit is announced at once: the
        # listener's thread queues it for the pump (None on SQLite: nobody else writes).
        self._changes: queue.SimpleQueue[Change | None] = queue.SimpleQueue()
        self.listener: ChangeListener | None = listener_for(db.url, self._changes.put)
        restore_views(self.splitter, self._headers())
        self.attached = True
        for action in self.menu_actions.values():
            action.setEnabled(True)
        self._update_actions()
        self.refresh()
        self.tasks_view.apply_filter()
        MainWindow.current = self

    @staticmethod
    def import_views() -> None:
        """Imports VIEW_MODULES (from a worker thread: the console's start)."""
        for name in VIEW_MODULES:
            importlib.import_module(name)

    # -- building ----------------------------------------------------------------------

    def _build_actions(self) -> None:
        """The menus and the toolbar; until attach() only Quit works."""
        self.menu_actions = build_menus(
            self,
            {
                "new_order": self.new_order,
                "start": lambda: self.commands.start(),
                "pause": lambda: self.commands.pause(),
                "cancel": lambda: self.commands.cancel(),
                "retry": lambda: self.commands.retry_failed(),
                "edit_lines": lambda: self.commands.edit_lines(),
                "quit": self.close,
                "find": self._focus_search,
                "show_tasks": lambda: self.tabs.setCurrentIndex(0),
                "show_accounts": lambda: self.tabs.setCurrentIndex(1),
                "show_to_buy": lambda: self.tabs.setCurrentWidget(self.to_buy_view),
                "take_next": self.take_next,
                "mark_arrived": self.mark_arrived,
                "refresh": self.refresh_all,
                "workers": self.open_workers,
                "import_orders": self.import_orders,
                "export_report": self.export_report,
                "marketplaces": lambda: self.open_marketplaces(),
                "catalog": self.open_catalog,
                "import_deliveries": self.import_deliveries,
                "settings": self.open_settings,
                "open_logs": self.open_log_folder,
                "about": self._about,
            },
        )
        for name, action in self.menu_actions.items():
            action.setEnabled(name == "quit")

    def _build_status_bar(self) -> None:
        self.counts_label = QLabel()
        self.rate_label = QLabel()
        self.statusBar().addPermanentWidget(self.counts_label)
        self.statusBar().addPermanentWidget(self.rate_label)

    # -- the engine's events -----------------------------------------------------------

    def pump(self) -> None:
        """Takes every event and change notice waiting and repaints only what changed."""
        events = self.events.drain()
        self._take_changes()
        if self._orders_dirty and self._refresh_due():  # changes held back by the limit
            self._orders_dirty = False
            self.refresh()
        if not events:
            return
        changed = [e for e in events if isinstance(e, TaskChanged)]
        if changed:
            self.tasks_view.model.apply(changed)
        if changed or any(isinstance(e, OrderProgress) for e in events):
            # Orders and To buy are re-read together, at most every MIN_REFRESH_S: a
            # read per pump kept the database busy at thousands of events a second.
            self._orders_dirty = True
        for e in events:
            if isinstance(e, EngineNotice):
                self.notices.engine_notice(e)
            elif isinstance(e, OrderProgress):
                self.notices.order_progress(e)
            elif isinstance(e, TaskChanged) and e.status == TaskStatus.NEEDS_REVIEW:
                self.notices.needs_review(e)
            elif isinstance(e, MarketBlocked):
                self.notices.market_blocked(e)
        if self._orders_dirty and self._refresh_due():
            self._orders_dirty = False
            self.refresh()

    def _take_changes(self) -> None:
        """What other workers and consoles committed (PostgreSQL's notices; the local
        engine's own changes come back this way too): the Tasks named are read again, and
        Orders, counts, accounts and To buy with the next refresh; after notices may have
        been missed, everything, as F5 does."""
        from app.core.storage.notices import ChangeKind

        changes = []
        while not self._changes.empty():
            changes.append(self._changes.get_nowait())
        if not changes:
            return
        if None in changes:
            log.info("change notices may have been missed: reading everything again")
            self.refresh_all()
            return
        tasks: set[int] = set()
        every = False  # a statement changed too many Tasks to name them
        for change in changes:
            if change is not None and change.kind is ChangeKind.TASK:
                if change.tasks is None:
                    every = True
                else:
                    tasks |= change.tasks
        if every:
            self.tasks_view.model.reload()
        elif tasks:
            self.tasks_view.model.refresh_rows(tasks)
        self._orders_dirty = True

    @property
    def error_box(self) -> QMessageBox | None:
        return self.notices.error_box

    def _refresh_due(self) -> bool:
        return time.monotonic() - self._last_refresh >= MIN_REFRESH_S

    def refresh(self) -> None:
        """Re-reads Orders, counts and accounts (what the engine rolled up, and what other
        workstations changed), off the GUI thread."""
        from app.core.storage.queries import purchases_since, status_counts
        from app.ui.views.welcome import first_launch

        self._last_refresh = time.monotonic()
        self._reload_orders()
        # Other workstations take and record units, and change accounts, too.
        self.to_buy_view.reload()
        self.accounts_view.reload()
        db = self.db

        def read() -> tuple[dict[str, int], int, bool]:
            with db.reading() as s:
                return (
                    status_counts(s),
                    purchases_since(s, utcnow() - timedelta(minutes=1)),
                    first_launch(s),
                )

        in_background(read, self._show_refresh)

    def refresh_all(self) -> None:
        self.tasks_view.model.reload()
        self.refresh()

    def _show_refresh(self, result: tuple[dict[str, int], int, bool]) -> None:
        counts, per_minute, first = result
        opened = self.pages.currentWidget() is self.opening
        self.pages.setCurrentWidget(self.welcome if first else self.splitter)
        running = sum(counts.get(s, 0) for s in ACTIVE)
        waiting = sum(counts.get(s, 0) for s in QUEUED)
        self.counts_label.setText(
            fill(
                self.tr("All orders: running %1 · queued %2 · purchased %3 · failed %4"),
                number(running),
                number(waiting),
                number(sum(counts.get(s, 0) for s in BOUGHT)),
                number(sum(counts.get(s, 0) for s in PROBLEMS)),
            )
        )
        self.rate_label.setText(fill(self.tr("%1 purchases/min"), number(per_minute)))
        if opened:
            self.loaded.emit()

    def _reload_orders(self) -> None:
        from app.core.storage.queries import order_rows

        db = self.db
        asked = self._order_reads.ask()

        def read() -> list:
            with db.reading() as s:
                return order_rows(s)

        in_background(read, lambda rows: self._show_orders(rows, asked))

    def _show_orders(self, rows: list, asked: int) -> None:
        if not self._order_reads.fresh(asked):
            return  # a newer read's rows are shown already
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
        self.commands.enable(self.menu_actions)

    def _command_done(self, message: str) -> None:
        self.statusBar().showMessage(message, 5000)
        self._reload_orders()
        self.tasks_view.model.reload()

    def new_order(self) -> None:
        from app.core.orders.catalog import load_catalogs
        from app.core.storage.queries import client_names
        from app.ui.dialogs.new_order import NewOrderDialog

        db = self.db

        def read() -> tuple[dict, list[str]]:
            with db.reading() as s:
                return load_catalogs(s), client_names(s)

        def show(result: tuple[dict, list[str]]) -> None:
            catalogs, clients = result
            if not catalogs:
                self._no_marketplace()
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

    def _no_marketplace(self) -> None:
        """A new Order with no marketplace to order from: says where one is added and
        offers to open it."""
        box = QMessageBox(
            QMessageBox.Icon.Information,
            self.tr("New order"),
            fill(
                self.tr("No marketplace is set up yet: add one in %1 first."),
                menu_path("marketplaces"),
            ),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        go = box.addButton(self.tr("Open Marketplaces…"), QMessageBox.ButtonRole.AcceptRole)
        go.clicked.connect(lambda: self.open_marketplaces(adding=True))
        box.setDefaultButton(go)
        self.no_marketplace_box = box
        box.open()

    def open_marketplaces(self, adding: bool = False) -> None:
        """The Marketplaces dialog (`adding`: with its form open for a new one)."""
        from app.ui.dialogs.marketplaces import MarketplacesDialog

        dialog = MarketplacesDialog(self.db, self, adding=adding)
        dialog.changed.connect(self.refresh)
        dialog.changed.connect(self.accounts_view.reload)
        self.marketplaces_dialog = dialog
        dialog.open()

    def open_workers(self) -> None:
        """The Workers dialog: non-modal, one per window, raised when already open."""
        from app.ui.dialogs.workers import WorkersDialog

        if getattr(self, "workers_dialog", None) is None:
            me = self.engine.supervisor.ctx.worker_id
            self.workers_dialog = WorkersDialog(self.db, me, self)
        self.workers_dialog.show()
        self.workers_dialog.raise_()
        self.workers_dialog.activateWindow()

    def open_catalog(self) -> None:
        from app.ui.dialogs.catalog import CatalogDialog

        dialog = CatalogDialog(self.db, self)
        self.catalog_dialog = dialog
        dialog.open()

    def import_deliveries(self, path: str | None = None) -> None:
        """Delivery statuses from the marketplace's list: a preview of what each row does,
        then recorded by the engine (off the GUI thread both)."""
        from app.core.engine.deliveries import plan_deliveries

        if not path:
            path = folders.open_file(
                self,
                "import_deliveries",
                self.tr("Import deliveries"),
                self.tr("Lists (*.csv *.xlsx *.txt);;All files (*)"),
            )
        if not path:
            return
        db, chosen = self.db, path

        def read() -> DeliveryPlan:
            with db.reading() as s:
                return plan_deliveries(s, chosen)

        in_background(read, self._confirm_deliveries, lambda e: self.notices.error(error_text(e)))

    def _confirm_deliveries(self, plan: DeliveryPlan) -> None:
        rejected = [(r.row, r.error) for r in plan.rows if r.error is not None]

        arrived, status, unchanged = (plan.count(k) for k in ("arrived", "status", "unchanged"))
        text = fill(
            self.tr("%1: %2, %3, %4, %5."),
            plan.path.name,
            counted(self.tr("%Ln unit(s) at the pickup point", "", arrived), arrived),
            counted(self.tr("%Ln with a new status", "", status), status),
            counted(self.tr("%Ln unchanged", "", unchanged), unchanged),
            counted(self.tr("%Ln row(s) left out", "", len(rejected)), len(rejected)),
        )
        details = "\n".join(fill(self.tr("Row %1: %2"), row, say(error)) for row, error in rejected)
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Import deliveries"))
        box.setText(text)
        if details:
            box.setDetailedText(details)
        box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Ok).setText(self.tr("Record"))
        self.deliveries_box = box

        def answered(_result: int) -> None:
            if box.clickedButton() is not box.button(QMessageBox.StandardButton.Ok):
                return
            when_done(
                self.engine.import_deliveries(plan),
                lambda n: self._command_done(
                    counted(self.tr("%Ln unit(s) marked at the pickup point", "", n), n)
                ),
                lambda e: self.notices.error(error_text(e)),
            )

        box.finished.connect(answered)
        box.open()

    def import_accounts(self) -> None:
        self.tabs.setCurrentWidget(self.accounts_view)
        self.accounts_view.open_import()

    def _order_created(self, order_id: int | None) -> None:
        self.statusBar().showMessage(fill(self.tr("Order #%1 created"), str(order_id)), 5000)
        self.tasks_view.model.reload()
        self._reload_orders()

    def import_orders(self) -> None:
        from app.ui.dialogs.orders_import import OrderImportDialog

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
                counted(self.tr("Imported %Ln order(s): %1", "", len(ids)), len(ids)),
                ", ".join(f"#{i}" for i in ids),
            ),
            10000,
        )
        self.tasks_view.model.reload()
        self._reload_orders()

    def export_report(self, path: str | None = None) -> None:
        """Asks where (unless given), then writes the selected Order's report off the GUI
        thread, in the console's language."""
        from PySide6.QtCore import QCoreApplication

        from app.core.orders.report import export_order
        from app.ui.engine_texts import engine_text

        row = self.orders_view.current_row()
        if row is None:
            return
        if not path:
            path = folders.save_file(
                self,
                "export_report",
                self.tr("Export report"),
                f"order-{row.id}.xlsx",
                self.tr("Excel workbook (*.xlsx);;CSV for Excel (*.csv)"),
            )
        if not path:
            return
        db, order_id = self.db, row.id

        def write() -> int:
            with db.reading() as s:
                return export_order(
                    s, order_id, path, words=QCoreApplication.translate, reasons=engine_text
                )

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
        from app.ui.dialogs.settings import SettingsDialog

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
        successor = MainWindow(self.db, self.engine, events=self.events, browser=self.browser)
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
        self.pages.setCurrentIndex(old.pages.currentIndex())  # not "opening" again
        self.tabs.setCurrentIndex(old.tabs.currentIndex())
        self._select_pending = old.orders_view.current_order()
        self.notices.take_over(old.notices)
        tasks, before = self.tasks_view, old.tasks_view
        tasks.status_box.setCurrentIndex(before.status_box.currentIndex())
        tasks.search.setText(before.search.text())
        header = before.table.horizontalHeader()
        tasks.table.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())

    def take_next(self) -> None:
        """The next unit to buy by hand, in the To buy view."""
        self.tabs.setCurrentWidget(self.to_buy_view)
        self.to_buy_view.take_next()

    def selected_task_ids(self) -> list[int]:
        model = self.tasks_view.model
        rows = self.tasks_view.table.selectionModel().selectedRows()
        return [i for i in (model.task_id(r.row()) for r in rows) if i is not None]

    def mark_arrived(self) -> None:
        """The selected bought units are at their pickup points (the operator saw them)."""
        ids = self.selected_task_ids()
        if not ids:
            self.statusBar().showMessage(
                self.tr("Select the bought units that arrived in the Tasks list first."), 10000
            )
            self.tabs.setCurrentWidget(self.tasks_view)
            return

        def done(marked: int) -> None:
            said = self.tr("%1 of %Ln selected unit(s) marked at the pickup point", "", len(ids))
            self._command_done(fill(counted(said, len(ids)), marked))

        when_done(self.engine.mark_arrived(ids), done, lambda e: self.notices.error(error_text(e)))

    def open_log_folder(self) -> None:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def open_task(self, task_id: int) -> None:
        from app.ui.views.tasks_view import TaskDetailDialog

        dialog = TaskDetailDialog(
            self.db,
            task_id,
            self,
            resolve=self.engine.resolve_review,
            open_account=self.to_buy_view.launch,
        )
        dialog.accepted.connect(self.refresh_all)
        self.task_dialog = dialog
        dialog.open()

    def _focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.tasks_view.search.setFocus()
        self.tasks_view.search.selectAll()

    def _about(self) -> None:
        from app.core.storage.db import display_url

        QMessageBox.about(
            self,
            self.tr("About"),
            fill(
                self.tr(
                    "Buyback console: clients' orders into finished, tracked purchases."
                    "\nDatabase: %1"
                ),
                display_url(self.db.url),
            ),
        )

    # -- layout memory -----------------------------------------------------------------

    def _headers(self) -> dict[str, QHeaderView]:
        return {
            "tasks_header": self.tasks_view.table.horizontalHeader(),
            "orders_header": self.orders_view.horizontalHeader(),
        }

    def save_layout(self) -> None:
        save_layout(self, self.splitter, self._headers())

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.attached:  # closed while opening: no layout to keep, nothing running
            super().closeEvent(event)
            return
        running = 0 if self._handed_over or self._quitting else self.running_purchases()
        if running:  # asked first; the window closes once they are recorded
            event.ignore()
            self._ask_to_quit(running)
            return
        self.save_layout()
        self._pump.stop()
        self._refresh.stop()
        if self.listener is not None:
            self.listener.stop(timeout=LISTENER_STOP_S)
        if not self._handed_over:
            self.events.close()
        super().closeEvent(event)

    def running_purchases(self) -> int:
        """Purchases the engine of this console is making now."""
        return self.engine.supervisor.ctx.slots.busy if self.engine.running else 0

    def _ask_to_quit(self, running: int) -> None:
        """Quitting with purchases running: says what happens to them and asks."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Quit"),
            fill(
                self.tr(
                    "%1 purchases are running. They finish and are recorded before the "
                    "console closes; it waits for them at most %2 seconds. Units not started "
                    "stay queued for the next start.\n\nQuit when they finish?"
                ),
                number(running),
                QUIT_WAIT_S,
            ),
            QMessageBox.StandardButton.Cancel,
            self,
        )
        quit_button = box.addButton(self.tr("Quit"), QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(quit_button)

        def answered(_result: int) -> None:
            if box.clickedButton() is quit_button:
                self._quit()

        box.finished.connect(answered)
        self.quit_box = box
        box.open()

    def _quit(self) -> None:
        """Starts no new purchase and closes once the running ones are recorded (or after
        QUIT_WAIT_S), saying meanwhile what it waits for."""

        async def stop(supervisor: Supervisor) -> None:
            supervisor.stop()

        self._quitting = True
        self.engine.call(stop)
        deadline = time.monotonic() + QUIT_WAIT_S
        log.info("closing: waiting for %d running purchases", self.running_purchases())

        def check() -> None:
            left = self.running_purchases()
            # Closed once the engine has ended: its browsers are closed too, so the process
            # ends with the window instead of lingering unseen.
            if not self.engine.running or time.monotonic() >= deadline:
                if left:
                    log.warning("closing with %d purchases still running", left)
                self._quit_timer.stop()
                self.close()
                return
            self.statusBar().showMessage(
                fill(
                    self.tr("Closing: waiting for %1 running purchases to be recorded (%2 s)…"),
                    number(left),
                    max(0, round(deadline - time.monotonic())),
                )
            )

        self._quit_timer = QTimer(self, interval=200)
        self._quit_timer.timeout.connect(check)
        self._quit_timer.start()
        check()
