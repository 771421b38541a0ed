"""Starting the console: what stops its start (a database, a key, a defect of ours) is said
in a box saying that the console will close, then it exits non-zero with one line and no
traceback on the terminal; "keeps running" is only said once the window is up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

import main
from app.core.support.logs import log_file
from app.ui import app as console_app
from app.ui.dialogs import crash

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

    monkeypatch.setattr(console_app, "open_database", broken)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    hook = sys.excepthook
    with pytest.raises(RuntimeError, match="boom at start"):  # main.py: exit 1, one line
        console_app.run_console(main.parse_arguments(["--db", "/data/console.sqlite3"]))

    assert len(shown) == 1
    assert "boom at start" in shown[0] and "The console will close." in shown[0]
    assert "keeps running" not in shown[0]
    assert str(log_file()) in shown[0]  # the details, to send along
    assert sys.excepthook is hook  # "keeps running" is for a console that is up
