"""Order input: the operator's request as entered, the problems found in it, and the
parsing of quantities and money as people type them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from app.core.domain.states import UnitRule
from app.core.support.errors import KnownError
from app.core.support.text import QT_TRANSLATE_NOOP, Message, Refused, say

MAX_PRICE_MINOR = 100_000_000_00  # a hundred million rubles: anything above is a typo


@dataclass
class LineSpec:
    """One order line as entered: values may still be text from a form or a paste."""

    article: str
    quantity: int | str
    pickup_point: str
    max_unit_price: str | int | Decimal | None = None


@dataclass
class OrderSpec:
    client: str
    marketplace: str  # MarketPlace.code, or its name or an alias (storage.markets.MarketIndex)
    lines: list[LineSpec]
    unit_rule: UnitRule = UnitRule.PER_JOB
    priority: int = 0
    note: str = ""
    batch_size: int | None = None  # units released together; None = the whole Job at once
    batch_interval_s: float = 0.0  # delay between batches
    hold: bool = False  # saved paused: the operator starts it later
    # The id of the request (one per New Order dialog, per Order of an import): the same
    # request sent again finds its Order instead of creating another (Order.request_id).
    request_id: str | None = None


# The fields a FieldError names, as the console translates them.
FIELDS = (
    QT_TRANSLATE_NOOP("Engine", "client"),
    QT_TRANSLATE_NOOP("Engine", "marketplace"),
    QT_TRANSLATE_NOOP("Engine", "lines"),
    QT_TRANSLATE_NOOP("Engine", "batch size"),
    QT_TRANSLATE_NOOP("Engine", "article"),
    QT_TRANSLATE_NOOP("Engine", "quantity"),
    QT_TRANSLATE_NOOP("Engine", "pickup point"),
    QT_TRANSLATE_NOOP("Engine", "max unit price"),
)


@dataclass(frozen=True)
class FieldError:
    line: int | None  # 1-based line number, None for order-level fields
    field: str  # one of FIELDS
    message: Message

    @classmethod
    def of(cls, line: int | None, field: str, template: str, **values: Any) -> FieldError:
        """A problem from a template marked with QT_TRANSLATE_NOOP("Engine", ...)."""
        return cls(line, field, say(template, **values))

    def __str__(self) -> str:
        where = f"Line {self.line}, {self.field}" if self.line else self.field.capitalize()
        return f"{where}: {self.message}"


class InvalidOrder(KnownError):
    """The Order cannot be accepted; `errors` lists every problem found."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("The order was not saved:\n" + "\n".join(f"- {e}" for e in errors))


@dataclass(frozen=True)
class ArticleRef:
    """An order line's Article: one of the catalog's (`id`), or a new one (`id` None) that
    the Order adds to its marketplace's catalog (an assisted marketplace's open catalog)."""

    sku: str
    id: int | None = None
    title: str = ""

    @property
    def new(self) -> bool:
        return self.id is None


@dataclass(frozen=True)
class PointRef:
    """An order line's PickupPoint: one of the catalog's (`id`), or a new one (`id` None)
    added with the Order; see catalog.typed_point for the code a typed address gets."""

    code: str
    address: str = ""
    id: int | None = None

    @property
    def new(self) -> bool:
        return self.id is None


@dataclass(frozen=True)
class ValidLine:
    line_no: int
    article: ArticleRef
    pickup_point: PointRef
    quantity: int
    max_unit_price_minor: int | None


@dataclass(frozen=True)
class ValidOrder:
    client: str
    marketplace_id: int
    lines: list[ValidLine] = field(default_factory=list)

    def new_articles(self) -> list[ArticleRef]:
        """The Articles the Order adds to the catalog, each once."""
        return list({a.sku: a for a in (line.article for line in self.lines) if a.new}.values())

    def new_pickup_points(self) -> list[PointRef]:
        """The pickup points the Order adds to the catalog, each once."""
        points = (line.pickup_point for line in self.lines)
        return list({p.code: p for p in points if p.new}.values())


_SPACES = re.compile(r"[\s\u00a0\u202f]")


def parse_money(value: str | int | Decimal | float) -> int:
    """Rubles as typed by people ("1 299,90", "1299.9", 1299) to kopecks; raises ValueError
    with a message for the operator."""
    text = _SPACES.sub("", str(value)).replace(",", ".").removesuffix("₽").removesuffix("р")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Refused(
            QT_TRANSLATE_NOOP("Engine", "'{value}' is not an amount; enter rubles such as 1299.90"),
            value=value,
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine", "'{value}' is not a positive amount; enter rubles such as 1299.90"
            ),
            value=value,
        )
    # Too large first: quantizing an amount like 1e30 raises instead of answering.
    if amount * 100 > MAX_PRICE_MINOR:
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine", "'{value}' is too large for a unit price; check for a typo"
            ),
            value=value,
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise Refused(
            QT_TRANSLATE_NOOP("Engine", "'{value}' has more than two decimals (kopecks)"),
            value=value,
        )
    return int(amount * 100)


def parse_quantity(value: int | str, max_units: int) -> int:
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise Refused(
            QT_TRANSLATE_NOOP("Engine", "'{value}' is not a whole number of units; enter e.g. 5"),
            value=value,
        )
    qty = int(text)
    if qty < 1:
        raise Refused(QT_TRANSLATE_NOOP("Engine", "must be at least 1 (got {qty})"), qty=qty)
    if qty > max_units:
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine",
                "{qty} units is over the limit of {max_units} per line; "
                "split it into several lines or raise the limit in settings",
            ),
            qty=qty,
            max_units=max_units,
        )
    return qty
