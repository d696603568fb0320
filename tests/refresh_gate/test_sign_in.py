"""The pure parts of signing in with an OpenID Connect provider: PKCE, state and nonce,
discovery, the ID token's claims and the provider's keys (both interpreters)."""

import json

from refresh_gate._discovery import ProviderMetadata, discovery_url
from refresh_gate._errors import SignInError
from refresh_gate._forms import form_decode
from refresh_gate._id_token import check_id_token_claims, id_token_parts
from refresh_gate._jwks import KeySet
from refresh_gate._pkce import base64url, code_challenge, code_verifier
from refresh_gate._sign_in import (
    STATE_LIFETIME,
    PendingSignIns,
    authorization_url,
    code_exchange,
    read_callback,
)
from tests.portable import parametrize, raises
from tests.refresh_gate.fakes import SessionStorage

ISSUER = "https://id.example"
CLIENT = "page-client"
NOW = 1_700_000_000.0
# RFC 7636 Appendix B: the verifier's 32 octets, the verifier and its S256 challenge.
RFC_OCTETS = bytes(
    [116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186]
    + [22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121]
)
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
DOCUMENT = {
    "issuer": ISSUER,
    "authorization_endpoint": f"{ISSUER}/authorize",
    "token_endpoint": f"{ISSUER}/token",
    "jwks_uri": f"{ISSUER}/jwks",
    "code_challenge_methods_supported": ["S256"],
}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _random(seed: int) -> bytes:
    return bytes((seed + index) % 256 for index in range(64))


def test_the_challenge_of_rfc_7636s_verifier_is_rfc_7636s() -> None:
    assert code_verifier(RFC_OCTETS) == RFC_VERIFIER
    assert code_challenge(RFC_VERIFIER) == RFC_CHALLENGE


def test_a_verifier_needs_32_random_bytes() -> None:
    with raises(ValueError):
        code_verifier(bytes(31))


def test_base64url_has_no_padding_and_no_plus_or_slash() -> None:
    assert base64url(bytes([0xFB, 0xFF])) == "-_8"


def test_a_state_is_good_once() -> None:
    pending = PendingSignIns(SessionStorage(), Clock())
    begun = pending.begin(_random(1))

    assert pending.take(begun["state"]) == begun
    with raises(SignInError) as caught:
        pending.take(begun["state"])
    assert "already finished" in str(caught.value)


def test_a_state_this_tab_never_began_is_refused() -> None:
    pending = PendingSignIns(SessionStorage(), Clock())
    pending.begin(_random(1))

    with raises(SignInError):
        pending.take("made-up-state")


def test_a_state_older_than_its_lifetime_is_refused_and_forgotten() -> None:
    clock, storage = Clock(), SessionStorage()
    pending = PendingSignIns(storage, clock)
    begun = pending.begin(_random(1))
    clock.now += STATE_LIFETIME

    with raises(SignInError) as caught:
        pending.take(begun["state"])
    assert "too long" in str(caught.value)
    assert json.loads(storage.items["refresh-gate.sign-in"]) == {}


def test_two_sign_ins_of_one_tab_each_keep_their_own_nonce_and_verifier() -> None:
    pending = PendingSignIns(SessionStorage(), Clock())
    first, second = pending.begin(_random(1)), pending.begin(_random(2))

    assert pending.take(second["state"])["nonce"] == second["nonce"]
    assert pending.take(first["state"])["verifier"] == first["verifier"]
    assert first["nonce"] != second["nonce"]


def test_the_authorization_url_carries_state_nonce_and_the_s256_challenge() -> None:
    metadata = ProviderMetadata.from_document(DOCUMENT, ISSUER)
    begun = PendingSignIns(SessionStorage(), Clock()).begin(_random(3))

    url = authorization_url(metadata, begun, client_id=CLIENT, redirect_uri="http://p/cb")
    endpoint, _, query = url.partition("?")

    assert endpoint == f"{ISSUER}/authorize"
    assert form_decode(query) == {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": "http://p/cb",
        "scope": "openid",
        "state": begun["state"],
        "nonce": begun["nonce"],
        "code_challenge": code_challenge(begun["verifier"]),
        "code_challenge_method": "S256",
    }


def test_the_code_exchange_proves_the_sign_in_with_its_verifier() -> None:
    metadata = ProviderMetadata.from_document(DOCUMENT, ISSUER)
    begun = PendingSignIns(SessionStorage(), Clock()).begin(_random(4))

    request = code_exchange(
        metadata, begun, "the-code", client_id=CLIENT, redirect_uri="http://p/cb"
    )

    assert (request.method, request.path) == ("POST", f"{ISSUER}/token")
    assert form_decode(request.body) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "http://p/cb",
        "client_id": CLIENT,
        "code_verifier": begun["verifier"],
    }


def test_the_callback_gives_code_and_state() -> None:
    assert read_callback("?code=abc&state=xyz") == ("abc", "xyz")


@parametrize(
    "query, said",
    [
        ("error=access_denied&error_description=The+user+said+no&state=s", "The user said no"),
        ("error=login_required&state=s", "login_required"),
        ("state=s", "no code"),
        ("code=%ZZ&state=s", "cannot be read"),
    ],
)
def test_a_callback_without_a_code_is_a_message_not_a_token_request(query: str, said: str) -> None:
    with raises(SignInError) as caught:
        read_callback(query)
    assert said in str(caught.value)


def test_discovery_is_read_at_the_well_known_path() -> None:
    assert discovery_url(ISSUER + "/") == f"{ISSUER}/.well-known/openid-configuration"


@parametrize(
    "change, said",
    [
        ({"issuer": "https://evil.example"}, "not 'https://id.example'"),
        ({"issuer": ISSUER + "/"}, "refusing"),
        ({"token_endpoint": None}, "token_endpoint"),
        ({"jwks_uri": "http://id.example/jwks"}, "jwks_uri"),
        ({"code_challenge_methods_supported": ["plain"]}, "S256"),
    ],
)
def test_a_discovery_document_that_cannot_be_trusted_stops_the_sign_in(
    change: dict, said: str
) -> None:
    document = dict(DOCUMENT)
    document.update(change)

    with raises(SignInError) as caught:
        ProviderMetadata.from_document(document, ISSUER)
    assert said in str(caught.value)


def _claims(**change: object) -> dict:
    claims = {"iss": ISSUER, "aud": CLIENT, "exp": NOW + 300, "iat": NOW, "nonce": "n-1"}
    claims.update(change)
    return {name: value for name, value in claims.items() if value is not None}


def test_an_id_token_made_for_this_sign_in_passes() -> None:
    check_id_token_claims(_claims(), issuer=ISSUER, client_id=CLIENT, nonce="n-1", now=NOW)
    check_id_token_claims(
        _claims(aud=[CLIENT, "api"], azp=CLIENT),
        issuer=ISSUER,
        client_id=CLIENT,
        nonce="n-1",
        now=NOW,
    )


@parametrize(
    "change, said",
    [
        ({"iss": "https://other.example"}, "issued by"),
        ({"aud": "other-client"}, "aud"),
        ({"aud": ["other-client", "api"]}, "aud"),
        ({"azp": "other-client"}, "azp"),
        ({"aud": [CLIENT, "api"]}, "no azp"),
        ({"exp": NOW - 61}, "exp"),
        ({"exp": None}, "exp"),
        ({"iat": NOW + 61}, "iat"),
        ({"nonce": "n-2"}, "nonce"),
        ({"nonce": None}, "nonce"),
    ],
)
def test_an_id_token_failing_one_claim_is_refused_by_name(change: dict, said: str) -> None:
    with raises(SignInError) as caught:
        check_id_token_claims(
            _claims(**change), issuer=ISSUER, client_id=CLIENT, nonce="n-1", now=NOW
        )
    assert said in str(caught.value)


def test_an_id_token_that_is_not_a_jwt_is_refused() -> None:
    for token in ("", "a.b", "!!.??.**", 17):
        with raises(SignInError):
            id_token_parts(token)


def test_an_id_tokens_parts_are_read_for_the_signature_check() -> None:
    header = base64url(b'{"alg":"RS256","kid":"k1"}')
    claims = base64url(b'{"iss":"https://id.example"}')

    read = id_token_parts(f"{header}.{claims}.{base64url(b'sig')}")

    assert read == ({"alg": "RS256", "kid": "k1"}, {"iss": ISSUER}, f"{header}.{claims}", b"sig")


class Provider:
    """A JWKS endpoint whose keys rotate when told."""

    def __init__(self) -> None:
        self.kids = ["k1"]
        self.asked = 0

    async def jwks(self) -> dict:
        self.asked += 1
        return {"keys": [{"kty": "RSA", "kid": kid, "use": "sig"} for kid in self.kids]}


async def test_keys_are_fetched_once_and_kept() -> None:
    provider = Provider()
    keys = KeySet(provider.jwks)

    for _ in range(3):
        assert (await keys.key_for("k1"))["kid"] == "k1"
    assert provider.asked == 1


async def test_an_unknown_kid_fetches_the_keys_again_once() -> None:
    provider = Provider()
    keys = KeySet(provider.jwks)
    await keys.key_for("k1")
    provider.kids = ["k2"]  # the provider rotated its keys

    assert (await keys.key_for("k2"))["kid"] == "k2"
    assert provider.asked == 2
    with raises(SignInError):
        await keys.key_for("k9")  # unknown after a fresh look too: refused, no loop
    assert provider.asked == 3
