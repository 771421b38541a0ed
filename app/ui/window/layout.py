"""The window's layout remembered between runs (QSettings): geometry, toolbars, the
splitter and the tables' column widths."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QHeaderView, QMainWindow, QSplitter

LAYOUT = "2"  # the saved column layout's version: another one is not restored


def restore_layout(
    window: QMainWindow, splitter: QSplitter, headers: dict[str, QHeaderView]
) -> None:
    s = QSettings()
    restorers = [
        ("window/geometry", window.restoreGeometry),
        ("window/state", window.restoreState),
        ("window/splitter", splitter.restoreState),
    ]
    if str(s.value("window/layout", "")) == LAYOUT:
        # Column widths saved by an older console are dropped: its columns were
        # narrower than the Russian headers need.
        restorers += [(f"window/{name}", h.restoreState) for name, h in headers.items()]
    for key, restore in restorers:
        value = s.value(key)
        if isinstance(value, QByteArray):
            restore(value)


def save_layout(window: QMainWindow, splitter: QSplitter, headers: dict[str, QHeaderView]) -> None:
    s = QSettings()
    s.setValue("window/layout", LAYOUT)
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())
    s.setValue("window/splitter", splitter.saveState())
    for name, header in headers.items():
        s.setValue(f"window/{name}", header.saveState())
