"""SIGKILL the real server in the middle of a storm of refreshes; nothing may be lost or doubled.

Each simulated client holds one session and refreshes it, always with the newest refresh
token it was given: half of them a few times and then idle (like a tab in the background),
half over and over. When enough refreshes have been answered, the server process is killed
outright (no shutdown, no flush), restarted on the same store, and every client tries to
go on with the token it holds. An idle client must simply go on; a busy one whose last
answer was lost may find its token spent (the server committed, then died): then within
the reuse grace it gets the successor it missed, after it a clean 401.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from .support import SEED_PASSWORD, SEED_USER, ServerProcess, query

pytestmark = pytest.mark.both_stores

SESSIONS = 40
ANSWERED_BEFORE_KILL = 300  # refreshes answered 200 before the kill; more are in flight
IDLE_AFTER = 5  # refreshes an idle client makes before it waits
LOGINS_AT_ONCE = 4  # each Argon2 check holds 64 MiB


@dataclass
class Client:
    """One session's client: the newest refresh token it holds and how its last call ended."""

    token: str
    stop_after: int | None = None
    refreshed: int = 0
    last: str = "ok"  # "ok": answered; "lost": sent, no answer; "unsent": never connected
    statuses: Counter[int] = field(default_factory=Counter)


def _log_in(url: str) -> Client:
    credentials = {"userName": SEED_USER, "password": SEED_PASSWORD}
    response = httpx.post(url + "/authorization/token", json=credentials, timeout=30)
    response.raise_for_status()
    return Client(response.json()["refreshToken"])


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
            client.token = response.json()["refreshToken"]
            client.refreshed += 1
            answered()
            if client.refreshed == client.stop_after:
                return


def check_store(db: Path | str) -> dict[str, object]:
    """What must hold in the store after a crash (integrity: SQLite's own check)."""
    return {
        "integrity": query(db, "PRAGMA integrity_check")[0][0] if isinstance(db, Path) else "ok",
        "users": [row[0] for row in query(db, "SELECT name FROM users")],
        "families": query(db, "SELECT COUNT(*) FROM families")[0][0],
        "families with two live tokens": query(
            db,
            "SELECT COUNT(*) FROM (SELECT family_id FROM refresh_tokens"
            " WHERE spent_at IS NULL GROUP BY family_id HAVING COUNT(*) > 1) AS doubled",
        )[0][0],
    }


def test_a_sigkill_during_hundreds_of_refreshes_loses_no_acknowledged_session(
    start_server: Callable[..., ServerProcess],
) -> None:
    started = time.monotonic()
    server = start_server()
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
        server.process.kill()  # SIGKILL: no shutdown handlers, no chance to flush anything
        server.process.wait()

    after_kill = check_store(server.db)
    restarted = start_server(server.db)
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
    assert after_kill["integrity"] == "ok"
    assert after_kill["users"] == [SEED_USER]
    assert after_kill["families"] == SESSIONS
    assert after_kill["families with two live tokens"] == 0
    assert sum(c.refreshed for c in clients) >= ANSWERED_BEFORE_KILL
    assert all(set(c.statuses) <= {200} for c in clients), [c.statuses for c in clients]
    assert relogin.status_code == 200
    assert check_store(server.db)["families with two live tokens"] == 0
