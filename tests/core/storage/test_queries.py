"""The read queries behind the console's figures."""

from __future__ import annotations

from helpers import make_supervisor

from app.core.drivers.memory import MemoryDriver
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.queries import status_counts


async def test_the_status_bar_counts_finished_orders_too(db, market) -> None:
    """An Order that ended with a failed unit still counts: the figures never shrink as
    Orders finish (they once read "Failed 0" beside an Order with a failure)."""
    sup = make_supervisor(db, MemoryDriver(prices={"A2": 500_000}))
    await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 2, "P1")]))
    await sup.submit(OrderSpec("C", "mem", [LineSpec("A2", 1, "P1", "100")]))  # over the cap
    await sup.run(until_idle=True)

    with db.reading() as s:
        counts = status_counts(s)
    assert counts == {"purchased": 2, "failed": 1}
