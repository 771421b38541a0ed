"""The purchase-driver protocol: what the engine asks of a marketplace, and its errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from app.core.domain.codes import DeliveryStatus, ErrorCode, Health

if TYPE_CHECKING:  # Playwright is loaded only by the drivers that drive a browser
    from playwright.async_api import StorageState


class DriverError(Exception):
    """Base of every error a driver raises; `reason` is written for the operator."""

    def __init__(
        self, reason: str, *, code: ErrorCode = ErrorCode.ERROR, screenshot: str | None = None
    ):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.screenshot = screenshot


class BusinessError(DriverError):
    """The data or the account is wrong (out of stock, price above the cap, account
    blocked): retrying the same thing will not help, so the Task fails with the reason."""


class TransientError(DriverError):
    """The system hiccupped (timeout, HTTP 5xx, browser crash): retry with backoff."""


@dataclass(frozen=True)
class AccountRef:
    """What a driver needs to act as one marketplace account."""

    id: int
    login: str
    password: str = field(repr=False)  # kept out of logs and tracebacks
    marketplace_url: str


@dataclass(frozen=True)
class PurchaseRequest:
    """One unit to buy: an Article to a PickupPoint, never above `max_price_minor`."""

    task_id: int
    account: AccountRef
    article: str
    pickup_point: str
    max_price_minor: int | None = None


@dataclass(frozen=True)
class Receipt:
    """The marketplace's answer for one placed order. Prices are in minor units (kopecks)."""

    order_number: str
    article: str
    pickup_point: str
    price_minor: int
    placed_at: datetime
    status: DeliveryStatus = DeliveryStatus.ORDERED
    extra: dict[str, Any] = field(default_factory=dict)


class SessionStore(Protocol):
    """Keeps each account's browser session (Playwright storage state) between Tasks."""

    async def load(self, account_id: int) -> StorageState | None: ...

    async def save(self, account_id: int, state: StorageState | None) -> None: ...


BeforeSubmit = Callable[[], Awaitable[None]]


class PurchaseDriver(Protocol):
    """A way to buy on one kind of marketplace.

    `purchase` must await `before_submit()` right before the final, money-spending action
    (the "place order" click) and not after: the engine commits `submitting` there, so a
    crash in between is reconciled with `find_purchase`, never blindly retried.
    """

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def purchase(self, request: PurchaseRequest, before_submit: BeforeSubmit) -> Receipt: ...

    async def find_purchase(
        self, account: AccountRef, article: str, since: datetime, exclude: frozenset[str]
    ) -> Receipt | None: ...

    async def track(self, account: AccountRef, order_number: str) -> DeliveryStatus: ...

    async def check(self, account: AccountRef) -> tuple[Health, str]:
        """Whether the account can act on the marketplace now: (health, detail), health a
        Health value; raises TransientError when the marketplace cannot tell (down, timeout)."""
        ...


@runtime_checkable
class OrderLookup(Protocol):
    """A driver that can read an account's order history: an order number the operator
    records for a unit in review is checked there first. A driver without `find_order`
    (the assisted one: a person buys, the console never reads the marketplace's pages)
    leaves the operator's word unchecked, and the Task's history says so."""

    async def find_order(self, account: AccountRef, order_number: str) -> Receipt | None:
        """The account's order with this number (as the shop spells it), or None when its
        history has none; raises TransientError when the history cannot be read now."""
        ...


@dataclass(frozen=True)
class MarketInfo:
    """A marketplace as a driver is made for it."""

    id: int
    code: str
    name: str
    base_url: str
    driver: str  # which driver serves it: "sandbox", "memory", ...


# Makes the driver for a marketplace (app.core.engine.market_drivers wires the real ones).
DriverFactory = Callable[[MarketInfo], PurchaseDriver]
# The started driver of a marketplace, by its id (the Supervisor keeps one per marketplace).
DriverFor = Callable[[int], Awaitable[PurchaseDriver]]
