"""Checking an Order against its marketplace's catalog: every problem is reported with
the line and field it is in and what to do about it; an invalid Order writes nothing.

A closed catalog (the sandbox's) takes only the articles and pickup points it has. An
open one (an assisted marketplace's) takes any article number of the marketplace's
format and any pickup point, typed as a code or an address: those it does not have yet
come back as new (ArticleRef.new, PointRef.new) and create_order adds them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.orders.catalog import (
    Catalog,
    ambiguous_point,
    article_problem,
    load_catalogs,
    market_index,
    point_key,
    typed_point,
)
from app.core.orders.spec import (
    ArticleRef,
    FieldError,
    InvalidOrder,
    LineSpec,
    OrderSpec,
    PointRef,
    ValidLine,
    ValidOrder,
    parse_money,
    parse_quantity,
)
from app.core.storage.markets import MarketIndex
from app.core.support.text import QT_TRANSLATE_NOOP, Refused


def find_article(n: int, text: str, cat: Catalog) -> ArticleRef | FieldError:
    """The line's Article in the catalog, a new one (open catalog), or the problem."""
    sku = text.strip()
    if not sku:
        return FieldError.of(n, "article", QT_TRANSLATE_NOOP("Engine", "enter an article number"))
    found = cat.article(sku)
    if found is not None:
        return found
    if not cat.open:
        return FieldError.of(
            n,
            "article",
            QT_TRANSLATE_NOOP("Engine", "'{sku}' is not in {catalog}'s catalog; check the number"),
            sku=sku,
            catalog=cat.name,
        )
    problem = article_problem(cat, sku)
    return ArticleRef(sku) if problem is None else FieldError(n, "article", problem)


def find_point(
    n: int, text: str, cat: Catalog, added: dict[str, PointRef] | None = None
) -> PointRef | FieldError:
    """The line's pickup point, typed as its code, its address or both as the New Order
    dialog lists it (case and extra spaces ignored); in an open catalog a new one, the
    same for every line that types it (kept in `added` by point_key)."""
    text = " ".join(text.split())
    if not text:
        return FieldError.of(
            n, "pickup point", QT_TRANSLATE_NOOP("Engine", "choose a pickup point")
        )
    found = cat.points(text)
    if len(found) == 1:
        return found[0]
    if found:
        return FieldError(n, "pickup point", ambiguous_point(cat, text, found))
    shown = cat.shown_point(text)  # "PVZ-003 — Москва, ...", as the dialog lists it
    if isinstance(shown, PointRef):
        return shown
    if shown is not None:
        return FieldError(n, "pickup point", shown)
    if not cat.open:
        return FieldError.of(
            n,
            "pickup point",
            QT_TRANSLATE_NOOP("Engine", "'{code}' is not a pickup point of {catalog}"),
            code=text,
            catalog=cat.name,
        )
    added = {} if added is None else added
    new = added.get(point_key(text)) or typed_point(text)
    for key in (text, new.code, new.address):
        if key:
            added.setdefault(point_key(key), new)
    return new


def line_entries(line: LineSpec, cat: Catalog) -> tuple[ArticleRef | None, PointRef | None]:
    """The line's Article and pickup point as the catalog takes them (None: refused), for
    showing which are new while the rest of the line may still be wrong."""
    article = find_article(1, str(line.article), cat)
    point = find_point(1, str(line.pickup_point), cat)
    return (
        None if isinstance(article, FieldError) else article,
        None if isinstance(point, FieldError) else point,
    )


def check_line(
    n: int,
    line: LineSpec,
    cat: Catalog,
    max_units: int,
    added: dict[str, PointRef] | None = None,
) -> tuple[ValidLine | None, list[FieldError]]:
    """One line against the catalog: the valid line, or the problems in it."""
    errors: list[FieldError] = []
    article = find_article(n, str(line.article), cat)
    if isinstance(article, FieldError):
        errors.append(article)
    point = find_point(n, str(line.pickup_point), cat, added)
    if isinstance(point, FieldError):
        errors.append(point)
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
    if errors or isinstance(article, FieldError) or isinstance(point, FieldError):
        return None, errors
    return ValidLine(n, article, point, qty, price), []


def check(
    spec: OrderSpec,
    catalogs: dict[str, Catalog],
    *,
    max_units_per_line: int,
    index: MarketIndex | None = None,
) -> ValidOrder:
    """Checks every field of the Order; raises InvalidOrder listing all problems. Pure:
    the New Order dialog calls it on every edit with catalogs it loaded once. The
    marketplace is found by code, name or alias (`index`, else one of the catalogs)."""
    errors: list[FieldError] = []
    client = spec.client.strip()
    if not client:
        errors.append(
            FieldError.of(None, "client", QT_TRANSLATE_NOOP("Engine", "enter the client's name"))
        )
    try:
        market = (index or market_index(catalogs)).get(spec.marketplace)
    except Refused as exc:
        errors.append(FieldError(None, "marketplace", exc.message))
        raise InvalidOrder(errors) from None
    cat = catalogs[market.code]
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
    added: dict[str, PointRef] = {}
    for n, line in enumerate(spec.lines, start=1):
        valid, line_errors = check_line(n, line, cat, max_units_per_line, added)
        errors.extend(line_errors)
        if valid is not None:
            lines.append(valid)
    if errors:
        raise InvalidOrder(errors)
    return ValidOrder(client, cat.marketplace_id, lines)


def validate(session: Session, spec: OrderSpec, *, max_units_per_line: int) -> ValidOrder:
    """`check` against the catalog in the database of the marketplace the Order names."""
    index = MarketIndex.load(session)
    market = index.find(spec.marketplace)
    catalogs = load_catalogs(session, market.id) if market is not None else {}
    return check(spec, catalogs, max_units_per_line=max_units_per_line, index=index)
