"""RFC 6749's token endpoint: `POST /oauth/token` with the password and refresh_token grants,
and RFC 7009's revocation endpoint, `POST /oauth/revoke`.

It shares everything with the seed's endpoints (server_stub/app.py): the users, the sessions
with their rotation and reuse detection (server_stub/sessions.py) and the failed-login budget
(server_stub/limits.py), so a refresh token issued by one is refreshed by the other.

- The request is a form (`application/x-www-form-urlencoded`, UTF-8; §3.2, Appendix B). A
  parameter without a value counts as omitted, an unknown one is ignored, one sent twice is
  `invalid_request` (§3.1, §3.2). `client_id` names a public client and is not checked:
  such a client has no secret to prove it (§2.1).
- Success (§5.1): 200 `{"access_token", "token_type": "Bearer", "expires_in",
  "refresh_token"}`; the refresh grant rotates the refresh token every time.
- DPoP (RFC 9449 §5): a request with a valid proof gets `token_type: "DPoP"`, an access
  token with `cnf.jkt` and a refresh token bound to that key, which only a proof by the
  same key refreshes (else `invalid_grant`, and the token stays unspent). A bad proof is
  400 `invalid_dpop_proof`; a proof without the server's nonce (`--dpop-nonce`), 400
  `use_dpop_nonce` with `DPoP-Nonce`; no proof under `--require-dpop`, `invalid_dpop_proof`.
- Errors (§5.2): 400 `{"error", "error_description"}`: `invalid_request`, `invalid_grant`
  (a wrong user name or password, or a refresh token that is unknown, spent, revoked or
  expired), `unsupported_grant_type`, `invalid_scope`. `invalid_client` when a client tries
  to authenticate, as this server has public clients only: 401 with `WWW-Authenticate` for
  the scheme of its `Authorization` header (§5.2 asks for that), else 400.
- Beyond §5.2: 429 `too_many_attempts` with `Retry-After` once the failed-login budget is
  spent (as Auth0 answers); 413 for a body over the server's limit and 503 when the store
  is busy come in the seed's error shape (server_stub/errors.py).
- Every answer, whichever layer gives it, says `Cache-Control: no-store` and
  `Pragma: no-cache` (§5.1): `TokenEndpointHeaders`.

There is one scope, `resources` (the protected resource), which is also the default (§3.3).

Revocation (RFC 7009) takes the same kind of form, `token` and, if the client likes,
`token_type_hint`: a refresh token ends its whole session (every refresh token of its
family), as the seed's logout does, and the answer is an empty 200 whether or not the
server knew the token (§2.2), so that it tells a caller nothing about tokens. Access tokens
are signed and live minutes, and this server keeps no list of them: a hint of
`access_token` is answered `unsupported_token_type` (§2.2.1).
"""

import re
from collections import Counter
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server_stub.dpop import InvalidProof, Proof
from server_stub.dpop_checks import NONCE_HEADER, DPoPChecks, NonceRequired
from server_stub.errors import InvalidCredentials, InvalidGrant
from server_stub.limits import LoginLimiter, TooManyAttempts
from server_stub.openapi import oauth_revoke_openapi, oauth_token_openapi
from server_stub.schemas import MAX_FIELD_LENGTH
from server_stub.sessions import Sessions, TokenPair

TOKEN_PATH = "/oauth/token"
REVOKE_PATH = "/oauth/revoke"
SCOPES = frozenset({"resources"})
FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 16  # a token request has at most six parameters
NO_CACHE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Parameters by which a client would authenticate; this server has no confidential clients.
_CLIENT_CREDENTIALS = ("client_secret", "client_assertion", "client_assertion_type")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # §3.3
_VISIBLE = re.compile(r"[\x20-\x7e]*")  # VSCHAR, Appendix A
_NOT_DESCRIPTION = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")  # §5.2's error_description
_AUTH_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,31}")


class OAuthError(Exception):
    """A §5.2 error answer: its code, a description for people, the status and headers."""

    def __init__(
        self,
        code: str,
        description: str,
        status_code: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = _NOT_DESCRIPTION.sub("?", description)
        self.status_code = status_code
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        """The answer: `{"error", "error_description"}` as JSON."""
        body = {"error": self.code, "error_description": self.description}
        return JSONResponse(body, self.status_code, headers=self.headers)


def invalid_request(description: str) -> OAuthError:
    """The request is malformed: §5.2's `invalid_request`."""
    return OAuthError("invalid_request", description)


def read_form(content_type: str | None, body: bytes) -> dict[str, str]:
    """The parameters of a token request's body, by the rules in the module's doc."""
    media_type, *parameters = (content_type or "").lower().split(";")
    if media_type.strip() != FORM:
        raise invalid_request(f"send the parameters as {FORM}")
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name == "charset" and value.strip('"') not in ("utf-8", "utf8"):
            raise invalid_request("send the parameters in UTF-8")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise invalid_request("the parameters are not UTF-8 text") from None
    except ValueError:
        raise invalid_request(f"more than {MAX_FIELDS} parameters") from None
    given = [(name, value) for name, value in pairs if value]
    twice = sorted(name for name, count in Counter(name for name, _ in given).items() if count > 1)
    if twice:
        raise invalid_request(f"parameter sent more than once: {_shown(twice[0])}")
    fields = dict(given)
    for name, value in fields.items():
        if len(value) > MAX_FIELD_LENGTH:
            raise invalid_request(f"{_shown(name)} is longer than {MAX_FIELD_LENGTH} characters")
    return fields


def _shown(name: str) -> str:
    """A parameter's name as it may appear in a description (it came from the client)."""
    return _NOT_DESCRIPTION.sub("?", name[:40])


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name)
    if value is None:
        raise invalid_request(f"{name} is required")
    return value


def refuse_client_authentication(authorization: str | None, fields: dict[str, str]) -> None:
    """Public clients only: a client that tries to authenticate gets `invalid_client`."""
    if authorization is not None:
        scheme = authorization.strip().partition(" ")[0]
        scheme = scheme if _AUTH_SCHEME.fullmatch(scheme) else "Basic"
        raise OAuthError(
            "invalid_client",
            "this server has no confidential clients; send client_id alone",
            401,
            {"WWW-Authenticate": f'{scheme} realm="server_stub"'},
        )
    if any(name in fields for name in _CLIENT_CREDENTIALS):
        raise OAuthError(
            "invalid_client", "this server has no confidential clients; send client_id alone"
        )
    if not _VISIBLE.fullmatch(fields.get("client_id", "")):
        raise invalid_request("client_id has characters other than visible ASCII")


def check_scope(scope: str | None) -> None:
    """A scope asked for must be one this server grants (§3.3); none asked for is the default."""
    if scope is None:
        return
    tokens = scope.split(" ")
    if not all(_SCOPE_TOKEN.fullmatch(token) for token in tokens):
        raise OAuthError("invalid_scope", "scope is malformed")
    if not set(tokens) <= SCOPES:
        raise OAuthError("invalid_scope", f"the only scope is {' '.join(sorted(SCOPES))}")


def token_request_proof(checks: DPoPChecks, scope: Scope) -> Proof | None:
    """The token request's DPoP proof, checked and remembered; None for a Bearer client."""
    try:
        proof = checks.proof_of(scope)
        if proof is None:
            if checks.required:
                raise InvalidProof("this server requires a DPoP proof")
            return None
        checks.remember(proof)
    except InvalidProof as refused:
        raise OAuthError("invalid_dpop_proof", str(refused)) from None
    except NonceRequired as needed:
        nonce = {NONCE_HEADER: needed.nonce}
        raise OAuthError("use_dpop_nonce", str(needed), headers=nonce) from None
    return proof


def add_oauth_routes(
    app: FastAPI, sessions: Sessions, login_limiter: LoginLimiter, dpop_checks: DPoPChecks
) -> None:
    """Add `POST /oauth/token` on `sessions` and `login_limiter`; register before the page.

    Its middleware, `TokenEndpointHeaders`, goes outside the body limit, so that every
    answer carries its headers.
    """

    def password_grant(fields: dict[str, str], address: str, jkt: str | None) -> TokenPair:
        name, password = _required(fields, "username"), _required(fields, "password")
        try:
            with login_limiter.attempt(name, address):
                return sessions.login(name, password, jkt)
        except InvalidCredentials as wrong:
            raise OAuthError("invalid_grant", wrong.message) from None
        except TooManyAttempts as blocked:
            raise OAuthError("too_many_attempts", blocked.message, 429, blocked.headers) from None

    def refresh_grant(fields: dict[str, str], jkt: str | None) -> TokenPair:
        try:
            return sessions.refresh(_required(fields, "refresh_token"), jkt)
        except InvalidGrant as refused:
            raise OAuthError("invalid_grant", refused.message) from None

    @app.post(TOKEN_PATH, response_model=None, **oauth_token_openapi())
    async def oauth_token(request: Request) -> JSONResponse:
        """RFC 6749's token endpoint: the password and refresh_token grants."""
        address = request.client.host if request.client else "unknown"
        try:
            fields = read_form(request.headers.get("content-type"), await request.body())
            refuse_client_authentication(request.headers.get("authorization"), fields)
            grant_type = _required(fields, "grant_type")
            if grant_type not in ("password", "refresh_token"):
                raise OAuthError(
                    "unsupported_grant_type", "grant_type is password or refresh_token"
                )
            check_scope(fields.get("scope"))
            # Off the event loop: a password check takes Argon2's time, and the store blocks.
            proof = await run_in_threadpool(token_request_proof, dpop_checks, request.scope)
            jkt = proof.jkt if proof is not None else None
            if grant_type == "password":
                pair = await run_in_threadpool(password_grant, fields, address, jkt)
            else:
                pair = await run_in_threadpool(refresh_grant, fields, jkt)
        except OAuthError as error:
            return error.response()
        nonce = dpop_checks.nonce_to_send(proof)
        return JSONResponse(
            {
                "access_token": pair.access_token,
                "token_type": "DPoP" if proof is not None else "Bearer",
                "expires_in": pair.expires_in,
                "refresh_token": pair.refresh_token,
            },
            headers={NONCE_HEADER: nonce} if nonce is not None else None,
        )


def add_revocation_route(app: FastAPI, sessions: Sessions) -> None:
    """Add `POST /oauth/revoke` (RFC 7009) on `sessions`; register before the page."""

    @app.post(REVOKE_PATH, response_model=None, response_class=Response, **oauth_revoke_openapi())
    async def oauth_revoke(request: Request) -> Response:
        """RFC 7009's revocation: a refresh token's session ends; 200 whatever the token."""
        try:
            fields = read_form(request.headers.get("content-type"), await request.body())
            refuse_client_authentication(request.headers.get("authorization"), fields)
            token = _required(fields, "token")
            if fields.get("token_type_hint") == "access_token":
                raise OAuthError(
                    "unsupported_token_type",
                    "access tokens here are signed and short-lived and cannot be revoked; "
                    "revoke the refresh token",
                )
        except OAuthError as error:
            return error.response()
        await run_in_threadpool(sessions.logout, token)
        return Response(status_code=200)


class TokenEndpointHeaders:
    """`NO_CACHE` on every answer of the token and revocation endpoints: the route's own,
    and those other layers give for it (the body limit's 413, a 405 for another method, a
    503)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, stamping the token endpoint's answers."""
        if scope["type"] != "http" or scope["path"] not in (TOKEN_PATH, REVOKE_PATH):
            await self.app(scope, receive, send)
            return

        async def send_no_cache(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in NO_CACHE.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_no_cache)
