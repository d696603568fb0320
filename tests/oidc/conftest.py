"""Fixtures for the provider's tests: one real `oidc-provider` process for the session, and a
fresh HTTP client (a fresh cookie jar: a new browser, a new provider session) for each test.
"""

from collections.abc import Iterator

import httpx
import pytest

from tests.oidc.support import ProviderProcess, launch_provider
from tests.server.support import free_port


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProviderProcess]:
    """The provider, for a page on another free port of 127.0.0.1 (no page runs there)."""
    page_origin = f"http://127.0.0.1:{free_port()}"
    provider = launch_provider(tmp_path_factory.mktemp("oidc") / "provider.log", page_origin)
    yield provider
    provider.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """An HTTP client with a cookie jar of its own, as one browser has."""
    with httpx.Client(timeout=10) as client:
        yield client
