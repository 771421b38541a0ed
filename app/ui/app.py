"""Starting the console: the Qt application, the window on screen at once with the engine
started behind it, the demo setup, and the screenshot tour used for the README.

The window is shown before anything slow is imported or opened: the database (SQLAlchemy,
Alembic), the engine (Playwright, the sandbox for the demo) and the views load on a worker
thread once it is painted, while it says that it is opening the database."""

from __future__ import annotations

import argparse
import concurrent.futures
import ctypes
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.core.domain.states import ORDER_OPEN, TaskStatus
from app.ui.common import when_done
from app.ui.window.main_window import MainWindow

if TYPE_CHECKING:
    from app.core.service import EngineService
    from app.core.storage.db import Database

ORGANIZATION = "BuybackConsole"
# A file where the console notes when its window was first painted ("paint") and when it
# showed its data ("ready"), one "moment unix-time" line each: bench.startup reads it.
FIRST_PAINT_ENV = "BUYBACK_REPORT_FIRST_PAINT"
UNPAINTED_MS = 1000  # a window not painted by then (minimized, hidden) starts opening anyway


# How long another Python thread (the engine, a database read) may keep the interpreter
# before the GUI thread gets it back: Python's default, 5 ms, is paid again at each of the
# thousands of calls from Qt into the Tasks model during one repaint.
GUI_SWITCH_INTERVAL_S = 0.0005
COLLECT_MS = 100  # how often the GUI thread looks whether garbage is due (GuiCollector)


def keep_none_alive() -> None:
    """PySide6 6.12 on Python 3.11 takes one reference from None at every call of a C++
    method that returns nothing (update(), setEnabled(), ...): about 100,000 such calls
    abort the process with "deallocating None", within the hour in a running console.
    None cannot be freed anyway; from Python 3.12 it is immortal, and before that it is
    made so here, with a reference count no console will wear down."""
    if sys.version_info < (3, 12):
        ctypes.c_ssize_t.from_address(id(None)).value += 1 << 48


class GuiCollector(QObject):
    """Python's cyclic garbage is collected on the GUI thread only, every COLLECT_MS.
    Left to itself, Python collects on whichever thread happens to allocate: a database
    read or the engine. A cycle that holds a Qt object (a widget, a model, a slot's
    closure) is then destroyed on that thread, and Qt crashes the console. The full
    test run did that once, in a reader thread that was "Garbage-collecting". Each
    collection here is the one Python would have made: the generation whose count is
    past its threshold."""

    def __init__(self, app: QApplication):
        super().__init__(app)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(COLLECT_MS)

    @staticmethod
    def collect() -> None:
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if counts[0] <= thresholds[0]:
            return
        generation = 2 if counts[2] > thresholds[2] else 1 if counts[1] > thresholds[1] else 0
        gc.collect(generation)


def collect_on_gui_thread(app: QApplication) -> None:
    """Installs the GuiCollector on `app`, once."""
    if app.findChild(GuiCollector) is None:
        GuiCollector(app)


def qt_app() -> QApplication:
    keep_none_alive()
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    # Qt's raster engine hands every fill taller than about 96 lines (the table's
    # background, a scroll bar's groove) to a pool of helper threads and waits for them: on
    # a busy machine (the engine's browsers) the GUI thread then waits for threads that are
    # not scheduled, where filling alone takes a fraction of a millisecond.
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName("Buyback console")
    collect_on_gui_thread(app)
    return app


def settle_heap() -> None:
    """Moves everything allocated at start-up (Qt, SQLAlchemy, Playwright modules) out of
    the garbage collector's sight: a full collection then scans only what the running
    console allocates, which keeps its pauses far below a frame instead of tens of ms.
    Done once the window shows its data, never before its first paint."""
    gc.collect()
    gc.freeze()


def note_start(moment: str) -> None:
    """Notes `moment` and the time in the file named by $BUYBACK_REPORT_FIRST_PAINT."""
    path = os.environ.get(FIRST_PAINT_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{moment} {time.time():.6f}\n")


class FirstPaint(QObject):
    """Calls `then(True)` once, right after `window`'s first frame is drawn, or
    `then(False)` if it is not drawn within UNPAINTED_MS of being shown."""

    def __init__(self, window: QWidget, then: Callable[[bool], None]):
        super().__init__(window)
        self._window = window
        self._then = then
        self._done = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show:
            QTimer.singleShot(UNPAINTED_MS, lambda: self._fire(False))
        elif event.type() == QEvent.Type.Paint:
            # The frame is flushed once the paint event's update is done: right after it.
            QTimer.singleShot(0, lambda: self._fire(True))
        return False

    def _fire(self, painted: bool) -> None:
        if self._done:
            return
        self._done = True
        self._window.removeEventFilter(self)
        self._then(painted)


def start_engine(
    stack: ExitStack, args: argparse.Namespace, *, demo: bool
) -> tuple[Database, EngineService]:
    """Opens the database and starts the engine (and for the demo the sandbox with a
    sample Order); everything is undone by `stack`. Slow (imports, migrations, the demo's
    purchases queued): the console runs it on a worker thread."""
    from app.core.accounts.keys import open_database
    from app.core.engine.market_drivers import DriverOptions, driver_factory
    from app.core.engine.settings import EngineSettings
    from app.core.service import EngineService
    from app.demo import PRACTICE_CODE, demo_accounts_for, demo_order, fresh_demo_db, prepare_demo

    db_arg = args.db or (fresh_demo_db() if demo else None)
    db = open_database(db_arg)
    stack.callback(db.close)
    if demo:
        accounts = demo_accounts_for(args.units, args.accounts)
        prepare_demo(
            stack,
            db,
            accounts=accounts,
            marketplace_url=args.marketplace_url,
            practice=getattr(args, "practice", False),
        )
    options = DriverOptions(args.browser, headless=not args.show_browsers)
    service = EngineService(
        db, driver_factory(db, options), EngineSettings(concurrency=args.concurrency)
    )
    service.start()
    stack.callback(service.stop)
    if demo:
        spec = demo_order(args.units)
        if getattr(args, "practice", False):
            spec = demo_order(args.units, PRACTICE_CODE)
        service.submit(spec).result(timeout=30)
    return db, service


def open_console(
    stack: ExitStack, args: argparse.Namespace, *, demo: bool
) -> tuple[MainWindow, EngineService]:
    """start_engine(), then the main window with its data, shown; for the screenshots,
    which want the window whole from the start."""
    db, service = start_engine(stack, args, demo=demo)
    window = MainWindow(db, service, browser=args.browser)
    window.show()
    settle_heap()
    return window, service


def run_console(args: argparse.Namespace, *, demo: bool = False) -> int:
    """Shows the console's window at once, opens the database and the engine behind it,
    and runs until the window closes. What stops its start is said in a box saying the
    console will close, then raised for main.py to log and say in one line on the
    terminal (exit 2 for the environment's fault, 1 for a defect)."""
    from app.core.support.logs import log_file
    from app.ui.dialogs.settings import stored_language
    from app.ui.i18n import apply_language

    app = qt_app()
    if getattr(args, "language", None) is None:
        args.language = stored_language()
    apply_language(args.language)  # before the window's first word
    window = MainWindow()
    refused: list[BaseException] = []
    ended = False

    def opened(started: tuple[Database, EngineService]) -> None:
        if ended:  # closed while opening: the stack stops what was started
            return
        db, service = started
        try:
            window.attach(db, service, browser=args.browser)
        except Exception as exc:
            refuse(exc)
            return
        from app.ui.dialogs.crash import install_excepthook

        install_excepthook(log_file())  # from here on a defect leaves the console running

    def refuse(exc: BaseException) -> None:
        refused.append(exc)
        refuse_start(exc, log_file())
        window.close()
        app.exit(1)

    def ready() -> None:
        note_start("ready")
        settle_heap()

    window.loaded.connect(ready)
    with (
        ExitStack() as stack,
        concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="console-start") as worker,
    ):

        def prepare() -> tuple[Database, EngineService]:
            from app.ui.dialogs.settings import console_defaults

            console_defaults(args, demo=demo)  # browser, concurrency, database in Settings
            started = start_engine(stack, args, demo=demo)
            MainWindow.import_views()
            return started

        def start(painted: bool) -> None:
            if painted:
                note_start("paint")
            when_done(worker.submit(prepare), opened, refuse)

        FirstPaint(window, start)
        window.show()
        code = app.exec()
        ended = True
    if refused:
        raise refused[0]
    return code


def refuse_start(exc: BaseException, log_path: Path | None) -> None:
    """Tells the operator why the console cannot start and that it will close: the
    environment's fault (a database, a key) as it is, a defect with the log to send."""
    from app.core.storage.errors import known
    from app.ui.dialogs.crash import show_defect

    refusal = known(exc)
    if refusal is None:
        show_defect(exc, log_path, closing=True)
        return
    title = QCoreApplication.translate("MainWindow", "Buyback console")
    closing = QCoreApplication.translate("MainWindow", "The console will close.")
    QMessageBox.critical(None, title, f"{refusal}\n\n{closing}")


def take_screenshots(args: argparse.Namespace) -> int:
    """Runs the demo console offscreen and saves PNGs of its views once the demo Order
    is bought."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer

    from app.ui.i18n import apply_language

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = qt_app()
    language = apply_language(args.language or "en")
    suffix = "" if language == "en" else f"-{language}"
    saved: list[str] = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        args.db = args.db or str(tmp / "console.sqlite3")
        # A fresh layout (not the operator's saved one), and none saved over theirs.
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp))
        window, service = open_console(stack, args, demo=True)
        window.resize(1400, 860)

        def grab(widget: QWidget, name: str) -> None:
            path = out / f"{name}{suffix}.png"
            widget.grab().save(str(path))
            saved.append(str(path))

        def finished() -> bool:
            rows = window.orders_view.orders.rows
            return bool(rows) and all(r.status not in ORDER_OPEN for r in rows)

        def tour() -> None:
            window.orders_view.selectRow(0)
            QTimer.singleShot(800, step2)

        def step2() -> None:
            grab(window, "main-window")
            tasks = window.tasks_view.model
            rows = ((i, tasks.row(n)) for n, i in enumerate(tasks.ids))
            purchased = next(
                (i for i, r in rows if r is not None and r.status is TaskStatus.PURCHASED), None
            )
            if purchased is not None:
                window.open_task(purchased)
            QTimer.singleShot(800, step3)

        def step3() -> None:
            if getattr(window, "task_dialog", None) is not None:
                grab(window.task_dialog, "task-detail")
                window.task_dialog.close()
            window.tabs.setCurrentIndex(1)
            QTimer.singleShot(300, step4)

        def step4() -> None:
            grab(window, "accounts")
            window.tabs.setCurrentIndex(0)
            window.new_order()
            QTimer.singleShot(800, step5)

        def step5() -> None:
            dialog = getattr(window, "new_order_dialog", None)
            if dialog is None:
                QApplication.quit()
                return
            from app.core.orders.spec import LineSpec

            dialog.client_box.setEditText("ООО Ромашка")
            dialog.add_line(LineSpec("100002", "5", "PVZ-001", "3990"))
            dialog.add_line(LineSpec("100006", "0", "PVZ-004", ""))  # shows an inline error

            def last() -> None:
                grab(dialog, "new-order")
                dialog.reject()
                window.open_marketplaces(adding=True)
                QTimer.singleShot(800, marketplaces)

            QTimer.singleShot(300, last)

        def marketplaces() -> None:
            from sqlalchemy import select

            from app.core.domain.models import MarketPlace
            from app.demo import PRACTICE_CODE, demo_accounts_for, demo_order, seed_sandbox

            dialog = window.marketplaces_dialog
            dialog.choose_preset("wildberries")
            grab(dialog, "marketplaces")
            dialog.reject()
            # The To buy view: the sandbox again as a marketplace where a person buys.
            with window.db.reading() as s:
                url = s.scalar(select(MarketPlace.base_url).where(MarketPlace.code == "sandbox"))
            accounts = demo_accounts_for(args.units, args.accounts)
            seed_sandbox(window.db, str(url), accounts, practice=True)
            service.submit(demo_order(3, PRACTICE_CODE)).result(timeout=30)
            window.to_buy_view.start_browser = lambda _launch: None  # no browser on screen
            window.take_next()
            QTimer.singleShot(1500, to_buy)

        def to_buy() -> None:
            grab(window, "to-buy")
            view = window.to_buy_view
            unit = view.selected_unit()
            if unit is not None:
                view.record_bought(unit)
                view.record_dialog.number.setText("SB-00012345")
                view.record_dialog.price.setText("1 290,00")
                QTimer.singleShot(300, bought)
            else:
                first_launch()

        def bought() -> None:
            grab(window.to_buy_view.record_dialog, "bought")
            window.to_buy_view.record_dialog.reject()
            first_launch()

        def first_launch() -> None:
            # The first launch: a console on a database of its own with nothing set up.
            from app.core.accounts.keys import open_database
            from app.core.engine.market_drivers import DriverOptions, driver_factory
            from app.core.service import EngineService

            empty = open_database(str(tmp / "first-launch.sqlite3"))
            stack.callback(empty.close)
            idle = EngineService(empty, driver_factory(empty, DriverOptions()))
            first = MainWindow(empty, idle)
            first.resize(1400, 860)
            first.show()

            def welcome_shown() -> None:
                if first.pages.currentWidget() is not first.welcome:
                    QTimer.singleShot(200, welcome_shown)
                    return
                grab(first, "first-launch")
                first.close()
                QApplication.quit()

            QTimer.singleShot(300, welcome_shown)

        def wait() -> None:
            if finished():
                tour()
                return
            rows = window.orders_view.orders.rows
            if "main-window-running" not in "".join(saved) and rows and rows[0].running:
                window.orders_view.selectRow(0)
                QTimer.singleShot(300, lambda: grab(window, "main-window-running"))
            QTimer.singleShot(500, wait)

        QTimer.singleShot(1000, wait)
        QTimer.singleShot(int(args.timeout * 1000), QApplication.quit)
        app.exec()
    for path in saved:
        print(path)
    return 0 if len(saved) >= 3 else 1
