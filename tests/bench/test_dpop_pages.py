"""Each DPoP contestant of `make bench` (part `dpop`) signs in with the real provider started
with `--dpop`, and recovers from a refused access token in one round, every API request
and token request carrying a proof (bench/dpop/). A short run: one provider, one server.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from bench.dpop.pages import GATE_PYODIDE, RACERS, watch
from bench.dpop.part import PROVIDER_ARGS
from bench.oidc.pages import OidcArena, OidcContestant, ProviderEvents
from bench.oidc.scenarios import click_all
from bench.oidc.stack import OidcStack
from tests.e2e.conftest import browser_type_launch_args  # noqa: F401 (Debian's Chromium)
from tests.oidc.support import node_or_skip

DELAY_MS = 20.0
TESTED = [c for c in RACERS if c is not GATE_PYODIDE]  # Pyodide: tests/e2e has it


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcStack]:
    node_or_skip()
    vendor = Path(__file__).parents[2] / "bench" / "vendor" / "auth0-spa-js.js"
    if not vendor.exists():
        pytest.skip("bench/vendor/ is missing: `make bench/vendor/.installed` copies it")
    base = tmp_path_factory.mktemp("dpop-bench")
    settings = ("dpop = true",)
    with OidcStack(base, DELAY_MS, provider_args=PROVIDER_ARGS, page_settings=settings) as got:
        yield got


@pytest.mark.parametrize("contestant", TESTED, ids=lambda c: c.key)
def test_the_contestant_signs_in_with_dpop_and_gets_its_answers_with_proofs(
    browser: Browser, stack: OidcStack, contestant: OidcContestant
) -> None:
    events = ProviderEvents(stack.provider.log_path)  # type: ignore[union-attr]
    arena = OidcArena(browser, stack.origin, stack.issuer, contestant, events)
    proofs = watch(arena)
    try:
        assert arena.sign_in() < 30
        (tab,) = arena.open_tabs(1)

        arena.evaluate(tab, "break")
        one = click_all(arena, [tab])

        assert one.unauthorized == 3 and one.ok == 3 and one.kept, one
        assert one.refreshes >= 1
        assert proofs.api == proofs.api_signed >= 7  # the home page's, the 3 refused, 3 more
        assert proofs.token == proofs.token_signed >= 2  # the code's exchange, the refresh
        assert proofs.schemes == {"DPoP"}
    finally:
        arena.close()
