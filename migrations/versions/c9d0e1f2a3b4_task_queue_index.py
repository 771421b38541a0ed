"""A claim reads the Tasks and accounts it takes: a partial index of each Job's queued
Tasks in their order (ix_task_queue), and the account pick's index in the lease query's
order (never used first, then least recently used, then by id), so that a claim no
longer reads and sorts every queued unit of its Job and every free account of its
marketplace

Revision ID: c9d0e1f2a3b4
Revises: b8c9d0e1f2a3
Create Date: 2026-11-28 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c9d0e1f2a3b4"
down_revision: str | None = "b8c9d0e1f2a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As app.core.domain.models.QUEUED_SQL writes it today (a migration keeps its own copy).
QUEUED = "status IN ('pending', 'retry_wait', 'waiting_account')"


def upgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_queue",
            ["job_id", "unit_no"],
            unique=False,
            sqlite_where=sa.text(QUEUED),
            postgresql_where=sa.text(QUEUED),
        )
    _pick(["marketplace_id", "status", "last_used_at", "id"], {"last_used_at": "NULLS FIRST"})


def downgrade() -> None:
    _pick(["marketplace_id", "status", "last_used_at"], {})
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_queue")


def _pick(columns: list[str], ops: dict[str, str]) -> None:
    with op.batch_alter_table("marketplace_account", schema=None) as batch_op:
        batch_op.drop_index("ix_account_pick")
        batch_op.create_index("ix_account_pick", columns, unique=False, postgresql_ops=ops)
