"""Taking Orders in from CSV/XLSX lists: a plan row by row first, then one transaction
that creates every Order of the file or none."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.core.orders.catalog import load_catalogs, market_index, point_key
from app.core.orders.create import create_order
from app.core.orders.spec import FieldError, InvalidOrder, LineSpec, OrderSpec
from app.core.orders.validation import check, line_entries
from app.core.storage.db import Database
from app.core.support.errors import KnownError
from app.core.support.tables import (
    HEADER_ROWS,
    Row,
    data_rows,
    find_header,
    identifier,
    odd_character,
    read_table,
)
from app.core.support.text import QT_TRANSLATE_NOOP, Refused, say

# Header names operators use, normalized (see tables.norm), by the field they fill.
HEADERS: dict[str, str] = {
    name: fieldname
    for fieldname, names in {
        "client": "клиент, заказчик, покупатель, client, customer",
        "marketplace": "маркетплейс, площадка, магазин, marketplace, market, shop",
        "article": "артикул, артикул товара, sku, article, article number",
        "quantity": "количество, кол во, штук, шт, quantity, qty, units",
        "pickup_point": "пвз, пункт выдачи, пункт выдачи заказов, pickup point, pickup, pvz",
        "max_unit_price": "макс цена, максимальная цена, цена до, max price, max unit price, "
        "price cap",
    }.items()
    for name in names.split(", ")
}
REQUIRED = ("client", "article", "quantity", "pickup_point")
# How the fields are called in messages: the names check_line uses.
FIELD_NAMES = {
    "client": "client",
    "marketplace": "marketplace",
    "article": "article",
    "quantity": "quantity",
    "pickup_point": "pickup point",
    "max_unit_price": "max unit price",
}
EXAMPLE_HEADER = "Клиент; Маркетплейс; Артикул; Количество; ПВЗ; Макс. цена"
# The fields that name something in the catalog, compared after NFKC (see
# tables.identifier). Not the client: its name is matched as typed in the console.
IDENTIFIERS = ("marketplace", "article", "pickup_point")


@dataclass
class OrderRow:
    """One row of the list and what the import does with it.

    Attributes:
        row: its 1-based row number in the file.
        client, marketplace, article, quantity, pickup_point, max_unit_price: as written
            (marketplace: the code it resolved to, when known).
        order, line: the new Order (1-based, in the plan) and its line this row becomes.
        new_article, new_pickup_point: the article or pickup point is not in the
            marketplace's (open) catalog yet: the import adds it. Shown so that a typo is
            seen before it becomes a catalog entry.
        errors: what is wrong, each naming the field and what to do; empty when fine.
    """

    row: int
    client: str
    marketplace: str
    article: str
    quantity: str
    pickup_point: str
    max_unit_price: str
    order: int | None = None
    line: int | None = None
    new_article: bool = False
    new_pickup_point: bool = False
    errors: list[FieldError] = field(default_factory=list)  # line=None: the row is where

    @property
    def ok(self) -> bool:
        return not self.errors

    def report(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "client": self.client,
            "marketplace": self.marketplace,
            "article": self.article,
            "quantity": self.quantity,
            "pickup_point": self.pickup_point,
            "max_unit_price": self.max_unit_price,
            "order": self.order,
            "line": self.line,
            "new_article": self.new_article,
            "new_pickup_point": self.new_pickup_point,
            "errors": [describe(e) for e in self.errors],
        }


@dataclass
class OrderImportPlan:
    """What an import would create; nothing is written until `write_orders`.

    Attributes:
        path: the file read.
        rows: one per data row, in file order.
        orders: the Orders to create (rows of one client and marketplace form one).
        notes: what the operator should know about the reading (encoding, separator,
            columns not used).
    """

    path: Path
    rows: list[OrderRow]
    orders: list[OrderSpec]
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """All or none: one bad row keeps the whole file out."""
        return bool(self.orders) and all(r.ok for r in self.rows)

    def errors(self) -> list[str]:
        """Every problem as 'file, row N, field: message'."""
        return [
            f"{self.path.name}, row {r.row}, {describe(e)}" for r in self.rows for e in r.errors
        ]

    def units(self) -> int:
        return sum(int(line.quantity) for o in self.orders for line in o.lines)

    def new_entries(self) -> tuple[int, int]:
        """The articles and pickup points the import adds to the catalogs, each once."""
        rows = [r for r in self.rows if r.ok]
        articles = {(r.marketplace, r.article) for r in rows if r.new_article}
        points = {(r.marketplace, point_key(r.pickup_point)) for r in rows if r.new_pickup_point}
        return len(articles), len(points)

    def report(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "orders": len(self.orders),
            "units": self.units() if self.ok else None,
            "new_articles": self.new_entries()[0],
            "new_pickup_points": self.new_entries()[1],
            "notes": self.notes,
            "errors": self.errors(),
            "rows": [r.report() for r in self.rows],
        }


def _columns(path: Path, table: Iterator[Row], notes: list[str]) -> dict[str, int]:
    """The columns of the list's header, found among its first rows (see find_header)."""
    header = find_header(table, HEADERS, notes, required=REQUIRED)
    if header is None:
        raise KnownError(f"{path}: the list has no order rows; nothing was imported.")
    if header.missing:
        missing = ", ".join(FIELD_NAMES[f] for f in header.missing)
        raise KnownError(
            f"{path}: row {header.row} (header) has no {missing} column; nothing was imported. "
            f"Name the columns like: {EXAMPLE_HEADER} in one of the first {HEADER_ROWS} rows "
            f"(the header has: {header.has()})."
        )
    return header.columns


def plan_orders(
    s: Session, path: str | Path, *, default_marketplace: str, max_units_per_line: int
) -> OrderImportPlan:
    """Reads a CSV/XLSX list and checks every row against the catalogs; writes nothing.
    Raises KnownError for a file that cannot be read at all (missing, empty, binary, over
    a limit of tables.py, an encoding that cannot be told, unknown type, no header with
    the needed columns among its first rows). A title above the header and a totals row
    are left out with a note; a row with a control or invisible character is a row error."""
    path = Path(path)
    if not path.is_file():
        raise KnownError(f"{path}: no such file.")
    notes: list[str] = []
    table = read_table(path, notes)
    if table is None:
        raise KnownError(
            f"{path}: cannot import '{path.suffix or path.name}' files; save the orders "
            "as CSV or XLSX."
        )
    columns = _columns(path, table, notes)
    catalogs = load_catalogs(s)
    markets = market_index(catalogs)
    rows: list[OrderRow] = []
    groups: dict[tuple[str, str], list[OrderRow]] = {}
    for n, cells in data_rows(table, (columns["client"], columns["article"]), notes):
        get = {f: (cells[i].strip() if i < len(cells) else "") for f, i in columns.items()}
        for f in IDENTIFIERS:
            if f in get:
                get[f] = identifier(get[f])
        row = OrderRow(
            n,
            get["client"],
            get.get("marketplace", ""),
            get["article"],
            get["quantity"],
            get["pickup_point"],
            get.get("max_unit_price", ""),
        )
        rows.append(row)
        # Control characters are damage; invisible ones make look-alikes of other names.
        for f, value in get.items():
            problem = odd_character(value, invisible=True)
            if problem:
                row.errors.append(FieldError(None, FIELD_NAMES[f], say(problem)))
        if not row.ok:
            continue
        if not row.client:
            row.errors.append(
                FieldError.of(
                    None, "client", QT_TRANSLATE_NOOP("Engine", "empty; fill in the client's name")
                )
            )
        try:
            row.marketplace = markets.get(row.marketplace or default_marketplace).code
        except Refused as exc:
            row.errors.append(FieldError(None, "marketplace", exc.message))
        if row.ok:
            groups.setdefault((row.client, row.marketplace), []).append(row)
    if not rows:
        raise KnownError(f"{path}: the list has no order rows; nothing was imported.")
    orders: list[OrderSpec] = []
    request = uuid.uuid4().hex  # this import's: importing the plan again creates nothing twice
    for (client, code), members in groups.items():
        spec = OrderSpec(
            client,
            code,
            [LineSpec(r.article, r.quantity, r.pickup_point, r.max_unit_price) for r in members],
            request_id=f"import-{request}-{len(orders) + 1}",
        )
        cat = catalogs[code]
        for r in members:
            article, point = line_entries(LineSpec(r.article, r.quantity, r.pickup_point), cat)
            r.new_article = article is not None and article.new
            r.new_pickup_point = point is not None and point.new
        try:
            check(spec, catalogs, max_units_per_line=max_units_per_line, index=markets)
        except InvalidOrder as exc:
            for e in exc.errors:
                targets = [members[e.line - 1]] if e.line else members
                for r in targets:
                    r.errors.append(FieldError(None, e.field, e.message))
        orders.append(spec)
        for line_no, r in enumerate(members, 1):
            r.order, r.line = len(orders), line_no
    return OrderImportPlan(path, rows, orders, notes)


def describe(e: FieldError) -> str:
    """A row's problem in the import's words: "field 'quantity': must be at least 1"."""
    return f"field '{e.field}': {e.message}"


def write_orders(db: Database, plan: OrderImportPlan, *, max_units_per_line: int) -> list[int]:
    """Creates every Order of the plan in one transaction and returns their ids; the
    engine picks them up on its next look at the database. Refuses a plan with errors."""
    if not plan.ok:
        raise KnownError(
            f"{plan.path}: nothing was imported; fix these rows and import again:\n"
            + "\n".join(f"- {e}" for e in plan.errors())
        )
    try:
        with db.engine.begin() as conn:
            return [
                create_order(conn, spec, max_units_per_line=max_units_per_line)
                for spec in plan.orders
            ]
    except InvalidOrder as exc:
        # The catalog changed between the preview and the import.
        raise KnownError(
            f"{plan.path}: the catalog changed since the preview; nothing was imported. "
            f"Preview again.\n{exc}"
        ) from None
