"""The DPoP part of `make bench`: the gate with DPoP beside the peers with theirs, on one
provider started with `--dpop`, and the gate without DPoP on a second such stack.

Two stacks (tests/oidc/provider.mjs `--dpop --auth0-routes`, server_stub `--trust-issuer`,
each behind delay lines of the same delay) run side by side: on the first the gate's pages
say `dpop = true`, on the second they do not (the provider then issues Bearer tokens). The
timed clicks take turns between every contestant of both, repetition by repetition, so the
machine's load falls on DPoP on and off alike.
"""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from bench.dpop.pages import (
    CONTESTANTS,
    GATE_MPY,
    GATE_PYODIDE,
    RACERS,
    Proofs,
    measure_cost,
    watch,
)
from bench.oidc.pages import TOKEN_PATH, OidcArena, OidcContestant, ProviderEvents
from bench.oidc.scenarios import Round, race, refused_and_valid
from bench.oidc.stack import OidcStack

OFF = "-off"  # the key of a gate's page without DPoP: its key with this after it
PROVIDER_ARGS = ("--dpop",)


@dataclass
class DpopResults:
    """Everything the part measured, by contestant key (a gate without DPoP: key + OFF)."""

    races: dict[str, list[Round]] = field(default_factory=dict)  # two tabs
    race_nonce_retries: dict[str, int] = field(default_factory=dict)  # all rounds'
    refused: dict[str, list[Round]] = field(default_factory=dict)
    valid: dict[str, list[Round]] = field(default_factory=dict)
    nonce_retries: dict[str, list[int]] = field(
        default_factory=dict
    )  # token endpoint 400s (use_dpop_nonce; invalid_grant too)
    proofs: dict[str, dict] = field(default_factory=dict)  # Proofs, as counted
    cost: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # ms: proof, request
    meta: dict[str, str] = field(default_factory=dict)


def _off(contestant: OidcContestant) -> OidcContestant:
    return OidcContestant(contestant.key + OFF, contestant.label, contestant.path, gate=True)


def run_dpop(
    browser: Browser,
    launch: dict,
    base: Path,
    delay_ms: float,
    *,
    rounds: int,
    reps: int,
    proofs: int,
    requests: int,
    say: Callable[[str], None] = print,
) -> DpopResults:
    """The two-tab race, the refused token (DPoP on and off for the gate), the proof's cost."""
    results = DpopResults()
    on_stack = OidcStack(
        base / "on", delay_ms, provider_args=PROVIDER_ARGS, page_settings=("dpop = true",)
    )
    with on_stack as on, OidcStack(base / "off", delay_ms, provider_args=PROVIDER_ARGS) as off:
        say(f"dpop: DPoP on {on.origin} (provider {on.issuer}), off {off.origin}")
        where_on = (on.origin, on.issuer, on.provider.log_path)  # type: ignore[union-attr]
        with ThreadPoolExecutor(len(RACERS)) as pool:
            races = {c.key: pool.submit(_race, launch, where_on, c, rounds, say) for c in RACERS}
            for key, future in races.items():
                results.races[key], results.race_nonce_retries[key] = future.result()
        arenas = {c.key: _arena(browser, on, c) for c in CONTESTANTS}
        arenas |= {c.key + OFF: _arena(browser, off, _off(c)) for c in (GATE_MPY, GATE_PYODIDE)}
        counted = {key: watch(arena) for key, arena in arenas.items()}
        try:
            for arena in arenas.values():
                arena.sign_in()
            for rep in range(reps):
                for key, arena in arenas.items():
                    mark = len(arena.network.answers)
                    (spoilt,), (valid,) = refused_and_valid(arena, 1)
                    retries = arena.network.count(mark, "POST", TOKEN_PATH, 400)
                    results.refused.setdefault(key, []).append(spoilt)
                    results.valid.setdefault(key, []).append(valid)
                    results.nonce_retries.setdefault(key, []).append(retries)
                    say(
                        f"  {rep + 1}. refused {key}: {spoilt.unauthorized}x401, "
                        f"{spoilt.refreshes} token req. ({retries} nonce), {_ms(spoilt)}, "
                        f"valid {_ms(valid)}"
                    )
            for key, arena in arenas.items():
                if arena.contestant.gate:
                    (tab,) = arena.open_tabs(1)
                    got = measure_cost(tab, dpop=OFF not in key, proofs=proofs, requests=requests)
                    results.cost[key] = {"proof": got.proof, "request": got.request}
                    medians = got.median("proof"), got.median("request")
                    say(f"  cost {key}: proof, request: {medians} ms")
            results.proofs = {key: _counted(proofs) for key, proofs in counted.items()}
        finally:
            for arena in arenas.values():
                arena.close()
    return results


def _arena(browser: Browser, stack: OidcStack, contestant: OidcContestant) -> OidcArena:
    events = ProviderEvents(stack.provider.log_path)  # type: ignore[union-attr]
    return OidcArena(browser, stack.origin, stack.issuer, contestant, events)


def _race(
    launch: dict,
    where: tuple[str, str, Path],
    contestant: OidcContestant,
    rounds: int,
    say: Callable[[str], None],
) -> tuple[list[Round], int]:
    """One contestant's two-tab race on the DPoP stack, in a Chromium of its own; and how
    many token requests the provider answered `use_dpop_nonce` (400) meanwhile."""
    origin, issuer, log = where
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch)
        arena = OidcArena(browser, origin, issuer, contestant, ProviderEvents(log))
        try:
            arena.sign_in()
            started, mark = time.monotonic(), len(arena.network.answers)
            got = race(arena, 2, rounds)
            retries = arena.network.count(mark, "POST", TOKEN_PATH, 400)
            lost = sum(not one.kept for one in got)
            say(
                f"  race {contestant.key} 2 tabs: {lost} of {rounds} rounds lost something"
                f" [{time.monotonic() - started:.0f} s]"
            )
        finally:
            arena.close()
            browser.close()
    return got, retries


def _counted(proofs: Proofs) -> dict:
    counted = asdict(proofs)
    counted["schemes"] = sorted(proofs.schemes)
    return counted


def _ms(one: Round) -> str:
    return "stuck" if one.ms is None else f"{one.ms:.0f} ms"


def describe(meta: dict[str, str], delay_ms: float, rounds: int, reps: int) -> dict[str, str]:
    """The section's header lines."""
    keep = ("run", "machine", "browser", "load", "duration")
    return {
        **{key: meta[key] for key in keep if key in meta},
        "provider": (
            "oidc-provider (tests/oidc/provider.mjs --dpop --auth0-routes): a proof with its "
            "current nonce on every DPoP token request, refresh tokens rotated and bound to "
            "the key; one instance for the gate with DPoP and the peers, a second one (the "
            "same) for the gate without DPoP"
        ),
        "API": "server_stub --trust-issuer: checks every DPoP proof (RFC 9449 §4.3, `cnf.jkt`)",
        "network": f"every page, API and provider behind a bench/proxy.py delay line, "
        f"{delay_ms:g} ms each way",
        "repetitions": f"{rounds} rounds of the two-tab race; {reps} of the refused token",
    }
