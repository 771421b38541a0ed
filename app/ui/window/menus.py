"""The main window's actions in one table (name, text, shortcut, tip), and the menus and
toolbar built from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from app.core.support.text import QT_TRANSLATE_NOOP

Shortcut = str | QKeySequence.StandardKey | None


def _t(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


# name: (text, shortcut, tip). The window gives a slot for each name.
ACTIONS: dict[str, tuple[str, Shortcut, str]] = {
    "new_order": (
        QT_TRANSLATE_NOOP("MainWindow", "&New order…"),
        "Ctrl+N",
        QT_TRANSLATE_NOOP("MainWindow", "Enter a client's order"),
    ),
    "start": (
        QT_TRANSLATE_NOOP("MainWindow", "&Start / resume"),
        "Ctrl+R",
        QT_TRANSLATE_NOOP("MainWindow", "Start or resume the selected order"),
    ),
    "pause": (
        QT_TRANSLATE_NOOP("MainWindow", "&Pause"),
        "Ctrl+P",
        QT_TRANSLATE_NOOP("MainWindow", "Start no new purchases for the selected order"),
    ),
    "cancel": (
        QT_TRANSLATE_NOOP("MainWindow", "&Cancel order…"),
        "Ctrl+Shift+X",
        QT_TRANSLATE_NOOP("MainWindow", "Cancel what has not been bought"),
    ),
    "retry": (
        QT_TRANSLATE_NOOP("MainWindow", "&Retry failed"),
        "Ctrl+Shift+R",
        QT_TRANSLATE_NOOP("MainWindow", "Queue the failed units again"),
    ),
    "edit_lines": (
        QT_TRANSLATE_NOOP("MainWindow", "Edit &lines…"),
        "Ctrl+L",
        QT_TRANSLATE_NOOP(
            "MainWindow",
            "Change the selected order's price caps and quantities, and retry its failed units",
        ),
    ),
    "quit": (
        QT_TRANSLATE_NOOP("MainWindow", "&Quit"),
        QKeySequence.StandardKey.Quit,
        QT_TRANSLATE_NOOP("MainWindow", "Close the console"),
    ),
    "find": (
        QT_TRANSLATE_NOOP("MainWindow", "&Find task…"),
        "Ctrl+F",
        QT_TRANSLATE_NOOP("MainWindow", "Search the tasks"),
    ),
    "show_tasks": (
        QT_TRANSLATE_NOOP("MainWindow", "&Tasks"),
        "Ctrl+1",
        QT_TRANSLATE_NOOP("MainWindow", "Show the tasks"),
    ),
    "show_accounts": (
        QT_TRANSLATE_NOOP("MainWindow", "&Accounts"),
        "Ctrl+2",
        QT_TRANSLATE_NOOP("MainWindow", "Show the accounts"),
    ),
    "show_to_buy": (
        QT_TRANSLATE_NOOP("MainWindow", "T&o buy"),
        "Ctrl+3",
        QT_TRANSLATE_NOOP("MainWindow", "Show the units a person buys"),
    ),
    "take_next": (
        QT_TRANSLATE_NOOP("MainWindow", "&Take next unit"),
        "Ctrl+T",
        QT_TRANSLATE_NOOP(
            "MainWindow", "Lease an account for the next unit to buy by hand and open its browser"
        ),
    ),
    "mark_arrived": (
        QT_TRANSLATE_NOOP("MainWindow", "Mark &arrived"),
        "Ctrl+Shift+A",
        QT_TRANSLATE_NOOP("MainWindow", "The selected bought units are at their pickup points"),
    ),
    "refresh": (
        QT_TRANSLATE_NOOP("MainWindow", "Re&fresh"),
        "F5",
        QT_TRANSLATE_NOOP("MainWindow", "Read everything again"),
    ),
    "workers": (
        QT_TRANSLATE_NOOP("MainWindow", "&Workers…"),
        None,
        QT_TRANSLATE_NOOP(
            "MainWindow", "Every console and headless worker on this database, and its state"
        ),
    ),
    "import_orders": (
        QT_TRANSLATE_NOOP("MainWindow", "&Import orders…"),
        "Ctrl+I",
        QT_TRANSLATE_NOOP("MainWindow", "Create orders from a CSV/XLSX list"),
    ),
    "export_report": (
        QT_TRANSLATE_NOOP("MainWindow", "&Export report…"),
        "Ctrl+E",
        QT_TRANSLATE_NOOP("MainWindow", "Save the selected order's units to XLSX or CSV"),
    ),
    "marketplaces": (
        QT_TRANSLATE_NOOP("MainWindow", "&Marketplaces…"),
        None,
        QT_TRANSLATE_NOOP("MainWindow", "Add, change, enable or disable marketplaces"),
    ),
    "catalog": (
        QT_TRANSLATE_NOOP("MainWindow", "&Catalog…"),
        None,
        QT_TRANSLATE_NOOP("MainWindow", "Articles and pickup points of each marketplace"),
    ),
    "import_deliveries": (
        QT_TRANSLATE_NOOP("MainWindow", "Import &deliveries…"),
        None,
        QT_TRANSLATE_NOOP(
            "MainWindow", "Mark units arrived from a list of order numbers and statuses"
        ),
    ),
    "settings": (
        QT_TRANSLATE_NOOP("MainWindow", "&Settings…"),
        None,
        QT_TRANSLATE_NOOP("MainWindow", "Browser, concurrency…"),
    ),
    "open_logs": (
        QT_TRANSLATE_NOOP("MainWindow", "Open &log folder"),
        None,
        QT_TRANSLATE_NOOP("MainWindow", "Show the logs"),
    ),
    "about": (QT_TRANSLATE_NOOP("MainWindow", "&About"), None, ""),
}

# Menu title: the actions in it (None: a separator).
MENUS: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    (
        QT_TRANSLATE_NOOP("MainWindow", "&File"),
        (
            "new_order",
            "import_orders",
            "import_deliveries",
            None,
            "marketplaces",
            "catalog",
            "settings",
            None,
            "quit",
        ),
    ),
    (
        QT_TRANSLATE_NOOP("MainWindow", "&Order"),
        (
            "start",
            "pause",
            "cancel",
            "retry",
            "edit_lines",
            None,
            "take_next",
            "mark_arrived",
            None,
            "export_report",
        ),
    ),
    (
        QT_TRANSLATE_NOOP("MainWindow", "&View"),
        ("show_tasks", "show_accounts", "show_to_buy", "find", "refresh", None, "workers"),
    ),
    (QT_TRANSLATE_NOOP("MainWindow", "&Help"), ("open_logs", "about")),
)
TOOLBAR = (
    "new_order",
    None,
    "start",
    "pause",
    "cancel",
    "retry",
    None,
    "take_next",
    None,
    "refresh",
)


def menu_path(name: str) -> str:
    """Where an action is in the menus, as the operator reads it: "File → Marketplaces…"."""
    text = _t(ACTIONS[name][0])
    title = next((_t(title) for title, names in MENUS if name in names), "")
    return f"{title} → {text}".replace("&", "") if title else text.replace("&", "")


def make_action(
    window: QMainWindow, text: str, shortcut: Shortcut, slot: Callable[[], Any], tip: str
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setStatusTip(tip)
    action.setToolTip(
        f"{text.replace('&', '')} ({action.shortcut().toString()})" if shortcut else tip
    )
    action.triggered.connect(slot)
    return action


def build_menus(window: QMainWindow, slots: dict[str, Callable[[], Any]]) -> dict[str, QAction]:
    """Makes every action of ACTIONS with its slot, the menus and the toolbar; returns
    the actions by name."""
    actions = {
        name: make_action(window, _t(text), shortcut, slots[name], _t(tip) if tip else "")
        for name, (text, shortcut, tip) in ACTIONS.items()
    }
    for title, names in MENUS:
        menu = window.menuBar().addMenu(_t(title))
        for name in names:
            if name is None:
                menu.addSeparator()
            else:
                menu.addAction(actions[name])
    bar = window.addToolBar(QCoreApplication.translate("MainWindow", "Main"))
    bar.setObjectName("main-toolbar")
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for name in TOOLBAR:
        if name is None:
            bar.addSeparator()
        else:
            bar.addAction(actions[name])
    return actions
