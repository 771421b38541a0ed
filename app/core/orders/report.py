"""An Order's report, one row per unit, written to XLSX or to CSV that Russian Excel opens."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
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
from app.core.domain.states import TaskStatus
from app.core.support.cells import safe_text, starts_formula
from app.core.support.errors import KnownError
from app.core.support.text import QT_TRANSLATE_NOOP

# The report's columns, marked for the console's translation.
COLUMNS = (
    QT_TRANSLATE_NOOP("Report", "Order"),
    QT_TRANSLATE_NOOP("Report", "Client"),
    QT_TRANSLATE_NOOP("Report", "Line"),
    QT_TRANSLATE_NOOP("Report", "Article"),
    QT_TRANSLATE_NOOP("Report", "Title"),
    QT_TRANSLATE_NOOP("Report", "Account"),
    QT_TRANSLATE_NOOP("Report", "Pickup point"),
    QT_TRANSLATE_NOOP("Report", "Marketplace order"),
    QT_TRANSLATE_NOOP("Report", "Price, ₽"),
    QT_TRANSLATE_NOOP("Report", "Status"),
    QT_TRANSLATE_NOOP("Report", "Purchased"),
    QT_TRANSLATE_NOOP("Report", "Delivered"),
    QT_TRANSLATE_NOOP("Report", "Failure reason"),
)
# A unit's state in the console's words for it (context "Status", as its Tasks table).
STATUS_WORDS: dict[str, str] = {
    TaskStatus.PENDING: QT_TRANSLATE_NOOP("Status", "pending"),
    TaskStatus.WAITING_ACCOUNT: QT_TRANSLATE_NOOP("Status", "waiting for account"),
    TaskStatus.ASSIGNED: QT_TRANSLATE_NOOP("Status", "assigned"),
    TaskStatus.RUNNING: QT_TRANSLATE_NOOP("Status", "running"),
    TaskStatus.SUBMITTING: QT_TRANSLATE_NOOP("Status", "submitting"),
    TaskStatus.PURCHASED: QT_TRANSLATE_NOOP("Status", "purchased"),
    TaskStatus.DELIVERED: QT_TRANSLATE_NOOP("Status", "delivered"),
    TaskStatus.RETRY_WAIT: QT_TRANSLATE_NOOP("Status", "retry wait"),
    TaskStatus.FAILED: QT_TRANSLATE_NOOP("Status", "failed"),
    TaskStatus.CANCELLED: QT_TRANSLATE_NOOP("Status", "cancelled"),
    TaskStatus.NEEDS_REVIEW: QT_TRANSLATE_NOOP("Status", "needs review"),
}
# The units whose last error is why they are not bought.
NOT_BOUGHT = frozenset({TaskStatus.FAILED, TaskStatus.NEEDS_REVIEW})
SUFFIXES = (".xlsx", ".csv")
TIME_FORMAT = "%d.%m.%Y %H:%M:%S"

# The report's words: (context, English source) -> the text to write, as Qt's
# QCoreApplication.translate answers it.
Words = Callable[[str, str], str]
# A failure reason as the engine wrote it (English) -> the text to write.
Reasons = Callable[[str], str]


def english(context: str, source: str) -> str:
    """The words as the code writes them (the command line's report)."""
    return source


def as_written(reason: str) -> str:
    """The reason as the engine wrote it (the command line's report)."""
    return reason


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
    failure_reason: str = ""  # the last error of a unit that failed or is in review


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
                Task.last_error,
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
            (error or "") if status in NOT_BOUGHT else "",
        )
        for line, sku, title, login, point, number, price, status, purchased, delivered, error in (
            s.execute(q)
        )
    ]


# What one report cell holds.
Cell = int | str | Decimal | datetime | None


@dataclass(frozen=True)
class Sheet:
    """The report as written: its title, header and rows, in the words it was given."""

    title: str
    header: list[str]
    rows: list[tuple[Cell, ...]]


def _status(status: str, words: Words) -> str:
    source = STATUS_WORDS.get(status)
    return words("Status", source) if source else status.replace("_", " ")


def report_sheet(
    rows: list[UnitRow], words: Words = english, reasons: Reasons = as_written
) -> Sheet:
    """The report of `rows` in `words` (headers, statuses), with the failure reasons
    (which the engine writes in English) passed through `reasons`."""
    order = words("Report", "Order")
    return Sheet(
        f"{order} {rows[0].order_id}" if rows else order,
        [words("Report", c) for c in COLUMNS],
        [
            (
                r.order_id,
                r.client,
                r.line,
                r.article,
                r.title,
                r.account,
                r.pickup_point,
                r.order_number,
                r.price,
                _status(r.status, words),
                r.purchased_at,
                r.delivered_at,
                reasons(r.failure_reason) if r.failure_reason else "",
            )
            for r in rows
        ],
    )


def _write_xlsx(report: Sheet, path: Path) -> None:
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    book = openpyxl.Workbook()
    ws = book.active
    assert isinstance(ws, Worksheet)  # a new Workbook opens on its one worksheet
    ws.title = report.title
    ws.append(report.header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for cells in report.rows:
        ws.append(cells)
    widths = [len(c) for c in report.header]
    for cells in report.rows:
        for i, value in enumerate(cells):
            shown = TIME_FORMAT if isinstance(value, datetime) else str(value or "")
            widths[i] = max(widths[i], len(shown))
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = min(width + 2, 60)
    for row in ws.iter_rows(min_row=2):
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
    ws.freeze_panes = "A2"
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


def _write_csv(report: Sheet, path: Path) -> None:
    # UTF-8 with BOM and ';': what Russian Excel opens without an import wizard.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(report.header)
        out.writerows([_csv_value(v) for v in cells] for cells in report.rows)


def write_report(report: Sheet, path: str | Path) -> Path:
    """Writes the report as XLSX or CSV by the file's suffix. Written beside the target and
    renamed into place, so a failed export leaves no half file (nor a clobbered old one)."""
    path = Path(path)
    suffix = path.suffix.casefold()
    if suffix not in SUFFIXES:
        raise KnownError(f"{path}: the report is written as .xlsx or .csv; name the file so.")
    partial = path.with_name(f".{path.name}.part")
    try:
        (_write_xlsx if suffix == ".xlsx" else _write_csv)(report, partial)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise KnownError(
            f"{path}: cannot write the report ({exc.strerror}); close the file if Excel has it "
            "open, or choose another folder."
        ) from None
    return path


def export_order(
    s: Session,
    order_id: int,
    path: str | Path,
    *,
    words: Words = english,
    reasons: Reasons = as_written,
) -> int:
    """Writes the Order's report to `path` (.xlsx or .csv); returns the units written.
    `words` translates the headers and statuses (English unless given: the console gives
    QCoreApplication.translate), `reasons` the failure reasons."""
    rows = report_rows(s, order_id)
    write_report(report_sheet(rows, words, reasons), path)
    return len(rows)
