"""A provider's signing keys (its JWKS), fetched once and kept; fetched again once when a
token names a key the kept set lacks (the provider rotated its keys)."""

from refresh_gate._errors import SignInError


class KeySet:
    """The keys at a provider's `jwks_uri`, by `kid`; `fetch` is an async callable that
    answers the JWKS document (a dict with a "keys" list)."""

    def __init__(self, fetch) -> None:
        self._fetch = fetch
        self._keys: dict | None = None

    async def key_for(self, kid: str | None) -> dict:
        """The JWK named `kid` (the only key, where the token names none and there is one)."""
        if self._keys is None:
            await self._refetch()
        key = self._find(kid)
        if key is None:
            await self._refetch()  # rotated since: look once more, never in a loop
            key = self._find(kid)
        if key is None:
            raise SignInError(f"the provider has no signing key {kid!r}")
        return key

    def _find(self, kid: str | None) -> dict | None:
        keys = self._keys or {}
        if kid is None:
            return next(iter(keys.values())) if len(keys) == 1 else None
        return keys.get(kid)

    async def _refetch(self) -> None:
        document = await self._fetch()
        listed = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(listed, list):
            raise SignInError("the provider's JWKS lists no keys")
        self._keys = {
            key.get("kid"): key
            for key in listed
            if isinstance(key, dict) and key.get("use", "sig") == "sig"
        }
