"""One JSON error shape for every failure: ``{"error": code, "message": text}``."""

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from server_stub.dpop import ALGORITHMS
from server_stub.headers import SECURITY_HEADERS
from server_stub.store import StoreUnavailable

logger = logging.getLogger(__name__)

_CODES_BY_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
}


class ApiError(Exception):
    """A failure the client can act on, with its HTTP status and a stable error code."""

    status_code = 400
    code = "invalid_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def headers(self) -> dict[str, str]:
        """Extra response headers for this error."""
        return {}


class InvalidCredentials(ApiError):
    """The user name or password is wrong (which one is never said)."""

    status_code = 401
    code = "invalid_credentials"


class InvalidGrant(ApiError):
    """The refresh token is unknown, spent, revoked or expired: the client must log in again."""

    status_code = 401
    code = "invalid_grant"


class InvalidToken(ApiError):
    """The access token is missing or fails verification (RFC 6750 §3.1)."""

    status_code = 401
    code = "invalid_token"

    @property
    def headers(self) -> dict[str, str]:
        """The challenge a Bearer client expects with a 401."""
        return {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class DPoPChallenge(ApiError):
    """A 401 that asks for DPoP (RFC 9449 §7.1): ``invalid_token`` (the token is missing,
    invalid, or not bound as it is sent), ``invalid_dpop_proof``, or ``use_dpop_nonce``
    (§9: send the proof again with the nonce in ``DPoP-Nonce``)."""

    status_code = 401

    def __init__(self, code: str, message: str, nonce: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.nonce = nonce

    @property
    def headers(self) -> dict[str, str]:
        """The DPoP challenge, naming the algorithms a proof may use, and the nonce if any."""
        description = self.message.replace("\\", "?").replace('"', "'")
        challenge = (
            f'DPoP error="{self.code}", error_description="{description}",'
            f' algs="{" ".join(ALGORITHMS)}"'
        )
        headers = {"WWW-Authenticate": challenge}
        if self.nonce is not None:
            headers["DPoP-Nonce"] = self.nonce
        return headers


def error_response(
    status_code: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Build a response in the shared error shape."""
    return JSONResponse({"error": code, "message": message}, status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception the app can raise to a response in the shared shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StoreUnavailable, _storage_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.code, exc.message, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    phrase = _phrase(exc.status_code)
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else phrase
    code = _CODES_BY_STATUS.get(exc.status_code, phrase.lower().replace(" ", "_"))
    return error_response(exc.status_code, code, message, exc.headers)


def _phrase(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "HTTP error"


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    content_type = request.headers.get("content-type")
    if content_type is not None and not _is_json(content_type):
        return error_response(415, "unsupported_media_type", "send the body as application/json")
    return error_response(422, "invalid_request", _describe_validation(exc))


def _is_json(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _describe_validation(exc: RequestValidationError) -> str:
    """Say what is wrong with the request without echoing its values (they may be passwords)."""
    errors = exc.errors()
    if not errors:
        return "the request is not valid"
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    what = str(first.get("msg", "is not valid"))
    return f"{where}: {what}" if where else f"request body: {what}"


async def _storage_error(request: Request, exc: Exception) -> Response:
    # The stores' messages ("database is locked") carry no request data: safe to log.
    logger.error("storage error: %s: %s", type(exc).__name__, exc)
    return error_response(
        503,
        "temporarily_unavailable",
        "the session store is busy; try again",
        {"Retry-After": "1"},
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Starlette answers this one outside every middleware, so it adds their headers itself,
    # and no-store: whatever failed, its answer must not be cached (API or not).
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    return error_response(500, "server_error", "unexpected server error", headers)
