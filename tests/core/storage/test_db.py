"""The database setup: SQLite pragmas, schema versioning, and the group-committing writer."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, insert, select, text

from app.core.domain.models import Client
from app.core.storage.db import Database
from app.core.support.errors import KnownError


def test_sqlite_file_uses_wal_and_foreign_keys(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000


def test_database_from_newer_console_is_refused(tmp_path) -> None:
    path = tmp_path / "c.sqlite3"
    Database(str(path)).close()
    plain = Database(str(path), migrate=False)
    with plain.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    plain.close()
    with pytest.raises(KnownError, match="newer version of the console"):
        Database(str(path))


async def test_one_failing_unit_of_work_does_not_undo_the_others(db: Database) -> None:
    def add(name: str):
        return lambda c: c.execute(insert(Client).values(name=name))

    results = await asyncio.gather(
        db.write(add("a")),
        db.write(add("b")),
        db.write(add("a")),
        db.write(add("c")),
        return_exceptions=True,
    )
    assert [isinstance(r, Exception) for r in results] == [False, False, True, False]
    with db.session() as s:
        assert sorted(s.scalars(select(Client.name))) == ["a", "b", "c"]


def test_path_or_url_is_accepted(tmp_path) -> None:
    d = Database(str(tmp_path / "x.sqlite3"))
    assert d.url.startswith("sqlite:///") and d.url.endswith("x.sqlite3")
    d.close()


def test_a_database_from_the_first_release_is_upgraded_keeping_its_rows(tmp_path) -> None:
    from alembic import command

    from app.core.domain.models import MarketPlaceAccount
    from app.core.storage.db import _alembic_config, make_engine

    path = tmp_path / "old.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    command.upgrade(_alembic_config(engine), "4b4e24368e43")  # the first schema
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO marketplace (code, name, base_url, driver)"
                " VALUES ('m', 'M', 'x', 'sandbox')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO marketplace_account"
                " (marketplace_id, login, password, label, status, created_at)"
                " VALUES (1, 'old-buyer', 'pw', '', 'active', '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()
    db = Database(str(path))
    with db.session() as s:
        acc = s.scalar(select(MarketPlaceAccount))
        assert (acc.login, acc.phone, acc.failures_in_row, acc.health) == (
            "old-buyer",
            "",
            0,
            "unknown",
        )
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.close()


async def test_a_view_reading_does_not_hold_up_the_engines_writes(db: Database) -> None:
    """A read left open (a slow view, a dialog's preview) takes no write lock: the engine
    records its changes meanwhile, and the reader keeps its consistent snapshot."""
    with db.reading() as view:
        before = view.scalar(select(func.count()).select_from(Client))  # the read is open
        await db.write(lambda c: c.execute(insert(Client).values(name="written meanwhile")))
        assert view.scalar(select(func.count()).select_from(Client)) == before
    with db.reading() as later:
        assert later.scalar(select(Client.name)) == "written meanwhile"
