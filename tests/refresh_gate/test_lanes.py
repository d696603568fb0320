"""Requests beyond the transport's connections wait in the gate, never with a refused token.

A browser has six requests on the wire to one origin over HTTP/1.1 and queues the rest with
the token they were given, sending the next one the moment a 401 frees a connection. Here
the gate is told of two connections and five requests are sent: two are on the wire, three
wait in the gate for a lane and take their token once they have one. A lane is held only
while its request is on the wire.
"""

import asyncio

from refresh_gate import RefreshRejected, Request
from refresh_gate._lanes import Lanes
from refresh_gate._refresh import REFRESH_PATH
from tests.portable import parametrize, raises
from tests.refresh_gate.fakes import FakeServer, open_app, settle, within

PATHS = ["/api/1", "/api/2", "/api/3", "/api/4", "/api/5"]
ON_THE_WIRE = ["/api/1", "/api/2"]
WAITING = ["/api/3", "/api/4", "/api/5"]


async def five_sent(method: str = "GET", expired: bool = True, **gate_options: object) -> tuple:
    """A page told of two connections, and five requests it sent (with an expired token
    unless told otherwise), every one held open at the server: (server, app, holds, calls)."""
    gate_options.setdefault("connections", 2)
    server = FakeServer()
    app = open_app(server, **gate_options)
    if expired:
        server.expire_access()
    holds = {path: server.hold(path) for path in PATHS}
    calls = {path: asyncio.create_task(app.gate.send(Request(method, path))) for path in PATHS}
    for path in ON_THE_WIRE:
        await holds[path].arrived.wait()
    await settle()
    return server, app, holds, calls


def answer(holds: dict, paths: list) -> None:
    """Let the server answer the requests to `paths`."""
    for path in paths:
        holds[path].release.set()


def tries(server: FakeServer, path: str) -> list:
    """(token, status) of every request to `path` the server saw."""
    return [(seen.token, seen.status) for seen in server.to(path)]


def arrived(server: FakeServer) -> list:
    return [seen.path for seen in server.seen if seen.path != REFRESH_PATH]


async def test_requests_beyond_the_connections_wait_in_the_gate_and_go_in_order() -> None:
    server, _app, holds, calls = await five_sent(expired=False)

    assert arrived(server) == ON_THE_WIRE  # three wait in the gate, not at the transport
    answer(holds, ["/api/2"])
    await holds["/api/3"].arrived.wait()
    await settle()
    assert arrived(server) == ON_THE_WIRE + ["/api/3"]
    answer(holds, PATHS)
    responses = await within(asyncio.gather(*calls.values()))

    assert [response.status for response in responses] == [200] * 5
    assert arrived(server) == PATHS


# The gate's own timer around each request (as in a Python program), or the transport's (as
# on the page).
@parametrize("timeout", [15.0, None], ids=["gate-timer", "transport-timer"])
async def test_requests_waiting_behind_a_401_go_out_once_with_the_new_token(
    timeout: float | None,
) -> None:
    server, app, holds, calls = await five_sent(request_timeout=timeout)
    old = app.store.load()

    answer(holds, PATHS)
    responses = await within(asyncio.gather(*calls.values()))

    new = app.store.load()
    assert [response.status for response in responses] == [200] * 5
    assert server.refresh_calls == 1
    for path in ON_THE_WIRE:
        assert tries(server, path) == [(old.access, 401), (new.access, 200)]
    for path in WAITING:
        assert tries(server, path) == [(new.access, 200)]


@parametrize("method", ["GET", "POST", "PUT", "DELETE"])
async def test_every_method_waits_its_turn_so_no_request_is_sent_twice_for_nothing(
    method: str,
) -> None:
    server, _app, holds, calls = await five_sent(method)

    answer(holds, PATHS)
    await within(asyncio.gather(*calls.values()))

    assert sum(seen.status == 401 for seen in server.seen) == 2
    assert [len(server.to(path)) for path in WAITING] == [1, 1, 1]


async def test_the_refresh_goes_out_while_every_lane_is_taken() -> None:
    server, _app, holds, calls = await five_sent()
    refresh = server.hold(REFRESH_PATH)

    answer(holds, ["/api/1"])
    await within(refresh.arrived.wait())  # /api/2 is still on the wire

    assert not holds["/api/2"].release.is_set()
    assert arrived(server) == ON_THE_WIRE
    refresh.release.set()
    answer(holds, PATHS)
    await within(asyncio.gather(*calls.values()))
    assert server.refresh_calls == 1


async def test_requests_waiting_for_the_refresh_hold_no_lane_so_the_first_to_ask_go_first() -> None:
    server, _app, holds, calls = await five_sent()
    refresh = server.hold(REFRESH_PATH)
    answer(holds, ["/api/1"])  # a 401: the refresh goes out, and the three behind wait for it
    await within(refresh.arrived.wait())
    await settle()
    answer(holds, ["/api/2"])  # another 401: now nothing is on the wire but the refresh
    await settle()
    before = len(arrived(server))

    refresh.release.set()
    await within(holds["/api/4"].arrived.wait())

    # /api/1's retry, then the two oldest waiting: /api/2's retry (its 401 came last) waits
    # its turn, where a lane held all along would have sent it before the three.
    assert arrived(server)[before:] == ["/api/1", "/api/3", "/api/4"]
    answer(holds, PATHS)
    responses = await within(asyncio.gather(*calls.values()))
    assert [response.status for response in responses] == [200] * 5
    assert server.refresh_calls == 1


async def test_a_gate_that_knows_no_connection_limit_sends_every_request_at_once() -> None:
    server, _app, holds, calls = await five_sent(connections=None)
    for hold in holds.values():
        await hold.arrived.wait()

    answer(holds, PATHS)
    await within(asyncio.gather(*calls.values()))

    assert sum(seen.status == 401 for seen in server.seen) == 5
    assert server.refresh_calls == 1


async def test_a_refused_refresh_logs_out_once_and_the_waiting_requests_never_leave() -> None:
    server, app, holds, calls = await five_sent()
    server.refresh_outcome = 401

    answer(holds, PATHS)
    errors = await within(asyncio.gather(*calls.values(), return_exceptions=True))

    # The two on the wire hear the refresh was refused; the three behind them find no
    # session left when their turn comes (NotLoggedIn, a RefreshRejected).
    assert all(isinstance(error, RefreshRejected) for error in errors), errors
    assert app.logouts == 1
    assert server.refresh_calls == 1
    assert [tries(server, path) for path in WAITING] == [[], [], []]
    assert app.store.load() is None


async def test_a_waiting_request_its_caller_cancels_gives_up_its_place() -> None:
    server, _app, holds, calls = await five_sent(expired=False)

    calls["/api/3"].cancel()
    await settle()
    answer(holds, PATHS)
    await within(asyncio.gather(*(calls[path] for path in PATHS if path != "/api/3")))

    with raises(asyncio.CancelledError):
        await calls["/api/3"]
    assert arrived(server) == ["/api/1", "/api/2", "/api/4", "/api/5"]


async def test_a_lane_handed_to_a_request_cancelled_at_that_moment_passes_on() -> None:
    lanes = Lanes(1)
    await lanes.enter()
    cancelled = asyncio.create_task(lanes.enter())
    after = asyncio.create_task(lanes.enter())
    await settle()

    lanes.leave()  # the lane goes to `cancelled`, which is cancelled before it runs
    cancelled.cancel()
    await within(after)

    with raises(asyncio.CancelledError):
        await cancelled
    assert after.done()


async def test_the_observer_sees_each_request_once_from_when_it_has_a_lane() -> None:
    calls_seen = []
    _server, _app, holds, calls = await five_sent(observe=calls_seen.append)

    answer(holds, PATHS)
    await within(asyncio.gather(*calls.values()))

    to_five = []
    for call in calls_seen:  # each call is reported as it starts and as it ends
        if call.path == "/api/5" and call not in to_five:
            to_five.append(call)
    assert [(c.kind, c.status, c.error) for c in to_five] == [("request", 200, None)]
