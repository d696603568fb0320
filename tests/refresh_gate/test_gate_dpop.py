"""The gate with DPoP (RFC 9449): a proof on every request, the token sent as its type says,
and a server's demand for a nonce answered below the gate, once (both interpreters)."""

import asyncio

from refresh_gate import (
    DPoPNonceError,
    MemoryTokenStore,
    OAuth2Refresh,
    RefreshGate,
    Request,
    Response,
    Tokens,
    TransientError,
)
from refresh_gate._dpop_proof import access_token_hash
from refresh_gate._tokens import stored_pair
from tests.portable import raises
from tests.refresh_gate.dpop_fakes import (
    ORIGIN,
    RFC_KEY,
    DPoPServer,
    FixedKey,
    dpop_transport,
)
from tests.refresh_gate.fakes import OAUTH_TOKEN_PATH, PASSWORD, USERNAME, App

RESOURCE = "/api/resources"


def _dpop_app(server: DPoPServer, key: FixedKey | None = None, token_type: str = "DPoP") -> App:
    """A page signed in with DPoP on `server`: its pair, its key, its gate."""
    issued = server.issue()
    tokens = Tokens(issued.access, issued.refresh, None, token_type)
    app = App(server, MemoryTokenStore(tokens))
    app.key = key or FixedKey(dict(RFC_KEY))
    app.gate = RefreshGate(
        dpop_transport(server, app.key),
        app.store,
        on_logout=app._logout,
        clock=server.clock,
        refresh=OAuth2Refresh(OAUTH_TOKEN_PATH),
    )
    return app


def _authorizations(server: DPoPServer) -> list:
    return [seen.authorization for seen in server.seen if seen.path == RESOURCE]


async def test_three_401s_share_one_refresh_and_every_request_carries_a_proof() -> None:
    server = DPoPServer()
    app = _dpop_app(server)
    server.expire_access()

    answers = await asyncio.gather(*(app.get(RESOURCE) for _ in range(3)))

    assert [answer.status for answer in answers] == [200, 200, 200]
    assert [seen.status for seen in server.seen] == [401, 401, 401, 200, 200, 200, 200]
    assert app.gate.refresh_calls == 1 and server.refresh_calls == 1
    assert all(claims is not None for _, claims in server.proofs)
    assert all(value.startswith("DPoP ") for value in _authorizations(server))
    refreshed = app.store.load()
    assert refreshed.token_type == "DPoP"
    retried = server.api_proofs()[3:]
    assert [claims["ath"] for claims in retried] == [access_token_hash(refreshed.access)] * 3
    assert [claims["htu"] for claims in server.api_proofs()] == [ORIGIN + RESOURCE] * 6
    assert "ath" not in server.token_proofs()[0]  # no access token goes to the token endpoint
    assert len({claims["jti"] for _, claims in server.proofs}) == 1  # counting_bytes: fixed


async def test_the_scheme_follows_the_token_type() -> None:
    server = DPoPServer()
    app = _dpop_app(server, token_type="Bearer")

    await app.get(RESOURCE)
    server.expire_access()
    await app.get(RESOURCE)  # 401, a refresh with a proof, answered token_type DPoP
    await app.get(RESOURCE)

    assert [value.partition(" ")[0] for value in _authorizations(server)] == [
        "Bearer",
        "Bearer",
        "DPoP",
        "DPoP",
    ]


async def test_a_nonce_at_the_token_endpoint_costs_one_retry_and_nothing_else() -> None:
    server = DPoPServer(nonce_at=("token",))
    app = _dpop_app(server)
    server.expire_access()

    answer = await app.get(RESOURCE)

    assert answer.status == 200
    assert app.gate.refresh_calls == 1  # one refresh, sent twice on the wire
    assert [claims.get("nonce") for claims in server.token_proofs()] == [None, "nonce-1"]
    assert server.presented[0] == server.presented[1]  # the same refresh token, not spent
    assert app.logouts == 0


async def test_a_nonce_at_the_api_costs_one_retry_and_no_refresh() -> None:
    server = DPoPServer(nonce_at=("api",))
    app = _dpop_app(server)

    answer = await app.get(RESOURCE)

    assert answer.status == 200
    assert [seen.status for seen in server.seen] == [401, 200]
    assert [claims.get("nonce") for claims in server.api_proofs()] == [None, "nonce-1"]
    assert app.gate.refresh_calls == 0 and server.refresh_calls == 0
    assert app.logouts == 0


async def test_the_nonce_is_kept_for_its_origin_and_costs_no_retry_after() -> None:
    server = DPoPServer(nonce_at=("api",))
    app = _dpop_app(server)

    for _ in range(3):
        await app.get(RESOURCE)

    assert [seen.status for seen in server.seen] == [401, 200, 200, 200]


async def test_a_tab_sharing_the_nonces_asks_for_none_on_its_first_request() -> None:
    server = DPoPServer(nonce_at=("api",))
    shared: dict = {}
    first, second = dpop_transport(server, nonces=shared), dpop_transport(server, nonces=shared)
    issued = server.issue()
    request = Request("GET", RESOURCE, {"Authorization": f"DPoP {issued.access}"})

    await first(request)
    await second(request)

    assert [seen.status for seen in server.seen] == [401, 200, 200]


async def test_a_second_use_dpop_nonce_in_a_row_at_the_api_is_an_error_not_a_loop() -> None:
    server = DPoPServer(nonce_at=("api",), refuse_nonces=True)
    app = _dpop_app(server)
    tokens = app.store.load()

    with raises(DPoPNonceError):
        await app.get(RESOURCE)

    assert [seen.status for seen in server.seen] == [401, 401]
    assert server.refresh_calls == 0 and app.logouts == 0
    assert app.store.load() == tokens
    assert issubclass(DPoPNonceError, TransientError)


async def test_a_second_use_dpop_nonce_in_a_row_at_the_token_endpoint_keeps_the_session() -> None:
    server = DPoPServer(nonce_at=("token",), refuse_nonces=True)
    app = _dpop_app(server)
    tokens = app.store.load()
    server.expire_access()

    with raises(DPoPNonceError):
        await app.get(RESOURCE)

    assert len(server.token_proofs()) == 2
    assert app.logouts == 0 and app.store.load() == tokens


async def test_a_nonce_demand_that_gives_no_nonce_is_not_retried() -> None:
    server = DPoPServer(nonce_at=("api",))
    server._use_nonce = lambda where: _challenge_without_nonce()
    app = _dpop_app(server)

    with raises(DPoPNonceError):
        await app.get(RESOURCE)

    assert len(server.seen) == 1


def _challenge_without_nonce() -> Response:
    return Response(401, "", {"www-authenticate": 'DPoP error="use_dpop_nonce"'})


async def test_a_login_goes_out_with_a_new_key_s_proof_and_gets_a_dpop_pair() -> None:
    server = DPoPServer()
    key = FixedKey(None)
    transport = dpop_transport(server, key)
    refresh = OAuth2Refresh(OAUTH_TOKEN_PATH)

    await transport.new_key()
    tokens = refresh.read_login(await transport(refresh.login(USERNAME, PASSWORD)))

    assert key.renewals == 1
    assert tokens.token_type == "DPoP"
    assert "ath" not in server.token_proofs()[0]


async def test_without_a_key_requests_go_out_without_a_proof() -> None:
    server = DPoPServer()
    transport = dpop_transport(server, FixedKey(None))

    await transport(Request("GET", RESOURCE))

    assert server.proofs == [(RESOURCE, None)]


async def test_ending_the_session_deletes_the_key() -> None:
    server = DPoPServer()
    app = _dpop_app(server)

    app.gate.end_session()

    assert app.key.forgotten == 1 and app.logouts == 1


async def test_a_refused_refresh_deletes_the_key_with_the_tokens() -> None:
    server = DPoPServer()
    app = _dpop_app(server)
    server.expire_access()
    server.refresh_outcome = 400

    with raises(Exception):
        await app.get(RESOURCE)

    assert app.store.load() is None and app.key.forgotten == 1


def test_a_dpop_pair_keeps_its_type_in_the_store() -> None:
    store = MemoryTokenStore()
    store.save(Tokens("at", "rt", None, "DPoP"))
    assert store.load().token_type == "DPoP"
    # As localStorage hands it back: three strings, the type missing for a Bearer pair.
    assert stored_pair("at", "rt", "DPoP") == Tokens("at", "rt", None, "DPoP")
    assert stored_pair("at", "rt", "dpop").token_type == "DPoP"
    assert stored_pair("at", "rt", None).token_type == "Bearer"
    assert Tokens("at", "rt", None, "DPoP") != Tokens("at", "rt")
