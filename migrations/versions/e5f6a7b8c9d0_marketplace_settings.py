"""Marketplaces the operator manages: product page address, article format, currency,
aliases, enabled

Revision ID: e5f6a7b8c9d0
Revises: d4e5f6a7b8c9
Create Date: 2026-11-27 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5f6a7b8c9d0"
down_revision: str | None = "d4e5f6a7b8c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("marketplace", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("product_url", sa.String(500), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("article_pattern", sa.String(200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("article_example", sa.String(100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("currency", sa.String(3), nullable=False, server_default="RUB")
        )
        batch_op.add_column(sa.Column("aliases", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    # The sandbox's product pages, for marketplaces added before this version.
    op.execute(
        "UPDATE marketplace SET product_url = '{base_url}/product/{article}' "
        "WHERE driver = 'sandbox'"
    )


def downgrade() -> None:
    with op.batch_alter_table("marketplace", schema=None) as batch_op:
        for column in (
            "enabled",
            "aliases",
            "currency",
            "article_example",
            "article_pattern",
            "product_url",
        ):
            batch_op.drop_column(column)
