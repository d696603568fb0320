"""SIGKILL the real server in the middle of a storm of refreshes; nothing may be lost or doubled.

Each simulated client holds one session and refreshes it, always with the newest refresh
token it was given: half of them a few times and then idle (like a tab in the background),
half over and over. When enough refreshes have been answered, the server process is killed
outright (no shutdown, no flush), and on PostgreSQL the database server under it too, every
process of it at once, as a lost machine would end them; it runs with its usual durability
(fsync, synchronous commit) for this, where the other tests' cluster does without. Then
the database comes back (PostgreSQL replays its log), its files must be sound and hold every
login and refresh that was answered, the server restarts on it, and every client tries to
go on with the token it holds. An idle client must simply go on; a busy one whose last
answer was lost may find its token spent (the server committed, then died): then within
the reuse grace it gets the successor it missed, after it a clean 401.
"""

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from .postgres import PostgresCluster, running_cluster
from .support import SEED_PASSWORD, SEED_USER, ServerProcess, query, sha256

pytestmark = pytest.mark.both_stores

SESSIONS = 40
ANSWERED_BEFORE_KILL = 300  # refreshes answered 200 before the kill; more are in flight
IDLE_AFTER = 5  # refreshes an idle client makes before it waits
LOGINS_AT_ONCE = 4  # each Argon2 check holds 64 MiB
# PostgreSQL's settings that make a commit it answered survive a crash (the default).
DURABLE = ("fsync", "synchronous_commit", "full_page_writes")


@dataclass
class Client:
    """One session's client: the refresh tokens it was given, the newest last, and how its
    last call ended."""

    received: list[str]
    stop_after: int | None = None
    refreshed: int = 0
    last: str = "ok"  # "ok": answered; "lost": sent, no answer; "unsent": never connected
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def token(self) -> str:
        """The newest refresh token, the one it refreshes with."""
        return self.received[-1]


@dataclass
class CrashableStore:
    """This test's store, and on PostgreSQL the database server it lives in."""

    db: Path | str
    cluster: PostgresCluster | None = None

    def crash(self) -> None:
        """End the database server as a lost machine would (SQLite has none: its file stays
        as the server's SIGKILL left it)."""
        if self.cluster is not None:
            self.cluster.crash()

    def restart(self) -> None:
        """Start the database server again on what the crash left."""
        if self.cluster is not None:
            self.cluster.restart()


@pytest.fixture
def crashable_store(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[CrashableStore]:
    """A SQLite file, or a database in a PostgreSQL cluster of this test's own, durable."""
    if store_kind == "sqlite":
        yield CrashableStore(tmp_path / "live" / "auth.db")
        return
    request.getfixturevalue("postgres")  # skips, or fails, where PostgreSQL is missing
    with running_cluster(durable=True) as cluster:
        db = cluster.create_database("crash")
        settings = query(
            db, "SELECT name, setting FROM pg_settings WHERE name IN (?, ?, ?)", *DURABLE
        )
        assert dict(settings) == dict.fromkeys(DURABLE, "on")
        yield CrashableStore(db, cluster)


def _log_in(url: str) -> Client:
    credentials = {"userName": SEED_USER, "password": SEED_PASSWORD}
    response = httpx.post(url + "/authorization/token", json=credentials, timeout=30)
    response.raise_for_status()
    return Client([response.json()["refreshToken"]])


def _refresh_until_the_server_dies(url: str, client: Client, answered: Callable[[], None]) -> None:
    with httpx.Client(base_url=url, timeout=10) as http:
        while True:
            try:
                response = http.post("/authorization/refresh", json={"refreshToken": client.token})
            except httpx.ConnectError:
                client.last = "unsent"
                return
            except httpx.TransportError:
                client.last = "lost"
                return
            client.statuses[response.status_code] += 1
            if response.status_code != 200:
                return
            client.received.append(response.json()["refreshToken"])
            client.refreshed += 1
            answered()
            if client.refreshed == client.stop_after:
                return


def integrity(db: Path | str) -> str:
    """The database's own check of its files: "ok", or what it found wrong.

    SQLite checks its pages, indexes and foreign keys. PostgreSQL's amcheck checks every
    table's pages and tuples (verify_heapam) and every index against its table, that each
    row is in it (bt_index_parent_check with heapallindexed).
    """
    if isinstance(db, Path):
        problems = [row[0] for row in query(db, "PRAGMA integrity_check") if row[0] != "ok"]
        problems += [f"foreign key: {row}" for row in query(db, "PRAGMA foreign_key_check")]
        return "; ".join(problems) or "ok"
    query(db, "CREATE EXTENSION IF NOT EXISTS amcheck")
    relations = query(
        db,
        "SELECT oid, relkind FROM pg_class"
        " WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'i')",
    )
    tables = [oid for oid, kind in relations if kind == "r"]
    indexes = [oid for oid, kind in relations if kind == "i"]
    problems = [] if tables and indexes else [f"nothing to check: {relations}"]
    for table in tables:
        problems += query(db, "SELECT ?::regclass, * FROM verify_heapam(?::regclass)", table, table)
    for index in indexes:  # an index that is not sound raises, failing the test here
        query(db, "SELECT bt_index_parent_check(?::regclass, true)", index)
    return "; ".join(map(str, problems)) or "ok"


def check_store(db: Path | str) -> dict[str, object]:
    """What must hold in the store after a crash."""
    return {
        "integrity": integrity(db),
        "users": [row[0] for row in query(db, "SELECT name FROM users")],
        "families": query(db, "SELECT COUNT(*) FROM families")[0][0],
        "families with two live tokens": query(
            db,
            "SELECT COUNT(*) FROM (SELECT family_id FROM refresh_tokens"
            " WHERE spent_at IS NULL GROUP BY family_id HAVING COUNT(*) > 1) AS doubled",
        )[0][0],
        # A refresh spends one token and stores its successor in one transaction: both or none.
        "spent tokens without their successor": query(
            db,
            "SELECT COUNT(*) FROM refresh_tokens t WHERE t.successor_hash IS NOT NULL AND NOT"
            " EXISTS (SELECT 1 FROM refresh_tokens s WHERE s.hash = t.successor_hash)",
        )[0][0],
    }


def answered_but_missing(db: Path | str, clients: list[Client]) -> list[str]:
    """Each login and refresh a client got an answer for that the store does not hold: its
    token, and for a refresh the spent token pointing to it."""
    successor_of = dict(query(db, "SELECT hash, successor_hash FROM refresh_tokens"))
    missing = []
    for number, client in enumerate(clients):
        if sha256(client.received[0]) not in successor_of:
            missing.append(f"client {number}: its login")
        for refreshes, (spent, issued) in enumerate(itertools.pairwise(client.received), 1):
            if successor_of.get(sha256(spent)) != sha256(issued):
                missing.append(f"client {number}: refresh {refreshes} of {client.refreshed}")
    return missing


def test_a_sigkill_during_hundreds_of_refreshes_loses_no_acknowledged_session(
    start_server: Callable[..., ServerProcess], crashable_store: CrashableStore
) -> None:
    started = time.monotonic()
    server = start_server(crashable_store.db)
    with ThreadPoolExecutor(LOGINS_AT_ONCE) as pool:
        clients = list(pool.map(lambda _: _log_in(server.url), range(SESSIONS)))
    for client in clients[::2]:
        client.stop_after = IDLE_AFTER

    count_lock = threading.Lock()
    answers = 0
    enough = threading.Event()

    def answered() -> None:
        nonlocal answers
        with count_lock:
            answers += 1
            if answers >= ANSWERED_BEFORE_KILL:
                enough.set()

    with ThreadPoolExecutor(SESSIONS) as pool:
        for client in clients:
            pool.submit(_refresh_until_the_server_dies, server.url, client, answered)
        assert enough.wait(timeout=60), f"only {answers} refreshes were answered"
        server.kill()  # SIGKILL: no shutdown handlers, no chance to flush anything
        crashable_store.crash()

    crashable_store.restart()
    after_kill = check_store(crashable_store.db)
    assert after_kill["integrity"] == "ok"
    assert after_kill["users"] == [SEED_USER]
    assert after_kill["families"] == SESSIONS
    assert after_kill["families with two live tokens"] == 0
    assert after_kill["spent tokens without their successor"] == 0
    assert answered_but_missing(crashable_store.db, clients) == []

    restarted = start_server(crashable_store.db)
    outcomes: Counter[str] = Counter()
    with httpx.Client(base_url=restarted.url, timeout=10) as http:
        for client in clients:
            response = http.post("/authorization/refresh", json={"refreshToken": client.token})
            outcomes[f"{client.last} -> {response.status_code}"] += 1
            if client.last == "lost":
                # The server may have spent the token and died before answering: its
                # successor within the grace, a clean 401 after it.
                assert response.status_code in (200, 401), response.text
                if response.status_code == 401:
                    assert response.json()["error"] == "invalid_grant"
            else:
                assert response.status_code == 200, (client, response.text)
                successor = response.json()["refreshToken"]
                again = http.post("/authorization/refresh", json={"refreshToken": client.token})
                # It works once, as before the crash: again, it gets the one successor.
                assert again.status_code == 200
                assert again.json()["refreshToken"] == successor
        relogin = http.post(
            "/authorization/token", json={"userName": SEED_USER, "password": SEED_PASSWORD}
        )

    print(  # the figures, for the record (pytest -s)
        f"crash test: {SESSIONS} sessions, {sum(c.refreshed for c in clients)} refreshes "
        f"answered before the kill, {Counter(c.last for c in clients)}; after restart "
        f"{dict(outcomes)}; {time.monotonic() - started:.1f} s"
    )
    assert sum(c.refreshed for c in clients) >= ANSWERED_BEFORE_KILL
    assert all(set(c.statuses) <= {200} for c in clients), [c.statuses for c in clients]
    assert relogin.status_code == 200
    assert check_store(crashable_store.db)["families with two live tokens"] == 0
