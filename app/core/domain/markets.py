"""Marketplace kinds and presets, and how a marketplace is recognised by what a person
types: its code, its name or a known alias, in any case and spelling of spaces and dots."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass


class MarketKind(enum.StrEnum):
    """Who makes a marketplace's purchases (MarketPlace.driver)."""

    SANDBOX = "sandbox"  # the engine buys on the bundled sandbox shop
    ASSISTED = "assisted"  # a person buys in an ordinary browser; the console records it
    MEMORY = "memory"  # an in-memory shop for tests and benchmarks


# The worker id prefix of a person holding a unit (engine.assisted): recovery leaves
# such units alone, only the operator's record settles them.
OPERATOR_PREFIX = "operator:"

# Operators choose between these two; MEMORY exists only for tests and benchmarks.
OPERATOR_KINDS = (MarketKind.ASSISTED, MarketKind.SANDBOX)


@dataclass(frozen=True)
class Preset:
    """A marketplace's usual settings; every field is editable after it is added.

    Attributes:
        key: the preset's name (`--preset`).
        code: the code the marketplace gets unless one is given.
        product_url: the product page's address, with `{article}` (and optionally
            `{base_url}`) in it.
        article_pattern: a regular expression a whole article number matches; empty:
            any article is checked against the catalog only (closed catalog).
        article_example: an article number as it looks, for messages.
        aliases: other names people and files use for it.
    """

    key: str
    code: str
    name: str
    kind: MarketKind
    base_url: str
    product_url: str
    article_pattern: str
    article_example: str
    currency: str
    aliases: tuple[str, ...]


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "wildberries",
            "wb",
            "Wildberries",
            MarketKind.ASSISTED,
            "https://www.wildberries.ru",
            "https://www.wildberries.ru/catalog/{article}/detail.aspx",
            r"\d{6,12}",
            "187654321",
            "RUB",
            ("WB", "ВБ", "Вайлдберриз", "Валдберис", "Вайлдбериз", "wildberries.ru"),
        ),
        Preset(
            "ozon",
            "ozon",
            "Ozon",
            MarketKind.ASSISTED,
            "https://www.ozon.ru",
            "https://www.ozon.ru/product/{article}/",
            r"\d{5,12}",
            "1234567890",
            "RUB",
            ("Озон", "ozon.ru"),
        ),
        Preset(
            "yandex-market",
            "ym",
            "Yandex Market",
            MarketKind.ASSISTED,
            "https://market.yandex.ru",
            "https://market.yandex.ru/product/{article}",
            r"\d{5,15}",
            "1779546371",
            "RUB",
            ("Яндекс Маркет", "Яндекс.Маркет", "ЯМ", "YM", "Yandex.Market", "market.yandex.ru"),
        ),
        Preset(
            "sandbox",
            "sandbox",
            "Sandbox Market",
            MarketKind.SANDBOX,
            "http://127.0.0.1:8080",
            "{base_url}/product/{article}",
            "",
            "SB-1001",
            "RUB",
            ("Sandbox", "Песочница"),
        ),
    )
}


def name_key(text: str) -> str:
    """What is compared when a marketplace is named: letters and digits only, case and
    `ё` folded ("Яндекс.Маркет" and "яндекс маркет" are the same)."""
    return "".join(ch for ch in text.casefold().replace("ё", "е") if ch.isalnum())


def split_aliases(text: str) -> tuple[str, ...]:
    """Aliases as typed in one field: separated by commas or new lines."""
    return tuple(a.strip() for a in re.split(r"[,\n;]", text) if a.strip())


def names_of(code: str, name: str, aliases: str) -> set[str]:
    """Every key a marketplace answers to."""
    return {k for k in (name_key(t) for t in (code, name, *split_aliases(aliases))) if k}


def preset_for(given: str) -> Preset | None:
    """The preset a name or alias points to ("WB", "Озон"), if any."""
    key = name_key(given)
    for preset in PRESETS.values():
        if key in names_of(preset.key, preset.name, ", ".join((preset.code, *preset.aliases))):
            return preset
    return None


def product_address(template: str, base_url: str, article: str) -> str:
    """The product page of `article`: the template with the number put in."""
    return template.replace("{base_url}", base_url.rstrip("/")).replace("{article}", article)


def article_fits(pattern: str, article: str) -> bool:
    """Whether `article` looks like one of the marketplace's numbers (any does when the
    marketplace has no pattern: its catalog decides)."""
    return not pattern or re.fullmatch(pattern, article) is not None


def ambiguous(markets: Iterable[tuple[int, set[str]]]) -> set[str]:
    """Keys that more than one marketplace answers to: they match none of them."""
    seen: dict[str, int] = {}
    twice: set[str] = set()
    for mp_id, keys in markets:
        for key in keys:
            if seen.setdefault(key, mp_id) != mp_id:
                twice.add(key)
    return twice
