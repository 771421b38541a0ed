"""Which marketplace a person or a file means: the marketplaces in the database indexed by
code, name and aliases (domain.markets.name_key), for imports, the New Order dialog and
the command line."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.domain.markets import ambiguous, name_key, names_of, preset_for
from app.core.domain.models import MarketPlace
from app.core.support.text import QT_TRANSLATE_NOOP, Refused


@dataclass(frozen=True)
class MarketRef:
    id: int
    code: str
    name: str
    kind: str
    enabled: bool


class MarketIndex:
    """The marketplaces set up here, found by any of their names (case, spaces and dots
    do not matter). A name two marketplaces answer to finds neither: refused as
    ambiguous rather than guessed."""

    def __init__(self, markets: list[tuple[MarketRef, set[str]]]):
        self.markets = [m for m, _ in markets]
        clash = ambiguous((m.id, keys) for m, keys in markets)
        self._by_key = {k: m for m, keys in markets for k in keys if k not in clash}
        self._clash = clash

    @classmethod
    def load(cls, s: Session) -> MarketIndex:
        rows = s.execute(
            select(
                MarketPlace.id,
                MarketPlace.code,
                MarketPlace.name,
                MarketPlace.driver,
                MarketPlace.enabled,
                MarketPlace.aliases,
            ).order_by(MarketPlace.name)
        )
        return cls(
            [
                (MarketRef(i, code, name, kind, bool(on)), names_of(code, name, aliases))
                for i, code, name, kind, on, aliases in rows
            ]
        )

    def find(self, given: str) -> MarketRef | None:
        """The marketplace `given` names, enabled or not; None when none or several."""
        return self._by_key.get(name_key(given))

    def get(self, given: str) -> MarketRef:
        """The enabled marketplace `given` names; raises Refused saying what to do."""
        if not self.markets and preset_for(given) is None:
            raise Refused(
                QT_TRANSLATE_NOOP(
                    "Engine",
                    "unknown marketplace '{given}': no marketplace is set up yet; add one "
                    "in Marketplaces (or: main.py marketplaces add CODE --preset NAME)",
                ),
                given=given,
            )
        market = self.find(given)
        if market is None:
            if name_key(given) in self._clash:
                raise Refused(
                    QT_TRANSLATE_NOOP(
                        "Engine",
                        "'{given}' names more than one marketplace; use its code ({codes})",
                    ),
                    given=given,
                    codes=self.codes(),
                )
            preset = preset_for(given)
            if preset is not None:
                raise Refused(
                    QT_TRANSLATE_NOOP(
                        "Engine",
                        "'{given}' is {name}, which is not set up here; add it in "
                        "Marketplaces (or: main.py marketplaces add {code} --preset {preset})",
                    ),
                    given=given,
                    name=preset.name,
                    code=preset.code,
                    preset=preset.key,
                )
            raise Refused(
                QT_TRANSLATE_NOOP(
                    "Engine",
                    "unknown marketplace '{given}' (set up here: {codes}); add it in "
                    "Marketplaces or give one of these",
                ),
                given=given,
                codes=self.codes(),
            )
        if not market.enabled:
            raise Refused(
                QT_TRANSLATE_NOOP(
                    "Engine",
                    "marketplace {name} is disabled; enable it in Marketplaces to use it",
                ),
                name=market.name,
            )
        return market

    def codes(self) -> str:
        return ", ".join(f"{m.code} ({m.name})" for m in self.markets if m.enabled) or "-"
