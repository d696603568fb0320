"""Signing in with a provider from a page: OidcSignIn on the browser's fetch, WebCrypto and
this tab's sessionStorage, from the page's `[refresh-gate]` settings."""

import time

import js

from refresh_gate._interpreter import to_js
from refresh_gate._javascript import browser_calls
from refresh_gate._oidc import OidcSettings, OidcSignIn
from refresh_gate._page import page_transport, random_bytes
from refresh_gate._pkce import base64url
from refresh_gate._sign_in import PendingSignIns
from refresh_gate._storage import SessionStorage


def oidc_settings(settings: dict, origin: str) -> OidcSettings:
    """The provider a page's settings name: `issuer` and `client-id` (both required),
    `redirect-path` (default /callback) and `post-logout-redirect-path` (default /login),
    paths on `origin`, the page's own, and `scope` (default "openid offline_access")."""
    issuer, client_id = settings.get("issuer"), settings.get("client-id")
    if not issuer or not client_id:
        raise ValueError("signing in with a provider needs its issuer and the page's client-id")
    return OidcSettings(
        issuer,
        client_id,
        redirect_uri=origin + settings.get("redirect-path", "/callback"),
        scope=settings.get("scope", "openid offline_access"),
        post_logout_redirect_uri=origin + settings.get("post-logout-redirect-path", "/login"),
    )


def page_sign_in(settings: dict, transport=None) -> OidcSignIn:
    """An OidcSignIn for this page: `settings` as `oidc_settings` reads them; `transport`
    the page's (page_transport's, with DPoP where `dpop = true`), or one of its own."""
    calls = browser_calls()

    def verify(jwk: dict, alg: str, signed: str, signature: bytes):
        return calls.verifySignature(to_js(jwk), alg, signed, base64url(signature))

    return OidcSignIn(
        oidc_settings(settings, str(js.location.origin)),
        transport or page_transport(settings),
        pending=PendingSignIns(SessionStorage(), time.time),
        random_bytes=random_bytes,
        verify=verify,
        clock=time.time,
    )
