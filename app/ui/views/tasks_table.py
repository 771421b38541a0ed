"""The live Tasks table's view: the rows in view painted in one call from Qt into Python.

QTableView paints a cell by asking the model for its index and seven roles of data, each
a call from Qt into Python, and has the style lay its text out anew: about 2,400 calls
and 10-12 ms of the GUI thread for a screenful. Each call takes the interpreter's lock
again, and while another Python thread runs (a database read) each waits its turn: a
repaint took 50-200 ms then. TasksTable.paintEvent draws the cells from their rows'
cached texts and colours (TasksModel.look) in one call, 2-3 ms: backgrounds and the grid
as rectangles of one colour at a time, texts where and as cut as the style puts them.
A cell the style draws otherwise (the focused one, the one under the mouse, a text of
several lines or of another writing direction) goes to the delegate as QTableView hands
it over.

The cells come out as the style draws them: the first paint in a style, font, palette or
pixel ratio draws sample cells, plain and selected, both ways and keeps the short way
only if they are the same pixel for pixel; otherwise those cells go to the delegate
(still in one call from Qt).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QImage,
    QPainter,
    QPaintEvent,
    QPalette,
    QStandardItem,
    QStandardItemModel,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from app.ui.views.tasks_model import COLUMNS, NUMERIC, STATUS_COLUMN, Look, TasksModel

_State = QStyle.StateFlag
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
# What the check against the style draws: a number, a status, Latin and Cyrillic texts,
# on a background and without, texts too long for the cell (with spaces and without).
_SAMPLES = (
    ("1234567", True, None, None),
    ("running", False, "#2563eb", "#eff6ff"),
    ("SB-00000004 jqgy", False, None, "#fef2f2"),
    ("нет в наличии", False, "#b91c1c", None),
    ("3:36:58\u202fPM", False, None, None),
    ("1\u00a0299,00 ₽", True, None, "#ecfdf5"),
    ("out of stock: the marketplace shows no units", False, None, "#fef2f2"),
    ("нет в наличии: маркетплейс не показывает", False, "#b91c1c", None),
    ("SB-0000000000000000000000000004", False, None, None),
)
# Characters the style's text layout treats otherwise than one line of glyphs: control
# and format characters, line and paragraph separators, right-to-left scripts; and those
# outside Unicode's first plane (Qt counts them as two in a line's text).
_LAID_OUT = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u0590-\u08ff\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\ufb1d-\ufdff\ufe70-\ufeff\U00010000-\U0010ffff]"
)
_SAMPLE_WIDTH = 130  # a column's
_TEXTS_KEPT = 20000  # text widths remembered (for one font)


@dataclass(slots=True)
class _Frame:
    """One paint: what it draws and how it hands cells to the delegate.

    Attributes:
        option: the view's item option, the delegate's cells drawn with it in turn.
        focused, hover: the focused cell and the one under the mouse (row, column).
        text, highlight, highlighted_text: the palette's colours for a cell's text, a
            selected cell and its text (in the colour group the style paints in).
        fills: the plain cells' backgrounds, by colour.
        texts: the plain cells' texts and where they start, by pen colour.
        special: the cells for the delegate.
    """

    option: QStyleOptionViewItem
    focused: tuple[int, int] | None
    hover: tuple[int, int] | None
    text: QColor
    highlight: QColor
    highlighted_text: QColor
    fills: dict[int, tuple[QColor, list[QRect]]] = field(default_factory=dict)
    texts: dict[int, tuple[QColor, list[tuple[QPointF, str]]]] = field(default_factory=dict)
    special: list[tuple[QModelIndex, QRect]] = field(default_factory=list)


class TasksTable(QTableView):
    """The Tasks table: a QTableView over a TasksModel whose paint is one call.

    Attributes:
        fast: whether plain cells are drawn without the style (None until the next
            paint checks that both ways give the same pixels).
        fast_selected: the same for selected cells.
    """

    def __init__(self, model: TasksModel, parent: QWidget | None = None):
        super().__init__(parent)
        self._tasks = model
        self.setModel(model)
        self.fast: bool | None = None
        self.fast_selected = False
        self._ratio = 0.0  # the pixel ratio the check was made in
        self._widths: dict[str, float] = {}
        self._cuts: dict[tuple[str, int], tuple[str, float]] = {}  # _cut() by (text, room)
        # The font's measures and the style's text margin, as of the last check.
        self._font = self.font()
        self._metrics = QFontMetricsF(self._font)
        self._ascent, self._line, self._margin = 0.0, 0, 0

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (
            QEvent.Type.StyleChange,
            QEvent.Type.FontChange,
            QEvent.Type.PaletteChange,
        ):
            self._forget_look()
        super().changeEvent(event)

    def _forget_look(self) -> None:
        self.fast = None  # checked again at the next paint
        self._widths.clear()
        self._cuts.clear()

    # -- painting ----------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._paints_itself():
            super().paintEvent(event)
            return
        model = self._tasks
        header, rows_header = self.horizontalHeader(), self.verticalHeader()
        area = event.rect()
        # As QTableView: nothing right of the last column or below the last row.
        right = min(area.right(), header.length() - header.offset() - 1)
        bottom = min(area.bottom(), rows_header.length() - rows_header.offset() - 1)
        area = QRect(QPoint(area.left(), area.top()), QPoint(right, bottom))
        top_row, last_row = self.rowAt(area.top()), self.rowAt(area.bottom())
        if not area.isValid() or top_row < 0:
            return
        if last_row < 0:
            last_row = model.rowCount() - 1
        grid = 1 if self.showGrid() else 0
        columns = list(self._columns(area))
        rows = [
            (n, self.rowViewportPosition(n), self.rowHeight(n) - grid)
            for n in range(top_row, last_row + 1)
            if not self.isRowHidden(n)
        ]
        frame = self._frame()
        ratio = self.viewport().devicePixelRatioF()
        if ratio != self._ratio:  # another screen
            self._ratio, self.fast = ratio, None
        if self.fast is None:
            self._check(frame.option)
        if self.fast:
            self._plan(frame, rows, columns, grid)
        else:
            frame.special = [
                (model.index(n, col), QRect(x, y, w - grid, h))
                for n, y, h in rows
                for col, x, w in columns
            ]
        if grid:
            self._plan_grid(frame, area, rows, columns)
        painter = QPainter(self.viewport())
        self._draw(painter, frame)
        painter.end()

    def _paints_itself(self) -> bool:
        """Whether this paint draws what QTableView would (else QTableView paints)."""
        return (
            self.model() is self._tasks
            and type(self.itemDelegate()) is QStyledItemDelegate
            and self.isLeftToRight()
            and not self.alternatingRowColors()
            and self.gridStyle() == Qt.PenStyle.SolidLine
            and self.horizontalHeader().count() > 0
            and self.verticalHeader().count() > 0
        )

    def _frame(self) -> _Frame:
        """A paint's start: the item option as QTableView makes it, the focused cell and
        the one under the mouse."""
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        # As QTableView::drawCell for an enabled item (the model has no disabled ones).
        palette = option.palette
        if option.state & _State.State_Enabled:
            palette.setCurrentColorGroup(QPalette.ColorGroup.Normal)
        option.palette = palette
        current = self.currentIndex()
        focused = None
        if current.isValid() and (self.hasFocus() or self.viewport().hasFocus()):
            focused = (current.row(), current.column())
        return _frame(option, focused, self._hovered())

    def _columns(self, area: QRect) -> Iterator[tuple[int, int, int]]:
        """(column, x, width) of the shown columns across `area`, in their visual order."""
        header = self.horizontalHeader()
        first, last = header.visualIndexAt(area.left()), header.visualIndexAt(area.right())
        for visual in range(max(first, 0), (header.count() - 1 if last < 0 else last) + 1):
            col = header.logicalIndex(visual)
            if not header.isSectionHidden(col):
                yield col, self.columnViewportPosition(col), self.columnWidth(col)

    def _plan(
        self,
        frame: _Frame,
        rows: list[tuple[int, int, int]],
        columns: list[tuple[int, int, int]],
        grid: int,
    ) -> None:
        """Sorts the cells of `rows` x `columns` into backgrounds and texts to draw and
        cells for the delegate."""
        model, selection, root = self._tasks, self.selectionModel(), self.rootIndex()
        spans = self._spans(columns, grid)
        none: frozenset[int] = frozenset()
        for n, y, h in rows:
            chosen = none
            if selection is not None and selection.isRowSelected(n, root):
                chosen = frozenset(col for col, *_ in spans)  # a whole row (SelectRows)
            elif selection is not None and selection.rowIntersectsSelection(n, root):
                chosen = frozenset(
                    col for col, *_ in spans if selection.isSelected(model.index(n, col))
                )
            # The look is None until the row is read (after this paint).
            self._plan_row(frame, n, y, h, model.look(n), chosen, spans)

    def _spans(
        self, columns: list[tuple[int, int, int]], grid: int
    ) -> list[tuple[int, int, int, int, int, bool]]:
        """Per column: where its cells are, where their text may start and how wide it
        may be (inside the style's margins), and whether it is right-aligned."""
        margin = self._margin
        return [
            (col, x, w - grid, x + margin, w - grid - 2 * margin, col in NUMERIC)
            for col, x, w in columns
        ]

    def _plan_row(
        self,
        frame: _Frame,
        n: int,
        y: int,
        h: int,
        look: Look | None,
        chosen: frozenset[int],
        spans: list[tuple[int, int, int, int, int, bool]],
    ) -> None:
        """Sorts row `n`'s cells (`chosen`: the selected columns)."""
        model = self._tasks
        focused, hover, special = frame.focused, frame.hover, frame.special
        widths, texts, fills = self._widths, frame.texts, frame.fills
        baseline = y + (h - self._line) // 2 + self._ascent
        background = look.background if look is not None else None
        back = highlight = None
        if background is not None:
            back = fills.setdefault(background.rgba(), (background, []))[1]
        if chosen and self.fast_selected:
            highlight = fills.setdefault(frame.highlight.rgba(), (frame.highlight, []))[1]
        for col, x, w, left, room, right in spans:
            selected = col in chosen
            if focused == (n, col) or hover == (n, col) or (selected and highlight is None):
                special.append((model.index(n, col), QRect(x, y, w, h)))
                continue
            if look is None:  # the delegate draws the selection of a row with no data yet
                if highlight is not None and selected:
                    highlight.append(QRect(x, y, w, h))
                continue
            text = look.texts[col]
            if text:
                width = widths.get(text)
                if width is None:
                    width = self._measure(text)
                if width > room - 0.5:  # or nearly: the style's layout decides
                    text, width = self._cuts.get((text, room)) or self._cut(text, room, h)
                if width < 0:
                    special.append((model.index(n, col), QRect(x, y, w, h)))
                    continue
                if selected:
                    color = frame.highlighted_text
                else:
                    color = look.status_color if col == STATUS_COLUMN else frame.text
                at = QPointF(left + room - width if right else left, baseline)
                texts.setdefault(color.rgba(), (color, []))[1].append((at, text))
            if highlight is not None and selected:
                highlight.append(QRect(x, y, w, h))
            elif back is not None:
                back.append(QRect(x, y, w, h))

    def _measure(self, text: str) -> float:
        """The text's width as the style lays it out in one line (spaces at its end hang
        past the line, left out of its width as they are of its alignment); -1 for a text
        it lays out otherwise (characters of _LAID_OUT, other white space at the end)."""
        if len(self._widths) > _TEXTS_KEPT:
            self._widths.clear()
        ink = text.rstrip(" ")
        plain = ink and not _LAID_OUT.search(ink) and not ink[-1].isspace()
        width = self._widths[text] = self._metrics.horizontalAdvance(ink) if plain else -1.0
        return width

    def _cut(self, text: str, room: int, height: int) -> tuple[str, float]:
        """What the style shows of a text (nearly) too wide for its cell, and its width:
        the first line it breaks the text into, followed by "…" if more text follows, cut
        to the room (as QCommonStyle's calculateElidedText); a width of -1 where it shows
        more than a line (a cell two lines high) or nothing fits."""
        if len(self._cuts) > _TEXTS_KEPT:
            self._cuts.clear()
        cut = self._cuts[(text, room)] = ("", -1.0)
        if room <= 0:
            return cut
        layout = QTextLayout(text, self._font)
        option = QTextOption()
        wrap = QTextOption.WrapMode
        option.setWrapMode(wrap.WordWrap if self.wordWrap() else wrap.ManualWrap)
        layout.setTextOption(option)
        layout.beginLayout()
        line = layout.createLine()
        line.setLineWidth(room)
        more = layout.createLine().isValid()
        layout.endLayout()
        if more and 2 * line.height() <= height:
            return cut
        start = line.textStart()
        shown = text[start : start + line.textLength()]
        if more:
            shown = shown.removesuffix("\u2028") + "…"
        if more or line.naturalTextWidth() > room:
            shown = QFontMetrics(self._font).elidedText(shown, Qt.TextElideMode.ElideRight, room)
        width = self._measure(shown)
        if shown and 0 <= width <= room:
            cut = self._cuts[(text, room)] = (shown, width)
        return cut

    def _draw(self, painter: QPainter, frame: _Frame) -> None:
        # The delegate's cells first, while the painter is as QTableView hands it over.
        if frame.special:
            self._by_delegate(painter, frame)
        if frame.fills:
            painter.setPen(Qt.PenStyle.NoPen)
            for color, cells in frame.fills.values():
                painter.setBrush(color)
                painter.drawRects(cells)
        for color, placed in frame.texts.values():
            painter.setPen(color)
            for at, text in placed:
                painter.drawText(at, text)

    def _by_delegate(self, painter: QPainter, frame: _Frame) -> None:
        """Paints frame.special as QTableView::drawCell does: the row's panel, then the
        delegate, with the cell's state."""
        option, style = frame.option, self.style()
        base = option.state
        selection = self.selectionModel()
        panel = QStyle.PrimitiveElement.PE_PanelItemViewRow
        for index, cell in frame.special:
            state = base
            at = (index.row(), index.column())
            if selection is not None and selection.isSelected(index):
                state |= _State.State_Selected
            if at == frame.hover:
                state |= _State.State_MouseOver
            if at == frame.focused:
                state |= _State.State_HasFocus
            option.rect = cell
            option.state = state
            style.drawPrimitive(panel, option, painter, self)
            self.itemDelegateForIndex(index).paint(painter, option, index)
        option.state = base

    def _hovered(self) -> tuple[int, int] | None:
        """The cell under the mouse, where the style marks it (it sets WA_Hover)."""
        viewport = self.viewport()
        if not viewport.testAttribute(Qt.WidgetAttribute.WA_Hover) or not viewport.underMouse():
            return None
        index = self.indexAt(viewport.mapFromGlobal(viewport.cursor().pos()))
        return (index.row(), index.column()) if index.isValid() else None

    def _plan_grid(
        self,
        frame: _Frame,
        area: QRect,
        rows: list[tuple[int, int, int]],
        columns: list[tuple[int, int, int]],
    ) -> None:
        """QTableView's grid across `area`, a line under each row and right of each
        column: as one-pixel rectangles, drawn with the backgrounds (a tenth of the time
        lines take, the same pixels)."""
        hint = self.style().styleHint(QStyle.StyleHint.SH_Table_GridLineColor, frame.option, self)
        color = QColor.fromRgba(hint & 0xFFFFFFFF)
        left, top, width, height = area.left(), area.top(), area.width(), area.height()
        lines = frame.fills.setdefault(color.rgba(), (color, []))[1]
        lines += [QRect(left, y + h, width, 1) for _n, y, h in rows]
        lines += [QRect(x + w - 1, top, 1, height) for _c, x, w in columns]

    # -- the check against the style -----------------------------------------------------

    def _check(self, option: QStyleOptionViewItem) -> None:
        """Draws the sample cells, a row of them plain and a row selected, the short way
        and the delegate's, and sets `fast` and `fast_selected` to whether every pixel is
        the same. Remembers the font's measures for the short way."""
        option = QStyleOptionViewItem(option)
        metrics = self._metrics = QFontMetricsF(option.font)
        self._ascent, self._line = metrics.ascent(), round(metrics.height())
        style = self.style()
        self._margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self) + 1
        self._font = QFont(option.font)  # a copy: the option's own goes with it
        self._widths.clear()
        self._cuts.clear()
        grid = 1 if self.showGrid() else 0
        height = self.verticalHeader().defaultSectionSize() - grid
        # Sample i in column i of a model of its own (the roles the Tasks model answers),
        # drawn at (i * _SAMPLE_WIDTH, 0), and selected at (i * _SAMPLE_WIDTH, height).
        samples = QStandardItemModel(1, len(_SAMPLES))
        for i, (text, right, color, background) in enumerate(_SAMPLES):
            item = QStandardItem(text)
            if right:
                item.setData(_RIGHT, Qt.ItemDataRole.TextAlignmentRole)
            if color:
                item.setData(QColor(color), Qt.ItemDataRole.ForegroundRole)
            if background:
                item.setData(QColor(background), Qt.ItemDataRole.BackgroundRole)
            samples.setItem(0, i, item)
        size = QRect(0, 0, _SAMPLE_WIDTH * len(_SAMPLES), 2 * height)
        theirs, ours = self._blank(size), self._blank(size)
        painter = QPainter(theirs)
        base = option.state
        panel = QStyle.PrimitiveElement.PE_PanelItemViewRow
        for i in range(len(_SAMPLES)):
            for y, state in ((0, base), (height, base | _State.State_Selected)):
                option.rect = QRect(i * _SAMPLE_WIDTH, y, _SAMPLE_WIDTH - grid, height)
                option.state = state
                style.drawPrimitive(panel, option, painter, self)
                self.itemDelegate().paint(painter, option, samples.index(0, i))
        painter.end()
        option.state = base
        frame = _frame(option)
        self.fast_selected = True  # for _plan_row, while it is checked
        for i, (text, right, color, background) in enumerate(_SAMPLES):
            col = 0 if right else (STATUS_COLUMN if color else 3)  # as the Tasks' columns
            texts = [""] * len(COLUMNS)
            texts[col] = text
            look = Look(
                None,  # type: ignore[arg-type]  # the row is not read
                tuple(texts),
                QColor(background) if background else None,
                QColor(color or "#000000"),
            )
            spans = self._spans([(col, i * _SAMPLE_WIDTH, _SAMPLE_WIDTH)], grid)
            self._plan_row(frame, -1, 0, height, look, frozenset(), spans)
            self._plan_row(frame, -1, height, height, look, frozenset({col}), spans)
        painter = QPainter(ours)
        self._draw(painter, frame)
        painter.end()
        middle = round(height * theirs.devicePixelRatio())  # in the images' pixels
        plain = QRect(0, 0, theirs.width(), middle)
        selected = QRect(0, middle, theirs.width(), theirs.height() - middle)
        self.fast = not frame.special and theirs.copy(plain) == ours.copy(plain)
        self.fast_selected = self.fast and theirs.copy(selected) == ours.copy(selected)

    def _blank(self, cell: QRect) -> QImage:
        """An image of `cell`'s size in the viewport's pixels, filled as its background."""
        ratio = self.viewport().devicePixelRatioF()
        image = QImage(
            round(cell.width() * ratio),
            round(cell.height() * ratio),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.setDevicePixelRatio(ratio)
        image.fill(self.viewport().palette().color(self.viewport().backgroundRole()))
        return image


def _frame(
    option: QStyleOptionViewItem,
    focused: tuple[int, int] | None = None,
    hover: tuple[int, int] | None = None,
) -> _Frame:
    palette, group, role = option.palette, _group(option.state), QPalette.ColorRole
    return _Frame(
        option,
        focused,
        hover,
        palette.color(group, role.Text),
        palette.brush(group, role.Highlight).color(),
        palette.color(group, role.HighlightedText),
    )


def _group(state: QStyle.StateFlag) -> QPalette.ColorGroup:
    """The palette's colour group the style paints a cell in."""
    if not state & _State.State_Enabled:
        return QPalette.ColorGroup.Disabled
    if not state & _State.State_Active:
        return QPalette.ColorGroup.Inactive
    return QPalette.ColorGroup.Normal
