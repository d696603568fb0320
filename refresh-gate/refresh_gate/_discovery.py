"""OpenID Connect discovery: what a provider's `/.well-known/openid-configuration` says, read
and checked before any user is sent to it."""

from refresh_gate._errors import SignInError

WELL_KNOWN = "/.well-known/openid-configuration"
_REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")


def discovery_url(issuer: str) -> str:
    """Where `issuer` publishes its metadata (OpenID Connect Discovery 1.0 §4)."""
    return issuer.rstrip("/") + WELL_KNOWN


class ProviderMetadata:
    """The endpoints of one provider, as its discovery document names them."""

    def __init__(self, issuer: str, document: dict) -> None:
        self.issuer = issuer
        self.authorization_endpoint: str = document["authorization_endpoint"]
        self.token_endpoint: str = document["token_endpoint"]
        self.jwks_uri: str = document["jwks_uri"]
        self.revocation_endpoint: str | None = document.get("revocation_endpoint")
        self.end_session_endpoint: str | None = document.get("end_session_endpoint")

    @classmethod
    def from_document(cls, document: object, issuer: str) -> "ProviderMetadata":
        """The metadata in `document`, or SignInError where it cannot be trusted or used.

        Its `issuer` must be exactly the one configured (§4.3): a document that names
        another would let one provider pass off tokens as another's.
        """
        if not isinstance(document, dict):
            raise SignInError("the provider's discovery document is not a JSON object")
        if document.get("issuer") != issuer:
            raise SignInError(
                f"the provider says it is {document.get('issuer')!r}, not {issuer!r}: "
                "refusing to sign in there"
            )
        missing = [name for name in _REQUIRED if not _is_https_or_local(document.get(name))]
        if missing:
            raise SignInError(f"the provider's discovery document lacks {', '.join(missing)}")
        methods = document.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise SignInError("the provider does not offer PKCE with S256")
        return cls(issuer, document)


def _is_https_or_local(url: object) -> bool:
    """An endpoint a page may use: https, or http on this machine (for development)."""
    if not isinstance(url, str):
        return False
    if url.startswith("https://"):
        return True
    return url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
