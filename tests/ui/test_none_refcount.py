"""The console survives Qt calls by the hundred thousand: PySide6 6.12 on Python 3.11
takes a reference from None at each call of a method that returns nothing, which aborted
the interpreter ("deallocating None") after about 100,000 calls."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT

SCRIPT = """
import os
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QWidget
from app.ui.app import qt_app
app = qt_app()
w = QWidget()
for _ in range(300_000):
    w.update()
    w.setEnabled(True)
print("alive")
"""


def test_a_console_survives_many_qt_calls_that_return_nothing() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "alive"
