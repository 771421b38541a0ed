"""What the console does with an exception nobody caught: log it and tell the operator
where the details are, instead of vanishing."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from app.ui.common import fill

log = logging.getLogger(__name__)


def report_unexpected(
    kind: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    log_path: Path | None,
) -> None:
    """Logs the exception with its traceback and shows a dialog naming the log file: for
    a defect once the window is up, which leaves the console running."""
    log.critical("unexpected error", exc_info=(kind, exc, tb))
    show_defect(exc, log_path, closing=False)


def show_defect(exc: BaseException, log_path: Path | None, *, closing: bool) -> None:
    """The dialog for a defect of ours: what broke, the log file to send along, and that
    the console keeps running (a defect once its window is up) or will close (`closing`:
    a defect that stopped its start)."""
    if QApplication.instance() is None:
        return
    where = (
        str(log_path)
        if log_path
        else QCoreApplication.translate("Crash", "the terminal (no log file could be opened)")
    )
    if closing:
        template = QCoreApplication.translate(
            "Crash",
            "Something went wrong while the console was starting: %1\n\nThe details are in "
            "the log: %2\nSend that file along when you report the problem. The console "
            "will close.",
        )
    else:
        template = QCoreApplication.translate(
            "Crash",
            "Something went wrong inside the console: %1\n\nThe details are in the log: %2\n"
            "Send that file along when you report the problem. The console keeps running; "
            "if it misbehaves, restart it.",
        )
    text = fill(template, f"{type(exc).__name__}: {exc}", where)
    QMessageBox.critical(None, QCoreApplication.translate("Crash", "Unexpected error"), text)


def install_excepthook(log_path: Path | None) -> None:
    """Routes exceptions that escape Qt slots and timers to `report_unexpected`; Ctrl+C
    still ends the console as before. Installed once the window is up: a defect before
    that stops the start (see app.ui.app.run_console)."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        report_unexpected(kind, exc, tb, log_path)

    sys.excepthook = hook
