"""The DPoP part's tables, as a section of bench/results.md that a run of the part alone
replaces in place: the proof's cost in the gate's pages, the refused token with DPoP on and
off, the two-tab race; PASS or MISS for the gate."""

import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict

from bench.dpop.pages import CONTESTANTS, GATES
from bench.dpop.part import OFF, DpopResults
from bench.oidc.scenarios import OidcResults, Round
from bench.oidc.tables import _judged, _lost, _median, _ratio, race_rows, table_lines

BEGIN, END = "<!-- dpop: begin -->", "<!-- dpop: end -->"
TARGET = 1.10  # the proof adds at most 10 % to the demo's recovery
LABELS = {c.key: c.label + ", DPoP" for c in CONTESTANTS} | {
    key + OFF: dict((c.key, c.label) for c in CONTESTANTS)[key] + ", no DPoP" for key in GATES
}
ORDER = [key for c in CONTESTANTS for key in ((c.key, c.key + OFF) if c.gate else (c.key,))]
Row = tuple[str, str, dict[str, str], str]


def to_json(results: DpopResults) -> dict:
    """Everything measured, for bench/out/results.json."""
    return asdict(results)


def from_json(raw: dict) -> DpopResults:
    """What `to_json` wrote."""
    rounds = lambda runs: [Round(**one) for one in runs]  # noqa: E731
    return DpopResults(
        races={k: rounds(r) for k, r in raw["races"].items()},
        refused={k: rounds(r) for k, r in raw["refused"].items()},
        valid={k: rounds(r) for k, r in raw["valid"].items()},
        race_nonce_retries=raw.get("race_nonce_retries", {}),
        nonce_retries=raw["nonce_retries"],
        proofs=raw["proofs"],
        cost=raw["cost"],
        meta=raw.get("meta", {}),
    )


def _ms(values: Sequence[float]) -> str:
    return f"{_median(values, '{:.1f}')} [{len(values)}]" if values else "-"


def _cost_rows(results: DpopResults) -> list[Row]:
    section = "the proof's cost, in the page (library's own path)"
    cost, rows = results.cost, []
    per = lambda what: {k: _ms(v[what]) for k, v in cost.items() if v[what]}  # noqa: E731
    rows.append((section, "one proof (key, sign, SHA-256 ath, JWT), ms", per("proof"), ""))
    rows.append((section, "one API request, one after another, ms", per("request"), ""))
    shares: dict[str, str] = {}
    for key in GATES:
        on, off = cost.get(key), cost.get(key + OFF)
        if on and off and on["proof"] and off["request"]:
            proof, plain = statistics.median(on["proof"]), statistics.median(off["request"])
            signed = statistics.median(on["request"])
            shares[key] = f"{proof / plain:.3f} (with DPoP {signed / plain:.2f})"
    rows.append((section, "proof ÷ request without DPoP (request with ÷ without)", shares, ""))
    return rows


def _refused_rows(results: DpopResults) -> list[Row]:
    section = "access token refused ('sdf'), 3 requests, one tab"
    got, valid = results.refused, results.valid
    ratios = {key: _ratio(got[key], valid.get(key, [])) for key in got}

    def row(figure: str, value: Callable[[str], str], target: str = "") -> Row:
        return section, figure, {key: value(key) for key in got}, target

    retries = results.nonce_retries
    refreshes = {
        key: _median([o.refreshes - n for o, n in zip(runs, retries[key], strict=True)])
        for key, runs in got.items()
    }
    for key in GATES:
        if key in refreshes:
            _judged(
                refreshes,
                key,
                all(o.refreshes - n == 1 for o, n in zip(got[key], retries[key], strict=True)),
            )
    lost = {key: str(_lost(runs)) for key, runs in got.items()}
    for key in (*GATES, *(g + OFF for g in GATES)):
        _judged(lost, key, key in got and _lost(got[key]) == 0)
    slower: dict[str, str] = {}
    for key in GATES:
        on, off = ratios.get(key), ratios.get(key + OFF)
        recovery = [
            statistics.median([o.ms for o in got[k] if o.ms]) for k in (key, key + OFF) if k in got
        ]
        if on is not None and off is not None and len(recovery) == 2:
            slower[key] = f"{recovery[0] / recovery[1]:.3f} (÷ valid: {on / off:.3f})"
            _judged(slower, key, recovery[0] / recovery[1] <= TARGET)
    signed = {
        key: f"{p['api_signed']}/{p['api']}, {p['token_signed']}/{p['token']}"
        for key, p in results.proofs.items()
        if key in got
    }
    return [
        row("401s", lambda k: _median([o.unauthorized for o in got[k]])),
        row(
            "token requests (answered 400: use_dpop_nonce)",
            lambda k: f"{_median([o.refreshes for o in got[k]])} ({sum(retries[k])})",
        ),
        (section, "refresh requests", refreshes, "1"),
        row("requests lost (no 200)", lambda k: str(sum(o.lost for o in got[k]))),
        row("tabs signed out", lambda k: str(sum(o.signed_out for o in got[k]))),
        (section, "runs that lost the session or a request", lost, "0"),
        row("recovery, ms", lambda k: _median([o.ms for o in got[k] if o.ms])),
        row("valid-token click, ms", lambda k: _median([o.ms for o in valid[k] if o.ms])),
        row("recovery ÷ valid token", lambda k: "-" if ratios[k] is None else f"{ratios[k]:.2f}"),
        (section, "recovery, DPoP on ÷ off", slower, f"≤ {TARGET:.2f}"),
        (section, "API requests with a proof, token requests with one (whole part)", signed, ""),
    ]


def _race_rows(results: DpopResults) -> list[Row]:
    got = results.races
    if not got:
        return []
    section = f"2 tabs refresh at once, {max(len(r) for r in got.values())} rounds"
    as_oidc = OidcResults(races={key: {2: runs} for key, runs in got.items()})
    refreshes = {
        key: str(sum(o.refreshes for o in runs) - results.race_nonce_retries.get(key, 0))
        for key, runs in got.items()
    }
    for key in GATES:
        _judged(refreshes, key, key in got and refreshes[key] == str(len(got[key])))
    retries = {key: str(n) for key, n in results.race_nonce_retries.items()}
    return [
        (
            section,
            "token requests not answered 400, all rounds",
            refreshes,
            "1 a round",
        ),
        (
            section,
            "token requests answered 400 (use_dpop_nonce or a spent token), all rounds",
            retries,
            "",
        ),
        *((section, *rest) for _, *rest in race_rows(as_oidc, 2, GATES)),
    ]


def rows(results: DpopResults) -> list[Row]:
    """Every row of the part's table."""
    return [*_cost_rows(results), *_refused_rows(results), *_race_rows(results)]


def misses(table: Sequence[Row]) -> list[str]:
    """The figures where a gate's page misses its target."""
    return [
        f"{section}: {figure} ({LABELS[key]})"
        for section, figure, cells, _ in table
        for key in ORDER
        if "MISS" in cells.get(key, "")
    ]


def markdown(results: DpopResults, notes: str = "") -> str:
    """The section of results.md, between its markers."""
    table = rows(results)
    keys = [key for key in ORDER if any(key in cells for _, _, cells, _ in table)]
    lines = table_lines(table, keys, LABELS)
    meta = "\n".join(f"- {key}: {value}" for key, value in results.meta.items())
    missed = "\n".join(f"- {miss}" for miss in misses(table)) or "- none"
    return f"""{BEGIN}
## DPoP (part `dpop`)

{meta}

Times are medians (range in brackets, [count]); counts are sums over the runs. A proof's
time is one `DPoPProofs.proof()` call in the page (the key read from IndexedDB when it
changed, WebCrypto's ES256 signature, SHA-256 of the access token, the JWT), one at a time;
a request's is one `page_transport` call to the API through the delay line, one at a time.
{notes}
{chr(10).join(lines)}

Where the gate's pages miss a target:

{missed}
{END}
"""
