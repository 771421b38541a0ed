"""The sandbox marketplace as a process of its own (`main.py sandbox`), for end-to-end
tests, benchmarks and reliability runs that must not share a process with the console."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class SandboxProcess:
    """`with SandboxProcess(ledger, "--accounts", "60") as shop:` starts the shop on a free
    port and stops it on exit.

    Attributes:
        url: the shop's base URL once started.
        returncode: the shop's exit status once stopped.
    """

    def __init__(self, ledger: Path, *options: str):
        self.ledger = ledger
        self.options = options
        self.url = ""
        self.returncode: int | None = None
        self._proc: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        """The shop's process id once started."""
        assert self._proc is not None
        return self._proc.pid

    def __enter__(self) -> SandboxProcess:
        cmd = [sys.executable, "main.py", "sandbox", "--port", "0", "--ledger", str(self.ledger)]
        self._proc = subprocess.Popen(
            [*cmd, *self.options], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if "listening on" not in line:
            self._proc.kill()
            raise RuntimeError(f"the sandbox did not start: {line!r}")
        self.url = line.split("listening on", 1)[1].strip()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._proc is not None
        self._proc.terminate()
        self.returncode = self._proc.wait(timeout=20)

    def orders(self) -> list[dict[str, Any]]:
        return ledger_orders(self.url)


def ledger_orders(url: str) -> list[dict[str, Any]]:
    """A running shop's ledger: one entry per placed order, with its delivery status."""
    with urllib.request.urlopen(f"{url}/admin/orders.json", timeout=10) as r:
        return json.load(r)
