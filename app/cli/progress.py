"""Live progress of the engine in a terminal: a progress bar and a small table of the
Tasks that changed last, fed by the engine's event stream."""

from __future__ import annotations

import asyncio
import sys
from collections import OrderedDict

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.core.domain.states import TaskStatus
from app.core.engine.events import EngineNotice, OrderProgress, Subscription, TaskChanged

T = TaskStatus
STATUS_STYLE = {
    T.PURCHASED: "green",
    T.DELIVERED: "bold green",
    T.FAILED: "red",
    T.NEEDS_REVIEW: "magenta",
    T.RETRY_WAIT: "yellow",
    T.WAITING_ACCOUNT: "yellow",
    T.RUNNING: "cyan",
    T.SUBMITTING: "bold cyan",
    T.CANCELLED: "dim",
}


class TerminalProgress:
    """Draws the engine's progress on stderr until stopped."""

    def __init__(self, sub: Subscription, total: int, logins: dict[int, str], rows: int = 8):
        self.sub = sub
        self.total = total
        self.logins = logins
        self.rows = rows
        self.recent: OrderedDict[int, TaskChanged] = OrderedDict()
        self.counts: dict[TaskStatus, int] = {}
        self.notices: list[str] = []
        self.console = Console(file=sys.stderr)
        self.bar = Progress(
            TextColumn("[bold]Purchased"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[summary]}"),
            console=self.console,
        )
        self.bar_task = self.bar.add_task("units", total=total, summary="")

    def _apply(self) -> None:
        for ev in self.sub.drain():
            if isinstance(ev, TaskChanged):
                self.recent.pop(ev.task_id, None)
                self.recent[ev.task_id] = ev
                while len(self.recent) > self.rows:
                    self.recent.popitem(last=False)
            elif isinstance(ev, OrderProgress):
                self.counts = ev.counts
            elif isinstance(ev, EngineNotice):
                self.notices.append(ev.message)
                self.console.print(f"[{'red' if ev.level == 'error' else 'yellow'}]{ev.message}")
        done = self.counts.get(TaskStatus.PURCHASED, 0) + self.counts.get(TaskStatus.DELIVERED, 0)
        summary = "  ".join(
            f"{k} {v}" for k, v in sorted(self.counts.items()) if k != TaskStatus.PURCHASED and v
        )
        self.bar.update(self.bar_task, completed=done, summary=summary)

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for col in ("Task", "Account", "Status", "Try", "Order no. / error"):
            table.add_column(col)
        for ev in reversed(self.recent.values()):
            style = STATUS_STYLE.get(ev.status, "")
            table.add_row(
                str(ev.task_id),
                self.logins.get(ev.account_id or 0, "—"),
                f"[{style}]{ev.status}[/]" if style else ev.status,
                str(ev.attempts),
                ev.order_number or (ev.error or "")[:60],
            )
        return table

    async def run(self, stop: asyncio.Event) -> None:
        interactive = self.console.is_terminal
        if not interactive:
            await self._plain(stop)
            return
        with Live(
            Group(self.bar, self._table()), console=self.console, refresh_per_second=10
        ) as live:
            while not stop.is_set():
                self._apply()
                live.update(Group(self.bar, self._table()))
                try:
                    await asyncio.wait_for(stop.wait(), 0.1)
                except TimeoutError:
                    pass
            self._apply()
            live.update(Group(self.bar, self._table()))

    async def _plain(self, stop: asyncio.Event) -> None:
        """Not a terminal (CI, a log file): one line every few seconds."""
        last = None
        while True:
            self._apply()
            line = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
            if line and line != last:
                self.console.print(f"progress: {line}")
                last = line
            if stop.is_set():
                return
            try:
                await asyncio.wait_for(stop.wait(), 2.0)
            except TimeoutError:
                pass
