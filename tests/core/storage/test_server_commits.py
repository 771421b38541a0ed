"""On a database server: a COMMIT whose answer is lost is settled by its token (nothing
done twice, nothing lost), and consoles and workers that start together on an empty
database migrate it once. PostgreSQL only: a SQLite COMMIT is never ambiguous, and one
file is migrated under SQLite's own lock."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest
from helpers import make_supervisor, seed_market, tasks
from pg_server import Server
from sqlalchemy import select

from app.core.domain.models import Order
from app.core.drivers.memory import MemoryDriver
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database, display_url


@pytest.fixture
def server_db(pg_db_url: str) -> Iterator[Database]:
    database = Database(pg_db_url)
    yield database
    database.close()


def lose_answers(db: Database, monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """The next `times` COMMITs happen on the server, but their answer is lost on the
    way back (the connection breaks), as a network cut at the wrong moment does."""
    real = db.engine.dialect.do_commit
    lost: list[int] = []

    def commit(dbapi_connection: psycopg.Connection) -> None:
        real(dbapi_connection)
        if len(lost) < times:
            lost.append(1)
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(db.engine.dialect, "do_commit", commit)
    return lost


async def test_an_order_whose_commit_answer_was_lost_is_created_once(
    server_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_market(server_db, accounts=5)
    sup = make_supervisor(server_db, MemoryDriver())
    lost = lose_answers(server_db, monkeypatch, times=1)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 3, "P1")]))
    assert lost == [1]  # the answer was lost, and the submit still says which Order
    with server_db.reading() as s:
        assert s.scalars(select(Order.id)).all() == [order_id]
    assert len(tasks(server_db, order_id)) == 3


async def test_purchases_whose_commit_answers_were_lost_are_recorded_once(
    server_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group-committed state changes of several units: the answers of some commits are
    lost; every unit is still bought exactly once and the engine goes on."""
    seed_market(server_db, accounts=10)
    driver = MemoryDriver()
    sup = make_supervisor(server_db, driver)
    order_id = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 6, "P1")]))
    lost = lose_answers(server_db, monkeypatch, times=5)
    await sup.run(until_idle=True)
    assert len(lost) == 5
    assert [t.status for t in tasks(server_db, order_id)] == ["purchased"] * 6
    assert len(driver.ledger) == 6
    assert sup.ctx.fault is None


_OPEN = """
import sys
from app.core.storage.db import Database
Database(sys.argv[1]).close()
print("opened")
"""


def test_three_workers_starting_together_migrate_an_empty_database_once(
    pg_server: Server,
) -> None:
    name = pg_server.create_database()
    url = pg_server.database_url(name)
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _OPEN, url],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        results = [p.communicate(timeout=120) for p in procs]
        for (out, err), p in zip(results, procs, strict=True):
            assert p.returncode == 0, err
            assert out.strip() == "opened"
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            versions = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        assert len(versions) == 1
        # The password of the URL shows nowhere in what they said.
        password = url.split(":")[2].split("@")[0]
        assert all(password not in out + err for out, err in results)
    finally:
        pg_server.drop_database(name)


def test_an_unreachable_server_is_named_without_its_password() -> None:
    url = "postgresql+psycopg://buyer:s3cret-pw@127.0.0.1:1/buyback"
    with pytest.raises(Exception) as caught:
        Database(url)
    text = str(caught.value)
    assert "s3cret-pw" not in text and display_url(url) in text
