"""`python main.py worker` as a team's extra machine runs it: a process of its own on the
database, buying in real browsers on the sandbox shop (its own process too) until it is
stopped. It keeps working after the queue is empty and takes Orders submitted later; on
SIGTERM it starts no new purchase, records the ones under way and exits 0, its worker row
marked stopped; its output says what happened, one line at a time."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT
from sqlalchemy import make_url, select

from app.core.domain.models import BuyBack, Task, Worker
from app.core.domain.states import ACTIVE
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database, display_url
from app.core.supervisor import Supervisor
from app.demo import seed_sandbox
from app.sandbox.process import SandboxProcess

pytestmark = pytest.mark.browser


class WorkerProcess:
    """`main.py worker --db FILE ...` started as an operator starts it, its output in a
    file the test reads while it runs."""

    def __init__(self, tmp_path: Path, db: Path | str, *options: str):
        self.out = tmp_path / "worker.out"
        folders = {
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
        }
        with self.out.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "main.py", "worker", "--db", str(db), *options],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, **folders},
            )

    def output(self) -> str:
        return self.out.read_text()

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 60) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=20)


def until(
    worker: WorkerProcess, condition: Callable[[], Any], what: str, timeout: float = 90
) -> Any:
    """Polls `condition()` every 50 ms until it returns something true; fails at the
    deadline, or as soon as the worker is gone, naming what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        code = worker.proc.poll()
        assert code is None, f"the worker exited ({code}) before {what}:\n{worker.output()}"
        assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
        time.sleep(0.05)


def submit(db: Database, units: int, article: str = "100001") -> int:
    sup = Supervisor(db, driver_factory(db, DriverOptions()))
    return asyncio.run(
        sup.submit(OrderSpec("Клиент", "sandbox", [LineSpec(article, units, "PVZ-001")]))
    )


def statuses(db: Database) -> list[str]:
    with db.session() as s:  # a new session each time: one keeps its snapshot
        return [str(v) for v in s.scalars(select(Task.status).order_by(Task.id))]


def workers(db: Database) -> list[tuple[str, str, bool]]:
    """(id, kind, stopped) of every worker row."""
    with db.session() as s:
        rows = s.execute(select(Worker.id, Worker.kind, Worker.stopped_at)).all()
    return [(r.id, str(r.kind), r.stopped_at is not None) for r in rows]


BOTH = pytest.mark.parametrize("db_kind", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def setup(tmp_path: Path, db_url: str) -> Iterator[Callable[..., tuple[SandboxProcess, Database]]]:
    """A sandbox shop (options: its fault knobs) and the test's database (a SQLite file,
    or a PostgreSQL database as a team shares) seeded with its accounts."""
    opened: list[tuple[SandboxProcess, Database]] = []

    def make(*shop_options: str) -> tuple[SandboxProcess, Database]:
        shop = SandboxProcess(tmp_path / "ledger.sqlite3", *shop_options).__enter__()
        db = Database(db_url)
        opened.append((shop, db))
        seed_sandbox(db, shop.url, accounts=10)
        return shop, db

    yield make
    for shop, db in opened:
        db.close()
        shop.__exit__(None, None, None)


@BOTH
def test_a_worker_buys_queued_and_later_orders_until_stopped(setup, tmp_path, db_url) -> None:
    shop, db = setup()
    first = submit(db, 2)
    worker = WorkerProcess(tmp_path, db_url, "--concurrency", "2")
    try:
        until(worker, lambda: statuses(db) == ["purchased"] * 2, "the first Order bought")
        # The queue is empty now; a worker is no `run --until-idle`: it waits for more.
        second = submit(db, 1, article="100002")
        until(worker, lambda: statuses(db) == ["purchased"] * 3, "the Order submitted later bought")
        until(worker, lambda: f"order {second}: purchased" in worker.output(), "its Order's line")
        assert worker.proc.poll() is None
        assert worker.stop() == 0, worker.output()
    finally:
        worker.kill()

    with db.session() as s:
        recorded = set(s.scalars(select(BuyBack.order_number)))
    assert {o["order_number"] for o in shop.orders()} == recorded and len(recorded) == 3
    [(worker_id, kind, stopped)] = workers(db)
    assert (kind, stopped) == ("worker", True)

    lines = worker.output().splitlines()
    started = [line for line in lines if "started as worker" in line]
    assert len(started) == 1 and worker_id in started[0]
    assert display_url(db_url) in started[0]
    password = make_url(db_url).password
    assert not password or str(password) not in worker.output()
    bought = [line for line in lines if "purchased: task" in line]
    assert len(bought) == 3 and all("marketplace order" in line for line in bought)
    assert sorted(n for line in bought for n in recorded if n in line) == sorted(recorded)
    assert f"order {first}: purchased, 2 of 2 units bought" in worker.output()
    assert any("stopping (SIGTERM)" in line for line in lines)
    assert "3 units bought, 0 failed" in lines[-1] and "stopped after" in lines[-1]


@BOTH
def test_sigterm_during_a_purchase_records_it_and_exits_0(setup, tmp_path, db_url) -> None:
    shop, db = setup("--latency-ms", "300")
    submit(db, 8)
    worker = WorkerProcess(tmp_path, db_url, "--concurrency", "2")
    try:
        until(worker, lambda: {"running", "submitting"} & set(statuses(db)), "a purchase under way")
        assert worker.stop() == 0, worker.output()
    finally:
        worker.kill()

    now = statuses(db)
    assert not set(now) & ACTIVE, now  # nothing left assigned, running or submitting
    assert 0 < now.count("purchased") < 8, now  # it stopped early, after finishing
    with db.session() as s:
        recorded = set(s.scalars(select(BuyBack.order_number)))
    assert {o["order_number"] for o in shop.orders()} == recorded
    [(_id, kind, stopped)] = workers(db)
    assert (kind, stopped) == ("worker", True)
    out = worker.output()
    assert "stopping (SIGTERM): no new purchase starts" in out
    assert f"{now.count('purchased')} unit" in out.splitlines()[-1]


def test_a_damaged_database_is_said_in_one_line_with_exit_2(tmp_path: Path) -> None:
    damaged = tmp_path / "console.sqlite3"
    damaged.write_text("not a database: a text file saved over it by mistake, long enough\n")
    worker = WorkerProcess(tmp_path, damaged)
    assert worker.proc.wait(timeout=60) == 2
    [line] = worker.output().strip().splitlines()
    assert line.startswith("error: Cannot open the database") and "damaged" in line
    assert "started as worker" not in worker.output()
