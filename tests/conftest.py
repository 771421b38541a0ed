"""Shared fixtures: a real SQLite database file per test and a small seeded marketplace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import Market, seed_market

from app.core.db import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(str(tmp_path / "console.sqlite3"))
    yield database
    database.close()


@pytest.fixture
def market(db: Database) -> Market:
    return seed_market(db, accounts=20)
