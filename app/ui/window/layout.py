"""The window's layout remembered between runs (QSettings): geometry, toolbars, the
splitter and the tables' column widths. The window's own part is restored before it is
first shown (it opens where it was), the views' part once they are built."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QHeaderView, QMainWindow, QSplitter

LAYOUT = "2"  # the saved column layout's version: another one is not restored

Restorer = tuple[str, Callable[[QByteArray], object]]  # a key and what restores its value


def restore_window(window: QMainWindow) -> None:
    """Geometry and toolbars."""
    s = QSettings()
    _restore(
        s, [("window/geometry", window.restoreGeometry), ("window/state", window.restoreState)]
    )


def restore_views(splitter: QSplitter, headers: dict[str, QHeaderView]) -> None:
    """The splitter and the tables' columns."""
    s = QSettings()
    restorers: list[Restorer] = [("window/splitter", splitter.restoreState)]
    if str(s.value("window/layout", "")) == LAYOUT:
        # Column widths saved by an older console are dropped: its columns were
        # narrower than the Russian headers need.
        restorers += [(f"window/{name}", h.restoreState) for name, h in headers.items()]
    _restore(s, restorers)


def _restore(s: QSettings, restorers: list[Restorer]) -> None:
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
