"""The tests' PostgreSQL is real: `pg_db_url` is a migrated PostgreSQL database of the test's
own, `db` is the kind its test id says, and the URL's password is never shown."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from app.core.domain.models import Task
from app.core.storage.db import Database, display_url
from app.core.support.errors import KnownError


def test_pg_db_url_is_a_fresh_migrated_postgresql_database(pg_db_url: str) -> None:
    db = Database(pg_db_url)
    try:
        assert db.engine.dialect.name == "postgresql"
        assert db.engine.dialect.driver == "psycopg"
        assert inspect(db.engine).has_table("worker")
        with db.reading() as s:
            assert s.scalar(text("SELECT current_database()")) == make_url(pg_db_url).database
            assert s.scalar(text("SELECT version()")).startswith("PostgreSQL ")
            assert s.scalars(select(Task.id)).all() == []
    finally:
        db.close()


def test_db_is_the_kind_its_test_id_says(db: Database, db_kind: str) -> None:
    assert db.engine.dialect.name == db_kind


def hidden(url: str, text: str) -> bool:
    """Whether the password of `url` is nowhere in `text` (where the URL's other parts
    hold it too, as a server's `buyback:buyback@` does, at least not in its place)."""
    u = make_url(url)
    assert u.password  # the URL carries one, as real ones do
    if u.password in u.set(password=None).render_as_string():
        return f":{u.password}@" not in text
    return u.password not in text


def test_the_password_of_the_url_is_never_shown(
    pg_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    shown = display_url(pg_db_url)
    assert hidden(pg_db_url, shown) and ":***@" in shown
    assert hidden(pg_db_url, display_url(pg_db_url.replace("127.0.0.1", "not a host:x")))

    caplog.set_level(logging.DEBUG)
    Database(pg_db_url).close()
    wrong = make_url(pg_db_url).set(database="no_such_database")
    with pytest.raises(KnownError) as refused:
        Database(wrong.render_as_string(hide_password=False))
    assert "no_such_database" in str(refused.value)
    assert hidden(pg_db_url, str(refused.value))
    assert hidden(pg_db_url, caplog.text)
