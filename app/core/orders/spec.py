"""Order input: the operator's request as entered, its validation, and money parsing.

Every problem is reported with the line and field it is in and what to do about it;
an invalid Order writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.domain.models import Article, MarketPlace, PickupPoint
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
    marketplace: str  # MarketPlace.code
    lines: list[LineSpec]
    unit_rule: UnitRule = UnitRule.PER_JOB
    priority: int = 0
    note: str = ""
    batch_size: int | None = None  # units released together; None = the whole Job at once
    batch_interval_s: float = 0.0  # delay between batches
    hold: bool = False  # saved paused: the operator starts it later


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
class ValidLine:
    line_no: int
    article_id: int
    pickup_point_id: int
    quantity: int
    max_unit_price_minor: int | None


@dataclass(frozen=True)
class ValidOrder:
    client: str
    marketplace_id: int
    lines: list[ValidLine] = field(default_factory=list)


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
    if amount != amount.quantize(Decimal("0.01")):
        raise Refused(
            QT_TRANSLATE_NOOP("Engine", "'{value}' has more than two decimals (kopecks)"),
            value=value,
        )
    minor = int(amount * 100)
    if minor > MAX_PRICE_MINOR:
        raise Refused(
            QT_TRANSLATE_NOOP(
                "Engine", "'{value}' is too large for a unit price; check for a typo"
            ),
            value=value,
        )
    return minor


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


@dataclass(frozen=True)
class Catalog:
    """One marketplace's Articles and pickup points, as validation needs them."""

    marketplace_id: int
    code: str
    name: str
    articles: dict[str, int]  # sku -> Article.id
    article_titles: dict[str, str]
    pickup_points: dict[str, int]  # code -> PickupPoint.id
    pickup_addresses: dict[str, str]


def load_catalogs(session: Session) -> dict[str, Catalog]:
    """Every marketplace's catalog by marketplace code."""
    out = {}
    for mp in session.scalars(select(MarketPlace).order_by(MarketPlace.name)):
        arts = session.execute(
            select(Article.sku, Article.id, Article.title).where(Article.marketplace_id == mp.id)
        ).all()
        pts = session.execute(
            select(PickupPoint.code, PickupPoint.id, PickupPoint.address).where(
                PickupPoint.marketplace_id == mp.id
            )
        ).all()
        out[mp.code] = Catalog(
            mp.id,
            mp.code,
            mp.name,
            {sku: i for sku, i, _ in arts},
            {sku: t for sku, _, t in arts},
            {c: i for c, i, _ in pts},
            {c: a for c, _, a in pts},
        )
    return out


def check_line(
    n: int, line: LineSpec, cat: Catalog, max_units: int
) -> tuple[ValidLine | None, list[FieldError]]:
    """One line against the catalog: the valid line, or the problems in it."""
    errors: list[FieldError] = []
    sku = str(line.article).strip()
    article_id = cat.articles.get(sku)
    if not sku:
        errors.append(
            FieldError.of(n, "article", QT_TRANSLATE_NOOP("Engine", "enter an article number"))
        )
    elif article_id is None:
        errors.append(
            FieldError.of(
                n,
                "article",
                QT_TRANSLATE_NOOP(
                    "Engine", "'{sku}' is not in {catalog}'s catalog; check the number"
                ),
                sku=sku,
                catalog=cat.name,
            )
        )
    code = str(line.pickup_point).strip()
    point_id = cat.pickup_points.get(code)
    if not code:
        errors.append(
            FieldError.of(n, "pickup point", QT_TRANSLATE_NOOP("Engine", "choose a pickup point"))
        )
    elif point_id is None:
        errors.append(
            FieldError.of(
                n,
                "pickup point",
                QT_TRANSLATE_NOOP("Engine", "'{code}' is not a pickup point of {catalog}"),
                code=code,
                catalog=cat.name,
            )
        )
    qty = 0
    try:
        qty = parse_quantity(line.quantity, max_units)
    except Refused as exc:
        errors.append(FieldError(n, "quantity", exc.message))
    price: int | None = None
    if line.max_unit_price not in (None, ""):
        try:
            price = parse_money(line.max_unit_price)  # type: ignore[arg-type]
        except Refused as exc:
            errors.append(FieldError(n, "max unit price", exc.message))
    if errors or article_id is None or point_id is None:
        return None, errors
    return ValidLine(n, article_id, point_id, qty, price), []


def check(spec: OrderSpec, catalogs: dict[str, Catalog], *, max_units_per_line: int) -> ValidOrder:
    """Checks every field of the Order; raises InvalidOrder listing all problems. Pure:
    the New Order dialog calls it on every edit with catalogs it loaded once."""
    errors: list[FieldError] = []
    client = spec.client.strip()
    if not client:
        errors.append(
            FieldError.of(None, "client", QT_TRANSLATE_NOOP("Engine", "enter the client's name"))
        )
    cat = catalogs.get(spec.marketplace)
    if cat is None:
        errors.append(
            FieldError.of(
                None,
                "marketplace",
                QT_TRANSLATE_NOOP("Engine", "unknown marketplace '{code}'"),
                code=spec.marketplace,
            )
        )
        raise InvalidOrder(errors)
    if not spec.lines:
        errors.append(
            FieldError.of(
                None,
                "lines",
                QT_TRANSLATE_NOOP("Engine", "the order has no lines; add at least one"),
            )
        )
    if spec.batch_size is not None and spec.batch_size < 1:
        errors.append(
            FieldError.of(
                None, "batch size", QT_TRANSLATE_NOOP("Engine", "must be at least 1 unit")
            )
        )
    lines: list[ValidLine] = []
    for n, line in enumerate(spec.lines, start=1):
        valid, line_errors = check_line(n, line, cat, max_units_per_line)
        errors.extend(line_errors)
        if valid is not None:
            lines.append(valid)
    if errors:
        raise InvalidOrder(errors)
    return ValidOrder(client, cat.marketplace_id, lines)


def validate(session: Session, spec: OrderSpec, *, max_units_per_line: int) -> ValidOrder:
    """`check` against the catalogs in the database."""
    return check(spec, load_catalogs(session), max_units_per_line=max_units_per_line)
