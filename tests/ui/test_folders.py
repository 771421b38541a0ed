"""Where the file dialogs open: in the documents folder at first, then where the last file
for the same purpose was chosen; the report export, the imports and the browser choice
all ask this way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import seed_market
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QPushButton
from pytestqt.qtbot import QtBot

from app.core.drivers.memory import MemoryDriver
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.core.storage.db import Database
from app.ui import folders
from app.ui.dialogs.settings import SettingsDialog
from app.ui.window.main_window import MainWindow


@pytest.fixture
def documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of the test's own with its Documents folder; settings kept in the test's
    folder too."""
    home = tmp_path / "home"
    (home / "Documents").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qt"))
    return home / "Documents"


class Dialogs:
    """QFileDialog's static dialogs, answered by the test: each records the folder it was
    opened in and answers the next path queued (nothing: cancelled)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened_in: list[str] = []
        self.answers: list[str] = []
        for name in ("getOpenFileName", "getSaveFileName"):
            monkeypatch.setattr(QFileDialog, name, staticmethod(self._file))
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(self._folder))

    def _file(self, _parent, _title="", folder="", _filters="", *_rest, **_kw):
        self.opened_in.append(folder)
        return (self.answers.pop(0) if self.answers else "", "")

    def _folder(self, _parent, _title="", folder="", *_rest, **_kw):
        self.opened_in.append(folder)
        return self.answers.pop(0) if self.answers else ""


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch, documents: Path) -> Dialogs:
    return Dialogs(monkeypatch)


def test_a_dialog_opens_in_documents_then_where_the_last_file_was(
    qtbot, dialogs, documents, tmp_path
) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    dialogs.answers = [str(lists / "orders.csv")]
    assert folders.open_file(None, "orders", "Import") == str(lists / "orders.csv")
    assert folders.open_file(None, "orders", "Import") == ""  # cancelled: nothing changes
    folders.open_file(None, "accounts", "Import")
    assert dialogs.opened_in == [str(documents), str(lists), str(documents)]

    # A save offers its name in that folder; a folder choice remembers where it is.
    profiles = tmp_path / "profiles" / "acc1"
    profiles.mkdir(parents=True)
    dialogs.answers = [str(profiles)]
    assert folders.open_folder(None, "accounts", "Profiles") == str(profiles)
    folders.save_file(None, "accounts", "Save", "list.xlsx")
    assert dialogs.opened_in[3:] == [str(documents), str(tmp_path / "profiles" / "list.xlsx")]

    # A remembered folder that is gone: documents again.
    lists.rmdir()
    folders.open_file(None, "orders", "Import")
    assert dialogs.opened_in[-1] == str(documents)


@pytest.fixture
def window(qtbot: QtBot, db: Database, documents: Path) -> Iterator[MainWindow]:
    seed_market(db, accounts=2)
    service = EngineService(
        db, lambda _m: MemoryDriver(), EngineSettings(concurrency=1, poll_s=0.1, rollup_s=0.1)
    )
    service.start()
    service.submit(OrderSpec("Client", "mem", [LineSpec("A1", 1, "P1")], hold=True)).result(10)
    win = MainWindow(db, service)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(win.orders_view.orders.rows) == 1, timeout=5000)
    yield win
    win.close()
    service.stop()


def test_the_windows_file_dialogs_remember_their_folders(
    qtbot, window, dialogs, documents, tmp_path
) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    window.orders_view.selectRow(0)
    order_id = window.orders_view.current_order()

    # The report: offered in documents, saved where the operator chose, offered there next.
    dialogs.answers = [str(reports / "client.xlsx")]
    window.menu_actions["export_report"].trigger()
    qtbot.waitUntil((reports / "client.xlsx").exists, timeout=5000)
    window.export_report()
    offered = f"order-{order_id}.xlsx"
    assert dialogs.opened_in == [str(documents / offered), str(reports / offered)]

    # The deliveries list has a folder of its own.
    window.import_deliveries()
    assert dialogs.opened_in[-1] == str(documents)

    # An import dialog's File… button.
    window.menu_actions["import_orders"].trigger()
    dialog = window.import_dialog
    file_button = next(b for b in dialog.findChildren(QPushButton) if b.text() == "File…")
    dialogs.answers = [str(reports / "orders.csv")]
    qtbot.mouseClick(file_button, Qt.MouseButton.LeftButton)
    assert dialog.path_edit.text() == str(reports / "orders.csv")
    qtbot.mouseClick(file_button, Qt.MouseButton.LeftButton)
    assert dialogs.opened_in[-2:] == [str(documents), str(reports)]
    dialog.reject()


def test_settings_browse_remembers_the_browsers_folder(qtbot, dialogs, documents, tmp_path):
    dialog = SettingsDialog("sqlite:///" + str(tmp_path / "console.sqlite3"))
    qtbot.addWidget(dialog)
    programs = tmp_path / "programs"
    programs.mkdir()
    dialogs.answers = [str(programs / "chrome")]
    browse = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Browse…")
    qtbot.mouseClick(browse, Qt.MouseButton.LeftButton)
    assert dialog.browser_edit.text() == str(programs / "chrome")
    assert folders.start_folder("browser") == str(programs)
