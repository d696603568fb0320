"""Requests of any shape get a 4xx in the shared error shape, never a 5xx."""

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.both_stores

ENDPOINTS = ["/authorization/token", "/authorization/refresh", "/authorization/logout"]
JSON = {"Content-Type": "application/json"}

BAD_JSON_BODIES = {
    "not json": b"userName=andreyka26_&password=x",
    "truncated json": b'{"userName": "andreyka26_", ',
    "json array": b'["andreyka26_", "Mypass1*"]',
    "json string": b'"andreyka26_"',
    "json null": b"null",
    "json number": b"42",
    "empty object": b"{}",
    "empty body": b"",
    "number for string": b'{"userName": 1, "password": 2, "refreshToken": 3}',
    "bool for string": b'{"userName": true, "password": false, "refreshToken": true}',
    "null for string": b'{"userName": null, "password": null, "refreshToken": null}',
    "list for string": b'{"userName": ["a"], "password": ["b"], "refreshToken": ["c"]}',
    "object for string": b'{"userName": {}, "password": {}, "refreshToken": {}}',
    "empty strings": b'{"userName": "", "password": "", "refreshToken": ""}',
    "NaN": b'{"userName": NaN, "password": NaN, "refreshToken": NaN}',
    "lone surrogate": b'{"userName": "\\ud800", "password": "\\ud800", "refreshToken": "\\ud800"}',
    "huge number": b'{"userName": 1e999999, "password": 1, "refreshToken": 1}',
    "invalid utf-8": b'{"userName": "\xff\xfe", "password": "\xc3", "refreshToken": "\xff"}',
    "deep nesting": b"[" * 50000 + b"]" * 50000,
    "5000-char strings": (
        b'{"userName": "%s", "password": "%s", "refreshToken": "%s"}' % ((b"a" * 5000,) * 3)
    ),
}


def _assert_shared_error_shape(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "message"}
    assert isinstance(body["error"], str) and isinstance(body["message"], str)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("body", BAD_JSON_BODIES.values(), ids=BAD_JSON_BODIES.keys())
def test_a_malformed_json_body_gets_a_4xx_in_the_shared_shape(
    shared_client: TestClient, endpoint: str, body: bytes
) -> None:
    _assert_shared_error_shape(shared_client.post(endpoint, content=body, headers=JSON))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_missing_field_is_named_in_a_422_invalid_request(
    shared_client: TestClient, endpoint: str
) -> None:
    response = shared_client.post(endpoint, json={"unrelated": "x"})

    _assert_shared_error_shape(response)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
    assert "Field required" in response.json()["message"]


def test_a_too_long_field_is_a_422_that_does_not_echo_the_value(shared_client: TestClient) -> None:
    password = "p" * 5000
    response = shared_client.post(
        "/authorization/token", json={"userName": "andreyka26_", "password": password}
    )

    _assert_shared_error_shape(response)
    assert response.status_code == 422
    assert password not in response.text


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_one_megabyte_string_is_refused_as_too_large(
    shared_client: TestClient, endpoint: str
) -> None:
    huge = "x" * (1024 * 1024)
    response = shared_client.post(
        endpoint, json={"userName": huge, "password": huge, "refreshToken": huge}
    )

    _assert_shared_error_shape(response)
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def test_an_oversized_body_without_content_length_is_refused_too(shared_client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"refreshToken": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = shared_client.post("/authorization/refresh", content=chunks(), headers=JSON)

    _assert_shared_error_shape(response)
    assert response.status_code == 413


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_json_body_with_the_wrong_content_type_is_unsupported(
    shared_client: TestClient, content_type: str
) -> None:
    response = shared_client.post(
        "/authorization/token",
        content=b'{"userName": "andreyka26_", "password": "Mypass1*"}',
        headers={"Content-Type": content_type},
    )

    _assert_shared_error_shape(response)
    assert response.status_code == 415


def test_a_form_post_is_not_taken_as_credentials(shared_client: TestClient) -> None:
    response = shared_client.post(
        "/authorization/token", data={"userName": "andreyka26_", "password": "Mypass1*"}
    )

    _assert_shared_error_shape(response)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_wrong_method_on_an_endpoint_is_a_405(
    shared_client: TestClient, endpoint: str, method: str
) -> None:
    response = shared_client.request(method, endpoint)

    _assert_shared_error_shape(response)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "path", ["/api", "/api/", "/api/nothing", "/authorization", "/authorization/nothing/here"]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_api_path_is_a_json_404_not_the_page(
    shared_client: TestClient, path: str, method: str
) -> None:
    response = shared_client.request(method, path)

    _assert_shared_error_shape(response)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
