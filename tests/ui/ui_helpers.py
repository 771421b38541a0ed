"""Helpers the console's tests share: typing into the New Order dialog as a person does."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.ui.dialogs.new_order import ARTICLE, MAX_PRICE, PICKUP_POINT, QUANTITY, NewOrderDialog


def type_line(qtbot: QtBot, dialog: NewOrderDialog, row: int, *values: str) -> None:
    for column, value in zip((ARTICLE, QUANTITY, PICKUP_POINT, MAX_PRICE), values, strict=False):
        qtbot.keyClicks(dialog.cell(row, column), value)
