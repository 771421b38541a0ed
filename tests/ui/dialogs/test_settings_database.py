"""Settings chooses the database of the next start: a team's server (its password never
shown), a file, or this computer's own; --db and $BUYBACK_DB win over it, and the demo
keeps its own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

import main
from app.core.storage.db import DB_ENV
from app.ui.dialogs.settings import DATABASE, SettingsDialog, console_defaults

SERVER = "postgresql+psycopg://buyer:s3cret@db.example/buyback"
SHOTS = Path("/tmp/buyback-shots")


def open_settings(qtbot, db) -> SettingsDialog:
    dialog = SettingsDialog(db.url)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_server_chosen_in_settings_is_kept_with_its_password_hidden(qtbot, db) -> None:
    dialog = open_settings(qtbot, db)
    assert dialog.database_edit.text() == ""
    assert dialog.database_edit.placeholderText() == "This computer's own database file"
    dialog.database_edit.setText(SERVER)
    dialog.accept()
    assert QSettings().value(DATABASE) == SERVER

    again = open_settings(qtbot, db)
    assert again.database_edit.text() == "postgresql+psycopg://buyer:***@db.example/buyback"
    SHOTS.mkdir(exist_ok=True)
    again.grab().save(str(SHOTS / "settings-database.png"))
    again.accept()  # saved untouched: the stored password stays
    assert QSettings().value(DATABASE) == SERVER


def test_a_database_that_is_no_url_is_refused_before_saving(qtbot, db) -> None:
    dialog = open_settings(qtbot, db)
    dialog.database_edit.setText("postgresql:/db.example/buyback")
    dialog.accept()
    assert dialog.isVisible() and dialog.database_note.isVisible()
    assert "is neither a URL nor a file" in dialog.database_note.text()
    assert QSettings().value(DATABASE, "") == ""
    dialog.database_edit.setText("")  # this computer's own again
    assert not dialog.database_note.isVisible()
    dialog.accept()
    assert not dialog.isVisible() and QSettings().value(DATABASE) == ""


def test_the_command_line_and_the_environment_win_over_settings(monkeypatch) -> None:
    monkeypatch.delenv(DB_ENV, raising=False)
    QSettings().setValue(DATABASE, SERVER)
    args = main.build_parser().parse_args(["console"])
    console_defaults(args)
    assert args.db == SERVER
    given = main.build_parser().parse_args(["console", "--db", "/tmp/x.sqlite3"])
    console_defaults(given)
    assert given.db == "/tmp/x.sqlite3"
    monkeypatch.setenv(DB_ENV, "/tmp/y.sqlite3")
    from_env = main.build_parser().parse_args(["console"])
    console_defaults(from_env)
    assert from_env.db is None  # the database module reads $BUYBACK_DB itself
    monkeypatch.delenv(DB_ENV)
    demo = main.build_parser().parse_args(["console"])
    console_defaults(demo, demo=True)
    assert demo.db is None  # the demo opens a fresh database of its own
