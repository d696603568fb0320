"""The gate's key scenarios, once for each way a server refreshes: the seed's JSON endpoint,
and RFC 6749's token endpoint with JWT or opaque access tokens, rotating refresh tokens or not.
"""

import asyncio

from refresh_gate import (
    NotLoggedIn,
    RefreshRejected,
    RequestTimeout,
    Response,
    Tokens,
    TransientError,
)
from tests.portable import case, parametrize, raises
from tests.refresh_gate.fakes import (
    PROTECTED_BODY,
    FakeServer,
    OAuthServer,
    open_app,
    settle,
    within,
)


def _oauth2_opaque() -> OAuthServer:
    return OAuthServer(opaque=True)


def _oauth2_not_rotating() -> OAuthServer:
    return OAuthServer(rotate=False)


def _oauth2_opaque_not_rotating() -> OAuthServer:
    return OAuthServer(opaque=True, rotate=False)


# How the server refreshes, and its name in the tests' ids.
ROTATING_SERVERS = [
    (FakeServer, "seed"),
    (OAuthServer, "oauth2"),
    (_oauth2_opaque, "oauth2-opaque"),
]
NOT_ROTATING_SERVERS = [
    (_oauth2_not_rotating, "oauth2-not-rotating"),
    (_oauth2_opaque_not_rotating, "oauth2-opaque-not-rotating"),
]
ALL_SERVERS = ROTATING_SERVERS + NOT_ROTATING_SERVERS
# Each scenario below runs once for each server.
SERVERS = [case(make, id=name) for make, name in ALL_SERVERS]
ROTATING = [case(make, id=name) for make, name in ROTATING_SERVERS]
NOT_ROTATING = [case(make, id=name) for make, name in NOT_ROTATING_SERVERS]


def _token_path(server: FakeServer) -> str:
    return server.page_refresh().url


@parametrize("make_server", SERVERS)
async def test_three_401s_share_one_refresh_and_are_all_retried_with_the_new_token(
    make_server: object,
) -> None:
    server = make_server()
    app = open_app(server)
    old = app.store.load()
    server.expire_access()

    responses = await within(asyncio.gather(*(app.get() for _ in range(3))))

    new = app.store.load()
    assert [(r.status, r.body) for r in responses] == [(200, PROTECTED_BODY)] * 3
    assert [(s.path, s.status) for s in server.seen] == (
        [("/api/resource", 401)] * 3 + [(_token_path(server), 200)] + [("/api/resource", 200)] * 3
    )
    assert [s.token for s in server.seen[:3]] == [old.access] * 3
    assert [s.token for s in server.seen[4:]] == [new.access] * 3
    assert new.access != old.access
    assert server.refresh_calls == 1
    assert app.logouts == 0


@parametrize("make_server", SERVERS)
async def test_a_call_made_during_the_refresh_waits_and_goes_out_with_the_new_token(
    make_server: object,
) -> None:
    server = make_server()
    app = open_app(server)
    server.expire_access()
    refresh = server.hold(_token_path(server))

    first = app.get("/api/first")
    await within(refresh.arrived.wait())
    second = app.get("/api/second")
    await settle()
    assert server.to("/api/second") == []  # it waits at the gate instead of earning a 401

    refresh.release.set()
    await within(asyncio.gather(first, second))

    fresh = app.store.load()
    assert [(s.token, s.status) for s in server.to("/api/second")] == [(fresh.access, 200)]
    assert server.refresh_calls == 1


@parametrize("make_server", SERVERS)
async def test_a_refused_refresh_logs_out_once_and_fails_every_waiting_call(
    make_server: object,
) -> None:
    server = make_server()
    app = open_app(server)
    app.store.save(Tokens("sdf", "refresh-nobody-issued"))  # the demo's broken pair

    calls = asyncio.gather(*(app.get() for _ in range(3)), return_exceptions=True)
    results = await within(calls)

    assert all(isinstance(result, RefreshRejected) for result in results), results
    refused = 400 if isinstance(server, OAuthServer) else 401  # invalid_grant, as each says
    assert [seen.status for seen in server.to(_token_path(server))] == [refused]
    assert app.logouts == 1
    assert app.store.load() is None
    sent = len(server.seen)
    with raises(NotLoggedIn):
        await app.get()
    assert len(server.seen) == sent


def _answer_503(server: FakeServer) -> None:
    server.refresh_outcome = 503


def _answer_429(server: FakeServer) -> None:
    server.refresh_outcome = 429


def _never_answer(server: FakeServer) -> None:
    server.hold(_token_path(server))


def _transport_times_out(server: FakeServer) -> None:
    server.refresh_outcome = RequestTimeout("no answer within 15 s")


TRANSIENT = [
    (_answer_503, "503"),
    (_answer_429, "429"),
    (_never_answer, "timeout"),
    (_transport_times_out, "transport-timeout"),
]
SERVERS_AND_TRANSIENT_FAILURES = [
    case(make, fail, id=f"{server}-{failure}")
    for make, server in ALL_SERVERS
    for fail, failure in TRANSIENT
]


@parametrize("make_server, fail", SERVERS_AND_TRANSIENT_FAILURES)
async def test_a_transient_refresh_failure_keeps_the_tokens_and_the_next_click_refreshes(
    make_server: object,
    fail: object,  # sets up `server` to fail, as one of TRANSIENT says
) -> None:
    server = make_server()
    app = open_app(server, refresh_timeout=0.05)
    kept = app.store.load()
    server.expire_access()
    fail(server)

    calls = asyncio.gather(*(app.get() for _ in range(3)), return_exceptions=True)
    results = await within(calls)

    assert all(isinstance(result, TransientError) for result in results), results
    assert app.logouts == 0
    assert app.store.load() == kept
    assert server.refresh_calls == 1

    server.refresh_outcome = None  # the server recovers
    response = await within(app.get())

    assert response.status == 200
    assert server.refresh_calls == 2
    assert app.logouts == 0


@parametrize("make_server", ROTATING)
async def test_a_rotating_server_has_each_refresh_token_presented_once(
    make_server: object,
) -> None:
    server = make_server()
    app = open_app(server)
    stored = [app.store.load().refresh]

    for _ in range(3):
        server.expire_access()
        assert (await within(app.get())).status == 200
        stored.append(app.store.load().refresh)

    # The server refuses a spent token: three successes mean each refresh presented the last.
    assert len(set(stored)) == 4
    assert server.refresh_calls == 3
    assert app.logouts == 0


@parametrize("make_server", NOT_ROTATING)
async def test_a_server_that_does_not_rotate_keeps_the_stored_refresh_token_for_the_next_refresh(
    make_server: object,
) -> None:
    server = make_server()
    app = open_app(server)
    first = app.store.load()

    for _ in range(3):
        server.expire_access()
        assert (await within(app.get())).status == 200
        assert app.store.load().refresh == first.refresh

    assert server.presented == [first.refresh] * 3
    assert app.store.load().access == server.valid_access != first.access
    assert app.logouts == 0


# 2xx answers without a usable pair; ACCESS and REFRESH stand for the server's names of them.
GARBAGE = [
    ("not-json", "<html>502 Bad Gateway</html>"),
    ("empty-body", ""),
    ("json-array", '["new-access", "new-refresh"]'),
    ("json-string", '"new-access"'),
    ("missing-access-token", '{"REFRESH": "new-refresh"}'),
    ("empty-access-token", '{"ACCESS": "", "REFRESH": "new-refresh"}'),
    ("non-string-access-token", '{"ACCESS": 12345, "REFRESH": "new-refresh"}'),
    ("unsendable-access-token", '{"ACCESS": "new access", "REFRESH": "new-refresh"}'),
    ("non-string-refresh-token", '{"ACCESS": "new-access", "REFRESH": 12345}'),
    ("empty-refresh-token", '{"ACCESS": "new-access", "REFRESH": ""}'),
]
SERVERS_AND_GARBAGE = [
    case(make, template, id=f"{server}-{answer}")
    for make, server in ALL_SERVERS
    for answer, template in GARBAGE
]


def _answer_from(template: str, server: FakeServer) -> str:
    """`template` with the names `server` gives the access and the refresh token."""
    access, refresh = "authorizationToken", "refreshToken"
    if isinstance(server, OAuthServer):
        access, refresh = "access_token", "refresh_token"
    return template.replace("ACCESS", access).replace("REFRESH", refresh)


@parametrize("make_server, template", SERVERS_AND_GARBAGE)
async def test_a_successful_refresh_answer_without_a_usable_pair_logs_out(
    make_server: object, template: str
) -> None:
    server = make_server()
    app = open_app(server)
    server.expire_access()
    server.refresh_outcome = Response(200, _answer_from(template, server))

    results = await within(asyncio.gather(*(app.get() for _ in range(3)), return_exceptions=True))

    assert all(isinstance(result, RefreshRejected) for result in results), results
    assert app.logouts == 1
    assert app.store.load() is None
    assert server.refresh_calls == 1
