"""Several workers on one PostgreSQL database against the faulty shop, with the shop's
ledger as the truth (issue 13): three `main.py worker` processes share one Order whose
account rule is off, while the shop injects faults (bench.chaos's FAULTS):

- A, plain: SIGKILLed while a purchase of its own runs, then restarted (A2);
- B, in a UTS namespace of its own with another host name (`unshare -u`): SIGKILLed while
  a purchase of its own runs, and not restarted: the others must rescue it by its
  heartbeat alone (30 s of silence), as they would a dead machine;
- C, with its clock 15 minutes behind (`faketime -f -15m`): the engine must correct it
  to the database server's.

Once every unit is settled, A2 and C are stopped with SIGTERM.

    python -m bench.workers --db postgresql+psycopg://user:pw@host/db --units 300 --json

The bench works in a new database of its own on that server, dropped at the end (--logs
DIR keeps the workers' output and log files). Last line: the chaos figures (units,
purchased, failed, lost, duplicated, mismatched against the shop's ledger, needs_review)
and:
- accounts_double_used: accounts in two active Tasks at overlapping times, a Task being
  active from its event into `assigned` to its next event out of assigned, running or
  submitting, by the times the workers wrote on the events (their clocks corrected to
  the server's); double_use_max_overlap_s: the longest such overlap;
  accounts_double_used_by_server_clock: the same by the server's clock when each event
  was inserted (kept by a trigger of the bench's own), and _by_commit_order: by the
  events' ids, the order in which the server took them;
- event_lag_s: per worker, from the time it wrote on an event to the server's clock at
  the insert (median and max): its clock's correction, and its writer's queue;
- rescue_seconds: from B's kill (on the server's clock) to the event that took the last
  of B's active Tasks out of its hands; rescues: for A and B, that, the seconds until its
  worker row was taken for dead, the Tasks it held and any left stranded;
- workers: each process's host name, exit code (-9: killed by the bench), tracebacks in
  its output and log, units it bought; crashes: processes that exited other than asked
  (0 after SIGTERM), hung, or logged a traceback;
- clock_offset_seen_by_c_s: C's clock against the server's as C measured it (from its
  "clock is N s behind/ahead of" notice; negative: behind);
- gave_up (and why): the run could not finish: --timeout passed, or a worker the bench
  did not kill exited.
Targets: lost = duplicated = mismatched = 0, no account double used, crashes = 0,
rescue_seconds within about a minute.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psutil
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from app.core.domain.models import Task, TaskEvent, Worker
from app.core.domain.states import ACTIVE, SETTLED, TaskStatus, UnitRule
from app.core.storage.db import Database, url_for
from app.core.storage.workers import database_now
from bench.chaos import chaos_order, compare, faulty_shop, kill, main_py, prepare
from bench.common import report
from bench.engine import _bench_database as bench_database

OTHER_HOST = "other-host"
# A UTS namespace needs root; a user without it gets one inside a user namespace of its own.
UNSHARE = (
    *(("unshare", "-u") if os.geteuid() == 0 else ("unshare", "-r", "-u")),
    *("sh", "-c", f'hostname {OTHER_HOST} && exec "$@"', "sh"),
)
FAKETIME = ("faketime", "-f", "-15m")
APP = "bench-"  # + the worker's name: its connections' application_name (PGAPPNAME)
TRACEBACK = "Traceback (most recent call last)"
POLL_S = 0.05
T = TypeVar("T")


class BenchFailed(RuntimeError):
    """The run could not go on (a worker did not start, the time ran out)."""


@dataclass
class WorkerProcess:
    """One `main.py worker` of the bench, with its output, log and data in `folder`.

    Attributes:
        id: its worker id, from its first line ("started as worker ID").
        killed: the bench SIGKILLed it.
        hung: it did not exit within the time given after SIGTERM.
    """

    name: str
    proc: subprocess.Popen[bytes]
    folder: Path
    id: str = ""
    killed: bool = False
    hung: bool = False

    @classmethod
    def start(
        cls, name: str, url: str, folder: Path, concurrency: int, wrapper: Sequence[str] = ()
    ) -> WorkerProcess:
        where = folder / name
        where.mkdir(parents=True)
        env = {
            "XDG_STATE_HOME": str(where / "state"),
            "XDG_DATA_HOME": str(where / "data"),
            "PGAPPNAME": APP + name,
        }
        cmd = ["worker", "--db", url, "--concurrency", str(concurrency)]
        proc = main_py(cmd, wrapper=wrapper, output=where / "output.txt", env=env)
        return cls(name, proc, where)

    def output(self) -> str:
        return (self.folder / "output.txt").read_text(errors="replace")

    def log(self) -> str:
        logs = sorted((self.folder / "state").rglob("console.log*"))
        return "".join(p.read_text(errors="replace") for p in logs)

    def wait_started(self, deadline: float) -> None:
        def started() -> str | None:
            if self.proc.poll() is not None:
                raise BenchFailed(
                    f"worker {self.name} exited ({self.proc.returncode}) "
                    f"before it started:\n{self.output()}"
                )
            found = re.search(r"started as worker (\S+)", self.output())
            return found.group(1) if found else None

        self.id = until(started, deadline, f"worker {self.name} to start")

    def kill(self) -> None:
        kill(self.proc)  # its whole process group: the engine and its browser
        self.killed = True

    def engine(self) -> psutil.Process | None:
        """The `main.py` process: the one started, or a child of its wrapper (faketime
        forks the program instead of becoming it)."""
        try:
            started = psutil.Process(self.proc.pid)
            for p in [started, *started.children(recursive=True)]:
                if p.cmdline()[1:2] == ["main.py"]:
                    return p
        except psutil.Error:
            pass
        return None

    def stop(self, timeout: float) -> None:
        """SIGTERM, as an operator stops it; SIGKILL if it is not gone within `timeout`."""
        if self.proc.poll() is None:
            engine = self.engine()
            (engine or self.proc).send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                self.killed, self.hung = False, True
        with contextlib.suppress(ProcessLookupError):  # whatever it left behind
            os.killpg(self.proc.pid, signal.SIGKILL)

    def summary(self) -> dict[str, Any]:
        out, log = self.output(), self.log()
        expected = -signal.SIGKILL if self.killed else 0
        return {
            "host": self.id.split(":")[0],
            "exit": self.proc.returncode,
            "hung": self.hung,
            "crashed": self.proc.returncode != expected or TRACEBACK in out + log,
            "tracebacks": (out + log).count(TRACEBACK),
            "bought": out.count(" purchased: task "),
            "errors": [ln for ln in out.splitlines() if " error: " in ln][:5],
        }


def until(
    condition: Callable[[], T | None],
    deadline: float,
    what: str,
    workers: Iterable[WorkerProcess] = (),
) -> T:
    """Polls `condition()` until it returns something true; BenchFailed at `deadline`, or
    as soon as one of `workers` the bench did not kill has exited."""
    while True:
        value = condition()
        if value:
            return value
        for w in workers:
            if not w.killed and w.proc.poll() is not None:
                raise BenchFailed(f"worker {w.name} exited ({w.proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise BenchFailed(f"timed out waiting for {what}")
        time.sleep(POLL_S)


def settled(db: Database) -> int:
    with db.reading() as s:
        return int(s.scalar(select(func.count()).where(Task.status.in_(SETTLED))) or 0)


def holding(db: Database, worker_id: str, statuses: Iterable[TaskStatus]) -> list[int]:
    """The Tasks `worker_id` holds in one of `statuses`."""
    with db.reading() as s:
        return list(
            s.scalars(select(Task.id).where(Task.worker == worker_id, Task.status.in_(statuses)))
        )


@dataclass
class Kill:
    """A worker killed mid-purchase: the server's time and last event then, and the
    Tasks it held in the middle of a purchase."""

    at: datetime
    last_event: int
    tasks: list[int]
    in_status: str


def kill_mid_purchase(
    db: Database,
    w: WorkerProcess,
    after_settled: int,
    deadline: float,
    patience_s: float,
    workers: Iterable[WorkerProcess],
) -> Kill:
    """Once `after_settled` units are settled, kills `w` as soon as one of its Tasks is
    `submitting` (its order may be placed at that moment), or `running` after
    `patience_s`."""
    what = f"{after_settled} units settled"
    until(lambda: settled(db) >= after_settled, deadline, what, workers)
    wanted = time.monotonic() + patience_s
    until(
        lambda: (
            holding(db, w.id, {TaskStatus.SUBMITTING})
            or (time.monotonic() > wanted and holding(db, w.id, {TaskStatus.RUNNING}))
        ),
        deadline,
        f"worker {w.name} to run a purchase",
        workers,
    )
    w.kill()
    with db.reading() as s:
        at = database_now(s.connection())
        last = int(s.scalar(select(func.max(TaskEvent.id))) or 0)
        held = s.execute(
            select(Task.id, Task.status).where(Task.worker == w.id, Task.status.in_(ACTIVE))
        ).all()
    statuses = {str(st) for _, st in held}
    in_status = "submitting" if "submitting" in statuses else ",".join(sorted(statuses))
    say(f"{w.name} killed with {len(held)} purchases under way (tasks {[t for t, _ in held]})")
    return Kill(at, last, [t for t, _ in held], in_status)


def say(text: str) -> None:
    """What the bench is doing, on stderr (the last line of stdout is the result)."""
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


def rescued(db: Database, worker_id: str, k: Kill) -> dict[str, Any]:
    """How the others rescued the worker killed at `k`: the Tasks it held, seconds to its
    worker row taken for dead and to the event that took the last of its Tasks out of its
    hands (None: some never were; they are listed as stranded)."""
    with db.reading() as s:
        declared = s.scalar(select(Worker.rescued_at).where(Worker.id == worker_id))
        first = (
            select(func.min(TaskEvent.id))
            .where(TaskEvent.task_id.in_(k.tasks), TaskEvent.id > k.last_event)
            .group_by(TaskEvent.task_id)
        )
        moved = dict(
            s.execute(select(TaskEvent.task_id, TaskEvent.at).where(TaskEvent.id.in_(first))).all()
        )
    stranded = [t for t in k.tasks if t not in moved]
    return {
        "seconds": None if stranded else _seconds(max(moved.values(), default=k.at), k.at),
        "declared_dead_s": _seconds(declared, k.at),
        "tasks_at_kill": len(k.tasks),
        "killed_in": k.in_status,
        "stranded": stranded,
    }


def _seconds(t: datetime | None, since: datetime) -> float | None:
    if t is None:
        return None
    return round((t.replace(tzinfo=since.tzinfo) - since).total_seconds(), 1)


# The server's clock and the writer at each task_event insert, kept by a trigger of the
# bench's own (the engine's rows carry the time a worker computed before its write).
SEEN_DDL = (
    "CREATE TABLE bench_event_seen (event_id bigint PRIMARY KEY, seen_at timestamp NOT NULL,"
    " app text NOT NULL)",
    """CREATE FUNCTION bench_event_seen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO bench_event_seen VALUES
            (NEW.id, timezone('UTC', clock_timestamp()), current_setting('application_name'));
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER bench_event_seen AFTER INSERT ON task_event"
    " FOR EACH ROW EXECUTE FUNCTION bench_event_seen()",
)


def watch_events(db: Database) -> None:
    with db.engine.begin() as conn:
        for ddl in SEEN_DDL:
            conn.execute(text(ddl))


@dataclass(frozen=True)
class Event:
    """A task_event row (times naive UTC), with the server's clock at its insert and the
    worker that wrote it ("" for the bench's own)."""

    id: int
    task: int
    at: datetime
    frm: str | None
    to: str
    account: int | None
    seen_at: datetime
    by: str


def task_events(db: Database) -> list[Event]:
    with db.reading() as s:
        rows = s.execute(
            text(
                "SELECT e.id, e.task_id, e.at, e.from_status, e.to_status, e.account_id,"
                " coalesce(s.seen_at, e.at), coalesce(s.app, '') FROM task_event e"
                " LEFT JOIN bench_event_seen s ON s.event_id = e.id ORDER BY e.id"
            )
        ).all()
    return [
        Event(eid, task, at, frm, to, account, seen_at, app.removeprefix(APP))
        for eid, task, at, frm, to, account, seen_at, app in rows
    ]


# How to order events: the times the workers wrote (their clocks corrected to the
# server's), the server's clock at the inserts, the ids (the order the server took them).
ORDERS: dict[str, Callable[[Event], Any]] = {
    "time": lambda e: e.at,
    "server_clock": lambda e: e.seen_at,
    "commit_order": lambda e: e.id,
}


@dataclass
class Span:
    """A Task's stretch in the middle of a purchase with one account: from its event into
    `assigned` to its event out of the active states (None: still active)."""

    task: int
    account: int
    start: Event
    end: Event | None = None


def active_spans(events: list[Event]) -> list[Span]:
    spans: list[Span] = []
    open_: dict[int, Span] = {}
    for e in events:
        if e.frm in ACTIVE and e.to not in ACTIVE and e.task in open_:
            open_.pop(e.task).end = e
        if e.to == TaskStatus.ASSIGNED and e.account is not None:
            open_[e.task] = Span(e.task, e.account, e)
            spans.append(open_[e.task])
    return spans


@dataclass
class DoubleUse:
    """Accounts found in two active Tasks at once, a few examples, and by times the
    longest overlap."""

    accounts: set[int] = field(default_factory=set)
    examples: list[str] = field(default_factory=list)
    max_overlap_s: float | None = None

    def add(self, account: int, overlap: Any, example: str) -> None:
        self.accounts.add(account)
        if len(self.examples) < 5:
            self.examples.append(example)
        if isinstance(overlap, timedelta):
            seconds = round(overlap.total_seconds(), 3)
            self.max_overlap_s = max(self.max_overlap_s or 0.0, seconds)


def double_use(spans: list[Span], order: str) -> DoubleUse:
    """The accounts with two spans that overlap when events are ordered by `order`."""
    key = ORDERS[order]
    found = DoubleUse()
    per_account: dict[int, list[Span]] = defaultdict(list)
    for sp in spans:
        per_account[sp.account].append(sp)
    for account, mine in per_account.items():
        mine.sort(key=lambda sp: key(sp.start))
        latest = mine[0]  # of the spans so far, the one that ends last
        for sp in mine[1:]:
            if latest.end is None:
                found.add(account, None, _overlap(order, account, latest, sp))
            elif key(sp.start) < key(latest.end):
                overlap = key(latest.end) - key(sp.start)
                found.add(account, overlap, _overlap(order, account, latest, sp))
            if latest.end is not None and (sp.end is None or key(sp.end) > key(latest.end)):
                latest = sp
    return found


def _overlap(order: str, account: int, first: Span, second: Span) -> str:
    key = ORDERS[order]
    ended = "never" if first.end is None else f"{key(first.end)} by {first.end.by}"
    return (
        f"by {order}: account {account} in task {first.task} from {key(first.start)} by "
        f"{first.start.by} to {ended}, and in task {second.task} from {key(second.start)} "
        f"by {second.start.by}"
    )


def event_lag(events: list[Event]) -> dict[str, dict[str, float]]:
    """Per worker: seconds from the time it wrote on an event to the server's clock at its
    insert (the median near 0 for each: its clock was corrected to the server's)."""
    lags: dict[str, list[float]] = defaultdict(list)
    for e in events:
        if e.by:
            lags[e.by].append((e.seen_at - e.at).total_seconds())
    return {
        who: {"median": round(statistics.median(v), 3), "max": round(max(v), 3)}
        for who, v in sorted(lags.items())
    }


def clock_offset_seen(output: str) -> float | None:
    """The worker's clock against the server's from its clock notice (negative: behind);
    None when it gave none (within 5 s)."""
    found = re.search(r"clock is (\d+) s (behind|ahead of) the database server's", output)
    if found is None:
        return None
    seconds = float(found.group(1))
    return -seconds if found.group(2) == "behind" else seconds


def run(url: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    deadline = started + args.timeout
    procs: dict[str, WorkerProcess] = {}
    kills: dict[str, Kill] = {}
    result: dict[str, Any] = {"gave_up": False}
    with faulty_shop(folder, args.accounts, args.seed) as shop:
        prepare(url, shop.url, args.accounts, chaos_order(args.units, UnitRule.OFF))
        db = Database(url)
        watch_events(db)

        def start(name: str, wrapper: Sequence[str] = ()) -> WorkerProcess:
            procs[name] = WorkerProcess.start(name, url, folder, args.concurrency, wrapper)
            procs[name].wait_started(deadline)
            say(f"{name} started as worker {procs[name].id}")
            return procs[name]

        def kill_at(w: WorkerProcess, share: float) -> None:
            after = int(args.units * share)
            watched = list(procs.values())
            kills[w.name] = kill_mid_purchase(db, w, after, deadline, args.patience_s, watched)

        try:
            a, b, _c = start("A"), start("B", UNSHARE), start("C", FAKETIME)
            kill_at(a, args.kill_a_at)
            start("A2")
            kill_at(b, args.kill_b_at)
            done = "every unit settled"
            until(lambda: settled(db) >= args.units, deadline, done, list(procs.values()))
            say("every unit settled: stopping the workers (SIGTERM)")
        except BenchFailed as exc:
            say(f"given up: {exc}")
            result.update(gave_up=True, why=str(exc))
        finally:
            for w in procs.values():
                w.stop(timeout=args.stop_s)
        result.update(compare(db, shop.orders(), args.units))
        events = task_events(db)
        spans = active_spans(events)
        found = {order: double_use(spans, order) for order in ORDERS}
        result.update(
            accounts_double_used=len(found["time"].accounts),
            double_use_max_overlap_s=found["time"].max_overlap_s,
            accounts_double_used_by_server_clock=len(found["server_clock"].accounts),
            accounts_double_used_by_commit_order=len(found["commit_order"].accounts),
            double_use_examples=[x for f in found.values() for x in f.examples],
            event_lag_s=event_lag(events),
        )
        rescues = {name: rescued(db, procs[name].id, k) for name, k in kills.items()}
        result.update(
            rescue_seconds=rescues["B"]["seconds"] if "B" in rescues else None,
            rescues=rescues,
        )
        db.close()
    result["workers"] = {name: w.summary() for name, w in procs.items()}
    result.update(
        crashes=sum(w["crashed"] for w in result["workers"].values()),
        clock_offset_seen_by_c_s=clock_offset_seen(procs["C"].output()) if "C" in procs else None,
        seconds=round(time.monotonic() - started, 1),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", required=True, help="a PostgreSQL server's URL")
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--accounts", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=3, help="purchases at once a worker")
    parser.add_argument("--kill-a-at", type=float, default=0.2, help="share settled, A killed")
    parser.add_argument("--kill-b-at", type=float, default=0.4, help="share settled, B killed")
    parser.add_argument(
        "--patience-s",
        type=float,
        default=10.0,
        help="how long to wait for a worker's Task in `submitting` before killing it in `running`",
    )
    parser.add_argument("--stop-s", type=float, default=60.0, help="SIGTERM to exit, at most")
    parser.add_argument("--timeout", type=float, default=1800.0, help="the whole run, at most")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--logs", type=Path, help="keep the workers' output and logs here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if make_url(url_for(args.db)).get_backend_name() != "postgresql":
        parser.error("--db must name a PostgreSQL server: the workers share its database")
    for tool in ("unshare", "faketime"):
        if shutil.which(tool) is None:
            parser.error(f"`{tool}` is not installed (bash scripts/setup.sh installs it)")
    with tempfile.TemporaryDirectory() as tmp, bench_database(args.db, Path(tmp)) as url:
        try:
            result = run(url, Path(tmp), args)
        finally:
            if args.logs is not None:
                shutil.copytree(
                    tmp,
                    args.logs,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("data", "*.sqlite3*"),
                )
    report(result, args.json)


if __name__ == "__main__":
    main()
