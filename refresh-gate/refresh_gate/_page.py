"""A gate for a page: the browser edge's parts put together, as `page_gate`."""

import js

from refresh_gate._fetch import FetchTransport
from refresh_gate._gate import RefreshGate
from refresh_gate._tab_race import NoLock
from refresh_gate._web_lock import cross_tab_lock, has_web_locks

REQUEST_TIMEOUT = 15.0  # seconds for any request, the refresh included
# Another tab's new pair can reach this tab's storage a moment after its lock is released.
SETTLE_TIME = 0.5
# Requests a browser has on the wire at once to one origin over HTTP/1.1; it queues the rest
# (Chromium, Firefox and Safari alike), and the gate hands it no more (see Lanes). A page
# served over HTTP/2, where all of them are on the wire at once, would pass None.
BROWSER_CONNECTIONS = 6


def page_gate(transport: FetchTransport, store, **options) -> RefreshGate:
    """A RefreshGate for a page: `transport` and `store` as above, one refresh across tabs
    where the browser has Web Locks, six requests on the wire at a time,
    and `options` for RefreshGate (on_logout, observe, refresh, expiry_skew)."""
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
