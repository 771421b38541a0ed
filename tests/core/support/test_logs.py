"""The rotating log file and the database file hold logins and phone numbers: on POSIX
they are made readable by their user only, and so are the folders the console makes for
them."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.storage.db import Database
from app.core.support import logs

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX's")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems start with, which lets every user read new files."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def log_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "state" / "BuybackConsole" / "log"
    monkeypatch.setattr(logs, "log_dir", lambda: folder)
    yield folder
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, logs.OURS, False)]:
        root.removeHandler(handler)
        handler.close()


def test_log_file_and_its_rotations_are_private(
    log_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 300)

    path = logs.setup_logging()
    for n in range(20):
        logging.getLogger("test").info("account buyer%03d, phone +7 900 000 00 %02d", n, n)

    assert path == log_folder / "console.log"
    assert mode(log_folder) == 0o700
    rotated = sorted(log_folder.glob("console.log.*"))
    assert rotated, "the log did not rotate"
    assert {f.name: mode(f) for f in [path, *rotated]} == {f.name: 0o600 for f in [path, *rotated]}


def test_log_files_of_an_older_version_are_narrowed(log_folder: Path) -> None:
    log_folder.mkdir(parents=True)
    older = [log_folder / "console.log", log_folder / "console.log.1"]
    for f in older:
        f.write_text("2025-01-01 INFO app: account buyer001\n")
        f.chmod(0o644)

    logs.setup_logging()

    assert [mode(f) for f in older] == [0o600, 0o600]


def test_database_file_and_its_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "share" / "BuybackConsole" / "console.sqlite3"

    db = Database(str(path))
    try:
        with db.session() as s:  # a write, so that the -wal and -shm files exist
            s.execute(text("CREATE TABLE scratch (x)"))
            s.commit()
        made = [f for f in path.parent.iterdir() if f.name.startswith(path.name)]
        assert {f.name: mode(f) for f in made} == {f.name: 0o600 for f in made}
        assert {f.name for f in made} >= {"console.sqlite3", "console.sqlite3-wal"}
    finally:
        db.close()
    assert mode(path.parent) == 0o700


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    Database(str(path)).close()
    path.chmod(0o640)  # the operator's choice

    Database(str(path)).close()

    assert mode(path) == 0o640
