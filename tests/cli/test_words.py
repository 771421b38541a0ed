"""Counts in the terminal's English: one of a thing, many things."""

from __future__ import annotations

import pytest

from app.cli.words import plural


@pytest.mark.parametrize(
    ("n", "word", "many", "said"),
    [
        (1, "order", "", "1 order"),
        (0, "order", "", "0 orders"),
        (2, "pickup point", "", "2 pickup points"),
        (1200, "unit", "", "1,200 units"),
        (3, "entry", "entries", "3 entries"),
        (1, "entry", "entries", "1 entry"),
    ],
)
def test_a_count_takes_the_noun_in_its_number(n: int, word: str, many: str, said: str) -> None:
    assert plural(n, word, many) == said
