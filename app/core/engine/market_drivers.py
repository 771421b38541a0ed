"""Wiring the engine for one process: the drivers for each marketplace, the demo
marketplace seeded into the console's database, and the data folders."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app.core.accounts.pool import DbSessionStore
from app.core.drivers.base import PurchaseDriver
from app.core.orders.catalog import upsert_accounts, upsert_marketplace
from app.core.storage.db import APP_NAME, Database
from app.core.supervisor import DriverFactory, MarketInfo
from app.core.support.errors import KnownError


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass
class DriverOptions:
    browser_path: str | None = None
    headless: bool = True
    screenshot_dir: Path | None = None


def driver_factory(db: Database, options: DriverOptions) -> DriverFactory:
    """Builds the driver for a marketplace by its kind."""

    def make(market: MarketInfo) -> PurchaseDriver:
        if market.driver == "sandbox":
            from app.core.drivers.sandbox import SandboxDriver  # Playwright loads lazily

            return SandboxDriver(
                market.base_url,
                DbSessionStore(db),
                browser_path=options.browser_path,
                headless=options.headless,
                screenshot_dir=options.screenshot_dir or data_dir() / "screenshots",
            )
        if market.driver == "memory":
            from app.core.drivers.memory import MemoryDriver

            return MemoryDriver()
        raise KnownError(
            f"{market.name} uses the '{market.driver}' driver, which this console cannot run yet."
        )

    return make


def start_sandbox(stack: ExitStack, accounts: int, delivery_seconds: float = 30.0) -> str:
    """The bundled shop on its own thread with a fresh ledger, for the demo and the
    selftest; `stack` stops it and removes the ledger."""
    from app.sandbox.server import SandboxOptions, SandboxServer

    ledger = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "ledger.sqlite3"
    server = SandboxServer(
        ledger, SandboxOptions(accounts=accounts, delivery_seconds=delivery_seconds)
    )
    url = server.start_in_thread()
    stack.callback(server.stop_thread)
    return url


def seed_sandbox(db: Database, base_url: str, accounts: int) -> int:
    """Registers the bundled sandbox marketplace at `base_url` with its catalog, pickup
    points and the first `accounts` demo buyer accounts; returns the marketplace id."""
    from app.sandbox import seed

    with db.session() as s:
        mp = upsert_marketplace(
            s,
            code=seed.MARKETPLACE_CODE,
            name=seed.MARKETPLACE_NAME,
            base_url=base_url,
            driver="sandbox",
            articles=[(a.sku, a.title) for a in seed.ARTICLES],
            pickup_points=[(p.code, p.address) for p in seed.PICKUP_POINTS],
        )
        upsert_accounts(
            s, mp.id, [(a.login, a.password) for a in seed.demo_accounts(accounts)], "demo"
        )
        s.commit()
        return mp.id
