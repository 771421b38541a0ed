"""Real purchases in real browsers on the sandbox marketplace, two ways side by side:

- `project`: what the engine does, one shared browser (the headless shell when it is
  installed) with one context per running purchase;
- `per_account`: the original card's model, a separate full Chrome/Chromium for every
  account, with that account's own profile folder.

    python -m bench.browsers --units 40 --concurrency 8 --json

Both run the engine's own Supervisor and the project's own driver code against the
sandbox (its own process, not counted), interleaved round by round in one run. For each
model and round:

- memory: N purchases are held open at once on their checkout page (the engine's
  before-submit hook waits), then 1; the summed PSS of every browser process at each
  gives the MB per extra concurrent purchase, the slope (MB(N) - MB(1)) / (N - 1);
- speed: an Order of --units units bought at --concurrency: purchases/s, and the
  CPU-seconds per purchase of the whole process tree (this Python process, Playwright's
  driver, every browser process, live or already exited; the sandbox excluded).

The last line is JSON: the project model's figures (`mb_per_concurrent_purchase`,
`purchases_per_s`, `cpu_s_per_purchase`), the same with `per_account_` in front, and
their ratios, each the median over rounds (min and max beside).
Targets (issue 15, 2 cores): at most 30 MB per extra concurrent purchase, at least 3
purchases/s, and against a browser per account at least 5x less memory per purchase and
3.5x the purchases/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from playwright.async_api import BrowserContext, Page, async_playwright

from app.core.accounts.sessions import DbSessionStore
from app.core.drivers.base import AccountRef, BeforeSubmit, MarketInfo, PurchaseRequest, Receipt
from app.core.drivers.browser import CHROMIUM_ARGS, find_browser
from app.core.drivers.sandbox import SandboxDriver
from app.core.engine.rollup import order_progress
from app.core.engine.settings import EngineSettings
from app.core.orders.spec import LineSpec, OrderSpec
from app.core.storage.db import Database
from app.core.supervisor import Supervisor
from app.demo import seed_sandbox
from app.sandbox.process import SandboxProcess
from bench.common import report

MODELS = ("project", "per_account")
_BROWSER_NAMES = ("chrom", "headless", "msedge")
# Memory is read again this often while a held load settles, until two readings agree.
_SETTLE_STEP_S = 0.3
_SETTLE_MAX_S = 5.0


class BrowserPerAccount(SandboxDriver):
    """The original card's model through the project's own purchase steps: every call
    starts the account's own browser (a full Chrome/Chromium, as the card had) on a
    profile folder of its own, and closes it after."""

    async def start(self) -> None:
        self._executable = find_browser(self.browser_path)
        self._playwright = await async_playwright().start()
        self._profiles = Path(tempfile.mkdtemp(prefix="bench-profiles-"))

    async def close(self) -> None:
        await super().close()
        shutil.rmtree(self._profiles, ignore_errors=True)

    async def _open_page(self, account: AccountRef) -> tuple[BrowserContext, Page]:
        assert self._playwright is not None and self._executable is not None
        context = await self._playwright.chromium.launch_persistent_context(
            self._profiles / str(account.id),
            executable_path=self._executable,
            headless=self.headless,
            args=CHROMIUM_ARGS,
            base_url=self.base_url,
        )
        state = await self.sessions.load(account.id)
        if state and state.get("cookies"):
            await context.add_cookies(state["cookies"])
        context.set_default_timeout(self.timeout_ms)
        page = context.pages[0] if context.pages else await context.new_page()
        return context, page


class Held:
    """A driver whose purchases wait on their checkout page until `release()`: the
    engine's own before-submit hook, so every held purchase has its page loaded."""

    def __init__(self, driver: SandboxDriver) -> None:
        self.driver = driver
        self.waiting = 0
        self.arrived = asyncio.Event()
        self.expected = 0
        self._gate = asyncio.Event()
        self._gate.set()

    def hold(self, expected: int) -> None:
        self.expected, self.waiting = expected, 0
        self.arrived.clear()
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    async def purchase(self, request: PurchaseRequest, before_submit: BeforeSubmit) -> Receipt:
        async def held() -> None:
            if not self._gate.is_set():
                self.waiting += 1
                if self.waiting >= self.expected:
                    self.arrived.set()
                await self._gate.wait()
            await before_submit()

        return await self.driver.purchase(request, held)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.driver, name)


def _browsers(root: psutil.Process) -> list[psutil.Process]:
    found = []
    for proc in root.children(recursive=True):
        try:
            if any(word in proc.name().lower() for word in _BROWSER_NAMES):
                found.append(proc)
        except psutil.NoSuchProcess:
            continue
    return found


def browser_mb() -> float:
    """Summed PSS (RSS where PSS cannot be read) of every browser process under us."""
    total = 0
    for proc in _browsers(psutil.Process()):
        try:
            try:
                total += proc.memory_full_info().pss
            except (psutil.AccessDenied, AttributeError):
                total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


class CpuMeter:
    """CPU-seconds of this process and of every process it starts from now on, live or
    exited, reparented or not: a cgroup of our own (v1 cpuacct or v2) when this user can
    make one, which counts a renderer that outlives its parent too. Else the sum over the
    live process tree, with what each has reaped from its children (`exact` False then:
    a process whose parent exited without reaping it is missed)."""

    def __init__(self, exclude: int) -> None:
        self.exclude = exclude
        self._group: Path | None = None
        self._home: Path | None = None
        for root, usage in (
            ("/sys/fs/cgroup/cpuacct", "cpuacct.usage"),
            ("/sys/fs/cgroup", "cpu.stat"),
        ):
            group = Path(root) / f"bench-browsers-{os.getpid()}"
            try:
                home = Path(root) / _own_cgroup(root).lstrip("/")
                group.mkdir()
                (group / "cgroup.procs").write_text(str(os.getpid()))
            except (OSError, LookupError):
                with contextlib.suppress(OSError):
                    group.rmdir()
                continue
            self._group, self._home, self._usage = group, home, usage
            break
        self.exact = self._group is not None

    def seconds(self) -> float:
        if self._group is not None:
            text = (self._group / self._usage).read_text()
            if self._usage == "cpuacct.usage":
                return int(text) / 1e9
            fields = dict(line.split() for line in text.splitlines())
            return int(fields["usage_usec"]) / 1e6
        me = psutil.Process()
        skip = {self.exclude} | {
            p.pid for p in psutil.Process(self.exclude).children(recursive=True)
        }
        total = 0.0
        for proc in [me, *me.children(recursive=True)]:
            if proc.pid in skip:
                continue
            try:
                t = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system + t.children_user + t.children_system
        return total

    def close(self) -> None:
        """Moves this process back and removes the group (once its processes are gone)."""
        if self._group is None or self._home is None:
            return
        with contextlib.suppress(OSError):
            (self._home / "cgroup.procs").write_text(str(os.getpid()))
            self._group.rmdir()


def _own_cgroup(root: str) -> str:
    """This process's cgroup path in the hierarchy mounted at `root`."""
    want = "cpuacct" if root.endswith("cpuacct") else ""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (want and want in controllers.split(",")) or (not want and controllers == ""):
            return path
    raise LookupError(root)


async def settled_mb() -> float:
    """Browser memory once it stops growing (two readings within 2%), or after a while."""
    last = browser_mb()
    deadline = time.monotonic() + _SETTLE_MAX_S
    while time.monotonic() < deadline:
        await asyncio.sleep(_SETTLE_STEP_S)
        now = browser_mb()
        if abs(now - last) <= 0.02 * max(now, 1.0):
            return max(now, last)
        last = now
    return last


class Bench:
    def __init__(self, db: Database, cpu: CpuMeter, per_account_browser: str | None):
        self.db = db
        self.cpu = cpu
        self.per_account_browser = per_account_browser
        self.executables: dict[str, str] = {}
        self._article = 0

    def _driver(self, model: str, market: MarketInfo) -> Held:
        sessions = DbSessionStore(self.db)
        driver: SandboxDriver
        if model == "project":
            driver = SandboxDriver(market.base_url, sessions, shop=market.name)
        else:
            driver = BrowserPerAccount(
                market.base_url, sessions, shop=market.name, browser_path=self.per_account_browser
            )
        return Held(driver)

    async def _order(self, model: str, units: int, concurrency: int, held: int = 0) -> tuple:
        """Buys `units` units at `concurrency` with a fresh driver; with `held`, first holds
        that many purchases at once and returns the browser MB while they are held.
        Returns (seconds, purchased, cpu_s, held_mb)."""
        drivers: list[Held] = []

        def factory(market: MarketInfo) -> Held:
            drivers.append(self._driver(model, market))
            return drivers[-1]

        settings = EngineSettings(concurrency=concurrency)
        sup = Supervisor(self.db, factory, settings=settings)  # type: ignore[arg-type]
        self._article += 1  # a new article each time: a Job's accounts may buy again
        article = ("100001", "100002", "100003")[self._article % 3]
        order_id = await sup.submit(
            OrderSpec("Bench", "sandbox", [LineSpec(article, units, "PVZ-001")])
        )
        await sup.warm_up()
        driver = drivers[0]
        self.executables[model] = driver.driver._executable or ""
        if held:
            driver.hold(held)
        cpu0, t0 = self.cpu.seconds(), time.perf_counter()
        running = asyncio.create_task(sup.run(until_idle=True))
        held_mb = 0.0
        if held:
            waiting = asyncio.create_task(driver.arrived.wait())
            done, _ = await asyncio.wait({waiting, running}, return_when=asyncio.FIRST_COMPLETED)
            if waiting not in done:
                waiting.cancel()
                raise RuntimeError(f"{model}: the run ended before {held} purchases were held")
            held_mb = await settled_mb()
            driver.release()
        await running
        seconds, cpu = time.perf_counter() - t0, self.cpu.seconds() - cpu0
        purchased = (await order_progress(self.db, order_id)).purchased
        return seconds, purchased, cpu, held_mb

    async def round(self, model: str, units: int, concurrency: int) -> dict[str, float]:
        _, _, _, mb_n = await self._order(model, concurrency, concurrency, held=concurrency)
        _, _, _, mb_1 = await self._order(model, 1, 1, held=1)
        seconds, purchased, cpu, _ = await self._order(model, units, concurrency)
        if purchased != units:
            raise RuntimeError(f"{model}: bought {purchased} of {units}")
        return {
            "mb_held_1": mb_1,
            "mb_held_n": mb_n,
            "mb_per_concurrent_purchase": (mb_n - mb_1) / max(1, concurrency - 1),
            "purchases_per_s": purchased / seconds,
            "cpu_s_per_purchase": cpu / purchased,
        }


def _summary(runs: list[dict[str, float]], key: str) -> tuple[float, float, float]:
    values = [r[key] for r in runs]
    return statistics.median(values), min(values), max(values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per model")
    parser.add_argument(
        "--per-account-browser",
        help="the browser for the per-account model (default: the full Chromium/Chrome/Edge)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    accounts = max(args.units, args.concurrency)
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in MODELS}
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxProcess(Path(tmp) / "ledger.sqlite3", "--accounts", str(accounts)) as shop,
    ):
        db = Database(f"{tmp}/console.sqlite3")
        seed_sandbox(db, shop.url, accounts)
        cpu = CpuMeter(exclude=shop.pid)
        bench = Bench(db, cpu, args.per_account_browser)

        async def run_all() -> None:
            for n in range(args.rounds):
                # Interleaved, and each round in the other order: neither model always
                # runs on a warmer machine.
                for model in MODELS if n % 2 == 0 else MODELS[::-1]:
                    runs[model].append(await bench.round(model, args.units, args.concurrency))

        try:
            asyncio.run(run_all())
        finally:
            cpu.close()
        db.close()
    result: dict[str, Any] = {
        "units": args.units,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "cpu_counted_by": "cgroup" if cpu.exact else "live process tree",
    }
    for model in MODELS:
        prefix = "" if model == "project" else "per_account_"
        result[f"{prefix}browser"] = bench.executables.get(model, "")
        for key in ("mb_per_concurrent_purchase", "purchases_per_s", "cpu_s_per_purchase"):
            median, low, high = _summary(runs[model], key)
            result[f"{prefix}{key}"] = round(median, 3)
            result[f"{prefix}{key}_min_max"] = [round(low, 3), round(high, 3)]
        median, _, _ = _summary(runs[model], "mb_held_n")
        result[f"{prefix}mb_with_{args.concurrency}_held"] = round(median, 1)
    result["memory_ratio"] = round(
        result["per_account_mb_per_concurrent_purchase"]
        / max(result["mb_per_concurrent_purchase"], 0.1),
        2,
    )
    result["speed_ratio"] = round(
        result["purchases_per_s"] / max(result["per_account_purchases_per_s"], 1e-9), 2
    )
    result["cpu_ratio"] = round(
        result["per_account_cpu_s_per_purchase"] / max(result["cpu_s_per_purchase"], 1e-9), 2
    )
    report(result, args.json)


if __name__ == "__main__":
    main()
