"""Signing in with a provider with DPoP (RFC 9449): a new key as the sign-in begins, bound to
the code by `dpop_jkt` (§10), and a proof on the token request (both interpreters)."""

import json

from refresh_gate import Response
from refresh_gate._forms import form_decode
from tests.refresh_gate.dpop_fakes import RFC_THUMBPRINT, FixedKey, dpop_transport, read_proof
from tests.refresh_gate.test_oidc import ISSUER, Provider, _client


class DPoPProvider(Provider):
    """The fake provider of test_oidc.py, answering a token request with a proof as DPoP."""

    async def __call__(self, request):
        response = await super().__call__(request)
        if request.path != f"{ISSUER}/token" or "DPoP" not in request.headers:
            return response
        answer = json.loads(response.body)
        answer["token_type"] = "DPoP"
        return Response(response.status, json.dumps(answer))


async def test_a_sign_in_makes_a_new_key_and_binds_the_code_to_it() -> None:
    provider = DPoPProvider()
    key = FixedKey(None)  # signed out: no key yet
    client = _client(dpop_transport(provider, key))

    url = await client.begin("/after")

    assert key.renewals == 1
    assert form_decode(url.partition("?")[2])["dpop_jkt"] == RFC_THUMBPRINT


async def test_the_code_exchange_carries_a_proof_and_the_pair_is_dpop() -> None:
    provider = DPoPProvider()
    key = FixedKey(None)
    client = _client(dpop_transport(provider, key))

    signed_in = await client.finish(provider.sign_in(await client.begin("/after")))

    exchange = [request for request in provider.requests if request.path == f"{ISSUER}/token"]
    _, claims, _ = read_proof(exchange[0].headers["DPoP"])
    assert claims["htm"] == "POST" and claims["htu"] == f"{ISSUER}/token"
    assert "ath" not in claims
    assert signed_in.tokens.token_type == "DPoP"
    assert key.renewals == 1  # finishing makes no second key


async def test_a_key_deleted_between_begin_and_finish_is_made_again_before_the_exchange() -> None:
    provider = DPoPProvider()
    key = FixedKey(None)
    client = _client(dpop_transport(provider, key))
    url = await client.begin("/after")
    key.forget()  # a logout in another tab meanwhile

    await client.finish(provider.sign_in(url))

    assert key.renewals == 2
    exchange = [request for request in provider.requests if request.path == f"{ISSUER}/token"]
    assert "DPoP" in exchange[0].headers


async def test_without_dpop_the_sign_in_asks_for_no_binding() -> None:
    provider = Provider()
    url = await _client(provider).begin("/after")

    assert "dpop_jkt" not in form_decode(url.partition("?")[2])
