"""Against an RFC 6749 token endpoint: §5.2's error codes, `expires_in`, client and scope."""

import asyncio
import json

from refresh_gate import OAuth2Refresh, RefreshRejected, Response, TransientError
from tests.portable import case, parametrize, raises
from tests.refresh_gate.fakes import (
    OAUTH_TOKEN_PATH,
    PASSWORD,
    USERNAME,
    App,
    OAuthServer,
    open_app,
    within,
)


def _error(status: int, error: str) -> Response:
    """An error answer as Keycloak and most servers word it (§5.2)."""
    body = {"error": error, "error_description": f"the server says {error}"}
    return Response(status, json.dumps(body))


@parametrize(
    "status, error",
    [
        (400, "invalid_grant"),
        (400, "invalid_request"),
        (401, "invalid_client"),
        (400, "invalid_client"),
        (400, "unauthorized_client"),
        (400, "unsupported_grant_type"),
        (400, "invalid_scope"),
        (403, "access_denied"),
    ],
    ids=[
        "invalid_grant",
        "invalid_request",
        "invalid_client-401",
        "invalid_client-400",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "403",
    ],
)
async def test_each_refusal_of_rfc_6749_logs_out_once_and_fails_every_waiting_call(
    status: int, error: str
) -> None:
    server = OAuthServer()
    app = open_app(server)
    server.expire_access()
    server.refresh_outcome = _error(status, error)

    results = await within(asyncio.gather(*(app.get() for _ in range(3)), return_exceptions=True))

    assert all(isinstance(result, RefreshRejected) for result in results), results
    assert error in str(results[0])  # the page can say what the server said
    assert app.logouts == 1
    assert app.store.load() is None
    assert server.refresh_calls == 1


@parametrize("status", [400, 503, 429, 200])
async def test_temporarily_unavailable_keeps_the_tokens_whatever_its_status(status: int) -> None:
    server = OAuthServer()
    app = open_app(server)
    kept = app.store.load()
    server.expire_access()
    server.refresh_outcome = _error(status, "temporarily_unavailable")

    results = await within(asyncio.gather(*(app.get() for _ in range(3)), return_exceptions=True))

    assert all(isinstance(result, TransientError) for result in results), results
    assert app.logouts == 0
    assert app.store.load() == kept
    assert server.refresh_calls == 1
    server.refresh_outcome = None
    assert (await within(app.get())).status == 200


@parametrize(
    "server_options, refresh_options, refused",
    [
        case({"client_id": "spa"}, {"client_id": "another-spa"}, 401, id="unknown-client"),
        case({"scopes": ("resources",)}, {"scope": "resources admin"}, 400, id="scope-not-granted"),
    ],
)
async def test_a_page_the_server_refuses_as_its_client_is_logged_out_at_its_first_refresh(
    server_options: dict, refresh_options: dict, refused: int
) -> None:
    server = OAuthServer(**server_options)
    app = open_app(server, refresh=OAuth2Refresh(OAUTH_TOKEN_PATH, **refresh_options))
    server.expire_access()

    with raises(RefreshRejected):
        await within(app.get())

    assert [seen.status for seen in server.to(OAUTH_TOKEN_PATH)] == [refused]
    assert app.logouts == 1


async def test_the_client_id_and_scope_go_with_every_refresh() -> None:
    server = OAuthServer(client_id="spa")
    refresh = OAuth2Refresh(OAUTH_TOKEN_PATH, client_id="spa", scope="resources")
    app = open_app(server, refresh=refresh)

    for _ in range(2):
        server.expire_access()
        assert (await within(app.get())).status == 200

    assert [(form["client_id"], form["scope"]) for form in server.forms] == [
        ("spa", "resources"),
        ("spa", "resources"),
    ]


async def _log_in(app: App) -> None:
    """Log in as the page does: the password grant, its answer read and stored by the gate."""
    refresh = app.server.page_refresh()
    response = await app.server(refresh.login(USERNAME, PASSWORD))
    assert response.status == 200, response
    app.gate.accept(refresh.read_login(response))


@parametrize("rotate", [True, False], ids=["rotating", "not-rotating"])
async def test_expires_in_makes_a_call_near_expiry_of_an_opaque_token_refresh_first(
    rotate: bool,
) -> None:
    server = OAuthServer(opaque=True, rotate=rotate, lifetime=300)
    app = open_app(server, logged_in=False, expiry_skew=10)
    await _log_in(app)
    logged_in = app.store.load()
    assert logged_in.access.startswith("opaque-")  # nothing for the gate to read in it
    server.clock.now += 295  # 5 s before expiry by expires_in; the server still takes it

    response = await within(app.get())

    new = app.store.load()
    assert response.status == 200
    assert new.access != logged_in.access
    assert [(s.path, s.token, s.status) for s in server.seen[1:]] == [
        (OAUTH_TOKEN_PATH, None, 200),
        ("/api/resource", new.access, 200),
    ]


async def test_an_opaque_token_far_from_its_expires_in_is_sent_without_refreshing() -> None:
    server = OAuthServer(opaque=True, lifetime=300)
    app = open_app(server, logged_in=False, expiry_skew=10)
    await _log_in(app)
    server.clock.now += 280

    assert (await within(app.get())).status == 200
    assert server.refresh_calls == 0


async def test_an_opaque_token_from_the_last_page_load_costs_a_401_then_expires_in_helps() -> None:
    server = OAuthServer(opaque=True, lifetime=300)
    app = open_app(server, expiry_skew=10)  # stored before this page load: no expires_in known
    server.expire_access()
    assert (await within(app.get())).status == 200  # 401, refresh, retry
    server.clock.now += 295

    assert (await within(app.get())).status == 200

    assert [seen.status for seen in server.seen] == [401, 200, 200, 200, 200]
    assert server.refresh_calls == 2


@parametrize(
    "expires_in",
    [-5, 0, "x", "-300", 1e12, True, None, [300], {"seconds": 300}],
    ids=["-5", "0", "x", "negative-string", "centuries", "true", "null", "list", "object"],
)
async def test_an_absurd_expires_in_is_ignored_and_the_pair_is_kept(expires_in: object) -> None:
    server = OAuthServer(opaque=True, lifetime=300)
    app = open_app(server, expiry_skew=10)
    server.expire_access()
    server.also_answer = {"expires_in": expires_in}

    assert (await within(app.get())).status == 200
    stored = app.store.load()
    server.clock.now += 10**6  # far past any lifetime the answer could have meant

    assert (await within(app.get())).status == 200

    assert stored.access == server.valid_access
    assert stored.expires_in is None
    assert server.refresh_calls == 1  # the refresh after the first 401, no early one
    assert app.logouts == 0


async def test_after_an_oauth2_login_the_pages_calls_go_out_with_its_access_token() -> None:
    server = OAuthServer()
    app = open_app(server, logged_in=False)

    await _log_in(app)
    response = await within(app.get())

    assert response.status == 200
    assert server.seen[-1].token == app.store.load().access
    assert server.refresh_calls == 0


@parametrize(
    "answer",
    [
        case({"token_type": "Bearer", "expires_in": 300}, id="no-tokens"),
        case({"access_token": None, "refresh_token": "r"}, id="null-access-token"),
        case({"access_token": ["a"], "refresh_token": "r"}, id="list-access-token"),
        case({"access_token": "a" * 8193, "refresh_token": "r"}, id="oversized-access-token"),
        case({"error": "invalid_grant"}, id="200-invalid_grant"),
    ],
)
async def test_a_200_without_a_usable_access_token_logs_out(answer: dict) -> None:
    server = OAuthServer()
    app = open_app(server)
    server.expire_access()
    server.refresh_outcome = Response(200, json.dumps(answer))

    with raises(RefreshRejected):
        await within(app.get())

    assert app.logouts == 1
    assert app.store.load() is None


async def test_an_expires_in_given_as_digits_still_times_the_refresh_before_expiry() -> None:
    server = OAuthServer(opaque=True, lifetime=300)
    app = open_app(server, expiry_skew=10)
    server.expire_access()
    server.also_answer = {"expires_in": "300"}  # some servers send it as a string

    assert (await within(app.get())).status == 200
    assert app.store.load().expires_in == 300.0
    server.clock.now += 295
    server.also_answer = {}

    assert (await within(app.get())).status == 200
    assert server.refresh_calls == 2  # the second one before the call, not after a 401
    assert [seen.status for seen in server.seen].count(401) == 1
