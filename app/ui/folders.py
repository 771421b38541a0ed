"""Where the console's file dialogs open: where the last file or folder chosen for the same
purpose was (kept in QSettings, a key per purpose), else the user's documents folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDir, QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QWidget

KEY = "folders/{}"


def start_folder(purpose: str) -> str:
    """The folder a dialog for `purpose` opens in: the last one chosen for it while it
    still exists, else the documents folder (else home)."""
    stored = QSettings().value(KEY.format(purpose), "")
    if isinstance(stored, str) and stored and Path(stored).is_dir():
        return stored
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return documents if documents and Path(documents).is_dir() else QDir.homePath()


def remember(purpose: str, folder: str | Path) -> None:
    QSettings().setValue(KEY.format(purpose), str(folder))


def open_file(
    parent: QWidget, purpose: str, title: str, filters: str = "", *, start: str = ""
) -> str:
    """Asks for a file to read, in `start` if given (the folder of the current choice);
    "" when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, title, start or start_folder(purpose), filters)
    if path:
        remember(purpose, Path(path).parent)
    return path


def save_file(parent: QWidget, purpose: str, title: str, name: str, filters: str = "") -> str:
    """Asks where to write a file, offering `name`; "" when cancelled."""
    offered = str(Path(start_folder(purpose)) / name)
    path, _ = QFileDialog.getSaveFileName(parent, title, offered, filters)
    if path:
        remember(purpose, Path(path).parent)
    return path


def open_folder(parent: QWidget, purpose: str, title: str) -> str:
    """Asks for a folder to read; "" when cancelled. The next dialog opens where it is,
    with it and its neighbours to choose from."""
    path = QFileDialog.getExistingDirectory(parent, title, start_folder(purpose))
    if path:
        remember(purpose, Path(path).parent)
    return path
