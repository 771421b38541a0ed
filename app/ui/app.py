"""Starting the console: the Qt application, the engine on its thread, the demo setup,
and the screenshot tour used for the README."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.core.accounts.keys import open_database
from app.core.domain.states import ORDER_OPEN, TaskStatus
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.engine.settings import EngineSettings
from app.core.service import EngineService
from app.core.storage.errors import known
from app.demo import demo_accounts_for, demo_order, fresh_demo_db, prepare_demo
from app.ui.window.main_window import MainWindow

log = logging.getLogger(__name__)

ORGANIZATION = "BuybackConsole"


def qt_app() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName("Buyback console")
    return app


def settle_heap() -> None:
    """Moves everything allocated at start-up (Qt, SQLAlchemy, Playwright modules) out of
    the garbage collector's sight: a full collection then scans only what the running
    console allocates, which keeps its pauses far below a frame instead of tens of ms."""
    gc.collect()
    gc.freeze()


def open_console(
    stack: ExitStack, args: argparse.Namespace, *, demo: bool
) -> tuple[MainWindow, EngineService]:
    """Opens the database, starts the engine (and for the demo the sandbox with a sample
    Order) and shows the main window; everything is undone by `stack`."""
    db_arg = args.db or (fresh_demo_db() if demo else None)
    db = open_database(db_arg)
    stack.callback(db.close)
    if demo:
        accounts = demo_accounts_for(args.units, args.accounts)
        prepare_demo(stack, db, accounts=accounts, marketplace_url=args.marketplace_url)
    options = DriverOptions(args.browser, headless=not args.show_browsers)
    service = EngineService(
        db, driver_factory(db, options), EngineSettings(concurrency=args.concurrency)
    )
    service.start()
    stack.callback(service.stop)
    if demo:
        service.submit(demo_order(args.units)).result(timeout=30)
    window = MainWindow(db, service)
    window.show()
    settle_heap()
    return window, service


def run_console(args: argparse.Namespace, *, demo: bool = False) -> int:
    from app.core.support.logs import log_file
    from app.ui.dialogs.crash import install_excepthook
    from app.ui.dialogs.settings import console_defaults
    from app.ui.i18n import apply_language

    app = qt_app()
    console_defaults(args)
    apply_language(args.language)
    install_excepthook(log_file())
    with ExitStack() as stack:
        try:
            open_console(stack, args, demo=demo)
        except Exception as exc:  # the environment's (a database, a key): said, then closed
            refusal = known(exc)
            if refusal is None:
                raise  # a defect: the crash dialog says so, with the log
            log.info("the console cannot start: %s", refusal, exc_info=exc)
            title = QCoreApplication.translate("MainWindow", "Buyback console")
            closing = QCoreApplication.translate("MainWindow", "The console will close.")
            QMessageBox.critical(None, title, f"{refusal}\n\n{closing}")
            return 2
        return app.exec()


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
        window, _service = open_console(stack, args, demo=True)
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
                QApplication.quit()

            QTimer.singleShot(300, last)

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
