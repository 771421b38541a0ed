"""An instant, in-memory marketplace driver for benchmarks and engine tests: it keeps its
own ledger, so what the engine recorded can be compared with what was "bought"."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.core.domain.clock import utcnow
from app.core.domain.codes import DeliveryStatus, ErrorCode, Health
from app.core.drivers.base import (
    AccountRef,
    BeforeSubmit,
    BusinessError,
    PurchaseRequest,
    Receipt,
)

# A fault plan: called with (request, phase) where phase is "before" (ahead of the
# place-order step) or "after" (the order is placed, before the answer); it may raise a
# DriverError to simulate a failure at that point.
FaultPlan = Callable[[PurchaseRequest, str], None]


@dataclass
class MemoryDriver:
    """Buys instantly. `prices` maps article to price in kopecks (default 100000)."""

    prices: dict[str, int] = field(default_factory=dict)
    faults: FaultPlan | None = None
    ledger: list[tuple[str, str, Receipt]] = field(default_factory=list)  # (login, article, r)
    submits: int = 0
    prefix: str = "MEM"  # of its order numbers (several drivers, one database: their own)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def purchase(self, request: PurchaseRequest, before_submit: BeforeSubmit) -> Receipt:
        if self.faults:
            self.faults(request, "before")
        price = self.prices.get(request.article, 100000)
        if request.max_price_minor is not None and price > request.max_price_minor:
            raise BusinessError(
                f"Article {request.article} costs {price / 100:.2f} ₽, above the cap of "
                f"{request.max_price_minor / 100:.2f} ₽",
                code=ErrorCode.PRICE_ABOVE_CAP,
            )
        await before_submit()
        self.submits += 1
        number = f"{self.prefix}-{next(self._numbers):08d}"
        receipt = Receipt(number, request.article, request.pickup_point, price, utcnow())
        self.ledger.append((request.account.login, request.article, receipt))
        if self.faults:
            self.faults(request, "after")
        return receipt

    async def find_purchase(
        self, account: AccountRef, article: str, since: datetime, exclude: frozenset[str]
    ) -> Receipt | None:
        for login, art, receipt in reversed(self.ledger):
            if (
                login == account.login
                and art == article
                and receipt.placed_at >= since
                and receipt.order_number not in exclude
            ):
                return receipt
        return None

    async def find_order(self, account: AccountRef, order_number: str) -> Receipt | None:
        wanted = order_number.strip().casefold()
        for login, _art, receipt in self.ledger:
            if login == account.login and receipt.order_number.casefold() == wanted:
                return receipt
        return None

    async def track(self, account: AccountRef, order_number: str) -> DeliveryStatus:
        return DeliveryStatus.ORDERED

    async def check(self, account: AccountRef) -> tuple[Health, str]:
        return Health.VALID, "the in-memory marketplace accepts every account"
