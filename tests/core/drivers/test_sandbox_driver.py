"""Tests of SandboxDriver: a real Chromium buying on a real sandbox shop, checked in its ledger."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
import pytest_asyncio
from aiohttp import web

from app.core.domain.codes import DeliveryStatus
from app.core.drivers.base import (
    AccountRef,
    BusinessError,
    DriverError,
    PurchaseRequest,
    SessionStore,
    TransientError,
)
from app.core.drivers.browser import (
    ARTIFACTS_PREFIX,
    PROFILE_PREFIX,
    BrowserNotFound,
    find_browser,
    remove_stale_browser_folders,
)
from app.core.drivers.sandbox import SandboxDriver
from app.sandbox.seed import ARTICLES, MARKETPLACE_NAME, demo_accounts
from app.sandbox.server import SandboxServer


def browser_test(test):
    """A test driving the real browser; all of them share the module's browser and loop."""
    return pytest.mark.browser(pytest.mark.asyncio(loop_scope="module")(test))


MUG = ARTICLES[0]


class SubmitProbe:
    """A before_submit callback remembering when it ran and what the ledger held then."""

    def __init__(self, shop: SandboxServer, login: str):
        self.shop = shop
        self.login = login
        self.calls = 0
        self.orders_at_call: int | None = None

    async def __call__(self) -> None:
        self.calls += 1
        self.orders_at_call = len(self.shop.ledger.orders(self.login))


def request_for(
    account: AccountRef, article: str = MUG.sku, pickup: str = "PVZ-002", cap: int | None = None
) -> PurchaseRequest:
    return PurchaseRequest(
        task_id=account.id,
        account=account,
        article=article,
        pickup_point=pickup,
        max_price_minor=cap,
    )


@browser_test
async def test_purchase_places_the_order_recorded_in_the_ledger(
    driver: SandboxDriver, shop: SandboxServer, account: AccountRef
) -> None:
    probe = SubmitProbe(shop, account.login)

    receipt = await driver.purchase(request_for(account, pickup="PVZ-004"), probe)

    assert probe.calls == 1
    assert probe.orders_at_call == 0
    order = shop.ledger.order(receipt.order_number)
    assert order is not None
    assert (order.login, order.sku, order.pickup_point) == (account.login, MUG.sku, "PVZ-004")
    assert order.price_minor == MUG.price_minor == receipt.price_minor
    assert (receipt.article, receipt.pickup_point) == (MUG.sku, "PVZ-004")
    assert receipt.placed_at == order.placed_at
    assert receipt.status is DeliveryStatus.ORDERED
    assert len(shop.ledger.orders(account.login)) == 1


@browser_test
async def test_second_purchase_reuses_the_stored_session(
    driver: SandboxDriver, shop: SandboxServer, sessions, account: AccountRef
) -> None:
    first = await driver.purchase(request_for(account), SubmitProbe(shop, account.login))
    assert sessions.states[account.id] is not None
    second = await driver.purchase(request_for(account), SubmitProbe(shop, account.login))

    assert first.order_number != second.order_number
    assert shop.ledger.login_counts()[account.login] == 1
    assert len(shop.ledger.orders(account.login)) == 2


@browser_test
async def test_what_the_cart_held_before_is_not_bought(
    driver: SandboxDriver, shop: SandboxServer, account: AccountRef
) -> None:
    # Left by an earlier attempt that stopped after adding to the cart: the same article
    # (the cart would hold 2 of it) and another one.
    await driver.purchase(request_for(account), SubmitProbe(shop, account.login))  # logs in
    shop.ledger.add_to_cart(account.login, MUG.sku)
    shop.ledger.add_to_cart(account.login, ARTICLES[1].sku)

    receipt = await driver.purchase(request_for(account), SubmitProbe(shop, account.login))

    order = shop.ledger.order(receipt.order_number)
    assert order is not None and (order.sku, order.quantity) == (MUG.sku, 1)
    assert len(shop.ledger.orders(account.login)) == 2  # this one and the first
    assert shop.ledger.cart(account.login) == []


@browser_test
async def test_out_of_stock_fails_with_a_screenshot_and_no_order(
    driver: SandboxDriver, knobs: SandboxServer, account: AccountRef
) -> None:
    article = ARTICLES[4]
    knobs.ledger.set_product(article.sku, stock=0)
    probe = SubmitProbe(knobs, account.login)
    try:
        with pytest.raises(BusinessError) as failure:
            await driver.purchase(request_for(account, article.sku), probe)
    finally:
        knobs.ledger.set_product(article.sku, stock=article.stock)

    assert failure.value.code == "out_of_stock"
    assert failure.value.reason == f"Article {article.sku} is out of stock at Sandbox Market"
    assert probe.calls == 0
    assert knobs.ledger.orders(account.login) == []
    screenshot = Path(failure.value.screenshot)
    assert screenshot.name.startswith(f"task-{account.id}-")
    assert screenshot.read_bytes().startswith(b"\x89PNG")


@browser_test
async def test_unknown_article_is_a_business_error(
    driver: SandboxDriver, shop: SandboxServer, account: AccountRef
) -> None:
    # The shop answers 404 for it, with its own page: the shop, not another site.
    with pytest.raises(BusinessError) as failure:
        await driver.purchase(request_for(account, "999999"), SubmitProbe(shop, account.login))

    assert failure.value.code == "unknown_article"
    assert failure.value.reason == "Article 999999 does not exist at Sandbox Market"


@pytest_asyncio.fixture(loop_scope="module")
async def other_site() -> AsyncIterator[Callable[[int, str], Awaitable[str]]]:
    """other_site(status, text) -> the URL of a plain web server answering every request
    with `status` and `text`: what an operator may type instead of the shop's address."""
    runners: list[web.AppRunner] = []

    async def start(status: int, text: str) -> str:
        async def answer(request: web.Request) -> web.Response:
            return web.Response(status=status, text=text, content_type="text/html")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def failed_purchase(
    url: str, sessions: SessionStore, account: AccountRef
) -> tuple[DriverError, float]:
    """A purchase by a driver pointed at `url`, which must fail before the place-order
    step: its error and how long it took."""

    async def never_submit() -> None:
        raise AssertionError("reached the place-order step")

    driver = SandboxDriver(url, sessions, shop=MARKETPLACE_NAME, timeout_ms=10000)
    await driver.start()
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()
        with pytest.raises(DriverError) as failure:
            await driver.purchase(request_for(account), never_submit)
        return failure.value, loop.time() - started
    finally:
        await driver.close()


@browser_test
@pytest.mark.parametrize(
    ("status", "text", "answer"),
    [
        (404, "<h1>404 Not Found</h1>", f"HTTP 404 for /product/{MUG.sku}"),
        (200, "<h1>It works!</h1>", f"/product/{MUG.sku} with a page of another site"),
    ],
)
async def test_another_site_at_the_shops_address_fails_at_once(
    other_site, sessions, account: AccountRef, status: int, text: str, answer: str
) -> None:
    url = await other_site(status, text)
    failure, took = await failed_purchase(url, sessions, account)

    assert isinstance(failure, BusinessError)
    assert failure.code == "wrong_site"
    assert failure.reason == (
        f"{url} answered {answer}: this is not the Sandbox Market marketplace; "
        "check the marketplace's address"
    )
    assert failure.__cause__ is None  # not a timeout waiting for the shop's elements
    assert took < 5, f"took {took:.1f} s"


SHOP_LIKE = (
    '<a data-testid="cart-link" href="/cart">cart</a>'
    '<p data-testid="stock" data-stock="5">5</p>'
    '<p data-testid="price" data-price-minor="100">1,00</p>{button}'
)


@browser_test
@pytest.mark.parametrize(
    ("button", "shows"),
    [
        ("", "shows no 'add-to-cart' button"),
        ('<button data-testid="add-to-cart" disabled>Add</button>', "button disabled"),
        (
            '<button data-testid="add-to-cart">Add</button>'
            '<div style="position:fixed;inset:0;background:#fff"></div>',
            "button covered by something else",
        ),
    ],
)
async def test_a_button_that_cannot_be_pressed_fails_at_once(
    other_site, sessions, account: AccountRef, button: str, shows: str
) -> None:
    url = await other_site(200, SHOP_LIKE.format(button=button))
    failure, took = await failed_purchase(url, sessions, account)

    assert isinstance(failure, TransientError)
    assert failure.code == "unexpected_page"
    assert failure.reason.startswith(f"/product/{MUG.sku} at Sandbox Market ")
    assert shows in failure.reason
    assert took < 5, f"took {took:.1f} s"  # not a wait for the button's time limit


@browser_test
async def test_price_above_cap_fails_naming_both_prices(
    driver: SandboxDriver, shop: SandboxServer, account: AccountRef
) -> None:
    probe = SubmitProbe(shop, account.login)

    with pytest.raises(BusinessError) as failure:
        await driver.purchase(request_for(account, cap=MUG.price_minor - 1), probe)

    assert failure.value.code == "price_above_cap"
    assert "1\u00a0299,00\u00a0₽" in failure.value.reason
    assert "1\u00a0298,99\u00a0₽" in failure.value.reason
    assert probe.calls == 0
    assert shop.ledger.orders(account.login) == []


@browser_test
async def test_price_rise_at_checkout_is_caught_before_submitting(
    driver: SandboxDriver, knobs: SandboxServer, account: AccountRef
) -> None:
    knobs.update_options(price_rise_rate=1.0)
    probe = SubmitProbe(knobs, account.login)

    with pytest.raises(BusinessError) as failure:
        await driver.purchase(request_for(account, cap=MUG.price_minor), probe)

    assert failure.value.code == "price_above_cap"
    assert "checkout" in failure.value.reason
    assert probe.calls == 0
    assert knobs.ledger.orders(account.login) == []


@browser_test
async def test_unknown_pickup_point_is_a_business_error(
    driver: SandboxDriver, shop: SandboxServer, account: AccountRef
) -> None:
    with pytest.raises(BusinessError) as failure:
        await driver.purchase(request_for(account, pickup="PVZ-999"), SubmitProbe(shop, "x"))

    assert failure.value.code == "unknown_pickup_point"
    assert shop.ledger.orders(account.login) == []


@browser_test
async def test_server_errors_are_transient(
    driver: SandboxDriver, knobs: SandboxServer, account: AccountRef
) -> None:
    knobs.update_options(error_rate=1.0)

    with pytest.raises(TransientError) as failure:
        await driver.purchase(request_for(account), SubmitProbe(knobs, account.login))

    assert failure.value.code == "http_5xx"
    assert "503" in failure.value.reason
    assert knobs.ledger.orders(account.login) == []


@browser_test
async def test_slow_shop_times_out_as_transient(
    knobs: SandboxServer, sessions, account: AccountRef
) -> None:
    knobs.update_options(latency_ms=1500)
    impatient = SandboxDriver(knobs.url, sessions, shop=MARKETPLACE_NAME, timeout_ms=500)
    await impatient.start()
    try:
        with pytest.raises(TransientError) as failure:
            await impatient.purchase(request_for(account), SubmitProbe(knobs, account.login))
    finally:
        await impatient.close()

    assert failure.value.code == "timeout"
    assert knobs.ledger.orders(account.login) == []


@browser_test
async def test_blocked_account_and_wrong_password_are_business_errors(
    driver: SandboxDriver, shop: SandboxServer, account: AccountRef
) -> None:
    wrong = AccountRef(account.id, account.login, "not-the-password", account.marketplace_url)
    with pytest.raises(BusinessError) as rejected:
        await driver.purchase(request_for(wrong), SubmitProbe(shop, account.login))
    shop.ledger.set_blocked(account.login, True)
    with pytest.raises(BusinessError) as blocked:
        await driver.purchase(request_for(account), SubmitProbe(shop, account.login))

    assert rejected.value.code == "bad_credentials"
    assert "not-the-password" not in rejected.value.reason
    assert blocked.value.code == "account_blocked"
    assert account.login in blocked.value.reason
    assert shop.ledger.orders(account.login) == []


@browser_test
async def test_find_purchase_finds_the_order_unless_excluded(
    driver: SandboxDriver, shop: SandboxServer, account: AccountRef
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    receipt = await driver.purchase(request_for(account), SubmitProbe(shop, account.login))

    found = await driver.find_purchase(account, MUG.sku, since, frozenset())
    excluded = await driver.find_purchase(
        account, MUG.sku, since, frozenset({receipt.order_number})
    )
    later = await driver.find_purchase(
        account, MUG.sku, receipt.placed_at + timedelta(seconds=1), frozenset()
    )
    other_article = await driver.find_purchase(account, ARTICLES[1].sku, since, frozenset())

    assert found is not None
    assert (found.order_number, found.pickup_point, found.price_minor) == (
        receipt.order_number,
        receipt.pickup_point,
        receipt.price_minor,
    )
    assert excluded is None and later is None and other_article is None


@browser_test
async def test_find_order_reads_the_accounts_history(
    driver: SandboxDriver, shop: SandboxServer, account: AccountRef
) -> None:
    receipt = await driver.purchase(request_for(account), SubmitProbe(shop, account.login))
    last = demo_accounts()[-1]  # no test here buys with it
    other = AccountRef(account.id + 1000, last.login, last.password, account.marketplace_url)

    found = await driver.find_order(account, f" {receipt.order_number.lower()} ")

    assert found is not None
    assert (found.order_number, found.article, found.price_minor) == (
        receipt.order_number,
        MUG.sku,
        receipt.price_minor,
    )
    assert await driver.find_order(account, "SB-00000000") is None
    assert await driver.find_order(other, receipt.order_number) is None  # not that account's


@browser_test
async def test_dropped_answer_after_order_is_reconciled_by_find_purchase(
    driver: SandboxDriver, knobs: SandboxServer, account: AccountRef
) -> None:
    knobs.update_options(crash_after_order_rate=1.0)
    since = datetime.now(UTC)
    probe = SubmitProbe(knobs, account.login)

    with pytest.raises(TransientError):
        await driver.purchase(request_for(account), probe)
    knobs.update_options(crash_after_order_rate=0.0)
    found = await driver.find_purchase(account, MUG.sku, since, frozenset())

    assert probe.calls == 1
    [order] = knobs.ledger.orders(account.login)
    assert found is not None and found.order_number == order.order_number


@browser_test
async def test_track_follows_delivery_to_the_pickup_point(
    driver: SandboxDriver, knobs: SandboxServer, account: AccountRef
) -> None:
    receipt = await driver.purchase(request_for(account), SubmitProbe(knobs, account.login))
    assert await driver.track(account, receipt.order_number) is DeliveryStatus.ORDERED

    knobs.update_options(delivery_seconds=0.05)
    deadline = asyncio.get_running_loop().time() + 10
    status = await driver.track(account, receipt.order_number)
    while status is not DeliveryStatus.AT_PICKUP_POINT:
        assert asyncio.get_running_loop().time() < deadline, status
        status = await driver.track(account, receipt.order_number)

    assert await driver.track(account, "SB-00000000") is DeliveryStatus.UNKNOWN


@browser_test
async def test_expired_sessions_are_transient_and_place_no_order(
    driver: SandboxDriver, knobs: SandboxServer, account: AccountRef
) -> None:
    knobs.update_options(session_expiry_rate=1.0)

    with pytest.raises(TransientError) as failure:
        await driver.purchase(request_for(account), SubmitProbe(knobs, account.login))

    assert failure.value.code == "session_expired"
    assert knobs.ledger.orders(account.login) == []


PREFIXES = (PROFILE_PREFIX, ARTIFACTS_PREFIX)


def aged(path: Path, days: float) -> Path:
    then = time.time() - days * 86400
    os.utime(path, (then, then))
    return path


@browser_test
async def test_start_removes_what_killed_runs_left_and_old_screenshots(
    shop: SandboxServer,
    sessions,
    account: AccountRef,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    # A temp folder of the test's own, with a short path: Chromium's socket path in it
    # must stay under the 108 bytes a Unix socket name may have.
    temp = Path(tempfile.mkdtemp(prefix="bb-"))
    request.addfinalizer(lambda: shutil.rmtree(temp, ignore_errors=True))
    monkeypatch.setenv("TMPDIR", str(temp))  # where Playwright makes its folders
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    # What a SIGKILLed run leaves: the browser's profile and Playwright's artifacts folder.
    profile = temp / "playwright_chromiumdev_profile-Ab12Cd"
    (profile / "Default").mkdir(parents=True)
    artifacts = temp / "playwright-artifacts-Ef34Gh"
    artifacts.mkdir()
    left = [aged(profile, 1 / 24), aged(artifacts, 2)]
    shots = tmp_path / "screenshots"
    shots.mkdir()
    old_shot = shots / "task-7-20250101T101010123456Z.png"
    recent_shot = shots / "account-3-check-20250301T101010123456Z.png"
    notes = shots / "notes.txt"  # not the driver's: left alone
    for f, days in ((old_shot, 15), (recent_shot, 13), (notes, 30)):
        f.write_bytes(b"\x89PNG")
        aged(f, days)

    fresh = SandboxDriver(shop.url, sessions, shop=MARKETPLACE_NAME, screenshot_dir=shots)
    await fresh.start()
    try:
        assert [p.exists() for p in left] == [False, False]
        assert sorted(f.name for f in shots.iterdir()) == sorted([recent_shot.name, notes.name])
        # The running browser's own folders are made under the names looked for, and
        # left alone while it runs, however old they look.
        running = [p for p in temp.iterdir() if p.name.startswith(PREFIXES)]
        assert sorted(p.name.startswith(PROFILE_PREFIX) for p in running) == [False, True]
        remove_stale_browser_folders(temp, now=time.time() + 3600)
        assert all(p.exists() for p in running)
        receipt = await fresh.purchase(request_for(account), SubmitProbe(shop, account.login))
    finally:
        await fresh.close()
    assert shop.ledger.order(receipt.order_number) is not None


def _is_browser_main(p: psutil.Process) -> bool:
    """A browser's main process; one that exits while being looked at is not counted."""
    try:
        parent = p.parent()
        return "chrom" in p.name().lower() and not (parent and "chrom" in parent.name().lower())
    except psutil.NoSuchProcess:
        return False


@browser_test
async def test_crashed_browser_is_relaunched(
    driver: SandboxDriver, shop: SandboxServer, account: AccountRef
) -> None:
    # Browsers' main processes (their renderers and helpers die with them); a browser
    # another test left closing may be among them.
    browsers = [p for p in psutil.Process().children(recursive=True) if _is_browser_main(p)]
    assert browsers
    for browser in browsers:
        try:
            browser.kill()
            browser.wait(timeout=10)
        except psutil.NoSuchProcess:
            pass  # it was already on its way out

    receipt = await driver.purchase(request_for(account), SubmitProbe(shop, account.login))

    assert shop.ledger.order(receipt.order_number) is not None


def test_find_browser_explains_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed = tmp_path / "chrome"
    installed.touch()
    monkeypatch.delenv("BUYBACK_BROWSER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    assert find_browser(str(installed)) == str(installed)
    with pytest.raises(BrowserNotFound, match="Install one"):
        find_browser()
    with pytest.raises(BrowserNotFound, match="/no/such/browser"):
        find_browser("/no/such/browser")
