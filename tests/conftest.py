"""Shared fixtures: a real SQLite database file per test and a small seeded marketplace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Market, seed_market

from app.core.storage.db import Database
from app.core.support.secrets import KEY_FILE_ENV, get_vault


@pytest.fixture(autouse=True)
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Secrets are encrypted with a key file of the test's own (subprocesses inherit it):
    no test touches the real keyring or the user's config folder."""
    path = tmp_path / "secrets.key"
    monkeypatch.setenv(KEY_FILE_ENV, str(path))
    get_vault.cache_clear()
    yield path
    get_vault.cache_clear()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(str(tmp_path / "console.sqlite3"))
    yield database
    database.close()


@pytest.fixture
def market(db: Database) -> Market:
    return seed_market(db, accounts=20)
