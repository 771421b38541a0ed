"""Order intent (the operator's pause or cancel) apart from its progress

Revision ID: c3d1e2f4a5b6
Revises: ae6af2a876f3
Create Date: 2026-11-27 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d1e2f4a5b6"
down_revision: str | None = "ae6af2a876f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

order = sa.table("order", sa.column("id"), sa.column("status"), sa.column("intent"))
task = sa.table("task", sa.column("order_id"), sa.column("status"))
SETTLED = ("purchased", "delivered", "failed", "cancelled", "needs_review")


def upgrade() -> None:
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("intent", sa.String(length=20), nullable=False, server_default="run")
        )
    # A paused or cancelled Order kept its intent in `status`: move it to `intent`. A
    # paused one's progress is queued, or running once a unit started; the roll-up
    # refines it at the next change, as it does for every Order.
    op.execute(order.update().where(order.c.status == "cancelled").values(intent="cancelled"))
    started = (
        sa.select(task.c.order_id)
        .where(task.c.order_id == order.c.id, task.c.status != "pending")
        .exists()
    )
    paused = order.c.status == "paused"
    op.execute(
        order.update()
        .where(paused)
        .values(
            intent="paused",
            status=sa.case((started, "running"), else_="queued"),
        )
    )


def downgrade() -> None:
    open_ = order.c.status.in_(("queued", "running"))
    op.execute(order.update().where(order.c.intent == "paused", open_).values(status="paused"))
    op.execute(order.update().where(order.c.intent == "cancelled").values(status="cancelled"))
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.drop_column("intent")
