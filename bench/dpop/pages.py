"""The DPoP contestants, what their requests carried, and the proof's cost in the gate's page.

The gate is the app's own page with `refresh = "oidc"` and `dpop = true` (or without DPoP,
on a stack of its own, for the comparison); the JavaScript pages are part oidc's with
`?dpop=on`. The proof's cost is measured in the page, through the library's own path: the
DPoPProofs and BrowserDPoPKey a DPoPTransport signs with, and page_transport's requests.
"""

import json
import statistics
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Page, Request

from bench.contest import PYSCRIPT_HOOK_JS, RESOURCE
from bench.oidc.pages import TOKEN_PATH, OidcArena, OidcContestant

GATE_MPY = OidcContestant("dpop-mpy", "this page, MicroPython", "/", gate=True)
GATE_PYODIDE = OidcContestant("dpop-pyodide", "this page, Pyodide", "/pyodide", gate=True)
OIDC_CLIENT_TS = OidcContestant(
    "dpop-oidc-client-ts", "oidc-client-ts", "/bench/oidc-client-ts/?dpop=on"
)
AUTH0 = OidcContestant("dpop-auth0", "auth0-spa-js", "/bench/auth0-spa-js/?dpop=on")
CONTESTANTS = (GATE_MPY, GATE_PYODIDE, OIDC_CLIENT_TS, AUTH0)
GATES = (GATE_MPY.key, GATE_PYODIDE.key)
RACERS = (GATE_MPY, OIDC_CLIENT_TS, AUTH0)  # the two-tab race: MicroPython's gate and the peers


@dataclass
class Proofs:
    """The API and token requests a context sent: how many, and how many carried a proof."""

    api: int = 0
    api_signed: int = 0
    token: int = 0
    token_signed: int = 0
    schemes: set[str] = field(default_factory=set)  # the API's Authorization schemes

    def on_request(self, request: Request) -> None:
        """Count `request` if it goes to the API or the token endpoint."""
        path = urlsplit(request.url).path
        signed = "dpop" in request.headers
        if path == RESOURCE and request.method == "GET":
            self.api += 1
            self.api_signed += signed
            self.schemes.add(request.headers.get("authorization", " ").split(" ")[0])
        elif path == TOKEN_PATH and request.method == "POST":
            self.token += 1
            self.token_signed += signed


def watch(arena: OidcArena) -> Proofs:
    """Count what `arena`'s requests carry, from now on; the gate's pages also get the
    bench's PyScript hook (the interpreter handle the proof's cost is measured through)."""
    proofs = Proofs()
    arena.context.on("request", proofs.on_request)
    if arena.contestant.gate:
        arena.context.add_init_script(PYSCRIPT_HOOK_JS)
    return proofs


# Run in the page's interpreter, in names of its own that it deletes again: `n` proofs for
# the API request, each timed alone (key from IndexedDB, sign, ath, JWT), then `m` API
# requests one after another through page_transport, with DPoP or without as the page is set.
_COST_PY = """
import asyncio, json, time
import js
from refresh_gate import page_transport
from refresh_gate._dpop_key import BrowserDPoPKey
from refresh_gate._dpop_proof import DPoPProofs, target_uri
from refresh_gate._page import random_bytes
from refresh_gate._wire import Request

async def _bench_dpop_cost(proofs, requests, dpop):
    out = {"proof": [], "request": [], "error": None}
    try:
        token = str(js.localStorage.getItem("token"))
        kind = str(js.localStorage.getItem("tokenType") or "Bearer")
        if dpop:
            signer = DPoPProofs(BrowserDPoPKey(), clock=time.time, random_bytes=random_bytes)
            target = target_uri("%(resource)s", str(js.location.origin))
            for _ in range(proofs):
                began = js.performance.now()
                await signer.proof("GET", target, access_token=token)
                out["proof"].append(js.performance.now() - began)
        transport = page_transport(dpop=dpop)
        for _ in range(requests):
            began = js.performance.now()
            sent = Request("GET", "%(resource)s", {"Authorization": kind + " " + token})
            answer = await transport(sent)
            out["request"].append(js.performance.now() - began)
            if answer.status != 200:
                raise RuntimeError("the API answered %%d" %% answer.status)
    except Exception as error:
        out["error"] = repr(error)
    js.window.__benchDpopCost = json.dumps(out)

_bench_dpop_task = asyncio.create_task(_bench_dpop_cost(%(proofs)d, %(requests)d, %(dpop)s))
"""
_RUN = """code => {
    window.__benchDpopCost = undefined;
    const python = window.__benchPython;
    if (python.loadPackage) {  // Pyodide: a namespace of its own
        python.runPython(code, { globals: python.globals.get("dict")() });
    } else {
        python.runPython(code);
    }
}"""
_CLEAN_MPY = "for _name in ('_bench_dpop_cost', '_bench_dpop_task', '_name'): globals().pop(_name)"


@dataclass
class Cost:
    """Milliseconds of each proof and of each request, one page."""

    proof: list[float]
    request: list[float]

    def median(self, what: str) -> float | None:
        """The median of `proof` or `request`, or None if none was measured."""
        values = getattr(self, what)
        return statistics.median(values) if values else None


def measure_cost(tab: Page, *, dpop: bool, proofs: int, requests: int) -> Cost:
    """In the gate's page `tab`: `proofs` proofs (if `dpop`), then `requests` requests."""
    code = _COST_PY % {"resource": RESOURCE, "proofs": proofs, "requests": requests, "dpop": dpop}
    tab.wait_for_function("() => window.__benchPython !== undefined")
    tab.evaluate(_RUN, code)
    tab.wait_for_function("() => window.__benchDpopCost !== undefined", timeout=120_000)
    got = json.loads(tab.evaluate("() => window.__benchDpopCost"))
    if not tab.evaluate("() => Boolean(window.__benchPython.loadPackage)"):
        tab.evaluate("code => window.__benchPython.runPython(code)", _CLEAN_MPY)
    if got["error"]:
        raise RuntimeError(f"measuring the proof's cost failed in the page: {got['error']}")
    return Cost(proof=got["proof"], request=got["request"])
