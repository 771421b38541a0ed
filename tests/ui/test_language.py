"""The console in the operator's language: Russian or English chosen in Settings (or taken
from the system), switched at once, with dates, numbers and money in that locale's
format; and every string of the code translated."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import seed_market
from PySide6.QtCore import QCoreApplication, QLocale, QSettings, Qt, QTranslator
from PySide6.QtWidgets import QDialogButtonBox
from shiboken6 import isValid

import main
from app.core.drivers.memory import MemoryDriver
from app.core.engine.events import EngineNotice, OrderProgress, TaskChanged
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.service import EngineService
from app.ui import i18n
from app.ui.dialogs.new_order import ARTICLE, MAX_PRICE, PICKUP_POINT, QUANTITY, NewOrderDialog
from app.ui.dialogs.settings import SettingsDialog, console_defaults
from app.ui.i18n import apply_language, local_time, money, number, resolve
from app.ui.views.tasks_model import STATUS_COLUMN
from app.ui.window.main_window import MainWindow

SHOTS = Path("/tmp/buyback-shots")
CYRILLIC = re.compile("[а-яА-ЯёЁ]")


@pytest.fixture(autouse=True)
def settings_in_tmp(tmp_path: Path) -> Iterator[None]:
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qt"))
    yield
    apply_language("en")  # the other tests read English


@pytest.fixture
def service(db) -> Iterator[EngineService]:
    seed_market(db, accounts=5)
    engine = EngineService(
        db, lambda _m: MemoryDriver(), EngineSettings(concurrency=2, poll_s=0.1, rollup_s=0.1)
    )
    engine.start()
    yield engine
    if MainWindow.current is not None:
        MainWindow.current.close()
    engine.stop()


def texts(window: MainWindow) -> dict[str, list[str]]:
    """What the operator reads: menus, tabs, column headers, status bar."""
    menus = [a.text() for a in window.menuBar().actions()]
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    model = window.tasks_view.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    orders = window.orders_view.orders
    order_headers = [
        orders.headerData(c, Qt.Orientation.Horizontal) for c in range(orders.columnCount())
    ]
    return {
        "menus": menus,
        "tabs": tabs,
        "headers": headers,
        "order_headers": order_headers,
        "counts": [window.counts_label.text()],
    }


def switch(qtbot, window: MainWindow, language: str) -> MainWindow:
    """Settings → Language → Save, as the operator does it; returns the window shown."""
    window.open_settings()
    dialog = window.settings_dialog
    dialog.language_box.setCurrentIndex(dialog.language_box.findData(language))
    with qtbot.waitSignal(window.replaced, timeout=5000) as replaced:
        dialog.accept()
    successor = replaced.args[0]
    qtbot.waitUntil(lambda: bool(successor.counts_label.text()), timeout=5000)
    return successor


def test_settings_switch_the_console_to_russian_and_back_at_once(qtbot, db, service) -> None:
    order_id = service.submit(
        OrderSpec("ООО Ромашка", "mem", [LineSpec("A1", 3, "P1", "1299.90")])
    ).result(10)
    window = MainWindow(db, service)
    window.show()
    qtbot.waitUntil(lambda: bool(window.orders_view.orders.rows), timeout=5000)
    window.orders_view.selectRow(0)
    english = texts(window)
    assert english["menus"] == ["&File", "&Order", "&View", "&Help"]

    russian = switch(qtbot, window, "ru")
    assert MainWindow.current is russian
    qtbot.waitUntil(lambda: not isValid(window), timeout=3000)  # the English one is gone
    shown = texts(russian)
    assert shown["menus"] == ["&Файл", "&Заказ", "&Вид", "&Справка"]
    assert shown["tabs"] == ["Задачи", "Аккаунты", "Купить"]
    for group in ("headers", "order_headers", "counts"):
        assert all(CYRILLIC.search(t) for t in shown[group]), (group, shown[group])
    # The Order picked before the switch stays picked, with its Tasks below.
    qtbot.waitUntil(lambda: russian.orders_view.current_order() == order_id, timeout=5000)

    # Statuses, counts and dates in Russian and its formats, as the purchases finish.
    tasks = russian.tasks_view.model

    def bought() -> bool:
        cells = [tasks.data(tasks.index(n, STATUS_COLUMN)) for n in range(tasks.rowCount())]
        return len(cells) == 3 and all(c == "выкуплено" for c in cells)

    qtbot.waitUntil(bought, timeout=10000)
    qtbot.waitUntil(lambda: "задач" in russian.tasks_view.count_label.text(), timeout=3000)
    assert russian.tasks_view.count_label.text() == "3 задачи"
    created = russian.orders_view.orders.data(russian.orders_view.orders.index(0, 3))
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d", created), created
    # Qt's own words (standard buttons) follow too.
    russian.open_settings()
    box = russian.settings_dialog.findChild(QDialogButtonBox)
    assert box.button(QDialogButtonBox.StandardButton.Cancel).text() == "Отмена"
    SHOTS.mkdir(exist_ok=True)
    russian.grab().save(str(SHOTS / "language-ru.png"))
    russian.settings_dialog.reject()

    # What the operator has in front of them survives a switch: filters, sort, an
    # Order already notified, and engine events not yet shown.
    qtbot.waitUntil(
        lambda: russian.notices.notified_orders.get(order_id) == "purchased", timeout=5000
    )
    russian.tasks_view.search.setText("A1")
    russian.tasks_view.status_box.setCurrentIndex(3)  # problems
    russian.tasks_view.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    seen: list[tuple[str, str]] = []
    russian.replaced.connect(lambda new: new.notified.connect(lambda *a: seen.append(a)))
    review = TaskChanged(1, order_id, 1, "needs_review", datetime.now(UTC), error="check it")
    russian.engine.bus.publish(review)  # queued for the window being replaced
    back = switch(qtbot, russian, "en")
    assert texts(back)["menus"] == english["menus"]
    assert texts(back)["headers"] == english["headers"]
    qtbot.waitUntil(lambda: [t for t, _ in seen] == ["Needs review"], timeout=3000)
    bought = OrderProgress(order_id, "purchased", 3, {"purchased": 3})
    back.engine.bus.publish(bought)  # told before the switches: not a second message
    # Events are shown in the order they came: once this later notice is on screen, the
    # window has handled the progress above too.
    with qtbot.waitSignal(back.notice, timeout=3000, check_params_cb=lambda m: m == "marker"):
        back.engine.bus.publish(EngineNotice("info", "marker"))
    assert [t for t, _ in seen] == ["Needs review"]
    assert back.tasks_view.search.text() == "A1"
    assert back.tasks_view.status_box.currentIndex() == 3
    header = back.tasks_view.table.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        4,
        Qt.SortOrder.DescendingOrder,
    )
    # The translators replaced on each switch are freed, not piled up.
    app = QCoreApplication.instance()
    qtbot.waitUntil(lambda: not app.findChildren(QTranslator), timeout=3000)
    # Saved: the next start of the console speaks the chosen language.
    assert QSettings().value("ui/language") == "en"


def test_the_language_chosen_in_settings_is_the_one_the_next_start_shows(
    qtbot, db, service
) -> None:
    QSettings().setValue("ui/language", "ru")
    args = main.build_parser().parse_args(["console"])
    console_defaults(args)
    assert args.language == "ru"
    assert apply_language(args.language) == "ru"
    window = MainWindow(db, service)
    window.show()
    assert window.windowTitle() == "Консоль выкупов"
    assert window.menu_actions["new_order"].text() == "&Новый заказ…"

    given = main.build_parser().parse_args(["console", "--language", "en"])
    console_defaults(given)
    assert given.language == "en"  # the command line wins


def test_a_new_order_names_its_problems_in_russian(qtbot, catalogs, engine) -> None:
    apply_language("ru")
    dialog = NewOrderDialog(catalogs, ["ООО Ромашка"], engine.submit)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.client_box.setEditText("ООО Ромашка")  # QTest types ASCII only
    for column, value in ((ARTICLE, "999999"), (QUANTITY, "0"), (PICKUP_POINT, "PVZ-001")):
        qtbot.keyClicks(dialog.cell(0, column), value)
    qtbot.keyClicks(dialog.cell(0, MAX_PRICE), "12,345")
    assert dialog.message_label.text().splitlines() == [
        "Строка 1, артикул: артикула «999999» нет в каталоге Sandbox Market; проверьте номер",
        "Строка 1, количество: должно быть не меньше 1 (указано 0)",
        "Строка 1, макс. цена за шт.: в «12,345» больше двух знаков после запятой (копейки)",
    ]
    assert dialog.cell(0, QUANTITY).toolTip() == "должно быть не меньше 1 (указано 0)"
    assert not dialog.ok_button.isEnabled() and dialog.ok_button.text() == "Создать заказ"
    SHOTS.mkdir(exist_ok=True)
    dialog.grab().save(str(SHOTS / "new-order-ru.png"))


@pytest.mark.parametrize(
    ("system", "choice", "language", "locale"),
    [
        ("ru_RU", "system", "ru", "ru_RU"),
        ("ru_KZ", "system", "ru", "ru_KZ"),
        ("de_DE", "system", "en", "de_DE"),  # not spoken: English words, German formats
        ("uk_UA", "system", "en", "uk_UA"),
        ("en_GB", "system", "en", "en_GB"),
        # A chosen language changes the words; the formats stay the region's.
        ("ru_RU", "en", "en", "ru_RU"),
        ("en_GB", "ru", "ru", "en_GB"),
        # No locale set at all: the formats follow the language.
        ("C", "system", "en", "en_US"),
        ("C", "ru", "ru", "ru_RU"),
    ],
)
def test_the_language_follows_the_system_unless_chosen(
    system: str, choice: str, language: str, locale: str
) -> None:
    got_language, got_locale = resolve(choice, QLocale(system))
    assert (got_language, got_locale.name()) == (language, locale)


def test_dates_numbers_and_money_are_shown_in_the_locales_format(qapp) -> None:
    at = datetime(2026, 11, 26, 14, 5, 9, tzinfo=UTC)
    local = at.astimezone()
    apply_language("ru", QLocale("C"))
    assert money(399050) == "3\u00a0990,50\u00a0₽"
    assert number(1234567) == "1\u00a0234\u00a0567"
    assert local_time(at, True) == local.strftime("%d.%m.%Y %H:%M:%S")
    # English words on a Russian system keep the Russian formats.
    assert apply_language("en", QLocale("ru_RU")) == "en"
    assert money(399050) == "3\u00a0990,50\u00a0₽"
    apply_language("en", QLocale("C"))
    assert money(399050) == "₽3,990.50"
    assert number(1234567) == "1,234,567"
    # A count summed by PostgreSQL arrives as a Decimal: shown as the same number.
    assert number(Decimal(1234567)) == "1,234,567"
    assert money(Decimal(399050)) == "₽3,990.50"
    assert local_time(at, True) == (
        f"{local.month}/{local.day}/{local.year} "
        f"{local.hour % 12 or 12}:{local:%M:%S}\u202f{'AM' if local.hour < 12 else 'PM'}"
    )


def test_without_its_compiled_translation_a_language_falls_back_to_english(
    qtbot, db, monkeypatch, tmp_path
) -> None:
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path)  # a checkout that skipped the build
    assert apply_language("ru") == "en"
    assert money(399050) == "₽3,990.50"  # English formats too, not a mix
    assert i18n.loadable() == ["en"]
    dialog = SettingsDialog(db.url)
    qtbot.addWidget(dialog)
    offered = [dialog.language_box.itemData(i) for i in range(dialog.language_box.count())]
    assert offered == ["system", "en"]


def test_a_layout_saved_by_an_older_console_keeps_the_new_column_widths(qtbot, db, service) -> None:
    old = QSettings()
    narrow = MainWindow(db, service)
    narrow.tasks_view.table.horizontalHeader().resizeSection(0, 20)
    narrow.close()  # saves the narrow column
    old.remove("window/layout")  # as written before the layout had a version

    window = MainWindow(db, service)
    assert window.tasks_view.table.horizontalHeader().sectionSize(0) == 70
    window.tasks_view.table.horizontalHeader().resizeSection(0, 90)
    window.close()  # saves this layout, with its version
    again = MainWindow(db, service)
    assert again.tasks_view.table.horizontalHeader().sectionSize(0) == 90


def test_every_string_of_the_console_is_translated_and_compiled() -> None:
    sources = i18n.ts_files()
    assert [p.name for p in sources] == ["buyback_ru.ts"]
    for ts in sources:
        assert i18n.untranslated(ts) == [], f"run `python -m app.ui.i18n update`, translate {ts}"
        qm = ts.with_suffix(".qm")
        assert qm.exists() and qm.stat().st_mtime >= ts.stat().st_mtime, (
            f"{qm} is missing or older than {ts.name}: run `python -m app.ui.i18n build`"
        )
