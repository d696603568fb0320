"""Signing in with an OpenID Connect provider, and what follows: the refresh at its token
endpoint and the way out (RFC 7009 revocation, then RP-initiated logout).

`OidcSignIn` is pure: it sends through a transport (the browser's fetch, a fake in tests),
draws random bytes and checks signatures through callables it is given, and keeps begun
sign-ins in a PendingSignIns. The tokens it returns go to a RefreshGate, which from then on
refreshes them with `refresh()` (RFC 6749 §6 at the discovered token endpoint).
"""

import json

from refresh_gate._discovery import ProviderMetadata, discovery_url
from refresh_gate._dpop_transport import DPoPTransport
from refresh_gate._errors import SignInError, TransientError
from refresh_gate._forms import form_encode
from refresh_gate._id_token import check_id_token_claims, id_token_parts
from refresh_gate._jwks import KeySet
from refresh_gate._refresh import OAuth2Refresh
from refresh_gate._sign_in import authorization_url, code_exchange, read_callback
from refresh_gate._tokens import Tokens, usable_token
from refresh_gate._wire import Request

# The signature algorithms an ID token may use, each with the key type it needs: pinned,
# never read from the token alone (no "none", no MAC with a public key as its secret).
ALGORITHMS = {"RS256": "RSA", "ES256": "EC"}
_JSON = {"Accept": "application/json"}


class OidcSettings:
    """A page's provider: its `issuer` (exactly as the provider names itself), the page's
    public `client_id`, where the provider sends the user back, and what to ask for."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        *,
        redirect_uri: str,
        scope: str = "openid offline_access",
        post_logout_redirect_uri: str | None = None,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.scope = scope
        self.post_logout_redirect_uri = post_logout_redirect_uri


class SignedIn:
    """A finished sign-in: the pair for the gate, the ID token (for logout's hint), its
    claims, and where the user was when the sign-in began."""

    def __init__(self, tokens: Tokens, id_token: str, claims: dict, return_to: str) -> None:
        self.tokens = tokens
        self.id_token = id_token
        self.claims = claims
        self.return_to = return_to


class OidcSignIn:
    """The authorization code flow with PKCE against one provider.

    `transport` sends a Request and answers a Response; `pending` keeps begun sign-ins
    (PendingSignIns); `random_bytes(n)` draws n random bytes; `verify(jwk, alg, signed,
    signature)` answers (awaitably) whether `signature` is the key's over `signed`; `clock`
    gives seconds since the epoch. With a DPoPTransport as `transport` it signs in with
    DPoP (RFC 9449): a new key as a sign-in begins, its thumbprint as `dpop_jkt`, and a
    proof with every request to the provider.
    """

    def __init__(self, settings, transport, *, pending, random_bytes, verify, clock) -> None:
        self.settings = settings
        self._transport = transport
        self._pending = pending
        self._random_bytes = random_bytes
        self._verify = verify
        self._clock = clock
        self._metadata: ProviderMetadata | None = None
        self._keys: KeySet | None = None
        self._dpop = transport if isinstance(transport, DPoPTransport) else None

    async def metadata(self) -> ProviderMetadata:
        """The provider's endpoints, read from its discovery document once."""
        if self._metadata is None:
            document = await self._get_json(discovery_url(self.settings.issuer), "discovery")
            self._metadata = ProviderMetadata.from_document(document, self.settings.issuer)
            jwks_uri = self._metadata.jwks_uri
            self._keys = KeySet(lambda: self._get_json(jwks_uri, "keys"))
        return self._metadata

    async def begin(self, return_to: str = "/") -> str:
        """Begin a sign-in: the provider's URL to send the user to."""
        metadata = await self.metadata()
        pending = self._pending.begin(self._random_bytes(64), return_to)
        settings = self.settings
        # A new sign-in, a new key: made here, in the tab signing in, and bound to the code
        # the provider hands back, which is then worth nothing to a page without the key.
        dpop_jkt = None if self._dpop is None else await self._dpop.new_key()
        return authorization_url(
            metadata,
            pending,
            client_id=settings.client_id,
            redirect_uri=settings.redirect_uri,
            scope=settings.scope,
            dpop_jkt=dpop_jkt,
        )

    async def finish(self, query: str) -> SignedIn:
        """Finish the sign-in the provider's redirect back (`query`) answers; SignInError,
        with no token request, where its state is not one this tab began."""
        code, state = read_callback(query)
        pending = self._pending.take(state)
        metadata = await self.metadata()
        if self._dpop is not None and await self._dpop.key_thumbprint() is None:
            # The key made as the sign-in began is gone (a logout in another tab): the
            # provider will refuse the code bound to it, but the tokens need a key anyway.
            await self._dpop.new_key()
        request = code_exchange(
            metadata,
            pending,
            code,
            client_id=self.settings.client_id,
            redirect_uri=self.settings.redirect_uri,
        )
        payload = _token_answer(await self._transport(request))
        id_token = payload.get("id_token")
        claims = await self._checked_claims(id_token, pending["nonce"])
        tokens = Tokens(
            payload["access_token"],
            payload["refresh_token"],
            payload["expires_in"],
            payload.get("token_type"),
        )
        return SignedIn(tokens, id_token, claims, pending["return_to"])

    def refresh(self) -> OAuth2Refresh:
        """The gate's refresh from now on: RFC 6749 §6 at the discovered token endpoint."""
        if self._metadata is None:
            raise RuntimeError("read the provider's metadata first (metadata, begin or finish)")
        return OAuth2Refresh(self._metadata.token_endpoint, client_id=self.settings.client_id)

    async def log_out(self, refresh_token: str | None, id_token: str | None) -> str | None:
        """Revoke `refresh_token` where the provider offers revocation (a failure there
        does not keep the user signed in), then the provider's logout URL to send the user
        to, or None if it has none. The caller clears the tab's own state first."""
        metadata = await self.metadata()
        if refresh_token and metadata.revocation_endpoint:
            body = form_encode(
                [
                    ("token", refresh_token),
                    ("token_type_hint", "refresh_token"),
                    ("client_id", self.settings.client_id),
                ]
            )
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            try:
                await self._transport(Request("POST", metadata.revocation_endpoint, headers, body))
            except TransientError:
                pass  # not reached: the token dies at its expiry, the tab is signed out anyway
        if not metadata.end_session_endpoint:
            return None
        fields = [("client_id", self.settings.client_id)]
        if id_token:
            fields.append(("id_token_hint", id_token))
        if self.settings.post_logout_redirect_uri:
            fields.append(("post_logout_redirect_uri", self.settings.post_logout_redirect_uri))
        separator = "&" if "?" in metadata.end_session_endpoint else "?"
        return f"{metadata.end_session_endpoint}{separator}{form_encode(fields)}"

    async def _checked_claims(self, id_token: object, nonce: str) -> dict:
        header, claims, signed, signature = id_token_parts(id_token)
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise SignInError(f"the ID token is signed with {algorithm!r}, not RS256 or ES256")
        assert self._keys is not None  # set with the metadata
        key = await self._keys.key_for(header.get("kid"))
        if key.get("kty") != ALGORITHMS[algorithm] or key.get("alg", algorithm) != algorithm:
            raise SignInError("the ID token's key is not one for its algorithm")
        if not await self._verify(key, algorithm, signed, signature):
            raise SignInError("the ID token's signature is not the provider's")
        check_id_token_claims(
            claims,
            issuer=self.settings.issuer,
            client_id=self.settings.client_id,
            nonce=nonce,
            now=self._clock(),
        )
        return claims

    async def _get_json(self, url: str, what: str) -> object:
        response = await self._transport(Request("GET", url, dict(_JSON)))
        if response.status != 200:
            raise SignInError(f"the provider's {what} answered {response.status}")
        try:
            return json.loads(response.body)
        except ValueError:
            raise SignInError(f"the provider's {what} is not JSON") from None


def _token_answer(response) -> dict:
    """The token endpoint's answer to a code exchange, or SignInError with its words."""
    try:
        payload = json.loads(response.body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise SignInError(f"the provider's token endpoint answered {response.status}")
    if response.status != 200 or "error" in payload:
        said = payload.get("error_description") or payload.get("error") or response.status
        raise SignInError(f"the provider refused the sign-in: {said}")
    tokens = [payload.get("access_token"), payload.get("refresh_token")]
    if not all(usable_token(token) for token in tokens):
        raise SignInError("the provider's answer holds no access and refresh token")
    lifetime = payload.get("expires_in")
    is_number = isinstance(lifetime, (int, float)) and not isinstance(lifetime, bool)
    payload["expires_in"] = float(lifetime) if is_number else None
    return payload
