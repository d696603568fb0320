"""A throw-away PostgreSQL cluster for the tests, the soak and `make cluster`.

It lives in a temporary folder, listens on a free loopback port, trusts local connections
and is removed when stopped: nothing depends on a server that happens to be running, and
nothing is left behind. Debian's ``postgresql`` package provides ``initdb`` and ``pg_ctl``
(``make test`` installs it when missing). PostgreSQL refuses to run as root, so as root
the cluster runs as ``nobody``, in a folder made for it.

The server runs as a child of the process that starts it, not handed to init as ``pg_ctl
start`` does: in a container init may never reap it, and a server killed outright would stay
a zombie whose process id, still in ``postmaster.pid``, PostgreSQL takes for a live server
and will not start beside. So `crash` can kill it and `restart` start it again.
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg

from .support import free_port

UNPRIVILEGED_USER = "nobody"
START_TIMEOUT_SECONDS = 60


def find_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are: Debian's newest version, else the PATH."""
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if debian:
        return Path(debian[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


class PostgresCluster:
    """A PostgreSQL server of our own; `start` it, hand out databases, `stop` it."""

    def __init__(self, *, durable: bool = False) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise FileNotFoundError("initdb not found: install PostgreSQL (make test does)")
        self._bindir = bindir
        # Tests need no durability: without fsync a database is made in milliseconds.
        self._durable = durable
        self.port = free_port()
        self._folder = Path(tempfile.mkdtemp(prefix="pg-"))
        self._data = self._folder / "data"
        self._user = UNPRIVILEGED_USER if os.geteuid() == 0 else None
        self._server: subprocess.Popen[bytes] | None = None

    @property
    def admin_url(self) -> str:
        """A URL of the cluster's own ``postgres`` database, as its superuser."""
        return self.url("postgres")

    def url(self, database: str) -> str:
        """The URL of ``database`` in this cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> "PostgresCluster":
        """Create the cluster and start its server; return once it takes connections."""
        if self._user is not None:
            account = pwd.getpwnam(self._user)
            os.chown(self._folder, account.pw_uid, account.pw_gid)
        self._run(
            "initdb",
            "--pgdata",
            str(self._data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-instructions",
            *([] if self._durable else ["--no-sync"]),
        )
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self._folder}'",
            "max_connections = 200",
        ]
        if not self._durable:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with (self._data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        self._serve()
        return self

    def crash(self) -> None:
        """SIGKILL the server and all its processes at once, as a lost machine ends them: what
        only their memory held is gone, what they wrote stays for `restart`."""
        assert self._server is not None, "the server is not running"
        pid = self._server.pid
        os.kill(pid, signal.SIGSTOP)  # so that it starts no process while they are counted
        processes = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
        for process in processes:
            with suppress(ProcessLookupError):
                os.kill(process, signal.SIGKILL)
        self._server.wait()
        self._server = None
        # A new server will not start while a process still maps the old shared memory.
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while any(_is_running(process) for process in processes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL processes outlived SIGKILL: {processes}")
            time.sleep(0.01)

    def restart(self) -> None:
        """Start the server again on the data it left; after a `crash`, it first replays its
        write-ahead log, as after a power cut."""
        self._serve()

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL. (About a second each: see `create_schema`.)"""
        name = name or f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def create_schema(self, database_url: str) -> str:
        """A URL of ``database_url`` that sees only a new empty schema of its own.

        Milliseconds, where a database takes about a second: what a test needs per case.
        The schema is named in the URL's ``options``, so every connection made with it
        (by a server process too) finds its tables there.
        """
        name = f"s_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{database_url}?options=-csearch_path%3D{name}"

    def drop_schema(self, schema_url: str) -> None:
        """Remove a schema made by `create_schema`, with everything in it."""
        database_url, _, options = schema_url.partition("?")
        name = options.rpartition("%3D")[2]
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    def pid(self) -> int:
        """The server's process id (its backends are its children)."""
        return int((self._data / "postmaster.pid").read_text().split()[0])

    def log(self) -> str:
        """What the server logged so far."""
        path = self._folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the server at once and remove the cluster's folder."""
        if self._server is not None:
            self._run("pg_ctl", "--pgdata", str(self._data), "--mode", "immediate", "stop")
            self._server.wait(timeout=START_TIMEOUT_SECONDS)
            self._server = None
        shutil.rmtree(self._folder, ignore_errors=True)

    def _serve(self) -> None:
        """Start the server as a child of this process; return once it takes connections."""
        with (self._folder / "server.log").open("ab") as log:
            self._server = subprocess.Popen(
                [str(self._bindir / "postgres"), "-D", str(self._data)],
                **self._as_owner(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # as pg_ctl does: no Ctrl-C of a terminal reaches it
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if self._server.poll() is not None:
                self._server = None
                raise RuntimeError(f"postgres exited at start:\n{self.log()}")
            try:
                psycopg.connect(self.admin_url, connect_timeout=5).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not start:\n{self.log()}") from None
                time.sleep(0.05)

    def _as_owner(self) -> dict[str, object]:
        """The `subprocess` arguments that run a program as the cluster's owner."""
        if self._user is None:
            return {"cwd": self._folder}
        account = pwd.getpwnam(self._user)
        return {
            "cwd": self._folder,
            "user": self._user,
            "group": account.pw_gid,
            "extra_groups": [],
        }

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self._bindir / program), *arguments]
        result = subprocess.run(
            command,
            **self._as_owner(),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS + 30,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                f"\n{self.log()}"
            )


def _is_running(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie has ended: only its exit status is left)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


@contextmanager
def running_cluster(*, durable: bool = False) -> Iterator[PostgresCluster]:
    """A started cluster, stopped and removed afterwards."""
    cluster = PostgresCluster(durable=durable)
    try:
        yield cluster.start()
    finally:
        cluster.stop()
