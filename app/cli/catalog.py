"""`python main.py catalog import|list`: marketplaces' articles and pickup points from the
terminal."""

from __future__ import annotations

import argparse

from app.cli.accounts import add_db_option, print_json
from app.cli.words import plural
from app.core.orders.catalog import (
    EXAMPLE_HEADER,
    CatalogPlan,
    apply_catalog,
    catalog_listings,
    plan_catalog,
)
from app.core.storage.db import Database
from app.core.storage.markets import MarketIndex
from app.core.support.errors import KnownError
from app.core.support.text import Refused

IMPORT_HELP = f"""\
The list (CSV in any Excel encoding with ';' or ',' between values, or XLSX) has a header
row; each row below it gives an article, a pickup point, or both, of one marketplace:

  marketplace    the marketplace's code, name or alias (Маркетплейс; may be left out
                 when --marketplace names the marketplace of rows that name none)
  article        an article number (Артикул), with its title (Название) if known
  pickup point   a pickup point's code (ПВЗ), with its address (Адрес); a point given
                 only by its address gets the address as its code (longer than 100
                 characters: its start and a short hash), as when an Order types it

For example: {EXAMPLE_HEADER}
New articles and pickup points are added; a title or an address given for one already
in the catalog replaces the stored one (empty cells change nothing). An article must have
the marketplace's format. A row with a problem is named by file, row and field and left
out, the others written (exit 1 then); unless --dry-run, all in one transaction."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import",
        help="add or update articles and pickup points from a CSV/XLSX list",
        description=IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("path", help="a .csv or .xlsx list")
    imp.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    imp.add_argument("--json", action="store_true", help="print a JSON report as the last line")
    imp.add_argument(
        "--marketplace", help="marketplace of rows that name none: its code, name or an alias"
    )
    add_db_option(imp)
    imp.set_defaults(func=cmd_import)
    ls = actions.add_parser("list", help="list the articles and pickup points")
    ls.add_argument("--marketplace", help="only this marketplace (code, name or alias)")
    ls.add_argument("--json", action="store_true", help="print a JSON list as the last line")
    add_db_option(ls)
    ls.set_defaults(func=cmd_list)


def _market_id(
    db: Database, given: str | None, *, disabled_too: bool = False
) -> tuple[int | None, str | None]:
    """The id and code of the marketplace --marketplace names, checked before anything
    is read (a disabled one only listed); (None, None) when not given."""
    if given is None:
        return None, None
    with db.reading() as s:
        index = MarketIndex.load(s)
    try:
        market = (index.find(given) if disabled_too else None) or index.get(given)
    except Refused as exc:
        raise KnownError(f"--marketplace {given}: {exc}") from None
    return market.id, market.code


def print_plan(plan: CatalogPlan) -> None:
    print(plan.path)
    for note in plan.notes:
        print(f"  note: {note}")
    for r in plan.rows:
        if not r.ok:
            problems = "; ".join(f"field '{e.field}': {e.message}" for e in r.errors)
            print(f"  row {r.row:<6} {'error':<8} {problems}")
            continue
        parts = []
        if r.article_change:
            title = f" ({r.title})" if r.title else ""
            parts.append(f"{r.article_change} article {r.article}{title}")
        if r.point_change:
            address = f" ({r.address})" if r.address and r.address != r.pickup_point else ""
            parts.append(f"{r.point_change} pickup point {r.pickup_point}{address}")
        print(f"  row {r.row:<6} {r.marketplace:<8} {'; '.join(parts)}")


def cmd_import(args: argparse.Namespace) -> int:
    db = Database(args.db)
    try:
        _, default = _market_id(db, args.marketplace)
        with db.session() as s:
            plan = plan_catalog(s, args.path, default_marketplace=default)
            print_plan(plan)
            written = not args.dry_run and plan.changes()
            if written:
                apply_catalog(s, plan)
                s.commit()
    finally:
        db.close()
    c = plan.counts()
    figures = (
        f"articles {c['articles_add']} new, {c['articles_update']} updated, "
        f"{c['articles_same']} unchanged; pickup points {c['pickup_points_add']} new, "
        f"{c['pickup_points_update']} updated, {c['pickup_points_same']} unchanged; "
        f"{plural(c['rejected'], 'row')} rejected"
    )
    if written:
        print(f"Imported: {figures}.")
    elif args.dry_run:
        print(f"Dry run, nothing written: {figures}.")
    else:
        print(f"Nothing imported, nothing to add or update: {figures}.")
    if args.json:
        print_json(plan.report() | {"dry_run": args.dry_run, "written": written})
    return 1 if c["rejected"] else 0


def cmd_list(args: argparse.Namespace) -> int:
    db = Database(args.db)
    try:
        market_id, _ = _market_id(db, args.marketplace, disabled_too=True)
        with db.reading() as s:
            listings = catalog_listings(s, market_id)
    finally:
        db.close()
    for c in listings:
        print(
            f"{c.name} ({c.code}, {c.kind}): {plural(len(c.articles), 'article')}, "
            f"{plural(len(c.pickup_points), 'pickup point')}"
        )
        for a in c.articles:
            print(f"  article       {a.key:<16} {a.text}".rstrip())
        for p in c.pickup_points:
            # A point typed as an address has it as its code too: shown once.
            print(f"  pickup point  {p.key:<16} {p.text if p.text != p.key else ''}".rstrip())
    if not listings:
        print("No marketplace is set up yet: main.py marketplaces add CODE --preset NAME")
    if args.json:
        print_json([c.report() for c in listings])
    return 0
