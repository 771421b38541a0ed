"""Text for spreadsheet cells: what would start a formula gets a leading quote, and
nothing else changes."""

from __future__ import annotations

import pytest

from app.core.support.cells import safe_text, starts_formula


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x/y","click")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)",
        "=",
        "-",
        "\t=1+1",
        "\tplain",  # a tab or a line break first is refused whatever follows
        "\r=1+1",
        "\n=1+1",
        " =1+1",  # after spaces: LibreOffice's CSV import can trim them, then evaluate
        "\u00a0\u00a0+1",
        " \t @A1",
    ],
)
def test_text_that_would_start_a_formula_gets_a_leading_quote(text: str) -> None:
    assert starts_formula(text)
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ООО «Ромашка»",
        "mem-acc001",
        "MEM-00000001",
        "a=b",
        "1+1",
        "Tea - green",
        " Kettle",
        "'=already marked",
        "x@mail.ru",
    ],
)
def test_other_text_is_unchanged(text: str) -> None:
    assert not starts_formula(text)
    assert safe_text(text) == text


@pytest.mark.parametrize("text", ["=1+1", "\t-1", " @x", "plain"])
def test_marking_twice_changes_nothing(text: str) -> None:
    assert safe_text(safe_text(text)) == safe_text(text)
