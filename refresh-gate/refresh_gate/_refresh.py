"""How the gate refreshes: the request it sends, and how it reads the answer.

A refresh is any object with two methods (this module has two built in, which can also log
in: `login(user, password)` builds the request, `read_login(response)` reads the pair or
None, and `wrong_credentials` holds the statuses that mean a wrong user name or password):

- `request(refresh_token) -> Request`: the request that exchanges the token;
- `read(response, refresh_token) -> Tokens`: the new pair from the answer, or raise
  `RefreshRejected` (the refresh token is no good: the gate logs out) or `TransientError`
  (nothing is known about the session: the gate keeps the tokens).

`SeedRefresh` is the seed article's JSON endpoint; `OAuth2Refresh` is the standard one of
RFC 6749 §6, as Keycloak, Auth0, Okta and most OAuth 2.0 servers answer it. Both follow
one rule for answers: 400, 401 or 403 log out; 2xx without a usable pair logs out too (the
server has most likely spent the token, and presenting it again would trip reuse detection);
anything else is transient.
"""

import json

from refresh_gate._errors import RefreshRejected, TransientError
from refresh_gate._forms import form_encode
from refresh_gate._tokens import Tokens, parse_token_pair, usable_token
from refresh_gate._wire import Request, Response

REFRESH_PATH = "/authorization/refresh"
LOGIN_PATH = "/authorization/token"
_REJECTING_STATUSES = (400, 401, 403)
_LONGEST_LIFETIME = 10 * 365 * 24 * 3600.0  # seconds: anything longer is garbage


class SeedRefresh:
    """`POST {"refreshToken"}` as JSON, answered `{"authorizationToken", "refreshToken"}`."""

    wrong_credentials = (401,)

    def __init__(self, url: str = REFRESH_PATH, login_url: str = LOGIN_PATH) -> None:
        self.url = url
        self.login_url = login_url

    def login(self, user: str, password: str) -> Request:
        """The login request (the seed's `POST {"userName", "password"}`)."""
        body = json.dumps({"userName": user, "password": password})
        return Request("POST", self.login_url, {"Content-Type": "application/json"}, body)

    def read_login(self, response: Response) -> Tokens | None:
        """The pair a successful login answered, or None if it holds no usable one."""
        return parse_token_pair(_json(response.body)) if response.status == 200 else None

    def request(self, refresh_token: str) -> Request:
        """The refresh request for `refresh_token`."""
        body = json.dumps({"refreshToken": refresh_token})
        return Request("POST", self.url, {"Content-Type": "application/json"}, body)

    def read(self, response: Response, refresh_token: str) -> Tokens:
        """The new pair, or RefreshRejected / TransientError by the rule above."""
        _check_status(response.status, "")
        tokens = parse_token_pair(_json(response.body))
        if tokens is None:
            raise RefreshRejected("the refresh answer held no usable tokens")
        return tokens


class OAuth2Refresh:
    """The refresh of RFC 6749 §6: a form-encoded `grant_type=refresh_token` POST.

    `client_id` identifies a public client (RFC 6749 §2.1), `scope` narrows the new access
    token. An answer without a `refresh_token` keeps the stored one (servers that do not
    rotate); `expires_in` times the refresh before expiry of tokens the gate cannot read;
    `token_type` "DPoP" (RFC 9449) has the gate send the new token as a DPoP token.
    Errors by §5.2: `invalid_grant` (and any 400, 401 or 403) logs out,
    `temporarily_unavailable` is transient whatever its status.
    """

    # A wrong password is an invalid_grant, which RFC 6749 §5.2 answers with 400.
    wrong_credentials = (400, 401)

    def __init__(
        self, token_url: str, *, client_id: str | None = None, scope: str | None = None
    ) -> None:
        self.url = token_url
        self._client_id = client_id
        self._scope = scope

    def request(self, refresh_token: str) -> Request:
        """The refresh request for `refresh_token`."""
        return self._post([("grant_type", "refresh_token"), ("refresh_token", refresh_token)])

    def login(self, user: str, password: str) -> Request:
        """The login request: RFC 6749's password grant (§4.3), for first-party pages."""
        return self._post([("grant_type", "password"), ("username", user), ("password", password)])

    def read_login(self, response: Response) -> Tokens | None:
        """The pair a successful login answered, or None if it holds no usable one."""
        if response.status != 200:
            return None
        try:
            return self.read(response, "")
        except (RefreshRejected, TransientError):
            return None

    def _post(self, fields: list) -> Request:
        if self._client_id is not None:
            fields.append(("client_id", self._client_id))
        if self._scope is not None:
            fields.append(("scope", self._scope))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        return Request("POST", self.url, headers, form_encode(fields))

    def read(self, response: Response, refresh_token: str) -> Tokens:
        """The new pair, or RefreshRejected / TransientError by RFC 6749 §5.2."""
        payload = _json(response.body)
        if not isinstance(payload, dict):
            payload = {}
        error = payload.get("error")
        if error == "temporarily_unavailable":
            raise TransientError("the server cannot refresh right now; your session is kept")
        if error == "invalid_grant":  # whatever the status: the grant itself is no good
            raise RefreshRejected(f"the server refused the refresh ({response.status} {error})")
        _check_status(response.status, error if isinstance(error, str) else "")
        access = payload.get("access_token")
        new_refresh = payload.get("refresh_token")
        if new_refresh is None:  # the server does not rotate: the stored token stays good
            new_refresh = refresh_token
        if not usable_token(access) or not usable_token(new_refresh):
            raise RefreshRejected("the refresh answer held no usable tokens")
        expires_in = _seconds(payload.get("expires_in"))
        return Tokens(access, new_refresh, expires_in, payload.get("token_type"))


def refresh_from_settings(settings: dict):
    """The refresh a page's settings name (the `[refresh-gate]` table of its pyscript.toml):
    `refresh = "seed"` (the default) or `"oauth2"`, with `token-url` (default
    /oauth/token), `client-id` and `scope` for the latter."""
    kind = settings.get("refresh", "seed")
    if kind == "seed":
        return SeedRefresh()
    if kind == "oauth2":
        return OAuth2Refresh(
            settings.get("token-url", "/oauth/token"),
            client_id=settings.get("client-id"),
            scope=settings.get("scope"),
        )
    raise ValueError(f"no refresh called {kind!r}: say seed or oauth2")


def _check_status(status: int, error: str) -> None:
    """Raise for an answer that is not a success, by the rule in the module's docstring."""
    said = f"{status} {error}" if error else str(status)
    if status in _REJECTING_STATUSES:
        raise RefreshRejected(f"the server refused the refresh ({said})")
    if not 200 <= status < 300:
        raise TransientError(f"the refresh failed with {said}; your session is kept, try again")


def _seconds(value: object) -> float | None:
    """A lifetime in seconds as an answer gives it (a number, or digits as some servers send
    it), or None where it gives none that makes sense."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not 0 < value < _LONGEST_LIFETIME:  # also false for NaN
        return None
    return float(value)


def _json(body: str) -> object:
    """The JSON value of `body`, or None if it is not JSON (RFC 8259: no NaN or Infinity,
    which CPython would read and MicroPython would not)."""
    try:
        return json.loads(body, parse_constant=_not_json)
    except TypeError:  # MicroPython's json.loads takes no keywords; it refuses them anyway
        pass
    except ValueError:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _not_json(constant: str) -> object:
    raise ValueError(f"{constant} is not JSON")
