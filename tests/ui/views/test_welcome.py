"""The first launch as an operator meets it: on a database with nothing set up the window
says what to do first, adding a marketplace from there takes the panel away, the demo
starts as a console of its own, and New order without a marketplace says where to add
one and opens it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import seed_market
from PySide6.QtCore import Qt

from app.core.drivers.memory import MemoryDriver
from app.core.service import EngineService
from app.ui.i18n import apply_language
from app.ui.views import welcome
from app.ui.views.welcome import WelcomePanel
from app.ui.window.main_window import MainWindow


@pytest.fixture
def open_window(qtbot, db) -> Iterator:
    service = EngineService(db, lambda _market: MemoryDriver())
    service.start()

    def opened() -> MainWindow:
        window = MainWindow(db, service)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield opened
    service.stop()


def welcome_shown(window: MainWindow) -> bool:
    return window.pages.currentWidget() is window.welcome and window.welcome.isVisible()


def test_an_empty_database_shows_what_to_do_until_a_marketplace_is_added(qtbot, open_window):
    window = open_window()
    qtbot.waitUntil(lambda: welcome_shown(window), timeout=5000)
    buttons = window.welcome
    assert [b.text() for b in (buttons.add_button, buttons.import_button, buttons.demo_button)] == [
        "Add a marketplace…",
        "Import accounts…",
        "Try the demo on the bundled sandbox",
    ]
    assert not window.orders_view.isVisible()

    qtbot.mouseClick(buttons.add_button, Qt.MouseButton.LeftButton)
    dialog = window.marketplaces_dialog
    qtbot.waitUntil(dialog.form.isVisible, timeout=5000)
    assert dialog.preset_box.currentText() == "Wildberries"
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.orders_view.isVisible(), timeout=5000)
    assert not window.welcome.isVisible()
    dialog.close()


def test_a_database_with_a_marketplace_shows_the_tables(qtbot, db, open_window):
    seed_market(db, accounts=2)
    window = open_window()
    qtbot.waitUntil(lambda: window.accounts_view.accounts.rowCount() == 2, timeout=5000)
    assert window.pages.currentWidget() is window.splitter


def test_import_accounts_opens_the_accounts_import(qtbot, open_window):
    window = open_window()
    qtbot.waitUntil(lambda: welcome_shown(window), timeout=5000)
    qtbot.mouseClick(window.welcome.import_button, Qt.MouseButton.LeftButton)
    assert window.accounts_view.import_dialog.isVisible()
    window.accounts_view.import_dialog.reject()


def test_new_order_without_a_marketplace_says_where_to_add_one_and_opens_it(qtbot, open_window):
    window = open_window()
    window.menu_actions["new_order"].trigger()
    qtbot.waitUntil(lambda: getattr(window, "no_marketplace_box", None) is not None, timeout=5000)
    box = window.no_marketplace_box
    assert box.text() == "No marketplace is set up yet: add one in File → Marketplaces… first."
    qtbot.mouseClick(box.defaultButton(), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.marketplaces_dialog.form.isVisible(), timeout=5000)
    assert getattr(window, "new_order_dialog", None) is None
    window.marketplaces_dialog.close()


class Starts:
    """Records the programs the panel starts instead of starting them."""

    def __init__(self, works: bool = True) -> None:
        self.works = works
        self.calls: list[tuple[str, list[str], str]] = []

    def __call__(self, program: str, arguments, folder: str) -> bool:
        self.calls.append((program, list(arguments), folder))
        return self.works


def test_the_demo_starts_a_console_of_its_own_from_the_source_tree(qtbot) -> None:
    starts = Starts()
    panel = WelcomePanel("File → Marketplaces…", start=starts)
    qtbot.addWidget(panel)
    apply_language("en")  # the demo speaks the console's language
    qtbot.mouseClick(panel.demo_button, Qt.MouseButton.LeftButton)
    main_py = Path(__file__).resolve().parents[3] / "main.py"
    assert starts.calls == [
        (sys.executable, [str(main_py), "demo", "--gui", "--language", "en"], str(main_py.parent))
    ]
    assert main_py.is_file()
    assert not panel.demo_button.isEnabled()  # a second click would start a second demo
    assert panel.message.text() == "The demo opens in a window of its own in a few seconds."


def test_a_packaged_console_starts_itself_for_the_demo(qtbot, monkeypatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/buyback-console/buyback-console")
    program, arguments, folder = welcome.demo_command("ru")
    assert (program, arguments, folder) == (
        "/opt/buyback-console/buyback-console",
        ["demo", "--gui", "--language", "ru"],
        "/opt/buyback-console",
    )


def test_a_demo_that_cannot_start_says_so(qtbot) -> None:
    panel = WelcomePanel("File → Marketplaces…", start=Starts(works=False))
    qtbot.addWidget(panel)
    qtbot.mouseClick(panel.demo_button, Qt.MouseButton.LeftButton)
    assert panel.message.text().startswith("The demo could not start: ")
    assert panel.demo_button.isEnabled()
