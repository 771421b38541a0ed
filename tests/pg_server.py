"""PostgreSQL for the tests: a throwaway cluster of the test run's own (or the server that
$BUYBACK_TEST_PG names) and cheap fresh databases on it, copied from a migrated template.

The cluster lives in a temporary folder (in memory where /dev/shm is): a free port on
127.0.0.1, its unix socket in that folder, trust for loopback (its role still has a
password, so URLs carry one as real ones do), and no syncing to disk (fsync,
synchronous_commit and full_page_writes off: a crash loses nothing the tests need). It
runs as the `postgres` OS user when the tests run as root (initdb refuses root), else as
the current user. A watchdog removes it when the test run dies without doing so; failing
that, the next run does."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from app.core.storage.db import Database

PG_ENV = "BUYBACK_TEST_PG"  # a server URL: use it instead of a throwaway cluster
PREFIX = "buyback-pg-"  # the clusters' folders in the temporary folder
ROLE = "buyback_test"
OWNER_FILE = "owner.pid"  # the test run that started the cluster in this folder

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # Every test's Database has a pool; the engine tests run a few at once.
    "max_connections": "200",
    "max_wal_size": "'256MB'",  # the folder may be in memory (/dev/shm)
    "log_min_messages": "warning",
    # Shared memory segments in the data folder, removed with it whatever the stop.
    "dynamic_shared_memory_type": "mmap",
}


class PgUnavailable(RuntimeError):
    """PostgreSQL could not be started or reached: the message says why."""


def bin_dir() -> Path:
    """The folder of the newest PostgreSQL server binaries (Debian keeps them out of PATH)."""
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").is_file()),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)],
    )
    if versions:
        return versions[-1]
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PgUnavailable(
        "no PostgreSQL server binaries (initdb) in /usr/lib/postgresql/*/bin or PATH: "
        "install Debian's `postgresql` package (bash scripts/setup.sh does)"
    )


def _as_owner(cmd: list[str]) -> list[str]:
    """`cmd` run as the cluster's owner: `postgres` when we are root, else ourselves."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(cmd: list[str], what: str, timeout: float = 120) -> None:
    done = subprocess.run(_as_owner(cmd), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise PgUnavailable(f"{what} failed ({done.returncode}): {done.stderr or done.stdout}")


def _temp_root() -> Path:
    """Where clusters go: /dev/shm when it has room (in memory: a database copy costs
    0.05 s there, 0.3-0.6 s on a disk; a container's is often 64 MB), else the temporary
    folder. Either must let the `postgres` user in, as both do on Debian (mode 1777)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        free = os.statvfs(shm)
        if free.f_bavail * free.f_frsize >= 2 << 30:
            return shm
    return Path(tempfile.gettempdir())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Server:
    """A PostgreSQL server the tests create databases on.

    Attributes:
        url: a SQLAlchemy URL of the server (postgresql+psycopg, with user and password);
            its database is the one to connect to for CREATE/DROP DATABASE.
        prefix: begins the name of every database this test run creates (unique per run,
            so that runs sharing a server never meet).
    """

    url: URL
    prefix: str = field(default_factory=lambda: f"buyback_{uuid.uuid4().hex[:8]}")
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _admin: psycopg.Connection | None = None
    # The admin connection's work, one statement at a time in the order asked: copies made
    # ahead and drops run while the tests do (about 0.15 s a test).
    _jobs: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="pg-admin")
    )
    _spare: tuple[str, Future[str]] | None = None  # (template, its next copy)
    _dropping: list[Future[None]] = field(default_factory=list)

    def database_url(self, name: str) -> str:
        """The SQLAlchemy URL of database `name` on this server, password included."""
        return self.url.set(database=name).render_as_string(hide_password=False)

    def admin(self) -> psycopg.Connection:
        if self._admin is None or self._admin.closed:
            u = self.url
            self._admin = psycopg.connect(
                host=u.host,
                port=u.port,
                user=u.username,
                password=u.password,
                dbname=u.database or "postgres",
                autocommit=True,
                connect_timeout=10,
            )
        return self._admin

    def create_database(self, template: str | None = None) -> str:
        """A new database's name: empty, or a copy of `template`."""
        return self._jobs.submit(self._create, template).result()

    def drop_database(self, name: str) -> None:
        """Drops `name`, ending whatever connections a test left open to it."""
        self._jobs.submit(self._drop, name).result()

    def copy_of(self, template: str) -> str:
        """A new copy of `template`: the one made while the last test ran; the next one is
        begun now."""
        spare = self._spare[1] if self._spare and self._spare[0] == template else None
        self._spare = (template, self._jobs.submit(self._create, template))
        return (spare or self._jobs.submit(self._create, template)).result()

    def drop_soon(self, name: str) -> None:
        """Drops `name` while the next test runs; a failure is raised by close()."""
        self._dropping.append(self._jobs.submit(self._drop, name))

    def migrated_template(self) -> str:
        """A new database brought to the schema's head by the app itself (Alembic), for
        CREATE DATABASE ... TEMPLATE: a copy costs a file copy, not a migration."""
        name = self.create_database()
        Database(self.database_url(name)).close()  # closed: a template must have no users
        return name

    def close(self) -> None:
        """Drops the copy made ahead, waits for the drops, closes the admin connection."""
        try:
            if self._spare is not None:
                self.drop_database(self._spare[1].result())
                self._spare = None
            for dropped in self._dropping:
                dropped.result()
        finally:
            self._jobs.shutdown()
            if self._admin is not None:
                self._admin.close()
                self._admin = None

    def _create(self, template: str | None) -> str:
        name = f"{self.prefix}_{next(self._names)}"
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            stmt = sql.SQL("{} TEMPLATE {}").format(stmt, sql.Identifier(template))
        self.admin().execute(stmt)
        return name

    def _drop(self, name: str) -> None:
        self.admin().execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def external_server(given: str) -> Server:
    """The server that $BUYBACK_TEST_PG names (any database on it, a role that may create
    databases), reached through psycopg 3 whatever driver the URL names."""
    try:
        url = make_url(given)
    except Exception as exc:
        raise PgUnavailable(f"${PG_ENV} is not a database URL: {exc}") from None
    if url.get_backend_name() != "postgresql":
        raise PgUnavailable(f"${PG_ENV} names a {url.get_backend_name()} server, not PostgreSQL")
    server = Server(url.set(drivername="postgresql+psycopg"))
    try:
        server.admin()
    except psycopg.Error as exc:
        raise PgUnavailable(f"cannot reach the server ${PG_ENV} names: {exc}") from None
    return server


@dataclass
class Cluster:
    """A throwaway cluster: its folder (data, socket, log) and its running server."""

    base: Path
    bin: Path
    port: int = 0
    watchdog: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "postgres.log"

    def pg_ctl(self, *args: str, what: str, timeout: float = 120) -> None:
        _run([str(self.bin / "pg_ctl"), "-D", str(self.data), *args], what, timeout)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        """Stops the server (it is thrown away: no checkpoint) and removes the folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(PgUnavailable, subprocess.TimeoutExpired):
                self.pg_ctl("-m", "immediate", "-w", "stop", what="pg_ctl stop", timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)
        if self.watchdog is not None:  # its work is done
            self.watchdog.kill()
            self.watchdog.wait()
            self.watchdog = None


def _remove_orphans(bin: Path) -> None:
    """Stops and removes the clusters of earlier test runs that died, watchdog and all,
    without doing it: they would hold memory and ports for nothing."""
    roots = {Path("/dev/shm"), Path(tempfile.gettempdir())}
    for base in (b for root in roots for b in root.glob(PREFIX + "*")):
        try:
            owner = int((base / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if owner != os.getpid() and not _alive(owner):
            Cluster(base, bin).stop()


def start_cluster() -> tuple[Cluster, Server]:
    """Creates and starts a throwaway cluster; raises PgUnavailable saying why it could
    not, and then leaves nothing behind."""
    bin = bin_dir()
    _remove_orphans(bin)
    cluster = Cluster(Path(tempfile.mkdtemp(prefix=PREFIX, dir=_temp_root())), bin)
    try:
        (cluster.base / OWNER_FILE).write_text(str(os.getpid()))
        password = secrets.token_urlsafe(16)
        _init(cluster, password)
        _start(cluster)
        _watch(cluster)
    except BaseException:  # Ctrl+C during the start too
        cluster.stop()
        raise
    url = URL.create(
        "postgresql+psycopg",
        username=ROLE,
        password=password,
        host="127.0.0.1",
        port=cluster.port,
        database="postgres",
    )
    return cluster, Server(url)


def _watch(cluster: Cluster) -> None:
    """A watchdog of its own session that stops and removes the cluster once this process
    is gone, however it went (SIGKILL, a timeout): the fixture's teardown cannot then."""
    stop = shlex.join(
        _as_owner([str(cluster.bin / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"])
    )
    script = (
        f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
        f'[ -f "$1/data/postmaster.pid" ] && {stop} >/dev/null 2>&1; rm -rf "$1"'
    )
    cluster.watchdog = subprocess.Popen(
        ["sh", "-c", script, "sh", str(cluster.base)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _init(cluster: Cluster, password: str) -> None:
    pwfile = cluster.base / "pwfile"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        try:
            import pwd

            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise PgUnavailable(
                "the tests run as root, and initdb refuses root; there is no `postgres` user "
                "to run it as: install Debian's `postgresql` package (bash scripts/setup.sh)"
            ) from None
        for path in (cluster.base, pwfile):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    _run(
        [
            str(cluster.bin / "initdb"),
            "-D",
            str(cluster.data),
            "-U",
            ROLE,
            f"--pwfile={pwfile}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        "initdb",
    )
    pwfile.unlink()
    settings = {**SETTINGS, "unix_socket_directories": f"'{cluster.base}'"}
    with (cluster.data / "postgresql.conf").open("a") as conf:
        conf.write("\n# the tests' throwaway cluster (tests/pg_server.py)\n")
        conf.writelines(f"{k} = {v}\n" for k, v in settings.items())


def _start(cluster: Cluster) -> None:
    for attempt in range(3):  # another process may take the free port before the server
        cluster.port = _free_port()
        try:
            cluster.pg_ctl(
                "-l",
                str(cluster.log),
                "-o",
                f"-p {cluster.port}",
                "-w",
                "-t",
                "60",
                "start",
                what="pg_ctl start",
            )
            return
        except PgUnavailable as exc:
            if attempt == 2 or "already in use" not in cluster.log_tail():
                raise PgUnavailable(f"{exc}\nserver log:\n{cluster.log_tail()}") from None
