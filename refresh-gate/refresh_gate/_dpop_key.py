"""The page's DPoP key: a WebCrypto P-256 pair whose private half cannot be read out, kept in
IndexedDB by the JavaScript half (browser_calls.js) and shared by every tab of the origin."""

import json

from refresh_gate._errors import TransientError
from refresh_gate._interpreter import JsException, js_error_text
from refresh_gate._javascript import browser_calls
from refresh_gate._storage import StorageRefused, _storage
from refresh_gate._tokens import base64url_decode

# browser_calls.js writes the current key's id here (never the key): read at once, without
# a wait, it tells this tab whether another tab made a new key or deleted it since.
KEY_MARK = "refresh-gate.dpop-key"


class BrowserDPoPKey:
    """The page's DPoP key pair (a DPoPKey): made only at a sign-in, by the tab signing in;
    every other tab and reload reads the same key; deleted at logout."""

    def __init__(self) -> None:
        self._id: str | None = None
        self._jwk: dict | None = None

    async def public_jwk(self) -> dict | None:
        """The current key's public JWK, or None; read from IndexedDB only when the key
        changed since this tab last read it."""
        mark = _key_mark()
        if mark is None or mark != self._id:
            self._take(await _call("dpopLoadKey"))
        return self._jwk

    async def sign(self, signing_input: str) -> bytes:
        """The ES256 signature (r‖s) of `signing_input` by the key public_jwk named."""
        if self._id is None:
            raise TransientError("there is no DPoP key to sign with: please sign in again")
        signature = await _call("dpopSign", self._id, signing_input)
        return base64url_decode(str(signature))

    async def renew(self) -> dict:
        """A new key pair in place of any old one, for every tab: its public JWK."""
        self._take(await _call("dpopNewKey"))
        assert self._jwk is not None  # dpopNewKey always answers a key
        return self._jwk

    def forget(self) -> None:
        """Delete the key, in every tab (the deletion finishes in the background)."""
        self._id = self._jwk = None
        browser_calls().dpopForgetKey()

    def _take(self, answer) -> None:
        """Keep the [id, JWK as JSON] browser_calls.js answered, or nothing (null)."""
        if not answer:  # null: there is no key
            self._id = self._jwk = None
            return
        key_id, jwk = answer
        self._id, self._jwk = str(key_id), json.loads(str(jwk))


def _key_mark() -> str | None:
    try:
        return _storage("getItem", KEY_MARK)
    except StorageRefused:
        return None  # no mark to go by: the key is read from IndexedDB each time


async def _call(name: str, *arguments):
    """browser_calls.js's `name`, awaited: a rejection (IndexedDB or WebCrypto refused, the
    key changed meanwhile) is a TransientError, the session is kept."""
    try:
        return await getattr(browser_calls(), name)(*arguments)
    except JsException as error:
        raise TransientError(f"the DPoP key could not be used: {js_error_text(error)}") from None
