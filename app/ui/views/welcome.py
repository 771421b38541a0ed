"""The first launch: on a database with no marketplace and no Order the main window shows
what to do first (add a marketplace, import accounts, or try the demo in a console of its
own) instead of empty tables."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QProcess, QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.domain.models import MarketPlace, Order
from app.ui.common import fill, status_color
from app.ui.i18n import applied_choice

# The entry point the demo console is started with when running from the source tree.
MAIN_PY = Path(__file__).resolve().parents[3] / "main.py"
DEMO_BUTTON_REST_MS = 15000  # a second click while the demo opens would start another

# Starts `program` with `arguments` in `folder`, apart from the console; True if it started.
Starter = Callable[[str, Sequence[str], str], bool]


def first_launch(s: Session) -> bool:
    """Nothing set up yet: no marketplace and no Order."""
    return all(s.scalar(select(table.id).limit(1)) is None for table in (MarketPlace, Order))


def demo_command(language: str) -> tuple[str, list[str], str]:
    """How to start the demo console (`main.py demo --gui`, its own demo database) in
    `language`: (program, arguments, working folder). A packaged console (PyInstaller) is
    its own program; from the source tree it is this Python running main.py."""
    demo = ["demo", "--gui", "--language", language]
    if getattr(sys, "frozen", False):
        return sys.executable, demo, str(Path(sys.executable).parent)
    return sys.executable, [str(MAIN_PY), *demo], str(MAIN_PY.parent)


def start_detached(program: str, arguments: Sequence[str], folder: str) -> bool:
    started, _pid = QProcess.startDetached(program, list(arguments), folder)
    return bool(started)


class WelcomePanel(QWidget):
    """Three ways to begin, each a button saying what it does.

    Attributes:
        add_button, import_button, demo_button: the actions.
        message: what the demo button did (started, or why not).
        start: starts a program apart from the console (tests give their own).
    Signals:
        add_marketplace(): the operator chose to add a marketplace.
        import_accounts(): the operator chose to import accounts.
    """

    add_marketplace = Signal()
    import_accounts = Signal()

    def __init__(
        self,
        marketplaces_path: str,
        parent: QWidget | None = None,
        *,
        start: Starter = start_detached,
    ):
        """`marketplaces_path`: where the Marketplaces dialog is in the menus."""
        super().__init__(parent)
        self.start = start
        title = QLabel(self.tr("Nothing is set up yet"))
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(
            self.tr(
                "The console buys clients' orders on marketplaces with your buyer accounts. "
                "Begin with one of these:"
            )
        )
        intro.setWordWrap(True)
        self.add_button = QPushButton(self.tr("Add a marketplace…"))
        self.import_button = QPushButton(self.tr("Import accounts…"))
        self.demo_button = QPushButton(self.tr("Try the demo on the bundled sandbox"))
        descriptions = (
            self.tr(
                "Wildberries, Ozon, Yandex Market or another shop: choose a preset, check "
                "its settings, save."
            ),
            self.tr(
                "Buyer accounts from a CSV/XLSX list, saved sessions or browser profiles; "
                "each names its marketplace, so add that first."
            ),
            self.tr(
                "Opens a second console that buys a sample order on a local test shop, "
                "with a database of its own: yours stays clean."
            ),
        )
        self.add_button.clicked.connect(self.add_marketplace)
        self.import_button.clicked.connect(self.import_accounts)
        self.demo_button.clicked.connect(self.start_demo)
        actions = QGridLayout()
        actions.setHorizontalSpacing(16)
        actions.setVerticalSpacing(14)
        actions.setColumnStretch(1, 1)
        buttons = (self.add_button, self.import_button, self.demo_button)
        width = max(button.sizeHint().width() for button in buttons) + 32
        for row, (button, text) in enumerate(zip(buttons, descriptions, strict=True)):
            button.setMinimumSize(width, button.sizeHint().height() + 12)
            description = QLabel(text)
            description.setWordWrap(True)
            actions.addWidget(button, row, 0)
            actions.addWidget(description, row, 1)
        self.add_button.setDefault(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        later = QLabel(fill(self.tr("Later, %1 adds or changes marketplaces."), marketplaces_path))
        later.setWordWrap(True)
        later.setStyleSheet("color: #6b7280")

        column = QVBoxLayout()
        column.setSpacing(12)
        column.addWidget(title)
        column.addWidget(intro)
        column.addSpacing(6)
        column.addLayout(actions)
        column.addWidget(self.message)
        column.addSpacing(6)
        column.addWidget(later)
        box = QWidget()
        box.setLayout(column)
        box.setFixedWidth(760)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addWidget(box)
        centred.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(centred)
        outer.addStretch(2)

    def start_demo(self) -> None:
        """Starts the demo console as a process of its own; never waits for it."""
        program, arguments, folder = demo_command(applied_choice())
        if self.start(program, arguments, folder):
            self.demo_button.setEnabled(False)
            QTimer.singleShot(
                DEMO_BUTTON_REST_MS, self.demo_button, lambda: self.demo_button.setEnabled(True)
            )
            self._say(
                self.tr("The demo opens in a window of its own in a few seconds."),
                error=False,
            )
        else:
            self._say(
                fill(self.tr("The demo could not start: %1 was not found or cannot run."), program),
                error=True,
            )

    def _say(self, text: str, *, error: bool) -> None:
        self.message.setStyleSheet(f"color: {status_color('failed').name()}" if error else "")
        self.message.setText(text)
        self.message.setVisible(True)
