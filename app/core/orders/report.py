"""An Order's report, one row per unit, written to XLSX or to CSV that Russian Excel opens."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.domain.models import (
    Article,
    BuyBack,
    Client,
    MarketPlaceAccount,
    Order,
    OrderLine,
    PickupPoint,
    Task,
    with_line,
)
from app.core.support.cells import safe_text, starts_formula
from app.core.support.errors import KnownError

COLUMNS = (
    "Order",
    "Client",
    "Line",
    "Article",
    "Title",
    "Account",
    "Pickup point",
    "Marketplace order",
    "Price, ₽",
    "Status",
    "Purchased",
    "Delivered",
)
SUFFIXES = (".xlsx", ".csv")
TIME_FORMAT = "%d.%m.%Y %H:%M:%S"


@dataclass(frozen=True)
class UnitRow:
    """One unit of the Order as reported; times are local and naive (what a sheet shows).
    Holds no secrets: the account is named by its login only."""

    order_id: int
    client: str
    line: int
    article: str
    title: str
    account: str
    pickup_point: str
    order_number: str
    price: Decimal | None
    status: str
    purchased_at: datetime | None
    delivered_at: datetime | None


def _local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone().replace(tzinfo=None)


def report_rows(s: Session, order_id: int) -> list[UnitRow]:
    """Every unit of the Order, by line and unit; raises KnownError for an unknown Order."""
    client = s.scalar(
        select(Client.name).join(Order, Order.client_id == Client.id).where(Order.id == order_id)
    )
    if client is None:
        raise KnownError(f"There is no order #{order_id}; check the number in the console.")
    q = (
        with_line(
            select(
                OrderLine.line_no,
                Article.sku,
                Article.title,
                MarketPlaceAccount.login,
                PickupPoint.code,
                BuyBack.order_number,
                BuyBack.price_minor,
                Task.status,
                BuyBack.purchased_at,
                BuyBack.delivered_at,
            )
        )
        .outerjoin(BuyBack, BuyBack.task_id == Task.id)
        # The account that bought the unit, else the one it is leased to now.
        .outerjoin(
            MarketPlaceAccount,
            MarketPlaceAccount.id == func.coalesce(BuyBack.account_id, Task.account_id),
        )
        .where(Task.order_id == order_id)
        .order_by(OrderLine.line_no, Task.unit_no, Task.id)
    )
    return [
        UnitRow(
            order_id,
            client,
            line,
            sku,
            title,
            login or "",
            point,
            number or "",
            Decimal(price) / 100 if price is not None else None,
            str(status),
            _local(purchased),
            _local(delivered),
        )
        for line, sku, title, login, point, number, price, status, purchased, delivered in (
            s.execute(q)
        )
    ]


# What one report cell holds.
Cell = int | str | Decimal | datetime | None


def _cells(r: UnitRow) -> tuple[Cell, ...]:
    return (
        r.order_id,
        r.client,
        r.line,
        r.article,
        r.title,
        r.account,
        r.pickup_point,
        r.order_number,
        r.price,
        r.status.replace("_", " "),
        r.purchased_at,
        r.delivered_at,
    )


def _write_xlsx(rows: list[UnitRow], path: Path) -> None:
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    book = openpyxl.Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new Workbook opens on its one worksheet
    sheet.title = f"Order {rows[0].order_id}" if rows else "Order"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in rows:
        sheet.append(_cells(r))
    widths = [len(c) for c in COLUMNS]
    for r in rows:
        for i, value in enumerate(_cells(r)):
            shown = TIME_FORMAT if isinstance(value, datetime) else str(value or "")
            widths[i] = max(widths[i], len(shown))
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = min(width + 2, 60)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            # openpyxl makes any string starting with "=" a formula: text stays text, and
            # text a spreadsheet could take for a formula gets the mark Excel gives a typed
            # '=..., so that editing the cell does not make it one either.
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if starts_formula(cell.value):
                    cell.quotePrefix = True
        row[8].number_format = "#,##0.00"
        row[10].number_format = row[11].number_format = "dd.mm.yyyy hh:mm:ss"
    sheet.freeze_panes = "A2"
    book.save(path)


def _csv_value(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")  # Russian Excel reads a decimal comma
    if isinstance(value, str):
        return safe_text(value)  # Excel would run "=..." (or "+", "-", "@") as a formula
    return str(value)


def _write_csv(rows: list[UnitRow], path: Path) -> None:
    # UTF-8 with BOM and ';': what Russian Excel opens without an import wizard.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(COLUMNS)
        out.writerows([_csv_value(v) for v in _cells(r)] for r in rows)


def write_report(rows: list[UnitRow], path: str | Path) -> Path:
    """Writes the report as XLSX or CSV by the file's suffix. Written beside the target and
    renamed into place, so a failed export leaves no half file (nor a clobbered old one)."""
    path = Path(path)
    suffix = path.suffix.casefold()
    if suffix not in SUFFIXES:
        raise KnownError(f"{path}: the report is written as .xlsx or .csv; name the file so.")
    partial = path.with_name(f".{path.name}.part")
    try:
        (_write_xlsx if suffix == ".xlsx" else _write_csv)(rows, partial)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise KnownError(
            f"{path}: cannot write the report ({exc.strerror}); close the file if Excel has it "
            "open, or choose another folder."
        ) from None
    return path


def export_order(s: Session, order_id: int, path: str | Path) -> int:
    """Writes the Order's report to `path` (.xlsx or .csv); returns the units written."""
    rows = report_rows(s, order_id)
    write_report(rows, path)
    return len(rows)
