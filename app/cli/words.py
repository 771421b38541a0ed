"""Counts as the terminal's English says them: "1 order", "2 orders"."""

from __future__ import annotations


def plural(n: int, word: str, many: str = "") -> str:
    """`n` with `word` in the number it takes, digits grouped: plural(1, "order") is
    "1 order", plural(1200, "unit") "1,200 units"; `many` for a plural other than
    word + "s"."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"
