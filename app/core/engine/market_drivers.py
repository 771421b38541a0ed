"""The marketplaces' purchase drivers for one process: which driver serves a marketplace
(by its kind), and the Supervisor's pool of started drivers, one per marketplace."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from app.core.accounts.sessions import DbSessionStore
from app.core.domain.markets import MarketKind
from app.core.domain.models import MarketPlace
from app.core.drivers.base import DriverFactory, MarketInfo, PurchaseDriver
from app.core.engine.events import EngineNotice, EventBus, MarketBlocked
from app.core.storage.db import Database
from app.core.support.errors import BugError, KnownError
from app.core.support.paths import data_dir

log = logging.getLogger(__name__)


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
                shop=market.name,
                browser_path=options.browser_path,
                headless=options.headless,
                screenshot_dir=options.screenshot_dir or data_dir() / "screenshots",
            )
        if market.driver == "memory":
            from app.core.drivers.memory import MemoryDriver

            return MemoryDriver()
        if market.driver == MarketKind.ASSISTED:  # never run by the engine (plans.open_jobs)
            raise BugError(f"{market.name}: a person buys there; the engine has no driver")
        raise KnownError(
            f"{market.name} is of the unknown kind '{market.driver}'; choose 'assisted' or "
            f"'sandbox' in Marketplaces."
        )

    return make


class DriverPool:
    """One started driver per marketplace, made on first use and closed at the end.

    Attributes:
        broken: marketplaces whose driver could not start, and why; their Jobs wait
            until `forgive()` lets them be tried again (the next recovery round).

    Observers learn which marketplaces cannot buy from MarketBlocked events, and from
    `blocked()` for those said before they subscribed.
    """

    def __init__(self, db: Database, factory: DriverFactory, bus: EventBus):
        self._db = db
        self._factory = factory
        self._bus = bus
        self._drivers: dict[int, PurchaseDriver] = {}
        self.broken: dict[int, str] = {}
        self._said: set[str] = set()
        self._blocked: dict[int, MarketBlocked] = {}  # as last said, until a start works

    async def get(self, market: MarketInfo) -> PurchaseDriver:
        driver = self._drivers.get(market.id)
        if driver is None:
            driver = self._factory(market)
            await driver.start()
            self._drivers[market.id] = driver
            if self._blocked.pop(market.id, None) is not None:
                self._bus.publish(MarketBlocked(market.id, market.name, None))
        return driver

    def blocked(self) -> list[MarketBlocked]:
        """The marketplaces whose purchases cannot start, as said last (a copy: safe to
        read from another thread)."""
        return list(self._blocked.copy().values())

    async def by_id(self, marketplace_id: int) -> PurchaseDriver:
        """The driver of a marketplace known by its id (recovery, tracking)."""
        driver = self._drivers.get(marketplace_id)
        if driver is not None:
            return driver

        def load(s: Session) -> MarketInfo:
            mp = s.get(MarketPlace, marketplace_id)
            if mp is None:
                raise KnownError(f"Marketplace {marketplace_id} is not in the database.")
            return MarketInfo(mp.id, mp.code, mp.name, mp.base_url, mp.driver)

        return await self.get(await self._db.read(load))

    def mark_broken(self, market: MarketInfo, exc: Exception) -> None:
        """Purchases on this marketplace cannot start now; the others go on. Said once per
        distinct reason."""
        message = f"{market.name}: purchases cannot start: {exc}"
        self.broken[market.id] = message
        log.error("%s", message)
        if message not in self._said:
            self._said.add(message)
            self._bus.publish(EngineNotice("error", message))
        blocked = MarketBlocked(market.id, market.name, str(exc))
        if self._blocked.get(market.id) != blocked:
            self._blocked[market.id] = blocked
            self._bus.publish(blocked)

    def forgive(self) -> None:
        self.broken.clear()

    async def close(self) -> None:
        drivers, self._drivers = self._drivers, {}
        for driver in drivers.values():
            try:
                await driver.close()
            except Exception:
                log.exception("closing a driver failed")
