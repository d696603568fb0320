"""The browser edge: fetch, localStorage and Web Locks. Only this module and the page
modules import `js`.

A page puts the gate in front of its API with `page_gate`: a RefreshGate on the browser's
fetch (FetchTransport), the token pair in localStorage (LocalStorageTokenStore, under keys
of its choosing) and one refresh across every tab of the origin (WebLock), refreshing the
seed's way or any other (see app.refresh).

`pyscript.fetch` turns its options into JSON, which cannot carry an AbortSignal; the
transport needs one so that a cancelled caller (or a timeout) cancels the request on the
wire too, hence the browser's own fetch here.
"""

import asyncio
import binascii
import hashlib

import js
from pyscript.ffi import to_js

from app.errors import NetworkError, RequestTimeout, TransientError
from app.gate import NoLock, RefreshGate, Request, Response
from app.interpreter import JsException, js_error_name, js_error_text, window
from app.tokens import Tokens, stored_pair

ACCESS_KEY = "token"
REFRESH_KEY = "refreshToken"
REQUEST_TIMEOUT = 15.0  # seconds for any request, the refresh included
LOCK_NAME = "refresh-gate"
LOCK_TIMEOUT = 20.0  # longer than a refresh may take, so only a hung tab trips it
# Another tab's new pair can reach this tab's storage a moment after its lock is released.
SETTLE_TIME = 0.5
# How long a tab keeps the lock of a refresh token it exchanged: the other tabs take the new
# pair from storage meanwhile. Kept under the server's reuse grace (5 s by default), so that
# a tab that still presents the spent token later is refused without ending the session.
SPENT_HOLD = 2.0
# Requests a browser has on the wire at once to one origin over HTTP/1.1; it queues the rest
# (Chromium, Firefox and Safari alike), and the gate hands it no more (see Lanes). A page
# served over HTTP/2, where all of them are on the wire at once, would pass None.
BROWSER_CONNECTIONS = 6


class FetchTransport:
    """Sends requests with the browser's fetch, to the page's own origin or a token URL.

    Each request is aborted after `timeout` seconds by the browser's own timer
    (`AbortSignal.timeout`), which leaves nothing behind in Python once the answer is in.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout_ms = int(timeout * 1000)

    async def __call__(self, request: Request) -> Response:
        """Send `request`; NetworkError if no answer, RequestTimeout if none in time;
        cancelling aborts the fetch."""
        withdraw = js.AbortController.new()
        init = {
            "method": request.method,
            "headers": request.headers,
            # Bypass the HTTP cache: its per-URL lock would send parallel GETs one by one,
            # and answers to authorized calls must not be cached anyway.
            "cache": "no-store",
            # A token endpoint on another origin is asked with CORS and without cookies.
            "credentials": "omit" if _is_url(request.path) else "same-origin",
            "redirect": "error",
        }
        if request.body is not None:
            init["body"] = request.body
        try:
            # static/browser-calls.js
            answer = js.fetchAnswer(request.path, to_js(init), self._timeout_ms, withdraw.signal)
            status, body = await answer
        except asyncio.CancelledError:
            withdraw.abort()
            raise
        except JsException as error:
            if js_error_name(error) == "TimeoutError":
                raise RequestTimeout(
                    f"{request.method} {request.path} got no answer within "
                    f"{self._timeout_ms / 1000:g} s"
                ) from None
            raise NetworkError(
                f"{request.method} {request.path} failed: {js_error_text(error)}"
            ) from None
        return Response(int(status), str(body))


def _is_url(path: str) -> bool:
    """Whether `path` is a whole URL (another origin's), not a path on this one: a path on
    this origin starts with one "/", never two."""
    return not path.startswith("/") or path.startswith("//")


class LocalStorageTokenStore:
    """The token pair in `window.localStorage`, under the seed's keys.

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
    ) -> None:
        self._on_failure = on_failure  # called with a sentence for the user, once
        self._on_change = on_change  # called after every save and clear, as they happen
        self.access_key = access_key
        self.refresh_key = refresh_key
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
        except StorageRefused as refused:
            self._fail(refused)
            return self._memory
        tokens = stored_pair(access, refresh)
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


def _storage(method: str, key: str, value: str | None = None):
    """localStorage's `method` (getItem, setItem, removeItem) through static/browser-calls.js,
    which hands back an error instead of throwing it: on MicroPython 1.27 an error thrown by
    a JavaScript function escapes the interpreter, past any `except`."""
    ok, answer = js.storageCall(method, key, value)
    if not ok:
        raise StorageRefused(str(answer))
    return answer


def has_web_locks() -> bool:
    """Whether this browser offers the Web Locks API (secure contexts only)."""
    return bool(getattr(window.navigator, "locks", None))


class HeldWebLock:
    """A Web Lock while this tab holds it; see app.gate.NoLock for what `spent` means."""

    def __init__(self, spent_hold: float) -> None:
        self._spent_hold = spent_hold
        self.hold_after = 0.0  # seconds to keep the lock once its block ends

    def spent(self) -> None:
        """Keep the lock `spent_hold` seconds after the block, for the other tabs' sake."""
        self.hold_after = self._spent_hold


class WebLock:
    """The exclusive Web Lock `name`, shared by every tab of this origin, as an async
    context manager (a refresh lock for app.gate.RefreshGate).

    Waiting longer than `timeout` for it raises TransientError, so a tab that hangs while
    holding it cannot hang the others; cancelling the wait withdraws the request. The
    browser frees a closed tab's locks by itself.
    """

    def __init__(self, name: str, timeout: float, spent_hold: float) -> None:
        self._name = name
        self._timeout_ms = int(timeout * 1000)
        self._spent_hold = spent_hold
        self._release = None
        self._held: HeldWebLock | None = None

    async def __aenter__(self) -> HeldWebLock:
        withdraw = js.AbortController.new()
        try:
            # static/browser-calls.js
            self._release = await js.requestLock(self._name, self._timeout_ms, withdraw.signal)
        except JsException:  # an AbortError: not granted in time
            raise TransientError(
                "another tab held the refresh lock for too long; try again"
            ) from None
        except BaseException:
            withdraw.abort()  # withdraws the request, or lets go of a lock granted just now
            raise
        self._held = HeldWebLock(self._spent_hold)
        return self._held

    async def __aexit__(self, *_exc: object) -> bool:
        release, held = self._release, self._held
        self._release = self._held = None
        if release is not None:
            if held is not None and held.hold_after > 0:
                # static/browser-calls.js: kept for this tab meanwhile, then let go.
                js.keepLock(self._name, release, int(held.hold_after * 1000))
            else:
                release()
        return False


def cross_tab_lock(refresh_token: str) -> WebLock:
    """One refresh of `refresh_token` across every tab of this origin, on either interpreter:
    the lock is named for a hash of the token, never for the token itself."""
    digest = hashlib.sha256(refresh_token.encode()).digest()
    fingerprint = binascii.hexlify(digest).decode()[:32]
    return WebLock(f"{LOCK_NAME}:{fingerprint}", LOCK_TIMEOUT, SPENT_HOLD)


def page_gate(transport: FetchTransport, store, **options) -> RefreshGate:
    """A RefreshGate for a page: `transport` and `store` as above, one refresh across tabs
    where the browser has Web Locks, six requests on the wire at a time,
    and `options` for RefreshGate (on_logout, observe, refresh, expiry_skew)."""
    if has_web_locks():
        options.setdefault("refresh_lock", cross_tab_lock)
        options.setdefault("settle_time", SETTLE_TIME)
    else:
        window.console.warn("Web Locks API missing: one refresh per tab, not across tabs.")
        options.setdefault("refresh_lock", NoLock)
    # The transport times requests out with the browser's own timer (see FetchTransport).
    options.setdefault("request_timeout", None)
    options.setdefault("refresh_timeout", None)
    options.setdefault("connections", BROWSER_CONNECTIONS)
    return RefreshGate(transport, store, **options)
