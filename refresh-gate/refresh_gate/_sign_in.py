"""A sign-in with an OpenID Connect provider, begun and finished: the authorization code
flow with PKCE (RFC 6749 §4.1, RFC 7636), its `state` checked once on the way back.

Pure: the caller draws the random bytes and keeps the pending sign-ins where only the tab
that began one can read it (sessionStorage in the browser, a dict in tests).
"""

import json

from refresh_gate._discovery import ProviderMetadata
from refresh_gate._errors import SignInError
from refresh_gate._forms import form_decode, form_encode
from refresh_gate._pkce import CHALLENGE_METHOD, base64url, code_challenge, code_verifier
from refresh_gate._wire import Request

STATE_LIFETIME = 600.0  # seconds a begun sign-in may take before its state is refused
PENDING_KEY = "refresh-gate.sign-in"  # where the tab keeps its pending sign-ins
_STATE_BYTES = 16


class PendingSignIns:
    """The sign-ins this tab began and has not finished, by state.

    `storage` has `getItem(key)` and `setItem(key, value)` (the browser's sessionStorage,
    or a dict-backed stand-in); `clock` gives seconds since the epoch.
    """

    def __init__(self, storage, clock) -> None:
        self._storage = storage
        self._clock = clock

    def begin(self, random_bytes: bytes, return_to: str = "/") -> dict:
        """A new sign-in from 64 random bytes: its state, nonce and code verifier, kept."""
        if len(random_bytes) < 64:
            raise ValueError("a sign-in needs 64 random bytes")
        pending = {
            "state": base64url(random_bytes[:_STATE_BYTES]),
            "nonce": base64url(random_bytes[_STATE_BYTES : 2 * _STATE_BYTES]),
            "verifier": code_verifier(random_bytes[2 * _STATE_BYTES : 64]),
            "begun": self._clock(),
            "return_to": return_to,
        }
        every = self._load()
        every[pending["state"]] = pending
        self._save(every)
        return pending

    def take(self, state: str) -> dict:
        """The sign-in `state` names, forgotten as it is handed over: a state is good once.

        SignInError if it is unknown (never begun in this tab, or already taken) or older
        than STATE_LIFETIME; no token request may follow either.
        """
        every = self._load()
        now = self._clock()
        # Drop what has expired whatever comes back, so that nothing piles up.
        live = {key: value for key, value in every.items() if now - value["begun"] < STATE_LIFETIME}
        pending = every.get(state)
        live.pop(state, None)
        self._save(live)
        if pending is None:
            raise SignInError(
                "this sign-in was not begun in this tab, or was already finished: "
                "please sign in again"
            )
        if now - pending["begun"] >= STATE_LIFETIME:
            raise SignInError("this sign-in took too long: please sign in again")
        return pending

    def _load(self) -> dict:
        text = self._storage.getItem(PENDING_KEY)
        try:
            every = json.loads(text) if text else {}
        except ValueError:
            every = {}
        return every if isinstance(every, dict) else {}

    def _save(self, every: dict) -> None:
        self._storage.setItem(PENDING_KEY, json.dumps(every))


def authorization_url(
    metadata: ProviderMetadata,
    pending: dict,
    *,
    client_id: str,
    redirect_uri: str,
    scope: str = "openid",
    dpop_jkt: str | None = None,
) -> str:
    """Where to send the user to sign in for `pending` (a sign-in PendingSignIns began);
    `dpop_jkt` binds the code to the thumbprint of the page's DPoP key (RFC 9449 §10)."""
    fields = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("state", pending["state"]),
        ("nonce", pending["nonce"]),
        ("code_challenge", code_challenge(pending["verifier"])),
        ("code_challenge_method", CHALLENGE_METHOD),
    ]
    if dpop_jkt is not None:
        fields.append(("dpop_jkt", dpop_jkt))
    query = form_encode(fields)
    separator = "&" if "?" in metadata.authorization_endpoint else "?"
    return f"{metadata.authorization_endpoint}{separator}{query}"


def read_callback(query: str) -> tuple:
    """(code, state) from the query the provider sent the user back with, or SignInError
    with the provider's own words where it answered an error (`access_denied` and the rest)."""
    fields = form_decode(query.lstrip("?"))
    if fields is None:
        raise SignInError("the provider's answer cannot be read")
    error = fields.get("error")
    if error is not None:
        said = fields.get("error_description") or error
        raise SignInError(f"the provider did not sign you in: {said}")
    code, state = fields.get("code"), fields.get("state")
    if not code or not state:
        raise SignInError("the provider's answer holds no code and state")
    return code, state


def code_exchange(
    metadata: ProviderMetadata, pending: dict, code: str, *, client_id: str, redirect_uri: str
) -> Request:
    """The token request that exchanges `code` for tokens, proving the sign-in with its
    code verifier (RFC 7636 §4.5)."""
    body = form_encode(
        [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", client_id),
            ("code_verifier", pending["verifier"]),
        ]
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    return Request("POST", metadata.token_endpoint, headers, body)
