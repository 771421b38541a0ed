"""Helpers shared by the tests: a seeded marketplace, a fast Supervisor, and readers of
what the database holds."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update

from app.core.accounts.admin import upsert_accounts
from app.core.domain.models import Base, Task
from app.core.drivers.base import PurchaseRequest
from app.core.drivers.memory import MemoryDriver
from app.core.engine.settings import EngineSettings, RetryPolicy
from app.core.orders.catalog import upsert_marketplace
from app.core.orders.create import create_order
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.supervisor import Supervisor

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


def held_order_in_statuses(db: Database, units: int, statuses: Sequence[str]) -> list[int]:
    """A held Order of `units` Tasks (one line) with the statuses given, in turn; the
    Tasks' ids."""
    seed_market(db, accounts=3)
    with db.engine.begin() as conn:
        create_order(
            conn,
            OrderSpec("Client", "mem", [LineSpec("A1", units, "P1")], hold=True),
            max_units_per_line=units,
        )
    with db.session() as s:
        ids = list(s.scalars(select(Task.id).order_by(Task.id)))
        for n, status in enumerate(statuses):
            s.execute(
                update(Task).where(Task.id.in_(ids[n :: len(statuses)])).values(status=status)
            )
        s.commit()
    return ids


def make_supervisor(
    db: Database, driver: MemoryDriver, *, concurrency: int = 4, **settings: object
) -> Supervisor:
    s = EngineSettings(concurrency=concurrency, poll_s=0.05, rollup_s=0.05, retry=FAST_RETRY)
    for k, v in settings.items():
        setattr(s, k, v)
    return Supervisor(db, lambda _m: driver, settings=s)


def row_counts(db: Database) -> dict[str, int]:
    """Rows in every table: to show that a refused input wrote nothing. The key's check
    value is left out: any command stores it the first time it opens the database."""
    with db.reading() as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
            # What every run writes about itself, not what the input did.
            if t.name not in ("secret_check", "worker", "commit_token", "team_setting")
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


async def wait_for(condition, timeout: float = 10.0, interval: float = 0.01, *, what: str = ""):
    """Polls `condition()` (a plain or async function) every `interval` seconds until it
    returns something true, and returns that. At the deadline it fails with an
    AssertionError naming what was awaited (`what`, else the condition's source line) and
    what it last returned. For asyncio tests; Qt tests use `qtbot.waitUntil`."""
    import inspect

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() >= deadline:
            if not what:
                try:
                    what = inspect.getsource(condition).strip()
                except (OSError, TypeError):
                    what = getattr(condition, "__qualname__", repr(condition))
            raise AssertionError(
                f"not reached within {timeout:g} s: {what} (last returned {value!r})"
            )
        await asyncio.sleep(interval)


def run_main(
    tmp_path: Path, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """`main.py ARGS` as an operator runs it, with the user's data and log folders inside
    `tmp_path` (the key file comes from conftest) and `env` added to the environment."""
    folders = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state")}
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **folders, **env},
    )
