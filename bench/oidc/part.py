"""The OIDC part of `make bench`: every scenario for every contestant, on one provider."""

import argparse
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from bench.oidc.pages import CONTESTANTS, OidcArena, OidcContestant, ProviderEvents
from bench.oidc.scenarios import (
    RACE_TABS,
    OidcResults,
    Round,
    expired_click,
    race,
    refused_and_valid,
    sign_in_ms,
)
from bench.oidc.stack import ACCESS_TTL, OidcStack
from tests.server.support import REPO_ROOT

# The Pyodide page runs only when named (`--only oidc,oidc-pyodide`): five tabs of it beside
# the rest take more memory and time than the part's default is worth.
DEFAULT = tuple(c for c in CONTESTANTS if c.key != "oidc-pyodide")
KEYS = tuple(c.key for c in CONTESTANTS)


def chosen(names: Sequence[str]) -> tuple[OidcContestant, ...]:
    """The contestants named among `names`, or the default ones if none is."""
    named = tuple(c for c in CONTESTANTS if c.key in names)
    return named or DEFAULT


def run_oidc(
    browser: Browser,
    launch: dict,
    base: Path,
    delay_ms: float,
    contestants: Sequence[OidcContestant],
    *,
    rounds: int,
    reps: int,
    expiry_reps: int,
    say: Callable[[str], None] = print,
) -> OidcResults:
    """Sign-in times, the races, the refused token, natural expiry, on one provider.

    The races of the contestants run side by side, each in a Chromium of its own (`launch`)
    on a thread of its own: they only count, and the provider's events are told apart by
    grant. Everything timed runs one contestant at a time, in `browser`.
    """
    results = OidcResults()
    with OidcStack(base, delay_ms) as stack:
        log = stack.provider.log_path  # type: ignore[union-attr]
        where = (stack.origin, stack.issuer)
        say(f"oidc: provider {stack.issuer}, pages {stack.origin}, {rounds} rounds a race")
        for contestant in contestants:
            times = [
                sign_in_ms(browser, *where, contestant, ProviderEvents(log)) for _ in range(reps)
            ]
            results.sign_in[contestant.key] = times
            say(f"  sign-in {contestant.key}: {', '.join(f'{ms:.0f}' for ms in times)} ms")
        with ThreadPoolExecutor(len(contestants)) as pool:
            races = {
                c.key: pool.submit(_races, launch, where, c, log, rounds, say) for c in contestants
            }
            results.races = {key: future.result() for key, future in races.items()}
        arenas = {c.key: OidcArena(browser, *where, c, ProviderEvents(log)) for c in contestants}
        try:
            for key, arena in arenas.items():
                arena.sign_in()
                spoilt, valid = refused_and_valid(arena, reps)
                results.refused[key], results.valid[key] = spoilt, valid
                say(f"  refused {key}: {_ms(spoilt)} ms, valid {_ms(valid)} ms")
            for rep in range(expiry_reps):
                for key, arena in arenas.items():
                    one = expired_click(arena)
                    results.expiry.setdefault(key, []).append(one)
                    say(f"  {rep + 1}. expiry {key}: {one.unauthorized}x401, {one.refreshes} ref.")
        finally:
            for arena in arenas.values():
                arena.close()
    return results


def _races(
    launch: dict,
    where: tuple[str, str],
    contestant: OidcContestant,
    log: Path,
    rounds: int,
    say: Callable[[str], None],
) -> dict[int, list[Round]]:
    """One contestant's races, 2 then 5 tabs, in a Chromium of its own."""
    got = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch)
        arena = OidcArena(browser, *where, contestant, ProviderEvents(log))
        try:
            arena.sign_in()
            for tabs in RACE_TABS:
                started = time.monotonic()
                got[tabs] = race(arena, tabs, rounds)
                lost = sum(not one.kept for one in got[tabs])
                say(
                    f"  race {contestant.key} {tabs} tabs: {lost} of {rounds} rounds lost"
                    f" something [{time.monotonic() - started:.0f} s]"
                )
        finally:
            arena.close()
            browser.close()
    return got


def _ms(runs: Sequence[Round]) -> str:
    return ", ".join("-" if one.ms is None else f"{one.ms:.0f}" for one in runs)


def _version(package: str, folder: str = "bench") -> str:
    try:
        path = REPO_ROOT / folder / "node_modules" / package / "package.json"
        return json.loads(path.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def describe(meta: dict[str, str], args: argparse.Namespace) -> dict[str, str]:
    """The section's header: the run's own lines, and what this part ran against."""
    rounds = 10 if args.quick else args.oidc_rounds
    return {
        **{
            key: meta[key]
            for key in ("run", "machine", "browser", "load", "duration")
            if key in meta
        },
        "provider": (
            f"oidc-provider {_version('oidc-provider', '.')} (tests/oidc/provider.mjs "
            f"--auth0-routes): rotating refresh tokens, a spent one revokes the grant, access "
            f"tokens live {ACCESS_TTL} s; one instance for every contestant"
        ),
        "contestants": (
            f"oidc-client-ts {_version('oidc-client-ts')}, "
            f"auth0-spa-js {_version('@auth0/auth0-spa-js')}"
        ),
        "network": (
            f"the pages, the API and the provider each behind a bench/proxy.py delay line, "
            f"{args.delay_ms:g} ms each way"
        ),
        "repetitions": f"{rounds} rounds a race; {args.reps if not args.quick else 1} of the rest",
    }
