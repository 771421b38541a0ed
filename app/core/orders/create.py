"""Writing an Order: validated against the catalog and stored with its Jobs, batches
(sub-jobs) and one Task per unit, all in the caller's transaction, together with the new
articles and pickup points it adds to an open catalog."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.core.domain.clock import utcnow
from app.core.domain.models import (
    Article,
    Client,
    Job,
    JobBatch,
    Order,
    OrderLine,
    PickupPoint,
    Task,
)
from app.core.domain.states import OrderIntent, TaskStatus, UnitRule
from app.core.orders.spec import OrderSpec, ValidOrder
from app.core.orders.validation import validate
from app.core.storage.db import execute_many
from app.core.storage.journal import bulk_events

_INSERT_TASK = insert(Task)


def split(quantity: int, batch_size: int | None) -> list[int]:
    """Sizes of a Job's batches (sub-jobs): the whole Job at once unless a size is set."""
    if not batch_size or batch_size >= quantity:
        return [quantity]
    full, rest = divmod(quantity, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def create_order(conn: Connection, spec: OrderSpec, *, max_units_per_line: int) -> int:
    """Validates the Order and writes it with its Jobs, batches and Tasks, all in the
    caller's transaction: an invalid Order raises InvalidOrder and writes nothing. A
    request sent again (the same `spec.request_id`) returns the Order it created."""
    if spec.request_id is not None:
        found = conn.scalar(select(Order.id).where(Order.request_id == spec.request_id))
        if found is not None:
            return int(found)
    valid: ValidOrder = validate(Session(bind=conn), spec, max_units_per_line=max_units_per_line)
    mp_id = valid.marketplace_id
    article_ids = {
        a.sku: _catalog_id(conn, Article.__table__, mp_id, sku=a.sku, title=a.title)
        for a in valid.new_articles()
    }
    point_ids = {
        p.code: _catalog_id(conn, PickupPoint.__table__, mp_id, code=p.code, address=p.address)
        for p in valid.new_pickup_points()
    }
    now = utcnow()
    client_id = conn.scalar(select(Client.id).where(Client.name == valid.client))
    if client_id is None:
        client_id = conn.scalar(
            insert(Client).values(name=valid.client, created_at=now).returning(Client.id)
        )
    order_id = conn.execute(
        insert(Order)
        .values(
            client_id=client_id,
            marketplace_id=valid.marketplace_id,
            intent=OrderIntent.PAUSED if spec.hold else OrderIntent.RUN,
            unit_rule=spec.unit_rule,
            request_id=spec.request_id,
            priority=spec.priority,
            note=spec.note,
            created_at=now,
            updated_at=now,
        )
        .returning(Order.id)
    ).scalar_one()
    for line in valid.lines:
        line_id = conn.scalar(
            insert(OrderLine)
            .values(
                order_id=order_id,
                line_no=line.line_no,
                article_id=line.article.id or article_ids[line.article.sku],
                pickup_point_id=line.pickup_point.id or point_ids[line.pickup_point.code],
                quantity=line.quantity,
                max_unit_price_minor=line.max_unit_price_minor,
            )
            .returning(OrderLine.id)
        )
        job_id = conn.execute(
            insert(Job)
            .values(order_id=order_id, order_line_id=line_id, quantity=line.quantity)
            .returning(Job.id)
        ).scalar_one()
        batches = []
        for seq, size in enumerate(split(line.quantity, spec.batch_size)):
            not_before = now + timedelta(seconds=spec.batch_interval_s * seq) if seq else None
            batch_id = conn.execute(
                insert(JobBatch)
                .values(job_id=job_id, seq=seq, size=size, not_before=not_before)
                .returning(JobBatch.id)
            ).scalar_one()
            batches.append((batch_id, size))
        create_tasks(
            conn, order_id=order_id, job_id=job_id, batches=batches, now=now, rule=spec.unit_rule
        )
    return order_id


def _catalog_id(conn: Connection, table: Any, marketplace_id: int, **values: str) -> int:
    """The id of a new article or pickup point, added unless another console added the
    same one meanwhile (its key is the first of `values`: sku or code)."""
    key, value = next(iter(values.items()))
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(table)
        .values(marketplace_id=marketplace_id, **values)
        .on_conflict_do_nothing(index_elements=["marketplace_id", key])
    )
    found = conn.scalar(
        select(table.c.id).where(table.c.marketplace_id == marketplace_id, table.c[key] == value)
    )
    assert found is not None  # inserted just now, or there already
    return int(found)


def create_tasks(
    conn: Connection,
    *,
    order_id: int,
    job_id: int,
    batches: list[tuple[int, int]],
    now: datetime,
    rule: UnitRule,
) -> list[int]:
    """One pending Task per unit of the Job, in its batches [(batch id, size)], under the
    Order's one-unit-per-account `rule`; returns their ids in unit order."""
    scope = rule.scope(order_id, job_id)
    rows = []
    unit_no = 0
    for batch_id, size in batches:
        for _ in range(size):
            unit_no += 1
            rows.append(
                {
                    "order_id": order_id,
                    "job_id": job_id,
                    "batch_id": batch_id,
                    "unit_no": unit_no,
                    "status": TaskStatus.PENDING,
                    "attempts": 0,
                    "temporary_failures": 0,
                    "claim": 0,
                    "unit_scope": scope,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    # One executemany, then the ids read back (the batches are new in this transaction,
    # so their Tasks are these): cheaper than a RETURNING per row at thousands of units.
    execute_many(conn, _INSERT_TASK, rows)
    ids = list(
        conn.scalars(
            select(Task.id)
            .where(Task.job_id == job_id, Task.batch_id.in_([b for b, _ in batches]))
            .order_by(Task.unit_no)
        )
    )
    bulk_events(conn, ((i, None, TaskStatus.PENDING, None) for i in ids), now=now, detail="created")
    return ids
