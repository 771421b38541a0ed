"""Deterministic demo data (catalog, pickup points, buyers) shared by the shop and the console."""

from __future__ import annotations

from dataclasses import dataclass

MARKETPLACE_CODE = "sandbox"
MARKETPLACE_NAME = "Sandbox Market"
DEFAULT_STOCK = 1000


@dataclass(frozen=True)
class SeedArticle:
    """One catalog product; `price_minor` is in kopecks."""

    sku: str
    title: str
    price_minor: int
    stock: int = DEFAULT_STOCK


@dataclass(frozen=True)
class SeedPickupPoint:
    code: str
    address: str


@dataclass(frozen=True)
class SeedAccount:
    login: str
    password: str


ARTICLES: tuple[SeedArticle, ...] = (
    SeedArticle("100001", "Термокружка 450 мл", 129900),
    SeedArticle("100002", "Рюкзак городской 20 л", 349000),
    SeedArticle("100003", "Наушники беспроводные TWS", 259900),
    SeedArticle("100004", "Чайник электрический 1,7 л", 219000),
    SeedArticle("100005", "Набор контейнеров для еды, 5 шт.", 89900),
    SeedArticle("100006", "Зарядное устройство USB-C 65 Вт", 189900),
)

PICKUP_POINTS: tuple[SeedPickupPoint, ...] = (
    SeedPickupPoint("PVZ-001", "Москва, ул. Тверская, 12"),
    SeedPickupPoint("PVZ-002", "Москва, Ленинский проспект, 45"),
    SeedPickupPoint("PVZ-003", "Москва, ул. Профсоюзная, 93"),
    SeedPickupPoint("PVZ-004", "Химки, ул. Молодёжная, 8"),
)


def demo_accounts(n: int = 50) -> list[SeedAccount]:
    """The first `n` demo buyers: buyer001 / demo-pass-001, buyer002 / demo-pass-002, ..."""
    return [SeedAccount(f"buyer{i:03d}", f"demo-pass-{i:03d}") for i in range(1, n + 1)]
