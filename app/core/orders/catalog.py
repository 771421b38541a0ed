"""Marketplaces and their catalogs (articles, pickup points): read for validation and
the New Order dialog, looked up as operators type them, created or refreshed from a list
(the sandbox's seed, `catalog import`), listed and edited in the Catalog dialog."""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.domain.markets import PRESETS, MarketKind, article_fits, names_of
from app.core.domain.models import Article, MarketPlace, PickupPoint
from app.core.orders.spec import ArticleRef, FieldError, PointRef
from app.core.storage.markets import MarketIndex, MarketRef
from app.core.support.errors import KnownError
from app.core.support.tables import (
    HEADER_ROWS,
    data_rows,
    find_header,
    identifier,
    odd_character,
    read_table,
)
from app.core.support.text import QT_TRANSLATE_NOOP, Message, Refused, say

# The longest values the columns take (models.Article, models.PickupPoint).
MAX_SKU = 100
MAX_TITLE = 500
MAX_CODE = 100
MAX_ADDRESS = 500


def upsert_marketplace(
    s: Session,
    *,
    code: str,
    name: str,
    base_url: str,
    driver: str,
    articles: Iterable[tuple[str, str]],
    pickup_points: Iterable[tuple[str, str]],
) -> MarketPlace:
    """Adds or refreshes a marketplace with its (sku, title) articles and (code, address)
    pickup points; never deletes, since Orders refer to them."""
    mp = s.scalar(select(MarketPlace).where(MarketPlace.code == code))
    if mp is None:
        preset = PRESETS.get(code)
        mp = MarketPlace(
            code=code,
            name=name,
            base_url=base_url,
            driver=driver,
            product_url=preset.product_url if preset else "{base_url}/product/{article}",
            aliases=", ".join(preset.aliases) if preset else "",
        )
        s.add(mp)
        s.flush()
    mp.name, mp.base_url, mp.driver = name, base_url, driver
    have_articles = {
        a.sku: a for a in s.scalars(select(Article).where(Article.marketplace_id == mp.id))
    }
    for sku, title in articles:
        if sku in have_articles:
            have_articles[sku].title = title
        else:
            s.add(Article(marketplace_id=mp.id, sku=sku, title=title))
    have_points = {
        p.code: p for p in s.scalars(select(PickupPoint).where(PickupPoint.marketplace_id == mp.id))
    }
    for code_, address in pickup_points:
        if code_ in have_points:
            have_points[code_].address = address
        else:
            s.add(PickupPoint(marketplace_id=mp.id, code=code_, address=address))
    s.flush()
    return mp


def point_key(text: str) -> str:
    """What is compared when a pickup point is typed: case and extra spaces ignored."""
    return " ".join(text.split()).casefold()


def typed_point(text: str) -> PointRef:
    """A pickup point the catalog does not have yet, from what the operator typed.

    One word (no spaces or commas) of at most 100 characters is the point's code, as
    marketplaces number their points ("PVZ-1024", "10254"). Anything else is its address;
    then the code, which the catalog needs, is the address itself (spaces tidied), or for
    an address over 100 characters its first 89 characters, "…" and 10 hex digits of a
    hash of the address: the same address always gets the same code, and the Tasks table
    shows something a person can read."""
    text = " ".join(text.split())
    if len(text) <= MAX_CODE and " " not in text and "," not in text:
        return PointRef(text)
    return address_point(text)


def address_point(address: str) -> PointRef:
    """A new pickup point known by its address (see typed_point for its code)."""
    address = " ".join(address.split())
    if len(address) <= MAX_CODE:
        return PointRef(address, address)
    digest = hashlib.sha256(point_key(address).encode()).hexdigest()[:10]
    return PointRef(f"{address[:89]}…{digest}", address)


# Between a code and what it names in the New Order dialog's lists ("PVZ-003 — Москва,
# ул. Ленина, 1"), and in what is copied from them or typed like them: any dash.
SHOWN_DASH = re.compile(r"\s+[—–-]\s+")


@dataclass(frozen=True)
class Catalog:
    """One marketplace's Articles and pickup points, as validation needs them.

    Attributes:
        kind: the marketplace's kind (domain.markets.MarketKind); an assisted one has an
            open catalog: any article of its format and any pickup point is taken and
            added with the Order. The others' catalogs are closed.
        article_pattern, article_example: the format of its article numbers.
        aliases, enabled: as the marketplace is set up.
    """

    marketplace_id: int
    code: str
    name: str
    articles: dict[str, int]  # sku -> Article.id
    article_titles: dict[str, str]
    pickup_points: dict[str, int]  # code -> PickupPoint.id
    pickup_addresses: dict[str, str]
    kind: str = MarketKind.SANDBOX
    article_pattern: str = ""
    article_example: str = ""
    aliases: str = ""
    enabled: bool = True

    @property
    def open(self) -> bool:
        """Whether new articles and pickup points are added with an Order."""
        return self.kind == MarketKind.ASSISTED

    def ref(self) -> MarketRef:
        return MarketRef(self.marketplace_id, self.code, self.name, self.kind, self.enabled)

    def article(self, sku: str) -> ArticleRef | None:
        """The catalog's Article with this number, if any."""
        article_id = self.articles.get(sku)
        if article_id is None:
            return None
        return ArticleRef(sku, article_id, self.article_titles.get(sku, ""))

    def points(self, text: str) -> list[PointRef]:
        """The pickup points `text` names: the one with that code, else those whose code
        or address it is with case and extra spaces ignored (more than one: ambiguous)."""
        if text in self.pickup_points:
            return [self._point(text)]
        return [self._point(code) for code in self._by_key.get(point_key(text), ())]

    def shown_point(self, text: str) -> PointRef | Message | None:
        """The pickup point `text` names as the New Order dialog's list shows one, its code,
        a dash and its address ("PVZ-003 — Москва, ул. Ленина, 1"; any dash, case and
        extra spaces ignored): that point when both are the catalog's; a Message when the
        code is the catalog's but the address is not its address; None when `text` is not
        of that form or names no point's code."""
        other: PointRef | None = None
        for dash in SHOWN_DASH.finditer(text):
            code, address = point_key(text[: dash.start()]), point_key(text[dash.end() :])
            for found in self._by_key.get(code, ()):
                if point_key(found) != code:
                    continue  # an address, not a code
                point = self._point(found)
                if point_key(point.address) == address:
                    return point
                other = other or point
        if other is None:
            return None
        return say(
            QT_TRANSLATE_NOOP(
                "Engine",
                "'{text}': pickup point {code} of {catalog} is at '{address}'; give its code "
                "alone, or its address as the catalog has it",
            ),
            text=text,
            code=other.code,
            catalog=self.name,
            address=other.address,
        )

    def _point(self, code: str) -> PointRef:
        return PointRef(code, self.pickup_addresses.get(code, ""), self.pickup_points[code])

    @cached_property
    def _by_key(self) -> dict[str, list[str]]:
        """Point codes by point_key of their code and of their address."""
        index: dict[str, list[str]] = {}
        for code in self.pickup_points:
            for key in {point_key(code), point_key(self.pickup_addresses.get(code, ""))}:
                if key:
                    index.setdefault(key, []).append(code)
        return index


def market_index(catalogs: dict[str, Catalog]) -> MarketIndex:
    """The catalogs' marketplaces found by code, name or alias."""
    return MarketIndex([(c.ref(), names_of(c.code, c.name, c.aliases)) for c in catalogs.values()])


def load_catalogs(session: Session, marketplace_id: int | None = None) -> dict[str, Catalog]:
    """Every marketplace's catalog (or only that one's) by marketplace code."""
    query = select(MarketPlace).order_by(MarketPlace.name)
    if marketplace_id is not None:
        query = query.where(MarketPlace.id == marketplace_id)
    out = {}
    for mp in session.scalars(query):
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
            mp.driver,
            mp.article_pattern,
            mp.article_example,
            mp.aliases,
            mp.enabled,
        )
    return out


def article_problem(cat: Catalog, sku: str) -> Message | None:
    """Why `sku` cannot be a new article of `cat` (too long, not of its format), or None."""
    if len(sku) > MAX_SKU:
        return say(
            QT_TRANSLATE_NOOP("Engine", "'{sku}' is longer than {limit} characters"),
            sku=sku,
            limit=MAX_SKU,
        )
    if article_fits(cat.article_pattern, sku):
        return None
    if cat.article_example:
        return say(
            QT_TRANSLATE_NOOP(
                "Engine", "'{sku}' does not look like a {name} article number (like {example})"
            ),
            sku=sku,
            name=cat.name,
            example=cat.article_example,
        )
    return say(
        QT_TRANSLATE_NOOP("Engine", "'{sku}' does not look like a {name} article number"),
        sku=sku,
        name=cat.name,
    )


def ambiguous_point(cat: Catalog, text: str, found: list[PointRef]) -> Message:
    return say(
        QT_TRANSLATE_NOOP(
            "Engine", "'{text}' matches several pickup points of {catalog} ({codes}); give its code"
        ),
        text=text,
        catalog=cat.name,
        codes=", ".join(p.code for p in found),
    )


# -- catalog import -------------------------------------------------------------------

# Header names operators use, normalized (see tables.norm), by the field they fill.
HEADERS: dict[str, str] = {
    name: fieldname
    for fieldname, names in {
        "marketplace": "маркетплейс, площадка, магазин, marketplace, market, shop",
        "article": "артикул, артикул товара, sku, article, article number",
        "title": "название, наименование, товар, название товара, наименование товара, title, "
        "name, product, product name",
        "pickup_point": "пвз, код пвз, пункт выдачи, пункт выдачи заказов, код пункта выдачи, "
        "pickup point, pickup point code, pickup, pvz",
        "address": "адрес, адрес пвз, адрес пункта выдачи, address, pickup address, "
        "pickup point address",
    }.items()
    for name in names.split(", ")
}
# How the fields are called in messages.
FIELD_NAMES = {
    "marketplace": QT_TRANSLATE_NOOP("Engine", "marketplace"),
    "article": QT_TRANSLATE_NOOP("Engine", "article"),
    "title": QT_TRANSLATE_NOOP("Engine", "title"),
    "pickup_point": QT_TRANSLATE_NOOP("Engine", "pickup point"),
    "address": QT_TRANSLATE_NOOP("Engine", "address"),
}
EXAMPLE_HEADER = "Маркетплейс; Артикул; Название; ПВЗ; Адрес"
IDENTIFIERS = ("marketplace", "article", "pickup_point")


class Change(enum.StrEnum):
    """What an import row does to an article or a pickup point."""

    ADD = "add"
    UPDATE = "update"  # a new title or address
    SAME = "same"  # already in the catalog as given


@dataclass
class CatalogRow:
    """One row of a catalog list and what the import does with it.

    Attributes:
        row: its 1-based row number in the file.
        marketplace: the marketplace's code once known, else as written.
        article, title: the article as written (empty: the row has none).
        pickup_point, address: the pickup point's code as it is stored (for a point given
            by its address, the code typed_point gives it) and its address.
        article_change, point_change: what happens to each (None: the row has none).
        errors: what is wrong, each naming the field; a row with errors changes nothing.
        marketplace_id, article_id, point_id: where it goes (ids of the stored ones).
    """

    row: int
    marketplace: str
    article: str = ""
    title: str = ""
    pickup_point: str = ""
    address: str = ""
    article_change: Change | None = None
    point_change: Change | None = None
    errors: list[FieldError] = field(default_factory=list)
    marketplace_id: int | None = None
    article_id: int | None = None
    point_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def report(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "marketplace": self.marketplace,
            "article": self.article,
            "title": self.title,
            "pickup_point": self.pickup_point,
            "address": self.address,
            "article_change": self.article_change,
            "pickup_point_change": self.point_change,
            "errors": [f"field '{e.field}': {e.message}" for e in self.errors],
        }


@dataclass
class CatalogPlan:
    """What a catalog import would do; nothing is written until `apply_catalog`. Rows
    with errors are left out, the others written.

    Attributes:
        path: the file read.
        rows: one per data row, in file order.
        notes: what the operator should know about the reading (encoding, separator,
            columns not used).
    """

    path: Path
    rows: list[CatalogRow]
    notes: list[str] = field(default_factory=list)

    def errors(self) -> list[str]:
        """Every problem as 'file, row N, field 'f': message'."""
        return [
            f"{self.path.name}, row {r.row}, field '{e.field}': {e.message}"
            for r in self.rows
            for e in r.errors
        ]

    def counts(self) -> dict[str, int]:
        """Articles and pickup points added, updated and already there; rows rejected."""
        counts = {
            f"{what}_{change}": 0
            for what in ("articles", "pickup_points")
            for change in ("add", "update", "same")
        }
        for r in self.rows:
            if r.ok and r.article_change:
                counts[f"articles_{r.article_change}"] += 1
            if r.ok and r.point_change:
                counts[f"pickup_points_{r.point_change}"] += 1
        counts["rejected"] = sum(1 for r in self.rows if not r.ok)
        return counts

    def changes(self) -> bool:
        """Whether writing the plan changes the catalog."""
        c = self.counts()
        return any(c[f"{w}_{k}"] for w in ("articles", "pickup_points") for k in ("add", "update"))

    def report(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "counts": self.counts(),
            "notes": self.notes,
            "errors": self.errors(),
            "rows": [r.report() for r in self.rows],
        }


class _Catalogs:
    """The catalogs as stored, then as the rows planned so far change them: a later row
    of the same article or point updates what an earlier one adds."""

    def __init__(self, s: Session):
        self.s = s
        self.index = MarketIndex.load(s)
        self._loaded: dict[int, Catalog] = {}

    def of(self, market: MarketRef) -> Catalog:
        if market.id not in self._loaded:
            self._loaded[market.id] = load_catalogs(self.s, market.id)[market.code]
        return self._loaded[market.id]

    def plan_article(self, r: CatalogRow, cat: Catalog) -> None:
        found = cat.article(r.article)
        if found is None:
            problem = article_problem(cat, r.article)
            if problem is not None:
                r.errors.append(FieldError(None, "article", problem))
                return
            r.article_change = Change.ADD
            cat.articles[r.article] = _PLANNED
            cat.article_titles[r.article] = r.title
            return
        r.article_id = None if found.id == _PLANNED else found.id
        if r.title and r.title != found.title:
            r.article_change = Change.UPDATE
            cat.article_titles[r.article] = r.title
        else:
            r.article_change = Change.SAME
            r.title = r.title or found.title

    def plan_point(self, r: CatalogRow, cat: Catalog) -> None:
        given = r.pickup_point or r.address
        found = cat.points(given)
        shown = cat.shown_point(r.pickup_point) if r.pickup_point and not found else None
        if isinstance(shown, PointRef):
            found = [shown]
        elif shown is not None:
            r.errors.append(FieldError(None, "pickup point", shown))
            return
        if len(found) > 1:
            r.errors.append(FieldError(None, "pickup point", ambiguous_point(cat, given, found)))
            return
        if not found:
            if r.pickup_point and r.address:
                point = PointRef(r.pickup_point, r.address)
            elif r.pickup_point:
                point = typed_point(r.pickup_point)
            else:
                point = address_point(r.address)
            if len(point.code) > MAX_CODE:
                r.errors.append(
                    FieldError.of(
                        None,
                        "pickup point",
                        QT_TRANSLATE_NOOP("Engine", "longer than {limit} characters"),
                        limit=MAX_CODE,
                    )
                )
                return
            r.pickup_point, r.address = point.code, point.address
            r.point_change = Change.ADD
            cat.pickup_points[point.code] = _PLANNED
            cat.pickup_addresses[point.code] = point.address
            _forget_points(cat)
            return
        (point,) = found
        r.pickup_point = point.code
        r.point_id = None if point.id == _PLANNED else point.id
        if r.address and r.address != point.address:
            r.point_change = Change.UPDATE
            cat.pickup_addresses[point.code] = r.address
            _forget_points(cat)
        else:
            r.point_change = Change.SAME
            r.address = r.address or point.address


# The id of an article or point an earlier row of the same import adds.
_PLANNED = -1


def _forget_points(cat: Catalog) -> None:
    """Drops the cached point index: the planned points changed."""
    cat.__dict__.pop("_by_key", None)


def _catalog_row(
    catalogs: _Catalogs, n: int, get: dict[str, str], default_marketplace: str | None
) -> CatalogRow:
    r = CatalogRow(
        n,
        get.get("marketplace", ""),
        get.get("article", ""),
        " ".join(get.get("title", "").split()),
        get.get("pickup_point", ""),
        " ".join(get.get("address", "").split()),
    )
    for f, value in get.items():
        problem = odd_character(value, invisible=f in IDENTIFIERS)
        if problem:
            r.errors.append(FieldError(None, FIELD_NAMES[f], say(problem)))
    for f, value, limit in (("title", r.title, MAX_TITLE), ("address", r.address, MAX_ADDRESS)):
        if len(value) > limit:
            r.errors.append(
                FieldError.of(
                    None,
                    FIELD_NAMES[f],
                    QT_TRANSLATE_NOOP("Engine", "longer than {limit} characters"),
                    limit=limit,
                )
            )
    if r.title and not r.article:
        r.errors.append(
            FieldError.of(
                None,
                "article",
                QT_TRANSLATE_NOOP("Engine", "empty; a title needs its article number"),
            )
        )
    elif not (r.article or r.pickup_point or r.address):
        r.errors.append(
            FieldError.of(
                None,
                "article",
                QT_TRANSLATE_NOOP(
                    "Engine", "the row has no article and no pickup point; fill in one or both"
                ),
            )
        )
    given = r.marketplace or default_marketplace or ""
    if not given:
        r.errors.append(
            FieldError.of(
                None,
                "marketplace",
                QT_TRANSLATE_NOOP(
                    "Engine", "empty; name the marketplace, or choose one for rows that name none"
                ),
            )
        )
    if not r.ok:
        return r
    try:
        market = catalogs.index.get(given)
    except Refused as exc:
        r.errors.append(FieldError(None, "marketplace", exc.message))
        return r
    r.marketplace, r.marketplace_id = market.code, market.id
    cat = catalogs.of(market)
    if r.article:
        catalogs.plan_article(r, cat)
    if r.pickup_point or r.address:
        catalogs.plan_point(r, cat)
    return r


def plan_catalog(s: Session, path: str | Path, *, default_marketplace: str | None) -> CatalogPlan:
    """Reads a CSV/XLSX list of articles and pickup points and plans each row against
    the catalogs; writes nothing. Each row gives an article (with its title) or a pickup
    point (its code, its address or both) or both, and its marketplace unless
    `default_marketplace` is the one. Raises KnownError for a file that cannot be read
    at all (see tables.py) or none of whose first rows names an article or pickup point
    column. A title above the header and a totals row are left out with a note."""
    path = Path(path)
    if not path.is_file():
        raise KnownError(f"{path}: no such file.")
    notes: list[str] = []
    table = read_table(path, notes)
    if table is None:
        raise KnownError(
            f"{path}: cannot import '{path.suffix or path.name}' files; save the catalog "
            "as CSV or XLSX."
        )
    header = find_header(table, HEADERS, notes, any_of=("article", "pickup_point", "address"))
    if header is None:
        raise KnownError(f"{path}: the list is empty; nothing was imported.")
    if header.missing:
        raise KnownError(
            f"{path}: row {header.row} (header) has no article, pickup point or address "
            f"column; nothing was imported. Name the columns like: {EXAMPLE_HEADER} in one "
            f"of the first {HEADER_ROWS} rows (the header has: {header.has()})."
        )
    columns = header.columns
    catalogs = _Catalogs(s)
    named = [columns[f] for f in ("marketplace", "article", "pickup_point") if f in columns]
    rows = [
        _catalog_row(catalogs, n, _cells(cells, columns), default_marketplace)
        for n, cells in data_rows(table, named, notes)
    ]
    if not rows:
        raise KnownError(f"{path}: the list has no rows under its header; nothing was imported.")
    return CatalogPlan(path, rows, notes)


def _cells(cells: list[str], columns: dict[str, int]) -> dict[str, str]:
    get = {f: (cells[i].strip() if i < len(cells) else "") for f, i in columns.items()}
    for f in IDENTIFIERS:
        if f in get:
            get[f] = identifier(get[f])
    return get


def apply_catalog(s: Session, plan: CatalogPlan) -> dict[str, int]:
    """Writes the plan's rows without errors inside the caller's transaction (commit it
    after): new articles and points added, titles and addresses updated. Returns the
    plan's counts. Each marketplace's stored entries are read once, not once a row."""
    stored: dict[tuple[type[Article] | type[PickupPoint], int], dict[str, Any]] = {}

    def store(
        model: type[Article] | type[PickupPoint], key: Any, mp_id: int, value: str, **text: str
    ) -> None:
        have = stored.get((model, mp_id))
        if have is None:
            rows = s.scalars(select(model).where(model.marketplace_id == mp_id))
            have = stored[(model, mp_id)] = {getattr(e, key.key): e for e in rows}
        entry = have.get(value)
        if entry is None:  # new: added, and found by a later row of the same list
            have[value] = model(marketplace_id=mp_id, **{key.key: value}, **text)
            s.add(have[value])
            return
        for name, new in text.items():
            if new:
                setattr(entry, name, new)

    for r in plan.rows:
        if not r.ok or r.marketplace_id is None:
            continue
        if r.article_change in (Change.ADD, Change.UPDATE):
            store(Article, Article.sku, r.marketplace_id, r.article, title=r.title)
        if r.point_change in (Change.ADD, Change.UPDATE):
            store(
                PickupPoint, PickupPoint.code, r.marketplace_id, r.pickup_point, address=r.address
            )
    s.flush()
    return plan.counts()


# -- listing and editing --------------------------------------------------------------


@dataclass(frozen=True)
class CatalogEntry:
    """An article (sku, title) or a pickup point (code, address) as listed."""

    id: int
    key: str
    text: str


@dataclass(frozen=True)
class CatalogListing:
    marketplace_id: int
    code: str
    name: str
    kind: str
    articles: list[CatalogEntry]
    pickup_points: list[CatalogEntry]

    def report(self) -> dict[str, Any]:
        return {
            "marketplace": self.code,
            "name": self.name,
            "kind": self.kind,
            "articles": [{"sku": a.key, "title": a.text} for a in self.articles],
            "pickup_points": [{"code": p.key, "address": p.text} for p in self.pickup_points],
        }


def catalog_listings(s: Session, marketplace_id: int | None = None) -> list[CatalogListing]:
    """Every marketplace's catalog (or only that one's), articles and points sorted."""
    query = select(MarketPlace).order_by(MarketPlace.name)
    if marketplace_id is not None:
        query = query.where(MarketPlace.id == marketplace_id)
    out = []
    for mp in s.scalars(query):
        articles = s.execute(
            select(Article.id, Article.sku, Article.title)
            .where(Article.marketplace_id == mp.id)
            .order_by(Article.sku)
        )
        points = s.execute(
            select(PickupPoint.id, PickupPoint.code, PickupPoint.address)
            .where(PickupPoint.marketplace_id == mp.id)
            .order_by(PickupPoint.code)
        )
        out.append(
            CatalogListing(
                mp.id,
                mp.code,
                mp.name,
                mp.driver,
                [CatalogEntry(*a) for a in articles],
                [CatalogEntry(*p) for p in points],
            )
        )
    return out


def set_article_title(s: Session, article_id: int, title: str) -> str:
    """Renames an article (the caller commits); returns the title as stored."""
    return _set_text(s, Article, article_id, "title", title, MAX_TITLE)


def set_point_address(s: Session, point_id: int, address: str) -> str:
    """Changes a pickup point's address (the caller commits); its code stays, since
    Orders and files refer to it. Returns the address as stored."""
    return _set_text(s, PickupPoint, point_id, "address", address, MAX_ADDRESS)


def _set_text(
    s: Session,
    model: type[Article] | type[PickupPoint],
    row_id: int,
    name: str,
    text: str,
    limit: int,
) -> str:
    text = " ".join(text.split())
    problem = odd_character(text, invisible=False)
    if problem:
        raise Refused(QT_TRANSLATE_NOOP("Engine", "the text {problem}"), problem=problem)
    if len(text) > limit:
        raise Refused(QT_TRANSLATE_NOOP("Engine", "longer than {limit} characters"), limit=limit)
    stored = s.get(model, row_id)
    if stored is None:
        raise Refused(QT_TRANSLATE_NOOP("Engine", "this entry is no longer in the catalog"))
    setattr(stored, name, text)
    s.flush()
    return text
