"""The sandbox marketplace web server (aiohttp, 127.0.0.1 only) with its fault knobs and CLI."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import signal
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from app.sandbox import pages
from app.sandbox.ledger import EmptyCart, Ledger, LedgerOrder, LoginResult, OutOfStock, utc_now
from app.sandbox.seed import PICKUP_POINTS

SESSION_COOKIE = "sb_session"
# The request's logged-in login (None: anonymous), resolved once per request.
_VIEWER = web.RequestKey[str | None]("viewer")
DEFAULT_PORT = 8765
DEFAULT_LEDGER = Path("sandbox-ledger.sqlite3")
_PICKUP_CODES = frozenset(p.code for p in PICKUP_POINTS)
# Price shown at checkout when the price-rise knob fires: 50% above the product page.
_PRICE_RISE_FACTOR = 1.5

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class SandboxOptions:
    """How the shop behaves. The `*_rate` knobs are probabilities per request (0..1) and
    never apply to /admin/*; `seed` makes their dice reproducible."""

    latency_ms: int = 0
    error_rate: float = 0.0
    stock: int | None = None
    delivery_seconds: float = 30.0
    accounts: int = 50
    seed: int | None = None
    price_rise_rate: float = 0.0
    session_expiry_rate: float = 0.0
    crash_after_order_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in (
            "error_rate",
            "price_rise_rate",
            "session_expiry_rate",
            "crash_after_order_rate",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if self.latency_ms < 0 or self.accounts < 0 or self.delivery_seconds < 0:
            raise ValueError("latency_ms, accounts and delivery_seconds must not be negative")
        if self.stock is not None and self.stock < 0:
            raise ValueError(f"stock must not be negative, got {self.stock}")


def delivery_status(placed_at: datetime, now: datetime, delivery_seconds: float) -> str:
    """ordered → in_transit after `delivery_seconds` → at_pickup_point after twice that."""
    elapsed = (now - placed_at).total_seconds()
    if elapsed >= 2 * delivery_seconds:
        return "at_pickup_point"
    if elapsed >= delivery_seconds:
        return "in_transit"
    return "ordered"


def _html(body: str, *, login: str | None, title: str, status: int = 200) -> web.Response:
    return web.Response(
        text=pages.layout(title, body, login=login), status=status, content_type="text/html"
    )


def _safe_next(value: str | None) -> str:
    # Only local paths: a login form must never redirect to another site.
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value


class SandboxServer:
    """The shop bound to `host:port` (port 0 picks a free one), serving `ledger_path`.

    Run it on the caller's loop (`await start()` / `await stop()`) or on its own loop in a
    daemon thread (`start_in_thread()` / `stop_thread()`). `ledger` is the open Ledger.
    """

    def __init__(
        self,
        ledger_path: Path,
        options: SandboxOptions | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.ledger_path = Path(ledger_path)
        self.options = options or SandboxOptions()
        self.host = host
        self.port = port
        self.ledger: Ledger | None = None
        self._rng = random.Random(self.options.seed)
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._own_hosts: set[str] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the sandbox server is not running")
        return self._url

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> str:
        self.ledger = Ledger(self.ledger_path)
        self.ledger.seed(self.options.accounts, self.options.stock)
        self._runner = web.AppRunner(self._make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        port = self._runner.addresses[0][1]
        self._url = f"http://{self.host}:{port}"
        # The Host values that name this shop: its address and the loopback names.
        self._own_hosts = {f"{name}:{port}" for name in {self.host, "127.0.0.1", "localhost"}}
        return self._url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None
        self._url = None

    def start_in_thread(self) -> str:
        """Start on a new event loop in a daemon thread; returns the base url."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="sandbox-marketplace", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            return asyncio.run_coroutine_threadsafe(self.start(), loop).result()
        except BaseException:
            self._end_thread()
            raise

    def stop_thread(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result()
        self._end_thread()

    def _end_thread(self) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        self._loop = self._thread = None

    def update_options(self, **changes: Any) -> SandboxOptions:
        """Change knobs of the running shop (validated); `stock` and `accounts` also update
        the ledger, `seed` restarts the dice."""
        self.options = dataclasses.replace(self.options, **changes)
        if self.ledger is not None and ("stock" in changes or "accounts" in changes):
            self.ledger.seed(self.options.accounts, self.options.stock)
        if "seed" in changes:
            self._rng = random.Random(self.options.seed)
        return self.options

    # -- plumbing ------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._admin_guard, self._faults])
        app.add_routes(
            [
                web.get("/", self._catalog),
                web.get("/login", self._login_page),
                web.post("/login", self._login),
                web.post("/logout", self._logout),
                web.get("/product/{sku}", self._product),
                web.get("/cart", self._cart),
                web.post("/cart/add", self._cart_add),
                web.post("/cart/clear", self._cart_clear),
                web.get("/checkout", self._checkout_page),
                web.post("/checkout", self._checkout),
                web.get("/orders/{number}", self._confirmation),
                web.get("/account/orders", self._history),
                web.get("/admin/orders.json", self._admin_orders),
                web.get("/admin/stats.json", self._admin_stats),
                web.post("/admin/products/{sku}", self._admin_product),
                web.post("/admin/accounts/{login}", self._admin_account),
                web.post("/admin/options", self._admin_options),
            ]
        )
        return app

    @web.middleware
    async def _admin_guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The admin endpoints answer only the shop's own address: any web page open on
        this machine can send requests to 127.0.0.1, but a foreign page's requests carry
        its Origin, and a foreign name resolving to 127.0.0.1 (DNS rebinding) its Host."""
        if request.path.startswith("/admin/"):
            host, origin = request.host.lower(), request.headers.get("Origin")
            if host not in self._own_hosts:
                raise web.HTTPForbidden(text=f"admin: Host {host} is not this shop's address")
            if origin is not None and origin.lower().removeprefix("http://") not in self._own_hosts:
                raise web.HTTPForbidden(text=f"admin: requests from {origin} are refused")
        return await handler(request)

    def _roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    @web.middleware
    async def _faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/admin/"):
            return await handler(request)
        if self.options.latency_ms:
            await asyncio.sleep(self.options.latency_ms / 1000)
        if self._roll(self.options.error_rate):
            return _html(pages.server_error(), login=None, title="Ошибка", status=503)
        try:
            return await handler(request)
        except _Blocked as blocked:
            return _html(pages.account_blocked(blocked.login), login=None, title="Вход", status=403)

    @property
    def _db(self) -> Ledger:
        if self.ledger is None:
            raise RuntimeError("the sandbox server is not running")
        return self.ledger

    def _viewer(self, request: web.Request) -> str | None:
        """The logged-in login, or None; cached on the request. A blocked account's session
        is dropped and answered with the blocked page."""
        if _VIEWER in request:
            return request[_VIEWER]
        login = None
        token = request.cookies.get(SESSION_COOKIE)
        account = self._db.session_account(token) if token else None
        if token and account is not None:
            login, blocked = account
            if blocked:
                self._db.delete_session(token)
                raise _Blocked(login)
            if self._roll(self.options.session_expiry_rate):
                self._db.delete_session(token)
                login = None
        request[_VIEWER] = login
        return login

    def _require_login(self, request: web.Request) -> str:
        login = self._viewer(request)
        if login is None:
            # A POST cannot be replayed after the login form, so come back to the cart.
            next_path = request.path_qs if request.method == "GET" else "/cart"
            raise web.HTTPSeeOther(f"/login?next={quote(next_path)}")
        return login

    def _status(self, order: LedgerOrder) -> str:
        return delivery_status(order.placed_at, utc_now(), self.options.delivery_seconds)

    def _order_json(self, order: LedgerOrder) -> dict[str, Any]:
        return {
            "order_number": order.order_number,
            "login": order.login,
            "article": order.sku,
            "title": order.title,
            "quantity": order.quantity,
            "pickup_point": order.pickup_point,
            "price_minor": order.price_minor,
            "placed_at": order.placed_at.isoformat(),
            "status": self._status(order),
        }

    # -- shop pages ----------------------------------------------------------------------

    async def _catalog(self, request: web.Request) -> web.Response:
        body = pages.catalog(self._db.products())
        return _html(body, login=self._viewer(request), title="Каталог")

    async def _login_page(self, request: web.Request) -> web.Response:
        body = pages.login_form(_safe_next(request.query.get("next")))
        return _html(body, login=self._viewer(request), title="Вход")

    async def _login(self, request: web.Request) -> web.Response:
        form = await request.post()
        login, password = str(form.get("login", "")), str(form.get("password", ""))
        next_path = _safe_next(str(form.get("next", "")))
        result = self._db.check_login(login, password)
        if result is LoginResult.BLOCKED:
            raise _Blocked(login)
        if result is LoginResult.BAD_CREDENTIALS:
            body = pages.login_form(next_path, error="Неверный логин или пароль", login=login)
            return _html(body, login=None, title="Вход", status=401)
        response = web.HTTPSeeOther(next_path)
        response.set_cookie(
            SESSION_COOKIE, self._db.create_session(login), httponly=True, samesite="Lax", path="/"
        )
        raise response

    async def _logout(self, request: web.Request) -> web.Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            self._db.delete_session(token)
        response = web.HTTPSeeOther("/")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response

    async def _product(self, request: web.Request) -> web.Response:
        login = self._viewer(request)
        product = self._db.product(request.match_info["sku"])
        if product is None:
            body = pages.not_found(f"Товар с артикулом {request.match_info['sku']} не найден")
            return _html(body, login=login, title="Не найдено", status=404)
        return _html(pages.product(product), login=login, title=product.title)

    async def _cart(self, request: web.Request) -> web.Response:
        login = self._require_login(request)
        return _html(pages.cart(self._db.cart(login)), login=login, title="Корзина")

    async def _cart_add(self, request: web.Request) -> web.Response:
        login = self._require_login(request)
        sku = str((await request.post()).get("sku", ""))
        product = self._db.product(sku)
        if product is None:
            body = pages.not_found(f"Товар с артикулом {sku} не найден")
            return _html(body, login=login, title="Не найдено", status=404)
        if product.stock <= 0:
            raise web.HTTPSeeOther(f"/product/{quote(sku)}")
        self._db.add_to_cart(login, sku)
        raise web.HTTPSeeOther("/cart")

    async def _cart_clear(self, request: web.Request) -> web.Response:
        self._db.clear_cart(self._require_login(request))
        raise web.HTTPSeeOther("/cart")

    async def _checkout_page(self, request: web.Request) -> web.Response:
        login = self._require_login(request)
        factor = _PRICE_RISE_FACTOR if self._roll(self.options.price_rise_rate) else 1.0
        lines = self._db.quote_cart(login, factor)
        return _html(pages.checkout(lines), login=login, title="Оформление заказа")

    async def _checkout(self, request: web.Request) -> web.StreamResponse:
        login = self._require_login(request)
        pickup_point = str((await request.post()).get("pickup_point", ""))
        if pickup_point not in _PICKUP_CODES:
            body = pages.bad_request(f"Пункт выдачи {pickup_point} не найден")
            return _html(body, login=login, title="Ошибка", status=400)
        try:
            numbers = self._db.place_orders(login, pickup_point)
        except OutOfStock as exc:
            body = pages.out_of_stock(exc.sku, exc.title)
            return _html(body, login=login, title="Нет в наличии", status=409)
        except EmptyCart:
            raise web.HTTPSeeOther("/cart") from None
        if self._roll(self.options.crash_after_order_rate):
            # The order is in the ledger, but the buyer never hears back: drop the connection.
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError()
        # One order per cart line; the confirmation shows the first, the history shows all.
        raise web.HTTPSeeOther(f"/orders/{quote(numbers[0])}")

    async def _confirmation(self, request: web.Request) -> web.Response:
        login = self._require_login(request)
        order = self._db.order(request.match_info["number"])
        if order is None or order.login != login:
            body = pages.not_found(f"Заказ {request.match_info['number']} не найден")
            return _html(body, login=login, title="Не найдено", status=404)
        body = pages.confirmation(order, self._status(order))
        return _html(body, login=login, title=f"Заказ {order.order_number}")

    async def _history(self, request: web.Request) -> web.Response:
        login = self._require_login(request)
        orders = [(o, self._status(o)) for o in self._db.orders(login)]
        return _html(pages.order_history(orders), login=login, title="Мои заказы")

    # -- admin (no faults, no login: the shop binds to localhost only, _admin_guard) -----

    async def _admin_orders(self, request: web.Request) -> web.Response:
        return web.json_response([self._order_json(o) for o in self._db.orders()])

    async def _admin_stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"logins": self._db.login_counts(), "orders": self._db.order_count()}
        )

    async def _admin_product(self, request: web.Request) -> web.Response:
        data = await request.json()
        product = self._db.set_product(
            request.match_info["sku"], stock=data.get("stock"), price_minor=data.get("price_minor")
        )
        if product is None:
            raise web.HTTPNotFound(text="no such sku")
        return web.json_response(dataclasses.asdict(product))

    async def _admin_account(self, request: web.Request) -> web.Response:
        data = await request.json()
        login = request.match_info["login"]
        if not self._db.set_blocked(login, bool(data.get("blocked"))):
            raise web.HTTPNotFound(text="no such account")
        return web.json_response({"login": login, "blocked": bool(data.get("blocked"))})

    async def _admin_options(self, request: web.Request) -> web.Response:
        try:
            options = self.update_options(**await request.json())
        except (TypeError, ValueError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response(dataclasses.asdict(options))


class _Blocked(Exception):
    """Raised inside a handler when the acting account is blocked; answered with a 403 page."""

    def __init__(self, login: str):
        super().__init__(login)
        self.login = login


# -- command line --------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `main.py sandbox`."""
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="TCP port on 127.0.0.1 (0: any free one)"
    )
    parser.add_argument(
        "--ledger", type=Path, default=DEFAULT_LEDGER, help="the shop's SQLite ledger file"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every page")
    parser.add_argument(
        "--error-rate", type=float, default=0.0, help="fraction of requests answered with HTTP 503"
    )
    parser.add_argument(
        "--stock", type=int, default=None, help="set every product's stock (0: sold out)"
    )
    parser.add_argument(
        "--delivery-seconds", type=float, default=30.0, help="seconds per delivery stage"
    )
    parser.add_argument("--accounts", type=int, default=50, help="number of demo buyer accounts")
    parser.add_argument("--seed", type=int, default=None, help="random seed for the fault knobs")
    parser.add_argument(
        "--price-rise-rate",
        type=float,
        default=0.0,
        help="fraction of checkouts priced 50%% higher",
    )
    parser.add_argument(
        "--session-expiry-rate",
        type=float,
        default=0.0,
        help="fraction of requests whose session expires",
    )
    parser.add_argument(
        "--crash-after-order-rate",
        type=float,
        default=0.0,
        help="fraction of placed orders whose answer is dropped",
    )


def options_from_args(args: argparse.Namespace) -> SandboxOptions:
    fields = {f.name for f in dataclasses.fields(SandboxOptions)}
    return SandboxOptions(**{k: v for k, v in vars(args).items() if k in fields})


def run_from_args(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; returns the process exit code."""
    try:
        options = options_from_args(args)
    except ValueError as exc:
        print(f"sandbox: {exc}")
        return 2
    return asyncio.run(_serve(SandboxServer(args.ledger, options, port=args.port)))


async def _serve(server: SandboxServer) -> int:
    url = await server.start()
    print(f"Sandbox marketplace listening on {url}", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stopped.set)
        except NotImplementedError:  # Windows: fall back to the default KeyboardInterrupt
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stopped.set))
    try:
        await stopped.wait()
    finally:
        await server.stop()
    return 0
