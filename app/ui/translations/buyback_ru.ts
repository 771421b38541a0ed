<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru_RU" sourcelanguage="en">
<context>
    <name>AccountImportDialog</name>
    <message>
        <location filename="../dialogs/accounts_import.py" line="+94"/>
        <source>A CSV/XLSX list, a storage-state .json, or a folder of sessions or profiles</source>
        <translation>Список CSV/XLSX, файл .json с сохранённой сессией (storage state) или папка сессий либо профилей браузера</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a file or folder to see what it holds.</source>
        <translation>Содержимое появится после выбора файла или папки.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Import accounts</source>
        <translation>Импорт аккаунтов</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>%1 to add, %2 to update, %3 skipped, %4 rejected.</source>
        <translation>Будет добавлено: %1, обновлено: %2, пропущено: %3, отклонено: %4.</translation>
    </message>
</context>
<context>
    <name>AccountsModel</name>
    <message>
        <location filename="../views/accounts_view.py" line="+79"/>
        <source>Stored browser session</source>
        <translation>Сохранённая сессия браузера</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Browser profile: %1</source>
        <translation>Профиль браузера: %1</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>busy</source>
        <translation>занят</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>not checked</source>
        <translation>не проверен</translation>
    </message>
</context>
<context>
    <name>AccountsView</name>
    <message>
        <location line="+37"/>
        <source>Import…</source>
        <translation>Импорт…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Enable</source>
        <translation>Включить</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Disable</source>
        <translation>Отключить</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Check now</source>
        <translation>Проверить сейчас</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Import accounts from a list, sessions or profiles</source>
        <translation>Импортировать аккаунты из списка, сохранённых сессий или профилей браузера</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Log the selected accounts in (all usable ones if none is selected)</source>
        <translation>Выполнить вход в выбранные аккаунты (если ничего не выбрано — во все доступные)</translation>
    </message>
    <message>
        <location line="+43"/>
        <source>Accounts</source>
        <translation>Аккаунты</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>%1 accounts enabled</source>
        <translation>Включено аккаунтов: %1</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>%1 accounts disabled</source>
        <translation>Отключено аккаунтов: %1</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Checking the accounts…</source>
        <translation>Проверка аккаунтов…</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Checked %1 accounts: %2</source>
        <translation>Проверено аккаунтов: %1 — %2</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Imported: %1 added, %2 updated</source>
        <translation>Импорт завершён: добавлено %1, обновлено %2</translation>
    </message>
</context>
<context>
    <name>Column</name>
    <message>
        <location filename="../dialogs/accounts_import.py" line="-66"/>
        <source>Row / file</source>
        <translation>Строка / файл</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../views/accounts_view.py" line="-223"/>
        <source>Login</source>
        <translation>Логин</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../dialogs/orders_import.py" line="+45"/>
        <location filename="../views/accounts_view.py" line="+1"/>
        <location filename="../views/orders_view.py" line="+29"/>
        <source>Marketplace</source>
        <translation>Маркетплейс</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../dialogs/orders_import.py" line="+5"/>
        <source>Outcome</source>
        <translation>Результат</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../dialogs/orders_import.py" line="+1"/>
        <source>Details</source>
        <translation>Подробности</translation>
    </message>
    <message>
        <location filename="../views/accounts_view.py" line="+1"/>
        <source>Label</source>
        <translation>Метка</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Phone</source>
        <translation>Телефон</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../views/orders_view.py" line="+6"/>
        <location filename="../views/tasks_model.py" line="+48"/>
        <source>Status</source>
        <translation>Статус</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Health</source>
        <translation>Состояние</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Checked</source>
        <translation>Проверен</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Today / limit</source>
        <translation>Сегодня / лимит</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resting until</source>
        <translation>Пауза до</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Busy</source>
        <translation>Занят</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Last used</source>
        <translation>Посл. использование</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Last error</source>
        <translation>Последняя ошибка</translation>
    </message>
    <message>
        <location filename="../dialogs/orders_import.py" line="-8"/>
        <source>Row</source>
        <translation>Строка</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../views/orders_view.py" line="-7"/>
        <source>Client</source>
        <translation>Клиент</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../views/tasks_model.py" line="-3"/>
        <source>Article</source>
        <translation>Артикул</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Qty</source>
        <translation>Кол-во</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../views/tasks_model.py" line="+2"/>
        <source>Pickup point</source>
        <translation>ПВЗ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Max price</source>
        <translation>Макс. цена</translation>
    </message>
    <message>
        <location filename="../views/orders_view.py" line="-1"/>
        <location filename="../views/tasks_model.py" line="-4"/>
        <source>Order</source>
        <translation>Заказ</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Created</source>
        <translation>Создан</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Lines</source>
        <translation>Строки</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Purchased</source>
        <translation>Выкуплено</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Delivered</source>
        <translation>Доставлено</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Failed</source>
        <translation>Ошибки</translation>
    </message>
    <message>
        <location filename="../views/tasks_model.py" line="-1"/>
        <source>Task</source>
        <translation>Задача</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Job</source>
        <translation>Позиция</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Account</source>
        <translation>Аккаунт</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Attempts</source>
        <translation>Попытки</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Updated</source>
        <translation>Обновлено</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Marketplace order no.</source>
        <translation>№ заказа на площадке</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Error</source>
        <translation>Ошибка</translation>
    </message>
</context>
<context>
    <name>Crash</name>
    <message>
        <location filename="../dialogs/crash.py" line="+32"/>
        <source>the terminal (no log file could be opened)</source>
        <translation>терминал (не удалось открыть файл журнала)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Something went wrong inside the console: %1

The details are in the log: %2
Send that file along when you report the problem. The console keeps running; if it misbehaves, restart it.</source>
        <translation>В консоли произошла ошибка: %1

Подробности записаны в журнал: %2
При сообщении о проблеме приложите этот файл. Консоль продолжает работать; если она работает некорректно, перезапустите её.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Unexpected error</source>
        <translation>Непредвиденная ошибка</translation>
    </message>
</context>
<context>
    <name>Engine</name>
    <message>
        <location filename="../../core/orders/imports.py" line="+206"/>
        <source>empty; fill in the client&apos;s name</source>
        <translation>пусто; укажите имя клиента</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>unknown marketplace &apos;{code}&apos; (set up here: {known})</source>
        <translation>неизвестный маркетплейс «{code}» (настроены: {known})</translation>
    </message>
    <message>
        <location filename="../../core/orders/spec.py" line="+43"/>
        <source>client</source>
        <translation>клиент</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>marketplace</source>
        <translation>маркетплейс</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>lines</source>
        <translation>строки</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>batch size</source>
        <translation>размер партии</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>article</source>
        <translation>артикул</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>quantity</source>
        <translation>количество</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>pickup point</source>
        <translation>пункт выдачи</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>max unit price</source>
        <translation>макс. цена за шт.</translation>
    </message>
    <message>
        <location line="+55"/>
        <source>&apos;{value}&apos; is not an amount; enter rubles such as 1299.90</source>
        <translation>«{value}» — не сумма; введите рубли, например 1299,90</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&apos;{value}&apos; is not a positive amount; enter rubles such as 1299.90</source>
        <translation>«{value}» — не положительная сумма; введите рубли, например 1299,90</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&apos;{value}&apos; has more than two decimals (kopecks)</source>
        <translation>в «{value}» больше двух знаков после запятой (копейки)</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&apos;{value}&apos; is too large for a unit price; check for a typo</source>
        <translation>«{value}» — слишком большая цена за штуку; проверьте, нет ли опечатки</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>&apos;{value}&apos; is not a whole number of units; enter e.g. 5</source>
        <translation>«{value}» — не целое число штук; введите, например, 5</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>must be at least 1 (got {qty})</source>
        <translation>должно быть не меньше 1 (указано {qty})</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{qty} units is over the limit of {max_units} per line; split it into several lines or raise the limit in settings</source>
        <translation>{qty} шт. — больше предела {max_units} на строку; разбейте на несколько строк или поднимите предел в настройках</translation>
    </message>
    <message>
        <location filename="../../core/orders/validation.py" line="+31"/>
        <source>enter an article number</source>
        <translation>введите артикул</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&apos;{sku}&apos; is not in {catalog}&apos;s catalog; check the number</source>
        <translation>артикула «{sku}» нет в каталоге {catalog}; проверьте номер</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>choose a pickup point</source>
        <translation>выберите пункт выдачи</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&apos;{code}&apos; is not a pickup point of {catalog}</source>
        <translation>«{code}» — не пункт выдачи {catalog}</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>enter the client&apos;s name</source>
        <translation>введите имя клиента</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>unknown marketplace &apos;{code}&apos;</source>
        <translation>неизвестный маркетплейс «{code}»</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>the order has no lines; add at least one</source>
        <translation>в заказе нет строк; добавьте хотя бы одну</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>must be at least 1 unit</source>
        <translation>должно быть не меньше 1 шт.</translation>
    </message>
    <message>
        <location filename="../../core/support/secrets.py" line="+165"/>
        <source>No OS keyring is available, so the key that encrypts account passwords and sessions is kept in {path} (readable by this user only). Back it up: without it the stored secrets cannot be read.</source>
        <translation>Хранилище ключей ОС недоступно, поэтому ключ, которым зашифрованы пароли и сессии аккаунтов, хранится в {path} (доступен только этому пользователю). Сделайте его резервную копию: без него сохранённые секреты не прочитать.</translation>
    </message>
</context>
<context>
    <name>FieldError</name>
    <message>
        <location filename="../common.py" line="+199"/>
        <source>Line %1, %2</source>
        <translation>Строка %1, %2</translation>
    </message>
</context>
<context>
    <name>ImportDialog</name>
    <message>
        <location filename="../dialogs/accounts_import.py" line="-19"/>
        <source>Account lists (*.csv *.xlsx *.xlsm *.txt *.tsv *.json);;All files (*)</source>
        <translation>Списки аккаунтов (*.csv *.xlsx *.xlsm *.txt *.tsv *.json);;Все файлы (*)</translation>
    </message>
    <message>
        <location line="+51"/>
        <source>Account list or storage state</source>
        <translation>Список аккаунтов или сохранённая сессия</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Folder of storage states or browser profiles</source>
        <translation>Папка с сохранёнными сессиями или профилями браузера</translation>
    </message>
    <message>
        <location filename="../dialogs/import_dialog.py" line="+46"/>
        <location line="+50"/>
        <source>Import</source>
        <translation>Импортировать</translation>
    </message>
    <message>
        <location line="-49"/>
        <source>All files (*)</source>
        <translation>Все файлы (*)</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>The marketplace of rows that name none</source>
        <translation>Маркетплейс для строк, в которых он не указан</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>File…</source>
        <translation>Файл…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Folder…</source>
        <translation>Папка…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Marketplace:</source>
        <translation>Маркетплейс:</translation>
    </message>
    <message>
        <location line="+93"/>
        <source>Reading %1…</source>
        <translation>Чтение %1…</translation>
    </message>
    <message>
        <location filename="../dialogs/orders_import.py" line="-21"/>
        <source>Order lists (*.csv *.xlsx *.xlsm *.txt *.tsv);;All files (*)</source>
        <translation>Списки заказов (*.csv *.xlsx *.xlsm *.txt *.tsv);;Все файлы (*)</translation>
    </message>
    <message>
        <location line="+62"/>
        <source>Order list</source>
        <translation>Список заказов</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../app.py" line="+92"/>
        <location filename="../window/main_window.py" line="+91"/>
        <source>Buyback console</source>
        <translation>Консоль выкупов</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The console will close.</source>
        <translation>Консоль будет закрыта.</translation>
    </message>
    <message>
        <location filename="../window/main_window.py" line="+11"/>
        <source>Tasks</source>
        <translation>Задачи</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Accounts</source>
        <translation>Аккаунты</translation>
    </message>
    <message>
        <location filename="../window/menus.py" line="+25"/>
        <source>&amp;New order…</source>
        <translation>&amp;Новый заказ…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Enter a client&apos;s order</source>
        <translation>Ввести заказ клиента</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Start / resume</source>
        <translation>&amp;Запустить / продолжить</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Start or resume the selected order</source>
        <translation>Запустить или продолжить выбранный заказ</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Pause</source>
        <translation>&amp;Приостановить</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Start no new purchases for the selected order</source>
        <translation>Не начинать новые покупки по выбранному заказу</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Cancel order…</source>
        <translation>&amp;Отменить заказ…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cancel what has not been bought</source>
        <translation>Отменить всё, что ещё не выкуплено</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Retry failed</source>
        <translation>По&amp;вторить неудачные</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Queue the failed units again</source>
        <translation>Повторно поставить в очередь единицы с ошибкой</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Quit</source>
        <translation>В&amp;ыход</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Close the console</source>
        <translation>Закрыть консоль</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Find task…</source>
        <translation>&amp;Найти задачу…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Search the tasks</source>
        <translation>Поиск по задачам</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Tasks</source>
        <translation>&amp;Задачи</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show the tasks</source>
        <translation>Показать задачи</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Accounts</source>
        <translation>&amp;Аккаунты</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show the accounts</source>
        <translation>Показать аккаунты</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Re&amp;fresh</source>
        <translation>&amp;Обновить</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Read everything again</source>
        <translation>Перечитать все данные</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Import orders…</source>
        <translation>&amp;Импорт заказов…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Create orders from a CSV/XLSX list</source>
        <translation>Создать заказы из списка CSV/XLSX</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Export report…</source>
        <translation>&amp;Экспорт отчёта…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Save the selected order&apos;s units to XLSX or CSV</source>
        <translation>Сохранить единицы выбранного заказа в XLSX или CSV</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Settings…</source>
        <translation>На&amp;стройки…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Browser, concurrency…</source>
        <translation>Браузер, параллельность…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Open &amp;log folder</source>
        <translation>Открыть папку &amp;журналов</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show the logs</source>
        <translation>Показать журналы</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>&amp;File</source>
        <translation>&amp;Файл</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Order</source>
        <translation>&amp;Заказ</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;View</source>
        <translation>&amp;Вид</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Help</source>
        <translation>&amp;Справка</translation>
    </message>
    <message>
        <location line="-14"/>
        <source>&amp;About</source>
        <translation>&amp;О программе</translation>
    </message>
    <message>
        <location line="+47"/>
        <source>Main</source>
        <translation>Основная</translation>
    </message>
    <message>
        <location filename="../window/main_window.py" line="+127"/>
        <source>All orders: running %1 · queued %2 · purchased %3 · failed %4</source>
        <translation>Все заказы: выполняется %1 · в очереди %2 · выкуплено %3 · ошибок %4</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>%1 purchases/min</source>
        <translation>Покупок/мин: %1</translation>
    </message>
    <message>
        <location line="+53"/>
        <source>New order</source>
        <translation>Новый заказ</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>No marketplace is set up yet.</source>
        <translation>Ещё не настроен ни один маркетплейс.</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Order #%1 created</source>
        <translation>Заказ №%1 создан</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Imported %1 orders: %2</source>
        <translation>Импортировано заказов: %1 — %2</translation>
    </message>
    <message>
        <location line="+18"/>
        <location line="+24"/>
        <source>Export report</source>
        <translation>Экспорт отчёта</translation>
    </message>
    <message>
        <location line="-22"/>
        <source>Excel workbook (*.xlsx);;CSV for Excel (*.csv)</source>
        <translation>Книга Excel (*.xlsx);;CSV для Excel (*.csv)</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Order #%1&apos;s report (%2 units) saved to %3</source>
        <translation>Отчёт по заказу №%1 (%2 шт.) сохранён в %3</translation>
    </message>
    <message>
        <location line="+69"/>
        <source>About</source>
        <translation>О программе</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Buyback console: clients&apos; orders into finished, tracked purchases.
Database: %1</source>
        <translation>Консоль выкупов: от заказов клиентов до выполненных и отслеживаемых покупок.
База данных: %1</translation>
    </message>
</context>
<context>
    <name>NewOrderDialog</name>
    <message>
        <location filename="../dialogs/new_order.py" line="+180"/>
        <source>New order</source>
        <translation>Новый заказ</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Who the order is for; type a new name to add a client</source>
        <translation>Клиент, для которого оформляется заказ; при вводе нового имени клиент будет добавлен</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Where the units are bought</source>
        <translation>Маркетплейс, на котором выкупаются единицы</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>How many units of this order one account may buy</source>
        <translation>Сколько единиц этого заказа может выкупить один аккаунт</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>One unit per account per line (default)</source>
        <translation>Одна единица на аккаунт в каждой строке (по умолчанию)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>One unit per account per order</source>
        <translation>Одна единица на аккаунт в заказе</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No limit</source>
        <translation>Без ограничений</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Start immediately</source>
        <translation>Сразу &amp;запустить</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Unchecked, the order is saved paused and started later by hand</source>
        <translation>Если флажок снят, заказ сохраняется приостановленным и запускается позже вручную</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Client:</source>
        <translation>&amp;Клиент:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Marketplace:</source>
        <translation>&amp;Маркетплейс:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Account &amp;rule:</source>
        <translation>&amp;Правило аккаунтов:</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>&amp;Add line</source>
        <translation>&amp;Добавить строку</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Add an empty line (Ctrl+Shift+N or Insert)</source>
        <translation>Добавить пустую строку (Ctrl+Shift+N или Insert)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Re&amp;move line</source>
        <translation>&amp;Удалить строку</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Remove the selected lines (Delete)</source>
        <translation>Удалить выбранные строки (Delete)</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&amp;Paste lines</source>
        <translation>Вст&amp;авить строки</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Append lines copied from a spreadsheet or a &apos;;&apos; CSV: article, quantity, pickup point, optional max price (Ctrl+V in the table)</source>
        <translation>Добавить строки, скопированные из электронной таблицы или CSV с разделителем «;»: артикул, количество, пункт выдачи, макс. цена (необязательно) (Ctrl+V в таблице)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&amp;Lines:</source>
        <translation>&amp;Строки:</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Article</source>
        <translation>Артикул</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Article number (sku); pick from the list or type it</source>
        <translation>Артикул (SKU): выбрать из списка или ввести вручную</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Quantity</source>
        <translation>Количество</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Units to buy, a whole number</source>
        <translation>Сколько единиц выкупить, целое число</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pickup point</source>
        <translation>ПВЗ</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Where the units are delivered</source>
        <translation>Пункт выдачи, куда будут доставлены единицы</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Max unit price (₽)</source>
        <translation>Макс. цена за шт. (₽)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Optional: do not buy above this price</source>
        <translation>Необязательно: не покупать дороже этой цены</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>Create order</source>
        <translation>Создать заказ</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Save the order (Ctrl+Enter)</source>
        <translation>Сохранить заказ (Ctrl+Enter)</translation>
    </message>
    <message>
        <location line="+84"/>
        <source>optional, e.g. 1299.90</source>
        <translation>необязательно, напр. 1299,90</translation>
    </message>
    <message>
        <location line="+138"/>
        <source>Lines: %1  ·  units: %2</source>
        <translation>Строк: %1  ·  единиц: %2</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>The order was not saved:</source>
        <translation>Заказ не сохранён:</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The order was not saved: %1</source>
        <translation>Заказ не сохранён: %1</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Saving…</source>
        <translation>Сохранение…</translation>
    </message>
</context>
<context>
    <name>Notices</name>
    <message>
        <location filename="../window/notices.py" line="+55"/>
        <source>Engine</source>
        <translation>Движок</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Order failed</source>
        <translation>Заказ не выполнен</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Order finished</source>
        <translation>Заказ завершён</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Order #%1 for %2 failed: %3 of %4 units bought; it needs attention.</source>
        <translation>Заказ №%1 для %2 не выполнен: выкуплено %3 из %4 шт.; требуется вмешательство.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Order #%1 for %2 is %5: %3 of %4 units bought.</source>
        <translation>Заказ №%1 для %2 — %5: выкуплено %3 из %4 шт.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>a client</source>
        <translation>клиента</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Needs review</source>
        <translation>Требуется проверка</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A unit of order #%1 needs review: %2</source>
        <translation>Единица заказа №%1 требует проверки: %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>check it in the Tasks table</source>
        <translation>см. таблицу «Задачи»</translation>
    </message>
</context>
<context>
    <name>OrderCommands</name>
    <message>
        <location filename="../window/order_commands.py" line="+59"/>
        <source>Order #%1 started</source>
        <translation>Заказ №%1 запущен</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Order #%1 paused</source>
        <translation>Заказ №%1 приостановлен</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Cancel order</source>
        <translation>Отмена заказа</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Cancel order #%1 for %2?

%3 of %4 units are bought and stay bought. Units not started are cancelled; a purchase already being placed finishes and is recorded.</source>
        <translation>Отменить заказ №%1 для %2?

Выкуплено %3 из %4 шт. — эти покупки сохранятся. Не начатые единицы будут отменены; покупка, которая уже оформляется, будет завершена и учтена.</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Order #%1 cancelled</source>
        <translation>Заказ №%1 отменён</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Failed units queued again</source>
        <translation>Единицы с ошибкой снова поставлены в очередь</translation>
    </message>
</context>
<context>
    <name>OrderImportDialog</name>
    <message>
        <location filename="../dialogs/orders_import.py" line="+10"/>
        <source>A CSV/XLSX list: Клиент; Маркетплейс; Артикул; Количество; ПВЗ; Макс. цена</source>
        <translation>Список CSV/XLSX: Клиент; Маркетплейс; Артикул; Количество; ПВЗ; Макс. цена</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a list to see the orders it holds.</source>
        <translation>Заказы появятся после выбора списка.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Import orders</source>
        <translation>Импорт заказов</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>%1 orders, %2 units to create.</source>
        <translation>Будет создано заказов: %1, единиц: %2.</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>%1 rows have errors; nothing will be imported until they are fixed.</source>
        <translation>Строк с ошибками: %1. Ничего не будет импортировано, пока они не исправлены.</translation>
    </message>
</context>
<context>
    <name>OrderPlanModel</name>
    <message>
        <location line="-71"/>
        <source>order %1, line %2</source>
        <translation>заказ %1, строка %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>error</source>
        <translation>ошибка</translation>
    </message>
</context>
<context>
    <name>OrdersModel</name>
    <message>
        <location filename="../views/orders_view.py" line="+49"/>
        <source>%1 review</source>
        <translation>%1 на проверке</translation>
    </message>
</context>
<context>
    <name>PlanModel</name>
    <message>
        <location filename="../dialogs/accounts_import.py" line="-64"/>
        <source>add</source>
        <translation>добавить</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>update</source>
        <translation>обновить</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>skip</source>
        <translation>пропустить</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>reject</source>
        <translation>отклонить</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>changes %1</source>
        <translation>изменения: %1</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../dialogs/settings.py" line="+34"/>
        <source>As the system</source>
        <translation>Как в системе</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>Settings</source>
        <translation>Настройки</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Found on the system</source>
        <translation>Найден в системе</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Browse…</source>
        <translation>Обзор…</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Purchases at once:</source>
        <translation>Покупок одновременно:</translation>
    </message>
    <message>
        <location line="-15"/>
        <source>Open</source>
        <translation>Открыть</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Browser:</source>
        <translation>Браузер:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Data folder:</source>
        <translation>Папка данных:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Language:</source>
        <translation>Язык:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The language changes at once; browser and concurrency at the next start of the console.</source>
        <translation>Язык меняется сразу; браузер и параллельность — при следующем запуске консоли.</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Chrome, Chromium or Edge</source>
        <translation>Chrome, Chromium или Edge</translation>
    </message>
</context>
<context>
    <name>Status</name>
    <message>
        <location filename="../common.py" line="-55"/>
        <source>pending</source>
        <translation>ожидает</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>waiting for account</source>
        <translation>ждёт аккаунт</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>assigned</source>
        <translation>назначена</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>running</source>
        <translation>выполняется</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>submitting</source>
        <translation>оформляется</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>purchased</source>
        <translation>выкуплено</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>delivered</source>
        <translation>доставлено</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>retry wait</source>
        <translation>повтор позже</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>failed</source>
        <translation>ошибка</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>cancelled</source>
        <translation>отменено</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>needs review</source>
        <translation>на проверке</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>queued</source>
        <translation>в очереди</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>paused</source>
        <translation>приостановлено</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>done</source>
        <translation>готово</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>in transit</source>
        <translation>в пути</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>at pickup point</source>
        <translation>в ПВЗ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ordered</source>
        <translation>заказано</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>unknown</source>
        <translation>неизвестно</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>active</source>
        <translation>активен</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>disabled</source>
        <translation>отключён</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>blocked</source>
        <translation>заблокирован</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>valid</source>
        <translation>действует</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>session expired</source>
        <translation>сессия истекла</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>bad credentials</source>
        <translation>неверный логин/пароль</translation>
    </message>
</context>
<context>
    <name>TaskDetailDialog</name>
    <message>
        <location filename="../views/tasks_view.py" line="+176"/>
        <source>Task %1</source>
        <translation>Задача %1</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Time</source>
        <translation>Время</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>From</source>
        <translation>Было</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>To</source>
        <translation>Стало</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Attempt</source>
        <translation>Попытка</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Detail</source>
        <translation>Подробности</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>It was bought…</source>
        <translation>Выкуплено…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The order is in the account&apos;s history: record its order number</source>
        <translation>Заказ есть в истории аккаунта: указать номер заказа</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Not bought: queue again</source>
        <translation>Не выкуплено: вернуть в очередь</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>History</source>
        <translation>История</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Record the purchase</source>
        <translation>Отметить покупку</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Marketplace order number:</source>
        <translation>Номер заказа на площадке:</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Review</source>
        <translation>Проверка</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>This task no longer exists.</source>
        <translation>Задача больше не существует.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Status:</source>
        <translation>Статус:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Article:</source>
        <translation>Артикул:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Account:</source>
        <translation>Аккаунт:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pickup point:</source>
        <translation>Пункт выдачи:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Order / Job:</source>
        <translation>Заказ / позиция:</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Purchase:</source>
        <translation>Покупка:</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Error:</source>
        <translation>Ошибка:</translation>
    </message>
</context>
<context>
    <name>TasksView</name>
    <message>
        <location line="-207"/>
        <location line="+68"/>
        <source>All orders</source>
        <translation>Все заказы</translation>
    </message>
    <message>
        <location line="-66"/>
        <source>All statuses</source>
        <translation>Все статусы</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Active (running, waiting)</source>
        <translation>Активные (выполняются, ожидают)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Problems (failed, review)</source>
        <translation>Проблемные (ошибки, проверка)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Search article, account, order no., error…  (Ctrl+F)</source>
        <translation>Поиск: артикул, аккаунт, № заказа, ошибка…  (Ctrl+F)</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Order:</source>
        <translation>Заказ:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Status:</source>
        <translation>Статус:</translation>
    </message>
    <message numerus="yes">
        <location line="+61"/>
        <source>%n task(s)</source>
        <translation>
            <numerusform>%n задача</numerusform>
            <numerusform>%n задачи</numerusform>
            <numerusform>%n задач</numerusform>
        </translation>
    </message>
</context>
</TS>
