"""HTML pages of the sandbox shop; `data-testid` attributes are the contract the driver reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from urllib.parse import quote

from app.sandbox.ledger import CartLine, LedgerOrder, Product
from app.sandbox.seed import MARKETPLACE_NAME, PICKUP_POINTS

STATUS_LABELS = {
    "ordered": "Оформлен",
    "in_transit": "В пути",
    "at_pickup_point": "В пункте выдачи",
}

_CSS = """
body { font-family: system-ui, "Segoe UI", Roboto, sans-serif; margin: 0; background: #f5f6f8;
  color: #1f2328; }
header { background: #3b3f9e; color: #fff; padding: 12px 24px; display: flex; gap: 20px;
  align-items: center; }
header a { color: #fff; text-decoration: none; }
header .brand { font-weight: 700; font-size: 1.2em; margin-right: auto; }
header form { margin: 0; }
main { max-width: 880px; margin: 24px auto; background: #fff; padding: 24px;
  border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.1); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 8px; border-bottom: 1px solid #e3e5e8; }
.price { font-size: 1.4em; font-weight: 700; }
.error { color: #b42318; font-weight: 600; }
.muted { color: #6a737d; }
button { background: #3b3f9e; color: #fff; border: 0; border-radius: 6px; padding: 8px 16px;
  font-size: 1em; cursor: pointer; }
button.link { background: none; color: #fff; padding: 0; }
label { display: block; margin: 8px 0 4px; }
input, select { padding: 6px; font-size: 1em; min-width: 260px; }
"""


def rub(minor: int) -> str:
    """1299900 → "12 999,00 ₽" (non-breaking spaces, as Russian shops print prices)."""
    rubles, kopecks = divmod(minor, 100)
    return f"{rubles:,}".replace(",", "\u00a0") + f",{kopecks:02d}\u00a0₽"


def _when(moment: datetime) -> str:
    return moment.strftime("%d.%m.%Y %H:%M:%S UTC")


def layout(title: str, body: str, *, login: str | None) -> str:
    if login:
        user = (
            f'<span data-testid="current-user">{escape(login)}</span>'
            '<form method="post" action="/logout"><button class="link" data-testid="logout">'
            "Выйти</button></form>"
        )
    else:
        user = '<a href="/login" data-testid="login-link">Войти</a>'
    return f"""<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>{escape(title)} — {MARKETPLACE_NAME}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>
<body><header><a class="brand" href="/">{MARKETPLACE_NAME}</a>
<a href="/cart" data-testid="cart-link">Корзина</a>
<a href="/account/orders" data-testid="orders-link">Мои заказы</a>{user}</header>
<main>{body}</main></body></html>"""


def catalog(products: Sequence[Product]) -> str:
    rows = "".join(
        f'<tr><td><a data-testid="product-link" href="/product/{quote(p.sku)}">'
        f"{escape(p.title)}</a></td><td>{escape(p.sku)}</td><td>{rub(p.price_minor)}</td>"
        f"<td>{_stock_text(p.stock)}</td></tr>"
        for p in products
    )
    return (
        "<h1>Каталог</h1><table><tr><th>Товар</th><th>Артикул</th><th>Цена</th>"
        f"<th>Наличие</th></tr>{rows}</table>"
    )


def login_form(next_path: str, *, error: str | None = None, login: str = "") -> str:
    message = f'<p class="error" data-testid="login-error">{escape(error)}</p>' if error else ""
    return f"""<h1>Вход</h1>{message}
<form id="login-form" data-testid="login-form" method="post" action="/login">
<input type="hidden" name="next" value="{escape(next_path)}">
<label for="login">Логин</label><input id="login" name="login" value="{escape(login)}" required>
<label for="password">Пароль</label><input id="password" name="password" type="password" required>
<p><button type="submit" data-testid="login-submit">Войти</button></p></form>"""


def account_blocked(login: str) -> str:
    return (
        f'<h1>Аккаунт заблокирован</h1><p class="error" data-testid="account-blocked" '
        f'data-login="{escape(login)}">Аккаунт {escape(login)} заблокирован. '
        "Обратитесь в поддержку магазина.</p>"
    )


def _stock_text(stock: int) -> str:
    return f"В наличии: {stock}" if stock > 0 else "Нет в наличии"


def product(p: Product) -> str:
    if p.stock > 0:
        buy = (
            '<form method="post" action="/cart/add" data-testid="add-to-cart-form">'
            f'<input type="hidden" name="sku" value="{escape(p.sku)}">'
            '<button type="submit" data-testid="add-to-cart">В корзину</button></form>'
        )
    else:
        buy = '<p class="muted">Товар закончился</p>'
    return f"""<div data-testid="product" data-sku="{escape(p.sku)}">
<h1 data-testid="product-title">{escape(p.title)}</h1>
<p class="muted">Артикул {escape(p.sku)}</p>
<p class="price" data-testid="price" data-price-minor="{p.price_minor}">{rub(p.price_minor)}</p>
<p data-testid="stock" data-stock="{p.stock}">{_stock_text(p.stock)}</p>{buy}</div>"""


def not_found(what: str) -> str:
    return f'<h1>Не найдено</h1><p data-testid="not-found">{escape(what)}</p>'


def _lines_table(lines: Sequence[CartLine], testid: str) -> str:
    rows = "".join(
        f'<tr data-testid="{testid}" data-sku="{escape(line.sku)}" '
        f'data-quantity="{line.quantity}" data-price-minor="{line.unit_price_minor}">'
        f"<td>{escape(line.title)}</td><td>{escape(line.sku)}</td><td>{line.quantity}</td>"
        f"<td>{rub(line.unit_price_minor)}</td><td>{rub(line.total_minor)}</td></tr>"
        for line in lines
    )
    return (
        "<table><tr><th>Товар</th><th>Артикул</th><th>Кол-во</th><th>Цена</th><th>Сумма</th>"
        f"</tr>{rows}</table>"
    )


def cart(lines: Sequence[CartLine]) -> str:
    if not lines:
        return '<h1>Корзина</h1><p data-testid="cart-empty">Корзина пуста.</p>'
    return f"""<h1>Корзина</h1>{_lines_table(lines, "cart-line")}
<form method="post" action="/cart/clear" data-testid="cart-clear-form">
<p><button type="submit" data-testid="cart-clear">Очистить корзину</button>
<a href="/checkout" data-testid="to-checkout">Перейти к оформлению</a></p></form>"""


def checkout(lines: Sequence[CartLine]) -> str:
    if not lines:
        return '<h1>Оформление заказа</h1><p data-testid="cart-empty">Корзина пуста.</p>'
    total = sum(line.total_minor for line in lines)
    options = "".join(
        f'<option value="{escape(p.code)}">{escape(p.code)} — {escape(p.address)}</option>'
        for p in PICKUP_POINTS
    )
    return f"""<h1>Оформление заказа</h1>{_lines_table(lines, "checkout-line")}
<p>Итого: <strong class="price" data-testid="total"
 data-total-minor="{total}">{rub(total)}</strong></p>
<form method="post" action="/checkout" data-testid="checkout-form">
<label for="pickup_point">Пункт выдачи</label>
<select id="pickup_point" name="pickup_point" data-testid="pickup-point">{options}</select>
<p><button type="submit" data-testid="place-order">Оформить заказ</button></p></form>"""


def out_of_stock(sku: str, title: str) -> str:
    return (
        '<h1>Товар закончился</h1><p class="error" data-testid="out-of-stock" '
        f'data-sku="{escape(sku)}">Товара «{escape(title)}» (артикул {escape(sku)}) нет в '
        "наличии. Заказ не оформлен.</p>"
    )


def bad_request(message: str) -> str:
    return f'<h1>Ошибка</h1><p class="error" data-testid="bad-request">{escape(message)}</p>'


def _order_attrs(order: LedgerOrder, status: str) -> str:
    return (
        f'data-order-number="{escape(order.order_number)}" data-article="{escape(order.sku)}" '
        f'data-pickup-point="{escape(order.pickup_point)}" data-price-minor="{order.price_minor}" '
        f'data-quantity="{order.quantity}" data-placed-at="{order.placed_at.isoformat()}" '
        f'data-status="{status}" data-title="{escape(order.title)}"'
    )


def confirmation(order: LedgerOrder, status: str) -> str:
    return f"""<div data-testid="order" {_order_attrs(order, status)}>
<h1>Заказ оформлен</h1>
<p>Номер заказа: <strong id="order-number"
 data-testid="order-number">{escape(order.order_number)}</strong></p>
<p>{escape(order.title)} × {order.quantity}, {rub(order.price_minor)}</p>
<p>Пункт выдачи: {escape(order.pickup_point)}</p>
<p>Статус: <span data-testid="order-status">{STATUS_LABELS[status]}</span></p></div>"""


def order_history(orders: Sequence[tuple[LedgerOrder, str]]) -> str:
    if not orders:
        return '<h1>Мои заказы</h1><p data-testid="no-orders">Заказов пока нет.</p>'
    rows = "".join(
        f'<tr data-testid="order-row" {_order_attrs(o, status)}>'
        f"<td>{escape(o.order_number)}</td><td>{escape(o.sku)} {escape(o.title)}</td>"
        f"<td>{escape(o.pickup_point)}</td><td>{rub(o.price_minor)}</td>"
        f"<td>{_when(o.placed_at)}</td><td>{STATUS_LABELS[status]}</td></tr>"
        for o, status in orders
    )
    return (
        '<h1>Мои заказы</h1><table data-testid="orders"><tr><th>Номер</th><th>Товар</th>'
        "<th>Пункт выдачи</th><th>Сумма</th><th>Оформлен</th><th>Статус</th></tr>"
        f"{rows}</table>"
    )


def server_error() -> str:
    return (
        '<h1>Сервис временно недоступен</h1><p class="error" data-testid="server-error">'
        "Попробуйте повторить запрос позже (HTTP 503).</p>"
    )
