"""Signing in with an OpenID Connect provider, end to end against a fake provider that
checks PKCE and signs its ID tokens as a real one would (both interpreters)."""

import hashlib
import json

from refresh_gate import Request, Response
from refresh_gate._errors import SignInError
from refresh_gate._forms import form_decode
from refresh_gate._oidc import OidcSettings, OidcSignIn
from refresh_gate._pkce import base64url, code_challenge
from refresh_gate._sign_in import PendingSignIns
from tests.portable import parametrize, raises
from tests.refresh_gate.fakes import SessionStorage

ISSUER = "https://id.example"
CLIENT = "page"
PAGE = "https://page.example"
NOW = 1_700_000_000.0


def _signature(kid: str, signed: str) -> bytes:
    """The fake provider's "signature": only its key id and the signed text make it."""
    return hashlib.sha256(f"{kid}|{signed}".encode()).digest()


async def verify(jwk: dict, alg: str, signed: str, signature: bytes) -> bool:
    return signature == _signature(jwk["kid"], signed)


class Provider:
    """Discovery, keys, a token endpoint that checks the code and its verifier, revocation."""

    def __init__(self, **document: object) -> None:
        self.document = {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/auth",
            "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks",
            "revocation_endpoint": f"{ISSUER}/revoke",
            "end_session_endpoint": f"{ISSUER}/logout",
        }
        self.document.update(document)
        self.kid, self.alg = "k1", "RS256"
        self.claims: dict = {}  # changes to the ID token's claims
        self.codes: dict = {}  # code -> (challenge, nonce)
        self.requests: list = []
        self.token_error: dict | None = None

    async def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        if request.path == f"{ISSUER}/.well-known/openid-configuration":
            return Response(200, json.dumps(self.document))
        if request.path == f"{ISSUER}/jwks":
            return Response(200, json.dumps({"keys": [{"kty": "RSA", "kid": self.kid}]}))
        if request.path == f"{ISSUER}/token":
            return self._token(form_decode(request.body))
        if request.path == f"{ISSUER}/revoke":
            return Response(200, "")
        return Response(404, "")

    def sign_in(self, url: str, code: str = "code-1") -> str:
        """The user signs in at `url`: the query the provider sends them back with."""
        query = form_decode(url.partition("?")[2])
        self.codes[code] = (query["code_challenge"], query["nonce"])
        return f"?code={code}&state={query['state']}"

    def id_token(self, nonce: str) -> str:
        header = {"alg": self.alg, "kid": self.kid}
        claims = {"iss": ISSUER, "aud": CLIENT, "exp": NOW + 300, "iat": NOW, "nonce": nonce}
        claims.update(self.claims)
        signed = ".".join(base64url(json.dumps(part).encode()) for part in (header, claims))
        return f"{signed}.{base64url(_signature(self.kid, signed))}"

    def _token(self, form: dict) -> Response:
        if self.token_error is not None:
            return Response(400, json.dumps(self.token_error))
        challenge, nonce = self.codes.pop(form["code"], (None, None))
        if challenge is None or code_challenge(form["code_verifier"]) != challenge:
            return Response(400, json.dumps({"error": "invalid_grant"}))
        answer = {
            "access_token": "at-1",
            "refresh_token": "rt-1",
            "expires_in": 30,
            "token_type": "Bearer",
            "id_token": self.id_token(nonce),
        }
        return Response(200, json.dumps(answer))

    def token_requests(self) -> int:
        return sum(1 for request in self.requests if request.path == f"{ISSUER}/token")


def _client(
    provider: Provider, storage: SessionStorage | None = None, **settings: str
) -> OidcSignIn:
    counter = [0]

    def random_bytes(count: int) -> bytes:
        counter[0] += 1
        return bytes((counter[0] * 7 + index) % 256 for index in range(count))

    options = {"redirect_uri": f"{PAGE}/callback"}
    options.update(settings)
    return OidcSignIn(
        OidcSettings(ISSUER, CLIENT, **options),
        provider,
        pending=PendingSignIns(storage or SessionStorage(), lambda: NOW),
        random_bytes=random_bytes,
        verify=verify,
        clock=lambda: NOW,
    )


async def test_a_sign_in_goes_to_the_provider_and_comes_back_with_a_checked_pair() -> None:
    provider = Provider()
    client = _client(provider)

    url = await client.begin("/after")
    signed_in = await client.finish(provider.sign_in(url))

    assert url.startswith(f"{ISSUER}/auth?response_type=code&client_id=page&")
    assert (signed_in.tokens.access, signed_in.tokens.refresh) == ("at-1", "rt-1")
    assert signed_in.tokens.expires_in == 30.0
    assert signed_in.claims["aud"] == CLIENT
    assert signed_in.return_to == "/after"


async def test_the_gate_then_refreshes_at_the_discovered_token_endpoint() -> None:
    provider = Provider(token_endpoint=f"{ISSUER}/oauth2/token")
    client = _client(provider)
    await client.metadata()

    request = client.refresh().request("rt-1")

    assert request.path == f"{ISSUER}/oauth2/token"
    assert form_decode(request.body) == {
        "grant_type": "refresh_token",
        "refresh_token": "rt-1",
        "client_id": CLIENT,
    }


async def test_a_tampered_state_is_refused_with_a_message_and_no_token_request() -> None:
    provider = Provider()
    client = _client(provider)
    back = provider.sign_in(await client.begin())
    code = back.partition("&")[0]

    with raises(SignInError) as caught:
        await client.finish(f"{code}&state=forged")
    assert "not begun in this tab" in str(caught.value)
    assert provider.token_requests() == 0


async def test_a_replayed_callback_is_refused_and_exchanges_nothing_twice() -> None:
    provider = Provider()
    client = _client(provider)
    back = provider.sign_in(await client.begin())
    await client.finish(back)

    with raises(SignInError):
        await client.finish(back)
    assert provider.token_requests() == 1


async def test_a_sign_in_begun_in_another_tab_is_refused_here() -> None:
    provider = Provider()
    back = provider.sign_in(await _client(provider, SessionStorage()).begin())

    with raises(SignInError):
        await _client(provider, SessionStorage()).finish(back)  # its own sessionStorage
    assert provider.token_requests() == 0


async def test_the_providers_refusal_on_the_way_back_is_a_message() -> None:
    client = _client(Provider())
    await client.begin()

    with raises(SignInError) as caught:
        await client.finish("?error=access_denied&error_description=Cancelled&state=x")
    assert "Cancelled" in str(caught.value)


async def test_a_code_exchange_answered_with_an_error_is_a_message_and_no_tokens() -> None:
    provider = Provider()
    provider.token_error = {"error": "invalid_grant", "error_description": "code expired"}
    client = _client(provider)

    with raises(SignInError) as caught:
        await client.finish(provider.sign_in(await client.begin()))
    assert "code expired" in str(caught.value)


async def test_a_discovery_document_for_another_issuer_stops_the_sign_in_before_it_begins() -> None:
    provider = Provider(issuer="https://evil.example")

    with raises(SignInError):
        await _client(provider).begin()


@parametrize(
    "change, said",
    [
        ({"alg": "none"}, "not RS256 or ES256"),
        ({"alg": "HS256"}, "not RS256 or ES256"),
        ({"alg": "ES256"}, "not one for its algorithm"),  # an RSA key claimed as EC
        ({"forged": True}, "signature"),
    ],
)
async def test_an_id_token_not_signed_by_the_providers_key_is_refused(
    change: dict, said: str
) -> None:
    provider = Provider()
    if "alg" in change:
        provider.alg = change["alg"]
    if change.get("forged"):
        original = provider.id_token
        provider.id_token = lambda nonce: original(nonce)[:-4] + "AAAA"
    client = _client(provider)

    with raises(SignInError) as caught:
        await client.finish(provider.sign_in(await client.begin()))
    assert said in str(caught.value)


async def test_an_id_token_with_another_sign_ins_nonce_is_refused() -> None:
    provider = Provider()
    provider.claims = {"nonce": "replayed"}
    client = _client(provider)

    with raises(SignInError) as caught:
        await client.finish(provider.sign_in(await client.begin()))
    assert "nonce" in str(caught.value)


async def test_rotated_keys_are_fetched_again_once() -> None:
    provider = Provider()
    client = _client(provider)
    await client.finish(provider.sign_in(await client.begin(), "code-1"))
    provider.kid = "k2"  # the provider rotated its signing key

    await client.finish(provider.sign_in(await client.begin(), "code-2"))

    assert sum(1 for request in provider.requests if request.path.endswith("/jwks")) == 2


async def test_log_out_revokes_the_refresh_token_then_names_the_providers_logout() -> None:
    provider = Provider()
    client = _client(provider, post_logout_redirect_uri=f"{PAGE}/login")

    url = await client.log_out("rt-1", "the.id.token")

    revoke = provider.requests[-1]
    assert (revoke.method, revoke.path) == ("POST", f"{ISSUER}/revoke")
    assert form_decode(revoke.body) == {
        "token": "rt-1",
        "token_type_hint": "refresh_token",
        "client_id": CLIENT,
    }
    endpoint, _, query = url.partition("?")
    assert endpoint == f"{ISSUER}/logout"
    assert form_decode(query) == {
        "client_id": CLIENT,
        "id_token_hint": "the.id.token",
        "post_logout_redirect_uri": f"{PAGE}/login",
    }


async def test_log_out_with_a_provider_without_revocation_or_logout_sends_nothing() -> None:
    provider = Provider(revocation_endpoint=None, end_session_endpoint=None)
    client = _client(provider)

    assert await client.log_out("rt-1", None) is None
    assert [request.path for request in provider.requests] == [
        f"{ISSUER}/.well-known/openid-configuration"
    ]
