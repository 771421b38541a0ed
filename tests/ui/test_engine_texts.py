"""The engine's texts in the operator's language: what the engine writes in English (a
Task's last error and history, an import's row reasons and notes), taken from the code
that writes it, reads in Russian with its values kept and money in the console's format;
a text no template knows stays as it is; and the views show them so."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers import make_supervisor, seed_market, tasks
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QLabel
from sqlalchemy import Connection, select, update
from translator import RUSSIAN, translated

from app.core.accounts.imports import Outcome, plan_import
from app.core.accounts.pool import PoolRules
from app.core.domain.clock import utcnow
from app.core.domain.codes import DeliveryStatus, ErrorCode
from app.core.domain.markets import MarketKind
from app.core.domain.models import MarketPlace, MarketPlaceAccount, Task, TaskEvent
from app.core.domain.states import OrderIntent, TaskStatus
from app.core.drivers.base import (
    AccountRef,
    BusinessError,
    PurchaseRequest,
    Receipt,
    TransientError,
)
from app.core.drivers.memory import MemoryDriver
from app.core.drivers.sandbox import (
    _READ_JS,
    _TARGET_JS,
    SandboxDriver,
    _check_cap,
    _out_of_stock,
    _session_expired,
    _Visit,
)
from app.core.engine import assisted, commands
from app.core.engine.assisted import NotBought, QueuedUnit, operator_name
from app.core.engine.purchases import check_reported_order
from app.core.engine.recovery import recover
from app.core.engine.tracking import track_due
from app.core.orders.imports import plan_orders
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.storage.markets import MarketIndex, MarketRef
from app.core.support import tables
from app.core.support.errors import internal_error
from app.core.support.logs import log_file
from app.core.support.text import Refused, rub
from app.ui.dialogs.accounts_import import AccountImportDialog
from app.ui.dialogs.orders_import import OrderImportDialog
from app.ui.engine_texts import NESTED, TEMPLATES, Template, engine_text, match
from app.ui.i18n import apply_language
from app.ui.views.tasks_model import COLUMNS as TASK_COLUMNS
from app.ui.views.tasks_model import TasksModel
from app.ui.views.tasks_view import TaskDetailDialog
from app.ui.views.to_buy import QueueModel

SHOP = "Sandbox Market"
URL = "http://127.0.0.1:9"
ME = "operator:ivan@ws1"
BOOM = RuntimeError("boom")


@pytest.fixture
def russian(qapp) -> Iterator[None]:
    """The console in Russian, with ru_RU formats, and the Russian proposed for the new
    texts (the compiled translation has the rest)."""
    apply_language("ru", QLocale("C"))
    with translated(RUSSIAN):
        yield
    apply_language("en")


@pytest.fixture
def english(qapp) -> Iterator[None]:
    apply_language("en", QLocale("C"))  # en_US formats
    yield


# -- the engine's texts, as its code writes them ------------------------------------------


def details(db, order_id: int, *, to: str | None = None, frm: str | None = None) -> list[str]:
    """The details of the Order's TaskEvents (those into `to`, out of `frm`), in order."""
    q = (
        select(TaskEvent.detail)
        .join(Task, Task.id == TaskEvent.task_id)
        .where(Task.order_id == order_id)
        .order_by(TaskEvent.id)
    )
    if to is not None:
        q = q.where(TaskEvent.to_status == to)
    if frm is not None:
        q = q.where(TaskEvent.from_status == frm)
    with db.reading() as s:
        return list(s.scalars(q))


def last_error(db, order_id: int) -> str:
    (error,) = {t.last_error for t in tasks(db, order_id)}
    return error


def transient(exc: PlaywrightError) -> TransientError:
    """What the sandbox driver makes of a browser's failure."""
    return SandboxDriver(URL, _Sessions(), shop=SHOP)._transient(exc)


def failing(make: Any, phase: str = "before", times: int = 1000) -> Any:
    """A fault plan: `make()` raised at `phase` of the first `times` attempts."""
    raised = [0]

    def plan(request: PurchaseRequest, at: str) -> None:
        if at == phase and raised[0] < times:
            raised[0] += 1
            raise make()

    return plan


async def run_order(db, driver: MemoryDriver, *lines: LineSpec, market: str = "mem") -> int:
    sup = make_supervisor(db, driver)
    order_id = await sup.submit(OrderSpec("C", market, list(lines)))
    await sup.run(until_idle=True)
    return order_id


async def runner_texts(db, facts: dict[str, str]) -> dict[str, str]:
    """The Task runner's, the TaskManager's and the operator's commands' texts."""
    seed_market(db, accounts=20)
    out: dict[str, str] = {}
    numbers = itertools.count(1)  # one marketplace: every driver numbers its orders anew

    def shop(kind: type[MemoryDriver] = MemoryDriver, **kw: Any) -> MemoryDriver:
        return kind(_numbers=numbers, **kw)

    expiring = await run_order(
        db, shop(faults=failing(lambda: _session_expired(SHOP))), LineSpec("A1", 1, "P1")
    )
    out["gave up"] = last_error(db, expiring)
    out["temporary error"] = details(db, expiring, to="retry_wait")[0]

    runs: dict[int, int] = {}

    def blocked_twice_then_slow(request: PurchaseRequest, at: str) -> None:
        runs[request.task_id] = runs.get(request.task_id, 0) + 1
        if runs[request.task_id] <= 2:
            raise BusinessError("blocked", code=ErrorCode.ACCOUNT_BLOCKED)
        raise transient(PlaywrightTimeoutError("Timeout 15000ms exceeded"))

    moved = await run_order(db, shop(faults=blocked_twice_then_slow), LineSpec("A2", 1, "P1"))
    out["gave up in all"] = last_error(db, moved)
    broken = await run_order(db, shop(faults=failing(lambda: BOOM)), LineSpec("A3", 1, "P1"))
    out["internal error"] = last_error(db, broken)

    class HistoryDown(MemoryDriver):
        async def find_purchase(self, *a: Any, **k: Any) -> None:  # type: ignore[override]
            raise transient(PlaywrightError("net::ERR_CONNECTION_RESET at /account/orders"))

    closed = failing(lambda: transient(PlaywrightError("Target page has been closed")), "after")
    review_driver = shop(HistoryDown, faults=closed)
    review = await run_order(db, review_driver, LineSpec("A1", 3, "P2"))
    out["review"] = last_error(db, review)
    odd = failing(lambda: transient(PlaywrightError("Protocol error: odd\nmore")), "after", 1)
    found = await run_order(db, shop(faults=odd), LineSpec("A2", 1, "P2"))
    out["found after"] = details(db, found, to="purchased")[0]
    capped = await run_order(db, shop(), LineSpec("A3", 1, "P2", "500"))
    out["memory cap"] = last_error(db, capped)

    sup = make_supervisor(db, shop(faults=lambda r, at: cancel()))
    cancelled = await sup.submit(OrderSpec("C", "mem", [LineSpec("A1", 1, "P1")]))

    def cancel() -> None:  # the operator cancels the Order while its unit is in the browser
        sup.ctx.hold(cancelled, OrderIntent.CANCELLED)

    await sup.run(until_idle=True)
    out["cancelled before"] = last_error(db, cancelled)

    class AtPickup(MemoryDriver):
        async def track(self, account: AccountRef, order_number: str) -> DeliveryStatus:
            return DeliveryStatus.AT_PICKUP_POINT

    tracked = shop(AtPickup)
    sup = make_supervisor(db, tracked)
    fine = await sup.submit(OrderSpec("C", "mem", [LineSpec("A3", 1, "P1")]))
    await sup.run(until_idle=True)

    async def drivers(_market: int) -> MemoryDriver:
        return tracked

    await track_due(db, drivers, sup.ctx.bus, interval_s=60)
    (out["created"],) = details(db, fine, to="pending")
    (out["order"],) = details(db, fine, to="purchased")
    (out["at pickup point"],) = details(db, fine, to="delivered")
    facts["number"] = tracked.ledger[0][2].order_number

    # The operator's verdicts on the units in review, and a retry of the failed unit.
    first, second, third = tasks(db, review)

    async def no_lookup(_market: int) -> object:
        return object()  # a driver that cannot read order histories

    out["unchecked"] = (await check_reported_order(db, no_lookup, first.id, "X-1", 100)).note
    sup = make_supervisor(db, review_driver)
    await sup.resolve_review(first.id, order_number=None)
    ledger = {login: r for login, _, r in review_driver.ledger}
    typo, right = ledger[second.login], ledger[third.login]
    await sup.resolve_review(second.id, order_number=typo.order_number, price_minor=123400)
    await sup.resolve_review(third.id, order_number=right.order_number, price_minor=100000)
    out["no order"], out["recorded"], out["checked"] = details(db, review, frm="needs_review")
    facts |= {"login": second.login, "number_typo": typo.order_number}
    facts |= {"login_right": third.login, "number_right": right.order_number}
    await sup.retry_failed(expiring)
    (out["retry"],) = details(db, expiring, frm="failed")

    # One account for two Orders of two units: each Order's second unit waits for one;
    # the operator cancels one Order, a defect stops the other's Job.
    seed_market(db, accounts=1, code="one")
    waiting = await run_order(db, shop(), LineSpec("A1", 2, "P1"), market="one")
    parked = await run_order(db, shop(), LineSpec("A1", 2, "P1"), market="one")
    (out["no free account"],) = details(db, waiting, to="waiting_account")
    with db.reading() as s:
        job = s.scalar(select(Task.job_id).where(Task.order_id == parked))
    await db.write(lambda c: commands.set_intent(c, waiting, OrderIntent.CANCELLED))
    await db.write(lambda c: commands.park_job(c, job, internal_error(BOOM)))
    (out["cancelled"],) = details(db, waiting, to="cancelled")
    (out["parked"],) = details(db, parked, to="failed")
    return out


def crashed_worker() -> str:
    import socket

    return f"{socket.gethostname()}:4194999:crashed"  # beyond Linux's pid_max: not running


async def recovery_texts(db, facts: dict[str, str]) -> dict[str, str]:
    """What a restart writes on the units a stopped console left mid-purchase."""
    seed_market(db, accounts=4, code="rec")

    class Shop(MemoryDriver):
        async def find_purchase(self, account: AccountRef, *a: Any, **k: Any) -> Any:
            if account.login == "rec-acc003":
                raise RuntimeError("the history page did not load")
            return await super().find_purchase(account, *a, **k)

    shop = Shop()
    order_id = await make_supervisor(db, shop).submit(
        OrderSpec("C", "rec", [LineSpec("A1", 4, "P1")])
    )
    ids = [t.id for t in tasks(db, order_id)]
    started = utcnow() - timedelta(seconds=5)
    with db.session() as s:
        logins = dict(s.execute(select(MarketPlaceAccount.login, MarketPlaceAccount.id)).all())
        for task_id, status, login in zip(
            ids,
            ("assigned", "running", "submitting", "running"),
            (None, "rec-acc001", "rec-acc002", "rec-acc003"),
            strict=True,
        ):
            s.execute(
                update(Task)
                .where(Task.id == task_id)
                .values(
                    status=status,
                    account_id=logins.get(login),
                    worker=crashed_worker(),
                    attempts=1,
                    started_at=started,
                )
            )
        s.commit()
    receipt = Receipt("REC-1", "A1", "P1", 100000, utcnow())  # placed before the stop
    shop.ledger.append(("rec-acc002", "A1", receipt))
    facts["found_number"] = receipt.order_number

    async def drivers(_market: int) -> MemoryDriver:
        return shop

    await recover(db, drivers, "me")
    with db.reading() as s:
        shown = dict(
            s.execute(
                select(TaskEvent.task_id, TaskEvent.detail)
                .where(TaskEvent.task_id.in_(ids))
                .order_by(TaskEvent.id)
            ).all()
        )
    return {
        "stopped before starting": shown[ids[0]],
        "no order after restart": shown[ids[1]],
        "found after restart": shown[ids[2]],
        "history not checked": shown[ids[3]],
    }


def worker_texts() -> dict[str, str]:
    """What several workers on one database say: a clock off the server's, a click not
    made for want of a fresh heartbeat, a worker taken for stopped."""
    from app.core.engine.heartbeat import clock_note
    from app.core.supervisor import LOST
    from app.core.task import NOT_FRESH

    return {
        "clock behind": clock_note(timedelta(seconds=900)) or "",
        "clock ahead": clock_note(timedelta(seconds=-61)) or "",
        "not fresh": NOT_FRESH,
        "lost": LOST,
    }


async def assisted_texts(db) -> dict[str, str]:
    """What the operator's records of purchases by hand write."""
    seed_market(db, accounts=20, code="wb")
    with db.session() as s:
        s.execute(
            update(MarketPlace).where(MarketPlace.code == "wb").values(driver=MarketKind.ASSISTED)
        )
        s.commit()
    order_id = await make_supervisor(db, MemoryDriver()).submit(
        OrderSpec("C", "wb", [LineSpec("A1", 12, "P1", "1500")])
    )
    out: dict[str, str] = {}
    now = utcnow()

    def records(conn: Connection) -> None:
        """The operator's day at the To buy view, in one transaction."""

        def take() -> int:
            return assisted.take_next(conn, ME, now).task_id

        bought = [take(), take()]
        assisted.record_bought(
            conn, bought[0], operator="ivan", order_number="WB-1", price_minor=129990, now=now
        )
        assisted.record_bought(
            conn,
            bought[1],
            operator="ivan",
            order_number="WB-2",
            price_minor=219000,
            over_cap_ok=True,
            now=now,
        )
        for reason in NotBought:
            for note in ("", "the seller cancelled"):
                if reason is NotBought.OTHER and not note:
                    continue  # refused: the note says why
                task_id = take()
                assisted.record_not_bought(
                    conn,
                    task_id,
                    operator="ivan",
                    reason=reason,
                    note=note,
                    now=now,
                    rules=PoolRules(),
                )
                error = conn.scalar(select(Task.last_error).where(Task.id == task_id))
                out[f"reason {reason} {bool(note)}"] = error
        assisted.skip(conn, take(), operator="ivan", now=now)
        assisted.mark_arrived(conn, bought, operator="ivan", now=now)

    await db.write(records)
    out["taken"] = details(db, order_id, to="running")[0]
    recorded = details(db, order_id, frm="running")
    out["bought"], out["bought over cap"], *not_bought, out["skipped"] = recorded
    for n, text in enumerate(not_bought):
        out[f"not bought {n}"] = text
    out["marked"] = details(db, order_id, to="delivered")[0]
    return out


class _Sessions:
    async def load(self, account_id: int) -> None:
        return None

    async def save(self, account_id: int, state: object) -> None:
        return None


class _Response:
    def __init__(self, status: int):
        self.status = status


class _Navigation:
    @property
    def value(self) -> Any:
        return asyncio.sleep(0, result=_Response(200))


class _Page:
    """As much of a Playwright page as the sandbox driver's steps use: which test ids are
    on it and what they show (its one-call read), and hands that leave no trace."""

    def __init__(self, *present: str, **data: Any):
        self.present = {"cart-link", *present}  # the shop's mark
        self.data = data
        self.url = f"{URL}/cart"

    async def goto(self, path: str) -> _Response:
        return _Response(200)

    async def evaluate(self, script: str, arg: Any) -> Any:
        # The driver's page scripts: what the page shows of the test ids asked for, and
        # every element usable where it clicks, types or chooses.
        if script == _READ_JS:
            return {name: self.data.get(name, [{}] if name in self.present else []) for name in arg}
        return [1.0, 1.0] if script == _TARGET_JS else True

    @property
    def mouse(self) -> _Hands:
        return _Hands()

    @property
    def keyboard(self) -> _Hands:
        return _Hands()

    @asynccontextmanager
    async def expect_navigation(self) -> AsyncIterator[_Navigation]:
        yield _Navigation()


class _Hands:
    """The fake page's mouse and keyboard: what they do leaves no trace on it."""

    async def click(self, x: float, y: float) -> None:
        pass

    async def insert_text(self, text: str) -> None:
        pass


async def driver_texts() -> dict[str, str]:
    """The sandbox driver's reasons, from its steps on pages that answer as the case is."""
    driver = SandboxDriver(URL, _Sessions(), shop=SHOP)
    account = AccountRef(1, "buyer001", "pw", URL)
    request = PurchaseRequest(1, account, "100001", "PVZ-9", 150000)
    out: dict[str, str] = {}

    async def reason(step: Any) -> str:
        try:
            await step
        except (BusinessError, TransientError) as exc:
            return exc.reason
        raise AssertionError("the step did not fail")

    def visit(page: _Page) -> Any:
        return _Visit(page, account, _Sessions(), SHOP, URL)  # type: ignore[arg-type]

    async def fill_cart(page: _Page) -> None:
        await driver._fill_cart(visit(page), request)

    async def prepare(page: _Page) -> None:
        await driver._prepare_checkout(visit(page), request)

    async def check_cap(where: str) -> None:
        _check_cap(request, 219000, where, SHOP)

    out["no article"] = await reason(fill_cart(_Page("not-found")))
    out["cap on page"] = await reason(check_cap("the product page"))
    out["cap at checkout"] = await reason(check_cap("checkout"))
    line = {"sku": "100001", "quantity": "1"}
    out["cart"] = await reason(prepare(_Page(**{"checkout-line": [line, line]})))
    choices = {
        "checkout-line": [line],
        "total": [{"totalMinor": "129990"}],
        "pickup-point": [{"options": ["PVZ-1", "PVZ-2"]}],
    }
    out["pickup point"] = await reason(prepare(_Page(**choices)))
    out["not confirmed"] = await reason(driver._place_order(visit(_Page()), request))
    out["out of stock"] = _out_of_stock("100001", SHOP).reason
    out["session"] = _session_expired(SHOP).reason
    out["slow"] = transient(PlaywrightTimeoutError("Timeout 15000ms exceeded")).reason
    out["connection"] = transient(PlaywrightError("net::ERR_CONNECTION_REFUSED at /")).reason
    out["crashed"] = transient(PlaywrightError("Browser has been closed")).reason
    out["browser"] = transient(PlaywrightError("Protocol error: odd\nmore")).reason
    out["http"] = await reason(visit(_Page()).arrived(_Response(503), "/checkout"))  # type: ignore[arg-type]
    foreign = _Page()
    foreign.present.clear()
    out["not the shop"] = await reason(visit(foreign).arrived(_Response(404), "/product/1"))  # type: ignore[arg-type]
    out["another site"] = await reason(visit(foreign).arrived(_Response(200), "/cart"))  # type: ignore[arg-type]
    blocked = visit(_Page("account-blocked"))
    out["blocked"] = await reason(blocked.needs_login(await blocked.read()))
    out["password"] = await reason(visit(_Page("login-error")).log_in())
    return out


def import_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Where an account list's rows are and why they are left out; the notes on how a
    list was read; a cell's problem in an order list. (A database of their own: one
    marketplace set up.)"""
    db = Database(str(tmp_path / "imports.sqlite3"))
    seed_market(db, accounts=1)
    out: dict[str, str] = {}
    listing = tmp_path / "accounts.csv"
    rows = [
        "Логин;Пароль;Маркетплейс;Лимит в день;Колонка",
        ";pw;mem;;",
        "bad\u00adlogin;pw;mem;;",
        "ctl;p\x01w;mem;;",
        "zz-user;pw;zz;;",
        "limit-user;pw;mem;5x;",
        f"{'l' * 201};pw;mem;;",
        "twice;pw;mem;;",
        "twice;pw;mem;;",
        "no-password;;mem;;",
        "mem-acc000;pw;mem;;",
    ]
    listing.write_bytes("\n".join(rows).encode("cp1251"))
    with db.reading() as s:
        plan = plan_import(s, listing, default_marketplace="mem")
    out["read as"], out["not used"] = plan.notes
    out["row"] = plan.rows[0].where
    keys = (
        "login empty",
        "invisible",
        "control",
        "unknown marketplace",
        "daily limit",
        "too long",
        None,
        "duplicate",
        "no password",
        "same values",
    )
    for key, row in zip(keys, plan.rows, strict=True):
        if key:
            out[key] = row.reason
    assert plan.rows[6].outcome is Outcome.ADD

    tabbed = tmp_path / "accounts.tsv"
    tabbed.write_bytes("\ufeffwho\tpassword\nx\ty\n".encode())
    with db.reading() as s:
        plan = plan_import(s, tabbed, default_marketplace="mem")
    out["read as tab"] = plan.notes[0]
    out["header"] = plan.rows[0].where
    out["no login column"] = plan.rows[0].reason

    western = tmp_path / "konten.csv"
    western.write_bytes(
        "Login;Passwort;Phone;Label\nmem-acc000;pw;+49 30 1;Müller\n".encode("cp1252")
    )
    with db.reading() as s:
        plan = plan_import(s, western, default_marketplace="mem")
    out["read as western"] = plan.notes[0]
    for name in plan.rows[0].changes:
        out[f"change {name}"] = name

    book = openpyxl.Workbook()
    book.active.title = "Аккаунты"
    book.active.append(["login", "password"])
    book.active.append(["x", "y"])
    book.save(tmp_path / "accounts.xlsx")
    with db.reading() as s:
        out["sheet"] = plan_import(s, tmp_path / "accounts.xlsx", default_marketplace="mem").notes[
            0
        ]

    folder = tmp_path / "sessions"
    folder.mkdir()
    (folder / "a.json").write_text("{not json", encoding="utf-8")
    (folder / "b.json").write_bytes(b'{"cookies": [], "login": "\xff"}')
    (folder / "c.json").write_text('{"login": "c"}', encoding="utf-8")
    (folder / "d.json").write_text(" ", encoding="utf-8")
    (folder / "e.json").write_bytes(b"{}" + b" " * (3 * 2**20))
    (folder / "readme.txt").write_text("hello", encoding="utf-8")
    (folder / "mem-acc000.json").write_text('{"cookies": []}', encoding="utf-8")
    (folder / "mem-acc000").mkdir()
    (folder / "mem-acc000" / "Local State").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(tables, "MAX_BYTES", 2**20)
    with db.reading() as s:
        plan = plan_import(s, folder, default_marketplace="mem")
    out["not account files"] = plan.notes[0]
    reasons = {r.source: r.reason for r in plan.rows}
    out["invalid json"] = reasons["a.json"]
    out["not utf-8"] = reasons["b.json"]
    out["not a storage state"] = reasons["c.json"]
    out["empty file"] = reasons["d.json"]
    out["too big"] = reasons["e.json"]
    for row in plan.rows:
        for name in row.changes:
            out[f"change {name}"] = name
    try:
        tables.read_bytes(folder)
    except tables.Unreadable as exc:
        out["cannot read"] = exc.reason

    markets = [
        (MarketRef(1, "mem", "Market mem", MarketKind.MEMORY, True), {"mem", "shop"}),
        (MarketRef(2, "two", "Market two", MarketKind.MEMORY, True), {"two", "shop"}),
    ]
    for key, index, given in (
        ("no marketplace yet", MarketIndex([]), "zz"),
        ("more than one", MarketIndex(markets), "shop"),
        ("not set up", MarketIndex(markets), "wildberries"),
    ):
        try:
            index.get(given)
        except Refused as exc:
            out[key] = str(exc)

    orders = tmp_path / "orders.csv"
    orders.write_text(
        "Заказы на 27.11\nКлиент;Артикул;Количество;ПВЗ\nООО\u200b Ромашка;A1;1;P1\nИТОГО;;1;\n",
        encoding="utf-8",
    )
    with db.reading() as s:
        plan = plan_orders(s, orders, default_marketplace="mem", max_units_per_line=100)
    out["taken as header"], out["totals"] = (n for n in plan.notes if n.startswith("row"))
    out["order cell"] = str(plan.rows[0].errors[0].message)
    orders.write_text("Заказы\nна 27.11\nКлиент;Артикул;Количество;ПВЗ\nООО;A1;1;P1\n", "utf-8")
    with db.reading() as s:
        plan = plan_orders(s, orders, default_marketplace="mem", max_units_per_line=100)
    out["taken as header below two"] = plan.notes[-1]
    db.close()
    return out


@dataclass
class Written:
    """The engine's texts by what they are about, and the values they hold that the test
    cannot know beforehand (order numbers, logins)."""

    texts: dict[str, str]
    facts: dict[str, str]


@pytest.fixture
async def written(db, tmp_path, monkeypatch) -> Written:
    facts: dict[str, str] = {}
    texts = {
        **(await runner_texts(db, facts)),
        **(await recovery_texts(db, facts)),
        **worker_texts(),
        **(await assisted_texts(db)),
        **(await driver_texts()),
        **import_texts(tmp_path, monkeypatch),
    }
    return Written(texts, facts)


# What the operator reads in the Russian console, by what the text is about; {values} are
# those of Written.facts, the operator's name and the log file.
RU = {
    # the Task runner, the TaskManager, the operator's commands
    "gave up": "попытки исчерпаны (3): Сессия на Sandbox Market всё время истекала; заказ не "
    "подтверждён",
    "temporary error": "временная ошибка 1 из 3: Сессия на Sandbox Market всё время "
    "истекала; заказ не подтверждён",
    "gave up in all": "попытки исчерпаны: временных ошибок — 3 (всего попыток — 5, считая "
    "повторы после смены аккаунта или перезапуска): Sandbox Market не ответил за 15 с",
    "internal error": "внутренняя ошибка: RuntimeError: boom",
    "review": "Браузер закрылся или упал; для следующей попытки он будет перезапущен; заказ "
    "мог быть оформлен, а проверить это не удалось (Не удалось соединиться с Sandbox Market "
    "(net::ERR_CONNECTION_RESET)): посмотрите историю заказов аккаунта",
    "found after": "найден в истории заказов после ошибки: Сбой браузера: Protocol error: odd",
    "memory cap": "Артикул A3 стоит 1\u00a0000,00\u00a0₽ — выше макс. цены 500,00\u00a0₽",
    "cancelled before": "отменено оператором до оформления заказа",
    "created": "создана",
    "order": "заказ {number}",
    "at pickup point": "заказ {number} в пункте выдачи",
    "unchecked": "не проверено: консоль не читает заказы Market mem",
    "no order": "оператор {operator}: заказа нет; снова в очереди",
    "recorded": "оператор {operator}: записан заказ {number_typo} за 1\u00a0000,00\u00a0₽ "
    "(проверено по истории заказов {login} на Market mem; записана цена магазина, а не "
    "введённая 1\u00a0234,00\u00a0₽)",
    "checked": "оператор {operator}: записан заказ {number_right} за 1\u00a0000,00\u00a0₽ "
    "(проверено по истории заказов {login_right} на Market mem)",
    "retry": "повтор по запросу оператора",
    "no free account": "нет свободного аккаунта",
    "cancelled": "отменено оператором",
    "parked": "внутренняя ошибка (RuntimeError: boom); это дефект консоли, подробности в "
    "журнале {log}",
    # a restart
    "stopped before starting": "обработчик остановился, не начав покупку; единица снова в очереди",
    "no order after restart": "после перезапуска заказа на маркетплейсе нет; единица снова в "
    "очереди",
    "found after restart": "заказ {found_number} найден в истории заказов после перезапуска",
    "clock behind": "Часы этого компьютера отстают от часов сервера базы данных на 900 с. "
    "Движок пользуется временем сервера; поправьте часы компьютера (синхронизация времени).",
    "clock ahead": "Часы этого компьютера спешат относительно часов сервера базы данных на 61 "
    "с. Движок пользуется временем сервера; поправьте часы компьютера (синхронизация времени).",
    "not fresh": "не заказано: этот обработчик какое-то время не связывался с базой данных "
    "(его сигнал жизни запоздал), и единицу мог забрать другой обработчик; снова в очереди",
    "lost": "Этот обработчик признан остановленным (долго не было сигнала жизни: компьютер "
    "засыпал или база данных была недоступна), и его покупки переданы другим обработчикам. "
    "Он снова подключится как новый обработчик, когда покупки, которые он делал, будут "
    "записаны.",
    "history not checked": "после перезапуска не удалось проверить историю заказов (the "
    "history page did not load); посмотрите заказы аккаунта rec-acc003 по артикулу A1 и "
    "запишите покупку или повторите",
    # purchases by hand
    "taken": "взята в работу: ivan",
    "bought": "выкуплено (ivan): заказ WB-1, 1\u00a0299,90\u00a0₽",
    "bought over cap": "выкуплено (ivan): заказ WB-2, 2\u00a0190,00\u00a0₽, выше макс. цены "
    "1\u00a0500,00\u00a0₽ (подтверждено)",
    "not bought 0": "не выкуплено (ivan): нет в наличии",
    "not bought 1": "не выкуплено (ivan): нет в наличии: the seller cancelled",
    "not bought 2": "не выкуплено (ivan): цена выше макс. цены",
    "not bought 3": "не выкуплено (ivan): цена выше макс. цены: the seller cancelled",
    "not bought 4": "не выкуплено (ivan): аккаунт заблокирован",
    "not bought 5": "не выкуплено (ivan): аккаунт заблокирован: the seller cancelled",
    "not bought 6": "не выкуплено (ivan): проблема с аккаунтом",
    "not bought 7": "не выкуплено (ivan): проблема с аккаунтом: the seller cancelled",
    "not bought 8": "не выкуплено (ivan): не удалось купить: the seller cancelled",
    "reason out_of_stock False": "нет в наличии",
    "reason out_of_stock True": "нет в наличии: the seller cancelled",
    "reason price_above_cap False": "цена выше макс. цены",
    "reason price_above_cap True": "цена выше макс. цены: the seller cancelled",
    "reason account_blocked False": "аккаунт заблокирован",
    "reason account_blocked True": "аккаунт заблокирован: the seller cancelled",
    "reason account_problem False": "проблема с аккаунтом",
    "reason account_problem True": "проблема с аккаунтом: the seller cancelled",
    "reason other True": "не удалось купить: the seller cancelled",
    "skipped": "пропущено (ivan); снова в очереди",
    "marked": "в пункте выдачи (отметил ivan)",
    # the sandbox driver
    "no article": "Артикула 100001 нет на Sandbox Market",
    "cap on page": "Артикул 100001 стоит 2\u00a0190,00\u00a0₽ на Sandbox Market (страница "
    "товара) — выше макс. цены заказа 1\u00a0500,00\u00a0₽",
    "cap at checkout": "Артикул 100001 стоит 2\u00a0190,00\u00a0₽ на Sandbox Market "
    "(оформление заказа) — выше макс. цены заказа 1\u00a0500,00\u00a0₽",
    "cart": "При оформлении в корзине на Sandbox Market не ровно одна единица 100001 "
    "(возможно, аккаунтом пользуется другая сессия); ничего не заказано.",
    "pickup point": "Sandbox Market не предлагает пункт выдачи PVZ-9 (есть: PVZ-1, PVZ-2)",
    "not confirmed": "Sandbox Market не подтвердил заказ (браузер оказался на /cart); "
    "проверьте историю заказов аккаунта, прежде чем повторять.",
    "out of stock": "Артикула 100001 нет в наличии на Sandbox Market",
    "session": "Сессия на Sandbox Market всё время истекала; заказ не подтверждён",
    "slow": "Sandbox Market не ответил за 15 с",
    "connection": "Не удалось соединиться с Sandbox Market (net::ERR_CONNECTION_REFUSED)",
    "crashed": "Браузер закрылся или упал; для следующей попытки он будет перезапущен",
    "browser": "Сбой браузера: Protocol error: odd",
    "http": "Sandbox Market ответил HTTP 503 на /checkout",
    "not the shop": "http://127.0.0.1:9 ответил HTTP 404 на /product/1: это не маркетплейс "
    "Sandbox Market; проверьте адрес маркетплейса",
    "another site": "http://127.0.0.1:9 ответил на /cart страницей другого сайта: это не "
    "маркетплейс Sandbox Market; проверьте адрес маркетплейса",
    "blocked": "Аккаунт buyer001 заблокирован на Sandbox Market",
    "password": "Sandbox Market не принял пароль аккаунта buyer001; исправьте его в списке "
    "аккаунтов",
    # imports: where a row is, why it is left out, how the list was read
    "read as": "прочитан как cp1251 (кириллица Windows), столбцы разделены знаком ';'",
    "not used": "столбец «Колонка» не используется",
    "row": "строка 2",
    "login empty": "поле «Логин» пустое; укажите логин аккаунта",
    "invisible": "поле «Логин» содержит невидимый символ (U+00AD SOFT HYPHEN), из-за которого "
    "значение выглядит как другое; наберите его заново без этого символа",
    "control": "поле «Пароль» содержит управляющий символ (U+0001), которого в списках не "
    "бывает: файл повреждён или сохранён не из электронной таблицы; выгрузите список заново",
    "unknown marketplace": "поле «Маркетплейс»: неизвестный маркетплейс «zz» (настроены: mem "
    "(Market mem)); добавьте его в окне «Маркетплейсы» или укажите один из настроенных",
    "daily limit": "поле «Лимит в день»: «5x» — не целое число покупок (оставьте пустым, если "
    "лимита нет)",
    "too long": "поле «Логин» длиннее 200 символов",
    "duplicate": "повтор: строка 8 (тот же логин)",
    "no password": "поле «Пароль» пустое; новому аккаунту нужен пароль",
    "same values": "уже сохранён с теми же значениями",
    "read as tab": "прочитан как UTF-8 с BOM, столбцы разделены табуляцией",
    "header": "строка 1 (заголовок)",
    "no login column": "нет столбца с логином: назовите столбец аккаунтов «Логин» или «login» "
    "(в заголовке: who, password)",
    "sheet": "прочитан первый лист, «Аккаунты»",
    "read as western": "прочитан как cp1252 (западноевропейская Windows), столбцы разделены "
    "знаком ';'",
    "change phone": "Телефон",
    "change label": "Метка",
    "change session": "Сессия",
    "change profile": "Профиль",
    "not account files": "не файлы аккаунтов, пропущены: readme.txt",
    "invalid json": "ошибка в JSON: Expecting property name enclosed in double quotes "
    "(строка 1, столбец 2)",
    "not utf-8": "не текстовый файл в UTF-8; сохраните его как JSON в UTF-8",
    "not a storage state": "не сохранённая сессия Playwright (нет списка «cookies»)",
    "empty file": "файл пуст; выгрузите его заново",
    "too big": "файл занимает 3 МБ — больше предела 1 МБ; разбейте его на файлы поменьше",
    "cannot read": "не удаётся прочитать файл (Is a directory)",
    "no marketplace yet": "неизвестный маркетплейс «zz»: маркетплейсы ещё не настроены; "
    "добавьте маркетплейс в окне «Маркетплейсы» (или: main.py marketplaces add CODE --preset "
    "NAME)",
    "more than one": "«shop» подходит к нескольким маркетплейсам; укажите код (mem (Market "
    "mem), two (Market two))",
    "not set up": "«wildberries» — это Wildberries, он здесь не настроен; добавьте его в окне "
    "«Маркетплейсы» (или: main.py marketplaces add wb --preset wildberries)",
    "taken as header": "строка 2 взята как заголовок (строка над ней пропущена)",
    "taken as header below two": "строка 3 взята как заголовок (строк над ней пропущено: 2)",
    "totals": "строка 4 пропущена: это строка итогов («ИТОГО»)",
    "order cell": "содержит невидимый символ (U+200B ZERO WIDTH SPACE), из-за которого "
    "значение выглядит как другое; наберите его заново без этого символа",
}


def used(text: str) -> Iterator[Template]:
    """The templates that make `text`, a nested text's too."""
    found = match(text)
    if found is not None:
        template, values = found
        yield template
        for name, kind in template.kinds:
            if kind == NESTED:
                yield from used(values[name])


def test_every_engine_text_reads_in_russian_with_its_values(russian, written) -> None:
    t, facts = written.texts, written.facts
    shown = {k: engine_text(v) for k, v in t.items()}
    assert shown == {
        k: v.format(**facts, operator=operator_name(), log=log_file()) for k, v in RU.items()
    }
    # Every template is one the engine writes: each was found in a text above.
    found = {x.source for text in t.values() for x in used(text)}
    assert sorted({x.source for x in TEMPLATES} - found) == []


def test_every_new_template_has_russian_naming_its_values() -> None:
    new = {t.source: t for t in TEMPLATES if t.context == "EngineText"}
    assert new.keys() == {k for c, k in RUSSIAN if c == "EngineText"}
    for source, t in new.items():
        named = set(re.findall(r"\{(\w+)\}", RUSSIAN["EngineText", source]))
        assert named == {name for name, _ in t.kinds}, source


def test_a_text_no_template_knows_stays_as_it_is(russian) -> None:
    for text in ("HTTP 503 from the marketplace", "", "order", "row five", "{0} of {1}"):
        assert engine_text(text) == text
    # A known text around an unknown reason: the known part in Russian, the reason kept.
    assert engine_text("temporary error 2 of 3: HTTP 503 from the marketplace") == (
        "временная ошибка 2 из 3: HTTP 503 from the marketplace"
    )


def test_money_in_an_engine_text_follows_the_consoles_format(english) -> None:
    text = f"bought by ivan: order 7, {rub(219000)}, above the cap of {rub(150000)} (confirmed)"
    assert engine_text(text) == (
        "bought by ivan: order 7, ₽2,190.00, above the cap of ₽1,500.00 (confirmed)"
    )


def test_a_translation_that_does_not_fit_its_values_falls_back_to_english(qapp) -> None:
    with translated({("EngineText", "taken by {0}"): "взята в работу: {1}"}):
        assert engine_text("taken by ivan") == "taken by ivan"


# -- where the console shows them ----------------------------------------------------------


@pytest.fixture
def failed_unit(db) -> tuple[int, str]:
    """A unit the engine gave up on, as its history and last error say in English."""
    seed_market(db, accounts=3)
    driver = MemoryDriver(faults=failing(lambda: _session_expired(SHOP)))
    order_id = asyncio.run(run_order(db, driver, LineSpec("A1", 1, "P1")))
    ((task_id, error),) = [(t.id, t.last_error) for t in tasks(db, order_id)]
    return task_id, error


GAVE_UP = "попытки исчерпаны (3): Сессия на Sandbox Market всё время истекала; заказ не подтверждён"


def test_the_tasks_table_shows_a_units_error_in_russian(qtbot, db, russian, failed_unit) -> None:
    model = TasksModel(db)
    model.reload()
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=5000)
    cell = model.index(0, [key for key, _ in TASK_COLUMNS].index("error"))
    qtbot.waitUntil(lambda: model.data(cell) is not None, timeout=5000)
    assert model.data(cell) == GAVE_UP
    assert model.data(cell, Qt.ItemDataRole.ToolTipRole) == GAVE_UP


def test_a_tasks_history_and_error_read_in_russian(qtbot, db, russian, failed_unit) -> None:
    task_id, _ = failed_unit
    dialog = TaskDetailDialog(db, task_id)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.history.rowCount() > 0, timeout=5000)
    shown = [dialog.history.item(n, 4).text() for n in range(dialog.history.rowCount())]
    assert shown[0] == "создана"
    assert (
        "временная ошибка 1 из 3: Сессия на Sandbox Market всё время истекала; заказ не "
        "подтверждён" in shown
    )
    assert shown[-1] == GAVE_UP
    assert GAVE_UP in [label.text() for label in dialog.findChildren(QLabel)]


def queued(last_error: str) -> QueuedUnit:
    return QueuedUnit(
        7,
        3,
        1,
        "C",
        "Wildberries",
        "A1",
        "Kettle",
        "P1",
        "Tverskaya 1",
        150000,
        TaskStatus.PENDING,
        last_error,
        None,
    )


def test_the_to_buy_queue_shows_the_last_error_in_russian(russian) -> None:
    model = QueueModel()
    model.show([queued("a problem with the account: the seller cancelled")])
    assert model.data(model.index(0, 7)) == "проблема с аккаунтом: the seller cancelled"


def test_the_to_buy_views_price_cap_is_money_as_the_console_writes_it(english) -> None:
    model = QueueModel()
    model.show([queued("")])
    assert model.data(model.index(0, 5)) == "₽1,500.00"  # as every other amount in English


def test_an_account_lists_preview_says_where_and_why_in_russian(
    qtbot, db, russian, tmp_path
) -> None:
    seed_market(db, accounts=1)
    listing = tmp_path / "accounts.csv"
    listing.write_bytes(
        "Логин;Пароль;Телефон;Колонка\n;pw;;\nmem-acc000;pw;+7 900 1;\n".encode("cp1251")
    )
    dialog = AccountImportDialog(db)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.marketplace_box.count() == 1, timeout=5000)
    dialog.choose(listing)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=5000)
    model = dialog.model
    assert [model.data(model.index(n, 0)) for n in range(2)] == ["строка 2", "строка 3"]
    assert [model.data(model.index(n, 4)) for n in range(2)] == [
        "поле «Логин» пустое; укажите логин аккаунта",
        "изменения: Телефон",
    ]
    assert model.data(model.index(0, 4), Qt.ItemDataRole.ToolTipRole) == (
        "поле «Логин» пустое; укажите логин аккаунта"
    )
    assert (
        "Прочитан как cp1251 (кириллица Windows), столбцы разделены знаком ';'; столбец "
        "«Колонка» не используется." in dialog.summary.text()
    )


def test_an_order_lists_preview_names_a_cells_problem_in_russian(
    qtbot, db, russian, tmp_path
) -> None:
    seed_market(db, accounts=1)
    listing = tmp_path / "orders.csv"
    listing.write_text("Клиент;Артикул;Количество;ПВЗ\nООО\u200b Ромашка;A1;1;P1\n", "utf-8")
    dialog = OrderImportDialog(db, max_units_per_line=100)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.marketplace_box.count() == 1, timeout=5000)
    dialog.choose(listing)
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=5000)
    assert dialog.model.data(dialog.model.index(0, 8)) == (
        "Клиент: содержит невидимый символ (U+200B ZERO WIDTH SPACE), из-за которого значение "
        "выглядит как другое; наберите его заново без этого символа"
    )


def test_a_wrapped_text_is_read_from_its_outer_message(qtbot) -> None:
    """Where two templates fit, the one that explains more of the text wins, counting the
    texts nested in its values (the outer template starts with words, the inner with one
    of its values)."""
    from app.ui.engine_texts import match

    found = match("temporary error 1 of 3: Market mem did not answer within 15 s")
    assert found is not None
    template, values = found
    assert template.source == "temporary error {0} of {1}: {2}"
    assert values["2"] == "Market mem did not answer within 15 s"
