"""Fewer Task indexes that a change of status rewrites: the Order's index no longer holds
the status, and the two account indexes that no query reads any more are dropped

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-11-27 19:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b8c9d0e1f2a3"
down_revision: str | None = "a7b8c9d0e1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_order", ["order_id"], unique=False)
        batch_op.drop_index("ix_task_order_status")
        batch_op.drop_index("ix_task_account_job")
        batch_op.drop_index("ix_task_account_order")


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_account_order", ["account_id", "order_id"], unique=False)
        batch_op.create_index("ix_task_account_job", ["account_id", "job_id"], unique=False)
        batch_op.create_index("ix_task_order_status", ["order_id", "status"], unique=False)
        batch_op.drop_index("ix_task_order")
