"""SQLAlchemy 2.x typed ORM models: the console's whole domain, from Client to TaskEvent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVarTuple

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.core.domain.clock import utcnow
from app.core.domain.codes import AccountStatus, DeliveryStatus, Health
from app.core.domain.states import (
    ACTIVE,
    BOUGHT_OR_MAYBE,
    QUEUED,
    JobStatus,
    OrderIntent,
    OrderStatus,
    TaskStatus,
    UnitRule,
)


def _in(statuses: frozenset[TaskStatus]) -> str:
    return "status IN (" + ", ".join(f"'{s.value}'" for s in sorted(statuses)) + ")"


ACTIVE_SQL = _in(ACTIVE)
QUEUED_SQL = _in(QUEUED)
SCOPED_SQL = f"unit_scope IS NOT NULL AND {_in(ACTIVE | BOUGHT_OR_MAYBE)}"


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC and hands back aware UTC datetimes, the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the engine works in aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # SQLite's DATETIME is the text "YYYY-MM-DD HH:MM:SS.ffffff", which isoformat of
        # the naive UTC time is: one call instead of process_bind_param and the dialect's
        # formatting, at several datetimes per state change.
        def process(value: datetime | None) -> str | None:
            naive = self.process_bind_param(value, dialect)
            return None if naive is None else naive.isoformat(" ", "microseconds")

        return process


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}  # noqa: RUF012 (SQLAlchemy reads it)


class Client(Base):
    __tablename__ = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MarketPlace(Base):
    __tablename__ = "marketplace"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(500))
    # Its kind (domain.markets.MarketKind): which purchase driver serves it, "sandbox"
    # (the engine buys) or "assisted" (a person buys in an ordinary browser).
    driver: Mapped[str] = mapped_column(String(50), default="sandbox")
    # The product page, with {article} (and optionally {base_url}) in it.
    product_url: Mapped[str] = mapped_column(String(500), default="")
    # A regular expression every article number matches ("" = the catalog decides).
    article_pattern: Mapped[str] = mapped_column(String(200), default="")
    article_example: Mapped[str] = mapped_column(String(100), default="")
    currency: Mapped[str] = mapped_column(String(3), default="RUB")
    # Other names imports and people use for it, comma-separated ("WB, Вайлдберриз").
    aliases: Mapped[str] = mapped_column(Text, default="")
    # A disabled marketplace takes no new Orders or accounts; its Orders go on.
    enabled: Mapped[bool] = mapped_column(default=True)


class PickupPoint(Base):
    __tablename__ = "pickup_point"
    __table_args__ = (UniqueConstraint("marketplace_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    marketplace_id: Mapped[int] = mapped_column(ForeignKey("marketplace.id"))
    code: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(500), default="")


class Article(Base):
    __tablename__ = "article"
    __table_args__ = (UniqueConstraint("marketplace_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    marketplace_id: Mapped[int] = mapped_column(ForeignKey("marketplace.id"))
    sku: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500), default="")


class MarketPlaceAccount(Base):
    __tablename__ = "marketplace_account"
    __table_args__ = (
        UniqueConstraint("marketplace_id", "login"),
        # Least-recently-used first (never used first, then by id): the lease query walks
        # this index in its order and stops at the accounts it takes. SQLite puts NULLs
        # first in ascending order; PostgreSQL is told to (through the operator class
        # option: Alembic's autogenerate on PostgreSQL then sees a difference here that
        # is none; migration c9d0e1f2a3b4 made the index as it should be).
        Index(
            "ix_account_pick",
            "marketplace_id",
            "status",
            "last_used_at",
            "id",
            postgresql_ops={"last_used_at": "NULLS FIRST"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    marketplace_id: Mapped[int] = mapped_column(ForeignKey("marketplace.id"))
    login: Mapped[str] = mapped_column(String(200))
    password: Mapped[str] = mapped_column(String(500), default="")  # encrypted (support.secrets)
    phone: Mapped[str] = mapped_column(String(50), default="")
    label: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[AccountStatus] = mapped_column(String(20), default=AccountStatus.ACTIVE)
    session_state: Mapped[str | None] = mapped_column(Text)  # Playwright storage state, encrypted
    # A Chrome/Chromium user-data-dir used as this account's persistent browser profile,
    # and the computer it lives on (a folder on one workstation is not on another).
    profile_dir: Mapped[str | None] = mapped_column(String(1000))
    profile_host: Mapped[str | None] = mapped_column(String(200))
    daily_limit: Mapped[int | None]  # purchases per day; None = no limit
    # After failures the account rests until this time before it is leased again.
    cooldown_until: Mapped[datetime | None]
    failures_in_row: Mapped[int] = mapped_column(Integer, default=0)
    health: Mapped[Health] = mapped_column(String(30), default=Health.UNKNOWN)  # last check
    checked_at: Mapped[datetime | None]
    # A lease marks the account as used by one Task of one worker (Worker.id), or by an
    # operator ("operator:NAME@HOST"). A worker's leases end with it: when it stops, or
    # when another worker rescues it after its heartbeat went stale (storage.workers).
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]  # no longer used (before heartbeats)
    last_used_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SecretCheck(Base):
    """Which key the stored secrets were encrypted with, without the key: a known text
    encrypted with it. One row (id 1); checked at start (accounts.keys), so a lost or
    replaced key is caught before anything is read or written with it."""

    __tablename__ = "secret_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(Text)  # Vault.encrypt of accounts.keys.CHECK_TEXT
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Worker(Base):
    """A running engine: a console's, a headless `main.py worker` or a `main.py run`.
    Its heartbeat is written on the database's clock every few seconds; a worker whose
    heartbeat is stale is rescued by any other (storage.workers), whatever host it is on.
    Every Task and account lease it holds names it."""

    __tablename__ = "worker"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # storage.workers.WorkerKind
    version: Mapped[str] = mapped_column(String(50), default="")
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]  # it stopped cleanly
    rescued_by: Mapped[str | None] = mapped_column(String(200))  # it was taken for dead
    rescued_at: Mapped[datetime | None]


class TeamSetting(Base):
    """What every workstation and worker of one database shares (storage.team): one row
    per key, e.g. the time zone daily limits count days in."""

    __tablename__ = "team_setting"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class CommitToken(Base):
    """Written in every group commit on a database server: after a COMMIT whose answer
    was lost, its token says whether it happened (storage.db), so nothing is done twice."""

    __tablename__ = "commit_token"

    token: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime]


class Order(Base):
    __tablename__ = "order"
    __table_args__ = (Index("ux_order_request_id", "request_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The dialog's or the import's id of the request that created it: a request sent
    # again (after a lost COMMIT) finds the Order instead of creating a second one.
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    marketplace_id: Mapped[int] = mapped_column(ForeignKey("marketplace.id"))
    # Progress, from the roll-up of the Tasks; never PAUSED (see OrderStatus).
    status: Mapped[OrderStatus] = mapped_column(String(20), default=OrderStatus.QUEUED)
    # The operator's pause or cancel: the roll-up never writes it.
    intent: Mapped[OrderIntent] = mapped_column(String(20), default=OrderIntent.RUN)
    unit_rule: Mapped[UnitRule] = mapped_column(String(20), default=UnitRule.PER_JOB)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    deadline: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    client: Mapped[Client] = relationship()
    marketplace: Mapped[MarketPlace] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.line_no")


class OrderLine(Base):
    __tablename__ = "order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    line_no: Mapped[int]
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id"))
    pickup_point_id: Mapped[int] = mapped_column(ForeignKey("pickup_point.id"))
    quantity: Mapped[int]
    max_unit_price_minor: Mapped[int | None]

    article: Mapped[Article] = relationship()
    pickup_point: Mapped[PickupPoint] = relationship()


class Job(Base):
    """One order line's work: N units of one Article to one PickupPoint."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), unique=True)
    quantity: Mapped[int]
    status: Mapped[JobStatus] = mapped_column(String(20), default=JobStatus.QUEUED)

    line: Mapped[OrderLine] = relationship()


class JobBatch(Base):
    """A sub-job: units of a Job released together, not before `not_before`."""

    __tablename__ = "job_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    seq: Mapped[int]
    size: Mapped[int]
    not_before: Mapped[datetime | None]


class Task(Base):
    """One unit to buy with one account."""

    __tablename__ = "task"
    __table_args__ = (
        # Every change of status rewrites each index that holds `status` (and each
        # partial one whose WHERE reads it), thousands of times a second: only the
        # claim's index and the two rules' hold it. Counts by status go through
        # ix_task_job_status (a Job's, an Order's Jobs'); "has this account bought a unit
        # of this Job / Order?" reads the rule's own index.
        Index("ix_task_job_status", "job_id", "status"),
        Index("ix_task_order", "order_id"),
        # A claim's queue: a Job's queued Tasks in their order, so that a claim reads the
        # units it takes, not every queued unit of the Job. A Task leaves it when claimed.
        Index(
            "ix_task_queue",
            "job_id",
            "unit_no",
            sqlite_where=text(QUEUED_SQL),
            postgresql_where=text(QUEUED_SQL),
        ),
        # The rules, held by the database whatever the code does (several workers share
        # it): an account is in one active Task at a time, and buys (or may have bought,
        # or is buying) at most one unit of its rule's scope (a Job or an Order).
        Index(
            "ux_task_account_active",
            "account_id",
            unique=True,
            sqlite_where=text(ACTIVE_SQL),
            postgresql_where=text(ACTIVE_SQL),
        ),
        Index(
            "ux_task_account_scope",
            "unit_scope",
            "account_id",
            unique=True,
            sqlite_where=text(SCOPED_SQL),
            postgresql_where=text(SCOPED_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"))
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("job_batch.id"))
    unit_no: Mapped[int]
    status: Mapped[TaskStatus] = mapped_column(String(20), default=TaskStatus.PENDING)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("marketplace_account.id"))
    worker: Mapped[str | None] = mapped_column(String(200))
    # Raised each time a worker claims the Task (or rescues it): every later write of the
    # claim is fenced by it, so a worker that lost its claim can never move the Task.
    claim: Mapped[int] = mapped_column(Integer, default=0)
    # The one-unit-per-account rule's scope: "j<job id>", "o<order id>", or None (off).
    unit_scope: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # runs, whatever ended them
    # Transient failures (timeouts, 5xx, browser crashes) since the operator last queued the
    # unit again: what the retry policy bounds.
    temporary_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(50))
    screenshot: Mapped[str | None] = mapped_column(String(1000))
    screenshot_host: Mapped[str | None] = mapped_column(String(200))  # where the file is
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BuyBack(Base):
    """One purchased unit, as the marketplace confirmed it."""

    __tablename__ = "buyback"
    __table_args__ = (
        UniqueConstraint("marketplace_id", "order_number"),
        # The Accounts view counts the day's purchases of every account.
        Index("ix_buyback_purchased_at", "purchased_at"),
        # A claim counts the day's purchases of each account with a daily limit.
        Index("ix_buyback_account_day", "account_id", "purchased_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), unique=True)
    marketplace_id: Mapped[int] = mapped_column(ForeignKey("marketplace.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("marketplace_account.id"))
    order_number: Mapped[str] = mapped_column(String(100))
    price_minor: Mapped[int]
    purchased_at: Mapped[datetime]
    delivery_status: Mapped[DeliveryStatus] = mapped_column(
        String(30), default=DeliveryStatus.ORDERED
    )
    delivered_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None]  # when delivery tracking looks again


class TaskEvent(Base):
    """Append-only history of every Task state change."""

    __tablename__ = "task_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    at: Mapped[datetime]
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    account_id: Mapped[int | None]
    detail: Mapped[str] = mapped_column(Text, default="")


Row = TypeVarTuple("Row")


def with_line(stmt: Select[*Row], *, from_task: bool = True) -> Select[*Row]:
    """`stmt` joined from its Task (or, with `from_task=False`, its Job) to the order
    line's Article and PickupPoint: what one unit buys, and where it goes."""
    if from_task:
        stmt = stmt.join(Job, Job.id == Task.job_id)
    return (
        stmt.join(OrderLine, OrderLine.id == Job.order_line_id)
        .join(Article, Article.id == OrderLine.article_id)
        .join(PickupPoint, PickupPoint.id == OrderLine.pickup_point_id)
    )
