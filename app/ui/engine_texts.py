"""The engine's English texts in the operator's language, translated when shown: a Task's
last error and its history's details (stored in English in the database), an import's
row reasons and notes.

Each such text is an English template filled with values ("temporary error 2 of 3: ...").
The templates below are marked for Qt's lupdate (context "EngineText"; "Engine" where the
engine's message already has a translation) and each is turned into a pattern; a text a
pattern matches is shown as the template's translation filled with the same values. A
value that is itself an engine text (a reason inside a reason) is translated the same
way; an amount of money is shown in the console's money format (i18n.money), like every
other amount. A text no template matches is shown as it is.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import QCoreApplication

from app.core.orders.spec import FieldError
from app.core.support.text import QT_TRANSLATE_NOOP, Message
from app.ui.i18n import money

log = logging.getLogger(__name__)

CONTEXT = "EngineText"

# How a template's value is matched and shown.
TEXT = "text"  # as it is: a name, an order number, a message of another program
NUMBER = "number"  # as it is, digits only
NESTED = "nested"  # an engine text itself: translated too
MONEY = "money"  # rub() ("2 190,00 ₽") or "2190.00 ₽": in the console's money format
_VALUE = {
    TEXT: r".*?",
    NUMBER: r"\d+",
    NESTED: r".+?",
    MONEY: r"-?\d{1,3}(?:\u00a0\d{3})*,\d\d\u00a0₽|-?\d+\.\d\d ₽",
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Template:
    """One English text of the engine: its source (marked for translation in `context`),
    how each of its placeholders is shown, and the pattern that finds it."""

    context: str
    source: str
    kinds: tuple[tuple[str, str], ...]  # (placeholder, kind)
    pattern: re.Pattern[str]

    @property
    def literal(self) -> int:
        """How much fixed text the template has: the more, the sooner it is tried."""
        return len(_PLACEHOLDER.sub("", self.source))


def _t(source: str, *kinds: str, context: str = CONTEXT, **named: str) -> Template:
    """The template of `source`, whose placeholders {0}, {1}, ... are shown as `kinds` say
    (named ones as `named` say; TEXT where not said)."""
    given = {str(n): kind for n, kind in enumerate(kinds)} | named
    parts = _PLACEHOLDER.split(source)  # text, name, text, name, ..., text
    names = parts[1::2]
    assert len(set(names)) == len(names), source  # one group a placeholder
    regex = "".join(
        re.escape(part) if n % 2 == 0 else f"(?P<v_{part}>{_VALUE[given.get(part, TEXT)]})"
        for n, part in enumerate(parts)
    )
    shown = tuple((name, given.get(name, TEXT)) for name in names)
    return Template(context, source, shown, re.compile(regex, re.DOTALL))


# Built from the f-strings that write them; each comment names where. The ones in the
# engine's own context ("Engine") reuse the translation its messages have.
TEMPLATES: tuple[Template, ...] = (
    # app/core/task.py
    _t(QT_TRANSLATE_NOOP("EngineText", "cancelled by the operator before submitting")),
    _t(QT_TRANSLATE_NOOP("EngineText", "internal error: {0}")),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "gave up after {0} attempts with temporary errors ({1} attempts in all, counting "
            "re-runs after an account change or a restart): {2}",
        ),
        NUMBER,
        NUMBER,
        NESTED,
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "gave up after {0} attempts: {1}"), NUMBER, NESTED),
    _t(QT_TRANSLATE_NOOP("EngineText", "temporary error {0} of {1}: {2}"), NUMBER, NUMBER, NESTED),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "{0}; the order may have been placed and the check failed ({1}): look at the "
            "account's order history",
        ),
        NESTED,
        NESTED,
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "found in the order history after: {0}"), NESTED),
    # app/core/manager.py, app/core/orders/create.py, app/core/engine/purchases.py
    _t(QT_TRANSLATE_NOOP("EngineText", "no free account")),
    _t(QT_TRANSLATE_NOOP("EngineText", "created")),
    _t(QT_TRANSLATE_NOOP("EngineText", "order {0}")),
    _t(QT_TRANSLATE_NOOP("EngineText", "checked in the order history of {0} at {1}")),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "checked in the order history of {0} at {1}; the shop's price is recorded, not "
            "the {2} typed",
        ),
        TEXT,
        TEXT,
        MONEY,
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "unchecked: the console cannot read {0}'s orders")),
    # app/core/engine/tracking.py
    _t(QT_TRANSLATE_NOOP("EngineText", "order {0} is at the pickup point")),
    # app/core/engine/commands.py (and the Supervisor's "operator NAME")
    _t(QT_TRANSLATE_NOOP("EngineText", "cancelled by the operator")),
    _t(QT_TRANSLATE_NOOP("EngineText", "retry requested by the operator")),
    _t(QT_TRANSLATE_NOOP("EngineText", "{0} found no order; queued again"), NESTED),
    _t(
        QT_TRANSLATE_NOOP("EngineText", "{0} recorded order {1} at {2} ({3})"),
        NESTED,
        TEXT,
        MONEY,
        NESTED,
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "operator {0}")),
    # app/core/support/errors.py internal_error (a Job parked by a defect)
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "internal error ({0}); this is a defect of the console, the details are in the log {1}",
        )
    ),
    # app/core/engine/recovery.py
    _t(QT_TRANSLATE_NOOP("EngineText", "the worker stopped before starting; back in the queue")),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "after a restart the order history could not be checked ({0}); look at account "
            "{1}'s orders for article {2} and record or retry",
        ),
        NESTED,
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText", "no order on the marketplace after a restart; the unit is queued again"
        )
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "order {0} found in the order history after a restart")),
    # app/core/task.py, app/core/engine/heartbeat.py, app/core/supervisor.py: workers
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "not placed: this worker had not reached the database for a while (its heartbeat "
            "was late), so another worker might have taken the unit over; queued again",
        )
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "This computer's clock is {0} s behind the database server's. The engine uses the "
            "server's time; set this computer's clock right (time sync).",
        ),
        NUMBER,
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "This computer's clock is {0} s ahead of the database server's. The engine uses the "
            "server's time; set this computer's clock right (time sync).",
        ),
        NUMBER,
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "This worker was taken for stopped (no heartbeat for a while: the computer slept or "
            "the database was out of reach), and its purchases were handed to other workers. "
            "It joins again as a new worker once the purchases it was making are recorded.",
        )
    ),
    # app/core/engine/assisted.py
    _t(QT_TRANSLATE_NOOP("EngineText", "taken by {0}")),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText", "bought by {0}: order {1}, {2}, above the cap of {3} (confirmed)"
        ),
        TEXT,
        TEXT,
        MONEY,
        MONEY,
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "bought by {0}: order {1}, {2}"), TEXT, TEXT, MONEY),
    _t(QT_TRANSLATE_NOOP("EngineText", "not bought ({0}): {1}"), TEXT, NESTED),
    _t(QT_TRANSLATE_NOOP("EngineText", "out of stock")),
    _t(QT_TRANSLATE_NOOP("EngineText", "out of stock: {0}")),
    _t(QT_TRANSLATE_NOOP("EngineText", "the price is above the cap")),
    _t(QT_TRANSLATE_NOOP("EngineText", "the price is above the cap: {0}")),
    _t(QT_TRANSLATE_NOOP("EngineText", "the account is blocked")),
    _t(QT_TRANSLATE_NOOP("EngineText", "the account is blocked: {0}")),
    _t(QT_TRANSLATE_NOOP("EngineText", "a problem with the account")),
    _t(QT_TRANSLATE_NOOP("EngineText", "a problem with the account: {0}")),
    _t(QT_TRANSLATE_NOOP("EngineText", "could not buy: {0}")),
    _t(QT_TRANSLATE_NOOP("EngineText", "skipped by {0}; back in the queue")),
    _t(QT_TRANSLATE_NOOP("EngineText", "at the pickup point (marked by {0})")),
    # app/core/drivers/sandbox.py
    _t(QT_TRANSLATE_NOOP("EngineText", "Article {0} does not exist at {1}")),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "The cart at {0} does not hold exactly one unit of {1} at checkout (another "
            "session may be using this account); nothing was ordered.",
        )
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "Pickup point {0} is not offered by {1} (it offers {2})")),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "{0} did not confirm the order (the browser landed on {1}); check the account's "
            "order history before retrying.",
        )
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "{0} did not answer within {1} s")),
    _t(QT_TRANSLATE_NOOP("EngineText", "The connection to {0} failed ({1})")),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText", "The browser closed or crashed; it is restarted for the next attempt"
        )
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "The browser failed: {0}")),
    _t(QT_TRANSLATE_NOOP("EngineText", "{0} answered HTTP {1} on {2}"), TEXT, NUMBER),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "{0} answered HTTP {1} for {2}: this is not the {3} marketplace; check the "
            "marketplace's address",
        ),
        TEXT,
        NUMBER,
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "{0} answered {1} with a page of another site: this is not the {2} marketplace; "
            "check the marketplace's address",
        )
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "Account {0} is blocked at {1}")),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText", "{0} rejected the password of account {1}; correct it in the account pool"
        )
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "Article {0} costs {1} at {2} (the product page), above the order's cap of {3}",
        ),
        TEXT,
        MONEY,
        TEXT,
        MONEY,
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText", "Article {0} costs {1} at {2} (checkout), above the order's cap of {3}"
        ),
        TEXT,
        MONEY,
        TEXT,
        MONEY,
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "Article {0} is out of stock at {1}")),
    _t(QT_TRANSLATE_NOOP("EngineText", "The session at {0} kept expiring; no order was confirmed")),
    # app/core/drivers/memory.py
    _t(
        QT_TRANSLATE_NOOP("EngineText", "Article {0} costs {1}, above the cap of {2}"),
        TEXT,
        MONEY,
        MONEY,
    ),
    # app/core/accounts/imports.py: where a row is, and why it is skipped or rejected
    _t(QT_TRANSLATE_NOOP("EngineText", "row {0}"), NUMBER),
    _t(QT_TRANSLATE_NOOP("EngineText", "row {0} (header)"), NUMBER),
    _t(QT_TRANSLATE_NOOP("EngineText", "field 'login' is empty; fill in the account's login")),
    _t(
        QT_TRANSLATE_NOOP("EngineText", "field 'password' is empty; a new account needs a password")
    ),
    _t(
        QT_TRANSLATE_NOOP("EngineText", "field '{0}' is longer than {1} characters"), NESTED, NUMBER
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "field '{0}': '{1}' is not a whole number of purchases (leave it empty for no limit)",
        ),
        NESTED,
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "field '{0}': {1}"), NESTED, NESTED),
    _t(QT_TRANSLATE_NOOP("EngineText", "field '{0}' {1}"), NESTED, NESTED),
    _t(QT_TRANSLATE_NOOP("EngineText", "duplicate of {0} (same login)"), NESTED),
    _t(QT_TRANSLATE_NOOP("EngineText", "already stored with the same values")),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "no login column: name the accounts' column 'Логин' or 'login' (the header has: {0})",
        )
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "not a UTF-8 text file; save it as UTF-8 JSON")),
    _t(
        QT_TRANSLATE_NOOP("EngineText", "invalid JSON: {0} at line {1}, column {2}"),
        TEXT,
        NUMBER,
        NUMBER,
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "not a Playwright storage state (no 'cookies' list)")),
    _t(QT_TRANSLATE_NOOP("EngineText", "not account files, left out: {0}")),
    # The fields those name (app/core/accounts/imports.py FIELD_NAMES)
    _t(QT_TRANSLATE_NOOP("EngineText", "login")),
    _t(QT_TRANSLATE_NOOP("EngineText", "password")),
    _t(QT_TRANSLATE_NOOP("EngineText", "phone")),
    _t(QT_TRANSLATE_NOOP("EngineText", "label")),
    _t(QT_TRANSLATE_NOOP("EngineText", "marketplace")),
    _t(QT_TRANSLATE_NOOP("EngineText", "daily limit")),
    _t(QT_TRANSLATE_NOOP("EngineText", "session")),
    _t(QT_TRANSLATE_NOOP("EngineText", "profile")),
    # app/core/storage/markets.py MarketIndex.get, inside "field 'marketplace': ..."
    _t(
        QT_TRANSLATE_NOOP(
            "Engine",
            "unknown marketplace '{given}': no marketplace is set up yet; add one in "
            "Marketplaces (or: main.py marketplaces add CODE --preset NAME)",
        ),
        context="Engine",
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "Engine", "'{given}' names more than one marketplace; use its code ({codes})"
        ),
        context="Engine",
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "Engine",
            "'{given}' is {name}, which is not set up here; add it in Marketplaces (or: "
            "main.py marketplaces add {code} --preset {preset})",
        ),
        context="Engine",
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "Engine",
            "unknown marketplace '{given}' (set up here: {codes}); add it in Marketplaces or "
            "give one of these",
        ),
        context="Engine",
    ),
    # app/core/support/tables.py: a cell's problem, a file's, and the notes on reading
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "holds a control character ({0}), which no list has: the file is damaged or was "
            "not saved from a spreadsheet; export the list again",
        )
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText",
            "holds an invisible character ({0}) that makes it look like another value; type "
            "it again without it",
        )
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "cannot read the file ({0})")),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText", "the file is {0} MB, over the {1} MB limit; split it into smaller files"
        ),
        NUMBER,
        NUMBER,
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "the file is empty; export it again")),
    _t(QT_TRANSLATE_NOOP("EngineText", "read as {0}, columns separated by 'tab'"), NESTED),
    _t(QT_TRANSLATE_NOOP("EngineText", "read as {0}, columns separated by {1}"), NESTED),
    _t(QT_TRANSLATE_NOOP("EngineText", "UTF-8 with BOM")),
    _t(QT_TRANSLATE_NOOP("EngineText", "cp1251 (Windows Cyrillic)")),
    _t(QT_TRANSLATE_NOOP("EngineText", "cp1252 (Windows Western)")),
    _t(QT_TRANSLATE_NOOP("EngineText", "column '{0}' is not used")),
    _t(QT_TRANSLATE_NOOP("EngineText", "read the first sheet, “{0}”")),
    _t(
        QT_TRANSLATE_NOOP("EngineText", "row {0} taken as the header (the row above it left out)"),
        NUMBER,
    ),
    _t(
        QT_TRANSLATE_NOOP(
            "EngineText", "row {0} taken as the header (the {1} rows above it left out)"
        ),
        NUMBER,
        NUMBER,
    ),
    _t(QT_TRANSLATE_NOOP("EngineText", "row {0} left out: a totals row (“{1}”)"), NUMBER),
)
# The most specific first: "order {0} is at the pickup point" before "order {0}".
_BY_SPECIFICITY = sorted(TEMPLATES, key=lambda t: -t.literal)


def match(text: str) -> tuple[Template, dict[str, str]] | None:
    """The template `text` was written from and its values, or None. When several fit,
    the one that explains most of the text wins, counting the texts nested in its values:
    "temporary error 1 of 3: X did not answer within 15 s" is a temporary error around a
    timeout, not a timeout of "temporary error 1 of 3: X"."""
    found = _best(text)
    return None if found is None else (found[0], found[1])


@functools.lru_cache(maxsize=4096)
def _best(text: str) -> tuple[Template, dict[str, str], int] | None:
    best: tuple[Template, dict[str, str], int] | None = None
    for t in _BY_SPECIFICITY:
        m = t.pattern.fullmatch(text)
        if m is None:
            continue
        values = {name: m.group(f"v_{name}") for name, _ in t.kinds}
        score = t.literal + sum(
            nested[2]
            for name, kind in t.kinds
            if kind == NESTED and (nested := _best(values[name])) is not None
        )
        if best is None or score > best[2]:
            best = (t, values, score)
    return best


def _minor(amount: str) -> int | None:
    """Kopecks from "2 190,00 ₽" (rub) or "2190.00 ₽"."""
    digits = amount.removesuffix("₽").replace("\u00a0", "").replace(",", ".").strip()
    try:
        return int(Decimal(digits) * 100)
    except InvalidOperation:
        return None


def _shown(kind: str, value: str) -> str:
    if kind == NESTED:
        return engine_text(value)
    if kind == MONEY:
        minor = _minor(value)
        return value if minor is None else money(minor)
    return value


def engine_text(text: str) -> str:
    """`text`, as the engine wrote it in English, in the operator's language: the
    translation of its template with the same values; `text` itself when no template
    matches (or its translation does not fit the values)."""
    found = match(text) if text else None
    if found is None:
        return text
    t, values = found
    shown = {name: _shown(kind, values[name]) for name, kind in t.kinds}
    translated = QCoreApplication.translate(t.context, t.source)
    names = set(_PLACEHOLDER.findall(translated))
    if not names <= shown.keys():
        log.warning("translation of %r does not fit its values", t.source)
        translated = t.source
    # One pass, so that a value holding "{1}" stays as it is.
    return _PLACEHOLDER.sub(lambda m: shown[m.group(1)], translated)


def field_problem(error: FieldError) -> FieldError:
    """`error` with its message translated when the message is an English text with its
    values already in it (a reader's "holds an invisible character (U+200B) ..."); others
    are templates that common.field_error translates."""
    if error.message.values:
        return error
    text = error.message.template
    shown = engine_text(text)
    if shown == text:
        return error
    # A template without values: its braces would be read as placeholders.
    return replace(error, message=Message(shown.replace("{", "{{").replace("}", "}}")))
