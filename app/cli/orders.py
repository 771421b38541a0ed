"""`python main.py orders import|export`: Orders in from CSV/XLSX lists, reports out."""

from __future__ import annotations

import argparse

from app.cli.accounts import add_db_option, add_import_options, chosen_marketplace, print_json
from app.cli.words import plural
from app.core.engine.settings import EngineSettings
from app.core.orders.imports import OrderImportPlan, describe, plan_orders, write_orders
from app.core.orders.report import export_order
from app.core.storage.db import Database


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="create Orders from a CSV/XLSX list",
        description="Rows of one client (and marketplace) form one Order, each row a line. "
        "Prints each row's outcome and, unless --dry-run, creates every Order in one "
        "transaction; one bad row writes nothing and exits 1. On an assisted marketplace "
        "(Wildberries, Ozon, ...) an article number of its format or a pickup point (code "
        "or address) not in its catalog yet is added to it with the Order; the preview "
        "marks them 'new'.",
    )
    imp.add_argument("path", help="a .csv or .xlsx list")
    add_import_options(imp)
    imp.set_defaults(func=cmd_import)
    exp = actions.add_parser("export", help="write an Order's report, one row per unit")
    exp.add_argument("order_id", type=int, metavar="ORDER_ID")
    exp.add_argument("--out", required=True, help="the report file, .xlsx or .csv")
    exp.set_defaults(func=cmd_export)
    add_db_option(exp)


def print_plan(plan: OrderImportPlan) -> None:
    print(plan.path)
    for note in plan.notes:
        print(f"  note: {note}")
    for r in plan.rows:
        outcome = f"order {r.order} line {r.line}" if r.ok else "error"
        article = f"{r.article} (new article)" if r.new_article else r.article
        point = f"{r.pickup_point} (new pickup point)" if r.new_pickup_point else r.pickup_point
        detail = "; ".join(describe(e) for e in r.errors) or (
            f"{r.client} @ {r.marketplace}: {article} × {r.quantity} → {point}"
        )
        print(f"  row {r.row:<6} {outcome:<18} {detail}")


def cmd_import(args: argparse.Namespace) -> int:
    limit = EngineSettings().max_units_per_line
    db = Database(args.db)
    written: list[int] = []
    try:
        with db.session() as s:
            market = chosen_marketplace(s, args.marketplace)
            plan = plan_orders(s, args.path, default_marketplace=market, max_units_per_line=limit)
        print_plan(plan)
        if plan.ok and not args.dry_run:
            written = write_orders(db, plan, max_units_per_line=limit)
    finally:
        db.close()
    if not plan.ok:
        problems = plural(len(plan.errors()), "problem")
        print(f"Nothing imported: {problems}; fix the rows and import again.")
    elif args.dry_run:
        print(
            f"Dry run, nothing written: {plural(len(plan.orders), 'order')}, "
            f"{plural(plan.units(), 'unit')}"
            f"{_new_entries(plan)}."
        )
    else:
        numbers = ", ".join(f"#{i}" for i in written)
        print(
            f"Imported {plural(len(written), 'order')} ({numbers}), {plural(plan.units(), 'unit')}"
            f"{_new_entries(plan)}; queued."
        )
    if args.json:
        print_json(plan.report() | {"dry_run": args.dry_run, "order_ids": written})
    return 0 if plan.ok else 1


def _new_entries(plan: OrderImportPlan) -> str:
    articles, points = plan.new_entries()
    if not (articles or points):
        return ""
    return f"; new in the catalog: {plural(articles, 'article')}, {plural(points, 'pickup point')}"


def cmd_export(args: argparse.Namespace) -> int:
    db = Database(args.db)
    try:
        with db.session() as s:
            units = export_order(s, args.order_id, args.out)
    finally:
        db.close()
    print(f"Wrote order #{args.order_id}'s report ({plural(units, 'unit')}) to {args.out}")
    return 0
