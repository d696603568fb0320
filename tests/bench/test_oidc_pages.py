"""Each OIDC contestant of `make bench` really signs in with the real provider and recovers
from a refused access token in one round of two tabs (bench/oidc/, part `oidc`).

Whether a peer keeps the session in that round is what the bench counts, not asserted
here; the gate must keep it. A short run: one provider, one server, one round each.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from bench.oidc.pages import CONTESTANTS, GATES, OidcArena, ProviderEvents
from bench.oidc.scenarios import click_all
from bench.oidc.stack import OidcStack
from tests.e2e.conftest import browser_type_launch_args  # noqa: F401 (Debian's Chromium)
from tests.oidc.support import node_or_skip

DELAY_MS = 20.0
TESTED = [c for c in CONTESTANTS if c.key != "oidc-pyodide"]  # Pyodide: tests/e2e has it


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcStack]:
    node_or_skip()
    vendor = Path(__file__).parents[2] / "bench" / "vendor" / "oidc-client-ts.js"
    if not vendor.exists():
        pytest.skip("bench/vendor/ is missing: `make bench/vendor/.installed` copies it")
    with OidcStack(tmp_path_factory.mktemp("oidc-bench"), DELAY_MS) as started:
        yield started


@pytest.mark.parametrize("contestant", TESTED, ids=lambda c: c.key)
def test_the_contestant_signs_in_with_the_provider_and_two_tabs_get_every_answer_back(
    browser: Browser, stack: OidcStack, contestant
) -> None:
    events = ProviderEvents(stack.provider.log_path)  # type: ignore[union-attr]
    arena = OidcArena(browser, stack.origin, stack.issuer, contestant, events)
    try:
        assert arena.sign_in() < 30
        tabs = arena.open_tabs(2)
        assert all(arena.signed_in(tab) for tab in tabs)

        arena.evaluate(tabs[0], "break")
        one = click_all(arena, tabs)

        assert one.unauthorized >= 3 and one.refreshes >= 1
        if contestant.key in GATES:
            assert one.kept and one.refreshes == 1, one
        else:  # the race may cost a peer its session; every request still got an answer
            assert one.ms is not None, one
    finally:
        arena.close()
