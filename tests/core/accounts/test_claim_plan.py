"""A claim reads the units and accounts it takes, not its whole Job and pool: on a big Job
each claim would otherwise read and sort every queued unit and every free account (on
PostgreSQL, a 10,000-unit Job made every claim of 64 units cost milliseconds)."""

from __future__ import annotations

from typing import Any

from helpers import seed_market
from sqlalchemy import ClauseElement, func, select, text

from app.core.accounts.pool import LeaseRequest, _due, _eligible
from app.core.domain.clock import utcnow
from app.core.domain.models import Job, Order, Task
from app.core.domain.states import UnitRule
from app.core.orders.create import create_order
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage import workers
from app.core.storage.db import Database

UNITS = 2000
TAKE = 64


def _plan(db: Database, stmt: ClauseElement, params: dict[str, Any]) -> str:
    """The plan the database runs `stmt` with (run, on PostgreSQL: actual row counts)."""
    # The values bound before compiling: an IN list's (expanding) values are rendered.
    compiled = stmt.params(params).compile(
        dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    bound = compiled.construct_params()
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")  # as autovacuum does after a big Order
            rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF) {compiled.string}", bound)
            return "\n".join(r[0] for r in rows)
        processors = compiled._bind_processors
        values = tuple(
            processors[k](bound[k]) if k in processors else bound[k]
            for k in compiled.positiontup or []
        )
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", values)
        return "\n".join(str(r[3]) for r in rows)


def _big_order(db: Database, accounts: int) -> tuple[int, int, int]:
    market = seed_market(db, accounts=accounts)
    with db.engine.begin() as conn:
        create_order(
            conn,
            OrderSpec("Client", "mem", [LineSpec("A1", UNITS, "P1")]),
            max_units_per_line=UNITS,
        )
    with db.reading() as s:
        order_id, job_id = s.execute(select(Order.id, Job.id).join(Job)).one()
        assert s.scalar(select(func.count()).select_from(Task)) == UNITS
    return market.id, order_id, job_id


def test_a_claim_reads_the_queued_units_in_order_without_sorting_the_job(db: Database) -> None:
    _marketplace, _order, job_id = _big_order(db, accounts=3)
    with db.engine.begin() as conn:  # only a live worker claims
        workers.register(conn, "worker-1", workers.WorkerKind.RUN)
    plan = _plan(db, *_due(job_id, "worker-1", utcnow(), TAKE))
    assert "ix_task_queue" in plan, plan
    if db.engine.dialect.name == "postgresql":
        assert "Sort" not in plan, plan
        # The scan stops at the units taken: it does not read the Job's 2,000.
        scan = next(line for line in plan.splitlines() if "ix_task_queue" in line)
        assert f"rows={TAKE} " in scan, plan
    else:
        assert "TEMP B-TREE" not in plan, plan


def test_a_claim_reads_the_free_accounts_least_recently_used_first_without_sorting_the_pool(
    db: Database,
) -> None:
    marketplace_id, order_id, job_id = _big_order(db, accounts=1000)
    with db.engine.begin() as conn:  # some accounts used already: they come last
        conn.execute(
            text("UPDATE marketplace_account SET last_used_at = '2026-01-01' WHERE id % 3 = 0")
        )
    req = LeaseRequest(order_id, job_id, marketplace_id, UnitRule.PER_JOB, [])
    lock = db.engine.dialect.name == "postgresql"  # as claim_units asks
    plan = _plan(db, *_eligible(req, utcnow(), TAKE, lock=lock, refs=True))
    assert "ix_account_pick" in plan, plan
    if lock:
        assert "Sort" not in plan, plan
        scan = next(line for line in plan.splitlines() if "ix_account_pick" in line)
        assert f"rows={TAKE} " in scan, plan  # not the pool's 1,000
    else:
        assert "TEMP B-TREE" not in plan, plan
