"""Delivery from a list: the marketplace's order numbers with their delivery status, as an
operator exports them from the marketplace's account pages (or types them), for the
marketplaces where a person buys and the console cannot look. A plan row by row first;
then one transaction records every good row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from app.core.domain.clock import utcnow
from app.core.domain.codes import DeliveryStatus
from app.core.domain.models import BuyBack, Task
from app.core.domain.states import TaskStatus
from app.core.engine.assisted import mark_arrived, operator_name, publish_changes
from app.core.engine.context import EngineContext
from app.core.engine.rollup import roll_up
from app.core.support.errors import KnownError
from app.core.support.tables import (
    HEADER_ROWS,
    data_rows,
    find_header,
    identifier,
    norm,
    read_table,
)
from app.core.support.text import QT_TRANSLATE_NOOP, Message, say

T = TaskStatus

HEADERS: dict[str, str] = {
    norm(name): fieldname
    for fieldname, names in {
        "order_number": "номер заказа, заказ, номер, order number, order, order no",
        "status": "статус, статус заказа, статус доставки, доставка, status, delivery status",
    }.items()
    for name in names.split(", ")
}
# What marketplaces and people call the delivery states, normalized (tables.norm).
STATUSES: dict[str, DeliveryStatus] = {
    norm(text): status
    for status, texts in {
        DeliveryStatus.AT_PICKUP_POINT: "at pickup point, at the pickup point, arrived, "
        "delivered, ready, ready for pickup, в пункте выдачи, в пвз, прибыл, прибыл в пвз, "
        "доставлен, доставлено, готов к выдаче, ожидает получения, можно забирать",
        DeliveryStatus.IN_TRANSIT: "in transit, shipped, on the way, в пути, отправлен, "
        "передан в доставку",
        DeliveryStatus.ORDERED: "ordered, placed, оформлен, собирается, принят",
    }.items()
    for text in texts.split(", ")
}


@dataclass
class DeliveryRow:
    """One row of the list and what the import does with it.

    Attributes:
        row: its 1-based row number in the file.
        status: the delivery state the row says (None when it cannot be told).
        task_id: the unit with that order number.
        outcome: "arrived", "status" (recorded, not yet arrived), "unchanged" or "rejected".
        error: why the row is rejected.
    """

    row: int
    order_number: str
    status_text: str
    status: DeliveryStatus | None = None
    task_id: int | None = None
    outcome: str = "rejected"
    error: Message | None = None


@dataclass
class DeliveryPlan:
    path: Path
    rows: list[DeliveryRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)


def plan_deliveries(s: Session, path: str | Path) -> DeliveryPlan:
    """Reads the list and matches every row with a recorded purchase; writes nothing.
    Raises KnownError when the file cannot be read or none of its first rows names the
    order-number and status columns. A title above that row and a totals row are left
    out with a note."""
    path = Path(path)
    plan = DeliveryPlan(path)
    rows = read_table(path, plan.notes)
    if rows is None:
        raise KnownError(f"{path.name}: choose a CSV or XLSX list of order numbers and statuses")
    header = find_header(rows, HEADERS, plan.notes, required=("order_number", "status"))
    if header is None:
        raise KnownError(f"{path.name}: the list is empty")
    if header.missing:
        raise KnownError(
            f"{path.name}: none of the first {HEADER_ROWS} rows names the columns; this "
            f"list needs 'Номер заказа' (order number) and 'Статус' (status) (row "
            f"{header.row} has: {header.has()})"
        )
    columns = header.columns
    for n, cells in data_rows(rows, [columns["order_number"]], plan.notes):
        number, status_text = (
            identifier(cells[i]) if i < len(cells) else ""
            for i in (columns["order_number"], columns["status"])
        )
        if not number and not status_text:
            continue  # an empty row
        plan.rows.append(DeliveryRow(n, number, status_text, STATUSES.get(norm(status_text))))
    _match(s, plan)
    return plan


def _match(s: Session, plan: DeliveryPlan) -> None:
    numbers = {r.order_number for r in plan.rows if r.order_number}
    found: dict[str, list[tuple[int, TaskStatus, DeliveryStatus]]] = {}
    for number, task_id, status, delivery in s.execute(
        select(BuyBack.order_number, Task.id, Task.status, BuyBack.delivery_status)
        .join(Task, Task.id == BuyBack.task_id)
        .where(BuyBack.order_number.in_(numbers))
    ):
        found.setdefault(number, []).append((task_id, T(status), DeliveryStatus(delivery)))
    seen: dict[str, int] = {}
    for r in plan.rows:
        units = found.get(r.order_number, [])
        if not r.order_number:
            r.error = say(QT_TRANSLATE_NOOP("Engine", "field 'order number' is empty"))
        elif r.status is None:
            r.error = say(
                QT_TRANSLATE_NOOP(
                    "Engine",
                    "field 'status': '{status}' is not a delivery status this console knows "
                    "(at the pickup point, in transit, ordered)",
                ),
                status=r.status_text,
            )
        elif r.order_number in seen:
            r.error = say(
                QT_TRANSLATE_NOOP("Engine", "order {number} is already on row {row}"),
                number=r.order_number,
                row=seen[r.order_number],
            )
        elif len(units) != 1:
            r.error = say(
                QT_TRANSLATE_NOOP(
                    "Engine",
                    "field 'order number': no bought unit with order number {number} is "
                    "recorded here",
                ),
                number=r.order_number,
            )
        else:
            task_id, status, delivery = units[0]
            r.task_id = task_id
            if status == T.DELIVERED or delivery == r.status:
                r.outcome = "unchanged"
            elif r.status is DeliveryStatus.AT_PICKUP_POINT:
                r.outcome = "arrived"
            else:
                r.outcome = "status"
        seen.setdefault(r.order_number, r.row)


def apply_deliveries(
    conn: Connection, plan: DeliveryPlan, *, operator: str, now: datetime
) -> dict[int, int]:
    """Records the plan's good rows in the caller's transaction; returns {task id: order
    id} of the units that arrived."""
    for r in plan.rows:
        if r.outcome == "status" and r.task_id is not None and r.status is not None:
            conn.execute(
                update(BuyBack)
                .where(BuyBack.task_id == r.task_id)
                .values(delivery_status=str(r.status), checked_at=now)
            )
    arrived = [r.task_id for r in plan.rows if r.outcome == "arrived" and r.task_id]
    return mark_arrived(conn, arrived, operator=operator, now=now)


def record_deliveries(conn: Connection, plan: DeliveryPlan, *, operator: str) -> dict[int, int]:
    """`apply_deliveries` and the Orders' roll-up, for the command line (no engine)."""
    arrived = apply_deliveries(conn, plan, operator=operator, now=utcnow())
    roll_up(conn, set(arrived.values()))
    return arrived


async def import_deliveries(ctx: EngineContext, plan: DeliveryPlan) -> int:
    """Records the plan through the engine's writer; returns how many units arrived."""
    operator = operator_name()
    arrived = await ctx.db.write(
        lambda c: apply_deliveries(c, plan, operator=operator, now=utcnow())
    )
    await publish_changes(ctx, arrived)
    return len(arrived)
