"""A relying party by hand, in httpx: the calls the library's sign-in makes from the page.

Each request a browser's `fetch` would send from the page carries the page's `Origin`, so
the provider's CORS rule is exercised as it will be in Chromium. The sign-in walks the
provider's own devInteractions pages as a user would: the login form, then consent.
"""

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from tests.oidc.support import ProviderProcess

SCOPE = "openid api"
USER = "andreyka26_"
PASSWORD = "Mypass1*"
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


@dataclass
class SignIn:
    """One sign-in: what the page keeps for it, and what the provider answered."""

    verifier: str
    state: str
    nonce: str
    url: str
    pages: list[str] = field(default_factory=list)  # the HTML of each page shown on the way
    callback: dict[str, str] = field(default_factory=dict)  # the redirect's query


def pkce_challenge(verifier: str) -> str:
    """RFC 7636's S256 challenge for `verifier`."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def discovery(http: httpx.Client, provider: ProviderProcess) -> dict:
    """The provider's OpenID Connect discovery document."""
    answer = http.get(f"{provider.issuer}/.well-known/openid-configuration")
    answer.raise_for_status()
    return answer.json()


def start_sign_in(http: httpx.Client, provider: ProviderProcess, scope: str = SCOPE) -> SignIn:
    """A fresh verifier, state and nonce, and the authorization URL that carries them."""
    verifier, state, nonce = (secrets.token_urlsafe(32) for _ in range(3))
    query = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": provider.redirect_uri,
        "scope": scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
    }
    endpoint = discovery(http, provider)["authorization_endpoint"]
    return SignIn(verifier, state, nonce, f"{endpoint}?{urlencode(query)}")


def _follow(http: httpx.Client, response: httpx.Response, sign_in: SignIn, stop_at: str):
    """Follow redirects within the provider; stop at `stop_at` (the page) or at a page."""
    while response.is_redirect:
        target = urljoin(str(response.url), response.headers["location"])
        if target.startswith(stop_at):
            sign_in.callback = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
            return None
        response = http.get(target)
    response.raise_for_status()
    sign_in.pages.append(response.text)
    return response


def sign_in(
    http: httpx.Client, provider: ProviderProcess, user: str = USER, password: str = PASSWORD
) -> SignIn:
    """Sign in through the provider's login form and consent page, back to the redirect URI.

    `http` keeps the provider's cookies, as the browser would: a second sign-in with the
    same client skips the pages the provider no longer needs to show.
    """
    pending = start_sign_in(http, provider)
    stop_at = provider.redirect_uri
    page = _follow(http, http.get(pending.url), pending, stop_at)
    forms = {"login": {"prompt": "login", "login": user, "password": password}}
    forms["consent"] = {"prompt": "consent"}
    while page is not None:
        prompt = re.search(r'name="prompt" value="(\w+)"', page.text)
        assert prompt is not None, f"no form on the provider's page:\n{page.text}"
        action = urljoin(str(page.url), FORM_ACTION.search(page.text).group(1))
        page = _follow(http, http.post(action, data=forms[prompt.group(1)]), pending, stop_at)
    return pending


def _post_from_page(
    http: httpx.Client,
    provider: ProviderProcess,
    endpoint: str,
    form: dict[str, str],
    origin: str | None,
) -> httpx.Response:
    """POST `form` to the discovered `endpoint`, from the page's origin unless told another."""
    url = discovery(http, provider)[endpoint]
    return http.post(url, data=form, headers={"Origin": origin or provider.page_origin})


def exchange_code(
    http: httpx.Client, provider: ProviderProcess, pending: SignIn, origin: str | None = None
) -> httpx.Response:
    """The token request for the sign-in's code, with its PKCE verifier."""
    form = {
        "grant_type": "authorization_code",
        "code": pending.callback["code"],
        "redirect_uri": provider.redirect_uri,
        "client_id": provider.client_id,
        "code_verifier": pending.verifier,
    }
    return _post_from_page(http, provider, "token_endpoint", form, origin)


def refresh(
    http: httpx.Client, provider: ProviderProcess, refresh_token: str, origin: str | None = None
) -> httpx.Response:
    """RFC 6749's refresh at the token endpoint, as the gate sends it."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    form["client_id"] = provider.client_id
    return _post_from_page(http, provider, "token_endpoint", form, origin)


def revoke(
    http: httpx.Client, provider: ProviderProcess, token: str, origin: str | None = None
) -> httpx.Response:
    """RFC 7009's revocation of `token`, a refresh token."""
    form = {"token": token, "token_type_hint": "refresh_token"}
    form["client_id"] = provider.client_id
    return _post_from_page(http, provider, "revocation_endpoint", form, origin)


def signed_in(http: httpx.Client, provider: ProviderProcess) -> tuple[SignIn, dict]:
    """A whole sign-in and its code exchange: the sign-in and the token answer."""
    pending = sign_in(http, provider)
    answer = exchange_code(http, provider, pending)
    assert answer.status_code == 200, answer.text
    return pending, answer.json()
