"""Engine throughput: the real Supervisor, TaskManagers and Tasks on a real SQLite file,
with an instant in-memory driver, so that only the engine's own cost is measured.

    python -m bench.engine --units 10000 --json

Target: units_per_s >= 1000 (the engine must never be the bottleneck next to browsers).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from app.core.domain.models import BuyBack, TaskEvent
from app.core.drivers.memory import MemoryDriver
from app.core.engine.rollup import order_progress
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.supervisor import Supervisor
from bench.common import report, rss_mb, seed_memory_market


async def measure(db: Database, units: int, concurrency: int, line_size: int) -> dict:
    driver = MemoryDriver()
    settings = EngineSettings(concurrency=concurrency, max_units_per_line=line_size)
    sup = Supervisor(db, lambda _m: driver, settings=settings)
    sizes = [line_size] * (units // line_size) + ([units % line_size] if units % line_size else [])
    articles = [f"A{i % 10}" for i in range(len(sizes))]
    spec = OrderSpec(
        "Bench", "bench", [LineSpec(a, n, "P1") for a, n in zip(articles, sizes, strict=True)]
    )
    started = time.perf_counter()
    order_id = await sup.submit(spec)
    submitted = time.perf_counter()
    await sup.run(until_idle=True)
    finished = time.perf_counter()
    progress = await order_progress(db, order_id)
    counts = await db.read(
        lambda s: (
            s.scalar(select(func.count()).select_from(BuyBack)),
            s.scalar(select(func.count()).select_from(TaskEvent)),
        )
    )
    seconds = finished - started
    return {
        "units": units,
        "concurrency": concurrency,
        "purchased": progress.purchased,
        "buybacks_recorded": counts[0],
        "task_events": counts[1],
        "driver_purchases": len(driver.ledger),
        "submit_seconds": round(submitted - started, 3),
        "seconds": round(seconds, 3),
        "units_per_s": round(units / seconds, 1),
        "rss_mb": round(rss_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--line-size", type=int, default=1000, help="units per order line (Job)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(str(Path(tmp) / "bench.sqlite3"))
        # One unit of a Job per account (the default rule): a Job needs as many
        # accounts as it has units.
        seed_memory_market(db, min(args.units, args.line_size))
        result = asyncio.run(measure(db, args.units, args.concurrency, args.line_size))
        result["db_mb"] = round((Path(tmp) / "bench.sqlite3").stat().st_size / 2**20, 1)
        db.close()
    report(result, args.json)


if __name__ == "__main__":
    main()
