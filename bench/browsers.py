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
their ratios, each the median over rounds (min and max beside). Beside them, to see where
the memory and the CPU go: both by process kind (`..._by_process`: renderer, gpu-process,
browser, node, python, ...; the CPU read from each process while the browser still runs;
a browser per account ends with each purchase, so its CPU shows as `exited`, and what its
orphaned helpers used is missed there), and the messages between this process and
Playwright's driver per purchase (`playwright_calls_per_purchase`,
`playwright_events_per_purchase`; by method with `--calls`). `--models project` runs the
project's model alone (no ratios then).
Targets (issue 15, 2 cores): at most 30 MB per extra concurrent purchase, at least 3
purchases/s, and against a browser per account at least 5x less memory per purchase and
3.5x the purchases/s.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
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
            # A stored state's cookies are what add_cookies takes (its types name them apart).
            await context.add_cookies(state["cookies"])  # type: ignore[arg-type]
        context.set_default_timeout(self.timeout_ms)
        page = context.pages[0] if context.pages else await context.new_page()
        return context, page


class ProtocolCount:
    """Messages between this process and Playwright's driver: calls sent (by method, the
    fire-and-forget `__waitInfo__` of waiters included) and messages received that are not
    answers (events, objects created and disposed). Each costs CPU in this process, in the
    driver and mostly in the browser too. Counted by wrapping the client's connection
    (Playwright's internals: nothing is counted where they differ)."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.events: collections.Counter[str] = collections.Counter()

    def attach(self, playwright: Any) -> None:
        connection = getattr(getattr(playwright, "_impl_obj", None), "_connection", None)
        if connection is None or not hasattr(connection, "send_message_to_server"):
            return
        send, dispatch = connection.send_message_to_server, connection.dispatch

        def counted_send(owner: Any, method: str, *args: Any, **kwargs: Any) -> Any:
            self.calls[f"{getattr(owner, '_type', '?')}.{method}"] += 1
            return send(owner, method, *args, **kwargs)

        def counted_dispatch(message: dict[str, Any]) -> None:
            if not message.get("id"):
                method = message.get("method")
                if method == "__create__":
                    name = f"{message['params'].get('type')}.__create__"
                else:
                    name = f"{str(message.get('guid')).partition('@')[0]}.{method}"
                self.events[name] += 1
            dispatch(message)

        connection.send_message_to_server = counted_send
        connection.dispatch = counted_dispatch


class Held:
    """A driver whose purchases wait on their checkout page until `release()`: the
    engine's own before-submit hook, so every held purchase has its page loaded."""

    def __init__(self, driver: SandboxDriver, exclude: int) -> None:
        self.driver = driver
        self.exclude = exclude
        self.protocol = ProtocolCount()
        self.cpu_at_close: dict[str, float] = {}
        self.calls_at_close: collections.Counter[str] = collections.Counter()
        self.events_at_close: collections.Counter[str] = collections.Counter()
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

    async def start(self) -> None:
        await self.driver.start()
        self.protocol.attach(self.driver._playwright)

    async def close(self) -> None:
        # Read while the browser still runs; closing it is not part of the purchases.
        self.cpu_at_close = cpu_by_kind(self.exclude)
        self.calls_at_close = self.protocol.calls.copy()
        self.events_at_close = self.protocol.events.copy()
        await self.driver.close()

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


def process_kind(proc: psutil.Process) -> str:
    """What a process of ours is: `python` (this one), `node` (Playwright's driver),
    `browser` (a browser's main process), a browser child by its --type (`renderer`,
    `zygote`, `gpu-process`, `utility` with its sub-type's first word, e.g. `network`), or
    else its name."""
    if proc.pid == os.getpid():
        return "python"
    name = proc.name().lower()
    if name.startswith("node"):
        return "node"
    if not any(word in name for word in _BROWSER_NAMES):
        return name
    args = proc.cmdline()
    kind = next((a.partition("=")[2] for a in args if a.startswith("--type=")), "browser")
    if kind == "utility":
        sub = next((a.partition("=")[2] for a in args if a.startswith("--utility-sub-type=")), "")
        kind = sub.split(".")[0] or kind
    return kind


def browser_mb_by_kind() -> dict[str, float]:
    """Summed PSS (RSS where PSS cannot be read) of every browser process under us, in MB,
    by process_kind."""
    totals: dict[str, float] = {}
    for proc in _browsers(psutil.Process()):
        try:
            try:
                size = proc.memory_full_info().pss
            except (psutil.AccessDenied, AttributeError):
                size = proc.memory_info().rss
            kind = process_kind(proc)
        except psutil.NoSuchProcess:
            continue
        totals[kind] = totals.get(kind, 0.0) + size / 2**20
    return totals


def cpu_by_kind(exclude: int) -> dict[str, float]:
    """CPU-seconds so far of this process and its live descendants (not `exclude`'s tree),
    by process_kind. A zygote's reaped children were renderers and count as `renderer`;
    other processes' reaped children count as `exited`. Read while the browser still
    runs, two readings' difference is the CPU of what ran between them, by kind."""
    me = psutil.Process()
    skip = {exclude} | {p.pid for p in psutil.Process(exclude).children(recursive=True)}
    totals: dict[str, float] = {}
    for proc in [me, *me.children(recursive=True)]:
        if proc.pid in skip:
            continue
        try:
            kind, t = process_kind(proc), proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        reaped = "renderer" if kind == "zygote" else "exited"
        totals[kind] = totals.get(kind, 0.0) + t.user + t.system
        totals[reaped] = totals.get(reaped, 0.0) + t.children_user + t.children_system
    return totals


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
        return sum(cpu_by_kind(self.exclude).values())

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


async def settled_mb() -> dict[str, float]:
    """Browser memory by process kind once its sum stops growing (two readings within 2%),
    or after a while."""
    last = browser_mb_by_kind()
    deadline = time.monotonic() + _SETTLE_MAX_S
    while time.monotonic() < deadline:
        await asyncio.sleep(_SETTLE_STEP_S)
        now = browser_mb_by_kind()
        total, before = sum(now.values()), sum(last.values())
        if abs(total - before) <= 0.02 * max(total, 1.0):
            return now if total >= before else last
        last = now
    return last


@dataclass
class OrderRun:
    """One Order bought by a fresh driver: wall and CPU time from the first purchase's
    start to the driver's close, the browser memory by process kind while purchases were
    held, the CPU by process kind and the Playwright messages over the same time."""

    seconds: float
    purchased: int
    cpu_s: float
    held_mb: dict[str, float]
    cpu_by_kind: dict[str, float]
    calls: int
    events: int


def _difference(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after.keys() | before.keys()}


class Bench:
    def __init__(self, db: Database, cpu: CpuMeter, per_account_browser: str | None):
        self.db = db
        self.cpu = cpu
        self.per_account_browser = per_account_browser
        self.executables: dict[str, str] = {}
        # Playwright's calls and events by method over every round's --units purchases.
        self.calls: dict[str, collections.Counter[str]] = {}
        self.events: dict[str, collections.Counter[str]] = {}
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
        return Held(driver, self.cpu.exclude)

    async def _order(self, model: str, units: int, concurrency: int, held: int = 0) -> OrderRun:
        """Buys `units` units at `concurrency` with a fresh driver; with `held`, first holds
        that many purchases at once and reads the browser memory while they are held."""
        drivers: list[Held] = []

        def factory(market: MarketInfo) -> Held:
            drivers.append(self._driver(model, market))
            return drivers[-1]

        settings = EngineSettings(concurrency=concurrency)
        sup = Supervisor(self.db, factory, settings=settings)
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
        calls0, events0 = driver.protocol.calls.copy(), driver.protocol.events.copy()
        kinds0 = cpu_by_kind(self.cpu.exclude)
        cpu0, t0 = self.cpu.seconds(), time.perf_counter()
        running = asyncio.create_task(sup.run(until_idle=True))
        held_mb: dict[str, float] = {}
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
        calls, events = driver.calls_at_close - calls0, driver.events_at_close - events0
        if not held:
            self.calls.setdefault(model, collections.Counter()).update(calls)
            self.events.setdefault(model, collections.Counter()).update(events)
        return OrderRun(
            seconds,
            purchased,
            cpu,
            held_mb,
            _difference(driver.cpu_at_close, kinds0),
            calls.total(),
            events.total(),
        )

    async def round(self, model: str, units: int, concurrency: int) -> dict[str, Any]:
        many = await self._order(model, concurrency, concurrency, held=concurrency)
        one = await self._order(model, 1, 1, held=1)
        speed = await self._order(model, units, concurrency)
        if speed.purchased != units:
            raise RuntimeError(f"{model}: bought {speed.purchased} of {units}")
        mb_n, mb_1 = sum(many.held_mb.values()), sum(one.held_mb.values())
        extra = max(1, concurrency - 1)
        return {
            "mb_held_1": mb_1,
            "mb_held_n": mb_n,
            "mb_per_concurrent_purchase": (mb_n - mb_1) / extra,
            "purchases_per_s": speed.purchased / speed.seconds,
            "cpu_s_per_purchase": speed.cpu_s / speed.purchased,
            "playwright_calls_per_purchase": speed.calls / speed.purchased,
            "playwright_events_per_purchase": speed.events / speed.purchased,
            "mb_per_concurrent_purchase_by_process": {
                k: v / extra for k, v in _difference(many.held_mb, one.held_mb).items()
            },
            "cpu_s_per_purchase_by_process": {
                k: v / speed.purchased for k, v in speed.cpu_by_kind.items()
            },
        }


def _summary(runs: list[dict[str, Any]], key: str) -> tuple[float, float, float]:
    values = [r[key] for r in runs]
    return statistics.median(values), min(values), max(values)


def _by_process(runs: list[dict[str, Any]], key: str) -> dict[str, float]:
    """The median over rounds of each process kind's figure (0 where a round had none),
    the kinds whose median rounds to 0.000 left out."""
    kinds = sorted({k for r in runs for k in r[key]})
    medians = {k: round(statistics.median(r[key].get(k, 0.0) for r in runs), 3) for k in kinds}
    return {k: v for k, v in medians.items() if v}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per model")
    parser.add_argument(
        "--models",
        nargs="+",
        choices=MODELS,
        default=list(MODELS),
        help="the models to run (default: both; the ratios need both)",
    )
    parser.add_argument(
        "--per-account-browser",
        help="the browser for the per-account model (default: the full Chromium/Chrome/Edge)",
    )
    parser.add_argument(
        "--calls",
        action="store_true",
        help="also list Playwright's calls and events per purchase by method",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    models = [m for m in MODELS if m in args.models]
    accounts = max(args.units, args.concurrency)
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in models}
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
                for model in models if n % 2 == 0 else models[::-1]:
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
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    for model in models:
        prefix = "" if model == "project" else "per_account_"
        result[f"{prefix}browser"] = bench.executables.get(model, "")
        for key in (
            "mb_per_concurrent_purchase",
            "purchases_per_s",
            "cpu_s_per_purchase",
            "playwright_calls_per_purchase",
            "playwright_events_per_purchase",
        ):
            median, low, high = _summary(runs[model], key)
            result[f"{prefix}{key}"] = round(median, 3)
            result[f"{prefix}{key}_min_max"] = [round(low, 3), round(high, 3)]
        median, _, _ = _summary(runs[model], "mb_held_n")
        result[f"{prefix}mb_with_{args.concurrency}_held"] = round(median, 1)
        for key in ("mb_per_concurrent_purchase_by_process", "cpu_s_per_purchase_by_process"):
            result[f"{prefix}{key}"] = _by_process(runs[model], key)
        if args.calls:
            bought = args.rounds * args.units
            for kind, counts in (("calls", bench.calls), ("events", bench.events)):
                result[f"{prefix}playwright_{kind}_by_method"] = {
                    method: round(n / bought, 2) for method, n in counts[model].most_common()
                }
    if len(models) == len(MODELS):
        result["memory_ratio"] = round(
            result["per_account_mb_per_concurrent_purchase"]
            / max(result["mb_per_concurrent_purchase"], 0.1),
            2,
        )
        result["speed_ratio"] = round(
            result["purchases_per_s"] / max(result["per_account_purchases_per_s"], 1e-9), 2
        )
        result["cpu_ratio"] = round(
            result["per_account_cpu_s_per_purchase"] / max(result["cpu_s_per_purchase"], 1e-9),
            2,
        )
    report(result, args.json)


if __name__ == "__main__":
    main()
