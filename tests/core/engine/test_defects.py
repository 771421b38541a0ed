"""A defect of ours stops only what it touched: the Job whose code broke is parked with an
internal-error message that names the log, its traceback is in the log, and every other
Job's units are bought while the engine keeps running."""

from __future__ import annotations

import logging
from collections import Counter

from helpers import make_supervisor, tasks, wait_for
from sqlalchemy import select

from app.core.domain.models import Job
from app.core.drivers.memory import MemoryDriver
from app.core.engine.events import EngineNotice
from app.core.engine.settings import EngineSettings
from app.core.manager import TaskManager
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.core.support.logs import log_file


def break_job(monkeypatch, job_id: int) -> None:
    """Injects a defect into one Job's code path: its TaskManager fails as it claims."""
    dispatch = TaskManager._dispatch

    async def broken(self: TaskManager):  # type: ignore[no-untyped-def]
        if self.plan.job_id == job_id:
            raise AttributeError("'NoneType' object has no attribute 'not_before'")
        return await dispatch(self)

    monkeypatch.setattr(TaskManager, "_dispatch", broken)


def job_ids(db, order_id: int) -> list[int]:
    with db.session() as s:
        return list(s.scalars(select(Job.id).where(Job.order_id == order_id).order_by(Job.id)))


async def test_a_defect_in_one_job_parks_it_and_the_others_are_bought(
    db, market, monkeypatch, caplog
) -> None:
    driver = MemoryDriver()
    sup = make_supervisor(db, driver)
    notices = sup.bus.subscribe()
    order_id = await sup.submit(
        OrderSpec("Client", "mem", [LineSpec("A1", 3, "P1"), LineSpec("A2", 4, "P2")])
    )
    other_id = await sup.submit(OrderSpec("Other", "mem", [LineSpec("A3", 2, "P1")]))
    broken_job, good_job = job_ids(db, order_id)
    break_job(monkeypatch, broken_job)

    with caplog.at_level(logging.ERROR):
        await sup.run(until_idle=True)

    rows = tasks(db, order_id)
    assert Counter(r.status for r in rows if r.job_id == good_job) == {"purchased": 4}
    assert Counter(r.status for r in tasks(db, other_id)) == {"purchased": 2}
    parked = [r for r in rows if r.job_id == broken_job]
    assert [r.status for r in parked] == ["failed"] * 3
    assert all(
        r.last_error.startswith("internal error (AttributeError")
        and str(log_file()) in r.last_error
        for r in parked
    )
    assert sup.ctx.fault is None  # not a storage fault: nothing else stopped
    errors = [e.message for e in notices.drain() if isinstance(e, EngineNotice)]
    assert [m for m in errors if m.startswith(f"Job {broken_job} of Order {order_id}")] == [
        errors[0]
    ]
    assert "Other purchases go on" in errors[0]
    logged = [r for r in caplog.records if r.exc_info and "stopped on an internal error" in r.msg]
    assert logged and logged[0].exc_info[0] is AttributeError  # the traceback is in the log
    assert len(driver.ledger) == 6


async def test_the_engine_keeps_running_after_a_defect(db, market, monkeypatch) -> None:
    """With the engine on its own thread (as in the console): the broken Job is parked,
    the others are bought, and the engine still takes commands."""
    driver = MemoryDriver()
    service = EngineService(
        db, lambda _m: driver, EngineSettings(concurrency=2, poll_s=0.05, rollup_s=0.05)
    )
    service.start()
    try:
        first = service.submit(
            OrderSpec(
                "Client", "mem", [LineSpec("A1", 2, "P1"), LineSpec("A2", 2, "P2")], hold=True
            )
        ).result(timeout=10)
        broken_job, _good_job = job_ids(db, first)
        break_job(monkeypatch, broken_job)
        service.resume(first).result(timeout=10)
        await wait_for(
            lambda: Counter(r.status for r in tasks(db, first)) == {"purchased": 2, "failed": 2},
            what="the good Job bought and the broken one parked",
        )
        assert service.running
        later = service.submit(OrderSpec("Later", "mem", [LineSpec("A3", 2, "P1")])).result(10)
        await wait_for(lambda: [r.status for r in tasks(db, later)] == ["purchased"] * 2)
        assert service.supervisor.ctx.fault is None
    finally:
        service.stop()
