"""What an authorized call can fail with, shaped so that callers catch only what they handle.

AuthError
├── RefreshRejected    the session is over: tokens removed, the user must log in again
│   └── NotLoggedIn    there were no tokens to begin with
└── TransientError     nothing is lost: tokens kept, the same call may succeed later
    ├── NetworkError   the request never got an answer
    └── RequestTimeout the answer took longer than the timeout
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
