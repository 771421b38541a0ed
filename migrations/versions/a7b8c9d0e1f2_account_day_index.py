"""A claim counts the day's purchases only of accounts with a daily limit, each on its
own index range

Revision ID: a7b8c9d0e1f2
Revises: f6a7b8c9d0e1
Create Date: 2026-11-27 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a7b8c9d0e1f2"
down_revision: str | None = "f6a7b8c9d0e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("buyback", schema=None) as batch_op:
        batch_op.create_index(
            "ix_buyback_account_day", ["account_id", "purchased_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("buyback", schema=None) as batch_op:
        batch_op.drop_index("ix_buyback_account_day")
