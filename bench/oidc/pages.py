"""The OIDC contestants, and one contestant's tabs in a browser context of their own.

Every contestant keeps one page contract: a sign-in button that goes through the provider's
pages, the resource loaded into #data on arrival, and the "Send 3 requests" button with its
result slots (bench/harness.js clicks it). The gate is the app's own page with `refresh =
"oidc"`; the JavaScript pages are bench/contestants/oidc-client-ts/ and auth0-spa-js/.
"""

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError

from bench.contest import HARNESS_JS, HOME_LOADED, READY, NetworkLog

TOKEN_PATH = "/oauth/token"  # the provider's token endpoint (--auth0-routes)
LOGIN = ("andreyka26_", "Mypass1*")  # devInteractions takes any name and password


@dataclass(frozen=True)
class OidcContestant:
    """A page that signs in with the provider and keeps the page contract."""

    key: str
    label: str
    path: str
    gate: bool = False  # the app's page: signs in from its login page, tokens in localStorage

    @property
    def sign_in_path(self) -> str:
        """Where its sign-in button is."""
        return self.path.rstrip("/") + "/login" if self.gate else self.path

    def js(self, what: str) -> str:
        """A function for `evaluate`: break the access token, or read the access or refresh
        token, as this page stores them."""
        if self.gate:
            return {
                "break": "() => localStorage.setItem('token', 'sdf')",
                "access": "() => localStorage.getItem('token')",
                "refresh": "() => localStorage.getItem('refreshToken')",
            }[what]
        return {
            "break": "() => window.benchBreakToken()",
            "access": "() => window.benchAccessToken()",
            "refresh": "() => window.benchRefreshToken()",
        }[what]


CONTESTANTS = (
    OidcContestant("oidc-mpy", "this page, MicroPython", "/", gate=True),
    OidcContestant("oidc-pyodide", "this page, Pyodide", "/pyodide", gate=True),
    OidcContestant("oidc-client-ts", "oidc-client-ts", "/bench/oidc-client-ts/"),
    OidcContestant(
        "oidc-client-ts-lock", "oidc-client-ts, Web Lock", "/bench/oidc-client-ts/?lock=web"
    ),
    OidcContestant("auth0", "auth0-spa-js", "/bench/auth0-spa-js/"),
)
GATES = tuple(c.key for c in CONTESTANTS if c.gate)


def fingerprint(token: str) -> str:
    """As tests/oidc/provider.mjs names a refresh token in its events (an opaque token's
    value is its id there)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class ProviderEvents:
    """The provider's events (its log, one JSON line each), read as they come."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.seen: list[dict] = []
        self._offset = 0
        self.grant_of: dict[str, str] = {}  # refresh token fingerprint -> grant
        self.revoked: set[str] = set()

    def read(self) -> list[dict]:
        """Every event so far, oldest first."""
        with self.log.open("rb") as log:
            log.seek(self._offset)
            chunk = log.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            if line.startswith("{"):
                event = json.loads(line)
                self.seen.append(event)
                if event["event"] == "refresh_token.saved":
                    self.grant_of[event["token"]] = event["grantId"]
                elif event["event"] == "grant.revoked":
                    self.revoked.add(event["grantId"])
        return self.seen

    def since(self, mark: int, name: str) -> list[dict]:
        """Events called `name` after the first `mark`."""
        return [event for event in self.read()[mark:] if event["event"] == name]

    def alive(self, refresh_token: str | None) -> bool:
        """Whether `refresh_token` belongs to a grant the provider has not revoked."""
        self.read()
        grant = self.grant_of.get(fingerprint(refresh_token)) if refresh_token else None
        return grant is not None and grant not in self.revoked


class OidcArena:
    """One contestant's browser context: its tabs, signed in with the provider."""

    def __init__(
        self,
        browser: Browser,
        origin: str,
        issuer: str,
        contestant: OidcContestant,
        events: ProviderEvents,
    ) -> None:
        self.origin = origin
        self.contestant = contestant
        self.events = events
        self.grants: set[str] = set()  # every grant this context signed in to
        self.context = browser.new_context(base_url=origin)
        settings = {"issuer": issuer, "clientId": "refresh-gate-demo", "scope": "openid api"}
        self.context.add_init_script(f"window.benchOidc = {json.dumps(settings)};")
        self.context.add_init_script(HARNESS_JS)
        self.network = NetworkLog(self.context)
        self.tabs: list[Page] = []

    def close(self) -> None:
        """Close every tab and the context."""
        self.context.close()

    def sign_in(self) -> float:
        """Sign the first tab in through the provider's pages; seconds from the click until
        the home page showed the resource."""
        if not self.tabs:
            self.tabs.append(self.context.new_page())
        page = self.tabs[0]
        page.goto(self.contestant.sign_in_path)
        page.wait_for_selector(READY, state="attached", timeout=60_000)
        button = "#sign-in" if not self.contestant.gate else "text=Sign in with your provider"
        started = time.monotonic()
        page.click(button)
        self._through_the_provider(page)
        page.wait_for_function(HOME_LOADED, timeout=60_000)
        took = time.monotonic() - started
        self.note_grant(page)
        return took

    def note_grant(self, tab: Page) -> None:
        """Remember the grant of the tab's refresh token: the provider's events about it
        are this contestant's (several contestants share one provider)."""
        token = self.evaluate(tab, "refresh")
        self.events.read()
        if token and (grant := self.events.grant_of.get(fingerprint(token))):
            self.grants.add(grant)

    def mine(self, mark: int, name: str) -> int:
        """How many of the provider's events called `name` since `mark` are about this
        context's grants."""
        return sum(event.get("grantId") in self.grants for event in self.events.since(mark, name))

    def _through_the_provider(self, page: Page) -> None:
        """Its login page and consent page, whichever it shows, until back at the origin."""
        page.wait_for_url(lambda url: not url.startswith(self.origin) or "code=" in url)
        deadline = time.monotonic() + 60
        while not page.url.startswith(self.origin):
            if time.monotonic() > deadline:
                raise RuntimeError(f"stuck on the provider's page {page.url}")
            here = page.url
            try:
                if page.locator('input[name="login"]').count():
                    page.locator('input[name="login"]').fill(LOGIN[0])
                    page.locator('input[name="password"]').fill(LOGIN[1])
                page.locator('button[type="submit"]').click(timeout=5_000)
                page.wait_for_url(lambda url, here=here: url != here, timeout=15_000)
            except PlaywrightError:
                page.wait_for_timeout(50)

    def open_tabs(self, count: int) -> list[Page]:
        """`count` tabs at the page, signed in (from the first tab's storage), home loaded."""
        while len(self.tabs) < count:
            self.tabs.append(self.context.new_page())
        for extra in self.tabs[count:]:
            extra.close()
        del self.tabs[count:]
        for tab in self.tabs:
            if urlsplit(tab.url).path != urlsplit(self.origin + self.contestant.path).path:
                self.reload(tab)
        return list(self.tabs)

    def reload(self, tab: Page) -> None:
        """The tab at the page afresh, its home loaded."""
        tab.goto(self.contestant.path)
        tab.wait_for_selector(READY, state="attached", timeout=60_000)
        tab.wait_for_function(HOME_LOADED, timeout=60_000)

    def evaluate(self, tab: Page, what: str) -> str | None:
        """The page's access or refresh token, or None; "break" spoils the access token."""
        try:
            return tab.evaluate(self.contestant.js(what))
        except PlaywrightError:
            return None  # it navigated away: to its login page

    def signed_in(self, tab: Page) -> bool:
        """Whether the tab still has a session: a refresh token of a live grant, on the page
        (not its login page). A page that merely believes it is signed in is not."""
        if urlsplit(tab.url).path.endswith("/login"):
            return False
        return self.events.alive(self.evaluate(tab, "refresh"))

    def recover(self, count: int) -> None:
        """Sign in again after a lost session, and bring every tab back to the page."""
        self.sign_in()
        for tab in self.tabs[1:count]:  # all at once: only the last one is waited for long
            tab.goto(self.contestant.path, wait_until="commit")
        for tab in self.tabs[1:count]:
            tab.wait_for_selector(READY, state="attached", timeout=60_000)
            tab.wait_for_function(HOME_LOADED, timeout=60_000)
