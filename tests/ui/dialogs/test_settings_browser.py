"""Settings says which browser purchases use: the one found on this computer while the
field is empty; a path that is no file, or no browser at all, in red before saving."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.drivers.browser import BROWSER_ENV
from app.ui.dialogs.settings import SettingsDialog

SHOTS = Path("/tmp/buyback-shots")  # for looking at the dialog; the tests do not need it


def fake_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `chromium` on the PATH, and nothing configured."""
    folder = tmp_path / "bin"
    folder.mkdir()
    browser = folder / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv(BROWSER_ENV, raising=False)
    return browser


def test_the_browser_found_on_the_computer_is_shown(qtbot, db, tmp_path, monkeypatch) -> None:
    browser = fake_browser(tmp_path, monkeypatch)
    dialog = SettingsDialog(db.url)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.browser_edit.text() == ""
    assert dialog.browser_edit.placeholderText() == f"Found: {browser}"
    assert not dialog.browser_note.isVisible() and dialog.browse_button.isVisible()
    SHOTS.mkdir(exist_ok=True)
    dialog.grab().save(str(SHOTS / "settings-browser.png"))

    dialog.browser_edit.setText("/opt/chrome/chrome")
    assert dialog.browser_note.isVisible()
    assert dialog.browser_note.text() == "No such file: purchases could not start."
    dialog.grab().save(str(SHOTS / "settings-browser-missing.png"))
    dialog.browser_edit.setText(str(browser))
    assert not dialog.browser_note.isVisible()


def test_no_browser_on_the_computer_says_what_to_do(qtbot, db, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(BROWSER_ENV, raising=False)
    monkeypatch.setattr("app.core.drivers.browser._install_paths", lambda: [])
    dialog = SettingsDialog(db.url)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.browser_edit.placeholderText() == "None found: choose Chromium, Chrome or Edge"
    assert dialog.browser_note.text() == (
        "Purchases cannot start: install Chromium, Chrome or Edge."
    )
