"""What /openapi.json says beyond what FastAPI infers: every error answer, and the links.

The schema is the contract the fuzz tests hold the server to (tests/server/test_fuzz.py),
so each route declares every status it can answer with; all errors share `ErrorBody`.
"""

from typing import Any

from server_stub.schemas import ErrorBody

_ERROR_CONTENT = {"application/json": {"schema": ErrorBody.model_json_schema()}}

_WHY = {
    400: "The request body cannot be decoded (it is not UTF-8 text).",
    401: "The credentials, refresh token or access token are not accepted.",
    413: "The request body is larger than the server accepts.",
    415: "The request body is not sent as application/json.",
    422: "The request body does not have the fields this operation needs.",
    429: "Too many failed logins for this user name or from this address.",
    503: "The session store is busy; try again.",
}

_HEADERS: dict[int, dict[str, Any]] = {
    429: {
        "Retry-After": {
            "description": "Seconds until a login may be tried again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds until the request may be tried again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}

BEARER_CHALLENGE = {
    "WWW-Authenticate": {
        "description": "The Bearer challenge (RFC 6750 §3).",
        "required": True,
        "schema": {"type": "string"},
    }
}


def error_responses(
    *statuses: int, headers: dict[int, dict[str, Any]] | None = None
) -> dict[int | str, Any]:
    """Responses in the shared error shape for ``statuses``, for a route's ``responses=``.

    ``headers`` adds response headers to a status, such as `BEARER_CHALLENGE` to a 401.
    """
    extra = {**_HEADERS, **(headers or {})}
    responses: dict[int | str, Any] = {}
    for status in statuses:
        response: dict[str, Any] = {"description": _WHY[status], "content": _ERROR_CONTENT}
        if status in extra:
            response["headers"] = extra[status]
        responses[status] = response
    return responses


def refresh_token_links() -> dict[str, Any]:
    """Links from a new token pair to the operations that take its refresh token."""
    carry = {"refreshToken": "$response.body#/refreshToken"}
    return {
        "RefreshWithIt": {"operationId": "refresh", "requestBody": carry},
        "LogOutWithIt": {"operationId": "logOut", "requestBody": carry},
    }
