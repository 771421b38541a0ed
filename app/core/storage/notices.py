"""PostgreSQL change notices: a listener thread that hears every commit's changes of Tasks,
Orders and account leases (the triggers of migration f6a7b8c9d0e1 announce them on the
channel "buyback") and hands them to a callback, so that every console and worker of a
team learns of another's changes at once instead of polling.

    listener = listener_for(db.url, on_change)  # None on SQLite: no notices there
    ...
    if listener is not None:
        listener.stop()

`on_change(change)` runs on the listener's thread, once per notice, in commit order (the
local process's own commits included), and must be quick: a console queues it for its GUI
thread, an asyncio loop takes it with `loop.call_soon_threadsafe`. `on_change(None)` says
notices may have been missed (the connection dropped, or could not be made at first): read
everything again. Polling is then only that fallback. Notices are heard from the moment
`wait_listening()` is true: what a caller reads after that misses nothing.
"""

from __future__ import annotations

import enum
import json
import logging
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from app.core.storage.db import display_url

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

CHANNEL = "buyback"
# Workers' channel: an empty notice when there may be work again (units back in the queue,
# an account freed, an Order changed); delivered as WAKE.
WAKE_CHANNEL = "buyback_wake"
NAME = "buyback-notices"  # the listener's application_name (pg_stat_activity) by default
FIRST_DELAY_S = 1.0  # a lost connection is made again after this, then twice as long...
MAX_DELAY_S = 30.0  # ...up to this
# libpq's defaults for the listener's connection unless the URL gives them: a server
# that vanished without closing the connection (a cable, a VM paused) is noticed within
# about a minute by TCP keepalives, where an idle listener would otherwise wait forever.
CONNECTION_DEFAULTS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}


class ChangeKind(enum.StrEnum):
    TASK = "task"  # Tasks were inserted or updated
    ORDER = "order"  # Orders were inserted or updated
    ACCOUNT = "account"  # an account's lease was released: a waiting Task may take it


@dataclass(frozen=True, slots=True)
class Change:
    """One committed statement's changes.

    Attributes:
        kind: what changed.
        orders: the Orders changed (ORDER), or the Orders of the Tasks changed (TASK).
        tasks: the Tasks changed (TASK); None when too many changed at once to list
            (more than 400 in one statement): read the `orders`' Tasks again.
        freed: (TASK) some changed Task is no longer running, so its account's lease
            may be free.
    """

    kind: ChangeKind
    orders: frozenset[int] = frozenset()
    tasks: frozenset[int] | None = frozenset()
    freed: bool = False


OnChange = Callable[[Change | None], None]


# What a notice on WAKE_CHANNEL is: there may be work again (it names nothing).
WAKE = Change(ChangeKind.ACCOUNT, frozenset(), None, True)


def parse_change(payload: str) -> Change:
    """The Change a notice's payload describes; ValueError if it describes none."""
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    kind = data.get("kind")
    if not isinstance(kind, str):
        raise ValueError("no kind")
    tasks = data.get("tasks", [])
    freed = data.get("freed")  # null: the statement changed no row
    if not isinstance(freed, bool | None):
        raise ValueError(f"freed is {freed!r}")
    return Change(
        ChangeKind(kind),  # ValueError for an unknown kind
        _ids(data.get("orders", []), "orders"),
        None if tasks is None else _ids(tasks, "tasks"),
        bool(freed),
    )


def _ids(value: Any, name: str) -> frozenset[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ValueError(f"{name} is not a list of ids")
    return frozenset(value)


def _says_nothing(change: Change) -> bool:
    # A statement-level trigger fires for a statement that changed no row too (a guarded
    # update that found its Task moved on): such a notice names nothing.
    return (
        change.kind is not ChangeKind.ACCOUNT and not change.orders and change.tasks == frozenset()
    )


def conninfo(url: str, application_name: str = NAME) -> str:
    """The libpq connection string of a PostgreSQL SQLAlchemy URL (any driver): its host,
    port, database, user and password, its query's options as libpq's own, and
    CONNECTION_DEFAULTS where the query sets none; named `application_name` whatever it
    says. It holds the password: log display_url(url) instead."""
    from psycopg.conninfo import make_conninfo

    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {display_url(url)}")
    params: dict[str, Any] = dict(CONNECTION_DEFAULTS)
    params.update({k: v[-1] if isinstance(v, tuple) else v for k, v in u.query.items()})
    named = {"host": u.host, "port": u.port, "dbname": u.database, "user": u.username}
    params.update({k: str(v) for k, v in named.items() if v is not None})
    if u.password is not None:
        params["password"] = str(u.password)
    params["application_name"] = application_name
    return make_conninfo(**params)


class ChangeListener:
    """LISTENs on CHANNEL on a connection of its own (a daemon thread) and calls
    `on_change` for each notice: a Change, or None after a reconnection (see the module's
    docstring). A malformed notice is logged and skipped; an exception from `on_change` is
    logged and the listener goes on. A lost connection is made again after FIRST_DELAY_S,
    doubling up to MAX_DELAY_S while it fails.

    Attributes:
        url: the database's SQLAlchemy URL.
        application_name: the connection's name in pg_stat_activity.
        backend_pid: the server process of the connection listening now, or None.
    """

    def __init__(
        self,
        url: str,
        on_change: OnChange,
        *,
        application_name: str = NAME,
        channel: str = CHANNEL,
    ):
        self.url = url
        self.channel = channel
        self.application_name = application_name
        self.backend_pid: int | None = None
        self._on_change = on_change
        self._conninfo = conninfo(url, application_name)
        self._listening = threading.Event()
        self._stopping = False
        # stop() writes a byte here: the thread waits on it beside the connection, so it
        # ends at once however long it would have waited for a notice or to reconnect.
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._run, name="db-notices", daemon=True)

    def start(self) -> ChangeListener:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        """Ends the thread and closes its connection; waits at most `timeout` seconds for
        it (None: until it has ended)."""
        self._stopping = True
        if self._thread.ident is None:  # never started: nobody else closes them
            self._wake_r.close()
            self._wake_w.close()
            return
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass  # already stopped
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait_listening(self, timeout: float) -> bool:
        """Waits until notices are heard (the LISTEN is in effect), at most `timeout`
        seconds; whether they are. A change committed after this returns True is heard."""
        return self._listening.wait(timeout)

    # -- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        delay = FIRST_DELAY_S
        missed = False  # notices may have gone unheard: say so once listening again
        try:
            while not self._stopping:
                if self._listen(missed):
                    delay = FIRST_DELAY_S  # it was made: the next loss starts afresh
                missed = True
                if self._stopping or self._sleep(delay):
                    break
                delay = min(delay * 2, MAX_DELAY_S)
        finally:
            self._wake_r.close()
            self._wake_w.close()

    def _listen(self, missed: bool) -> bool:
        """Connects, listens and hands notices on until stopped or the connection is lost;
        whether it listened."""
        import psycopg

        where = display_url(self.url)
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.Error as exc:
            log.warning("change notices: cannot connect to %s: %s", where, _one_line(exc))
            return False
        try:
            with conn:
                conn.execute(f"LISTEN {self.channel}")
                self.backend_pid = conn.info.backend_pid
                self._listening.set()
                if missed:
                    log.info("change notices: listening again on %s", where)
                    self._deliver(None)
                self._hand_on(conn)
        except psycopg.Error as exc:
            if not self._stopping:
                log.warning("change notices: connection to %s lost: %s", where, _one_line(exc))
        finally:
            self._listening.clear()
            self.backend_pid = None
        return True

    def _hand_on(self, conn: psycopg.Connection[Any]) -> None:
        sock, wake = conn.fileno(), self._wake_r.fileno()
        while True:
            # Notices received with the LISTEN's answer are already read: take them first.
            for notice in conn.notifies(timeout=0):
                self._notice(notice.payload)
            if self._stopping:
                return
            ready, _, _ = select.select([sock, wake], [], [])
            if wake in ready:
                return

    def _sleep(self, seconds: float) -> bool:
        """Waits `seconds` unless stopped meanwhile; whether stopped."""
        ready, _, _ = select.select([self._wake_r], [], [], seconds)
        return bool(ready) or self._stopping

    def _notice(self, payload: str) -> None:
        if self.channel == WAKE_CHANNEL:
            self._deliver(WAKE)
            return
        try:
            change = parse_change(payload)
        except ValueError as exc:
            log.warning("change notices: ignored a malformed notice (%s): %.200s", exc, payload)
            return
        if not _says_nothing(change):
            self._deliver(change)

    def _deliver(self, change: Change | None) -> None:
        try:
            self._on_change(change)
        except Exception:
            log.exception("change notices: handling %r failed", change)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def listener_for(
    url: str, on_change: OnChange, *, application_name: str = NAME, channel: str = CHANNEL
) -> ChangeListener | None:
    """A started ChangeListener on the database at `url`; None where there are no notices
    (SQLite: one computer, whose own engine's events say everything)."""
    if make_url(url).get_backend_name() != "postgresql":
        return None
    listener = ChangeListener(url, on_change, application_name=application_name, channel=channel)
    return listener.start()
