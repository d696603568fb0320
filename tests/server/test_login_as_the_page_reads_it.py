"""This server's login answers, sent and read as the page does (refresh_gate's SeedRefresh
and OAuth2Refresh).

The gate's own tests (tests/refresh_gate) run under MicroPython too, against a fake server, so what
they take for the real server's answers would only be checked against themselves there.
Here the page's own requests go to the real app and its answers are read by the page's code.
"""

import pytest
from fastapi.testclient import TestClient

from refresh_gate import OAuth2Refresh, Request, Response, SeedRefresh
from server_stub.oauth import TOKEN_PATH

from .support import SEED_PASSWORD, SEED_USER


def _send(client: TestClient, request: Request) -> Response:
    """`request` on the wire to the app, and its answer as the gate gets it."""
    answer = client.request(
        request.method, request.path, headers=request.headers, content=request.body
    )
    return Response(answer.status_code, answer.text)


@pytest.mark.parametrize(
    ("refresh", "wrong_credentials"),
    [(SeedRefresh(), (401,)), (OAuth2Refresh(TOKEN_PATH), (400, 401))],
    ids=["seed", "oauth2"],
)
def test_a_wrong_password_is_told_by_401_from_the_seed_and_by_400_or_401_from_oauth2(
    client: TestClient, refresh: SeedRefresh | OAuth2Refresh, wrong_credentials: tuple[int, ...]
) -> None:
    wrong_password = _send(client, refresh.login(SEED_USER, "not the password"))
    unknown_user = _send(client, refresh.login("nobody", SEED_PASSWORD))
    right = _send(client, refresh.login(SEED_USER, SEED_PASSWORD))

    assert refresh.wrong_credentials == wrong_credentials
    assert wrong_password.status in refresh.wrong_credentials, wrong_password
    assert unknown_user.status in refresh.wrong_credentials, unknown_user
    assert right.status == 200, right


def test_a_password_grant_with_the_wrong_password_reads_as_wrong_credentials(
    client: TestClient,
) -> None:
    refresh = OAuth2Refresh(TOKEN_PATH)

    response = _send(client, refresh.login(SEED_USER, "not the password"))
    right = _send(client, refresh.login(SEED_USER, SEED_PASSWORD))

    assert response.status in refresh.wrong_credentials
    assert refresh.read_login(response) is None
    assert refresh.read_login(right) is not None  # so None above is a refusal read as one
