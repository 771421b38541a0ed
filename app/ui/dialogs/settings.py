"""The Settings dialog and what it stores (QSettings): browser and concurrency, applied at
the console's next start, and the language, applied at once."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from PySide6.QtCore import QSettings, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

# The engine's modules (SQLAlchemy, psutil) are imported where used: the console reads
# its language here before its window's first paint.
from app.core.domain.states import TaskStatus
from app.core.support.text import QT_TRANSLATE_NOOP
from app.ui import folders
from app.ui.common import fill, status_color
from app.ui.i18n import LANGUAGES, NAMES, applied_choice, loadable

BROWSER = "engine/browser"
CONCURRENCY = "engine/concurrency"
LANGUAGE = "ui/language"
DATABASE = "storage/database"  # a URL or a SQLite file; "" = this computer's own file
SYSTEM = "system"  # the stored choice "as the system", besides i18n.LANGUAGES
SYSTEM_NAME = QT_TRANSLATE_NOOP("SettingsDialog", "As the system")


def stored_language(settings: QSettings | None = None) -> str:
    value = str((settings or QSettings()).value(LANGUAGE, SYSTEM) or SYSTEM)
    return value if value in LANGUAGES else SYSTEM


def stored_concurrency(settings: QSettings) -> int | None:
    from app.core.engine.settings import concurrency_limit

    stored = settings.value(CONCURRENCY, 0)
    if not isinstance(stored, int | float | str):
        return None  # a hand-edited file: fall back to the default
    try:
        value = int(stored)
    except ValueError:
        return None  # a hand-edited file: fall back to the default
    return value if 1 <= value <= concurrency_limit() else None


def console_defaults(
    args: argparse.Namespace, settings: QSettings | None = None, *, demo: bool = False
) -> None:
    """Fills what the command line left out (None) from the stored settings, else the
    built-in defaults: the command line wins (and $BUYBACK_DB for the database), then
    Settings, then the default."""
    from app.core.engine.settings import DEFAULT_CONCURRENCY
    from app.core.storage.db import DB_ENV

    settings = settings or QSettings()
    if not args.browser:
        args.browser = str(settings.value(BROWSER, "") or "") or None
    if args.concurrency is None:
        args.concurrency = stored_concurrency(settings) or DEFAULT_CONCURRENCY
    if getattr(args, "language", None) is None:
        args.language = stored_language(settings)
    if not args.db and not os.environ.get(DB_ENV, "").strip() and not demo:
        args.db = str(settings.value(DATABASE, "") or "") or None


def stored_database(settings: QSettings) -> str:
    return str(settings.value(DATABASE, "") or "")


def folder_of(db_url: str) -> Path | None:
    """The folder of a SQLite database file; None for a server database."""
    from app.core.storage.db import sqlite_file

    file = sqlite_file(db_url)
    return file.parent if file is not None else None


class SettingsDialog(QDialog):
    """Attributes:
        browser_edit, concurrency_box, language_box: the stored choices (the languages
            offered are those whose translation this installation has).
        found_browser: the browser purchases use when browser_edit is empty (None: none
            found), shown as its placeholder.
        browse_button: picks the browser's program file.
        browser_note: why purchases could not start with the browser chosen (hidden while
            they could).
        data_edit, open_data_button: where the database in use lives (read-only) and a
            button to open that folder.
        database_edit: the database for the next start (a team's server URL or a file;
            empty: this computer's own), its password shown hidden; database_note says
            what is wrong with it.
    Signals:
        language_changed(str): Save chose a language other than the one on screen
            ("system", "en" or "ru").
    """

    language_changed = Signal(str)

    def __init__(self, db_url: str, parent: QWidget | None = None):
        from app.core.drivers.browser import BrowserNotFound, find_browser
        from app.core.engine.settings import DEFAULT_CONCURRENCY, concurrency_limit
        from app.core.storage.db import display_url

        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.resize(560, 0)
        s = QSettings()

        self.browser_edit = QLineEdit(str(s.value(BROWSER, "") or ""))
        try:
            self.found_browser: str | None = find_browser()
        except BrowserNotFound:
            self.found_browser = None
        self.browser_edit.setPlaceholderText(
            fill(self.tr("Found: %1"), self.found_browser)
            if self.found_browser
            else self.tr("None found: choose Chromium, Chrome or Edge")
        )
        self.browse_button = QPushButton(self.tr("Browse…"))
        self.browse_button.clicked.connect(self._pick_browser)
        browser_row = QHBoxLayout()
        browser_row.addWidget(self.browser_edit, 1)
        browser_row.addWidget(self.browse_button)
        self.browser_note = QLabel()
        self.browser_note.setStyleSheet(f"color: {status_color(TaskStatus.FAILED).name()}")
        self.browser_edit.textChanged.connect(self._check_browser)
        self._check_browser()

        self.concurrency_box = QSpinBox()
        self.concurrency_box.setRange(1, concurrency_limit())
        self.concurrency_box.setValue(stored_concurrency(s) or DEFAULT_CONCURRENCY)

        self.folder = folder_of(db_url)
        self.data_edit = QLineEdit(str(self.folder) if self.folder else display_url(db_url))
        self.data_edit.setReadOnly(True)
        self.open_data_button = QPushButton(self.tr("Open"))
        self.open_data_button.setEnabled(self.folder is not None)
        self.open_data_button.clicked.connect(self._open_data)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_edit, 1)
        data_row.addWidget(self.open_data_button)

        self._stored_database = stored_database(s)
        self.database_edit = QLineEdit(display_url(self._stored_database))
        self.database_edit.setPlaceholderText(self.tr("This computer's own database file"))
        self.database_edit.setToolTip(
            self.tr(
                "A team's server: postgresql+psycopg://user:password@host/name. Empty: this "
                "computer's own database file. --db and BUYBACK_DB win over it."
            )
        )
        self.database_note = QLabel()
        self.database_note.setWordWrap(True)
        self.database_note.setStyleSheet(f"color: {status_color(TaskStatus.FAILED).name()}")
        self.database_note.hide()
        self.database_edit.textChanged.connect(lambda: self.database_note.hide())

        self.language_box = QComboBox()
        self.language_box.addItem(self.tr(SYSTEM_NAME), SYSTEM)
        for code in loadable():
            self.language_box.addItem(NAMES[code], code)
        self.language_box.setCurrentIndex(max(self.language_box.findData(stored_language(s)), 0))

        form = QFormLayout()
        form.addRow(self.tr("Browser:"), browser_row)
        form.addRow("", self.browser_note)
        form.addRow(self.tr("Purchases at once:"), self.concurrency_box)
        form.addRow(self.tr("Data folder:"), data_row)
        form.addRow(self.tr("Database:"), self.database_edit)
        form.addRow("", self.database_note)
        form.addRow(self.tr("Language:"), self.language_box)
        note = QLabel(
            self.tr(
                "The language changes at once; browser, concurrency and database at the next "
                "start of the console."
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #6b7280")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _check_browser(self) -> None:
        """Says under the field, in red, that purchases could not start: a path that is no
        file, or no browser found to use while the field is empty."""
        path = self.browser_edit.text().strip()
        if path and not Path(path).is_file():
            text = self.tr("No such file: purchases could not start.")
        elif not path and not self.found_browser:
            text = self.tr("Purchases cannot start: install Chromium, Chrome or Edge.")
        else:  # a file, or the one found (the placeholder names it)
            text = ""
        self.browser_note.setText(text)
        self.browser_note.setVisible(bool(text))

    def _pick_browser(self) -> None:
        current = self.browser_edit.text().strip() or self.found_browser or ""
        path = folders.open_file(
            self,
            "browser",
            self.tr("Chrome, Chromium or Edge"),
            start=str(Path(current).parent) if current else "",
        )
        if path:
            self.browser_edit.setText(path)

    def _open_data(self) -> None:
        if self.folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder)))

    def _database_choice(self) -> str | None:
        """The database to store, or None (with the reason shown) when it cannot be one.
        The password shown hidden is the stored one."""
        from app.core.storage.db import display_url, url_for
        from app.core.support.errors import KnownError

        text = self.database_edit.text().strip()
        if text == display_url(self._stored_database):
            return self._stored_database
        if not text:
            return ""
        try:
            url_for(text, named_by="Settings")
        except KnownError as exc:
            from app.ui.engine_texts import engine_text

            self.database_note.setText(engine_text(str(exc)))
            self.database_note.show()
            self.database_edit.setFocus()
            return None
        return text

    def accept(self) -> None:
        database = self._database_choice()
        if database is None:
            return
        s = QSettings()
        s.setValue(DATABASE, database)
        s.setValue(BROWSER, self.browser_edit.text().strip())
        s.setValue(CONCURRENCY, self.concurrency_box.value())
        s.setValue(LANGUAGE, self.language_box.currentData())
        s.sync()
        super().accept()
        if self.language_box.currentData() != applied_choice():
            self.language_changed.emit(self.language_box.currentData())
