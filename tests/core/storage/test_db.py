"""The database setup: SQLite pragmas, schema versioning, and the group-committing writer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from app.core.domain.models import Client
from app.core.storage import db as db_module
from app.core.storage.db import Database, defer, execute_many
from app.core.support.errors import KnownError


@pytest.mark.sqlite_only
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


def test_paused_and_cancelled_orders_keep_the_operators_intent_after_the_upgrade(
    tmp_path,
) -> None:
    """Before the intent column, a pause or cancel was written over an Order's status;
    the upgrade moves it to `intent` and leaves progress in `status`."""
    from alembic import command

    from app.core.domain.models import Order
    from app.core.domain.states import OrderIntent, OrderStatus, shown_status
    from app.core.storage.db import _alembic_config, make_engine

    path = tmp_path / "old.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    command.upgrade(_alembic_config(engine), "ae6af2a876f3")  # before Order.intent
    now = "'2026-01-01 00:00:00'"
    rows = [
        "INSERT INTO client (id, name, created_at) VALUES (1, 'C', " + now + ")",
        "INSERT INTO marketplace (id, code, name, base_url, driver)"
        " VALUES (1, 'm', 'M', 'x', 'sandbox')",
        "INSERT INTO article (id, marketplace_id, sku, title) VALUES (1, 1, 'A1', '')",
        "INSERT INTO pickup_point (id, marketplace_id, code, address) VALUES (1, 1, 'P1', '')",
    ]
    # Order 1 paused after a unit started, 2 paused before any, 3 cancelled, 4 running.
    for order_id, status, task_status in [
        (1, "paused", "purchased"),
        (2, "paused", "pending"),
        (3, "cancelled", "cancelled"),
        (4, "running", "running"),
    ]:
        rows += [
            'INSERT INTO "order" (id, client_id, marketplace_id, status, unit_rule, priority,'
            f" note, created_at, updated_at) VALUES ({order_id}, 1, 1, '{status}', 'per_job',"
            f" 0, '', {now}, {now})",
            "INSERT INTO order_line (id, order_id, line_no, article_id, pickup_point_id,"
            f" quantity) VALUES ({order_id}, {order_id}, 1, 1, 1, 1)",
            f"INSERT INTO job (id, order_id, order_line_id, quantity, status) VALUES ({order_id},"
            f" {order_id}, {order_id}, 1, 'queued')",
            f"INSERT INTO job_batch (id, job_id, seq, size) VALUES ({order_id}, {order_id}, 0, 1)",
            "INSERT INTO task (order_id, job_id, batch_id, unit_no, status, attempts,"
            f" created_at, updated_at) VALUES ({order_id}, {order_id}, {order_id}, 1,"
            f" '{task_status}', 0, {now}, {now})",
        ]
    with engine.begin() as conn:
        for sql in rows:
            conn.execute(text(sql))
    engine.dispose()

    db = Database(str(path))
    with db.reading() as s:
        orders = {o.id: (o.intent, o.status) for o in s.scalars(select(Order))}
    db.close()
    assert orders == {
        1: (OrderIntent.PAUSED, OrderStatus.RUNNING),
        2: (OrderIntent.PAUSED, OrderStatus.QUEUED),
        3: (OrderIntent.CANCELLED, OrderStatus.CANCELLED),
        4: (OrderIntent.RUN, OrderStatus.RUNNING),
    }
    shown = {i: shown_status(intent, status) for i, (intent, status) in orders.items()}
    assert shown == {
        1: OrderStatus.PAUSED,
        2: OrderStatus.PAUSED,
        3: OrderStatus.CANCELLED,
        4: OrderStatus.RUNNING,
    }


def test_a_plain_path_in_buyback_db_or_given_is_a_sqlite_file(tmp_path, monkeypatch) -> None:
    from app.core.storage.db import DB_ENV

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(DB_ENV, "~/env.sqlite3")
    from_env = Database()
    from_env.close()
    assert (tmp_path / "home" / "env.sqlite3").is_file()
    assert from_env.url == f"sqlite:///{tmp_path / 'home' / 'env.sqlite3'}"

    given = Database("sub/given.sqlite3")  # relative to where the command runs
    given.close()
    assert given.url == f"sqlite:///{tmp_path / 'sub' / 'given.sqlite3'}"
    assert (tmp_path / "sub" / "given.sqlite3").is_file()


@pytest.mark.parametrize(
    "value",
    [
        "postgres//x",
        "foo://",
        "file:/tmp/x.sqlite3",
        "postgresql://buyer:s3cret@db.example:port/buyback",
        "postgresql:/buyer:s3cret@db.example/buyback",
        "mssql+nosuchdriver://buyer:s3cret@db.example/buyback",
    ],
)
def test_a_bad_database_url_is_a_known_error_naming_it_without_its_password(
    tmp_path, monkeypatch, value
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KnownError) as refused:
        Database(value)
    said = str(refused.value)
    assert "\n" not in said and "s3cret" not in said
    assert value.replace("s3cret", "***").split("@")[-1] in said  # the host and name
    assert list(tmp_path.iterdir()) == []  # nothing made in its place


def test_a_database_password_is_never_shown() -> None:
    from app.core.storage.db import display_url

    assert display_url("postgresql://buyer:s3cret@db.example/buyback") == (
        "postgresql://buyer:***@db.example/buyback"
    )
    assert display_url("postgresql://buyer:s3cret@db.example:port/x") == (
        "postgresql://***@db.example:port/x"
    )
    assert display_url("sqlite:////data/console.sqlite3") == "sqlite:////data/console.sqlite3"


# -- writes held back and sent together in a group commit (db.defer) -----------------


class _Gone(Exception):
    pass


def _rename(old: str, new: str):
    """A unit of work that renames a Client, guarded: it must find `old`."""
    stmt = update(Client).where(Client.name == bindparam("_old")).values(name=bindparam("name"))

    def op(conn):
        defer(conn, stmt, {"_old": old, "name": new}, lost=lambda: _Gone(old), key=(Client, old))

    return op


def _clients(db: Database) -> list[str]:
    with db.reading() as s:
        return sorted(s.scalars(select(Client.name)))


async def test_a_held_write_that_finds_its_row_gone_fails_only_its_own_unit(db: Database) -> None:
    with db.session() as s:
        s.execute(insert(Client), [{"name": n} for n in ("a", "b", "c")])
        s.commit()
    results = await asyncio.gather(
        db.write(_rename("a", "a2")),
        db.write(_rename("x", "x2")),  # no such Client: its guard fails
        db.write(_rename("c", "c2")),
        db.write(lambda c: c.execute(insert(Client).values(name="d"))),
        return_exceptions=True,
    )
    assert [type(r).__name__ for r in results] == ["NoneType", "_Gone", "NoneType", "CursorResult"]
    assert _clients(db) == ["a2", "b", "c2", "d"]


async def test_a_held_write_that_breaks_a_constraint_fails_only_its_own_unit(db: Database) -> None:
    def add(name: str):
        return lambda c: defer(c, insert(Client), {"name": name})

    results = await asyncio.gather(
        db.write(add("a")), db.write(add("a")), db.write(add("b")), return_exceptions=True
    )
    assert [isinstance(r, IntegrityError) for r in results] == [False, True, False]
    assert _clients(db) == ["a", "b"]


async def test_a_read_sees_the_writes_held_before_it_in_the_same_group(db: Database) -> None:
    def add(name: str):
        return lambda c: defer(c, insert(Client), {"name": name})

    def count(conn) -> int:
        return conn.scalar(select(func.count()).select_from(Client))

    results = await asyncio.gather(
        db.write(add("a")), db.write(add("b")), db.write(count), db.write(add("c"))
    )
    assert results[2] == 2
    assert _clients(db) == ["a", "b", "c"]


async def test_a_guard_failing_inside_a_unit_that_catches_errors_still_fails_its_owner(
    db: Database,
) -> None:
    """A held write is sent before the next statement, which may be another unit's: that
    unit catching the error must not hide it from the unit it belongs to."""

    def careless(conn) -> str:
        try:
            conn.execute(insert(Client).values(name="e"))
        except Exception:
            return "caught"
        return "ok"

    results = await asyncio.gather(
        db.write(_rename("x", "x2")), db.write(careless), return_exceptions=True
    )
    assert isinstance(results[0], _Gone)
    assert results[1] == "ok"
    assert _clients(db) == ["e"]


@pytest.mark.sqlite_only  # the fast path is for positional dialects: SQLite's, not psycopg's
def test_execute_many_stores_what_connection_execute_stores(db: Database) -> None:
    """The executemany fast path binds values as SQLAlchemy does (times as UTC text)."""
    at = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=3)))
    rows = [{"name": "fast", "created_at": at}, {"name": "fast2", "created_at": at}]
    with db.engine.begin() as conn:
        assert execute_many(conn, insert(Client), rows) == 2
        conn.execute(insert(Client), [{"name": "slow", "created_at": at}])
        stored = dict(conn.exec_driver_sql("SELECT name, created_at FROM client").all())
    assert stored["fast"] == stored["slow"] == "2024-05-06 04:08:09.123456"
    with db.reading() as s:
        assert set(s.scalars(select(Client.created_at))) == {at}


def test_execute_many_stores_the_times_connection_execute_stores(db: Database) -> None:
    """Many rows in one statement (SQLite: VALUES, PostgreSQL: JSON rows) keep each
    row's time to the microsecond, whatever its zone, shared or not: the same instant in
    another zone, and the two instants a clock shows twice when it goes back (fold)."""
    at = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=3)))
    berlin = ZoneInfo("Europe/Berlin")
    first = datetime(2024, 10, 27, 2, 30, tzinfo=berlin)  # 00:30 UTC, summer time
    second = first.replace(fold=1)  # 01:30 UTC, an hour later; == first all the same
    times = {
        "fast": at,
        "later": at + timedelta(microseconds=1),
        "again": at,
        "in UTC": at.astimezone(UTC),
        "first 02:30": first,
        "second 02:30": second,
    }
    rows = [{"name": n, "created_at": t} for n, t in times.items()]
    with db.engine.begin() as conn:
        assert execute_many(conn, insert(Client), rows) == len(rows)
        conn.execute(insert(Client), [{"name": "slow", "created_at": at}])
    with db.reading() as s:
        stored = {n: t for n, t in s.execute(select(Client.name, Client.created_at))}
    # As instants in UTC: an aware time within a fold never equals one of another zone.
    assert stored == {n: t.astimezone(UTC) for n, t in (times | {"slow": at}).items()}
    assert stored["second 02:30"] - stored["first 02:30"] == timedelta(hours=1)


@pytest.mark.sqlite_only  # SQLite's one-statement path (db._Values)
def test_execute_many_updates_each_row_by_its_key_and_counts_the_rows_it_changed(
    db: Database, monkeypatch
) -> None:
    """Many rows go as one statement: a guarded row that finds nothing is not counted (the
    engine's guards read that count), the statement's own values hold on every row, and
    more rows than one statement may bind go in several."""
    monkeypatch.setattr(db_module, "_variable_limit", lambda: 7)  # 2 rows a statement
    names = [f"c{i}" for i in range(8)]
    with db.engine.begin() as conn:
        execute_many(conn, insert(Client), [{"name": n} for n in names])
    at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    rename = (
        update(Client)
        .where(Client.name == bindparam("old"), Client.id > bindparam("above", 0))
        .values(name=bindparam("new"), created_at=at)
    )
    rows = [{"old": n, "new": n.upper()} for n in names if n != "c3"]
    rows.insert(2, {"old": "gone", "new": "GONE"})  # its guard finds no row
    with db.engine.begin() as conn:
        assert execute_many(conn, rename, rows) == 7
    with db.reading() as s:
        stored = dict(s.execute(select(Client.name, Client.created_at)).all())
    assert sorted(stored) == ["C0", "C1", "C2", "C4", "C5", "C6", "C7", "c3"]
    assert {t for n, t in stored.items() if n != "c3"} == {at}


async def test_a_write_gets_over_a_server_that_dropped_the_writers_connection(
    pg_db_url: str, monkeypatch
) -> None:
    """The writer keeps its connection from one transaction to the next (it is not
    checked before each): when the server has dropped it (a restart, an administrator),
    the write that finds it gone runs again on a new one, and nothing is lost."""
    monkeypatch.setattr(db_module, "WRITER_IDLE_S", 3600.0)  # however slow this machine is
    db = Database(pg_db_url)

    def add(name: str):
        return lambda c: c.execute(insert(Client).values(name=name))

    def backend(conn) -> int:
        return int(conn.scalar(text("SELECT pg_backend_pid()")))

    try:
        await db.write(add("a"))
        first = await db.write(backend)
        assert await db.write(backend) == first  # the same connection, kept
        with db.reading() as s:
            assert s.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        await db.write(add("b"))
        assert await db.write(backend) != first
        assert _clients(db) == ["a", "b"]
    finally:
        db.close()
