"""UI test setup: Qt without a screen, a small catalog, and a stand-in for the engine."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists
# The system locale the tests assume: none set ("C"), whatever the developer's machine has
# (the language tests pass the locales they are about explicitly).
os.environ["LC_ALL"] = "C.UTF-8"
os.environ.pop("LANGUAGE", None)

import concurrent.futures
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.core.orders.catalog import Catalog
from app.core.orders.spec import OrderSpec
from app.ui.app import collect_on_gui_thread, keep_none_alive

# pytest-qt makes its own QApplication, not the console's qt_app(): None is kept alive
# here as the console keeps it (PySide6 6.12 on Python 3.11 takes a reference from it at
# every call of a C++ method returning nothing).
keep_none_alive()


class FakeEngine:
    """The engine's `submit`: records every spec and returns a future the test resolves
    from another thread, as the real engine does."""

    def __init__(self) -> None:
        self.specs: list[OrderSpec] = []
        self.futures: list[concurrent.futures.Future[int]] = []

    def submit(self, spec: OrderSpec) -> concurrent.futures.Future[int]:
        self.specs.append(spec)
        self.futures.append(concurrent.futures.Future())
        return self.futures[-1]

    def finish(self, *, result: int | None = None, error: Exception | None = None) -> None:
        """Completes the last submission from a thread of its own."""
        future = self.futures[-1]
        done = (lambda: future.set_exception(error)) if error else lambda: future.set_result(result)
        thread = threading.Thread(target=done)
        thread.start()
        thread.join()


@pytest.fixture(scope="session", autouse=True)
def garbage_on_gui_thread(qapp) -> None:
    """As in the console (app.qt_app): cyclic garbage is collected on the GUI thread only."""
    collect_on_gui_thread(qapp)


@pytest.fixture(autouse=True)
def settings_in_tmp(tmp_path: Path) -> None:
    """The console's settings (window layout, language, folders) in the test's own
    folder: no test reads or writes the user's."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qt"))


@pytest.fixture
def catalogs() -> dict[str, Catalog]:
    sandbox = Catalog(
        1,
        "sandbox",
        "Sandbox Market",
        {"100001": 1, "100002": 2, "1000010": 3},
        {"100001": "Electric kettle", "100002": "Mug", "1000010": "Kettle descaler"},
        {"PVZ-001": 1, "PVZ-002": 2},
        {"PVZ-001": "Tverskaya 1", "PVZ-002": "Lenina 2"},
    )
    other = Catalog(
        2, "other", "Other Market", {"A1": 4}, {"A1": "Bag"}, {"P1": 3}, {"P1": "Mira 3"}
    )
    return {"sandbox": sandbox, "other": other}


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()
