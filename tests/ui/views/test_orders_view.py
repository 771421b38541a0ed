"""The Orders table as the operator reads it."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from app.ui.views.orders_view import PROGRESS_ROLE, ProgressDelegate


class Half(QModelIndex):
    """An index whose progress is 1 of 2."""

    def data(self, role: int = 0) -> object:  # type: ignore[override]
        return (1, 2) if role == PROGRESS_ROLE else None


def test_progress_bars_fill_from_left_to_right(qtbot) -> None:
    image = QImage(200, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 200, 30)
    painter = QPainter(image)
    ProgressDelegate().paint(painter, option, Half())
    painter.end()

    def filled(x: int, y: int) -> bool:  # the bar's colour, not the groove's grey or white
        return image.pixelColor(x, y).saturation() > 80

    # Half filled along the width (a vertical bar would fill the bottom half instead).
    assert filled(25, 8) and filled(25, 22)
    assert not filled(175, 8) and not filled(175, 22)
