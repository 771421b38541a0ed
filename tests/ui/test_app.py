"""Starting the console: its window is up at once, saying it opens the database, and shows
its views once they are ready; what stops its start (a database, a key, a defect of ours)
is said in a box saying that the console will close, then it exits non-zero with one line
and no traceback on the terminal; "keeps running" is only said once the window is up."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import pytest
from helpers import ROOT
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import main
from app.core.accounts import keys
from app.core.support.logs import log_file
from app.ui import app as console_app
from app.ui.dialogs import crash
from app.ui.window.main_window import MainWindow

PASSWORD = "s3cret-pw"

# main.py as the operator starts it, its message boxes printed instead of shown (offscreen
# nobody could click them): what the operator reads in the box and on the terminal.
BOXES_PRINTED = (
    "import runpy, sys\n"
    "from PySide6.QtWidgets import QMessageBox\n"
    "QMessageBox.critical = lambda _parent, title, text, *_: print(f'box: {title}: {text}')\n"
    "sys.argv[0] = 'main.py'\n"
    "runpy.run_path('main.py', run_name='__main__')\n"
)


def start_console(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    folders = {
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # Settings
        "QT_QPA_PLATFORM": "offscreen",
    }
    return subprocess.run(
        [sys.executable, "-c", BOXES_PRINTED, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **folders, **env},
    )


def test_a_bad_database_url_closes_the_console_saying_so_without_its_password(tmp_path) -> None:
    done = start_console(tmp_path, "--db", f"postgresql://buyer:{PASSWORD}@db.example:port/x")
    assert done.returncode == 2, done.stderr
    boxes = [line for line in done.stdout.splitlines() if line.startswith("box:")]
    assert len(boxes) == 1 and "postgresql://***@db.example:port/x" in boxes[0]
    assert "The console will close." in done.stdout and "keeps running" not in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "postgresql://***@db.example:port/x" in errors[0]
    assert "Traceback" not in done.stderr
    assert PASSWORD not in done.stdout + done.stderr


def test_a_file_that_is_no_database_in_buyback_db_closes_the_console_saying_so(
    tmp_path,
) -> None:
    notes = tmp_path / "notes.sqlite3"
    notes.write_bytes(b"not a database, but the operator's notes " * 200)
    done = start_console(tmp_path, BUYBACK_DB=str(notes))
    assert done.returncode == 2, done.stderr
    assert "the database file is damaged" in done.stdout
    assert "The console will close." in done.stdout and "keeps running" not in done.stdout
    assert "Traceback" not in done.stderr
    assert notes.read_bytes() == b"not a database, but the operator's notes " * 200


def test_a_defect_at_start_says_the_console_will_close_and_names_the_log(qapp, monkeypatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(crash.QMessageBox, "critical", lambda _p, _t, text: shown.append(text))

    def broken(_url: str | None) -> None:
        raise RuntimeError("boom at start")

    monkeypatch.setattr(keys, "open_database", broken)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    hook = sys.excepthook
    with pytest.raises(RuntimeError, match="boom at start"):  # main.py: exit 1, one line
        console_app.run_console(main.parse_arguments(["--db", "/data/console.sqlite3"]))

    assert len(shown) == 1
    assert "boom at start" in shown[0] and "The console will close." in shown[0]
    assert "keeps running" not in shown[0]
    assert str(log_file()) in shown[0]  # the details, to send along
    assert sys.excepthook is hook  # "keeps running" is for a console that is up


def test_the_window_is_up_saying_it_opens_before_the_database_is_open(
    qapp, tmp_path, monkeypatch
) -> None:
    release = threading.Event()
    real_start = console_app.start_engine

    def slow_start(*args, **kwargs):  # a database that takes its time to open
        assert release.wait(30)
        return real_start(*args, **kwargs)

    monkeypatch.setattr(console_app, "start_engine", slow_start)
    monkeypatch.setattr(console_app, "settle_heap", lambda: None)  # the test process's heap
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    seen: dict[str, object] = {}

    def while_opening() -> None:
        window = next(
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
        )
        seen["page"] = window.pages.currentWidget().text()
        seen["enabled"] = [name for name, a in window.menu_actions.items() if a.isEnabled()]

        def opened() -> None:
            seen["after"] = window.pages.currentWidget() is window.welcome
            seen["new_order"] = window.menu_actions["new_order"].isEnabled()
            window.close()

        window.loaded.connect(opened)
        release.set()

    QTimer.singleShot(200, while_opening)
    QTimer.singleShot(60_000, QApplication.quit)  # a console that never opens fails the test
    args = main.parse_arguments(["--db", str(tmp_path / "console.sqlite3")])
    assert console_app.run_console(args) == 0

    assert seen["page"] == "Opening the database…"
    assert seen["enabled"] == ["quit"]  # nothing to act on yet
    assert seen["after"] is True  # a new database: the first launch panel
    assert seen["new_order"] is True


def test_the_console_notes_when_its_window_is_painted_and_when_it_shows_its_data(
    tmp_path,
) -> None:
    """The hook bench.startup times the start with."""
    marks = tmp_path / "marks.txt"
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "QT_QPA_PLATFORM": "offscreen",
        console_app.FIRST_PAINT_ENV: str(marks),
    }
    started = time.time()
    console = subprocess.Popen(
        [sys.executable, "main.py", "--db", str(tmp_path / "console.sqlite3")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and console.poll() is None:
            if "ready" in (marks.read_text() if marks.exists() else ""):
                break
            time.sleep(0.05)
        assert console.poll() is None, "the console ended on its own"
    finally:
        console.terminate()
        console.wait(timeout=30)
    moments = [line.split() for line in marks.read_text().splitlines()]
    assert [name for name, _ in moments] == ["paint", "ready"]
    painted, ready = (float(at) for _, at in moments)
    assert started < painted <= ready


def test_closing_the_window_while_it_opens_ends_the_console(qapp, tmp_path, monkeypatch) -> None:
    release = threading.Event()
    real_start = console_app.start_engine
    started: list[object] = []

    def slow_start(*args, **kwargs):
        assert release.wait(30)
        started.append(real_start(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(console_app, "start_engine", slow_start)

    def close_while_opening() -> None:
        window = next(
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
        )
        window.close()
        release.set()  # the database opens after the window has gone

    QTimer.singleShot(200, close_while_opening)
    args = main.parse_arguments(["--db", str(tmp_path / "console.sqlite3")])
    assert console_app.run_console(args) == 0
    (_db, service) = started[0]
    assert not service.running  # stopped, not left running behind a closed window


def test_cyclic_garbage_is_collected_on_the_gui_thread_only(qtbot) -> None:
    """A cycle holding a Qt object must never be destroyed on a database or engine thread:
    a thread that allocates a lot triggers no collection there, and the GUI thread
    collects what is due (the full run once crashed in a reader thread's collection)."""
    collectors: list[int] = []

    def seen(phase: str, _info: dict) -> None:
        if phase == "start":
            collectors.append(threading.get_ident())

    def litter() -> None:
        for _ in range(50_000):
            cycle: list[object] = []
            cycle.append(cycle)

    class Cycle:
        me: object

    gc.callbacks.append(seen)
    try:
        worker = threading.Thread(target=litter)
        worker.start()
        worker.join()
        cycle = Cycle()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        del cycle
        qtbot.waitUntil(lambda: gone() is None, timeout=5000)
    finally:
        gc.callbacks.remove(seen)
    assert collectors and set(collectors) == {threading.get_ident()}
