"""The live Tasks table under load: the real MainWindow (Tasks model and view) offscreen,
over a real SQLite file with many Tasks, fed engine events at a steady rate while the view
scrolls.

    python -m bench.ui_table --tasks 100000 --rate 2000 --seconds 10 --json

A 5 ms timer on the GUI thread measures how long the event loop was blocked: its
lateness is the stall an operator would feel. Targets: max_stall_ms <= 50, rss_mb <= 400.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


from app.core.drivers.memory import MemoryDriver
from app.core.engine.events import TaskChanged
from app.core.orders.create import create_order
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.core.storage.db import Database
from bench.common import report, rss_mb, seed_memory_market

STATUSES = ["assigned", "running", "submitting", "purchased", "retry_wait", "failed"]


def seed(db: Database, tasks: int) -> None:
    seed_memory_market(db, 1000)
    per_line = 1000
    lines = [
        LineSpec(f"A{i % 10}", min(per_line, tasks - i * per_line), "P1")
        for i in range((tasks + per_line - 1) // per_line)
    ]
    with db.engine.begin() as conn:
        # Held (paused): the engine stays idle while the bench feeds its own events.
        create_order(
            conn, OrderSpec("Bench", "bench", lines, hold=True), max_units_per_line=per_line
        )


def produce(
    service: EngineService, tasks: int, rate: int, seconds: float, stop: threading.Event
) -> None:
    """Publishes TaskChanged events at `rate` per second, in 10 ms bursts."""
    rng = random.Random(7)
    per_burst = max(1, rate // 100)
    deadline = time.monotonic() + seconds
    next_at = time.monotonic()
    while time.monotonic() < deadline and not stop.is_set():
        now = datetime.now(UTC)
        for _ in range(per_burst):
            task_id = rng.randint(1, tasks)
            status = rng.choice(STATUSES)
            service.bus.publish(
                TaskChanged(
                    task_id,
                    1,
                    1,
                    status,
                    now,
                    attempts=rng.randint(1, 3),
                    order_number=f"SB-{task_id:08d}" if status == "purchased" else None,
                )
            )
        next_at += 0.01
        time.sleep(max(0.0, next_at - time.monotonic()))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100000)
    parser.add_argument("--rate", type=int, default=2000, help="events per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.app import settle_heap
    from app.ui.window.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(str(Path(tmp) / "bench.sqlite3"))
        t0 = time.perf_counter()
        seed(db, args.tasks)
        seed_s = time.perf_counter() - t0
        service = EngineService(db, lambda _m: MemoryDriver())
        service.start()
        window = MainWindow(db, service)
        window.resize(1400, 900)
        window.show()

        # Wait for the first id list (loaded off the GUI thread).
        deadline = time.monotonic() + 60
        while len(window.tasks_view.model.ids) < args.tasks and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        loaded = len(window.tasks_view.model.ids)
        settle_heap()  # as the console does once its window is up

        gaps: list[float] = []
        clock = QElapsedTimer()
        clock.start()
        last = [clock.nsecsElapsed()]

        def tick() -> None:
            now = clock.nsecsElapsed()
            gaps.append((now - last[0]) / 1e6)
            last[0] = now

        probe = QTimer(interval=5)
        probe.timeout.connect(tick)
        rng = random.Random(3)
        bar = window.tasks_view.table.verticalScrollBar()
        scroller = QTimer(interval=200)
        scroller.timeout.connect(lambda: bar.setValue(rng.randint(0, bar.maximum())))

        stop = threading.Event()
        producer = threading.Thread(
            target=produce, args=(service, args.tasks, args.rate, args.seconds, stop)
        )
        applied_before = window.tasks_view.model.fetches
        probe.start()
        scroller.start()
        producer.start()
        QTimer.singleShot(int(args.seconds * 1000) + 300, app.quit)
        app.exec()
        stop.set()
        producer.join()
        probe.stop()
        scroller.stop()
        stalls = sorted(max(0.0, g - 5.0) for g in gaps[1:])
        result = {
            "tasks": args.tasks,
            "rows_loaded": loaded,
            "rate": args.rate,
            "seconds": args.seconds,
            "seed_seconds": round(seed_s, 1),
            "row_fetches": window.tasks_view.model.fetches - applied_before,
            "max_stall_ms": round(stalls[-1], 1) if stalls else None,
            "p99_stall_ms": round(stalls[int(len(stalls) * 0.99) - 1], 1) if stalls else None,
            "median_stall_ms": round(statistics.median(stalls), 2) if stalls else None,
            "rss_mb": round(rss_mb(), 1),
        }
        window.close()
        service.stop()
        db.close()
    report(result, args.json)
    sys.stdout.flush()
    # PySide6 can crash while the interpreter tears down its wrappers (a refcount error
    # in its finalizer); the measurement is printed, so leave without the teardown.
    os._exit(0)


if __name__ == "__main__":
    main()
