"""Request bodies over 16 KiB are refused with 413, however they are sent."""

import http.client
import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from server_stub.middleware import MAX_BODY_BYTES

from .support import ServerProcess

pytestmark = pytest.mark.both_stores

REFRESH = "/authorization/refresh"
JSON = {"Content-Type": "application/json"}


def _refresh_body(size: int) -> bytes:
    """A valid refresh request of exactly ``size`` bytes (padded with JSON whitespace)."""
    body = b'{"refreshToken": "not-a-token"}'
    return body[:-1] + b" " * (size - len(body)) + b"}"


def _assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.json() == {
        "error": "request_too_large",
        "message": f"request body is larger than {MAX_BODY_BYTES} bytes",
    }


def test_the_limit_is_sixteen_kibibytes() -> None:
    assert MAX_BODY_BYTES == 16 * 1024


def test_a_body_of_exactly_the_limit_is_read(shared_client: TestClient) -> None:
    response = shared_client.post(REFRESH, content=_refresh_body(MAX_BODY_BYTES), headers=JSON)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_grant"


def test_one_byte_over_the_limit_is_a_413(shared_client: TestClient) -> None:
    body = _refresh_body(MAX_BODY_BYTES + 1)

    _assert_too_large(shared_client.post(REFRESH, content=body, headers=JSON))


def _chunks(total: int, size: int = 1000) -> Iterator[bytes]:
    yield b'{"refreshToken": "'
    for _ in range(total // size):
        yield b"x" * size
    yield b'"}'


@pytest.mark.parametrize("total", [20_000, 1_000_000])
def test_a_chunked_body_without_content_length_is_cut_off_on_the_real_server(
    live_server: ServerProcess, total: int
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        response = http.post(REFRESH, content=_chunks(total), headers=JSON)
        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        _assert_too_large(response)
        # The server is still there for the next request.
        assert http.get("/api/resources").status_code == 401


def test_a_huge_declared_length_is_refused_before_any_body_arrives(
    live_server: ServerProcess,
) -> None:
    request = (
        f"POST {REFRESH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000000000\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as raw:
        raw.sendall(request)  # and never a byte of the promised gigabyte
        answer = http.client.HTTPResponse(raw)
        answer.begin()
        body = json.loads(answer.read())

    assert answer.status == 413
    assert body["error"] == "request_too_large"
