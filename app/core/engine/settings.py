"""The engine's settings: how many purchases at once, how often it looks at things, and
how it retries."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import psutil

from app.core.accounts.pool import PoolRules

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 32  # purchases at once an operator may ask for, on any machine
BROWSER_MB_PER_PURCHASE = 150  # a purchase's browser page holds about this much memory


def concurrency_limit() -> int:
    """Purchases at once this computer can hold: MAX_CONCURRENCY, or fewer where its
    memory cannot hold that many browser pages."""
    by_memory = psutil.virtual_memory().total // (BROWSER_MB_PER_PURCHASE * 2**20)
    return max(1, min(MAX_CONCURRENCY, int(by_memory)))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for TransientError, bounded in attempts."""

    max_attempts: int = 5
    base_delay_s: float = 2.0
    factor: float = 2.0
    max_delay_s: float = 120.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_delay_s < 0 or self.factor < 1:
            raise ValueError(f"retry policy out of range: {self}")
        if not 0 <= self.jitter < 1 or self.max_delay_s < self.base_delay_s:
            raise ValueError(f"retry policy out of range: {self}")

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        raw = min(self.max_delay_s, self.base_delay_s * self.factor ** (attempt - 1))
        return raw * (1 + rng.uniform(-self.jitter, self.jitter))

    def gives_up(self, attempt: int) -> bool:
        return attempt >= self.max_attempts


@dataclass
class EngineSettings:
    concurrency: int = DEFAULT_CONCURRENCY  # purchases running at once, over all Orders
    max_units_per_line: int = 1000
    poll_s: float = 1.0  # how often shared state (other workstations) is looked at
    rollup_s: float = 0.5  # how often Order/Job progress is recomputed
    track_s: float = 30.0  # how often a purchased unit's delivery is looked at
    recover_s: float = 10.0  # how often workers gone silent and their Tasks are looked for
    heartbeat_s: float = 5.0  # how often this worker writes its heartbeat (storage.workers)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    pool: PoolRules = field(default_factory=PoolRules)

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.max_units_per_line < 1:
            raise ValueError(f"engine settings out of range: {self}")
