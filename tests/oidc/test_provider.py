"""What the library will rely on in the real `oidc-provider`, pinned from Python.

Each test signs in over HTTP through the provider's own pages (tests/oidc/relying_party.py)
against one provider process configured as tests/oidc/provider.mjs says. If an upgrade of
oidc-provider or a change to its configuration moves one of these facts, the test that
names it fails here, before the browser tests have to explain why.
"""

import hashlib
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urljoin, urlsplit

import httpx
import jwt

from tests.oidc.relying_party import (
    SCOPE,
    USER,
    discovery,
    exchange_code,
    refresh,
    revoke,
    sign_in,
    signed_in,
)
from tests.oidc.support import ProviderProcess

ACCESS_TOKEN_SECONDS = 30  # provider.mjs's default --access-token-ttl
URL_IN_PAGE = re.compile(r'(?:src|href|action)="([^"]*)"|url\(([^)]*)\)|@import\s+"([^"]*)"')


def verified(token: str, http: httpx.Client, provider: ProviderProcess, audience: str) -> dict:
    """The claims of a JWT signed with RS256 by one of the provider's keys, for `audience`."""
    keys = jwt.PyJWKSet.from_dict(http.get(discovery(http, provider)["jwks_uri"]).json())
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = (key for key in keys.keys if key.key_id == kid)
    return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=provider.issuer)


def grant_of(provider: ProviderProcess, refresh_token: str) -> str:
    """The grant a refresh token belongs to, from the provider's event log."""
    fingerprint = hashlib.sha256(refresh_token.encode()).hexdigest()[:16]
    (saved,) = (e for e in provider.events("refresh_token.saved") if e["token"] == fingerprint)
    return saved["grantId"]


def assert_invalid_grant(answer: httpx.Response) -> None:
    """The one refusal the token endpoint gives a client for any bad grant."""
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_grant"


def test_discovery_names_the_configured_issuer_revocation_and_logout(
    oidc_provider: ProviderProcess, http: httpx.Client
) -> None:
    document = discovery(http, oidc_provider)
    assert document["issuer"] == oidc_provider.issuer
    assert document["revocation_endpoint"] == f"{oidc_provider.issuer}/token/revocation"
    assert document["end_session_endpoint"] == f"{oidc_provider.issuer}/session/end"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in document["id_token_signing_alg_values_supported"]


def test_a_sign_in_without_a_pkce_challenge_is_refused(
    oidc_provider: ProviderProcess, http: httpx.Client
) -> None:
    query = {
        "response_type": "code",
        "client_id": oidc_provider.client_id,
        "redirect_uri": oidc_provider.redirect_uri,
        "scope": SCOPE,
        "state": "s",
        "nonce": "n",
    }
    answer = http.get(
        f"{discovery(http, oidc_provider)['authorization_endpoint']}?{urlencode(query)}"
    )
    location = answer.headers["location"]
    assert location.startswith(oidc_provider.redirect_uri)
    assert "error=invalid_request" in location and "requires+PKCE" in location


def test_a_sign_in_answers_an_id_token_a_refresh_token_and_a_jwt_for_the_api(
    oidc_provider: ProviderProcess, http: httpx.Client
) -> None:
    pending, tokens = signed_in(http, oidc_provider)
    assert pending.callback["state"] == pending.state
    assert pending.callback["iss"] == oidc_provider.issuer  # RFC 9207, always sent
    identity = verified(tokens["id_token"], http, oidc_provider, oidc_provider.client_id)
    assert identity["nonce"] == pending.nonce
    assert identity["sub"] == USER
    assert tokens["refresh_token"]
    assert tokens["expires_in"] == ACCESS_TOKEN_SECONDS
    assert jwt.get_unverified_header(tokens["access_token"])["typ"] == "at+jwt"
    access = verified(tokens["access_token"], http, oidc_provider, oidc_provider.api_audience)
    assert access["client_id"] == oidc_provider.client_id
    assert access["sub"] == USER
    assert access["exp"] - access["iat"] == ACCESS_TOKEN_SECONDS


def test_a_refresh_spends_the_refresh_token_and_answers_a_new_pair(
    oidc_provider: ProviderProcess, http: httpx.Client
) -> None:
    _, tokens = signed_in(http, oidc_provider)
    answer = refresh(http, oidc_provider, tokens["refresh_token"])
    assert answer.status_code == 200, answer.text
    renewed = answer.json()
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert renewed["access_token"] != tokens["access_token"]
    assert verified(renewed["access_token"], http, oidc_provider, oidc_provider.api_audience)
    assert refresh(http, oidc_provider, renewed["refresh_token"]).status_code == 200


def test_a_spent_refresh_token_presented_again_kills_the_winners_new_token(
    oidc_provider: ProviderProcess, http: httpx.Client
) -> None:
    """The race the library must never run: two refreshes of one token, one after the other."""
    _, tokens = signed_in(http, oidc_provider)
    grant = grant_of(oidc_provider, tokens["refresh_token"])
    mark = len(oidc_provider.events())
    winner = refresh(http, oidc_provider, tokens["refresh_token"])
    assert winner.status_code == 200
    loser = refresh(http, oidc_provider, tokens["refresh_token"])
    assert loser.status_code == 400
    assert loser.json() == {
        "error": "invalid_grant",
        "error_description": "grant request is invalid",
    }
    assert_invalid_grant(refresh(http, oidc_provider, winner.json()["refresh_token"]))
    # Why, in the provider's own words: the loser's token was spent, so the grant was
    # revoked, and with it the winner's new token.
    events = oidc_provider.events()[mark:]
    why = [e["detail"] for e in events if e["event"] == "grant.error"]
    assert why == ["refresh token already used", "refresh token not found"]
    assert {"event": "grant.revoked", "grantId": grant} in events


def test_ten_refreshes_of_one_token_at_once_leave_one_winner_and_kill_its_token(
    oidc_provider: ProviderProcess, http: httpx.Client
) -> None:
    """Two tabs without a shared lock, ten times over: the provider is no referee."""
    _, tokens = signed_in(http, oidc_provider)
    start_together = threading.Barrier(10)

    def refresh_in_a_tab_of_its_own(_: int) -> httpx.Response:
        with httpx.Client(timeout=10) as tab:
            start_together.wait()
            return refresh(tab, oidc_provider, tokens["refresh_token"])

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(refresh_in_a_tab_of_its_own, range(10)))
    assert Counter(answer.status_code for answer in answers) == {200: 1, 400: 9}
    (winner,) = (answer.json() for answer in answers if answer.status_code == 200)
    assert_invalid_grant(refresh(http, oidc_provider, winner["refresh_token"]))


def test_a_revoked_refresh_token_refreshes_no_more(
    oidc_provider: ProviderProcess, http: httpx.Client
) -> None:
    _, tokens = signed_in(http, oidc_provider)
    grant = grant_of(oidc_provider, tokens["refresh_token"])
    answer = revoke(http, oidc_provider, tokens["refresh_token"])
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == oidc_provider.page_origin
    assert_invalid_grant(refresh(http, oidc_provider, tokens["refresh_token"]))
    # Revoking a refresh token revokes its whole grant (lib/helpers/defaults.js,
    # revokeGrantPolicy), as server_stub's /oauth/revoke ends the family.
    assert {"event": "grant.revoked", "grantId": grant} in oidc_provider.events()


def test_the_token_endpoint_allows_the_pages_origin_and_no_other(
    oidc_provider: ProviderProcess, http: httpx.Client
) -> None:
    _, tokens = signed_in(http, oidc_provider)
    page = urlsplit(oidc_provider.page_origin)
    for other in (f"http://localhost:{page.port}", "http://127.0.0.1:1", "null"):
        answer = refresh(http, oidc_provider, tokens["refresh_token"], origin=other)
        assert answer.status_code == 400, other
        assert answer.json()["error"] == "invalid_request", other
        assert "access-control-allow-origin" not in answer.headers, other
    # Refused before the grant was looked at: the refresh token was not spent.
    answer = refresh(http, oidc_provider, tokens["refresh_token"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == oidc_provider.page_origin


def test_logout_returns_to_the_page_and_ends_the_grant(
    oidc_provider: ProviderProcess, http: httpx.Client
) -> None:
    _, tokens = signed_in(http, oidc_provider)
    query = {
        "id_token_hint": tokens["id_token"],
        "post_logout_redirect_uri": oidc_provider.post_logout_redirect_uri,
        "state": "after-logout",
    }
    endpoint = discovery(http, oidc_provider)["end_session_endpoint"]
    page = http.get(f"{endpoint}?{urlencode(query)}")
    assert page.status_code == 200
    # The page submits itself, with logout=yes: the browser goes straight on.
    assert 'name="logout" value="yes"' in page.text and ".submit()" in page.text
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1)
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text).group(1)
    done = http.post(urljoin(str(page.url), action), data={"xsrf": xsrf, "logout": "yes"})
    assert done.status_code == 303
    assert (
        done.headers["location"] == f"{oidc_provider.post_logout_redirect_uri}?state=after-logout"
    )
    assert_invalid_grant(refresh(http, oidc_provider, tokens["refresh_token"]))


def test_the_providers_pages_load_nothing_from_another_origin(
    oidc_provider: ProviderProcess, http: httpx.Client
) -> None:
    pending = sign_in(http, oidc_provider)
    exchange_code(http, oidc_provider, pending)
    logout = http.get(discovery(http, oidc_provider)["end_session_endpoint"])
    error = http.get(
        f"{oidc_provider.issuer}/auth?client_id=nobody", headers={"Accept": "text/html"}
    )
    pages = [*pending.pages, logout.text, error.text]
    assert len(pending.pages) == 2  # the login form and the consent page
    assert 'name="login"' in pending.pages[0] and 'name="password"' in pending.pages[0]
    origins = set()
    for html in pages:
        assert "fonts.googleapis.com" not in html
        for match in URL_IN_PAGE.finditer(html):
            url = next(group for group in match.groups() if group is not None)
            parts = urlsplit(urljoin(oidc_provider.issuer + "/", url))
            origins.add(f"{parts.scheme}://{parts.netloc}")
    assert origins == {oidc_provider.issuer}  # forms and links, all on the provider
