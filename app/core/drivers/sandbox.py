"""The Playwright purchase driver for the bundled sandbox marketplace (app/sandbox)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Response,
    StorageState,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from app.core.domain.codes import DeliveryStatus, ErrorCode, Health, health_of
from app.core.drivers.base import (
    AccountRef,
    BeforeSubmit,
    BusinessError,
    DriverError,
    PurchaseRequest,
    Receipt,
    SessionStore,
    TransientError,
)
from app.core.drivers.browser import (
    CHROMIUM_ARGS,
    BrowserNotFound,
    find_browser,
    launch_failure,
    remove_stale_browser_folders,
)
from app.core.support.text import rub

log = logging.getLogger(__name__)

# A session may expire between any two pages; log in again this many times per call
# before calling the shop unusable for now.
_LOGIN_ATTEMPTS = 3
# Times the pre-submit steps restart when a session expired under a form submission.
_PURCHASE_ATTEMPTS = 3
_SCREENSHOT_TIMEOUT_MS = 5000
# How long closing a context or a browser that stopped answering may take.
_CLOSE_TIMEOUT_S = 5.0
# The page size of a headless purchase (nobody sees it). Software compositing keeps
# buffers of the page's size in the browser's GPU process: at Playwright's 1280x720 they
# were 9 MB of the 31 MB each further concurrent purchase held, at 800x600 5.5 MB of 26
# (bench.browsers, issue 15). A classic screen size every page lays out for; nothing
# else of what the browser tells a site changes. With --show-browsers the operator's
# window keeps its ordinary size.
HEADLESS_VIEWPORT = {"width": 800, "height": 600}
# Screenshots of failed steps are kept this long (the Task detail shows one while it is
# there), then removed when a driver starts.
SCREENSHOT_KEEP_DAYS = 14
_STAMP = "%Y%m%dT%H%M%S%fZ"
_SCREENSHOT_NAME = re.compile(r".+-\d{8}T\d{12}Z\.png")  # "{label}-{_STAMP}.png"
# Every page of the shop carries its header with this element; a page without it is not
# the shop's.
_SHOP_MARK = "cart-link"
# 4xx answers that say "not now" rather than "no such page": retried like a 5xx.
_BUSY_STATUSES = frozenset({408, 429})
# What a page shows, read in one call (one round trip to the page where a locator each
# would take one per element): for each data-testid asked for, the data-* attributes of
# every element carrying it, and a <select>'s option values as `options`. The history rows
# and the confirmation share their attributes.
_READ_JS = """ids => Object.fromEntries(ids.map(id => [id, Array.from(
    document.querySelectorAll(`[data-testid="${id}"]`),
    e => e.options ? {...e.dataset, options: Array.from(e.options, o => o.value)} : {...e.dataset}
)]))"""
# Read on every page the driver lands on: whose page it is and whether it asks to log in.
_LANDING_MARKS = (_SHOP_MARK, "account-blocked", "login-form", "login-error")
# The element a click or typing is for (a CSS selector), made ready as a person would find
# it: scrolled into view, then where to click it, or why it cannot be used. These are the
# checks Playwright's own actions make, in one call to the page; its actions would also
# load its helper script into every page they touch (about 2 MB of the renderer's memory
# per page) and wait for two animation frames per click (issue 15: with them a purchase
# took about 15% more CPU and 3-4 MB more memory).
_TARGET_JS = """([selector, focus]) => {
    const e = document.querySelector(selector);
    if (!e) return "missing";
    if (e.disabled) return "disabled";
    e.scrollIntoView({block: "nearest", inline: "nearest"});
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(e).visibility !== "visible") return "hidden";
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const top = document.elementFromPoint(x, y);
    if (!top || !(top === e || e.contains(top))) return "covered";
    if (focus) {
        e.focus();
        e.select?.();
        if (document.activeElement !== e) return "covered";
    }
    return [x, y];
}"""
# Choosing an option as a person's choice shows to the page (what Playwright's
# select_option does too): the option selected, then input and change events.
_CHOOSE_JS = """([selector, value]) => {
    const e = document.querySelector(selector);
    if (!e || e.disabled || !e.options) return false;
    const option = [...e.options].find(o => o.value === value);
    if (!option) return false;
    option.selected = true;
    e.dispatchEvent(new Event("input", {bubbles: true, composed: true}));
    e.dispatchEvent(new Event("change", {bubbles: true}));
    return true;
}"""
_UNUSABLE = {
    "missing": "shows no {what}",
    "disabled": "shows the {what} disabled",
    "hidden": "does not show the {what}",
    "covered": "shows the {what} covered by something else",
}


class _Shown:
    """What one page showed: for each data-testid read, the data-* attributes of its elements."""

    def __init__(self, elements: dict[str, list[dict[str, Any]]]):
        self.elements = elements

    def has(self, testid: str) -> bool:
        return bool(self.elements.get(testid))

    def all(self, testid: str) -> list[dict[str, Any]]:
        return self.elements.get(testid, [])

    def one_unit_of(self, testid: str, article: str) -> bool:
        """Whether the `testid` lines (a cart's, checkout's) are one unit of `article`."""
        lines = [(line.get("sku"), line.get("quantity")) for line in self.all(testid)]
        return lines == [(article, "1")]

    def number(self, testid: str, key: str, where: str) -> int:
        """The integer data attribute `key` of the first `testid` element; a page without
        one is not the page expected (a transient failure: the shop may have been
        answering with an error page)."""
        found = self.all(testid)
        if not found or key not in found[0]:
            raise TransientError(
                f"{where} showed no {testid}; nothing was ordered", code=ErrorCode.UNEXPECTED_PAGE
            )
        return int(found[0][key] or 0)


class _SessionLost(Exception):
    """A form submission landed on the login page: the session expired, nothing was done.
    The driver has logged in again; the caller restarts its steps."""


class SandboxDriver:
    """Buys on the sandbox marketplace at `base_url` with a real Chromium/Chrome/Edge.

    One browser process per driver, started by `start()` and relaunched when it crashed;
    one browser context per call, carrying the account's stored session from `sessions`.
    """

    def __init__(
        self,
        base_url: str,
        sessions: SessionStore,
        *,
        shop: str,
        browser_path: str | None = None,
        headless: bool = True,
        screenshot_dir: Path | None = None,
        timeout_ms: int = 15000,
        keep_screenshots_days: float = SCREENSHOT_KEEP_DAYS,
    ):
        self.base_url = base_url.rstrip("/")
        self.sessions = sessions
        self.shop = shop  # the marketplace's name, in messages for the operator
        self.browser_path = browser_path
        self.headless = headless
        self.screenshot_dir = screenshot_dir
        self.timeout_ms = timeout_ms
        self.keep_screenshots_days = keep_screenshots_days
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._executable: str | None = None
        self._launch_lock = asyncio.Lock()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Find and launch the browser; raises BrowserNotFound with what to install or
        configure, in one line. First removes what killed runs left behind and screenshots
        past their keeping time."""
        self._executable = find_browser(self.browser_path, headless=self.headless)
        await asyncio.to_thread(self._tidy_up)
        self._playwright = await async_playwright().start()
        try:
            await self._ensure_browser()
        except PlaywrightError as exc:  # not a browser, or a broken one
            # The whole launch log goes to the log file; the operator reads one line.
            log.warning("the browser %s did not start: %s", self._executable, exc)
            await self.close()
            failure = launch_failure(self._executable, str(exc), self.browser_path)
            raise BrowserNotFound(failure) from None

    def _tidy_up(self) -> None:
        folders = remove_stale_browser_folders()
        if folders:
            log.info("removed %d browser folders left by stopped runs", len(folders))
        if self.screenshot_dir is not None:
            old = prune_screenshots(self.screenshot_dir, self.keep_screenshots_days)
            if old:
                log.info(
                    "removed %d screenshots older than %g days", old, self.keep_screenshots_days
                )

    async def close(self) -> None:
        if self._browser is not None:
            with suppress(PlaywrightError):
                await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None

    async def _ensure_browser(self) -> Browser:
        """The running browser, relaunched first if it crashed or was closed."""
        async with self._launch_lock:
            if self._browser is None or not self._browser.is_connected():
                if self._playwright is None or self._executable is None:
                    raise RuntimeError("SandboxDriver.start() must be awaited before use")
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self._executable, headless=self.headless, args=CHROMIUM_ARGS
                )
            return self._browser

    # -- the protocol --------------------------------------------------------------------

    async def purchase(self, request: PurchaseRequest, before_submit: BeforeSubmit) -> Receipt:
        async with self._visit(request.account, f"task-{request.task_id}") as visit:
            for _ in range(_PURCHASE_ATTEMPTS):
                try:
                    await self._fill_cart(visit, request)
                    break
                except _SessionLost:
                    continue
            else:
                raise _session_expired(self.shop)
            await self._prepare_checkout(visit, request)
            await before_submit()
            return await self._place_order(visit, request)

    async def find_purchase(
        self, account: AccountRef, article: str, since: datetime, exclude: frozenset[str]
    ) -> Receipt | None:
        """The earliest order of `article` placed at/after `since` and not in `exclude`."""
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        matches = [
            receipt
            for receipt in await self._history(account, "find")
            if receipt.article == article
            and receipt.placed_at >= since
            and receipt.order_number not in exclude
        ]
        return min(matches, key=lambda r: r.placed_at) if matches else None

    async def find_order(self, account: AccountRef, order_number: str) -> Receipt | None:
        """The order with this number in the account's history (the letters' case as typed
        does not matter), or None."""
        wanted = order_number.strip().casefold()
        for receipt in await self._history(account, "order"):
            if receipt.order_number.casefold() == wanted:
                return receipt
        return None

    async def track(self, account: AccountRef, order_number: str) -> DeliveryStatus:
        """The order's delivery status from the account's history; UNKNOWN if not there."""
        for receipt in await self._history(account, "track"):
            if receipt.order_number == order_number:
                return receipt.status
        return DeliveryStatus.UNKNOWN

    async def check(self, account: AccountRef) -> tuple[Health, str]:
        """Opens the account's order history with its stored session; on the login form
        logs in with the password. Blocked and rejected accounts are verdicts, not errors."""
        try:
            async with self._visit(account, f"account-{account.id}-check") as visit:
                # Not visit.open(): it would log in on its own and hide an expired session.
                path = "/account/orders"
                shown = await visit.arrived(await visit.page.goto(path), path)
                if not await visit.needs_login(shown):
                    return Health.VALID, "the stored session is logged in"
                if not account.password:
                    return Health.SESSION_EXPIRED, "the session expired and no password is stored"
                if await visit.needs_login(await visit.log_in()):
                    return Health.SESSION_EXPIRED, f"{self.shop} asked to log in again right away"
                return Health.VALID, "logged in with the stored password"
        except BusinessError as exc:
            verdict = health_of(exc.code)
            if verdict is not None:
                return verdict, exc.reason
            raise

    # -- purchase steps ------------------------------------------------------------------

    async def _fill_cart(self, visit: _Visit, request: PurchaseRequest) -> None:
        """Check the product page against the request and add one unit to the cart. The
        cart the shop shows next must hold just that unit: anything else there (left by an
        earlier attempt or another session) is cleared and the unit added again, once;
        checkout checks the cart again whatever happens here."""
        product_path = f"/product/{quote(request.article)}"
        for attempt in range(2):
            product = await visit.open(product_path, "not-found", "stock", "price")
            if product.has("not-found"):
                raise BusinessError(
                    f"Article {request.article} does not exist at {self.shop}",
                    code=ErrorCode.UNKNOWN_ARTICLE,
                )
            where = f"The product page of {request.article} at {self.shop}"
            if product.number("stock", "stock", where) <= 0:
                raise _out_of_stock(request.article, self.shop)
            price = product.number("price", "priceMinor", where)
            _check_cap(request, price, "the product page", self.shop)
            cart = await visit.submit("add-to-cart", "cart-line", "cart-clear")
            if (
                cart.one_unit_of("cart-line", request.article)
                or not cart.has("cart-clear")
                or attempt
            ):
                return
            await visit.submit("cart-clear")

    async def _prepare_checkout(self, visit: _Visit, request: PurchaseRequest) -> None:
        """Open checkout, verify the cart is exactly one unit of the article, re-check the
        total against the cap and choose the pickup point."""
        checkout = await visit.open("/checkout", "checkout-line", "total", "pickup-point")
        if not checkout.one_unit_of("checkout-line", request.article):
            raise TransientError(
                f"The cart at {self.shop} does not hold exactly one unit of {request.article} at "
                "checkout (another session may be using this account); nothing was ordered.",
                code=ErrorCode.CART_MISMATCH,
            )
        total = checkout.number("total", "totalMinor", f"Checkout at {self.shop}")
        _check_cap(request, total, "checkout", self.shop)
        # Options are read only from a <select>: another element offers none.
        choices = [o for field in checkout.all("pickup-point") for o in field.get("options", [])]
        if request.pickup_point not in choices:
            raise BusinessError(
                f"Pickup point {request.pickup_point} is not offered by {self.shop} "
                f"(it offers {', '.join(choices)})",
                code=ErrorCode.UNKNOWN_PICKUP_POINT,
            )
        await visit.choose('[data-testid="pickup-point"]', request.pickup_point, "pickup point")

    async def _place_order(self, visit: _Visit, request: PurchaseRequest) -> Receipt:
        try:
            confirmation = await visit.submit("place-order", "out-of-stock", "order")
        except _SessionLost:
            raise _session_expired(self.shop) from None
        if confirmation.has("out-of-stock"):
            raise _out_of_stock(request.article, self.shop)
        if not confirmation.has("order"):
            raise TransientError(
                f"{self.shop} did not confirm the order (the browser landed on "
                f"{urlsplit(visit.page.url).path}); check the account's order history before "
                "retrying.",
                code=ErrorCode.UNEXPECTED_PAGE,
            )
        return _receipt(confirmation.all("order")[0])

    async def _history(self, account: AccountRef, action: str) -> list[Receipt]:
        async with self._visit(account, f"account-{account.id}-{action}") as visit:
            history = await visit.open("/account/orders", "order-row")
        return [_receipt(row) for row in history.all("order-row")]

    # -- browser context per call --------------------------------------------------------

    @asynccontextmanager
    async def _visit(self, account: AccountRef, label: str) -> AsyncIterator[_Visit]:
        """A fresh context with the account's stored session; any failure inside becomes a
        DriverError with a screenshot, and the context is always closed."""
        context = None
        page: Page | None = None
        try:
            context, page = await self._open_page(account)
            yield _Visit(page, account, self.sessions, self.shop, self.base_url)
        except (PlaywrightError, DriverError) as exc:
            error = exc if isinstance(exc, DriverError) else self._transient(exc)
            error.screenshot = await self._screenshot(page, label)
            if error is exc:
                raise
            raise error from exc
        finally:
            if context is not None:
                with suppress(PlaywrightError, TimeoutError):
                    await asyncio.wait_for(context.close(), _CLOSE_TIMEOUT_S)

    async def _open_page(self, account: AccountRef) -> tuple[BrowserContext, Page]:
        """A new context and page for `account`. Playwright puts no time limit on either,
        and a browser killed while it starts a page's renderer can leave both waiting
        forever: after `timeout_ms` the browser is taken for dead and the next call
        starts a new one."""
        browser = await self._ensure_browser()
        try:
            context = await asyncio.wait_for(
                self._new_context(account, browser), self.timeout_ms / 1000
            )
            try:
                return context, await asyncio.wait_for(context.new_page(), self.timeout_ms / 1000)
            except BaseException:
                with suppress(PlaywrightError, TimeoutError):
                    await asyncio.wait_for(context.close(), _CLOSE_TIMEOUT_S)
                raise
        except TimeoutError:
            await self._abandon_browser(browser)
            raise TransientError(
                f"The browser did not open a page within {self.timeout_ms / 1000:g} s; "
                "it is restarted for the next attempt",
                code=ErrorCode.BROWSER_CRASH,
            ) from None

    async def _abandon_browser(self, browser: Browser) -> None:
        """Forgets `browser` so that the next call launches a new one (unless another call
        has already), and tries for a bounded time to close it."""
        async with self._launch_lock:
            if self._browser is browser:
                self._browser = None
        with suppress(PlaywrightError, TimeoutError):
            await asyncio.wait_for(browser.close(), _CLOSE_TIMEOUT_S)

    async def _new_context(self, account: AccountRef, browser: Browser) -> BrowserContext:
        state = await self.sessions.load(account.id)
        options: dict[str, Any] = {"storage_state": state, "base_url": self.base_url}
        if self.headless:
            options["viewport"] = HEADLESS_VIEWPORT
        try:
            context = await browser.new_context(**options)
        except PlaywrightError:
            if browser.is_connected():
                raise
            # The browser died since the last call (and we learn it only now): relaunch once.
            browser = await self._ensure_browser()
            context = await browser.new_context(**options)
        context.set_default_timeout(self.timeout_ms)
        return context

    def _transient(self, exc: PlaywrightError) -> TransientError:
        message = str(exc)
        if isinstance(exc, PlaywrightTimeoutError):
            return TransientError(
                f"{self.shop} did not answer within {self.timeout_ms / 1000:g} s",
                code=ErrorCode.TIMEOUT,
            )
        network = re.search(r"net::ERR_[A-Z_]+", message)
        if network:
            return TransientError(
                f"The connection to {self.shop} failed ({network.group()})",
                code=ErrorCode.CONNECTION,
            )
        if any(word in message.lower() for word in ("closed", "crash", "disconnected")):
            return TransientError(
                "The browser closed or crashed; it is restarted for the next attempt",
                code=ErrorCode.BROWSER_CRASH,
            )
        return TransientError(
            f"The browser failed: {message.splitlines()[0] if message else type(exc).__name__}",
            code=ErrorCode.BROWSER_ERROR,
        )

    async def _screenshot(self, page: Page | None, label: str) -> str | None:
        if self.screenshot_dir is None or page is None or page.is_closed():
            return None
        stamp = datetime.now(UTC).strftime(_STAMP)
        path = self.screenshot_dir / f"{label}-{stamp}.png"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=path, full_page=True, timeout=_SCREENSHOT_TIMEOUT_MS)
        except (PlaywrightError, OSError):
            return None  # a crashed page cannot be photographed; the reason still stands
        return str(path)


class _Visit:
    """One page acting as one account: navigation that logs in whenever the shop asks."""

    def __init__(
        self, page: Page, account: AccountRef, sessions: SessionStore, shop: str, base_url: str
    ):
        self.page = page
        self.shop = shop
        self.base_url = base_url
        self.account = account
        self.sessions = sessions

    async def open(self, path: str, *testids: str) -> _Shown:
        """Go to `path`, logging in (and landing back on it) if the shop asks for it; returns
        what the page shows of `testids`."""
        shown = await self.arrived(await self.page.goto(path), path, *testids)
        for _ in range(_LOGIN_ATTEMPTS):
            if not await self.needs_login(shown):
                return shown
            shown = await self.log_in(*testids)
        raise _session_expired(self.shop)

    async def submit(self, button: str, *testids: str) -> _Shown:
        """Click the form button with data-testid `button` and wait for the page it leads
        to; returns what that page shows of `testids`. Raises _SessionLost (after logging in
        again) when the shop answered with its login form."""
        async with self.page.expect_navigation() as navigation:
            await self.click(f'[data-testid="{button}"]', f"'{button}' button")
        path = urlsplit(self.page.url).path
        shown = await self.arrived(await navigation.value, path, *testids)
        if await self.needs_login(shown):
            await self.log_in()
            raise _SessionLost()
        return shown

    async def read(self, *testids: str) -> _Shown:
        """What the page shows of `testids` and of the marks every landing is checked for."""
        return _Shown(await self.page.evaluate(_READ_JS, [*_LANDING_MARKS, *testids]))

    async def click(self, selector: str, what: str) -> None:
        """Click the element at `selector` with the mouse, in its middle, as a person would."""
        x, y = await self._target(selector, what)
        await self.page.mouse.click(x, y)

    async def type_into(self, selector: str, text: str, what: str) -> None:
        """Type `text` into the field at `selector` in place of what it held."""
        await self._target(selector, what, focus=True)
        await self.page.keyboard.insert_text(text)

    async def choose(self, selector: str, value: str, what: str) -> None:
        """Choose the option `value` of the <select> at `selector`."""
        if not await self.page.evaluate(_CHOOSE_JS, [selector, value]):
            raise self._unexpected(f"shows no {what} {value} to choose")

    async def _target(self, selector: str, what: str, *, focus: bool = False) -> list[float]:
        """Where to click the element at `selector` (focused first with `focus`), once it is
        in view; a page without it usable is not the page expected."""
        found = await self.page.evaluate(_TARGET_JS, [selector, focus])
        if isinstance(found, str):
            raise self._unexpected(_UNUSABLE[found].format(what=what))
        return list(found)

    def _unexpected(self, shows: str) -> TransientError:
        path = urlsplit(self.page.url).path
        return TransientError(
            f"{path} at {self.shop} {shows}; nothing more was done there",
            code=ErrorCode.UNEXPECTED_PAGE,
        )

    async def arrived(self, response: Response | None, path: str, *testids: str) -> _Shown:
        """Checks the page a navigation landed on and returns what it shows of `testids`: a
        server error is worth a retry; a page that is not the shop's means the address is
        not the shop's (a plain web server answering 404 everywhere): failing at once beats
        waiting for elements that never come, and no retry would help."""
        status = response.status if response is not None else 200  # None: same document
        if status >= 500:
            raise TransientError(
                f"{self.shop} answered HTTP {status} on {path}", code=ErrorCode.HTTP_5XX
            )
        if status in _BUSY_STATUSES:
            raise TransientError(
                f"{self.shop} answered HTTP {status} on {path}", code=ErrorCode.ERROR
            )
        shown = await self.read(*testids)
        if shown.has(_SHOP_MARK):
            return shown
        answer = (
            f"HTTP {status} for {path}" if status >= 400 else f"{path} with a page of another site"
        )
        raise BusinessError(
            f"{self.base_url} answered {answer}: this is not the {self.shop} marketplace; "
            "check the marketplace's address",
            code=ErrorCode.WRONG_SITE,
        )

    async def needs_login(self, shown: _Shown) -> bool:
        """True on the login form; raises account_blocked on the shop's blocked page."""
        if shown.has("account-blocked"):
            await self.sessions.save(self.account.id, None)
            raise BusinessError(
                f"Account {self.account.login} is blocked at {self.shop}",
                code=ErrorCode.ACCOUNT_BLOCKED,
            )
        return shown.has("login-form")

    async def log_in(self, *testids: str) -> _Shown:
        """Submit the login form; on success store the session for the account's next Task.
        Returns what the page the shop then shows holds of `testids`."""
        page = self.page
        await self.type_into("#login", self.account.login, "login field")
        try:
            await self.type_into("#password", self.account.password, "password field")
        except PlaywrightError as exc:
            # Playwright's message quotes the call, password included: never let it out.
            scrubbed = str(exc).replace(self.account.password, "********")
            raise PlaywrightError(scrubbed) from None
        async with page.expect_navigation() as navigation:
            await self.click('[data-testid="login-submit"]', "login button")
        shown = await self.arrived(await navigation.value, "/login", *testids)
        if shown.has("login-error"):
            await self.sessions.save(self.account.id, None)
            raise BusinessError(
                f"{self.shop} rejected the password of account {self.account.login}; "
                "correct it in the account pool",
                code=ErrorCode.BAD_CREDENTIALS,
            )
        if not await self.needs_login(shown):
            # The shop keeps its session in a cookie: the state stored is the cookies
            # storage_state() would give, without the script it also runs in the page to
            # read the page's storage (the shop uses none). Playwright types the two lists
            # apart (a cookie may carry a partition key).
            cookies: Any = await page.context.cookies()
            state: StorageState = {"cookies": cookies, "origins": []}
            await self.sessions.save(self.account.id, state)
        return shown


def prune_screenshots(folder: Path, keep_days: float, *, now: float | None = None) -> int:
    """Removes the driver's screenshots in `folder` older than `keep_days`; returns how many.
    Other files there are left alone."""
    limit = (time.time() if now is None else now) - keep_days * 86400
    removed = 0
    try:
        entries = list(folder.iterdir())
    except OSError:
        return 0  # no screenshots yet
    for path in entries:
        if not _SCREENSHOT_NAME.fullmatch(path.name):
            continue
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except OSError:
            continue  # removed meanwhile, or not ours to remove
    return removed


def _check_cap(request: PurchaseRequest, price_minor: int, where: str, shop: str) -> None:
    cap = request.max_price_minor
    if cap is not None and price_minor > cap:
        raise BusinessError(
            f"Article {request.article} costs {rub(price_minor)} at {shop} ({where}), "
            f"above the order's cap of {rub(cap)}",
            code=ErrorCode.PRICE_ABOVE_CAP,
        )


def _out_of_stock(article: str, shop: str) -> BusinessError:
    return BusinessError(
        f"Article {article} is out of stock at {shop}", code=ErrorCode.OUT_OF_STOCK
    )


def _session_expired(shop: str) -> TransientError:
    return TransientError(
        f"The session at {shop} kept expiring; no order was confirmed",
        code=ErrorCode.SESSION_EXPIRED,
    )


def _receipt(data: dict[str, Any]) -> Receipt:
    """A Receipt from an order element's data-* attributes (history row or confirmation)."""
    try:
        status = DeliveryStatus(data.get("status", ""))
    except ValueError:
        status = DeliveryStatus.UNKNOWN
    return Receipt(
        order_number=data["orderNumber"],
        article=data["article"],
        pickup_point=data["pickupPoint"],
        price_minor=int(data["priceMinor"]),
        placed_at=datetime.fromisoformat(data["placedAt"]),
        status=status,
        extra={"title": data.get("title", ""), "quantity": int(data.get("quantity", 1))},
    )
