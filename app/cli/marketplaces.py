"""`python main.py marketplaces add|list|edit|enable|disable`: the marketplaces set up
here, from a preset (Wildberries, Ozon, Yandex Market, the sandbox) or by hand."""

from __future__ import annotations

import argparse
import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from app.cli.accounts import add_db_option, print_json
from app.cli.words import plural
from app.core.accounts.keys import open_database
from app.core.domain.markets import OPERATOR_KINDS, PRESETS, MarketKind, preset_for
from app.core.domain.models import MarketPlace
from app.core.orders.marketplaces import (
    MarketFields,
    add_marketplace,
    from_preset,
    marketplace_rows,
    set_marketplace_enabled,
    update_marketplace,
)
from app.core.storage.markets import MarketIndex
from app.core.support.errors import KnownError
from app.core.support.text import Refused

KIND_WORDS: dict[str, str] = {
    MarketKind.ASSISTED: "a person buys in a browser, the console records it",
    MarketKind.SANDBOX: "the engine buys on the bundled sandbox",
    MarketKind.MEMORY: "an in-memory test shop",
}
# Options that set a field: (option, MarketFields attribute, help).
FIELD_OPTIONS = (
    ("--name", "name", "the name people see (Wildberries)"),
    ("--url", "base_url", "the site's address (https://www.wildberries.ru)"),
    (
        "--product-url",
        "product_url",
        "a product page's address with {article} where the article number goes",
    ),
    ("--kind", "kind", "who buys: assisted (a person, in a browser) or sandbox (the engine)"),
    ("--article-format", "article_pattern", "a regular expression every article number matches"),
    ("--article-example", "article_example", "an article number as it looks (for messages)"),
    ("--aliases", "aliases", 'other names files and people use, comma-separated ("WB, ВБ")'),
    ("--currency", "currency", "the 3-letter currency code (RUB)"),
)
_LATIN_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# Without a preset, `add` needs at least these.
REQUIRED_BY_HAND = ("--name", "--url", "--product-url")


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    presets = ", ".join(PRESETS)
    add = actions.add_parser(
        "add",
        help="set up a marketplace from a preset or by hand",
        description="Adds a marketplace. CODE naming a preset (wb, ozon, ym, sandbox, or a "
        f"name or alias of one) takes that preset's settings; so does --preset ({presets}). "
        "Without a preset give --name, --url and --product-url. Any option overrides the "
        "preset. A bad value is refused in one line and nothing is written.",
    )
    add.add_argument("code", metavar="CODE", help="a short code of Latin letters (wb, ozon)")
    add_field_options(add)
    add.set_defaults(func=cmd_add)
    edit = actions.add_parser(
        "edit",
        help="change a marketplace's settings (its code stays)",
        description="Changes the given settings of the marketplace CODE (its code, name or "
        "alias); --preset takes a preset's settings first. Nothing is written on a refusal.",
    )
    edit.add_argument("code", metavar="CODE", help="the marketplace's code, name or alias")
    add_field_options(edit)
    edit.set_defaults(func=cmd_edit)
    ls = actions.add_parser("list", help="list the marketplaces with their accounts and orders")
    ls.add_argument("--json", action="store_true", help="print a JSON list as the last line")
    ls.set_defaults(func=cmd_list)
    for name, enabled, what in (
        ("enable", True, "take new orders and accounts again"),
        ("disable", False, "take no new orders or accounts (its orders go on)"),
    ):
        switch = actions.add_parser(name, help=f"{name} a marketplace: {what}")
        switch.add_argument("code", metavar="CODE", help="the marketplace's code, name or alias")
        switch.set_defaults(func=cmd_switch, enabled=enabled)
    for sub in (add, edit, ls, *(actions.choices[n] for n in ("enable", "disable"))):
        add_db_option(sub)


def add_field_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", help=f"start from a preset: {', '.join(PRESETS)}")
    for option, attribute, text in FIELD_OPTIONS:
        if attribute == "kind":
            kinds = [str(k.value) for k in OPERATOR_KINDS]
            p.add_argument(option, dest=attribute, choices=kinds, help=text)
        else:
            p.add_argument(option, dest=attribute, metavar=option[2:].upper(), help=text)


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The fields the options set."""
    values = {attr: getattr(args, attr) for _option, attr, _text in FIELD_OPTIONS}
    return {k: str(v) for k, v in values.items() if v is not None}


@contextmanager
def _refusals() -> Iterator[None]:
    """A refused value becomes the command's one-line error (exit status 2)."""
    try:
        yield
    except Refused as exc:
        raise KnownError(str(exc)) from exc


def new_fields(args: argparse.Namespace) -> MarketFields:
    """What `add` asks for: a preset's settings (named by --preset or by CODE) with the
    options over them, or the options alone."""
    given = _given(args)
    if args.preset:
        return dataclasses.replace(from_preset(args.preset, code=args.code), **given)
    preset = preset_for(args.code)
    if preset is not None:
        # Named by its name or alias ("ВБ", "Yandex Market"): the preset's code, unless
        # what was typed is a code itself ("wildberries").
        code = args.code if _LATIN_CODE.fullmatch(args.code) else preset.code
        return dataclasses.replace(from_preset(preset, code=code), **given)
    missing = [
        opt for opt, attr, _ in FIELD_OPTIONS if opt in REQUIRED_BY_HAND and attr not in given
    ]
    if missing:
        raise KnownError(
            f"'{args.code}' is not a preset's name: give {', '.join(missing)}, or --preset "
            f"with one of {', '.join(PRESETS)}"
        )
    blank = MarketFields(
        code=args.code, name="", kind=MarketKind.ASSISTED, base_url="", product_url=""
    )
    return dataclasses.replace(blank, **given)


def describe(f: MarketFields) -> list[str]:
    """A marketplace's settings in a few lines."""
    lines = [
        f"{f.code}: {f.name} at {f.base_url}",
        f"  kind: {f.kind} ({KIND_WORDS.get(f.kind, 'unknown')})",
        f"  product page: {f.product_url}",
        f"  article format: {f.article_pattern or 'any (the catalog decides)'}"
        + (f", like {f.article_example}" if f.article_example else ""),
        f"  currency: {f.currency}; aliases: {f.aliases or '-'}",
    ]
    if not f.enabled:
        lines.append("  disabled: takes no new orders or accounts")
    return lines


def _find(s: Session, given: str) -> int:
    """The id of the marketplace `given` names (code first, then name or alias)."""
    index = MarketIndex.load(s)
    exact = next((m for m in index.markets if m.code == given.strip().casefold()), None)
    market = exact or index.find(given)
    if market is None:
        codes = ", ".join(m.code for m in index.markets) or "none yet"
        raise KnownError(
            f"no marketplace '{given}' is set up here (set up: {codes}); "
            "see main.py marketplaces list"
        )
    return market.id


def cmd_add(args: argparse.Namespace) -> int:
    with _refusals():
        fields = new_fields(args)
        db = open_database(args.db)
        try:
            with db.session() as s:
                mp = add_marketplace(s, fields)
                stored = MarketFields.of(mp)
                s.commit()
        finally:
            db.close()
    print("Added " + "\n".join(describe(stored)))
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    given = _given(args)
    db = open_database(args.db)
    try:
        with _refusals(), db.session() as s:
            mp_id = _find(s, args.code)
            now = MarketFields.of(s.get_one(MarketPlace, mp_id))
            if args.preset:
                now = dataclasses.replace(
                    from_preset(args.preset, code=now.code), enabled=now.enabled
                )
            mp = update_marketplace(s, mp_id, dataclasses.replace(now, **given))
            stored = MarketFields.of(mp)
            s.commit()
    finally:
        db.close()
    print("Changed " + "\n".join(describe(stored)))
    return 0


def cmd_switch(args: argparse.Namespace) -> int:
    db = open_database(args.db)
    try:
        with _refusals(), db.session() as s:
            mp = set_marketplace_enabled(s, _find(s, args.code), args.enabled)
            code, name = mp.code, mp.name
            s.commit()
    finally:
        db.close()
    if args.enabled:
        print(f"Enabled {code} ({name}): it takes new orders and accounts.")
    else:
        print(f"Disabled {code} ({name}): it takes no new orders or accounts; its orders go on.")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    db = open_database(args.db)
    try:
        with db.reading() as s:
            rows = marketplace_rows(s)
    finally:
        db.close()
    if rows:
        print(
            f"{'code':<14} {'name':<20} {'kind':<9} {'enabled':<8} {'accounts':>8} "
            f"{'orders':>7} {'articles':>8} {'points':>7}  address"
        )
    for r in rows:
        f = r.fields
        print(
            f"{f.code:<14} {f.name:<20} {f.kind:<9} {'yes' if f.enabled else 'no':<8} "
            f"{r.accounts:>8} {r.orders:>7} {r.articles:>8} {r.pickup_points:>7}  {f.base_url}"
        )
    if rows:
        print(f"{plural(len(rows), 'marketplace')}.")
    else:
        print(
            "No marketplace is set up yet: add one with main.py marketplaces add CODE "
            f"[--preset NAME] (presets: {', '.join(PRESETS)})."
        )
    if args.json:
        print_json(
            [
                {"id": r.id, **dataclasses.asdict(r.fields)}
                | {
                    "accounts": r.accounts,
                    "orders": r.orders,
                    "articles": r.articles,
                    "pickup_points": r.pickup_points,
                }
                for r in rows
            ]
        )
    return 0
