"""End to end, as an operator or CI would run it: the sandbox marketplace as its own
process, the console's commands as another, a real browser and a real database file.
The sandbox's ledger is the independent truth the console's records are checked against."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT
from sqlalchemy import select

from app.core.domain.models import BuyBack, Job, MarketPlaceAccount, OrderLine, PickupPoint, Task
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.supervisor import Supervisor
from app.demo import seed_sandbox
from app.sandbox.process import SandboxProcess

pytestmark = pytest.mark.browser


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    with SandboxProcess(tmp_path / "ledger.sqlite3") as shop:
        yield shop
    assert shop.returncode == 0


def console(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_demo_buys_every_unit_and_the_shop_agrees(sandbox: SandboxProcess, tmp_path: Path) -> None:
    db_path = tmp_path / "console.sqlite3"
    done = console(
        "demo",
        "--units",
        "6",
        "--concurrency",
        "3",
        "--marketplace-url",
        sandbox.url,
        "--db",
        str(db_path),
        "--json",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["units"] == 6 and summary["purchased"] == 6 and summary["failed"] == 0

    orders = sandbox.orders()
    assert len(orders) == 6
    assert sorted(o["order_number"] for o in orders) == sorted(summary["order_numbers"])
    assert len({o["login"] for o in orders}) == 6  # each unit by a different account

    # The console's own records match the shop's, unit by unit.
    db = Database(str(db_path))
    with db.session() as s:
        rows = s.execute(
            select(
                BuyBack.order_number,
                MarketPlaceAccount.login,
                PickupPoint.code,
                BuyBack.price_minor,
            )
            .join(MarketPlaceAccount, MarketPlaceAccount.id == BuyBack.account_id)
            .join(Task, Task.id == BuyBack.task_id)
            .join(Job, Job.id == Task.job_id)
            .join(OrderLine, OrderLine.id == Job.order_line_id)
            .join(PickupPoint, PickupPoint.id == OrderLine.pickup_point_id)
        ).all()
    db.close()
    mine = {n: (login, point, price) for n, login, point, price in rows}
    theirs = {o["order_number"]: (o["login"], o["pickup_point"], o["price_minor"]) for o in orders}
    assert mine == theirs


def test_run_until_idle_processes_a_queued_order(sandbox: SandboxProcess, tmp_path: Path) -> None:
    db_path = tmp_path / "console.sqlite3"
    db = Database(str(db_path))
    seed_sandbox(db, sandbox.url, accounts=10)
    sup = Supervisor(db, driver_factory(db, DriverOptions()))
    spec = OrderSpec("Клиент", "sandbox", [LineSpec("100005", 2, "PVZ-004")])
    asyncio.run(sup.submit(spec))
    db.close()

    done = console("run", "--until-idle", "--db", str(db_path))
    assert done.returncode == 0, done.stdout + done.stderr
    orders = sandbox.orders()
    assert [(o["article"], o["pickup_point"]) for o in orders] == [("100005", "PVZ-004")] * 2
    assert len({o["login"] for o in orders}) == 2


def test_sigterm_lets_running_purchases_finish_and_be_recorded(tmp_path: Path) -> None:
    import signal
    import time

    from app.core.domain.states import ACTIVE

    with SandboxProcess(tmp_path / "ledger.sqlite3", "--latency-ms", "300") as shop:
        db_path = tmp_path / "console.sqlite3"
        db = Database(str(db_path))
        seed_sandbox(db, shop.url, accounts=10)
        sup = Supervisor(db, driver_factory(db, DriverOptions()))
        asyncio.run(sup.submit(OrderSpec("Клиент", "sandbox", [LineSpec("100001", 8, "PVZ-001")])))
        engine = subprocess.Popen(
            [sys.executable, "main.py", "run", "--db", str(db_path), "--concurrency", "2"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        started = select(Task.id).where(Task.status.in_(("running", "submitting")))
        while True:
            with db.session() as s:  # a new read each time: a session keeps its snapshot
                if s.scalar(started):
                    break
            assert time.monotonic() < deadline, "no purchase started"
            time.sleep(0.05)
        engine.send_signal(signal.SIGTERM)
        assert engine.wait(timeout=60) == 0
        assert "Stopping" in engine.stderr.read()
        with db.session() as s:
            statuses = list(s.scalars(select(Task.status)))
            recorded = set(s.scalars(select(BuyBack.order_number)))
        db.close()
        assert not set(statuses) & ACTIVE  # nothing left mid-purchase
        assert 0 < statuses.count("purchased") < 8  # it stopped early, after finishing
        assert {o["order_number"] for o in shop.orders()} == recorded


def test_version_and_selftest() -> None:
    from app import __version__

    shown = console("--version", timeout=60)
    assert shown.returncode == 0 and shown.stdout.strip() == f"Buyback console {__version__}"
    done = console("selftest", "--json", timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["purchased"] == summary["units"] == 1 and summary["order_numbers"]
    assert "selftest: passed" in done.stderr
