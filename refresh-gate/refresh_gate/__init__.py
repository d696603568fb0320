"""One token refresh for many parallel requests, in Python in the browser.

Every authorized call goes through a RefreshGate: the first 401 starts one refresh, every
other call waits for it, then all are retried with the new token; a refused refresh ends
the session cleanly. It runs unchanged on PyScript's MicroPython and on Pyodide (and on
CPython, for tests), with the pair in `localStorage` and one refresh across tabs.

In a page, `page_gate(page_transport(settings), LocalStorageTokenStore(), refresh=...)` is
the whole set-up (the browser edge, imported only where there is a browser), with DPoP
proofs (RFC 9449) on every request where the settings say `dpop = true`; on Pyodide,
`mount_gate(requests.Session(), gate)` sends the page's `requests` calls through it too.
The names in `__all__` are the promise; every module with a leading underscore may change
in any release.
"""

import sys

from refresh_gate._calls import Call
from refresh_gate._dpop_proof import DPoPKey
from refresh_gate._dpop_transport import DPoPTransport
from refresh_gate._errors import (
    AuthError,
    DPoPNonceError,
    NetworkError,
    NotLoggedIn,
    RefreshRejected,
    RequestTimeout,
    SignInError,
    TransientError,
)
from refresh_gate._gate import RefreshGate, Transport
from refresh_gate._oidc import OidcSettings, OidcSignIn, SignedIn
from refresh_gate._refresh import OAuth2Refresh, SeedRefresh, refresh_from_settings
from refresh_gate._tab_race import NoLock
from refresh_gate._tasks import start_eagerly
from refresh_gate._tokens import MemoryTokenStore, Tokens, TokenStore, access_token_lifetime
from refresh_gate._wire import Request, Response

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "Call",
    "DPoPKey",
    "DPoPNonceError",
    "DPoPTransport",
    "MemoryTokenStore",
    "NetworkError",
    "NoLock",
    "NotLoggedIn",
    "OAuth2Refresh",
    "OidcSettings",
    "OidcSignIn",
    "RefreshGate",
    "RefreshRejected",
    "Request",
    "RequestTimeout",
    "Response",
    "SeedRefresh",
    "SignInError",
    "SignedIn",
    "TokenStore",
    "Tokens",
    "TransientError",
    "Transport",
    "__version__",
    "access_token_lifetime",
    "refresh_from_settings",
    "start_eagerly",
]

# The browser edge needs the browser's `js`: PyScript's MicroPython ("webassembly") and
# Pyodide ("emscripten") have it, CPython has not.
if sys.platform in ("webassembly", "emscripten"):
    from refresh_gate._fetch import FetchTransport
    from refresh_gate._oidc_page import page_sign_in
    from refresh_gate._page import page_gate, page_transport
    from refresh_gate._storage import LocalStorageTokenStore, StorageRefused
    from refresh_gate._web_lock import WebLock, cross_tab_lock

    __all__ += [
        "FetchTransport",
        "LocalStorageTokenStore",
        "StorageRefused",
        "WebLock",
        "cross_tab_lock",
        "page_gate",
        "page_sign_in",
        "page_transport",
    ]

# `requests` through the gate: Pyodide only (it waits with Pyodide's run_sync), and
# `requests` itself is imported only when a page calls mount_gate.
if sys.platform == "emscripten":
    from refresh_gate._requests_session import mount_gate

    __all__ += ["mount_gate"]
