"""A refresh whose answer is lost after the server answered it logs nobody out.

The request reaches the server, which exchanges the token and answers; the connection drops
before the page reads the answer, so the page sees a network error and still holds the
spent token. The gate sends the refresh again at once, and the server's graceful rotation
answers the just-spent token with the same pair: the demo ends as if nothing happened.
"""

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route

from tests.e2e.support import (
    REFRESH,
    Interpreter,
    NetworkLog,
    ServerProcess,
    demo_log,
    expect_every_slot,
    in_demo_order,
    log_in,
    start_server,
    storage,
)


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of this module's own, whose SQLite file the test reads."""
    process = start_server(tmp_path_factory.mktemp("lost-answer") / "auth.db")
    yield process
    process.stop()


def _live_tokens_in_the_session_of(db_path: Path, refresh_token: str) -> int:
    """Refresh tokens that can still be exchanged in the session (family) of
    `refresh_token`, counting none if that session was revoked."""
    token_hash = hashlib.sha256(refresh_token.encode()).hexdigest()
    with sqlite3.connect(db_path) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM refresh_tokens t JOIN families f ON f.id = t.family_id"
            " WHERE t.spent_at IS NULL AND f.revoked_at IS NULL AND t.family_id ="
            " (SELECT family_id FROM refresh_tokens WHERE hash = ?)",
            (token_hash,),
        ).fetchone()
    return count


def test_a_refresh_answer_lost_after_the_server_answered_still_ends_with_three_200s(
    page: Page, network: NetworkLog, interpreter: Interpreter, own_server: ServerProcess
) -> None:
    log_in(page, interpreter, own_server.url)
    spent = storage(page, "refreshToken")
    page.evaluate('localStorage.setItem("token", "sdf")')
    answered: list[int] = []

    def answer_then_drop(route: Route) -> None:
        if not answered:  # the first refresh: the server answers, the page never hears it
            answered.append(route.fetch().status)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(f"**{REFRESH}", answer_then_drop)
    mark = len(network.answers)

    page.get_by_role("button", name="Send 3 requests").click()

    expect_every_slot(page)
    assert answered == [200]  # the server did exchange the token the first time
    assert network.failures.count(("POST", REFRESH)) == 1
    assert in_demo_order(network.api(mark)) == demo_log()
    kept = storage(page, "refreshToken")
    assert kept not in (None, spent)
    # Nobody logged out, and the session holds one live refresh token: the one the page has.
    assert page.get_by_role("heading", name="Login Page").is_hidden()
    assert _live_tokens_in_the_session_of(own_server.db, kept) == 1
