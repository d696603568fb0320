"""The FastAPI application: authorization routes, the protected resource, and the page."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Security
from fastapi.middleware import Middleware
from fastapi.responses import PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server_stub.config import Config
from server_stub.cors import CorsMiddleware
from server_stub.dpop_checks import NONCE_HEADER, DPoPChecks
from server_stub.dpop_nonces import DPoPNonces
from server_stub.errors import install_error_handlers
from server_stub.headers import SecurityHeadersMiddleware
from server_stub.issuer_tokens import IssuerTokens
from server_stub.limits import LoginLimiter
from server_stub.middleware import BodyLimitMiddleware, NoStoreMiddleware
from server_stub.oauth import (
    REVOKE_PATH,
    TOKEN_PATH,
    TokenEndpointHeaders,
    add_oauth_routes,
    add_revocation_route,
)
from server_stub.openapi import (
    BEARER_CHALLENGE,
    DPOP_NONCE,
    DPOP_PROOF_PARAMETER,
    error_responses,
    refresh_token_links,
)
from server_stub.origins import parse_origin, token_origins
from server_stub.passwords import PasswordChecker
from server_stub.pruning import Pruner
from server_stub.resource_auth import Caller, ResourceAuth
from server_stub.schemas import Credentials, RefreshRequest, TokenResponse
from server_stub.secret import load_key_set
from server_stub.sessions import Sessions, TokenPair
from server_stub.store import open_store
from server_stub.tokens import AccessTokens
from server_stub.web import add_page_routes


def create_app(config: Config) -> FastAPI:
    """Open (or create) the database and signing keys, seed the default user, build the app."""
    store = open_store(config.db_url or config.db_path)
    passwords = PasswordChecker()
    if not store.has_users():
        store.add_user(config.seed_user, passwords.hash(config.seed_password))
    keys = load_key_set(config.keys_path, config.db_path, now=config.clock())
    access_tokens = AccessTokens(
        keys,
        issuer=config.issuer,
        audience=config.audience,
        ttl=config.access_ttl,
        clock=config.clock,
    )
    sessions = Sessions(store, access_tokens, passwords, config)
    nonces = None
    if config.dpop_nonce:
        nonces = DPoPNonces(keys, config.clock, every=config.dpop_nonce_every)
    dpop_checks = DPoPChecks(store, config.clock, nonces=nonces, required=config.require_dpop)
    login_limiter = LoginLimiter(
        store, config.clock, attempts=config.login_attempts, window=config.login_window
    )
    pruner = Pruner(
        store,
        config.clock,
        every=config.prune_every,
        reuse_grace=config.reuse_grace,
        login_window=config.login_window,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pruner.start()
        try:
            yield
        finally:
            pruner.stop()
            store.close()

    cors_origin = parse_origin(config.cors_origin) if config.cors_origin else None
    # The schema is served (the fuzz tests read it); the interactive docs stay off.
    app = FastAPI(
        title="server_stub",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        middleware=[
            # The page may connect to the token endpoint its settings name elsewhere.
            Middleware(SecurityHeadersMiddleware, token_origins=token_origins(config.web_root)),
            Middleware(CorsMiddleware, origin=cors_origin, paths=[TOKEN_PATH, REVOKE_PATH]),
            Middleware(TokenEndpointHeaders),
            Middleware(NoStoreMiddleware),
            Middleware(BodyLimitMiddleware),
        ],
    )
    app.state.pruner = pruner  # the tests run a pass by hand
    install_error_handlers(app)
    bearer_scheme = HTTPBearer(auto_error=False, bearerFormat="JWT")
    issuer_tokens = None
    if config.trusted_issuer and config.trusted_audience:
        issuer_tokens = IssuerTokens(config.trusted_issuer, config.trusted_audience)
    resource_auth = ResourceAuth(access_tokens, issuer_tokens, dpop_checks)

    def api_caller(
        request: Request,
        _declared: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    ) -> Caller:
        """Verify the access token of the request, Bearer or DPoP with its proof."""
        # Parsed by ResourceAuth; HTTPBearer only declares the scheme in the schema.
        return resource_auth.caller(request.scope)

    @app.post(
        "/authorization/token",
        operation_id="logIn",
        responses={
            200: {"links": refresh_token_links()},
            **error_responses(400, 401, 413, 415, 422, 429, 503),
        },
    )
    def token(body: Credentials, request: Request) -> TokenResponse:
        """Log in with user name and password; starts a new session."""
        address = request.client.host if request.client else "unknown"
        with login_limiter.attempt(body.userName, address):
            return _token_response(sessions.login(body.userName, body.password))

    @app.post(
        "/authorization/refresh",
        operation_id="refresh",
        responses={
            200: {"links": refresh_token_links()},
            **error_responses(400, 401, 413, 415, 422, 503),
        },
    )
    def refresh(body: RefreshRequest) -> TokenResponse:
        """Trade a refresh token, once, for a new pair."""
        return _token_response(sessions.refresh(body.refreshToken))

    @app.post(
        "/authorization/logout",
        operation_id="logOut",
        status_code=204,
        response_class=Response,
        responses=error_responses(400, 413, 415, 422, 503),
    )
    def logout(body: RefreshRequest) -> Response:
        """End the session of this refresh token (idempotent)."""
        sessions.logout(body.refreshToken)
        return Response(status_code=204)

    @app.get(
        "/api/resources",
        operation_id="getResources",
        response_class=PlainTextResponse,
        responses={
            200: {"headers": DPOP_NONCE},
            **error_responses(401, 413, headers={401: {**BEARER_CHALLENGE, **DPOP_NONCE}}),
        },
        openapi_extra={"parameters": [DPOP_PROOF_PARAMETER]},
    )
    async def resources(caller: Annotated[Caller, Depends(api_caller)]) -> PlainTextResponse:
        """The protected resource: says whose token was presented."""
        if config.api_delay:
            await asyncio.sleep(config.api_delay)
        answer = PlainTextResponse(f"protected resources, username: {caller.claims.name}")
        if caller.nonce is not None:
            answer.headers[NONCE_HEADER] = caller.nonce
        return answer

    add_oauth_routes(app, sessions, login_limiter, dpop_checks)
    add_revocation_route(app, sessions)
    add_page_routes(app, config.web_root, config.bench_root)
    return app


def _token_response(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        userId=pair.user_id,
        authorizationToken=pair.access_token,
        refreshToken=pair.refresh_token,
        expiresIn=pair.expires_in,
    )
