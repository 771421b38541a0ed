"""Storage faults: a full disk stops new purchases with a clear message and loses nothing
already recorded; after the fault is fixed, a restart settles every unit exactly once. A
damaged database file is refused with a message saying what to do."""

from __future__ import annotations

from collections import Counter

import pytest
from helpers import make_supervisor, seed_market, tasks
from sqlalchemy import event, select

from app.core.domain.models import BuyBack
from app.core.drivers.memory import MemoryDriver
from app.core.engine.events import EngineNotice
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.storage.errors import Fault
from app.core.support.errors import KnownError


def fill_the_disk_soon(db: Database, spare_pages: int) -> None:
    """From now on the database file may grow by only a few pages, as on a full disk:
    SQLite then answers "database or disk is full", like the real thing."""
    with db.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def limit(dbapi_conn, _record) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + spare_pages}")

    event.listen(db.engine, "connect", limit)
    db.engine.dispose()  # every connection from now on has the limit


async def test_full_disk_stops_purchases_and_a_restart_settles_every_unit(tmp_path) -> None:
    path = str(tmp_path / "console.sqlite3")
    db = Database(path)
    seed_market(db, accounts=300)
    shop = MemoryDriver()  # the marketplace: its ledger outlives the console
    sup = make_supervisor(db, shop, concurrency=8)
    order_id = await sup.submit(
        OrderSpec("C", "mem", [LineSpec("A1", 150, "P1"), LineSpec("A2", 150, "P2")])
    )
    notices = sup.bus.subscribe()
    fill_the_disk_soon(db, spare_pages=4)

    await sup.run(until_idle=True)

    messages = [e.message for e in notices.drain() if isinstance(e, EngineNotice)]
    said = sup.ctx.fault.purchases_stopped()
    assert messages.count(said) == 1  # said once, however many writes failed
    assert said.startswith("Purchases stopped: the disk is full; free some space")
    assert sup.ctx.fault.fault is Fault.DISK_FULL
    bought_before_restart = len(shop.ledger)
    assert 0 < bought_before_restart < 300  # it stopped early
    with db.session() as s:
        recorded = set(s.scalars(select(BuyBack.order_number)))
    assert recorded <= {r.order_number for _, _, r in shop.ledger}  # nothing invented
    db.close()

    # The operator frees disk space and starts the console again.
    db = Database(path)
    restarted = make_supervisor(db, shop, concurrency=8)
    await restarted.run(until_idle=True)
    rows = tasks(db, order_id)
    assert Counter(r.status for r in rows) == {"purchased": 300}
    with db.session() as s:
        recorded = sorted(s.scalars(select(BuyBack.order_number)))
    assert recorded == sorted(r.order_number for _, _, r in shop.ledger)  # once each, none lost
    assert len(shop.ledger) == 300
    db.close()


def test_a_damaged_database_file_is_refused_with_advice(tmp_path) -> None:
    path = tmp_path / "console.sqlite3"
    path.write_bytes(b"this is not a database" * 1000)
    with pytest.raises(KnownError, match="Cannot open the database"):
        Database(str(path))
    assert path.read_bytes().startswith(b"this is not a database")  # left as it was
