"""Checking an Order against its marketplace's catalog: every problem is reported with
the line and field it is in and what to do about it; an invalid Order writes nothing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.orders.catalog import Catalog, load_catalogs
from app.core.orders.spec import (
    FieldError,
    InvalidOrder,
    LineSpec,
    OrderSpec,
    ValidLine,
    ValidOrder,
    parse_money,
    parse_quantity,
)
from app.core.support.text import QT_TRANSLATE_NOOP, Refused


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
            price = parse_money(line.max_unit_price)
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
