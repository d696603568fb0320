"""The OIDC scenarios, each for one contestant on the one provider of the run.

- races: 2 and 5 tabs clicking at one moment with the access token spoilt, so that every
  tab refreshes at once, round after round; a round that lost the session signs in again;
- refused: one tab, its access token refused (`sdf`), three requests; and the same click
  with a valid token, the baseline of its recovery time;
- expiry: one tab whose access token has run out by its lifetime (and the API's leeway);
- sign-in: a new browser, the sign-in button to the home page showing the resource.
"""

import base64
import json
import time
from dataclasses import dataclass, field

from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError

from bench.contest import RESOURCE, START_LEAD_MS
from bench.oidc.pages import TOKEN_PATH, OidcArena, OidcContestant, ProviderEvents
from server_stub.tokens import LEEWAY_SECONDS

RACE_TABS = (2, 5)
ARM = "action => window.__bench.arm(action)"
COLLECT = "() => window.__bench.collect()"


@dataclass
class Round:
    """What one click in every tab did, counted on the wire and by the provider."""

    tabs: int
    refreshes: int  # token requests (POST /oauth/token)
    refused: int  # refresh requests the provider refused (a spent or dead token)
    revoked: int  # grants the provider revoked for a spent token
    unauthorized: int
    ok: int
    issued: int
    signed_out: int  # tabs with no live session afterwards: they must sign in again
    ms: float | None  # first click to the last slot's change, slowest tab; None if stuck

    @property
    def lost(self) -> int:
        """Requests issued that never got their 200."""
        return max(0, self.issued - self.ok)

    @property
    def kept(self) -> bool:
        """Nothing refused, revoked, lost, nobody signed out."""
        return not (self.refused or self.revoked or self.lost or self.signed_out)


@dataclass
class OidcResults:
    """Everything the part measured, by contestant key."""

    races: dict[str, dict[int, list[Round]]] = field(default_factory=dict)
    refused: dict[str, list[Round]] = field(default_factory=dict)
    valid: dict[str, list[Round]] = field(default_factory=dict)
    expiry: dict[str, list[Round]] = field(default_factory=dict)
    sign_in: dict[str, list[float]] = field(default_factory=dict)  # ms
    meta: dict[str, str] = field(default_factory=dict)


def click_all(arena: OidcArena, tabs: list[Page]) -> Round:
    """One click on "Send 3 requests" in every tab at one moment, counted once settled."""
    arena.note_grant(tabs[0])
    mark, seen = len(arena.network.answers), len(arena.events.read())
    at = time.time() * 1000 + START_LEAD_MS
    for tab in tabs:
        tab.evaluate(ARM, {"at": at, "clicks": 1, "gap": 0, "fire": 0})
    outcomes = []
    for tab in tabs:
        try:
            outcomes.append(tab.evaluate(COLLECT))
        except PlaywrightError:  # navigated away: the gate's page to its login page
            outcomes.append(None)
    tabs[0].wait_for_timeout(100)  # the provider's last events, the last network events
    count = arena.network.count
    finished = [outcome for outcome in outcomes if outcome]
    stuck = len(finished) < len(outcomes) or any(outcome["stuck"] for outcome in finished)
    return Round(
        tabs=len(tabs),
        refreshes=count(mark, "POST", TOKEN_PATH),
        refused=arena.mine(seen, "grant.error"),
        revoked=arena.mine(seen, "grant.revoked"),
        unauthorized=count(mark, "GET", RESOURCE, 401),
        ok=count(mark, "GET", RESOURCE, 200),
        issued=3 * len(tabs),
        signed_out=sum(not arena.signed_in(tab) for tab in tabs),
        ms=None if stuck else max(outcome["ms"] for outcome in finished),
    )


def race(arena: OidcArena, tabs: int, rounds: int) -> list[Round]:
    """`rounds` rounds of `tabs` tabs refreshing at once; a lost session signs in again."""
    pages = arena.open_tabs(tabs)
    got = []
    for number in range(rounds):
        arena.evaluate(pages[0], "break")
        one = click_all(arena, pages)
        got.append(one)
        if not one.kept or number % 20 == 19:
            print(f"    {arena.contestant.key} {tabs} tabs, round {number + 1}: {_describe(one)}")
        if one.signed_out or one.lost:
            arena.recover(tabs)
    return got


def refused_and_valid(arena: OidcArena, reps: int) -> tuple[list[Round], list[Round]]:
    """Three requests with the access token refused, then with the fresh one, `reps` times."""
    (tab,) = arena.open_tabs(1)
    click_all(arena, [tab])  # a warm-up click, counted nowhere
    spoilt, valid = [], []
    for _ in range(reps):
        arena.evaluate(tab, "break")
        spoilt.append(click_all(arena, [tab]))
        valid.append(click_all(arena, [tab]))
        if spoilt[-1].signed_out:
            arena.recover(1)
    return spoilt, valid


def seconds_left(arena: OidcArena, tab: Page) -> float:
    """Until the API refuses the tab's access token: its `exp`, plus the API's leeway."""
    token = arena.evaluate(tab, "access") or ""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims["exp"] + LEEWAY_SECONDS - time.time()


def expired_click(arena: OidcArena) -> Round:
    """One click once the access token has run out (the caller waited for it)."""
    (tab,) = arena.open_tabs(1)
    for _ in range(3):  # the page might refresh meanwhile; it must not, as none of them do
        if (left := seconds_left(arena, tab)) <= -0.5:
            break
        time.sleep(left + 0.6)
    return click_all(arena, [tab])


def sign_in_ms(
    browser: Browser, origin: str, issuer: str, contestant: OidcContestant, events: ProviderEvents
) -> float:
    """A new browser (no provider session): the sign-in button to the resource shown."""
    arena = OidcArena(browser, origin, issuer, contestant, events)
    try:
        return 1000 * arena.sign_in()
    finally:
        arena.close()


def _describe(one: Round) -> str:
    took = "stuck" if one.ms is None else f"{one.ms:.0f} ms"
    return (
        f"{took}, {one.refreshes} refresh, {one.refused} refused, {one.revoked} revoked, "
        f"{one.ok}/{one.issued} answered, {one.signed_out} signed out"
    )
