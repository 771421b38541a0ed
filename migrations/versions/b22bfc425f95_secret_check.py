"""secret_check: which key the stored secrets were encrypted with (never the key)

Revision ID: b22bfc425f95
Revises: c3d1e2f4a5b6
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b22bfc425f95"
down_revision: str | None = "c3d1e2f4a5b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Left empty: the migration has no key. The first start after it stores the row
    # (app.core.accounts.keys.check_key), after checking the key against a stored secret.
    op.create_table(
        "secret_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("secret_check")
