"""The OIDC part's table: medians and counts per contestant, targets for the gate's pages,
as a section of bench/results.md that a run of the part alone replaces in place."""

import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from bench.oidc.pages import CONTESTANTS, GATES
from bench.oidc.scenarios import OidcResults, Round

RATIO_NOISE = 0.03  # as bench/report.py: repetitions of one ratio differ by a few per cent
BEGIN, END = "<!-- oidc: begin -->", "<!-- oidc: end -->"
LABELS = {c.key: c.label for c in CONTESTANTS}
Row = tuple[str, str, dict[str, str], str]  # section, figure, cells, target


def to_json(results: OidcResults) -> dict:
    """Everything measured, for bench/out/results.json."""
    return asdict(results)


def from_json(raw: dict) -> OidcResults:
    """What `to_json` wrote."""
    rounds = lambda runs: [Round(**one) for one in runs]  # noqa: E731
    return OidcResults(
        races={k: {int(t): rounds(r) for t, r in got.items()} for k, got in raw["races"].items()},
        refused={k: rounds(r) for k, r in raw["refused"].items()},
        valid={k: rounds(r) for k, r in raw["valid"].items()},
        expiry={k: rounds(r) for k, r in raw["expiry"].items()},
        sign_in=raw["sign_in"],
        meta=raw.get("meta", {}),
    )


def _median(values: Sequence[float], fmt: str = "{:.0f}") -> str:
    if not values:
        return "-"
    low, high, middle = min(values), max(values), statistics.median(values)
    spread = "" if low == high else f" ({fmt.format(low)}-{fmt.format(high)})"
    return fmt.format(middle) + spread


def _lost(got: Sequence[Round]) -> int:
    """Rounds that cost the session or a request."""
    return sum(bool(one.signed_out or one.lost) for one in got)


def _spent(got: Sequence[Round]) -> str:
    return str(sum(one.refused > 0 for one in got))


def _judged(cells: dict[str, str], key: str, ok: bool) -> None:
    if key in cells:
        cells[key] += " PASS" if ok else " MISS"


def race_rows(results: OidcResults, tabs: int, gates: Sequence[str] = GATES) -> list[Row]:
    """The rows of the `tabs`-tab race, PASS or MISS for `gates`."""
    got = {key: races[tabs] for key, races in results.races.items() if tabs in races}
    if not got:
        return []
    count = max(len(runs) for runs in got.values())
    section = f"{tabs} tabs refresh at once, {count} rounds"

    def row(figure: str, value: Callable[[list[Round]], str], target: str = "") -> Row:
        return section, figure, {key: value(runs) for key, runs in got.items()}, target

    lost = row("rounds that lost the session or a request", lambda r: str(_lost(r)), "0")
    spent = row("rounds a spent refresh token was presented", _spent, "0")
    for key in gates:
        _judged(lost[2], key, key in got and _lost(got[key]) == 0)
        _judged(spent[2], key, key in got and _spent(got[key]) == "0")
    return [
        spent,
        row("grants revoked", lambda r: str(sum(o.revoked for o in r))),
        row("requests lost (no 200)", lambda r: str(sum(o.lost for o in r))),
        row("tabs signed out", lambda r: str(sum(o.signed_out for o in r))),
        row("refresh requests a round", lambda r: _median([o.refreshes for o in r])),
        lost,
    ]


def _ratio(spoilt: Sequence[Round], valid: Sequence[Round]) -> float | None:
    slow = [one.ms for one in spoilt if one.ms is not None and one.kept]
    quick = [one.ms for one in valid if one.ms is not None]
    return statistics.median(slow) / statistics.median(quick) if slow and quick else None


def _refused_rows(results: OidcResults) -> list[Row]:
    if not results.refused:
        return []
    section = "access token refused ('sdf'), 3 requests, one tab"
    got = results.refused
    ratios = {key: _ratio(got[key], results.valid.get(key, [])) for key in got}
    peers = [r for key, r in ratios.items() if key not in GATES and r is not None]
    kept_peers = [r for key, r in ratios.items() if key not in GATES and r and _lost(got[key]) == 0]
    bar = min(kept_peers or peers) if (kept_peers or peers) else None
    ratio_cells = {k: "-" if r is None else f"{r:.2f}" for k, r in ratios.items()}
    lost_cells = {key: str(_lost(runs)) for key, runs in got.items()}
    for key in GATES:
        _judged(lost_cells, key, key in got and _lost(got[key]) == 0)
        if bar is not None and ratios.get(key) is not None:
            _judged(ratio_cells, key, ratios[key] <= bar * (1 + RATIO_NOISE))
    bar_text = "-" if bar is None else f"{bar:.2f}"
    return [
        (section, "401s", {k: _median([o.unauthorized for o in r]) for k, r in got.items()}, ""),
        (
            section,
            "refresh requests",
            {k: _median([o.refreshes for o in r]) for k, r in got.items()},
            "",
        ),
        (
            section,
            "recovery, ms",
            {k: _median([o.ms for o in r if o.ms]) for k, r in got.items()},
            "",
        ),
        (
            section,
            "valid-token click, ms",
            {k: _median([o.ms for o in r if o.ms]) for k, r in results.valid.items()},
            "",
        ),
        (section, "recovery ÷ valid token", ratio_cells, f"≤ best peer + 3 % ({bar_text})"),
        (section, "runs that lost the session or a request", lost_cells, "0"),
    ]


def _expiry_rows(results: OidcResults) -> list[Row]:
    if not results.expiry:
        return []
    section = "access token past its lifetime, 3 requests, one tab"
    got = results.expiry
    lost_cells = {key: str(_lost(runs)) for key, runs in got.items()}
    for key in GATES:
        _judged(lost_cells, key, key in got and _lost(got[key]) == 0)
    unauthorized = {k: _median([o.unauthorized for o in r]) for k, r in got.items()}
    return [
        (section, "401s", unauthorized, "0 (refreshed before sending)"),
        (
            section,
            "refresh requests",
            {k: _median([o.refreshes for o in r]) for k, r in got.items()},
            "",
        ),
        (section, "ms", {k: _median([o.ms for o in r if o.ms]) for k, r in got.items()}, ""),
        (section, "runs that lost the session or a request", lost_cells, "0"),
    ]


def rows(results: OidcResults) -> list[Row]:
    """Every row of the part's table."""
    sign_in = (
        "sign in (new browser), click to home",
        "ms",
        {k: _median(v) for k, v in results.sign_in.items()},
        "",
    )
    return [
        *race_rows(results, 2),
        *race_rows(results, 5),
        *_refused_rows(results),
        *_expiry_rows(results),
        *([sign_in] if results.sign_in else []),
    ]


def misses(table: Sequence[Row]) -> list[str]:
    """The figures where a gate's page misses its target."""
    return [
        f"{section}: {figure} ({LABELS[key]})"
        for section, figure, cells, _ in table
        for key in GATES
        if "MISS" in cells.get(key, "")
    ]


def table_lines(table: Sequence[Row], keys: Sequence[str], labels: dict[str, str]) -> list[str]:
    """`table` as the lines of a Markdown table, a column for each of `keys`; a section's
    name only on its first row."""
    header = ["scenario", "figure", *(labels[key] for key in keys), "targets (the gate)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    previous = None
    for section, figure, cells, target in table:
        shown = section if section != previous else ""
        previous = section
        lines.append(
            "| " + " | ".join([shown, figure, *(cells.get(k, "") for k in keys), target]) + " |"
        )
    return lines


def markdown(results: OidcResults) -> str:
    """The section of results.md, between its markers."""
    table = rows(results)
    keys = [c.key for c in CONTESTANTS if any(c.key in cells for _, _, cells, _ in table)]
    lines = table_lines(table, keys, LABELS)
    meta = "\n".join(f"- {key}: {value}" for key, value in results.meta.items())
    missed = "\n".join(f"- {miss}" for miss in misses(table)) or "- none"
    return f"""{BEGIN}
## Signing in with an OpenID Connect provider (part `oidc`)

{meta}

Counts are sums over the rounds; times are medians (range in brackets). A tab is signed
out when the refresh token it holds belongs to no live grant at the provider (or the page
went to its login page): it must sign in again, whatever the client believes.

{chr(10).join(lines)}

Where the gate's pages miss a target:

{missed}
{END}
"""


def splice(path: Path, section: str, begin: str = BEGIN, end: str = END) -> None:
    """Put `section` into results.md in place of the one between `begin` and `end` there
    (part oidc's markers unless given), or at its end."""
    text = path.read_text() if path.exists() else "# `make bench` results\n"
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + section + ("\n" + after if after else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
