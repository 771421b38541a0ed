"""Messages for the operator that the console can show in the operator's language while
the engine stays free of Qt: an English template, marked for Qt's lupdate, and the values
it names. `str()` gives the English text (logs, the command line, JSON); the console
translates the template by its context ("Engine") and fills in the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONTEXT = "Engine"
LANGUAGES = ("en", "ru")  # the console's languages, English first (the source texts)


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # Qt's name: the one lupdate knows
    """Marks `text` for translation in `context`; returns it unchanged."""
    return text


@dataclass(frozen=True)
class Message:
    template: str  # str.format placeholders: "'{sku}' is not in {catalog}'s catalog"
    values: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        return self.template.format(**dict(self.values))


def say(template: str, **values: Any) -> Message:
    """A message from a template marked with QT_TRANSLATE_NOOP("Engine", ...)."""
    return Message(template, tuple(values.items()))


class Refused(ValueError):
    """A ValueError whose message the console can translate: raised with a template
    marked with QT_TRANSLATE_NOOP("Engine", ...) and its values."""

    def __init__(self, template: str, **values: Any):
        self.message = say(template, **values)
        super().__init__(str(self.message))


def rub(minor: int) -> str:
    """1299900 → "12 999,00 ₽" (non-breaking spaces, as Russian shops print prices)."""
    rubles, kopecks = divmod(minor, 100)
    return f"{rubles:,}".replace(",", "\u00a0") + f",{kopecks:02d}\u00a0₽"
