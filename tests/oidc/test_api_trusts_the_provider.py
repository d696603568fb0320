"""The API behind the real provider: server_stub started to trust its issuer accepts the
access tokens the provider issues for the API's audience, as an API behind Keycloak or
Auth0 does, and its own tokens beside them."""

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server_stub.app import create_app
from server_stub.config import Config
from tests.oidc.relying_party import USER, signed_in
from tests.oidc.support import ProviderProcess

RESOURCE = "/api/resources"


@pytest.fixture
def api(tmp_path: Path) -> Callable[..., TestClient]:
    """An API (server_stub) on a fresh database, trusting the issuer it is given, if any."""
    clients = []

    def make(**trust: str) -> TestClient:
        config = Config(db_path=tmp_path / f"api-{len(clients)}.db", **trust)
        client = TestClient(create_app(config))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_providers_access_token_for_the_api_is_accepted_by_an_api_that_trusts_it(
    oidc_provider: ProviderProcess, http: httpx.Client, api: Callable[..., TestClient]
) -> None:
    _, tokens = signed_in(http, oidc_provider)
    trusting = api(trusted_issuer=oidc_provider.issuer, trusted_audience=oidc_provider.api_audience)

    answer = trusting.get(RESOURCE, headers=_bearer(tokens["access_token"]))

    assert answer.status_code == 200, answer.text
    assert answer.text == f"protected resources, username: {USER}"


def test_an_api_that_trusts_no_provider_or_another_audience_refuses_it(
    oidc_provider: ProviderProcess, http: httpx.Client, api: Callable[..., TestClient]
) -> None:
    _, tokens = signed_in(http, oidc_provider)
    elsewhere = api(trusted_issuer=oidc_provider.issuer, trusted_audience="urn:another-api")

    for client in (api(), elsewhere):
        assert client.get(RESOURCE, headers=_bearer(tokens["access_token"])).status_code == 401
    # The ID token is signed by the same keys, but is no access token for the API.
    trusting = api(trusted_issuer=oidc_provider.issuer, trusted_audience=oidc_provider.api_audience)
    assert trusting.get(RESOURCE, headers=_bearer(tokens["id_token"])).status_code == 401


def test_the_apis_own_tokens_keep_working_beside_the_providers(
    oidc_provider: ProviderProcess, api: Callable[..., TestClient]
) -> None:
    trusting = api(trusted_issuer=oidc_provider.issuer, trusted_audience=oidc_provider.api_audience)
    own = trusting.post(
        "/authorization/token", json={"userName": "andreyka26_", "password": "Mypass1*"}
    ).json()["authorizationToken"]

    assert trusting.get(RESOURCE, headers=_bearer(own)).status_code == 200
