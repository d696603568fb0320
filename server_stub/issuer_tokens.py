"""Access tokens of a trusted OpenID Connect provider (`--trust-issuer URL --audience AUD`):
RFC 9068 JWTs the API accepts beside its own, as an API behind Keycloak or Auth0 does.

Checked by pinned rules: the signature against the provider's published keys (its JWKS,
found through its discovery document, kept, and fetched again for an unknown `kid` at most
once a minute), asymmetric algorithms only (never `none` or a MAC), `typ` at+jwt, `iss`
exactly the trusted issuer, `aud` naming this API, `exp` and `nbf`. A token with `cnf.jkt`
(the provider bound it to a DPoP key) takes the same proof as the server's own
(server_stub/resource_auth.py).
"""

import json
import threading
import time
import urllib.request

import jwt

from server_stub.errors import InvalidToken
from server_stub.tokens import LEEWAY_SECONDS, MAX_TOKEN_LENGTH, AccessClaims, bound_key

ALGORITHMS = ["RS256", "ES256"]
_ACCEPTED_TYPES = {"at+jwt", "application/at+jwt"}
_REFETCH_AFTER = 60.0  # seconds: an unknown kid refetches the keys no more often
_FETCH_TIMEOUT = 5.0


def unverified_issuer(token: str) -> str | None:
    """The `iss` a JWT claims, unchecked: only to pick which verifier checks it."""
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError):
        return None
    return issuer if isinstance(issuer, str) else None


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=_FETCH_TIMEOUT) as answer:
        return json.load(answer)


class IssuerTokens:
    """Verifies the access tokens `issuer` makes for `audience`."""

    def __init__(self, issuer: str, audience: str, get_json=_get_json, clock=time.monotonic):
        self.issuer = issuer
        self._audience = audience
        self._get_json = get_json
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._fetching = threading.Lock()

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid access token of the issuer, or `InvalidToken` saying why not."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("access token is too long")
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, ValueError, TypeError):
            raise InvalidToken("access token is not valid") from None
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYPES:
            raise InvalidToken("token is not an access token")
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken("access token is not valid")
        key = self._key(header.get("kid"))
        try:
            payload = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name] if key.algorithm_name in ALGORITHMS else [],
                audience=self._audience,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("access token has expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("access token is not valid yet") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise InvalidToken("access token is not valid") from None
        subject = payload["sub"]
        if not isinstance(subject, str):
            raise InvalidToken("access token is not valid")
        return AccessClaims(user_id=subject, name=subject, jkt=bound_key(payload))

    def _key(self, kid: object) -> jwt.PyJWK:
        if not isinstance(kid, str):
            raise InvalidToken("access token names no key")
        key = self._keys.get(kid)
        if key is None:
            # One fetch at a time: requests verified in parallel (FastAPI's threads) that
            # all meet an unknown kid wait for the one fetch, then look again.
            with self._fetching:
                key = self._keys.get(kid)
                now = self._clock()
                if key is None and (
                    self._fetched_at is None or now - self._fetched_at >= _REFETCH_AFTER
                ):
                    self._fetched_at = now
                    self._keys = self._fetch_keys()
                    key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("access token's key is unknown")
        return key

    def _fetch_keys(self) -> dict[str, jwt.PyJWK]:
        try:
            discovery = self._get_json(
                self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            )
            listed = self._get_json(discovery["jwks_uri"])["keys"]
        except (OSError, ValueError, KeyError, TypeError):
            return self._keys  # the provider is unreachable: keep what was known
        keys = {}
        for data in listed:
            try:
                key = jwt.PyJWK(data)
            except (jwt.PyJWTError, ValueError, TypeError):
                continue
            if isinstance(data.get("kid"), str) and key.algorithm_name in ALGORITHMS:
                keys[data["kid"]] = key
        return keys
