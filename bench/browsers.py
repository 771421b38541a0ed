"""Real purchases in Chromium on the sandbox marketplace: throughput and browser memory.

    python -m bench.browsers --units 40 --concurrency 8 --json

The sandbox runs as its own process; the engine drives one shared browser with one
context per running purchase. Memory is the summed PSS of the browser's processes,
sampled every 0.2 s. For comparison the benchmark then measures one fresh browser doing
one purchase: what every account would cost if each had a browser of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import psutil

from app.core.engine.market_drivers import DriverOptions, driver_factory
from app.core.engine.rollup import order_progress
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.supervisor import Supervisor
from app.demo import seed_sandbox
from app.sandbox.process import SandboxProcess
from bench.common import report

ROOT = Path(__file__).resolve().parents[1]


def browser_mb() -> float:
    """Summed PSS (RSS where PSS is unavailable) of the browser processes under us."""
    total = 0
    for proc in psutil.Process(os.getpid()).children(recursive=True):
        try:
            name = proc.name().lower()
            if "chrom" not in name and "headless" not in name and "msedge" not in name:
                continue
            try:
                total += proc.memory_full_info().pss
            except (psutil.AccessDenied, AttributeError):
                total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


class Sampler:
    """Records the peak of browser memory while a run goes on."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, await asyncio.to_thread(browser_mb))
            try:
                await asyncio.wait_for(self._stop.wait(), 0.2)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stop.set()


async def buy(
    db: Database, units: int, concurrency: int, article: str
) -> tuple[float, float, float, int]:
    """Runs one Order; returns (seconds, idle browser MB, peak browser MB, purchased)."""
    sup = Supervisor(
        db, driver_factory(db, DriverOptions()), settings=EngineSettings(concurrency=concurrency)
    )
    order_id = await sup.submit(
        OrderSpec("Bench", "sandbox", [LineSpec(article, units, "PVZ-001")])
    )
    # Start the browser first, to tell the idle browser apart from the purchases.
    await sup.warm_up()
    await asyncio.sleep(0.5)
    idle = browser_mb()
    sampler = Sampler()
    sampling = asyncio.create_task(sampler.run())
    started = time.perf_counter()
    await sup.run(until_idle=True)
    seconds = time.perf_counter() - started
    sampler.stop()
    await sampling
    return seconds, idle, sampler.peak, (await order_progress(db, order_id)).purchased


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    accounts = args.units + 1  # one account per unit, and one for the lone browser
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxProcess(Path(tmp) / "ledger.sqlite3", "--accounts", str(accounts)) as shop,
    ):
        db = Database(f"{tmp}/console.sqlite3")
        seed_sandbox(db, shop.url, accounts)
        seconds, idle, peak, purchased = asyncio.run(
            buy(db, args.units, args.concurrency, "100001")
        )
        _, _, alone_peak, _ = asyncio.run(buy(db, 1, 1, "100002"))
        db.close()
    per_purchase = (peak - idle) / args.concurrency
    report(
        {
            "units": args.units,
            "concurrency": args.concurrency,
            "purchased": purchased,
            "seconds": round(seconds, 2),
            "purchases_per_s": round(purchased / seconds, 3),
            "idle_browser_mb": round(idle, 1),
            "peak_browser_mb": round(peak, 1),
            "mb_per_concurrent_purchase": round(per_purchase, 1),
            "separate_browser_mb": round(alone_peak, 1),
            "separate_browsers_mb_at_this_concurrency": round(alone_peak * args.concurrency, 1),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
