"""Crash safety under fire: the sandbox shop as its own process with faults on (HTTP 5xx,
slow pages, expired sessions, connections dropped right after an order is recorded), the
headless engine (`main.py run --until-idle`) as another, killed with SIGKILL at random
moments and restarted, then the console's database compared with the shop's ledger.

    python -m bench.chaos --units 300 --kills 10 --json

Last line: units, purchased, lost (units neither bought nor settled), duplicated (units
bought beyond what a line ordered), mismatched (purchases on one side only),
needs_review, kills, seconds. Target: lost, duplicated and mismatched all 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.core.domain.models import Article, BuyBack, Job, OrderLine, PickupPoint, Task
from app.core.domain.states import SETTLED, UnitRule
from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.supervisor import Supervisor
from app.demo import seed_sandbox
from app.sandbox import seed
from app.sandbox.process import ROOT, SandboxProcess
from bench.common import report

LINE_SIZE = 30  # units per order line; each line needs this many accounts (one unit each)
FAULTS = (
    "--error-rate",
    "0.05",
    "--crash-after-order-rate",
    "0.05",
    "--session-expiry-rate",
    "0.02",
    "--latency-ms",
    "30",
    "--delivery-seconds",
    "3600",
)


def chaos_order(units: int, unit_rule: UnitRule = UnitRule.PER_JOB) -> OrderSpec:
    lines = []
    for i in range((units + LINE_SIZE - 1) // LINE_SIZE):
        article = seed.ARTICLES[i % len(seed.ARTICLES)].sku
        point = seed.PICKUP_POINTS[i % len(seed.PICKUP_POINTS)].code
        lines.append(LineSpec(article, min(LINE_SIZE, units - i * LINE_SIZE), point))
    return OrderSpec("Chaos", seed.MARKETPLACE_CODE, lines, unit_rule=unit_rule)


def faulty_shop(folder: Path, accounts: int, rng_seed: int) -> SandboxProcess:
    """The sandbox shop as its own process with FAULTS on, its ledger in `folder`."""
    return SandboxProcess(
        folder / "ledger.sqlite3", "--accounts", str(accounts), "--seed", str(rng_seed), *FAULTS
    )


def prepare(db_url: str, shop_url: str, accounts: int, spec: OrderSpec) -> None:
    """The console's database: the shop at `shop_url` with `accounts` demo accounts, and
    the Order `spec` submitted (queued for the engine processes)."""
    db = Database(db_url)
    try:
        seed_sandbox(db, shop_url, accounts)
        sup = Supervisor(db, driver_factory(db, DriverOptions()))
        asyncio.run(sup.submit(spec))
    finally:
        db.close()


def main_py(
    args: Sequence[str],
    *,
    wrapper: Sequence[str] = (),
    output: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`main.py ARGS` (run through `wrapper`, a command that runs the rest of its line) in
    a process group of its own with its browser; its stdout and stderr go to `output`."""
    with open(output or os.devnull, "wb") as out:
        return subprocess.Popen(
            [*wrapper, sys.executable, "main.py", *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=None if env is None else {**os.environ, **env},
            start_new_session=True,
        )


def engine(db: str, concurrency: int) -> subprocess.Popen[bytes]:
    """The console's headless engine until idle, its output dropped."""
    return main_py(["run", "--until-idle", "--db", db, "--concurrency", str(concurrency)])


def kill(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # the engine and its browser, with no warning
    proc.wait()


def compare(db: Database, ledger: list[dict], units: int) -> dict[str, Any]:
    with db.session() as s:
        statuses = Counter(str(st) for st in s.scalars(select(Task.status)))
        recorded = set(s.scalars(select(BuyBack.order_number)))
        lines = s.execute(
            select(Article.sku, PickupPoint.code, OrderLine.quantity)
            .join(Article, Article.id == OrderLine.article_id)
            .join(PickupPoint, PickupPoint.id == OrderLine.pickup_point_id)
            .join(Job, Job.order_line_id == OrderLine.id)
        ).all()
    in_shop = {o["order_number"] for o in ledger}
    per_line = Counter((o["article"], o["pickup_point"]) for o in ledger)
    duplicated = sum(max(0, per_line[(sku, point)] - qty) for sku, point, qty in lines)
    return {
        "units": units,
        "purchased": statuses["purchased"] + statuses["delivered"],
        "failed": statuses["failed"],
        "lost": sum(n for st, n in statuses.items() if st not in SETTLED),
        "duplicated": duplicated,
        "mismatched": len(in_shop ^ recorded),
        "needs_review": statuses["needs_review"],
        "shop_orders": len(in_shop),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--min-s", type=float, default=3.0, help="earliest kill after a start")
    parser.add_argument("--max-s", type=float, default=15.0, help="latest kill after a start")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    accounts = LINE_SIZE + 10
    with tempfile.TemporaryDirectory() as tmp:
        db_path = str(Path(tmp) / "console.sqlite3")
        with faulty_shop(Path(tmp), accounts, args.seed) as shop:
            prepare(db_path, shop.url, accounts, chaos_order(args.units))
            kills = 0
            while kills < args.kills:
                proc = engine(db_path, args.concurrency)
                try:
                    proc.wait(timeout=rng.uniform(args.min_s, args.max_s))
                    break  # it finished before the next kill
                except subprocess.TimeoutExpired:
                    kill(proc)
                    kills += 1
            final = engine(db_path, args.concurrency)
            final.wait(timeout=3600)
            db = Database(db_path)
            result = compare(db, shop.orders(), args.units)
            db.close()
    result.update({"kills": kills, "seconds": round(time.monotonic() - started, 1)})
    report(result, args.json)


if __name__ == "__main__":
    main()
