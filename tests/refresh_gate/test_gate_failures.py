"""A refused session logs out once; a failure that says nothing about the session keeps it."""

import asyncio

from refresh_gate import (
    Call,
    NetworkError,
    NotLoggedIn,
    RefreshRejected,
    Request,
    RequestTimeout,
    Response,
    Tokens,
    TransientError,
)
from refresh_gate._refresh import REFRESH_PATH
from tests.portable import case, parametrize, raises
from tests.refresh_gate.fakes import FakeServer, open_app, within


@parametrize("status", [401, 400, 403])
async def test_a_rejected_refresh_logs_out_once_and_fails_every_waiting_call(status: int) -> None:
    server = FakeServer()
    app = open_app(server)
    server.expire_access()
    server.refresh_outcome = Response(status, '{"detail": "invalid refresh token"}')

    calls = asyncio.gather(*(app.get() for _ in range(3)), return_exceptions=True)
    results = await within(calls)

    assert all(isinstance(result, RefreshRejected) for result in results), results
    assert app.logouts == 1
    assert app.store.load() is None
    sent = len(server.seen)
    with raises(NotLoggedIn):
        await app.get()
    assert len(server.seen) == sent
    assert server.refresh_calls == 1


def _answer_500(server: FakeServer) -> None:
    server.refresh_outcome = 500


def _answer_503(server: FakeServer) -> None:
    server.refresh_outcome = 503


def _answer_429(server: FakeServer) -> None:
    server.refresh_outcome = 429


def _drop_the_connection(server: FakeServer) -> None:
    server.refresh_outcome = NetworkError("connection reset")


def _never_answer(server: FakeServer) -> None:
    server.hold(REFRESH_PATH)


def _transport_times_out(server: FakeServer) -> None:
    server.refresh_outcome = RequestTimeout("no answer within 15 s")  # the browser's own timer


# A refresh that got no answer at all is sent again at once, once (test_gate_lost_answer.py).
def _attempts(fail: object) -> int:
    return 2 if fail is _drop_the_connection else 1


TRANSIENT_FAILURES = [
    case(_answer_500, id="500"),
    case(_answer_503, id="503"),
    case(_answer_429, id="429"),
    case(_drop_the_connection, id="network-error"),
    case(_never_answer, id="timeout"),
    case(_transport_times_out, id="transport-timeout"),
]


@parametrize("fail", TRANSIENT_FAILURES)
async def test_a_transient_refresh_failure_keeps_the_tokens_and_fails_calls_as_retryable(
    fail: object,  # one of the TRANSIENT_FAILURES: it sets up `server` to fail
) -> None:
    server = FakeServer()
    app = open_app(server, refresh_timeout=0.05)
    kept = app.store.load()
    server.expire_access()
    fail(server)

    calls = asyncio.gather(*(app.get() for _ in range(3)), return_exceptions=True)
    results = await within(calls)

    assert all(isinstance(result, TransientError) for result in results), results
    assert not any(isinstance(result, RefreshRejected) for result in results)
    assert app.logouts == 0
    assert app.store.load() == kept
    assert server.refresh_calls == _attempts(fail)


@parametrize("fail", TRANSIENT_FAILURES)
async def test_after_a_transient_refresh_failure_the_next_call_succeeds_with_one_refresh(
    fail: object,  # one of the TRANSIENT_FAILURES: it sets up `server` to fail
) -> None:
    server = FakeServer()
    app = open_app(server, refresh_timeout=0.05)
    server.expire_access()
    fail(server)
    with raises(TransientError):
        await within(app.get())

    server.refresh_outcome = None  # the server recovers
    response = await app.get()

    assert response.status == 200
    assert server.refresh_calls == _attempts(fail) + 1
    assert app.logouts == 0


async def test_a_401_on_the_retry_logs_out_once_without_looping() -> None:
    server = FakeServer()
    app = open_app(server)
    server.refuse_every_access_token = True
    paths = ["/api/a", "/api/b", "/api/c"]

    results = await asyncio.gather(*(app.get(path) for path in paths), return_exceptions=True)

    assert all(isinstance(result, RefreshRejected) for result in results), results
    assert [[seen.status for seen in server.to(path)] for path in paths] == [[401, 401]] * 3
    assert server.refresh_calls == 1
    assert app.logouts == 1
    assert app.store.load() is None


async def test_a_401_on_a_retry_overtaken_by_a_newer_token_keeps_the_session() -> None:
    server = FakeServer(lifetime=300)
    app = open_app(server, expiry_skew=10)
    server.expire_access()
    refresh = server.hold(REFRESH_PATH)
    late = app.get("/api/late")
    await within(refresh.arrived.wait())
    retry = server.hold("/api/late")
    refresh.release.set()
    await within(retry.arrived.wait())
    server.clock.now += 295  # the retry's token is now close to expiry: refresh early
    assert (await within(app.get("/api/other"))).status == 200

    retry.release.set()  # the retry's token is no longer the valid one: 401

    with raises(TransientError):
        await within(late)
    assert app.logouts == 0
    assert app.store.load().access == server.valid_access
    assert server.refresh_calls == 2


async def test_a_hanging_request_times_out_and_is_cancelled_on_the_wire() -> None:
    server = FakeServer()
    app = open_app(server, request_timeout=0.05)
    kept = app.store.load()
    hang = server.hold("/api/slow")

    with raises(RequestTimeout):
        await within(app.get("/api/slow"))

    assert hang.cancelled
    assert app.store.load() == kept
    assert app.logouts == 0


async def test_without_a_timeout_of_its_own_the_gate_reports_the_transports_timeout() -> None:
    calls: dict[int, Call] = {}
    server = FakeServer()
    app = open_app(
        server,
        request_timeout=None,
        refresh_timeout=None,
        observe=lambda call: calls.setdefault(call.id, call),
    )
    kept = app.store.load()
    server.expire_access()
    server.refresh_outcome = RequestTimeout("no answer within 15 s")

    with raises(RequestTimeout):
        await within(app.get())

    ordered = [calls[id] for id in sorted(calls)]  # MicroPython's dicts keep no order
    assert [(call.kind, call.error) for call in ordered] == [
        ("request", None),
        ("refresh", "timeout"),
    ]
    assert app.store.load() == kept
    assert app.logouts == 0


@parametrize(
    "body",
    [
        "<html>502 Bad Gateway</html>",
        '{"authorizationToken": "new-access"}',
        '{"authorizationToken": "", "refreshToken": "new-refresh"}',
    ],
    ids=["not-json", "missing-refresh-token", "empty-access-token"],
)
async def test_a_refresh_answer_without_a_usable_pair_logs_out(body: str) -> None:
    server = FakeServer()
    app = open_app(server)
    server.expire_access()
    server.refresh_outcome = Response(200, body)

    with raises(RefreshRejected):
        await within(app.get())

    assert app.logouts == 1
    assert app.store.load() is None
    assert server.refresh_calls == 1


async def test_without_stored_tokens_a_call_raises_not_logged_in_and_sends_nothing() -> None:
    server = FakeServer()
    app = open_app(server, logged_in=False)

    with raises(NotLoggedIn):
        await app.gate.send(Request("GET", "/api/resource"))

    assert server.seen == []
    assert app.logouts == 0


async def test_without_a_usable_access_token_three_calls_refresh_once_and_never_send_it() -> None:
    server = FakeServer()
    app = open_app(server)
    app.store.save(Tokens("", app.store.load().refresh))

    results = await within(asyncio.gather(*(app.get() for _ in range(3))))

    assert [result.status for result in results] == [200] * 3
    assert server.refresh_calls == 1
    assert [seen.status for seen in server.to("/api/resource")] == [200] * 3
