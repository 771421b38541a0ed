"""A seeded "monkey" drives the main window and every dialog it opens with random keys,
clicks and menu actions while the engine buys: the console must stay alive and Qt must
never complain about an invalid index (what a wrong row or column in a model says)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from helpers import seed_market
from PySide6.QtCore import QEvent, QPoint, QSettings, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QWidget,
)
from sqlalchemy import update

from app.core.domain.models import MarketPlace
from app.core.drivers.memory import MemoryDriver
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.core.storage.db import Database
from app.ui.window.main_window import MainWindow

KEYS = [
    Qt.Key.Key_Tab,
    Qt.Key.Key_Backtab,
    Qt.Key.Key_Return,
    Qt.Key.Key_Escape,
    Qt.Key.Key_Down,
    Qt.Key.Key_Up,
    Qt.Key.Key_Left,
    Qt.Key.Key_Right,
    Qt.Key.Key_Space,
    Qt.Key.Key_Delete,
    Qt.Key.Key_Backspace,
    Qt.Key.Key_Home,
    Qt.Key.Key_End,
    Qt.Key.Key_PageDown,
    Qt.Key.Key_1,
    Qt.Key.Key_A,
]
TEXTS = ["7", "100001", "PVZ-001", "1 299,50", "Ромашка", "-1", "", "9" * 30]
# Actions that leave the console or the test (quit), open a window of another process,
# or replace the window (Settings switches the language: its own tests cover it).
SPARED = {"quit", "about", "open_logs", "settings"}


@pytest.fixture(autouse=True)
def no_blocking_boxes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Qt's static dialogs run a nested event loop until a person answers: the monkey
    answers "cancel" at once, as an operator closing them would."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qt"))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))
    for name in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, lambda *a, **k: QMessageBox.StandardButton.No)
    monkeypatch.setattr(QMessageBox, "exec", lambda self: QMessageBox.StandardButton.No)
    monkeypatch.setattr(QDialog, "exec", lambda self: QDialog.DialogCode.Rejected)


def type_text(widget: QWidget, text: str) -> None:
    """Types `text` as key events carrying it (QTest.keyClicks takes Latin-1 only)."""
    for char in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def visible_widgets(app: QApplication) -> list[QWidget]:
    return [
        w
        for w in app.allWidgets()
        if w.isVisible() and w.isEnabled() and w.width() > 2 and w.height() > 2
    ]


def test_random_keys_and_clicks_never_break_the_console(qtbot, tmp_path: Path, qtlog) -> None:
    db = Database(str(tmp_path / "console.sqlite3"))
    seed_market(db, accounts=6)
    seed_market(db, accounts=3, code="wb")
    with db.session() as s:
        s.execute(
            update(MarketPlace)
            .where(MarketPlace.code == "wb")
            .values(driver="assisted", base_url="https://wb.example")
        )
        s.commit()
    service = EngineService(
        db, lambda _m: MemoryDriver(), EngineSettings(concurrency=2, poll_s=0.1, rollup_s=0.1)
    )
    service.start()
    service.submit(OrderSpec("Client", "mem", [LineSpec("A1", 4, "P1", "100")])).result(10)
    service.submit(OrderSpec("Hand", "wb", [LineSpec("A1", 3, "P1")])).result(10)
    window = MainWindow(db, service)
    window.to_buy_view.start_browser = lambda _launch: None  # no browser on this screen
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    rng = random.Random(20261127)
    actions = [name for name in window.menu_actions if name not in SPARED]
    try:
        for step in range(1500):
            roll = rng.random()
            if roll < 0.15:
                action = window.menu_actions[rng.choice(actions)]
                if action.isEnabled():
                    action.trigger()
            elif roll < 0.55:
                widgets = visible_widgets(app)
                # Seen once in a full run (not again in 6): say what was on screen then.
                assert widgets, f"step {step}: nothing on screen to click: " + "; ".join(
                    f"{type(w).__name__} visible={w.isVisible()} enabled={w.isEnabled()} "
                    f"{w.width()}x{w.height()}"
                    for w in app.topLevelWidgets()
                )
                target = rng.choice(widgets)
                spot = QPoint(rng.randrange(target.width()), rng.randrange(target.height()))
                button = rng.choice([Qt.MouseButton.LeftButton] * 4 + [Qt.MouseButton.RightButton])
                if rng.random() < 0.2:
                    QTest.mouseDClick(target, button, pos=spot)
                else:
                    QTest.mouseClick(target, button, pos=spot)
            elif roll < 0.65:
                type_text(app.focusWidget() or window, rng.choice(TEXTS))
            else:
                focus = app.focusWidget() or window
                modifier = rng.choice(
                    [Qt.KeyboardModifier.NoModifier] * 5 + [Qt.KeyboardModifier.ShiftModifier]
                )
                QTest.keyClick(focus, rng.choice(KEYS), modifier)
            if step % 25 == 0:
                # Close stray popups and dialogs now and then, as an operator would.
                for w in app.topLevelWidgets():
                    if w is not window and w.isVisible() and isinstance(w, QDialog):
                        w.reject()
            qtbot.wait(5)  # let queued events (engine results, repaints) run
        assert window.isVisible() or not window.isHidden()
        assert service.running
    finally:
        for w in app.topLevelWidgets():
            if w is not window and w.isVisible():
                w.close()
        window.close()
        service.stop()
        db.close()
    complaints = [
        r.message
        for r in qtlog.records
        if "invalid" in r.message.lower() and "index" in r.message.lower()
    ]
    assert complaints == []
