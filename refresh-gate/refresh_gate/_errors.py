"""What an authorized call can fail with, shaped so that callers catch only what they handle.

AuthError
├── RefreshRejected    the session is over: tokens removed, the user must log in again
│   └── NotLoggedIn    there were no tokens to begin with
├── TransientError     nothing is lost: tokens kept, the same call may succeed later
│   ├── NetworkError   the request never got an answer
│   ├── RequestTimeout the answer took longer than the timeout
│   └── DPoPNonceError the server asked for a new DPoP nonce twice in a row
└── SignInError        a sign-in with a provider could not be completed; nothing was stored
"""


class AuthError(Exception):
    """Base of every error the refresh gate raises."""


class RefreshRejected(AuthError):
    """The server refused the session (refresh rejected, or 401 on the retry); logged out."""


class NotLoggedIn(RefreshRejected):
    """No tokens are stored, so there is nothing to send or refresh."""


class TransientError(AuthError):
    """A failure that says nothing about the session: the tokens are kept."""


class NetworkError(TransientError):
    """The request failed before any answer came back (offline, aborted, refused)."""


class RequestTimeout(TransientError):
    """No answer within the timeout; the request was cancelled."""


class DPoPNonceError(TransientError):
    """The server answered `use_dpop_nonce` to a request already retried with the nonce it
    gave: the request is not sent a third time (no loop), and the session is kept."""


class SignInError(AuthError):
    """A sign-in with an OpenID Connect provider could not be completed (a state that is
    unknown, used or too old, an ID token that fails a check, a provider that answered
    with an error): no token was stored, and the message says why, for the login page."""
