"""Several workers on one database: worker rows with heartbeats, fenced claims, the
account rules as constraints, idempotent Orders, commit tokens, the host of local paths,
and (PostgreSQL) change notices

Revision ID: f6a7b8c9d0e1
Revises: e5f6a7b8c9d0
Create Date: 2026-11-27 12:16:46
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f6a7b8c9d0e1"
down_revision: str | None = "e5f6a7b8c9d0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('assigned', 'running', 'submitting')"
SCOPED = (
    "unit_scope IS NOT NULL AND status IN ('assigned', 'delivered', 'needs_review', "
    "'purchased', 'running', 'submitting')"
)

# PostgreSQL: every change of a Task, an Order or an account is announced on the channel
# "buyback" when its transaction commits (NOTIFY is transactional), so every console and
# worker learns of it at once. One notice per statement, not per row: the ids come from
# the statement's transition table. A long list of Tasks is left out (a notice holds at
# most 8000 bytes): the Orders say what to read again. Workers listen on "buyback_wake"
# instead: an empty notice (one a transaction at most) when units come back to the queue,
# an account is freed or an Order changes, all a worker needs to look for work again.
NOTIFY_FUNCTIONS = """
CREATE OR REPLACE FUNCTION buyback_notify_task() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload text;
    queued boolean;
BEGIN
    SELECT json_build_object(
        'kind', 'task',
        'orders', coalesce(json_agg(DISTINCT order_id), '[]'::json),
        'tasks', CASE WHEN count(*) <= 400 THEN coalesce(json_agg(id), '[]'::json) END,
        'freed', bool_or(status NOT IN ('assigned', 'running', 'submitting'))
    )::text, bool_or(status IN ('pending', 'retry_wait'))
    INTO payload, queued FROM changed;
    PERFORM pg_notify('buyback', payload);
    IF queued THEN
        PERFORM pg_notify('buyback_wake', '');
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION buyback_notify_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    SELECT json_build_object(
        'kind', 'order', 'orders', coalesce(json_agg(DISTINCT id), '[]'::json)
    )::text INTO payload FROM changed;
    PERFORM pg_notify('buyback', payload);
    PERFORM pg_notify('buyback_wake', '');
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION buyback_notify_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed WHERE lease_owner IS NULL) THEN
        PERFORM pg_notify('buyback', '{"kind": "account"}');
        PERFORM pg_notify('buyback_wake', '');
    END IF;
    RETURN NULL;
END $$;
"""
# Transition tables allow one event per trigger.
TRIGGERS = [
    (table, event, function)
    for table, function in (
        ("task", "buyback_notify_task"),
        ('"order"', "buyback_notify_order"),
        ("marketplace_account", "buyback_notify_account"),
    )
    for event in ("INSERT", "UPDATE")
]


def _trigger_name(table: str, event: str) -> str:
    return f"buyback_{table.strip(chr(34))}_{event.lower()}"


def upgrade() -> None:
    op.create_table(
        "commit_token",
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_table(
        "team_setting",
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "worker",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
        sa.Column("rescued_by", sa.String(length=200), nullable=True),
        sa.Column("rescued_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("marketplace_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_host", sa.String(length=200), nullable=True))

    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
        batch_op.create_index("ux_order_request_id", ["request_id"], unique=True)

    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("unit_scope", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("screenshot_host", sa.String(length=200), nullable=True))
    # The rule's scope of the Tasks already there, from their Order's rule.
    op.execute(
        "UPDATE task SET unit_scope = CASE "
        '(SELECT unit_rule FROM "order" WHERE "order".id = task.order_id) '
        "WHEN 'per_job' THEN 'j' || job_id WHEN 'per_order' THEN 'o' || order_id END"
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ux_task_account_active",
            ["account_id"],
            unique=True,
            sqlite_where=sa.text(ACTIVE),
            postgresql_where=sa.text(ACTIVE),
        )
        batch_op.create_index(
            "ux_task_account_scope",
            ["unit_scope", "account_id"],
            unique=True,
            sqlite_where=sa.text(SCOPED),
            postgresql_where=sa.text(SCOPED),
        )
    with op.batch_alter_table("buyback", schema=None) as batch_op:
        batch_op.create_index("ix_buyback_purchased_at", ["purchased_at"], unique=False)
    if op.get_context().dialect.name == "postgresql":
        op.execute(NOTIFY_FUNCTIONS)
        for table, event, function in TRIGGERS:
            op.execute(
                f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} "
                f"REFERENCING NEW TABLE AS changed FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {function}()"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table, event, _function in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, event)} ON {table}")
        for function in ("buyback_notify_task", "buyback_notify_order", "buyback_notify_account"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    with op.batch_alter_table("buyback", schema=None) as batch_op:
        batch_op.drop_index("ix_buyback_purchased_at")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ux_task_account_scope")
        batch_op.drop_index("ux_task_account_active")
        batch_op.drop_column("screenshot_host")
        batch_op.drop_column("unit_scope")
        batch_op.drop_column("claim")
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.drop_index("ux_order_request_id")
        batch_op.drop_column("request_id")
    with op.batch_alter_table("marketplace_account", schema=None) as batch_op:
        batch_op.drop_column("profile_host")
    op.drop_table("worker")
    op.drop_table("team_setting")
    op.drop_table("commit_token")
