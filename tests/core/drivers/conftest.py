"""Fixtures for the sandbox driver tests: one shop and one real browser per test module."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from app.core.drivers.base import AccountRef
from app.core.drivers.sandbox import SandboxDriver
from app.sandbox.seed import MARKETPLACE_NAME, demo_accounts
from app.sandbox.server import SandboxOptions, SandboxServer


class MemorySessions:
    """A SessionStore in a dict, as the engine's database-backed one behaves."""

    def __init__(self) -> None:
        self.states: dict[int, dict[str, Any] | None] = {}

    async def load(self, account_id: int) -> dict[str, Any] | None:
        return self.states.get(account_id)

    async def save(self, account_id: int, state: dict[str, Any] | None) -> None:
        self.states[account_id] = state


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shop(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SandboxServer]:
    server = SandboxServer(tmp_path_factory.mktemp("shop") / "ledger.sqlite3", SandboxOptions())
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
def sessions() -> MemorySessions:
    return MemorySessions()


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def driver(
    shop: SandboxServer, sessions: MemorySessions, screenshot_dir: Path
) -> AsyncIterator[SandboxDriver]:
    driver = SandboxDriver(
        shop.url, sessions, shop=MARKETPLACE_NAME, screenshot_dir=screenshot_dir, timeout_ms=10000
    )
    await driver.start()
    yield driver
    await driver.close()


@pytest.fixture
def knobs(shop: SandboxServer) -> Iterator[SandboxServer]:
    """The module's shop; fault knobs changed through it are reset after the test."""
    original = shop.options
    yield shop
    shop.options = original


@pytest.fixture(scope="module")
def account_numbers() -> Iterator[int]:
    return itertools.count(1)


@pytest.fixture
def account(shop: SandboxServer, account_numbers: Iterator[int]) -> AccountRef:
    """A demo account of its own for each test, so sessions and order histories do not
    leak between tests (the shop seeds 50)."""
    number = next(account_numbers)
    seed_account = demo_accounts(number)[-1]
    return AccountRef(number, seed_account.login, seed_account.password, shop.url)
