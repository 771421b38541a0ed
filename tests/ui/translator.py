"""A stand-in for a compiled translation in UI tests: the translations a test gives, by
context and source, installed into the running application above the real ones (a text it
does not have is left to them); and the Russian proposed for the engine's texts and the
report, until the .ts file has them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QCoreApplication, QTranslator


class FakeTranslator(QTranslator):
    def __init__(self, texts: dict[tuple[str, str], str]):
        super().__init__()
        self.texts = texts

    def translate(  # type: ignore[override]
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        return self.texts.get((context, source))  # None: asks the next translator

    def isEmpty(self) -> bool:
        return False


@contextmanager
def translated(texts: dict[tuple[str, str], str]) -> Iterator[FakeTranslator]:
    """`texts` installed for the block."""
    app = QCoreApplication.instance()
    assert app is not None
    translator = FakeTranslator(texts)
    app.installTranslator(translator)
    try:
        yield translator
    finally:
        app.removeTranslator(translator)


ENGINE_TEXT = {
    "cancelled by the operator before submitting": "отменено оператором до оформления заказа",
    "internal error: {0}": "внутренняя ошибка: {0}",
    "gave up after {0} attempts with temporary errors ({1} attempts in all, counting re-runs "
    "after an account change or a restart): {2}": "попытки исчерпаны: временных ошибок — {0} "
    "(всего попыток — {1}, считая повторы после смены аккаунта или перезапуска): {2}",
    "gave up after {0} attempts: {1}": "попытки исчерпаны ({0}): {1}",
    "temporary error {0} of {1}: {2}": "временная ошибка {0} из {1}: {2}",
    "{0}; the order may have been placed and the check failed ({1}): look at the account's "
    "order history": "{0}; заказ мог быть оформлен, а проверить это не удалось ({1}): "
    "посмотрите историю заказов аккаунта",
    "found in the order history after: {0}": "найден в истории заказов после ошибки: {0}",
    "no free account": "нет свободного аккаунта",
    "created": "создана",
    "order {0}": "заказ {0}",
    "checked in the order history of {0} at {1}": "проверено по истории заказов {0} на {1}",
    "checked in the order history of {0} at {1}; the shop's price is recorded, not the {2} "
    "typed": "проверено по истории заказов {0} на {1}; записана цена магазина, а не введённая {2}",
    "unchecked: the console cannot read {0}'s orders": "не проверено: консоль не читает заказы {0}",
    "order {0} is at the pickup point": "заказ {0} в пункте выдачи",
    "cancelled by the operator": "отменено оператором",
    "retry requested by the operator": "повтор по запросу оператора",
    "{0} found no order; queued again": "{0}: заказа нет; снова в очереди",
    "{0} recorded order {1} at {2} ({3})": "{0}: записан заказ {1} за {2} ({3})",
    "operator {0}": "оператор {0}",
    "internal error ({0}); this is a defect of the console, the details are in the log {1}": (
        "внутренняя ошибка ({0}); это дефект консоли, подробности в журнале {1}"
    ),
    "the worker stopped before starting; back in the queue": "обработчик остановился, не начав "
    "покупку; единица снова в очереди",
    "after a restart the order history could not be checked ({0}); look at account {1}'s "
    "orders for article {2} and record or retry": "после перезапуска не удалось проверить "
    "историю заказов ({0}); посмотрите заказы аккаунта {1} по артикулу {2} и запишите покупку "
    "или повторите",
    "no order on the marketplace after a restart; the unit is queued again": "после "
    "перезапуска заказа на маркетплейсе нет; единица снова в очереди",
    "order {0} found in the order history after a restart": "заказ {0} найден в истории "
    "заказов после перезапуска",
    "not placed: this worker had not reached the database for a while (its heartbeat was "
    "late), so another worker might have taken the unit over; queued again": "не заказано: "
    "этот обработчик какое-то время не связывался с базой данных (его сигнал жизни запоздал), "
    "и единицу мог забрать другой обработчик; снова в очереди",
    "This computer's clock is {0} s behind the database server's. The engine uses the "
    "server's time; set this computer's clock right (time sync).": "Часы этого компьютера "
    "отстают от часов сервера базы данных на {0} с. Движок пользуется временем сервера; "
    "поправьте часы компьютера (синхронизация времени).",
    "This computer's clock is {0} s ahead of the database server's. The engine uses the "
    "server's time; set this computer's clock right (time sync).": "Часы этого компьютера "
    "спешат относительно часов сервера базы данных на {0} с. Движок пользуется временем "
    "сервера; поправьте часы компьютера (синхронизация времени).",
    "This worker was taken for stopped (no heartbeat for a while: the computer slept or the "
    "database was out of reach), and its purchases were handed to other workers. It joins "
    "again as a new worker once the purchases it was making are recorded.": "Этот "
    "обработчик признан остановленным (долго не было сигнала жизни: компьютер засыпал или "
    "база данных была недоступна), и его покупки переданы другим обработчикам. Он снова "
    "подключится как новый обработчик, когда покупки, которые он делал, будут записаны.",
    "taken by {0}": "взята в работу: {0}",
    "bought by {0}: order {1}, {2}, above the cap of {3} (confirmed)": "выкуплено ({0}): заказ "
    "{1}, {2}, выше макс. цены {3} (подтверждено)",
    "bought by {0}: order {1}, {2}": "выкуплено ({0}): заказ {1}, {2}",
    "not bought ({0}): {1}": "не выкуплено ({0}): {1}",
    "out of stock": "нет в наличии",
    "out of stock: {0}": "нет в наличии: {0}",
    "the price is above the cap": "цена выше макс. цены",
    "the price is above the cap: {0}": "цена выше макс. цены: {0}",
    "the account is blocked": "аккаунт заблокирован",
    "the account is blocked: {0}": "аккаунт заблокирован: {0}",
    "a problem with the account": "проблема с аккаунтом",
    "a problem with the account: {0}": "проблема с аккаунтом: {0}",
    "could not buy: {0}": "не удалось купить: {0}",
    "skipped by {0}; back in the queue": "пропущено ({0}); снова в очереди",
    "at the pickup point (marked by {0})": "в пункте выдачи (отметил {0})",
    "Article {0} does not exist at {1}": "Артикула {0} нет на {1}",
    "The cart at {0} does not hold exactly one unit of {1} at checkout (another session may "
    "be using this account); nothing was ordered.": "При оформлении в корзине на {0} не ровно "
    "одна единица {1} (возможно, аккаунтом пользуется другая сессия); ничего не заказано.",
    "Pickup point {0} is not offered by {1} (it offers {2})": "{1} не предлагает пункт выдачи "
    "{0} (есть: {2})",
    "{0} did not confirm the order (the browser landed on {1}); check the account's order "
    "history before retrying.": "{0} не подтвердил заказ (браузер оказался на {1}); проверьте "
    "историю заказов аккаунта, прежде чем повторять.",
    "{0} did not answer within {1} s": "{0} не ответил за {1} с",
    "The connection to {0} failed ({1})": "Не удалось соединиться с {0} ({1})",
    "The browser closed or crashed; it is restarted for the next attempt": "Браузер закрылся "
    "или упал; для следующей попытки он будет перезапущен",
    "The browser failed: {0}": "Сбой браузера: {0}",
    "{0} answered HTTP {1} on {2}": "{0} ответил HTTP {1} на {2}",
    "{0} answered HTTP {1} for {2}: this is not the {3} marketplace; check the marketplace's "
    "address": "{0} ответил HTTP {1} на {2}: это не маркетплейс {3}; проверьте адрес маркетплейса",
    "{0} answered {1} with a page of another site: this is not the {2} marketplace; check "
    "the marketplace's address": "{0} ответил на {1} страницей другого сайта: это не "
    "маркетплейс {2}; проверьте адрес маркетплейса",
    "Account {0} is blocked at {1}": "Аккаунт {0} заблокирован на {1}",
    "{0} rejected the password of account {1}; correct it in the account pool": "{0} не "
    "принял пароль аккаунта {1}; исправьте его в списке аккаунтов",
    "Article {0} costs {1} at {2} (the product page), above the order's cap of {3}": "Артикул "
    "{0} стоит {1} на {2} (страница товара) — выше макс. цены заказа {3}",
    "Article {0} costs {1} at {2} (checkout), above the order's cap of {3}": "Артикул {0} "
    "стоит {1} на {2} (оформление заказа) — выше макс. цены заказа {3}",
    "Article {0} is out of stock at {1}": "Артикула {0} нет в наличии на {1}",
    "The session at {0} kept expiring; no order was confirmed": "Сессия на {0} всё время "
    "истекала; заказ не подтверждён",
    "Article {0} costs {1}, above the cap of {2}": "Артикул {0} стоит {1} — выше макс. цены {2}",
    "row {0}": "строка {0}",
    "row {0} (header)": "строка {0} (заголовок)",
    "field 'login' is empty; fill in the account's login": "поле «Логин» пустое; укажите "
    "логин аккаунта",
    "field 'password' is empty; a new account needs a password": "поле «Пароль» пустое; "
    "новому аккаунту нужен пароль",
    "field '{0}' is longer than {1} characters": "поле «{0}» длиннее {1} символов",
    "field '{0}': '{1}' is not a whole number of purchases (leave it empty for no limit)": (
        "поле «{0}»: «{1}» — не целое число покупок (оставьте пустым, если лимита нет)"
    ),
    "field '{0}': {1}": "поле «{0}»: {1}",
    "field '{0}' {1}": "поле «{0}» {1}",
    "duplicate of {0} (same login)": "повтор: {0} (тот же логин)",
    "already stored with the same values": "уже сохранён с теми же значениями",
    "no login column: name the accounts' column 'Логин' or 'login' (the header has: {0})": (
        "нет столбца с логином: назовите столбец аккаунтов «Логин» или «login» (в заголовке: {0})"
    ),
    "not a UTF-8 text file; save it as UTF-8 JSON": "не текстовый файл в UTF-8; сохраните его "
    "как JSON в UTF-8",
    "invalid JSON: {0} at line {1}, column {2}": "ошибка в JSON: {0} (строка {1}, столбец {2})",
    "not a Playwright storage state (no 'cookies' list)": "не сохранённая сессия Playwright "
    "(нет списка «cookies»)",
    "not account files, left out: {0}": "не файлы аккаунтов, пропущены: {0}",
    "login": "Логин",
    "password": "Пароль",
    "phone": "Телефон",
    "label": "Метка",
    "marketplace": "Маркетплейс",
    "daily limit": "Лимит в день",
    "session": "Сессия",
    "profile": "Профиль",
    "holds a control character ({0}), which no list has: the file is damaged or was not "
    "saved from a spreadsheet; export the list again": "содержит управляющий символ ({0}), "
    "которого в списках не бывает: файл повреждён или сохранён не из электронной таблицы; "
    "выгрузите список заново",
    "holds an invisible character ({0}) that makes it look like another value; type it again "
    "without it": "содержит невидимый символ ({0}), из-за которого значение выглядит как "
    "другое; наберите его заново без этого символа",
    "cannot read the file ({0})": "не удаётся прочитать файл ({0})",
    "the file is {0} MB, over the {1} MB limit; split it into smaller files": "файл занимает "
    "{0} МБ — больше предела {1} МБ; разбейте его на файлы поменьше",
    "the file is empty; export it again": "файл пуст; выгрузите его заново",
    "read as {0}, columns separated by 'tab'": "прочитан как {0}, столбцы разделены табуляцией",
    "read as {0}, columns separated by {1}": "прочитан как {0}, столбцы разделены знаком {1}",
    "UTF-8 with BOM": "UTF-8 с BOM",
    "cp1251 (Windows Cyrillic)": "cp1251 (кириллица Windows)",
    "cp1252 (Windows Western)": "cp1252 (западноевропейская Windows)",
    "column '{0}' is not used": "столбец «{0}» не используется",
    "read the first sheet, “{0}”": "прочитан первый лист, «{0}»",
    "row {0} taken as the header (the row above it left out)": "строка {0} взята как "
    "заголовок (строка над ней пропущена)",
    "row {0} taken as the header (the {1} rows above it left out)": "строка {0} взята как "
    "заголовок (строк над ней пропущено: {1})",
    "row {0} left out: a totals row (“{1}”)": "строка {0} пропущена: это строка итогов («{1}»)",
}
REPORT = {
    "Order": "Заказ",
    "Client": "Клиент",
    "Line": "Строка",
    "Article": "Артикул",
    "Title": "Название",
    "Account": "Аккаунт",
    "Pickup point": "ПВЗ",
    "Marketplace order": "№ заказа на площадке",
    "Price, ₽": "Цена, ₽",
    "Status": "Статус",
    "Purchased": "Выкуплено",
    "Delivered": "Доставлено",
    "Failure reason": "Причина ошибки",
}
# The Russian proposed for the new strings, as the .ts file will have them.
RUSSIAN = {("EngineText", k): v for k, v in ENGINE_TEXT.items()} | {
    ("Report", k): v for k, v in REPORT.items()
}
