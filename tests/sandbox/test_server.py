"""Tests of the sandbox marketplace through HTTP, checked against its admin view and ledger."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from app.sandbox.ledger import Ledger, LedgerError, LoginResult
from app.sandbox.process import ledger_orders
from app.sandbox.seed import ARTICLES, PICKUP_POINTS, demo_accounts
from app.sandbox.server import SandboxServer, delivery_status

ROOT = Path(__file__).resolve().parents[2]
SKU = ARTICLES[0].sku
PRICE = ARTICLES[0].price_minor


async def log_in(client: aiohttp.ClientSession, login: str = "buyer001") -> aiohttp.ClientResponse:
    password = {a.login: a.password for a in demo_accounts()}[login]
    return await client.post(
        "/login", data={"login": login, "password": password, "next": "/account/orders"}
    )


async def buy(client: aiohttp.ClientSession, sku: str = SKU, pickup: str = "PVZ-002") -> str:
    """Cart → checkout → place order; returns the confirmation page's order number."""
    await client.post("/cart/add", data={"sku": sku})
    await client.get("/checkout")
    response = await client.post("/checkout", data={"pickup_point": pickup})
    assert response.status == 200, await response.text()
    match = re.search(
        r'id="order-number"\s+data-testid="order-number">([^<]+)<', await response.text()
    )
    assert match, await response.text()
    assert response.url.path == f"/orders/{match.group(1)}"
    return match.group(1)


async def admin_orders(client: aiohttp.ClientSession) -> list[dict]:
    response = await client.get("/admin/orders.json")
    assert response.status == 200
    return await response.json()


async def test_login_sets_a_session_and_counts_it(client: aiohttp.ClientSession) -> None:
    response = await log_in(client)

    assert response.status == 200
    assert response.url.path == "/account/orders"
    assert 'data-testid="current-user">buyer001<' in await response.text()
    cart = await client.get("/cart")
    assert cart.url.path == "/cart"
    assert 'data-testid="cart-empty"' in await cart.text()
    stats = await (await client.get("/admin/stats.json")).json()
    assert stats == {"logins": {"buyer001": 1}, "orders": 0}


async def test_wrong_password_is_refused(client: aiohttp.ClientSession) -> None:
    response = await client.post(
        "/login", data={"login": "buyer001", "password": "nope", "next": "/cart"}
    )

    assert response.status == 401
    assert "Неверный логин или пароль" in await response.text()
    cart = await client.get("/cart")
    assert cart.url.path == "/login"
    assert cart.url.query["next"] == "/cart"


async def test_blocked_account_cannot_log_in_or_keep_its_session(
    client: aiohttp.ClientSession,
) -> None:
    await log_in(client, "buyer003")
    blocked = await client.post("/admin/accounts/buyer003", json={"blocked": True})
    assert blocked.status == 200

    with_session = await client.get("/cart")
    fresh_login = await log_in(client, "buyer003")

    for response in (with_session, fresh_login):
        assert response.status == 403
        assert 'data-testid="account-blocked"' in await response.text()
        assert "заблокирован" in await response.text()


async def test_product_page_shows_price_and_stock(client: aiohttp.ClientSession) -> None:
    response = await client.get(f"/product/{SKU}")
    page = await response.text()

    assert response.status == 200
    assert ARTICLES[0].title in page
    assert f'data-price-minor="{PRICE}"' in page
    assert "В наличии: 1000" in page
    assert 'data-testid="add-to-cart"' in page
    assert (await client.get("/product/999999")).status == 404


async def test_cart_needs_login(client: aiohttp.ClientSession) -> None:
    response = await client.get("/checkout")

    assert response.url.path == "/login"
    assert response.url.query["next"] == "/checkout"


async def test_checkout_places_exactly_one_order(
    client: aiohttp.ClientSession, shop: SandboxServer
) -> None:
    await log_in(client, "buyer007")
    await client.post("/cart/add", data={"sku": SKU})
    checkout = await (await client.get("/checkout")).text()
    assert f'data-total-minor="{PRICE}"' in checkout
    assert all(f'value="{p.code}"' in checkout for p in PICKUP_POINTS)
    assert "Оформить заказ" in checkout

    response = await client.post("/checkout", data={"pickup_point": "PVZ-003"})
    number = re.search(r"SB-\d{8}", str(response.url)).group()

    orders = await admin_orders(client)
    assert len(orders) == 1
    order = orders[0]
    assert order["order_number"] == number
    assert (order["login"], order["article"], order["pickup_point"]) == ("buyer007", SKU, "PVZ-003")
    assert order["price_minor"] == PRICE
    assert order["status"] == "ordered"
    placed_at = datetime.fromisoformat(order["placed_at"])
    assert placed_at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - placed_at) < timedelta(minutes=1)
    history = await (await client.get("/account/orders")).text()
    assert f'data-order-number="{number}"' in history
    assert 'data-pickup-point="PVZ-003"' in history
    assert shop.ledger.product(SKU).stock == 999
    assert 'data-testid="cart-empty"' in await (await client.get("/cart")).text()


async def test_history_lists_only_own_orders_newest_first(shop: SandboxServer, make_client) -> None:
    first, second = await make_client(shop), await make_client(shop)
    await log_in(first, "buyer001")
    await log_in(second, "buyer002")
    older = await buy(first, ARTICLES[0].sku)
    newer = await buy(first, ARTICLES[1].sku)
    others = await buy(second)

    history = await (await first.get("/account/orders")).text()

    numbers = re.findall(r'data-order-number="([^"]+)"', history)
    assert numbers == [newer, older]
    assert others not in history


async def test_sold_out_product_cannot_be_added(start_shop, make_client) -> None:
    shop = await start_shop(stock=0)
    client = await make_client(shop)
    await log_in(client)

    page = await (await client.get(f"/product/{SKU}")).text()
    await client.post("/cart/add", data={"sku": SKU})

    assert "Нет в наличии" in page
    assert 'data-testid="add-to-cart"' not in page
    assert 'data-testid="cart-empty"' in await (await client.get("/cart")).text()


async def test_stock_out_at_checkout_places_no_order(
    client: aiohttp.ClientSession, shop: SandboxServer
) -> None:
    await log_in(client)
    await client.post("/cart/add", data={"sku": SKU})
    await client.post(f"/admin/products/{SKU}", json={"stock": 0})

    response = await client.post("/checkout", data={"pickup_point": "PVZ-001"})

    assert response.status == 409
    assert 'data-testid="out-of-stock"' in await response.text()
    assert "Заказ не оформлен" in await response.text()
    assert await admin_orders(client) == []
    assert shop.ledger.product(SKU).stock == 0


async def test_unknown_pickup_point_is_refused(client: aiohttp.ClientSession) -> None:
    await log_in(client)
    await client.post("/cart/add", data={"sku": SKU})

    response = await client.post("/checkout", data={"pickup_point": "PVZ-999"})

    assert response.status == 400
    assert await admin_orders(client) == []


async def test_error_rate_answers_503_but_admin_still_works(start_shop, make_client) -> None:
    shop = await start_shop(error_rate=1.0)
    client = await make_client(shop)

    response = await client.get("/")

    assert response.status == 503
    assert 'data-testid="server-error"' in await response.text()
    assert await admin_orders(client) == []
    assert (await client.get("/admin/stats.json")).status == 200


async def test_admin_options_change_knobs_of_the_running_shop(
    client: aiohttp.ClientSession,
) -> None:
    changed = await client.post("/admin/options", json={"error_rate": 1.0, "latency_ms": 5})
    refused = await client.post("/admin/options", json={"error_rate": 2})

    assert changed.status == 200
    assert (await changed.json())["error_rate"] == 1.0
    assert (await client.get("/")).status == 503
    assert refused.status == 400


async def test_admin_refuses_requests_from_other_web_pages(
    shop: SandboxServer, client: aiohttp.ClientSession
) -> None:
    # A page of another site open in the operator's browser posts to the shop's admin.
    foreign = await client.post(
        "/admin/options", json={"error_rate": 1.0}, headers={"Origin": "http://evil.example"}
    )
    # A page of another site whose name was made to resolve to 127.0.0.1 (DNS rebinding).
    port = shop.url.rsplit(":", 1)[1]
    rebound = await client.get("/admin/orders.json", headers={"Host": f"evil.example:{port}"})
    null_origin = await client.post(
        "/admin/accounts/buyer001", json={"blocked": True}, headers={"Origin": "null"}
    )

    assert (foreign.status, rebound.status, null_origin.status) == (403, 403, 403)
    assert shop.options.error_rate == 0.0
    password = {a.login: a.password for a in demo_accounts()}["buyer001"]
    assert shop.ledger.check_login("buyer001", password) is LoginResult.OK  # not blocked
    assert (await client.get("/")).status == 200


async def test_admin_answers_the_shop_itself(
    shop: SandboxServer, client: aiohttp.ClientSession
) -> None:
    port = shop.url.rsplit(":", 1)[1]
    own_origin = await client.post(
        "/admin/options", json={"latency_ms": 1}, headers={"Origin": shop.url}
    )
    by_name = await client.get("/admin/stats.json", headers={"Host": f"localhost:{port}"})
    # The project's own callers (SandboxProcess, the chaos run, tests) use urllib.
    orders = await asyncio.to_thread(ledger_orders, shop.url)

    assert (own_origin.status, by_name.status) == (200, 200)
    assert shop.options.latency_ms == 1
    assert orders == []


def test_delivery_status_follows_the_clock() -> None:
    placed = datetime(2025, 1, 1, tzinfo=UTC)

    def at(seconds: float) -> str:
        return delivery_status(placed, placed + timedelta(seconds=seconds), 30.0)

    assert [at(0), at(29.9), at(30), at(59.9), at(60), at(3600)] == [
        "ordered",
        "ordered",
        "in_transit",
        "in_transit",
        "at_pickup_point",
        "at_pickup_point",
    ]


async def test_delivery_status_advances_to_pickup_point(start_shop, make_client) -> None:
    shop = await start_shop(delivery_seconds=0.2)
    client = await make_client(shop)
    await log_in(client)
    number = await buy(client)

    seen = []
    deadline = asyncio.get_running_loop().time() + 5
    while "at_pickup_point" not in seen and asyncio.get_running_loop().time() < deadline:
        seen.append((await admin_orders(client))[0]["status"])
        await asyncio.sleep(0.05)

    assert seen[-1] == "at_pickup_point"
    order_ranks = ["ordered", "in_transit", "at_pickup_point"]
    assert [order_ranks.index(s) for s in seen] == sorted(order_ranks.index(s) for s in seen)
    history = await (await client.get("/account/orders")).text()
    assert f'data-order-number="{number}"' in history
    assert 'data-status="at_pickup_point"' in history


async def test_reopened_ledger_keeps_orders(start_shop, make_client, tmp_path: Path) -> None:
    shop = await start_shop()
    client = await make_client(shop)
    await log_in(client)
    number = await buy(client)
    await shop.stop()

    reopened = await start_shop(tmp_path / "ledger.sqlite3")
    orders = await admin_orders(await make_client(reopened))

    assert [o["order_number"] for o in orders] == [number]
    assert reopened.ledger.product(SKU).stock == 999


def test_ledger_written_by_newer_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    Ledger(path).close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA user_version=99")

    with pytest.raises(LedgerError, match="newer version"):
        Ledger(path)


async def test_price_rise_charges_the_price_shown_at_checkout(start_shop, make_client) -> None:
    shop = await start_shop(price_rise_rate=1.0)
    client = await make_client(shop)
    await log_in(client)
    await client.post("/cart/add", data={"sku": SKU})

    checkout = await (await client.get("/checkout")).text()
    await client.post("/checkout", data={"pickup_point": "PVZ-001"})

    assert f'data-total-minor="{PRICE * 3 // 2}"' in checkout
    assert (await admin_orders(client))[0]["price_minor"] == PRICE * 3 // 2


async def test_expired_session_sends_back_to_login(
    client: aiohttp.ClientSession, shop: SandboxServer
) -> None:
    await log_in(client)
    shop.update_options(session_expiry_rate=1.0)

    response = await client.get("/cart")

    assert response.url.path == "/login"
    shop.update_options(session_expiry_rate=0.0)
    assert (await client.get("/cart")).url.path == "/login"  # the session is gone for good


async def test_crash_after_order_records_the_order_but_drops_the_answer(
    start_shop, make_client
) -> None:
    shop = await start_shop(crash_after_order_rate=1.0)
    client = await make_client(shop)
    await log_in(client)
    await client.post("/cart/add", data={"sku": SKU})

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.post("/checkout", data={"pickup_point": "PVZ-001"})

    orders = await admin_orders(client)
    assert [(o["login"], o["article"]) for o in orders] == [("buyer001", SKU)]


async def test_seeded_knobs_are_reproducible(start_shop, make_client, tmp_path: Path) -> None:
    async def statuses(ledger: Path) -> list[int]:
        shop = await start_shop(ledger, error_rate=0.5, seed=7)
        client = await make_client(shop)
        return [(await client.get("/")).status for _ in range(20)]

    first = await statuses(tmp_path / "a.sqlite3")
    second = await statuses(tmp_path / "b.sqlite3")

    assert first == second
    assert {200, 503} == set(first)


def test_runs_in_its_own_thread(tmp_path: Path) -> None:
    server = SandboxServer(tmp_path / "ledger.sqlite3")
    url = server.start_in_thread()

    async def fetch() -> int:
        async with aiohttp.ClientSession() as session:
            return (await session.get(f"{url}/product/{SKU}")).status

    try:
        assert asyncio.run(fetch()) == 200
    finally:
        server.stop_thread()
    assert server.ledger is None


def test_command_line_serves_until_sigterm(tmp_path: Path) -> None:
    code = (
        "import argparse, sys\n"
        "from app.sandbox.server import add_arguments, run_from_args\n"
        "parser = argparse.ArgumentParser()\n"
        "add_arguments(parser)\n"
        "sys.exit(run_from_args(parser.parse_args()))\n"
    )
    ledger = tmp_path / "cli.sqlite3"
    with subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "--ledger", str(ledger), "--stock", "3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ) as process:
        try:
            line = process.stdout.readline()
            url = re.fullmatch(
                r"Sandbox marketplace listening on (http://127\.0\.0\.1:\d+)\n", line
            )
            assert url, line

            async def fetch() -> str:
                async with aiohttp.ClientSession() as session:
                    return await (await session.get(f"{url.group(1)}/product/{SKU}")).text()

            assert "В наличии: 3" in asyncio.run(fetch())
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            process.kill()
    assert ledger.exists()
