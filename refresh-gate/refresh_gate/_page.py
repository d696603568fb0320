"""A gate for a page: the browser edge's parts put together, as `page_transport` and
`page_gate`."""

import time

import js

from refresh_gate._dpop_key import BrowserDPoPKey
from refresh_gate._dpop_transport import DPoPTransport
from refresh_gate._fetch import FetchTransport
from refresh_gate._gate import RefreshGate
from refresh_gate._javascript import browser_calls
from refresh_gate._storage import StoredNonces
from refresh_gate._tab_race import NoLock
from refresh_gate._tokens import base64url_decode
from refresh_gate._web_lock import cross_tab_lock, has_web_locks

REQUEST_TIMEOUT = 15.0  # seconds for any request, the refresh included
# Another tab's new pair can reach this tab's storage a moment after its lock is released.
SETTLE_TIME = 0.5
# Requests a browser has on the wire at once to one origin over HTTP/1.1; it queues the rest
# (Chromium, Firefox and Safari alike), and the gate hands it no more (see Lanes). A page
# served over HTTP/2, where all of them are on the wire at once, would pass None.
BROWSER_CONNECTIONS = 6


def page_transport(
    settings: dict | None = None, *, dpop: bool | None = None, timeout: float = REQUEST_TIMEOUT
) -> FetchTransport | DPoPTransport:
    """The page's transport: the browser's fetch (FetchTransport), timed out after
    `timeout` seconds; with DPoP (a DPoPTransport around it) where `dpop` is true or, if
    it is None, where `settings` (the page's `[refresh-gate]` table) say `dpop = true`.

    Hand the same transport to page_gate and page_sign_in, and send the login with it.
    """
    if dpop is None:
        dpop = (settings or {}).get("dpop") is True
    transport = FetchTransport(timeout=timeout)
    if not dpop:
        return transport
    return DPoPTransport(
        transport,
        BrowserDPoPKey(),
        origin=str(js.location.origin),
        random_bytes=random_bytes,
        clock=time.time,
        nonces=StoredNonces(),
    )


def random_bytes(count: int) -> bytes:
    """`count` bytes from the browser's cryptographic generator."""
    return base64url_decode(browser_calls().randomBase64url(count))


def page_gate(transport, store, **options) -> RefreshGate:
    """A RefreshGate for a page: `transport` (page_transport's; ending the session deletes
    a DPoPTransport's key) and `store` as above, one refresh across tabs where the browser
    has Web Locks, six requests on the wire at a time, and `options` for RefreshGate
    (on_logout, observe, refresh, expiry_skew)."""
    if has_web_locks():
        options.setdefault("refresh_lock", cross_tab_lock)
        options.setdefault("settle_time", SETTLE_TIME)
    else:
        js.console.warn("Web Locks API missing: one refresh per tab, not across tabs.")
        options.setdefault("refresh_lock", NoLock)
    # The transport times requests out with the browser's own timer (see FetchTransport).
    options.setdefault("request_timeout", None)
    options.setdefault("refresh_timeout", None)
    options.setdefault("connections", BROWSER_CONNECTIONS)
    return RefreshGate(transport, store, **options)
