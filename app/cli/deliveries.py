"""`python main.py deliveries import`: delivery statuses from a CSV/XLSX list of the
marketplace's order numbers, for marketplaces where a person buys."""

from __future__ import annotations

import argparse

from app.cli.accounts import add_db_option, print_json
from app.cli.words import plural
from app.core.accounts.keys import open_database
from app.core.engine.assisted import operator_name
from app.core.engine.deliveries import DeliveryPlan, plan_deliveries, record_deliveries


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="record delivery statuses from a CSV/XLSX list",
        description="One of the list's first rows names the columns 'Номер заказа' (order number) "
        "and 'Статус' (status: at the pickup point / в пункте выдачи, in transit / в пути, "
        "ordered / оформлен). Units whose order is at the pickup point are delivered; "
        "an Order is done when all its units are. Rows that match no recorded purchase "
        "are named and left out; the others are recorded in one transaction.",
    )
    imp.add_argument("path", help="a .csv or .xlsx list")
    imp.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    imp.add_argument("--json", action="store_true", help="print a JSON report as the last line")
    add_db_option(imp)
    imp.set_defaults(func=cmd_import)


def print_plan(plan: DeliveryPlan) -> None:
    print(plan.path)
    for note in plan.notes:
        print(f"  note: {note}")
    for r in plan.rows:
        detail = str(r.error) if r.error else f"{r.order_number}: {r.status_text}"
        print(f"  row {r.row:<6} {r.outcome:<10} {detail}")


def cmd_import(args: argparse.Namespace) -> int:
    db = open_database(args.db)
    arrived: dict[int, int] = {}
    try:
        with db.reading() as s:
            plan = plan_deliveries(s, args.path)
        print_plan(plan)
        if not args.dry_run:
            with db.session() as s:
                arrived = record_deliveries(s.connection(), plan, operator=operator_name())
                s.commit()
    finally:
        db.close()
    rejected = plan.count("rejected")
    verb = "Dry run, nothing written" if args.dry_run else "Recorded"
    print(
        f"{verb}: {plural(plan.count('arrived'), 'unit')} at the pickup point, "
        f"{plan.count('status')} with a new status, {plan.count('unchanged')} unchanged, "
        f"{plural(rejected, 'row')} rejected."
    )
    if args.json:
        print_json(
            {
                "arrived": plan.count("arrived"),
                "status": plan.count("status"),
                "unchanged": plan.count("unchanged"),
                "rejected": [{"row": r.row, "reason": str(r.error)} for r in plan.rows if r.error],
                "dry_run": args.dry_run,
                "orders": sorted(set(arrived.values())),
            }
        )
    return 1 if rejected else 0
