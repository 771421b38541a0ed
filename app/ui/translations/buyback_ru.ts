<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru_RU" sourcelanguage="en">
<context>
    <name>AccountImportDialog</name>
    <message>
        <location filename="../dialogs/accounts_import.py" line="+96"/>
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
        <location line="+12"/>
        <source>%1 to add, %2 to update, %3 skipped, %4 rejected.</source>
        <translation>Будет добавлено: %1, обновлено: %2, пропущено: %3, отклонено: %4.</translation>
    </message>
</context>
<context>
    <name>AccountsModel</name>
    <message>
        <location filename="../views/accounts_view.py" line="+88"/>
        <source>Stored browser session</source>
        <translation>Сохранённая сессия браузера</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Browser profile: %1</source>
        <translation>Профиль браузера: %1</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>busy</source>
        <translation>занят</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>not checked</source>
        <translation>не проверен</translation>
    </message>
</context>
<context>
    <name>AccountsView</name>
    <message>
        <location line="+46"/>
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
        <location line="+2"/>
        <source>Log the selected accounts in</source>
        <translation>Войти в выбранные аккаунты</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>Accounts</source>
        <translation>Аккаунты</translation>
    </message>
    <message numerus="yes">
        <location line="+14"/>
        <source>%Ln account(s) enabled</source>
        <translation>
            <numerusform>Включён %Ln аккаунт</numerusform>
            <numerusform>Включены %Ln аккаунта</numerusform>
            <numerusform>Включено %Ln аккаунтов</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%Ln account(s) disabled</source>
        <translation>
            <numerusform>Отключён %Ln аккаунт</numerusform>
            <numerusform>Отключены %Ln аккаунта</numerusform>
            <numerusform>Отключено %Ln аккаунтов</numerusform>
        </translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Checking the accounts…</source>
        <translation>Проверка аккаунтов…</translation>
    </message>
    <message numerus="yes">
        <location line="+9"/>
        <source>Checked %Ln account(s): %1</source>
        <translation>
            <numerusform>Проверено аккаунтов: %Ln — %1</numerusform>
            <numerusform>Проверено аккаунтов: %Ln — %1</numerusform>
            <numerusform>Проверено аккаунтов: %Ln — %1</numerusform>
        </translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Imported: %1 added, %2 updated</source>
        <translation>Импорт завершён: добавлено %1, обновлено %2</translation>
    </message>
</context>
<context>
    <name>CatalogDialog</name>
    <message>
        <location filename="../dialogs/catalog.py" line="+164"/>
        <source>Catalog</source>
        <translation>Каталог</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The marketplace whose catalog is shown</source>
        <translation>Маркетплейс, чей каталог показан</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Filter: number, title, code or address</source>
        <translation>Фильтр: артикул, название, код или адрес</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Import…</source>
        <translation>&amp;Импорт…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Add or update articles and pickup points from a CSV/XLSX list</source>
        <translation>Добавить или обновить артикулы и пункты выдачи из списка CSV/XLSX</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&amp;Marketplace:</source>
        <translation>&amp;Маркетплейс:</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>Double-click a title or an address to change it; it is saved at once.</source>
        <translation>Чтобы изменить название или адрес, дважды щёлкните по нему; изменение сохраняется сразу.</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>%1 (disabled)</source>
        <translation>%1 (отключён)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>No marketplace is set up yet; add one in Marketplaces first.</source>
        <translation>Маркетплейсы ещё не настроены; сначала добавьте маркетплейс в окне «Маркетплейсы».</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>Articles: %1</source>
        <translation>Артикулы: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pickup points: %1</source>
        <translation>Пункты выдачи: %1</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Saved: %1 — %2</source>
        <translation>Сохранено: %1 — %2</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Not saved: %1</source>
        <translation>Не сохранено: %1</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Imported. Articles: %1 new, %2 updated. Pickup points: %3 new, %4 updated.</source>
        <translation>Импорт завершён. Артикулы: новых %1, обновлено %2. Пункты выдачи: новых %3, обновлено %4.</translation>
    </message>
</context>
<context>
    <name>CatalogImportDialog</name>
    <message>
        <location line="+91"/>
        <source>A CSV/XLSX list: %1</source>
        <translation>Список CSV/XLSX: %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Choose a list: each row an article (with its title), a pickup point (its code, its address or both), or both.</source>
        <translation>Выберите список: в каждой строке — артикул (с названием), пункт выдачи (код, адрес или и то и другое) либо и то и другое.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Import catalog</source>
        <translation>Импорт каталога</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Articles: %1 new, %2 with a new title. Pickup points: %3 new, %4 with a new address.</source>
        <translation>Артикулы: новых %1, с новым названием %2. Пункты выдачи: новых %3, с новым адресом %4.</translation>
    </message>
    <message numerus="yes">
        <location line="+8"/>
        <source>%Ln row(s) with errors left out.</source>
        <translation>
            <numerusform>%Ln строка с ошибками пропущена.</numerusform>
            <numerusform>%Ln строки с ошибками пропущены.</numerusform>
            <numerusform>%Ln строк с ошибками пропущено.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>CatalogPlanModel</name>
    <message>
        <location line="-106"/>
        <source>new article</source>
        <translation>новый артикул</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>new title</source>
        <translation>новое название</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>article unchanged</source>
        <translation>артикул без изменений</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>new pickup point</source>
        <translation>новый пункт выдачи</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>new address</source>
        <translation>новый адрес</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>pickup point unchanged</source>
        <translation>пункт выдачи без изменений</translation>
    </message>
</context>
<context>
    <name>Column</name>
    <message>
        <location filename="../dialogs/accounts_import.py" line="-65"/>
        <source>Row / file</source>
        <translation>Строка / файл</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../views/accounts_view.py" line="-260"/>
        <source>Login</source>
        <translation>Логин</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../dialogs/catalog.py" line="+15"/>
        <location filename="../dialogs/orders_import.py" line="+48"/>
        <location filename="../views/accounts_view.py" line="+1"/>
        <location filename="../views/orders_view.py" line="+29"/>
        <location filename="../views/to_buy.py" line="+124"/>
        <source>Marketplace</source>
        <translation>Маркетплейс</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../dialogs/catalog.py" line="+5"/>
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
        <location filename="../dialogs/marketplaces.py" line="+55"/>
        <source>Name</source>
        <translation>Название</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Who buys</source>
        <translation>Кто покупает</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Site</source>
        <translation>Сайт</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../views/accounts_view.py" line="+1"/>
        <location filename="../views/orders_view.py" line="+6"/>
        <location filename="../views/tasks_model.py" line="+77"/>
        <location filename="../views/to_buy.py" line="+4"/>
        <source>Status</source>
        <translation>Статус</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Accounts</source>
        <translation>Аккаунты</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Orders</source>
        <translation>Заказы</translation>
    </message>
    <message>
        <location filename="../views/accounts_view.py" line="+1"/>
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
        <location filename="../views/to_buy.py" line="+1"/>
        <source>Last error</source>
        <translation>Последняя ошибка</translation>
    </message>
    <message>
        <location filename="../dialogs/catalog.py" line="-189"/>
        <location line="+186"/>
        <source>Title</source>
        <translation>Название</translation>
    </message>
    <message>
        <location line="-183"/>
        <location filename="../dialogs/marketplaces.py" line="-5"/>
        <source>Code</source>
        <translation>Код</translation>
    </message>
    <message>
        <location line="+0"/>
        <location line="+185"/>
        <source>Address</source>
        <translation>Адрес</translation>
    </message>
    <message>
        <location line="-5"/>
        <location filename="../dialogs/orders_import.py" line="-8"/>
        <source>Row</source>
        <translation>Строка</translation>
    </message>
    <message>
        <location filename="../dialogs/orders_import.py" line="+1"/>
        <location filename="../views/orders_view.py" line="-7"/>
        <location filename="../views/to_buy.py" line="-38"/>
        <location line="+32"/>
        <source>Client</source>
        <translation>Клиент</translation>
    </message>
    <message>
        <location filename="../dialogs/catalog.py" line="-183"/>
        <location line="+185"/>
        <location filename="../dialogs/edit_lines.py" line="+47"/>
        <location filename="../dialogs/orders_import.py" line="+2"/>
        <location filename="../views/tasks_model.py" line="-3"/>
        <location filename="../views/to_buy.py" line="-30"/>
        <location line="+32"/>
        <source>Article</source>
        <translation>Артикул</translation>
    </message>
    <message>
        <location filename="../dialogs/orders_import.py" line="+1"/>
        <source>Qty</source>
        <translation>Кол-во</translation>
    </message>
    <message>
        <location filename="../dialogs/catalog.py" line="+2"/>
        <location filename="../dialogs/edit_lines.py" line="+1"/>
        <location filename="../dialogs/orders_import.py" line="+1"/>
        <location filename="../views/tasks_model.py" line="+2"/>
        <location filename="../views/to_buy.py" line="-31"/>
        <location line="+32"/>
        <source>Pickup point</source>
        <translation>ПВЗ</translation>
    </message>
    <message>
        <location filename="../dialogs/edit_lines.py" line="-2"/>
        <source>Line</source>
        <translation>Стр.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Bought</source>
        <translation>Куплено</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Quantity</source>
        <translation>Кол-во</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../dialogs/orders_import.py" line="+1"/>
        <source>Max price</source>
        <translation>Макс. цена</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Last failure</source>
        <translation>Последняя ошибка</translation>
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
        <location filename="../dialogs/edit_lines.py" line="-3"/>
        <location filename="../views/orders_view.py" line="+1"/>
        <source>Failed</source>
        <translation>Ошибки</translation>
    </message>
    <message>
        <location filename="../views/tasks_model.py" line="-1"/>
        <location filename="../views/to_buy.py" line="-36"/>
        <location line="+32"/>
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
        <location filename="../views/to_buy.py" line="-30"/>
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
    <message>
        <location filename="../views/to_buy.py" line="+3"/>
        <location line="+32"/>
        <source>Price cap</source>
        <translation>Макс. цена</translation>
    </message>
    <message>
        <location line="-31"/>
        <source>Taken by</source>
        <translation>Кто взял</translation>
    </message>
    <message>
        <location filename="../dialogs/workers.py" line="+54"/>
        <source>Host</source>
        <translation>Компьютер</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Process</source>
        <translation>Процесс</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Kind</source>
        <translation>Тип</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>State</source>
        <translation>Состояние</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Last heartbeat</source>
        <translation>Последний сигнал</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Started</source>
        <translation>Запущен</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Ended</source>
        <translation>Завершён</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Version</source>
        <translation>Версия</translation>
    </message>
</context>
<context>
    <name>ContextMenus</name>
    <message>
        <location filename="../window/context_menus.py" line="+130"/>
        <source>&amp;Open</source>
        <translation>&amp;Открыть</translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+19"/>
        <source>&amp;Copy</source>
        <translation>&amp;Копировать</translation>
    </message>
</context>
<context>
    <name>Crash</name>
    <message>
        <location filename="../dialogs/crash.py" line="+40"/>
        <source>the terminal (no log file could be opened)</source>
        <translation>терминал (не удалось открыть файл журнала)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Something went wrong while the console was starting: %1

The details are in the log: %2
Send that file along when you report the problem. The console will close.</source>
        <translation>При запуске консоли произошла ошибка: %1

Подробности записаны в журнал: %2
При сообщении о проблеме приложите этот файл. Консоль будет закрыта.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Something went wrong inside the console: %1

The details are in the log: %2
Send that file along when you report the problem. The console keeps running; if it misbehaves, restart it.</source>
        <translation>В консоли произошла ошибка: %1

Подробности записаны в журнал: %2
При сообщении о проблеме приложите этот файл. Консоль продолжает работать; если она работает некорректно, перезапустите её.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Unexpected error</source>
        <translation>Непредвиденная ошибка</translation>
    </message>
</context>
<context>
    <name>EditLinesDialog</name>
    <message>
        <location filename="../dialogs/edit_lines.py" line="+46"/>
        <source>Order #%1: lines</source>
        <translation>Заказ №%1: строки</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>A new price cap holds from the next purchase. A lower quantity cancels the units beyond it that are not bought or being bought; a higher one adds units.</source>
        <translation>Новая макс. цена действует со следующей покупки. Если уменьшить количество, лишние единицы, которые ещё не выкуплены и не выкупаются, отменяются; если увеличить — добавляются новые единицы.</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Save</source>
        <translation>Сохранить</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save and retry failed</source>
        <translation>Сохранить и повторить неудачные</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Save, then queue the order&apos;s failed units again with fresh attempts</source>
        <translation>Сохранить и снова поставить в очередь единицы заказа с ошибкой; попытки начнутся заново</translation>
    </message>
    <message>
        <location line="+43"/>
        <source>At least %1: bought or being bought</source>
        <translation>Не меньше %1: столько уже выкуплено или выкупается</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>no cap</source>
        <translation>не задана</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The most a unit may cost, in rubles; empty: no cap</source>
        <translation>Наибольшая цена за единицу в рублях; пусто — без ограничения</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Line %1, max price: %2</source>
        <translation>Строка %1, макс. цена: %2</translation>
    </message>
</context>
<context>
    <name>Engine</name>
    <message>
        <location filename="../../core/orders/imports.py" line="+224"/>
        <source>empty; fill in the client&apos;s name</source>
        <translation>пусто; укажите имя клиента</translation>
    </message>
    <message>
        <location filename="../../core/orders/spec.py" line="+46"/>
        <source>client</source>
        <translation>клиент</translation>
    </message>
    <message>
        <location filename="../../core/orders/catalog.py" line="+187"/>
        <source>&apos;{text}&apos;: pickup point {code} of {catalog} is at &apos;{address}&apos;; give its code alone, or its address as the catalog has it</source>
        <translation>«{text}»: пункт выдачи {code} ({catalog}) находится по адресу «{address}»; укажите только его код или адрес в точности как в каталоге</translation>
    </message>
    <message>
        <location line="+66"/>
        <source>&apos;{sku}&apos; is longer than {limit} characters</source>
        <translation>«{sku}» длиннее {limit} символов</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>&apos;{sku}&apos; does not look like a {name} article number (like {example})</source>
        <translation>«{sku}» не похож на артикул {name} (пример: {example})</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>&apos;{sku}&apos; does not look like a {name} article number</source>
        <translation>«{sku}» не похож на артикул {name}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>&apos;{text}&apos; matches several pickup points of {catalog} ({codes}); give its code</source>
        <translation>«{text}» подходит к нескольким пунктам выдачи {catalog} ({codes}); укажите код</translation>
    </message>
    <message>
        <location line="+28"/>
        <location filename="../../core/orders/spec.py" line="+1"/>
        <source>marketplace</source>
        <translation>маркетплейс</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>title</source>
        <translation>название</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>address</source>
        <translation>адрес</translation>
    </message>
    <message>
        <location line="+171"/>
        <location line="+53"/>
        <location line="+215"/>
        <source>longer than {limit} characters</source>
        <translation>длиннее {limit} символов</translation>
    </message>
    <message>
        <location line="-206"/>
        <source>empty; a title needs its article number</source>
        <translation>пусто; для названия нужен артикул</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>the row has no article and no pickup point; fill in one or both</source>
        <translation>в строке нет ни артикула, ни пункта выдачи; укажите одно или оба</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>empty; name the marketplace, or choose one for rows that name none</source>
        <translation>пусто; укажите маркетплейс или выберите его для строк, где он не указан</translation>
    </message>
    <message>
        <location line="+185"/>
        <source>the text {problem}</source>
        <translation>текст {problem}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>this entry is no longer in the catalog</source>
        <translation>этой записи больше нет в каталоге</translation>
    </message>
    <message>
        <location filename="../../core/orders/spec.py" line="+1"/>
        <source>lines</source>
        <translation>строки</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>batch size</source>
        <translation>размер партии</translation>
    </message>
    <message>
        <location filename="../../core/orders/catalog.py" line="-445"/>
        <location filename="../../core/orders/spec.py" line="+1"/>
        <source>article</source>
        <translation>артикул</translation>
    </message>
    <message>
        <location filename="../../core/orders/spec.py" line="+1"/>
        <source>quantity</source>
        <translation>количество</translation>
    </message>
    <message>
        <location filename="../../core/orders/catalog.py" line="+2"/>
        <location filename="../../core/orders/spec.py" line="+1"/>
        <source>pickup point</source>
        <translation>пункт выдачи</translation>
    </message>
    <message>
        <location filename="../../core/orders/spec.py" line="+1"/>
        <source>max unit price</source>
        <translation>макс. цена за шт.</translation>
    </message>
    <message>
        <location line="+92"/>
        <source>&apos;{value}&apos; is not an amount; enter rubles such as 1299.90</source>
        <translation>«{value}» — не сумма; введите рубли, например 1299,90</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&apos;{value}&apos; is not a positive amount; enter rubles such as 1299.90</source>
        <translation>«{value}» — не положительная сумма; введите рубли, например 1299,90</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>&apos;{value}&apos; has more than two decimals (kopecks)</source>
        <translation>в «{value}» больше двух знаков после запятой (копейки)</translation>
    </message>
    <message>
        <location line="-7"/>
        <source>&apos;{value}&apos; is too large for a unit price; check for a typo</source>
        <translation>«{value}» — слишком большая цена за штуку; проверьте, нет ли опечатки</translation>
    </message>
    <message>
        <location line="+17"/>
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
        <location filename="../../core/orders/validation.py" line="+42"/>
        <source>enter an article number</source>
        <translation>введите артикул</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>&apos;{sku}&apos; is not in {catalog}&apos;s catalog; check the number</source>
        <translation>артикула «{sku}» нет в каталоге {catalog}; проверьте номер</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>choose a pickup point</source>
        <translation>выберите пункт выдачи</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>&apos;{code}&apos; is not a pickup point of {catalog}</source>
        <translation>«{code}» — не пункт выдачи {catalog}</translation>
    </message>
    <message>
        <location line="+68"/>
        <source>enter the client&apos;s name</source>
        <translation>введите имя клиента</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>the order has no lines; add at least one</source>
        <translation>в заказе нет строк; добавьте хотя бы одну</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>must be at least 1 unit</source>
        <translation>должно быть не меньше 1 шт.</translation>
    </message>
    <message>
        <location filename="../../core/support/secrets.py" line="+425"/>
        <source>No OS keyring is available, so the key that encrypts account passwords and sessions is kept in {path} (readable by this user only). Back it up: without it the stored secrets cannot be read.</source>
        <translation>Хранилище ключей ОС недоступно, поэтому ключ, которым зашифрованы пароли и сессии аккаунтов, хранится в {path} (доступен только этому пользователю). Сделайте его резервную копию: без него сохранённые секреты не прочитать.</translation>
    </message>
    <message>
        <location filename="../../core/engine/assisted.py" line="+266"/>
        <source>nothing to buy: no unit of a running Order on a marketplace where a person buys is waiting</source>
        <translation>покупать нечего: в запущенных заказах на маркетплейсах, где покупает человек, нет ожидающих единиц</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>the waiting units are not due yet; the first one is due at {at}</source>
        <translation>срок ожидающих единиц ещё не наступил; первая будет доступна в {at}</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>no account may buy the waiting units now ({units} units): accounts are busy, resting after failures, at their daily limit or have bought a unit of the same line; import more accounts or wait</source>
        <translation>сейчас ни один аккаунт не может купить ожидающие единицы ({units} шт.): аккаунты заняты, на паузе после ошибок, исчерпали дневной лимит или уже купили единицу из той же строки; импортируйте ещё аккаунты или подождите</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>this unit is no longer in an operator&apos;s hands (recorded from another workstation?); nothing was changed</source>
        <translation>эта единица уже не в работе у оператора (записана с другого рабочего места?); ничего не изменено</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>enter the marketplace&apos;s order number for this unit</source>
        <translation>введите номер заказа на маркетплейсе для этой единицы</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>the order number is longer than 100 characters</source>
        <translation>номер заказа длиннее 100 символов</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>enter the price paid for the unit</source>
        <translation>введите цену покупки единицы</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>order number {number} is already recorded (unit {unit} of Order {order}); check the number</source>
        <translation>номер заказа {number} уже записан (единица {unit} заказа {order}); проверьте номер</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>the price paid, {price}, is above the line&apos;s cap of {cap}</source>
        <translation>цена покупки {price} выше макс. цены строки ({cap})</translation>
    </message>
    <message>
        <location line="+58"/>
        <source>say in the note why the unit was not bought</source>
        <translation>укажите в примечании, почему единица не куплена</translation>
    </message>
    <message>
        <location filename="../../core/engine/deliveries.py" line="+134"/>
        <source>field &apos;order number&apos; is empty</source>
        <translation>поле «Номер заказа» пустое</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>field &apos;status&apos;: &apos;{status}&apos; is not a delivery status this console knows (at the pickup point, in transit, ordered)</source>
        <translation>поле «Статус»: «{status}» — неизвестный статус доставки (допустимы: в пункте выдачи, в пути, оформлен)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>order {number} is already on row {row}</source>
        <translation>заказ {number} уже есть в строке {row}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>field &apos;order number&apos;: no bought unit with order number {number} is recorded here</source>
        <translation>поле «Номер заказа»: выкупленной единицы с номером заказа {number} здесь нет</translation>
    </message>
    <message>
        <location filename="../../core/orders/marketplaces.py" line="+71"/>
        <source>unknown preset &apos;{preset}&apos;; the presets are {names}</source>
        <translation>неизвестный шаблон «{preset}»; доступные шаблоны: {names}</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>code &apos;{code}&apos;: use 1-50 Latin letters, digits, &apos;-&apos; or &apos;_&apos; (like wb or ozon)</source>
        <translation>код «{code}»: используйте от 1 до 50 латинских букв, цифр, «-» или «_» (например, wb или ozon)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>enter the marketplace&apos;s name</source>
        <translation>введите название маркетплейса</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>kind &apos;{kind}&apos;: choose assisted or sandbox</source>
        <translation>тип «{kind}»: выберите assisted или sandbox</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>address &apos;{url}&apos;: enter the site&apos;s address, like https://www.ozon.ru</source>
        <translation>адрес «{url}»: введите адрес сайта, например https://www.ozon.ru</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>product page &apos;{url}&apos;: put {{article}} where the article number goes</source>
        <translation>страница товара «{url}»: поставьте {{article}} на место артикула</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>article format &apos;{pattern}&apos; is not a regular expression: {error}</source>
        <translation>формат артикула «{pattern}» — не регулярное выражение: {error}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>the example article &apos;{example}&apos; does not fit the article format</source>
        <translation>пример артикула «{example}» не соответствует формату артикула</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>currency &apos;{currency}&apos;: use a 3-letter code like RUB</source>
        <translation>валюта «{currency}»: укажите трёхбуквенный код, например RUB</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>a marketplace with the code &apos;{code}&apos; is already set up ({name})</source>
        <translation>маркетплейс с кодом «{code}» уже настроен ({name})</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>the name or alias &apos;{alias}&apos; is already {name}&apos;s; give this one another</source>
        <translation>название или псевдоним «{alias}» уже занят маркетплейсом {name}; укажите другой</translation>
    </message>
    <message>
        <location line="+24"/>
        <location line="+14"/>
        <source>this marketplace is no longer in the database</source>
        <translation>этого маркетплейса больше нет в базе данных</translation>
    </message>
    <message>
        <location filename="../../core/storage/markets.py" line="+64"/>
        <location filename="../engine_texts.py" line="+337"/>
        <source>unknown marketplace &apos;{given}&apos;: no marketplace is set up yet; add one in Marketplaces (or: main.py marketplaces add CODE --preset NAME)</source>
        <translation>неизвестный маркетплейс «{given}»: маркетплейсы ещё не настроены; добавьте маркетплейс в окне «Маркетплейсы» (или: main.py marketplaces add CODE --preset NAME)</translation>
    </message>
    <message>
        <location line="+11"/>
        <location filename="../engine_texts.py" line="+8"/>
        <source>&apos;{given}&apos; names more than one marketplace; use its code ({codes})</source>
        <translation>«{given}» подходит к нескольким маркетплейсам; укажите код ({codes})</translation>
    </message>
    <message>
        <location line="+10"/>
        <location filename="../engine_texts.py" line="+6"/>
        <source>&apos;{given}&apos; is {name}, which is not set up here; add it in Marketplaces (or: main.py marketplaces add {code} --preset {preset})</source>
        <translation>«{given}» — это {name}, он здесь не настроен; добавьте его в окне «Маркетплейсы» (или: main.py marketplaces add {code} --preset {preset})</translation>
    </message>
    <message>
        <location line="+11"/>
        <location filename="../engine_texts.py" line="+8"/>
        <source>unknown marketplace &apos;{given}&apos; (set up here: {codes}); add it in Marketplaces or give one of these</source>
        <translation>неизвестный маркетплейс «{given}» (настроены: {codes}); добавьте его в окне «Маркетплейсы» или укажите один из настроенных</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>marketplace {name} is disabled; enable it in Marketplaces to use it</source>
        <translation>маркетплейс {name} отключён; чтобы использовать его, включите его в окне «Маркетплейсы»</translation>
    </message>
    <message>
        <location filename="../../core/engine/commands.py" line="+284"/>
        <source>Order #{order} is cancelled: its lines cannot be changed any more.</source>
        <translation>Заказ №{order} отменён: его строки больше нельзя изменить.</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Order #{order} has no such line; nothing was changed.</source>
        <translation>В заказе №{order} нет такой строки; ничего не изменено.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Line {line}: the price cap must be a positive amount, or empty for no cap.</source>
        <translation>Строка {line}: макс. цена должна быть положительной суммой или пустой (без ограничения).</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Line {line}: {held} units are already bought or being bought, so the quantity cannot be less than {held} (got {quantity}).</source>
        <translation>Строка {line}: уже выкуплено или выкупается {held} шт., поэтому количество не может быть меньше {held} (указано {quantity}).</translation>
    </message>
</context>
<context>
    <name>EngineText</name>
    <message>
        <location filename="../engine_texts.py" line="-278"/>
        <source>cancelled by the operator before submitting</source>
        <translation>отменено оператором до оформления заказа</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>internal error: {0}</source>
        <translation>внутренняя ошибка: {0}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>gave up after {0} attempts with temporary errors ({1} attempts in all, counting re-runs after an account change or a restart): {2}</source>
        <translation>попытки исчерпаны: временных ошибок — {0} (всего попыток — {1}, считая повторы после смены аккаунта или перезапуска): {2}</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>gave up after {0} attempts: {1}</source>
        <translation>попытки исчерпаны ({0}): {1}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>temporary error {0} of {1}: {2}</source>
        <translation>временная ошибка {0} из {1}: {2}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{0}; the order may have been placed and the check failed ({1}): look at the account&apos;s order history</source>
        <translation>{0}; заказ мог быть оформлен, а проверить это не удалось ({1}): посмотрите историю заказов аккаунта</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>found in the order history after: {0}</source>
        <translation>найден в истории заказов после ошибки: {0}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no free account</source>
        <translation>нет свободного аккаунта</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>created</source>
        <translation>создана</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>order {0}</source>
        <translation>заказ {0}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>checked in the order history of {0} at {1}</source>
        <translation>проверено по истории заказов {0} на {1}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>checked in the order history of {0} at {1}; the shop&apos;s price is recorded, not the {2} typed</source>
        <translation>проверено по истории заказов {0} на {1}; записана цена магазина, а не введённая {2}</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>unchecked: the console cannot read {0}&apos;s orders</source>
        <translation>не проверено: консоль не читает заказы {0}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>order {0} is at the pickup point</source>
        <translation>заказ {0} в пункте выдачи</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>cancelled by the operator</source>
        <translation>отменено оператором</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>retry requested by the operator</source>
        <translation>повтор по запросу оператора</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{0} found no order; queued again</source>
        <translation>{0}: заказа нет; снова в очереди</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{0} recorded order {1} at {2} ({3})</source>
        <translation>{0}: записан заказ {1} за {2} ({3})</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>operator {0}</source>
        <translation>оператор {0}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>internal error ({0}); this is a defect of the console, the details are in the log {1}</source>
        <translation>внутренняя ошибка ({0}); это дефект консоли, подробности в журнале {1}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>the worker stopped before starting; back in the queue</source>
        <translation>обработчик остановился, не начав покупку; единица снова в очереди</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>after a restart the order history could not be checked ({0}); look at account {1}&apos;s orders for article {2} and record or retry</source>
        <translation>после перезапуска не удалось проверить историю заказов ({0}); посмотрите заказы аккаунта {1} по артикулу {2} и запишите покупку или повторите</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>no order on the marketplace after a restart; the unit is queued again</source>
        <translation>после перезапуска заказа на маркетплейсе нет; единица снова в очереди</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>order {0} found in the order history after a restart</source>
        <translation>заказ {0} найден в истории заказов после перезапуска</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>not placed: this worker had not reached the database for a while (its heartbeat was late), so another worker might have taken the unit over; queued again</source>
        <translation>не заказано: этот обработчик какое-то время не связывался с базой данных (его сигнал жизни запоздал), и единицу мог забрать другой обработчик; снова в очереди</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>This computer&apos;s clock is {0} s behind the database server&apos;s. The engine uses the server&apos;s time; set this computer&apos;s clock right (time sync).</source>
        <translation>Часы этого компьютера отстают от часов сервера базы данных на {0} с. Движок пользуется временем сервера; поправьте часы компьютера (синхронизация времени).</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>This computer&apos;s clock is {0} s ahead of the database server&apos;s. The engine uses the server&apos;s time; set this computer&apos;s clock right (time sync).</source>
        <translation>Часы этого компьютера спешат относительно часов сервера базы данных на {0} с. Движок пользуется временем сервера; поправьте часы компьютера (синхронизация времени).</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>This worker was taken for stopped (no heartbeat for a while: the computer slept or the database was out of reach), and its purchases were handed to other workers. It joins again as a new worker once the purchases it was making are recorded.</source>
        <translation>Этот обработчик признан остановленным (долго не было сигнала жизни: компьютер засыпал или база данных была недоступна), и его покупки переданы другим обработчикам. Он снова подключится как новый обработчик, когда покупки, которые он делал, будут записаны.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>taken by {0}</source>
        <translation>взята в работу: {0}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>bought by {0}: order {1}, {2}, above the cap of {3} (confirmed)</source>
        <translation>выкуплено ({0}): заказ {1}, {2}, выше макс. цены {3} (подтверждено)</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>bought by {0}: order {1}, {2}</source>
        <translation>выкуплено ({0}): заказ {1}, {2}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>not bought ({0}): {1}</source>
        <translation>не выкуплено ({0}): {1}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>out of stock</source>
        <translation>нет в наличии</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>out of stock: {0}</source>
        <translation>нет в наличии: {0}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the price is above the cap</source>
        <translation>цена выше макс. цены</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the price is above the cap: {0}</source>
        <translation>цена выше макс. цены: {0}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the account is blocked</source>
        <translation>аккаунт заблокирован</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the account is blocked: {0}</source>
        <translation>аккаунт заблокирован: {0}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>a problem with the account</source>
        <translation>проблема с аккаунтом</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>a problem with the account: {0}</source>
        <translation>проблема с аккаунтом: {0}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>could not buy: {0}</source>
        <translation>не удалось купить: {0}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>skipped by {0}; back in the queue</source>
        <translation>пропущено ({0}); снова в очереди</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>at the pickup point (marked by {0})</source>
        <translation>в пункте выдачи (отметил {0})</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Article {0} does not exist at {1}</source>
        <translation>Артикула {0} нет на {1}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The cart at {0} does not hold exactly one unit of {1} at checkout (another session may be using this account); nothing was ordered.</source>
        <translation>При оформлении в корзине на {0} не ровно одна единица {1} (возможно, аккаунтом пользуется другая сессия); ничего не заказано.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Pickup point {0} is not offered by {1} (it offers {2})</source>
        <translation>{1} не предлагает пункт выдачи {0} (есть: {2})</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{0} did not confirm the order (the browser landed on {1}); check the account&apos;s order history before retrying.</source>
        <translation>{0} не подтвердил заказ (браузер оказался на {1}); проверьте историю заказов аккаунта, прежде чем повторять.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>{0} did not answer within {1} s</source>
        <translation>{0} не ответил за {1} с</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The connection to {0} failed ({1})</source>
        <translation>Не удалось соединиться с {0} ({1})</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The browser closed or crashed; it is restarted for the next attempt</source>
        <translation>Браузер закрылся или упал; для следующей попытки он будет перезапущен</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The browser failed: {0}</source>
        <translation>Сбой браузера: {0}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{0} answered HTTP {1} on {2}</source>
        <translation>{0} ответил HTTP {1} на {2}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{0} answered HTTP {1} for {2}: this is not the {3} marketplace; check the marketplace&apos;s address</source>
        <translation>{0} ответил HTTP {1} на {2}: это не маркетплейс {3}; проверьте адрес маркетплейса</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>{0} answered {1} with a page of another site: this is not the {2} marketplace; check the marketplace&apos;s address</source>
        <translation>{0} ответил на {1} страницей другого сайта: это не маркетплейс {2}; проверьте адрес маркетплейса</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Account {0} is blocked at {1}</source>
        <translation>Аккаунт {0} заблокирован на {1}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{0} rejected the password of account {1}; correct it in the account pool</source>
        <translation>{0} не принял пароль аккаунта {1}; исправьте его в списке аккаунтов</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Article {0} costs {1} at {2} (the product page), above the order&apos;s cap of {3}</source>
        <translation>Артикул {0} стоит {1} на {2} (страница товара) — выше макс. цены заказа {3}</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Article {0} costs {1} at {2} (checkout), above the order&apos;s cap of {3}</source>
        <translation>Артикул {0} стоит {1} на {2} (оформление заказа) — выше макс. цены заказа {3}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Article {0} is out of stock at {1}</source>
        <translation>Артикула {0} нет в наличии на {1}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The session at {0} kept expiring; no order was confirmed</source>
        <translation>Сессия на {0} всё время истекала; заказ не подтверждён</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Article {0} costs {1}, above the cap of {2}</source>
        <translation>Артикул {0} стоит {1} — выше макс. цены {2}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>row {0}</source>
        <translation>строка {0}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>row {0} (header)</source>
        <translation>строка {0} (заголовок)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>field &apos;login&apos; is empty; fill in the account&apos;s login</source>
        <translation>поле «Логин» пустое; укажите логин аккаунта</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>field &apos;password&apos; is empty; a new account needs a password</source>
        <translation>поле «Пароль» пустое; новому аккаунту нужен пароль</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>field &apos;{0}&apos; is longer than {1} characters</source>
        <translation>поле «{0}» длиннее {1} символов</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>field &apos;{0}&apos;: &apos;{1}&apos; is not a whole number of purchases (leave it empty for no limit)</source>
        <translation>поле «{0}»: «{1}» — не целое число покупок (оставьте пустым, если лимита нет)</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>field &apos;{0}&apos;: {1}</source>
        <translation>поле «{0}»: {1}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>field &apos;{0}&apos; {1}</source>
        <translation>поле «{0}» {1}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>duplicate of {0} (same login)</source>
        <translation>повтор: {0} (тот же логин)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>already stored with the same values</source>
        <translation>уже сохранён с теми же значениями</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no login column: name the accounts&apos; column &apos;Логин&apos; or &apos;login&apos; (the header has: {0})</source>
        <translation>нет столбца с логином: назовите столбец аккаунтов «Логин» или «login» (в заголовке: {0})</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>not a UTF-8 text file; save it as UTF-8 JSON</source>
        <translation>не текстовый файл в UTF-8; сохраните его как JSON в UTF-8</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>invalid JSON: {0} at line {1}, column {2}</source>
        <translation>ошибка в JSON: {0} (строка {1}, столбец {2})</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>not a Playwright storage state (no &apos;cookies&apos; list)</source>
        <translation>не сохранённая сессия Playwright (нет списка «cookies»)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>not account files, left out: {0}</source>
        <translation>не файлы аккаунтов, пропущены: {0}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>login</source>
        <translation>Логин</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>password</source>
        <translation>Пароль</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>phone</source>
        <translation>Телефон</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>label</source>
        <translation>Метка</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>marketplace</source>
        <translation>Маркетплейс</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>daily limit</source>
        <translation>Лимит в день</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>session</source>
        <translation>Сессия</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>profile</source>
        <translation>Профиль</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>holds a control character ({0}), which no list has: the file is damaged or was not saved from a spreadsheet; export the list again</source>
        <translation>содержит управляющий символ ({0}), которого в списках не бывает: файл повреждён или сохранён не из электронной таблицы; выгрузите список заново</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>holds an invisible character ({0}) that makes it look like another value; type it again without it</source>
        <translation>содержит невидимый символ ({0}), из-за которого значение выглядит как другое; наберите его заново без этого символа</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>cannot read the file ({0})</source>
        <translation>не удаётся прочитать файл ({0})</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>the file is {0} MB, over the {1} MB limit; split it into smaller files</source>
        <translation>файл занимает {0} МБ — больше предела {1} МБ; разбейте его на файлы поменьше</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>the file is empty; export it again</source>
        <translation>файл пуст; выгрузите его заново</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>read as {0}, columns separated by &apos;tab&apos;</source>
        <translation>прочитан как {0}, столбцы разделены табуляцией</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>read as {0}, columns separated by {1}</source>
        <translation>прочитан как {0}, столбцы разделены знаком {1}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>UTF-8 with BOM</source>
        <translation>UTF-8 с BOM</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>cp1251 (Windows Cyrillic)</source>
        <translation>cp1251 (кириллица Windows)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>cp1252 (Windows Western)</source>
        <translation>cp1252 (западноевропейская Windows)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>column &apos;{0}&apos; is not used</source>
        <translation>столбец «{0}» не используется</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>read the first sheet, “{0}”</source>
        <translation>прочитан первый лист, «{0}»</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>row {0} taken as the header (the row above it left out)</source>
        <translation>строка {0} взята как заголовок (строка над ней пропущена)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>row {0} taken as the header (the {1} rows above it left out)</source>
        <translation>строка {0} взята как заголовок (строк над ней пропущено: {1})</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>row {0} left out: a totals row (“{1}”)</source>
        <translation>строка {0} пропущена: это строка итогов («{1}»)</translation>
    </message>
</context>
<context>
    <name>EntriesModel</name>
    <message>
        <location filename="../dialogs/catalog.py" line="-290"/>
        <source>Double-click or F2 to edit; saved when you press Enter</source>
        <translation>Двойной щелчок или F2 — изменить; сохраняется по Enter</translation>
    </message>
</context>
<context>
    <name>FieldError</name>
    <message>
        <location filename="../common.py" line="+288"/>
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
        <location line="+54"/>
        <source>Account list or storage state</source>
        <translation>Список аккаунтов или сохранённая сессия</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Folder of storage states or browser profiles</source>
        <translation>Папка с сохранёнными сессиями или профилями браузера</translation>
    </message>
    <message>
        <location filename="../dialogs/import_dialog.py" line="+53"/>
        <location line="+59"/>
        <source>Import</source>
        <translation>Импортировать</translation>
    </message>
    <message>
        <location line="-58"/>
        <source>All files (*)</source>
        <translation>Все файлы (*)</translation>
    </message>
    <message>
        <location line="+31"/>
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
        <location line="+95"/>
        <source>Reading %1…</source>
        <translation>Чтение %1…</translation>
    </message>
    <message>
        <location filename="../dialogs/orders_import.py" line="-23"/>
        <source>Order lists (*.csv *.xlsx *.xlsm *.txt *.tsv);;All files (*)</source>
        <translation>Списки заказов (*.csv *.xlsx *.xlsm *.txt *.tsv);;Все файлы (*)</translation>
    </message>
    <message>
        <location line="+82"/>
        <source>Order list</source>
        <translation>Список заказов</translation>
    </message>
    <message>
        <location filename="../dialogs/catalog.py" line="-27"/>
        <source>Catalog lists (*.csv *.xlsx *.xlsm *.txt *.tsv);;All files (*)</source>
        <translation>Списки каталога (*.csv *.xlsx *.xlsm *.txt *.tsv);;Все файлы (*)</translation>
    </message>
    <message>
        <location line="+361"/>
        <source>Catalog list</source>
        <translation>Список каталога</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../app.py" line="+277"/>
        <location filename="../window/main_window.py" line="+149"/>
        <source>Buyback console</source>
        <translation>Консоль выкупов</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The console will close.</source>
        <translation>Консоль будет закрыта.</translation>
    </message>
    <message>
        <location filename="../window/main_window.py" line="+48"/>
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
        <source>Edit &amp;lines…</source>
        <translation>&amp;Изменить строки…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Change the selected order&apos;s price caps and quantities, and retry its failed units</source>
        <translation>Изменить макс. цены и количество в строках выбранного заказа и повторить единицы с ошибкой</translation>
    </message>
    <message>
        <location line="+6"/>
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
        <source>T&amp;o buy</source>
        <translation>&amp;Купить</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show the units a person buys</source>
        <translation>Показать единицы, которые покупаются вручную</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Take next unit</source>
        <translation>Взять &amp;следующую единицу</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Lease an account for the next unit to buy by hand and open its browser</source>
        <translation>Выделить аккаунт для следующей единицы, покупаемой вручную, и открыть его браузер</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Mark &amp;arrived</source>
        <translation>От&amp;метить прибытие в ПВЗ</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The selected bought units are at their pickup points</source>
        <translation>Выбранные выкупленные единицы прибыли в пункты выдачи</translation>
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
        <source>&amp;Workers…</source>
        <translation>&amp;Обработчики…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Every console and headless worker on this database, and its state</source>
        <translation>Все консоли и фоновые обработчики этой базы данных и их состояние</translation>
    </message>
    <message>
        <location line="+5"/>
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
        <source>&amp;Marketplaces…</source>
        <translation>&amp;Маркетплейсы…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Add, change, enable or disable marketplaces</source>
        <translation>Добавить, изменить, включить или отключить маркетплейсы</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Catalog…</source>
        <translation>&amp;Каталог…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Articles and pickup points of each marketplace</source>
        <translation>Артикулы и пункты выдачи каждого маркетплейса</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Import &amp;deliveries…</source>
        <translation>Импорт &amp;доставок…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Mark units arrived from a list of order numbers and statuses</source>
        <translation>Отметить прибытие единиц по списку номеров заказов и статусов</translation>
    </message>
    <message>
        <location line="+5"/>
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
        <location line="+14"/>
        <source>&amp;Order</source>
        <translation>&amp;Заказ</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>&amp;View</source>
        <translation>&amp;Вид</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Help</source>
        <translation>&amp;Справка</translation>
    </message>
    <message>
        <location line="-38"/>
        <source>&amp;About</source>
        <translation>&amp;О программе</translation>
    </message>
    <message>
        <location line="+89"/>
        <source>Main</source>
        <translation>Основная</translation>
    </message>
    <message>
        <location filename="../window/main_window.py" line="+204"/>
        <source>All orders: running %1 · queued %2 · purchased %3 · failed %4</source>
        <translation>Все заказы: выполняется %1 · в очереди %2 · выкуплено %3 · ошибок %4</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>%1 purchases/min</source>
        <translation>Покупок/мин: %1</translation>
    </message>
    <message>
        <location line="+82"/>
        <source>New order</source>
        <translation>Новый заказ</translation>
    </message>
    <message>
        <location line="-290"/>
        <source>To buy</source>
        <translation>Купить</translation>
    </message>
    <message>
        <location line="+292"/>
        <source>No marketplace is set up yet: add one in %1 first.</source>
        <translation>Маркетплейсы ещё не настроены. Сначала откройте %1 и добавьте маркетплейс.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Open Marketplaces…</source>
        <translation>Открыть «Маркетплейсы»…</translation>
    </message>
    <message>
        <location line="+43"/>
        <location line="+27"/>
        <source>Import deliveries</source>
        <translation>Импорт доставок</translation>
    </message>
    <message>
        <location line="-26"/>
        <source>Lists (*.csv *.xlsx *.txt);;All files (*)</source>
        <translation>Списки (*.csv *.xlsx *.txt);;Все файлы (*)</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Row %1: %2</source>
        <translation>Строка %1: %2</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Record</source>
        <translation>Записать</translation>
    </message>
    <message>
        <location line="-14"/>
        <source>%1: %2, %3, %4, %5.</source>
        <translation>%1: %2, %3, %4, %5.</translation>
    </message>
    <message>
        <location line="-406"/>
        <source>Opening the database…</source>
        <translation>Открывается база данных…</translation>
    </message>
    <message numerus="yes">
        <location line="+408"/>
        <source>%Ln unit(s) at the pickup point</source>
        <translation>
            <numerusform>%Ln шт. в пункте выдачи</numerusform>
            <numerusform>%Ln шт. в пункте выдачи</numerusform>
            <numerusform>%Ln шт. в пункте выдачи</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%Ln with a new status</source>
        <translation>
            <numerusform>%Ln с новым статусом</numerusform>
            <numerusform>%Ln с новым статусом</numerusform>
            <numerusform>%Ln с новым статусом</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%Ln unchanged</source>
        <translation>
            <numerusform>%Ln без изменений</numerusform>
            <numerusform>%Ln без изменений</numerusform>
            <numerusform>%Ln без изменений</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%Ln row(s) left out</source>
        <translation>
            <numerusform>%Ln строка пропущена</numerusform>
            <numerusform>%Ln строки пропущены</numerusform>
            <numerusform>%Ln строк пропущено</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+18"/>
        <source>%Ln unit(s) marked at the pickup point</source>
        <translation>
            <numerusform>Прибытие в ПВЗ отмечено: %Ln единица</numerusform>
            <numerusform>Прибытие в ПВЗ отмечено: %Ln единицы</numerusform>
            <numerusform>Прибытие в ПВЗ отмечено: %Ln единиц</numerusform>
        </translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Order #%1 created</source>
        <translation>Заказ №%1 создан</translation>
    </message>
    <message>
        <location line="+42"/>
        <location line="+26"/>
        <source>Export report</source>
        <translation>Экспорт отчёта</translation>
    </message>
    <message>
        <location line="-24"/>
        <source>Excel workbook (*.xlsx);;CSV for Excel (*.csv)</source>
        <translation>Книга Excel (*.xlsx);;CSV для Excel (*.csv)</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Order #%1&apos;s report (%2 units) saved to %3</source>
        <translation>Отчёт по заказу №%1 (%2 шт.) сохранён в %3</translation>
    </message>
    <message>
        <location line="+66"/>
        <source>Select the bought units that arrived in the Tasks list first.</source>
        <translation>Сначала выберите в списке «Задачи» выкупленные единицы, которые прибыли.</translation>
    </message>
    <message numerus="yes">
        <location line="+6"/>
        <source>%1 of %Ln selected unit(s) marked at the pickup point</source>
        <translation>
            <numerusform>Прибытие в ПВЗ отмечено: %1 из %Ln выбранной единицы</numerusform>
            <numerusform>Прибытие в ПВЗ отмечено: %1 из %Ln выбранных единиц</numerusform>
            <numerusform>Прибытие в ПВЗ отмечено: %1 из %Ln выбранных единиц</numerusform>
        </translation>
    </message>
    <message>
        <location line="+81"/>
        <location line="+13"/>
        <source>Quit</source>
        <translation>Выйти</translation>
    </message>
    <message>
        <location line="-10"/>
        <source>%1 purchases are running. They finish and are recorded before the console closes; it waits for them at most %2 seconds. Units not started stay queued for the next start.

Quit when they finish?</source>
        <translation>Выполняется покупок: %1. Они будут завершены и записаны до закрытия консоли; консоль ждёт их не дольше %2 с. Не начатые единицы останутся в очереди до следующего запуска.

Выйти, когда покупки завершатся?</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>Closing: waiting for %1 running purchases to be recorded (%2 s)…</source>
        <translation>Закрытие: ожидание записи выполняющихся покупок (%1), осталось %2 с…</translation>
    </message>
    <message>
        <location line="-95"/>
        <source>About</source>
        <translation>О программе</translation>
    </message>
    <message numerus="yes">
        <location line="-146"/>
        <source>Imported %Ln order(s): %1</source>
        <translation>
            <numerusform>Импортировано заказов: %Ln — %1</numerusform>
            <numerusform>Импортировано заказов: %Ln — %1</numerusform>
            <numerusform>Импортировано заказов: %Ln — %1</numerusform>
        </translation>
    </message>
    <message>
        <location line="+149"/>
        <source>Buyback console: clients&apos; orders into finished, tracked purchases.
Database: %1</source>
        <translation>Консоль выкупов: от заказов клиентов до выполненных и отслеживаемых покупок.
База данных: %1</translation>
    </message>
</context>
<context>
    <name>Marketplaces</name>
    <message>
        <location filename="../dialogs/marketplaces.py" line="+9"/>
        <source>a person, in a browser</source>
        <translation>человек, в браузере</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>automatic (bundled sandbox)</source>
        <translation>автоматически (встроенная песочница)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>automatic (test shop)</source>
        <translation>автоматически (тестовый магазин)</translation>
    </message>
</context>
<context>
    <name>MarketplacesDialog</name>
    <message>
        <location line="+75"/>
        <source>Marketplaces</source>
        <translation>Маркетплейсы</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Add…</source>
        <translation>Добавить…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Edit…</source>
        <translation>Изменить…</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+144"/>
        <source>Disable</source>
        <translation>Отключить</translation>
    </message>
    <message>
        <location line="-114"/>
        <source>Other (type its settings)</source>
        <translation>Другой (ввести настройки вручную)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Fills the fields below; change any of them.</source>
        <translation>Заполняет поля ниже; любое из них можно изменить.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Latin letters, like wb or ozon</source>
        <translation>Латинские буквы, например wb или ozon</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Put {article} where the article number goes</source>
        <translation>Поставьте {article} на место артикула</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Any: the catalog decides</source>
        <translation>Любой: решает каталог</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A regular expression every article number matches, like \d{6,12}</source>
        <translation>Регулярное выражение, которому соответствует каждый артикул, например \d{6,12}</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Other names in files, comma-separated</source>
        <translation>Другие названия в файлах, через запятую</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Preset:</source>
        <translation>Шаблон:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Code:</source>
        <translation>Код:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Name:</source>
        <translation>Название:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Who buys:</source>
        <translation>Кто покупает:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Site address:</source>
        <translation>Адрес сайта:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Product page:</source>
        <translation>Страница товара:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Article format:</source>
        <translation>Формат артикула:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Example article:</source>
        <translation>Пример артикула:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Currency:</source>
        <translation>Валюта:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Aliases:</source>
        <translation>Псевдонимы:</translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+103"/>
        <source>Add marketplace</source>
        <translation>Добавить маркетплейс</translation>
    </message>
    <message>
        <location line="-101"/>
        <source>Cancel</source>
        <translation>Отмена</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>Enable</source>
        <translation>Включить</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Take no new orders or accounts for it; its orders go on</source>
        <translation>Не принимать для него новые заказы и аккаунты; текущие заказы продолжатся</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Take new orders and accounts for it again</source>
        <translation>Снова принимать для него новые заказы и аккаунты</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>%1 is enabled.</source>
        <translation>Маркетплейс %1 включён.</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>%1 is disabled.</source>
        <translation>Маркетплейс %1 отключён.</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>New marketplace</source>
        <translation>Новый маркетплейс</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>A short code files and the command line use</source>
        <translation>Короткий код для файлов и командной строки</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Edit %1</source>
        <translation>Изменение: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save changes</source>
        <translation>Сохранить изменения</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The code stays: files and other computers use it</source>
        <translation>Код не меняется: его используют файлы и другие компьютеры</translation>
    </message>
    <message>
        <location line="+80"/>
        <source>%1 added.</source>
        <translation>Маркетплейс %1 добавлен.</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>%1 saved.</source>
        <translation>Маркетплейс %1 сохранён.</translation>
    </message>
</context>
<context>
    <name>MarketplacesModel</name>
    <message>
        <location line="-358"/>
        <source>enabled</source>
        <translation>включён</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>disabled</source>
        <translation>отключён</translation>
    </message>
</context>
<context>
    <name>NewOrderDialog</name>
    <message>
        <location filename="../dialogs/new_order.py" line="+210"/>
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
        <location line="+6"/>
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
        <location line="+2"/>
        <source>new article</source>
        <translation>новый артикул</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>new pickup point</source>
        <translation>новый пункт выдачи</translation>
    </message>
    <message>
        <location line="+140"/>
        <source>New: not in %1&apos;s catalog yet; the order adds it</source>
        <translation>Новый: пока нет в каталоге %1; заказ добавит его</translation>
    </message>
    <message>
        <location line="+30"/>
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
    <name>NotBoughtDialog</name>
    <message>
        <location filename="../views/to_buy.py" line="+358"/>
        <source>Out of stock</source>
        <translation>Нет в наличии</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+5"/>
        <location line="+17"/>
        <source>the unit fails</source>
        <translation>единица получит статус «ошибка»</translation>
    </message>
    <message>
        <location line="-18"/>
        <source>Price above the cap</source>
        <translation>Цена выше максимальной</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>A problem with the account</source>
        <translation>Проблема с аккаунтом</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the account rests; the unit goes back to the queue</source>
        <translation>аккаунт уходит на паузу; единица возвращается в очередь</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The account is blocked</source>
        <translation>Аккаунт заблокирован</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>the account leaves the pool; the unit goes back to the queue</source>
        <translation>аккаунт выводится из работы; единица возвращается в очередь</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Other (say why in the note)</source>
        <translation>Другое (укажите причину в примечании)</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Could not buy</source>
        <translation>Не удалось купить</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>What the marketplace said</source>
        <translation>Что ответил маркетплейс</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Record</source>
        <translation>Записать</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Note:</source>
        <translation>Примечание:</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Task %1, article %2, account %3:</source>
        <translation>Задача %1, артикул %2, аккаунт %3:</translation>
    </message>
</context>
<context>
    <name>NoticeArea</name>
    <message>
        <location filename="../window/notices.py" line="+81"/>
        <source>Dismiss</source>
        <translation>Скрыть</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Hide these notifications</source>
        <translation>Скрыть эти уведомления</translation>
    </message>
</context>
<context>
    <name>Notices</name>
    <message>
        <location line="+112"/>
        <location line="+15"/>
        <source>Engine</source>
        <translation>Движок</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Order failed</source>
        <translation>Заказ не выполнен</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Order finished</source>
        <translation>Заказ завершён</translation>
    </message>
    <message>
        <location line="-7"/>
        <source>Order #%1 for %2 failed: %3 of %4 units bought; it needs attention.</source>
        <translation>Заказ №%1 для %2 не выполнен: выкуплено %3 из %4 шт.; требуется вмешательство.</translation>
    </message>
    <message>
        <location line="-44"/>
        <source>Secrets key</source>
        <translation>Ключ шифрования</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>Order partly bought</source>
        <translation>Заказ выкуплен частично</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Order #%1 for %2 is partly bought: %3 of %4 units bought; the rest need attention.</source>
        <translation>Заказ №%1 для %2 выкуплен частично: выкуплено %3 из %4 шт.; остальные требуют вмешательства.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Order #%1 for %2 is %5: %3 of %4 units bought.</source>
        <translation>Заказ №%1 для %2 — %5: %3 из %4 шт.</translation>
    </message>
    <message>
        <location line="+6"/>
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
        <location filename="../window/order_commands.py" line="+61"/>
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
    <message>
        <location line="+21"/>
        <source>Order #%1&apos;s lines saved; %2 failed units queued again</source>
        <translation>Строки заказа №%1 сохранены; единиц с ошибкой снова в очереди: %2</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Order #%1&apos;s lines saved</source>
        <translation>Строки заказа №%1 сохранены</translation>
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
        <location line="+14"/>
        <source>%1, %2 to create.</source>
        <translation>Будет создано: %1, %2.</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%Ln order(s)</source>
        <translation>
            <numerusform>%Ln заказ</numerusform>
            <numerusform>%Ln заказа</numerusform>
            <numerusform>%Ln заказов</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%Ln unit(s)</source>
        <translation>
            <numerusform>%Ln единица</numerusform>
            <numerusform>%Ln единицы</numerusform>
            <numerusform>%Ln единиц</numerusform>
        </translation>
    </message>
    <message>
        <location line="+5"/>
        <source>New in the catalog: %1, %2.</source>
        <translation>Новое в каталоге: %1, %2.</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%Ln article(s)</source>
        <translation>
            <numerusform>%Ln артикул</numerusform>
            <numerusform>%Ln артикула</numerusform>
            <numerusform>%Ln артикулов</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%Ln pickup point(s)</source>
        <translation>
            <numerusform>%Ln пункт выдачи</numerusform>
            <numerusform>%Ln пункта выдачи</numerusform>
            <numerusform>%Ln пунктов выдачи</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+6"/>
        <source>%Ln row(s) with errors; nothing will be imported until the list is fixed.</source>
        <translation>
            <numerusform>%Ln строка с ошибками; ничего не будет импортировано, пока список не исправлен.</numerusform>
            <numerusform>%Ln строки с ошибками; ничего не будет импортировано, пока список не исправлен.</numerusform>
            <numerusform>%Ln строк с ошибками; ничего не будет импортировано, пока список не исправлен.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>OrderPlanModel</name>
    <message>
        <location line="-90"/>
        <source>order %1, line %2</source>
        <translation>заказ %1, строка %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>error</source>
        <translation>ошибка</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>New: not in the marketplace&apos;s catalog yet; the import adds it</source>
        <translation>Новый: пока нет в каталоге маркетплейса; импорт добавит его</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>new article</source>
        <translation>новый артикул</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>new pickup point</source>
        <translation>новый пункт выдачи</translation>
    </message>
</context>
<context>
    <name>OrdersModel</name>
    <message>
        <location filename="../views/orders_view.py" line="+56"/>
        <source>%1 of %2 units bought</source>
        <translation>%1 из %2 шт. выкуплено</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1 of %2 units delivered to the pickup point</source>
        <translation>%1 из %2 шт. доставлено в ПВЗ</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Units failed: %1</source>
        <translation>Единиц с ошибкой: %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Units to review: %1</source>
        <translation>Единиц на проверке: %1</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>%1: cannot start: %2</source>
        <translation>%1: запуск невозможен: %2</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>%1 review</source>
        <translation>%1 на проверке</translation>
    </message>
</context>
<context>
    <name>PlanModel</name>
    <message>
        <location filename="../dialogs/accounts_import.py" line="-67"/>
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
    <name>RecordPurchaseDialog</name>
    <message>
        <location filename="../views/tasks_view.py" line="+229"/>
        <source>Record the purchase</source>
        <translation>Отметить покупку</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>as in the account&apos;s order history</source>
        <translation>как в истории заказов аккаунта</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>e.g. 1 299,00</source>
        <translation>напр. 1 299,00</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Record</source>
        <translation>Записать</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Marketplace order number:</source>
        <translation>Номер заказа на площадке:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Price paid, ₽:</source>
        <translation>Цена покупки, ₽:</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Enter the order number as the account&apos;s order history shows it.</source>
        <translation>Введите номер заказа так, как он указан в истории заказов аккаунта.</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Price paid: %1</source>
        <translation>Цена покупки: %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Enter the price paid, in rubles (e.g. 1 299,00).</source>
        <translation>Введите цену покупки в рублях (например, 1 299,00).</translation>
    </message>
    <message>
        <location line="+67"/>
        <source>Checking and recording the order…</source>
        <translation>Проверка и запись заказа…</translation>
    </message>
    <message>
        <location line="-30"/>
        <source>Price above the cap</source>
        <translation>Цена выше максимальной</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1. Record the purchase at this price anyway?</source>
        <translation>%1. Всё равно записать покупку по этой цене?</translation>
    </message>
</context>
<context>
    <name>Report</name>
    <message>
        <location filename="../../core/orders/report.py" line="+34"/>
        <source>Order</source>
        <translation>Заказ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Client</source>
        <translation>Клиент</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Line</source>
        <translation>Строка</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Article</source>
        <translation>Артикул</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Title</source>
        <translation>Название</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Account</source>
        <translation>Аккаунт</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pickup point</source>
        <translation>ПВЗ</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Marketplace order</source>
        <translation>№ заказа на площадке</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Price, ₽</source>
        <translation>Цена, ₽</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Status</source>
        <translation>Статус</translation>
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
        <source>Failure reason</source>
        <translation>Причина ошибки</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../dialogs/settings.py" line="+39"/>
        <source>As the system</source>
        <translation>Как в системе</translation>
    </message>
    <message>
        <location line="+80"/>
        <source>Settings</source>
        <translation>Настройки</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Browse…</source>
        <translation>Обзор…</translation>
    </message>
    <message>
        <location line="+48"/>
        <source>Purchases at once:</source>
        <translation>Покупок одновременно:</translation>
    </message>
    <message>
        <location line="-31"/>
        <source>Open</source>
        <translation>Открыть</translation>
    </message>
    <message>
        <location line="-21"/>
        <source>Found: %1</source>
        <translation>Найден: %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>None found: choose Chromium, Chrome or Edge</source>
        <translation>Браузер не найден: выберите Chromium, Chrome или Edge</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>This computer&apos;s own database file</source>
        <translation>Собственный файл базы этого компьютера</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>A team&apos;s server: postgresql+psycopg://user:password@host/name. Empty: this computer&apos;s own database file. --db and BUYBACK_DB win over it.</source>
        <translation>Сервер команды: postgresql+psycopg://пользователь:пароль@хост/имя. Пусто — собственный файл базы этого компьютера. --db и BUYBACK_DB важнее этой настройки.</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Browser:</source>
        <translation>Браузер:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Data folder:</source>
        <translation>Папка данных:</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Database:</source>
        <translation>База данных:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Language:</source>
        <translation>Язык:</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The language changes at once; browser, concurrency and database at the next start of the console.</source>
        <translation>Язык меняется сразу; браузер, число одновременных покупок и база данных — при следующем запуске консоли.</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>No such file: purchases could not start.</source>
        <translation>Файл не найден: покупки не запустятся.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Purchases cannot start: install Chromium, Chrome or Edge.</source>
        <translation>Покупки не запустятся: установите Chromium, Chrome или Edge.</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Chrome, Chromium or Edge</source>
        <translation>Chrome, Chromium или Edge</translation>
    </message>
</context>
<context>
    <name>Status</name>
    <message>
        <location filename="../../core/orders/report.py" line="+4"/>
        <location filename="../common.py" line="-67"/>
        <source>pending</source>
        <translation>ожидает</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../common.py" line="+1"/>
        <source>waiting for account</source>
        <translation>ждёт аккаунт</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../common.py" line="+1"/>
        <source>assigned</source>
        <translation>назначена</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../common.py" line="+1"/>
        <source>running</source>
        <translation>выполняется</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../common.py" line="+1"/>
        <source>submitting</source>
        <translation>оформляется</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../common.py" line="+1"/>
        <source>purchased</source>
        <translation>выкуплено</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../common.py" line="+1"/>
        <source>delivered</source>
        <translation>доставлено</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../common.py" line="+1"/>
        <source>retry wait</source>
        <translation>повтор позже</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../common.py" line="+1"/>
        <source>failed</source>
        <translation>ошибка</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../common.py" line="+1"/>
        <source>cancelled</source>
        <translation>отменено</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../common.py" line="+1"/>
        <source>needs review</source>
        <translation>на проверке</translation>
    </message>
    <message>
        <location filename="../common.py" line="+2"/>
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
        <location line="+1"/>
        <source>partly bought</source>
        <translation>выкуплено частично</translation>
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
        <location filename="../views/tasks_view.py" line="+62"/>
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
        <location line="+6"/>
        <source>Not bought: queue again</source>
        <translation>Не выкуплено: вернуть в очередь</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>History</source>
        <translation>История</translation>
    </message>
    <message>
        <location line="-23"/>
        <source>The order is in the account&apos;s history: record its number and price</source>
        <translation>Заказ есть в истории аккаунта: запишите его номер и цену</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Open account in browser</source>
        <translation>Открыть аккаунт в браузере</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The account&apos;s own browser profile, to look at its orders</source>
        <translation>Собственный профиль браузера аккаунта — чтобы посмотреть его заказы</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>Review</source>
        <translation>Проверка</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>This task no longer exists.</source>
        <translation>Задача больше не существует.</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Status:</source>
        <translation>Статус:</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Next try:</source>
        <translation>Следующая попытка:</translation>
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
    <message>
        <location line="+19"/>
        <source>The screenshot is on computer %1: %2</source>
        <translation>Снимок экрана — на компьютере %1: %2</translation>
    </message>
</context>
<context>
    <name>TasksModel</name>
    <message>
        <location filename="../views/tasks_model.py" line="+52"/>
        <source>retry at %1</source>
        <translation>повтор в %1</translation>
    </message>
</context>
<context>
    <name>TasksView</name>
    <message>
        <location filename="../views/tasks_view.py" line="-419"/>
        <location line="+89"/>
        <source>All orders</source>
        <translation>Все заказы</translation>
    </message>
    <message>
        <location line="-87"/>
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
        <location line="+83"/>
        <source>%n task(s)</source>
        <translation>
            <numerusform>%n задача</numerusform>
            <numerusform>%n задачи</numerusform>
            <numerusform>%n задач</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ToBuyView</name>
    <message>
        <location filename="../views/to_buy.py" line="-325"/>
        <source>Take the next unit (Ctrl+T)</source>
        <translation>Взять следующую единицу (Ctrl+T)</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Open browser</source>
        <translation>Открыть браузер</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Copy page address</source>
        <translation>Копировать адрес страницы</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Bought…</source>
        <translation>Выкуплено…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Could not buy…</source>
        <translation>Не удалось купить…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Skip</source>
        <translation>Пропустить</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Back to the queue; the account is released</source>
        <translation>Вернуть в очередь; аккаунт освобождается</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>In hand</source>
        <translation>В работе</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Waiting</source>
        <translation>Ожидают</translation>
    </message>
    <message>
        <location line="+75"/>
        <source>Take the next unit: the console leases an account for it and opens that account&apos;s browser profile on the product page.</source>
        <translation>Возьмите следующую единицу: консоль выделит для неё аккаунт и откроет профиль браузера этого аккаунта на странице товара.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Account: %1</source>
        <translation>Аккаунт: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Article: %1 %2</source>
        <translation>Артикул: %1 %2</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Product page: %1</source>
        <translation>Страница товара: %1</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Price cap: %1</source>
        <translation>Макс. цена: %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Order #%1 for %2 on %3</source>
        <translation>Заказ №%1 для %2, маркетплейс %3</translation>
    </message>
    <message>
        <location line="+64"/>
        <source>The browser did not open: %1</source>
        <translation>Браузер не открылся: %1</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The product page&apos;s address is on the clipboard.</source>
        <translation>Адрес страницы товара скопирован в буфер обмена.</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Recorded as bought.</source>
        <translation>Отмечено как выкупленное.</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Recorded as not bought.</source>
        <translation>Отмечено как невыкупленное.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Back in the queue.</source>
        <translation>Возвращено в очередь.</translation>
    </message>
    <message>
        <location line="-98"/>
        <source>Pickup point (choose it at checkout): %1</source>
        <translation>Пункт выдачи (выберите при оформлении): %1</translation>
    </message>
    <message numerus="yes">
        <location line="-39"/>
        <source>%Ln unit(s) waiting · %1 in hand</source>
        <translation>
            <numerusform>Ожидают: %Ln шт. · в работе: %1</numerusform>
            <numerusform>Ожидают: %Ln шт. · в работе: %1</numerusform>
            <numerusform>Ожидают: %Ln шт. · в работе: %1</numerusform>
        </translation>
    </message>
    <message>
        <location line="+68"/>
        <source>Task %1 is in your hands with account %2.</source>
        <translation>Задача %1 у вас в работе, аккаунт %2.</translation>
    </message>
</context>
<context>
    <name>WelcomePanel</name>
    <message>
        <location filename="../views/welcome.py" line="+80"/>
        <source>Nothing is set up yet</source>
        <translation>Пока ничего не настроено</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The console buys clients&apos; orders on marketplaces with your buyer accounts. Begin with one of these:</source>
        <translation>Консоль выкупает заказы клиентов на маркетплейсах с ваших аккаунтов покупателей. Начните с одного из вариантов:</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Add a marketplace…</source>
        <translation>Добавить маркетплейс…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Import accounts…</source>
        <translation>Импорт аккаунтов…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Try the demo on the bundled sandbox</source>
        <translation>Попробовать демо в песочнице</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Wildberries, Ozon, Yandex Market or another shop: choose a preset, check its settings, save.</source>
        <translation>Wildberries, Ozon, Яндекс Маркет или другой магазин: выберите шаблон, проверьте настройки и сохраните.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Buyer accounts from a CSV/XLSX list, saved sessions or browser profiles; each names its marketplace, so add that first.</source>
        <translation>Аккаунты покупателей из списка CSV/XLSX, сохранённых сессий или профилей браузера; у каждого указан маркетплейс, поэтому сначала добавьте его.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Opens a second console that buys a sample order on a local test shop, with a database of its own: yours stays clean.</source>
        <translation>Открывает вторую консоль с собственной базой данных, которая выкупает пример заказа в локальном тестовом магазине: ваша база останется чистой.</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Later, %1 adds or changes marketplaces.</source>
        <translation>Позже через %1 можно добавлять и изменять маркетплейсы.</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>The demo opens in a window of its own in a few seconds.</source>
        <translation>Демо откроется в отдельном окне через несколько секунд.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The demo could not start: %1 was not found or cannot run.</source>
        <translation>Не удалось запустить демо: %1 не найден или не запускается.</translation>
    </message>
</context>
<context>
    <name>Workers</name>
    <message>
        <location filename="../dialogs/workers.py" line="+3"/>
        <source>console</source>
        <translation>консоль</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>worker (no window)</source>
        <translation>обработчик (без окна)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>run command</source>
        <translation>команда run</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>alive</source>
        <translation>на связи</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>silent</source>
        <translation>не отвечает</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stopped</source>
        <translation>остановлен</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>rescued</source>
        <translation>признан упавшим</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>%1 d ago</source>
        <translation>%1 дн. назад</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 h ago</source>
        <translation>%1 ч назад</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 min ago</source>
        <translation>%1 мин назад</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 s ago</source>
        <translation>%1 с назад</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Writes its heartbeat every %1 s</source>
        <translation>Подаёт сигнал каждые %1 с</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>No heartbeat for a while: busy, cut off or gone. After %1 s of silence another worker takes it for dead and hands its work on.</source>
        <translation>Давно не подаёт сигнал: занят, потерял связь или завершился. После %1 с молчания другой обработчик признаёт его упавшим и забирает его работу.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Stopped cleanly: its purchases under way were finished and recorded</source>
        <translation>Остановлен штатно: начатые покупки завершены и записаны</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Taken for dead; %1 handed its work on</source>
        <translation>Признан упавшим; его работу забрал %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>another worker</source>
        <translation>другой обработчик</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>this console</source>
        <translation>эта консоль</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Worker %1</source>
        <translation>Обработчик %1</translation>
    </message>
</context>
<context>
    <name>WorkersDialog</name>
    <message>
        <location line="+44"/>
        <source>Workers</source>
        <translation>Обработчики</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Every console and headless worker on this database. A worker writes its heartbeat every few seconds; one silent too long is taken for dead and its work is handed on to the others.</source>
        <translation>Все консоли и фоновые обработчики этой базы данных. Обработчик подаёт сигнал каждые несколько секунд; тот, кто молчит слишком долго, признаётся упавшим, и его работа передаётся остальным.</translation>
    </message>
    <message>
        <location line="+47"/>
        <source>Read at %1</source>
        <translation>Прочитано в %1</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Cannot read the workers (the list is as read at %1): %2</source>
        <translation>Не удаётся прочитать список обработчиков (показан список на %1): %2</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cannot read the workers: %1</source>
        <translation>Не удаётся прочитать список обработчиков: %1</translation>
    </message>
</context>
</TS>
