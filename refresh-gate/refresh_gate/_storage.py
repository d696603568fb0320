"""The token pair in the browser's `localStorage`, shared by every tab of the origin."""

from refresh_gate._javascript import browser_calls
from refresh_gate._tokens import BEARER, Tokens, stored_pair

ACCESS_KEY = "token"
REFRESH_KEY = "refreshToken"


class LocalStorageTokenStore:
    """The token pair in `window.localStorage`, under the seed's keys; a token type other
    than Bearer (DPoP) beside them, under `type_key` (the access key's + "Type").

    If the browser refuses storage (disabled, full), the pair lives on in memory for this
    tab: a refresh the server already rotated must never be lost.
    """

    def __init__(
        self,
        on_failure=None,
        on_change=None,
        *,
        access_key: str = ACCESS_KEY,
        refresh_key: str = REFRESH_KEY,
        type_key: str | None = None,
    ) -> None:
        self._on_failure = on_failure  # called with a sentence for the user, once
        self._on_change = on_change  # called after every save and clear, as they happen
        self.access_key = access_key
        self.refresh_key = refresh_key
        self.type_key = access_key + "Type" if type_key is None else type_key
        self._failed = False
        self._memory: Tokens | None = None
        self.discarded = False  # something was stored, but not a usable session

    def load(self) -> Tokens | None:
        """The stored pair, or None if there is no usable session."""
        if self._failed:
            return self._memory
        try:
            access = _storage("getItem", self.access_key)
            refresh = _storage("getItem", self.refresh_key)
            token_type = _storage("getItem", self.type_key)
        except StorageRefused as refused:
            self._fail(refused)
            return self._memory
        tokens = stored_pair(access, refresh, token_type)
        if tokens is None and refresh:
            self.discarded = True
            self.clear()
        return tokens

    def stored_access(self) -> str | None:
        """The stored access token as it is, for display: unlike `load`, never discards.

        The countdown on screen reads it every second; were it to clear a session it cannot
        read, the next page load would find nothing and could not say why.
        """
        if self._failed:
            return self._memory.access if self._memory else None
        try:
            return _storage("getItem", self.access_key)
        except StorageRefused:
            return None

    def save(self, tokens: Tokens) -> None:
        """Store the pair (in memory, if storage refuses)."""
        self.discarded = False
        self._write(tokens)
        if self._on_change is not None:
            self._on_change()

    def _write(self, tokens: Tokens) -> None:
        if not self._failed:
            try:
                _storage("setItem", self.access_key, tokens.access)
                _storage("setItem", self.refresh_key, tokens.refresh)
                if tokens.token_type == BEARER:
                    _storage("removeItem", self.type_key)
                else:
                    _storage("setItem", self.type_key, tokens.token_type)
                return
            except StorageRefused as refused:
                self._fail(refused)
        self._memory = tokens

    def clear(self) -> None:
        """Remove both tokens."""
        self._memory = None
        try:
            _storage("removeItem", self.access_key)
            _storage("removeItem", self.refresh_key)
            _storage("removeItem", self.type_key)
        except StorageRefused:
            pass  # storage refused: nothing of the session was kept there
        if self._on_change is not None:
            self._on_change()

    def _fail(self, refused: "StorageRefused") -> None:
        self._failed = True
        if self._on_failure is not None:
            self._on_failure(f"This browser refuses to store the session ({refused}).")


class StorageRefused(Exception):
    """The browser refused a localStorage call; the error's name is the message."""


def _storage(method: str, key: str, value: str | None = None, area: str = "localStorage"):
    """`area`'s `method` (getItem, setItem, removeItem) through browser_calls.js, which hands
    back an error instead of throwing it: on MicroPython 1.27 an error thrown by a
    JavaScript function escapes the interpreter, past any `except`."""
    ok, answer = browser_calls().storageCall(method, key, value, area)
    if not ok:
        raise StorageRefused(str(answer))
    return answer


class SessionStorage:
    """This tab's `sessionStorage`, as a begun sign-in keeps its secrets: `getItem` and
    `setItem`, None and nothing kept where the browser refuses storage."""

    def getItem(self, key: str) -> str | None:
        """The text kept under `key`, or None."""
        try:
            return _storage("getItem", key, None, "sessionStorage")
        except StorageRefused:
            return None

    def setItem(self, key: str, value: str) -> None:
        """Keep `value` under `key` for this tab."""
        try:
            _storage("setItem", key, value, "sessionStorage")
        except StorageRefused:
            pass  # the sign-in then fails its state check with a message, never silently


class StoredNonces:
    """The DPoP nonces servers gave (DPoPTransport's `nonces`), kept in localStorage, one
    key an origin, so that every tab of the page starts with the latest one: a tab that
    kept its own would be asked for a nonce (one more round trip) on its first request to
    each server. A nonce is public, sent in the clear with every proof; where the browser
    refuses storage, they are kept in this tab only."""

    def __init__(self, prefix: str = "dpopNonce ") -> None:
        self._prefix = prefix
        self._here: dict = {}

    def get(self, origin: str, default=None):
        """The last nonce `origin`'s server gave, or `default`."""
        try:
            stored = _storage("getItem", self._prefix + origin)
        except StorageRefused:
            stored = None
        return stored or self._here.get(origin, default)

    def __setitem__(self, origin: str, nonce: str) -> None:
        self._here[origin] = nonce
        try:
            _storage("setItem", self._prefix + origin, nonce)
        except StorageRefused:
            pass
