"""Engine throughput: the real Supervisor, TaskManagers and Tasks on a real SQLite file,
with an instant in-memory driver, so that only the engine's own cost is measured.

    python -m bench.engine --units 50000 --json
    python -m bench.engine --db postgresql+psycopg://user:pw@host/db --workers 3 --json

With --workers N, N worker processes (each a Supervisor, as `main.py run --until-idle`)
share the Order on one database, started together once each is ready; the figure is the
Order's units over the time from the start to the last worker's exit. With --db naming a
server, the bench works in a new database of its own on that server, dropped at the end.
Targets on PostgreSQL: 1 worker >= 1500 units/s, 3 workers together at least as fast.

Target: units_per_s >= 5000 on SQLite with synchronous=FULL (the engine must never be the
bottleneck next to browsers). Reported next to it, raw_sqlite3_units_per_s: the same
statements per unit (the claim into running, submitting, purchased, each step one group
commit of `concurrency` units) through the stdlib sqlite3 module with executemany, on a database
made the same way: what SQLite itself allows on this machine, the engine's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import ClauseElement, bindparam, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url

from app.core.accounts.pool import _RELEASE_OK, _TAKE, LeaseRequest, _eligible
from app.core.domain.models import BuyBack, Job, MarketPlaceAccount, OrderLine, TaskEvent
from app.core.domain.states import UnitRule
from app.core.drivers.memory import MemoryDriver
from app.core.engine.purchases import _INSERT_BUYBACK
from app.core.engine.rollup import order_progress
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database, url_for
from app.core.storage.journal import _INSERT_EVENT, _update_statement
from app.core.storage.workers import WorkerKind
from app.core.supervisor import Supervisor
from bench.common import report, rss_mb, seed_memory_market


async def measure(db: Database, units: int, concurrency: int, line_size: int) -> dict:
    driver = MemoryDriver()
    settings = EngineSettings(concurrency=concurrency, max_units_per_line=line_size)
    sup = Supervisor(db, lambda _m: driver, settings=settings)
    started = time.perf_counter()
    order_id = await sup.submit(_spec(units, line_size))
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


class _Raw:
    """One of the engine's statements as SQLite text, with its parameters' order and the
    values the statement fixes itself."""

    def __init__(self, stmt: ClauseElement, keys: list[str] | None = None):
        compiled = stmt.compile(dialect=sqlite.dialect(), column_keys=keys)
        self.sql = compiled.string
        self.order = list(compiled.positiontup or [])
        self.fixed = {k: b.value for k, b in compiled.binds.items() if not b.required}

    def rows(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [tuple(_value(r[k] if k in r else self.fixed[k]) for k in self.order) for r in rows]


def _value(v: Any) -> Any:
    # As the engine stores times: naive UTC text.
    return v.astimezone(UTC).replace(tzinfo=None).isoformat(" ") if isinstance(v, datetime) else v


def raw_sqlite3_ceiling(path: Path, units: int, concurrency: int, line_size: int) -> float:
    """Units a second for the engine's per-unit statements run through the stdlib sqlite3
    module, on a database holding the same Order (written by the engine, not timed): per
    step of `concurrency` units one transaction of executemany calls and one commit, with
    synchronous=FULL, as the engine's group commit at its best."""
    db = Database(str(path))
    seed_memory_market(db, min(units, line_size))
    settings = EngineSettings(max_units_per_line=line_size)
    sup = Supervisor(db, lambda _m: MemoryDriver(), settings=settings)
    order_id = asyncio.run(sup.submit(_spec(units, line_size)))
    with db.reading() as s:
        jobs = list(s.scalars(select(Job.id).where(Job.order_id == order_id).order_by(Job.id)))
        marketplace_id = s.scalar(select(MarketPlaceAccount.marketplace_id).limit(1))
    db.close()
    assert marketplace_id is not None
    owner = "bench:raw"
    moves = {  # (from, to): the Task update with the columns the engine sets
        # The claim: straight to running, through assigned (two events).
        ("pending", "running"): _Raw(
            _update_statement(("account_id", "attempts", "claim", "started_at", "worker"))
        ),
        ("running", "submitting"): _Raw(_update_statement(())),
        ("submitting", "purchased"): _Raw(_update_statement(("error_code", "last_error"))),
    }
    event = _Raw(_INSERT_EVENT, [*_event(0, "", "", datetime.now(UTC), 0)])
    buyback = _Raw(_INSERT_BUYBACK, [*_buyback(0, 0, 0, 0, datetime.now(UTC))])
    take, release = _Raw(_TAKE), _Raw(_RELEASE_OK)
    cap = _Raw(
        select(OrderLine.max_unit_price_minor)
        .join(Job, Job.order_line_id == OrderLine.id)
        .where(Job.id == bindparam("job"))
    )
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        conn.execute(f"PRAGMA {pragma}")

    def step(frm: str, to: str, pairs: list[tuple[int, int]], now: datetime, **values: Any) -> None:
        # A value of None in `values` is the pair's account (the lease sets it).
        rows = [
            {"_tid": t, "_frm": frm, "status": to, "updated_at": now}
            | {k: a if v is None and k == "account_id" else v for k, v in values.items()}
            for t, a in pairs
        ]
        conn.executemany(moves[frm, to].sql, moves[frm, to].rows(rows))
        steps = [("pending", "assigned"), ("assigned", to)] if frm == "pending" else [(frm, to)]
        events = [_event(t, f, o, now, a) for f, o in steps for t, a in pairs]
        conn.executemany(event.sql, event.rows(events))

    number = 0
    started = time.perf_counter()
    for job_id in jobs:
        tasks = conn.execute(
            "SELECT id FROM task WHERE job_id = ? AND status = 'pending' ORDER BY unit_no",
            (job_id,),
        ).fetchall()
        # The engine builds this query at each lease; its SQL is the same each time.
        req = LeaseRequest(order_id, job_id, marketplace_id, UnitRule.PER_JOB, [])
        stmt, params = _eligible(req, datetime.now(UTC), concurrency, refs=True)
        eligible = stmt.compile(
            dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
        )
        bound = eligible.construct_params(params)
        for at in range(0, len(tasks), concurrency):
            now = datetime.now(UTC)
            conn.execute("BEGIN IMMEDIATE")
            found = [  # with what the drivers take of each account
                a
                for (a, *_ref) in conn.execute(
                    eligible.string, [_value(bound[k]) for k in eligible.positiontup or []]
                )
            ]
            pairs = [(t, a) for (t,), a in zip(tasks[at : at + concurrency], found, strict=False)]
            conn.executemany(
                take.sql, take.rows([{"_id": a, "_now": now, "owner": owner} for _, a in pairs])
            )
            step(
                "pending",
                "running",
                pairs,
                now,
                account_id=None,
                attempts=1,
                claim=1,
                started_at=now,
                worker=owner,
            )
            conn.execute(cap.sql, (job_id,)).fetchall()
            conn.execute("COMMIT")
            for frm, to, values in (
                ("running", "submitting", {}),
                ("submitting", "purchased", {"error_code": None, "last_error": None}),
            ):
                now = datetime.now(UTC)
                conn.execute("BEGIN IMMEDIATE")
                step(frm, to, pairs, now, **values)
                if to == "purchased":
                    bought = [
                        _buyback(number + i, t, a, marketplace_id, now)
                        for i, (t, a) in enumerate(pairs)
                    ]
                    number += len(pairs)
                    conn.executemany(buyback.sql, buyback.rows(bought))
                    conn.executemany(
                        release.sql, release.rows([{"_id": a, "_owner": owner} for _, a in pairs])
                    )
                conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    bought = conn.execute("SELECT count(*) FROM buyback").fetchone()[0]
    conn.close()
    if bought != units:
        raise RuntimeError(f"the raw sqlite3 run bought {bought} units of {units}")
    return units / seconds


def _event(task_id: int, frm: str, to: str, now: datetime, account_id: int) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "at": now,
        "from_status": frm,
        "to_status": to,
        "attempt": 1,
        "account_id": account_id,
        "detail": "",
    }


def _buyback(
    number: int, task_id: int, account_id: int, marketplace_id: int, now: datetime
) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "marketplace_id": marketplace_id,
        "account_id": account_id,
        "order_number": f"RAW-{number:08d}",
        "price_minor": 100000,
        "purchased_at": now,
        "delivery_status": "ordered",
    }


def _spec(units: int, line_size: int) -> OrderSpec:
    sizes = [line_size] * (units // line_size) + ([units % line_size] if units % line_size else [])
    articles = [f"A{i % 10}" for i in range(len(sizes))]
    return OrderSpec(
        "Bench", "bench", [LineSpec(a, n, "P1") for a, n in zip(articles, sizes, strict=True)]
    )


async def _work(url: str, concurrency: int, line_size: int) -> None:
    """One worker process of --workers: ready, then (at "go" on stdin) buys until idle."""
    db = Database(url)
    driver = MemoryDriver(prefix=f"W{os.getpid()}")  # a shop's numbers are unique
    settings = EngineSettings(concurrency=concurrency, max_units_per_line=line_size)
    sup = Supervisor(db, lambda _m: driver, settings=settings, kind=WorkerKind.RUN)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await sup.run(until_idle=True)
    db.close()
    print(json.dumps({"worker": sup.ctx.worker_id, "bought": len(driver.ledger)}), flush=True)


def measure_workers(url: str, units: int, workers: int, concurrency: int, line_size: int) -> dict:
    """`workers` worker processes on the database at `url`, holding one Order of `units`."""
    db = Database(url)
    seed_memory_market(db, min(units, line_size))
    sup = Supervisor(
        db, lambda _m: MemoryDriver(), settings=EngineSettings(max_units_per_line=line_size)
    )
    order_id = asyncio.run(sup.submit(_spec(units, line_size)))
    cmd = [sys.executable, "-m", "bench.engine", "--worker", "--db", url]
    cmd += ["--concurrency", str(concurrency), "--line-size", str(line_size)]
    procs = [
        subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate(timeout=3600)[0] for p in procs]
    seconds = time.perf_counter() - started
    if any(p.returncode for p in procs):
        raise RuntimeError(f"a worker failed: exit codes {[p.returncode for p in procs]}")
    bought = [json.loads(out.strip().splitlines()[-1])["bought"] for out in outputs]
    progress = asyncio.run(order_progress(db, order_id))
    with db.reading() as s:
        recorded = s.scalar(select(func.count()).select_from(BuyBack))
        per_task = s.scalar(select(func.count(func.distinct(BuyBack.task_id))))
    db.close()
    return {
        "units": units,
        "workers": workers,
        "concurrency": concurrency,
        "database": db.engine.dialect.name,
        "purchased": progress.purchased,
        "buybacks_recorded": recorded,
        "units_bought_twice": (recorded or 0) - (per_task or 0),
        "driver_purchases": sum(bought),
        "driver_purchases_per_worker": bought,
        "seconds": round(seconds, 3),
        "units_per_s": round(units / seconds, 1),
    }


@contextmanager
def _bench_database(given: str | None, tmp: Path) -> Iterator[str]:
    """The URL of an empty database for the bench: a SQLite file in `tmp`, or a new
    database on the server `given` names (dropped at the end)."""
    if not given or make_url(url_for(given)).get_backend_name() == "sqlite":
        yield url_for(given) if given else f"sqlite:///{tmp / 'bench.sqlite3'}"
        return
    url = make_url(url_for(given))
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--line-size", type=int, default=1000, help="units per order line (Job)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--no-raw",
        action="store_true",
        help="skip the raw sqlite3 ceiling (raw_sqlite3_units_per_s)",
    )
    parser.add_argument("--db", help="a database URL (a server: a new database on it)")
    parser.add_argument("--workers", type=int, help="worker processes sharing the Order")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(_work(args.db, args.concurrency, args.line_size))
        return
    if args.workers or args.db:
        with tempfile.TemporaryDirectory() as tmp, _bench_database(args.db, Path(tmp)) as url:
            result = measure_workers(
                url, args.units, args.workers or 1, args.concurrency, args.line_size
            )
        report(result, args.json)
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(str(Path(tmp) / "bench.sqlite3"))
        # One unit of a Job per account (the default rule): a Job needs as many
        # accounts as it has units.
        seed_memory_market(db, min(args.units, args.line_size))
        result = asyncio.run(measure(db, args.units, args.concurrency, args.line_size))
        result["db_mb"] = round((Path(tmp) / "bench.sqlite3").stat().st_size / 2**20, 1)
        db.close()
        if not args.no_raw:
            raw = raw_sqlite3_ceiling(
                Path(tmp) / "raw.sqlite3", args.units, args.concurrency, args.line_size
            )
            result["raw_sqlite3_units_per_s"] = round(raw, 1)
    report(result, args.json)


if __name__ == "__main__":
    main()
