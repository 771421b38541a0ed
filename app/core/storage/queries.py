"""Read-only queries behind the console's views: which Tasks match a filter, the contents
of given Task rows, Orders with progress, accounts with their use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, ColumnElement, Select, case, cast, func, or_, select
from sqlalchemy.orm import Session

from app.core.domain.clock import day_start
from app.core.domain.codes import AccountStatus
from app.core.domain.models import (
    Article,
    BuyBack,
    Client,
    Job,
    MarketPlace,
    MarketPlaceAccount,
    Order,
    OrderLine,
    PickupPoint,
    Task,
    TaskEvent,
    utcnow,
    with_line,
)
from app.core.domain.states import (
    ACTIVE,
    BOUGHT,
    WAITING,
    OrderIntent,
    OrderStatus,
    TaskStatus,
    shown_status,
)
from app.core.drivers.assisted import local_profile_dir, on_another_host

T = TaskStatus


@dataclass
class TaskRow:
    id: int
    order_id: int
    job_id: int
    article: str
    article_title: str
    account_id: int | None
    account: str
    pickup_point: str
    status: TaskStatus
    attempts: int
    updated_at: datetime
    order_number: str
    error: str
    next_attempt_at: datetime | None = None  # when a unit in retry_wait is tried again


@dataclass(frozen=True)
class TaskFilter:
    order_id: int | None = None
    statuses: frozenset[TaskStatus] = frozenset()
    text: str = ""


# Columns of the Tasks table and the SQL each sorts by.
TASK_SORT = {
    "id": Task.id,
    "order": Task.order_id,
    "job": Task.job_id,
    "article": Article.sku,
    "account": MarketPlaceAccount.login,
    "pickup_point": PickupPoint.code,
    "status": Task.status,
    "attempts": Task.attempts,
    "updated": Task.updated_at,
    "order_number": BuyBack.order_number,
    "error": Task.last_error,
}


def _joined(stmt: Select) -> Select:
    return (
        with_line(stmt)
        .outerjoin(MarketPlaceAccount, MarketPlaceAccount.id == Task.account_id)
        .outerjoin(BuyBack, BuyBack.task_id == Task.id)
    )


def task_ids(s: Session, flt: TaskFilter, sort: str = "id", descending: bool = False) -> list[int]:
    """Ids of the Tasks matching the filter, in display order."""
    stmt = select(Task.id)
    needs_join = bool(flt.text) or sort not in (
        "id",
        "order",
        "job",
        "status",
        "attempts",
        "updated",
        "error",
    )
    if needs_join:
        stmt = _joined(stmt)
    if flt.order_id is not None:
        stmt = stmt.where(Task.order_id == flt.order_id)
    if flt.statuses:
        stmt = stmt.where(Task.status.in_(flt.statuses))
    if flt.text:
        like = f"%{flt.text.strip()}%"
        conds: list[ColumnElement[bool]] = [
            Article.sku.ilike(like),
            Article.title.ilike(like),
            MarketPlaceAccount.login.ilike(like),
            PickupPoint.code.ilike(like),
            BuyBack.order_number.ilike(like),
            Task.last_error.ilike(like),
        ]
        if flt.text.strip().isdigit():
            conds.append(Task.id == int(flt.text.strip()))
        stmt = stmt.where(or_(*conds))
    col = TASK_SORT.get(sort, Task.id)
    stmt = stmt.order_by(col.desc() if descending else col.asc(), Task.id)
    return list(s.scalars(stmt))


def task_rows(s: Session, ids: list[int]) -> dict[int, TaskRow]:
    stmt = _joined(
        select(
            Task.id,
            Task.order_id,
            Task.job_id,
            Article.sku,
            Article.title,
            Task.account_id,
            MarketPlaceAccount.login,
            PickupPoint.code,
            Task.status,
            Task.attempts,
            Task.updated_at,
            BuyBack.order_number,
            Task.last_error,
            Task.next_attempt_at,
        )
    ).where(Task.id.in_(ids))
    out = {}
    for r in s.execute(stmt):
        out[r[0]] = TaskRow(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4] or "",
            r[5],
            r[6] or "",
            r[7],
            TaskStatus(r[8]),
            r[9],
            r[10],
            r[11] or "",
            r[12] or "",
            r[13],
        )
    return out


@dataclass
class OrderRow:
    id: int
    client: str
    marketplace: str
    created_at: datetime
    lines: int
    total: int
    purchased: int
    delivered: int
    failed: int
    running: int
    waiting: int
    status: OrderStatus
    review: int = 0  # units the operator must look at (needs_review)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def order_rows(s: Session, limit: int = 1000) -> list[OrderRow]:
    """The newest Orders with their progress counts."""
    # Counted per Job, on the (job, status) index alone, then summed per Order.
    per_job = (
        select(
            Task.job_id.label("job_id"),
            func.count().label("total"),
            _count(Task.status.in_(BOUGHT)).label("bought"),
            _count(Task.status == T.DELIVERED).label("delivered"),
            _count(Task.status == T.FAILED).label("failed"),
            _count(Task.status == T.NEEDS_REVIEW).label("review"),
            _count(Task.status.in_(ACTIVE)).label("running"),
            _count(Task.status.in_(WAITING)).label("waiting"),
            _count(Task.status == T.CANCELLED).label("cancelled"),
        )
        .group_by(Task.job_id)
        .subquery()
    )
    # A sum of counts is NUMERIC on PostgreSQL (a Decimal): counts stay integers.
    sums = [cast(func.sum(c), BigInteger).label(c.name) for c in per_job.c if c.name != "job_id"]
    counts = (
        select(Job.order_id.label("order_id"), *sums)
        .join(per_job, per_job.c.job_id == Job.id)
        .group_by(Job.order_id)
        .subquery()
    )
    lines = (
        select(OrderLine.order_id, func.count().label("n")).group_by(OrderLine.order_id).subquery()
    )
    rows = s.execute(
        select(
            Order.id,
            Client.name,
            MarketPlace.name,
            Order.created_at,
            lines.c.n,
            counts.c.total,
            counts.c.bought,
            counts.c.delivered,
            counts.c.failed,
            counts.c.running,
            counts.c.waiting,
            Order.status,
            counts.c.review,
            Order.intent,
            counts.c.cancelled,
        )
        .join(Client, Client.id == Order.client_id)
        .join(MarketPlace, MarketPlace.id == Order.marketplace_id)
        .outerjoin(lines, lines.c.order_id == Order.id)
        .outerjoin(counts, counts.c.order_id == Order.id)
        .order_by(Order.id.desc())
        .limit(limit)
    ).all()
    return [
        OrderRow(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4] or 0,
            _wanted(r[5] or 0, r[14] or 0, r[13]),
            r[6] or 0,
            r[7] or 0,
            r[8] or 0,
            r[9] or 0,
            r[10] or 0,
            shown_status(r[13], r[11], r[6] or 0),
            r[12] or 0,
        )
        for r in rows
    ]


def _wanted(total: int, cancelled: int, intent: str) -> int:
    """The units an Order still wants: a running Order's cancelled units were dropped by
    the operator (a line's quantity lowered) and are not counted; a cancelled Order shows
    what it had."""
    return total if intent == OrderIntent.CANCELLED else total - cancelled


def status_counts(s: Session) -> dict[str, int]:
    """Tasks by status over every Order: the status bar's figures never shrink as Orders
    finish."""
    return dict(s.execute(select(Task.status, func.count()).group_by(Task.status)).all())


def purchases_since(s: Session, since: datetime) -> int:
    return (
        s.scalar(select(func.count()).select_from(BuyBack).where(BuyBack.purchased_at >= since))
        or 0
    )


@dataclass
class AccountRow:
    """One account as the Accounts view and `accounts list` show it: no secrets, only
    whether a session is stored."""

    id: int
    login: str
    marketplace: str
    label: str
    phone: str
    status: AccountStatus
    busy: bool
    health: str
    checked_at: datetime | None
    purchases_today: int
    daily_limit: int | None
    cooldown_until: datetime | None  # only while it lasts
    has_session: bool
    # The imported browser profile folder, and the host it is on when that is not this
    # computer (it cannot be opened here): "X (on host H)".
    profile_dir: str
    profile_host: str  # where the folder was imported ("" if not recorded)
    last_used_at: datetime | None
    last_error: str


def _until(value: datetime | None, now: datetime) -> datetime | None:
    return value if value is not None and value > now else None


def account_rows(s: Session) -> list[AccountRow]:
    now = utcnow()
    today = (
        select(BuyBack.account_id, func.count().label("n"))
        # The operator's local day, as the pool counts daily limits.
        .where(BuyBack.purchased_at >= day_start(now))
        .group_by(BuyBack.account_id)
        .subquery()
    )
    A = MarketPlaceAccount
    rows = s.execute(
        select(
            A.id,
            A.login,
            MarketPlace.name,
            A.label,
            A.phone,
            A.status,
            A.lease_owner,
            A.health,
            A.checked_at,
            today.c.n,
            A.daily_limit,
            A.cooldown_until,
            A.session_state.is_not(None).label("has_session"),
            A.profile_dir,
            A.profile_host,
            A.last_used_at,
            A.last_error,
        )
        .join(MarketPlace, MarketPlace.id == A.marketplace_id)
        .outerjoin(today, today.c.account_id == A.id)
        .order_by(MarketPlace.name, A.login)
    ).all()
    return [
        AccountRow(
            id=r.id,
            login=r.login,
            marketplace=r.name,
            label=r.label or "",
            phone=r.phone or "",
            status=AccountStatus(r.status),
            busy=r.lease_owner is not None,
            health=r.health or "unknown",
            checked_at=r.checked_at,
            purchases_today=r.n or 0,
            daily_limit=r.daily_limit,
            cooldown_until=_until(r.cooldown_until, now),
            has_session=bool(r.has_session),
            profile_dir=_profile_text(r.profile_dir, r.profile_host),
            profile_host=r.profile_host or "",
            last_used_at=r.last_used_at,
            last_error=r.last_error or "",
        )
        for r in rows
    ]


def _profile_text(profile_dir: str | None, profile_host: str | None) -> str:
    if profile_dir and on_another_host(profile_host):
        return f"{profile_dir} (on host {profile_host})"
    return profile_dir or ""


@dataclass
class TaskDetail:
    row: TaskRow
    history: list[tuple[datetime, str, str, int, str]]  # at, from, to, attempt, detail
    buyback: tuple[str, int, datetime, str] | None  # order number, price, time, delivery
    screenshot: str | None
    marketplace: str
    # Where the operator looks at the account's orders: (marketplace code, account id,
    # its profile folder on this computer or None for the console's own, the page), when
    # the Task has an account.
    account_page: tuple[str, int, str | None, str] | None = None
    # The computer the screenshot was saved on, when that is not this one (it cannot be
    # shown here).
    screenshot_host: str | None = None


def task_detail(s: Session, task_id: int) -> TaskDetail | None:
    rows = task_rows(s, [task_id])
    if task_id not in rows:
        return None
    history = [
        (e.at, e.from_status or "", e.to_status, e.attempt, e.detail)
        for e in s.scalars(
            select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
        )
    ]
    bb = s.scalar(select(BuyBack).where(BuyBack.task_id == task_id))
    task = s.get_one(Task, task_id)
    mp = s.scalar(
        select(MarketPlace)
        .join(Order, Order.marketplace_id == MarketPlace.id)
        .where(Order.id == task.order_id)
    )
    account = s.get(MarketPlaceAccount, task.account_id) if task.account_id else None
    page = None
    if mp is not None and account is not None:
        # The sandbox shows an account's orders on its own page; elsewhere the site's start.
        url = f"{mp.base_url}/account/orders" if mp.driver == "sandbox" else mp.base_url
        profile = local_profile_dir(account.login, account.profile_dir, account.profile_host)
        page = (mp.code, account.id, profile, url)
    return TaskDetail(
        rows[task_id],
        history,
        (bb.order_number, bb.price_minor, bb.purchased_at, bb.delivery_status) if bb else None,
        task.screenshot,
        mp.name if mp else "",
        page,
        task.screenshot_host if on_another_host(task.screenshot_host) else None,
    )


def client_names(s: Session) -> list[str]:
    return list(s.scalars(select(Client.name).order_by(Client.name)))
