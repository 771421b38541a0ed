"""Helpers shared by the tests: a seeded marketplace, a fast Supervisor, and readers of
what the database holds."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from app.core.domain.models import Base
from app.core.drivers.base import PurchaseRequest
from app.core.drivers.memory import MemoryDriver
from app.core.engine.context import EngineSettings
from app.core.orders.catalog import upsert_accounts, upsert_marketplace
from app.core.storage.db import Database
from app.core.supervisor import Supervisor
from app.core.task import RetryPolicy

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Market:
    id: int
    code: str


def seed_market(db: Database, accounts: int, code: str = "mem") -> Market:
    with db.session() as s:
        mp = upsert_marketplace(
            s,
            code=code,
            name=f"Market {code}",
            base_url=f"{code}://",
            driver="memory",
            articles=[("A1", "Kettle"), ("A2", "Mug"), ("A3", "Bag")],
            pickup_points=[("P1", "Tverskaya 1"), ("P2", "Lenina 2")],
        )
        upsert_accounts(s, mp.id, [(f"{code}-acc{i:03d}", "pw") for i in range(accounts)])
        s.commit()
        return Market(mp.id, code)


FAST_RETRY = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)


def make_supervisor(
    db: Database, driver: MemoryDriver, *, concurrency: int = 4, **settings: object
) -> Supervisor:
    s = EngineSettings(concurrency=concurrency, poll_s=0.05, rollup_s=0.05, retry=FAST_RETRY)
    for k, v in settings.items():
        setattr(s, k, v)
    return Supervisor(db, lambda _m: driver, settings=s)


def row_counts(db: Database) -> dict[str, int]:
    """Rows in every table: to show that a refused input wrote nothing."""
    with db.session() as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }


def tasks(db: Database, order_id: int | None = None) -> list:
    """(id, job_id, status, account login, attempts, last_error) of every Task."""
    from app.core.domain.models import MarketPlaceAccount, Task

    with db.session() as s:
        q = (
            select(
                Task.id,
                Task.job_id,
                Task.status,
                MarketPlaceAccount.login,
                Task.attempts,
                Task.last_error,
            )
            .outerjoin(MarketPlaceAccount, MarketPlaceAccount.id == Task.account_id)
            .order_by(Task.id)
        )
        if order_id is not None:
            q = q.where(Task.order_id == order_id)
        return list(s.execute(q).all())


def history(db: Database, task_id: int) -> list[str]:
    """The Task's states in order, from its TaskEvents."""
    from app.core.domain.models import TaskEvent

    with db.session() as s:
        return list(
            s.scalars(
                select(TaskEvent.to_status)
                .where(TaskEvent.task_id == task_id)
                .order_by(TaskEvent.id)
            )
        )


class GatedDriver(MemoryDriver):
    """Holds every purchase until released, counting how many run at once."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.now = 0
        self.peak = 0
        self.started = 0

    async def purchase(self, request: PurchaseRequest, before_submit):  # type: ignore[override]
        self.now += 1
        self.started += 1
        self.peak = max(self.peak, self.now)
        try:
            await self.gate.wait()
            return await super().purchase(request, before_submit)
        finally:
            self.now -= 1
