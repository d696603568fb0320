"""Requests queued behind the transport's connections never go out with a refused token.

A browser has six requests on the wire to one origin over HTTP/1.1 and queues the rest with
the token they were given. Here the gate is told of two connections, and five requests are
on their way when the first 401 comes back: the two oldest of the other four have left, the
two newest still wait, and only those are withdrawn.
"""

import asyncio

from app.errors import RefreshRejected
from app.gate import REFRESH_PATH, Request
from tests.app.fakes import FakeServer, open_app, settle, within
from tests.app.portable import parametrize, raises

PATHS = ["/api/1", "/api/2", "/api/3", "/api/4", "/api/5"]
LEFT = ["/api/2", "/api/3"]  # on the wire when /api/1's 401 comes back
QUEUED = ["/api/4", "/api/5"]


async def five_on_their_way(method: str = "GET", **gate_options: object) -> tuple:
    """A page told of two connections, and five requests it sent with an expired token,
    every one held open at the server: (server, app, holds, calls)."""
    gate_options.setdefault("connections", 2)
    server = FakeServer()
    app = open_app(server, **gate_options)
    server.expire_access()
    holds = {path: server.hold(path) for path in PATHS}
    calls = {path: asyncio.create_task(app.gate.send(Request(method, path))) for path in PATHS}
    for hold in holds.values():
        await hold.arrived.wait()
    return server, app, holds, calls


async def a_moment() -> None:
    """Long enough for the gate to withdraw what it withdraws (a moment after a 401)."""
    await asyncio.sleep(0.02)
    await settle()


def answer(holds: dict, paths: list) -> None:
    """Let the server answer the requests to `paths`."""
    for path in paths:
        holds[path].release.set()


def tries(server: FakeServer, path: str) -> list:
    """(token, status) of every request to `path` the server saw; status None: withdrawn."""
    return [(seen.token, seen.status) for seen in server.to(path)]


# The gate's own timer around each request (as in a Python program), or the transport's (as
# on the page, which withdraws the request by cancelling the task that awaits it).
TIMEOUTS = parametrize("timeout", [15.0, None], ids=["gate-timer", "transport-timer"])


@TIMEOUTS
async def test_requests_queued_with_a_refused_token_wait_for_the_refresh_not_a_401(
    timeout: float | None,
) -> None:
    server, app, holds, calls = await five_on_their_way(request_timeout=timeout)
    old = app.store.load()  # nothing answered yet: the pair the five went out with

    answer(holds, ["/api/1"])
    await a_moment()
    assert [path for path in PATHS if holds[path].cancelled] == QUEUED
    assert server.refresh_calls == 1
    answer(holds, LEFT)
    responses = await within(asyncio.gather(*calls.values()))

    new = app.store.load()
    assert [response.status for response in responses] == [200] * 5
    assert server.refresh_calls == 1
    for path in ["/api/1"] + LEFT:
        assert tries(server, path) == [(old.access, 401), (new.access, 200)]
    for path in QUEUED:
        assert tries(server, path) == [(old.access, None), (new.access, 200)]


@parametrize(
    "method, withdrawn",
    [("GET", True), ("HEAD", True), ("PUT", True), ("DELETE", True), ("POST", False)],
)
async def test_only_requests_safe_to_send_again_are_withdrawn(method: str, withdrawn: bool) -> None:
    server, _app, holds, calls = await five_on_their_way(method)

    answer(holds, ["/api/1"])
    await a_moment()
    assert [path for path in PATHS if holds[path].cancelled] == (QUEUED if withdrawn else [])
    answer(holds, PATHS)
    responses = await within(asyncio.gather(*calls.values()))

    assert [response.status for response in responses] == [200] * 5
    assert server.refresh_calls == 1
    unauthorized = sum(seen.status == 401 for seen in server.seen)
    assert unauthorized == (3 if withdrawn else 5)


async def test_a_gate_that_knows_no_connection_limit_withdraws_nothing() -> None:
    server, _app, holds, calls = await five_on_their_way(connections=None)

    answer(holds, ["/api/1"])
    await a_moment()
    assert not any(hold.cancelled for hold in holds.values())
    answer(holds, PATHS)
    await within(asyncio.gather(*calls.values()))

    assert sum(seen.status == 401 for seen in server.seen) == 5
    assert server.refresh_calls == 1


async def test_the_observer_sees_a_withdrawn_request_and_its_one_retry() -> None:
    calls_seen = []
    _server, _app, holds, calls = await five_on_their_way(observe=calls_seen.append)

    answer(holds, ["/api/1"])
    answer(holds, LEFT)
    await within(asyncio.gather(*calls.values()))

    to_five = []
    for call in calls_seen:  # each call is reported as it starts and as it ends
        if call.path == "/api/5" and call not in to_five:
            to_five.append(call)
    assert [(c.kind, c.status, c.error) for c in to_five] == [
        ("request", None, "withdrawn"),
        ("retry", 200, None),
    ]


@TIMEOUTS
async def test_withdrawn_requests_share_a_refused_refresh_and_one_logout(
    timeout: float | None,
) -> None:
    server, app, holds, calls = await five_on_their_way(request_timeout=timeout)
    server.refresh_outcome = 401

    async def outcomes() -> list:
        return await asyncio.gather(*calls.values(), return_exceptions=True)

    waiting = asyncio.create_task(outcomes())  # awaited all along, as a page's callers are
    answer(holds, ["/api/1"])
    await a_moment()
    answer(holds, LEFT)
    errors = await within(waiting)

    # Every caller hears the session is over (the two answered after the logout find no
    # session left, NotLoggedIn, as any late 401 does).
    assert all(isinstance(error, RefreshRejected) for error in errors), errors
    assert app.logouts == 1
    assert server.refresh_calls == 1
    for path in QUEUED:
        assert [seen.status for seen in server.to(path)] == [None]  # never sent again
    assert app.store.load() is None


@TIMEOUTS
async def test_a_queued_request_its_caller_cancels_is_cancelled_not_retried(
    timeout: float | None,
) -> None:
    server, _app, holds, calls = await five_on_their_way(request_timeout=timeout)

    calls["/api/5"].cancel()
    await settle()
    answer(holds, ["/api/1"])
    answer(holds, LEFT)
    await within(asyncio.gather(*(calls[path] for path in PATHS[:4])))

    with raises(asyncio.CancelledError):
        await calls["/api/5"]
    assert holds["/api/5"].cancelled
    assert [seen.status for seen in server.to("/api/5")] == [None]
    assert [seen.status for seen in server.to("/api/4")] == [None, 200]  # withdrawn, retried


async def test_the_refresh_leaves_before_the_queued_requests_are_withdrawn() -> None:
    server, _app, holds, calls = await five_on_their_way()
    refresh = server.hold(REFRESH_PATH)

    answer(holds, ["/api/1"])
    await refresh.arrived.wait()
    await a_moment()
    refresh.release.set()
    answer(holds, LEFT)
    await within(asyncio.gather(*calls.values()))

    # Withdrawing costs each request a turn of Python: a refresh behind them would wait.
    sent_by_then = [seen.path for seen in server.seen[: holds["/api/4"].cancelled_after]]
    assert REFRESH_PATH in sent_by_then
    assert [path for path in PATHS if holds[path].cancelled] == QUEUED
    assert server.refresh_calls == 1
