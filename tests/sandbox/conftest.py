"""Fixtures for the sandbox marketplace tests: a running shop and a cookie-keeping client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from app.sandbox.server import SandboxOptions, SandboxServer

StartShop = Callable[..., Awaitable[SandboxServer]]


@pytest.fixture
async def start_shop(tmp_path: Path) -> AsyncIterator[StartShop]:
    """start_shop(**options) -> a running SandboxServer on a tmp ledger; stopped afterwards."""
    servers: list[SandboxServer] = []

    async def start(ledger: Path | None = None, **options: object) -> SandboxServer:
        server = SandboxServer(ledger or tmp_path / "ledger.sqlite3", SandboxOptions(**options))
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def shop(start_shop: StartShop) -> SandboxServer:
    return await start_shop()


MakeClient = Callable[[SandboxServer], Awaitable[aiohttp.ClientSession]]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """make_client(server) -> an aiohttp session on the shop that keeps its cookies."""
    sessions: list[aiohttp.ClientSession] = []

    async def make(server: SandboxServer) -> aiohttp.ClientSession:
        # unsafe=True: the shop lives on an IP address, whose cookies aiohttp drops by default.
        session = aiohttp.ClientSession(server.url, cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        await session.close()


@pytest.fixture
async def client(shop: SandboxServer, make_client: MakeClient) -> aiohttp.ClientSession:
    return await make_client(shop)
