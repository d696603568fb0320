"""Medians, targets, the one table (markdown) and the chart of the same figures."""

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.contest import CONTESTANTS, SCENARIOS, Run, Scenario
from bench.startup import ROUNDS, Memory, Startup

MB = 1024 * 1024
# Repetitions of one ratio differ by a few per cent on an idle machine: a page within this
# much of the best contestant's recovery ratio is not worse than it.
RATIO_NOISE = 0.03
# The JS heap after a forced collection moves by a few kB between two identical rounds.
HEAP_NOISE = 64 * 1024
COST_MODES = (
    ("fire_plain", "runtime's plain fetch"),
    ("fire_gate", "the refresh gate"),
    ("fire_app", "the page's own code"),
)
# The columns of the table: the contestants, with the bare PyScript page beside this page.
COLUMNS = ("page", "bare", *(contestant.key for contestant in CONTESTANTS[1:]))
HEADINGS = {
    "page": "this page",
    "bare": "bare PyScript",
    **{contestant.key: contestant.label for contestant in CONTESTANTS[1:]},
}


@dataclass
class Results:
    """Everything one `make bench` measured."""

    meta: dict[str, str]
    runs: dict[tuple[str, str], list[Run]] = field(default_factory=dict)
    baselines: dict[tuple[str, tuple], list[Run]] = field(default_factory=dict)
    startup: dict[str, list[Startup]] = field(default_factory=dict)
    cost: dict[str, list[float]] = field(default_factory=dict)

    def scenario_runs(self, contestant: str, scenario: Scenario) -> list[Run]:
        """The spoilt-token runs of one contestant in one scenario."""
        return self.runs.get((contestant, scenario.key), [])

    def baseline_runs(self, contestant: str, scenario: Scenario) -> list[Run]:
        """The valid-token runs doing what `scenario` does."""
        return self.baselines.get((contestant, scenario.action), [])

    def recovery(self, contestant: str, scenario: Scenario) -> float | None:
        """Median time with the spoilt token over median time with a valid one."""
        spoilt = [run.ms for run in self.scenario_runs(contestant, scenario) if run.ms is not None]
        valid = [run.ms for run in self.baseline_runs(contestant, scenario) if run.ms is not None]
        if not spoilt or not valid:
            return None
        return statistics.median(spoilt) / statistics.median(valid)

    def save(self, path: Path) -> None:
        """Every measurement as JSON, to draw the report again without measuring."""
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = {
            "meta": self.meta,
            "runs": [[*key, [asdict(run) for run in runs]] for key, runs in self.runs.items()],
            "baselines": [
                [key, list(action), [asdict(run) for run in runs]]
                for (key, action), runs in self.baselines.items()
            ],
            "startup": {key: [asdict(got) for got in runs] for key, runs in self.startup.items()},
            "cost": self.cost,
        }
        path.write_text(json.dumps(raw, indent=1))

    @classmethod
    def load(cls, path: Path) -> "Results":
        """What `save` wrote."""
        raw = json.loads(path.read_text())
        return cls(
            meta=raw["meta"],
            runs={(c, s): [Run(**run) for run in runs] for c, s, runs in raw["runs"]},
            baselines={
                (c, tuple(action)): [Run(**run) for run in runs]
                for c, action, runs in raw["baselines"]
            },
            startup={
                k: [Startup.from_dict(got) for got in runs] for k, runs in raw["startup"].items()
            },
            cost=raw["cost"],
        )


@dataclass
class Row:
    """One line of the table: a figure for each column, and the target for this page."""

    section: str
    figure: str
    cells: dict[str, str]
    target: str = ""


def _spread(values: Sequence[float], fmt: str = "{:g}") -> str:
    """The median, and the range when the repetitions disagree."""
    if not values:
        return "-"
    middle = fmt.format(statistics.median(values))
    low, high = min(values), max(values)
    return middle if low == high else f"{middle} ({fmt.format(low)}-{fmt.format(high)})"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _scenario_rows(results: Results, scenario: Scenario) -> list[Row]:
    runs = {c.key: results.scenario_runs(c.key, scenario) for c in CONTESTANTS}
    ours = runs["page"]

    def figure(name: str, value: Callable[[Run], float], target: str, ok=None) -> Row:
        cells = {key: _spread([value(run) for run in got]) for key, got in runs.items()}
        if ok is not None and ours:
            cells["page"] += f" {_verdict(all(ok(run) for run in ours))}"
        return Row(scenario.label, name, cells, target)

    rows = [
        figure("refresh calls", lambda r: r.refreshes, "1", lambda r: r.refreshes == 1),
        figure(
            "401s",
            lambda r: r.unauthorized,
            "0" if scenario.spoil == "expired" else "",
            (lambda r: r.unauthorized == 0) if scenario.spoil == "expired" else None,
        ),
        figure("requests issued", lambda r: r.issued, ""),
        figure("lost requests", lambda r: r.lost, "0", lambda r: r.lost == 0),
    ]
    logged_out = {}
    for key, got in runs.items():
        times = sum(run.logged_out for run in got)
        logged_out[key] = "-" if not got else f"yes ({times} of {len(got)})" if times else "no"
    if ours:
        logged_out["page"] += f" {_verdict(not any(run.logged_out for run in ours))}"
    rows.append(Row(scenario.label, "logged out", logged_out, "no"))
    rows.append(_recovery_row(results, scenario))
    return rows


def _recovery_row(results: Results, scenario: Scenario) -> Row:
    ratios = {c.key: results.recovery(c.key, scenario) for c in CONTESTANTS}
    cells = {}
    for contestant in CONTESTANTS:
        ratio = ratios[contestant.key]
        valid = [r.ms for r in results.baseline_runs(contestant.key, scenario) if r.ms is not None]
        base = f" of {statistics.median(valid):.0f} ms" if valid else ""
        runs = results.scenario_runs(contestant.key, scenario)
        if ratio is not None:
            cells[contestant.key] = f"{ratio:.2f}x{base}"
        elif runs:
            cells[contestant.key] = "logged out" if any(r.logged_out for r in runs) else "stuck"
        else:
            cells[contestant.key] = "-"
    # The best contestant on the same wire that got it right (one refresh, every answer,
    # the session kept); the best of any on the same wire, if none did.
    others = [c.key for c in CONTESTANTS[1:] if ratios[c.key] is not None and not c.other_wire]
    sound = [
        key
        for key in others
        if all(
            run.refreshes == 1 and run.lost == 0 and not run.logged_out
            for run in results.scenario_runs(key, scenario)
        )
    ]
    best = min(sound or others, key=lambda key: ratios[key], default=None)
    if best is None:
        target = "no other contestant on the same wire kept the session"
        ok = ratios["page"] is not None
    else:
        limit = ratios[best] * (1 + RATIO_NOISE)
        target = f"≤ {limit:.2f}x ({HEADINGS[best]} {ratios[best]:.2f}x + {RATIO_NOISE:.0%})"
        ok = ratios["page"] is not None and ratios["page"] <= limit
    if results.scenario_runs("page", scenario):
        cells["page"] += f" {_verdict(ok)}"
    return Row(scenario.label, "recovery time ÷ valid token", cells, target)


def _startup_rows(results: Results) -> list[Row]:
    section = "start-up and memory"
    got = results.startup

    def figure(name: str, value: Callable[[Startup], float | None], fmt: str) -> Row:
        cells = {}
        for key in COLUMNS:
            values = [v for run in got.get(key, []) if (v := value(run)) is not None]
            cells[key] = _spread(values, fmt) if values else "-"
        return Row(section, name, cells)

    def median(key: str, value: Callable[[Startup], float | None]) -> float | None:
        values = [v for run in got.get(key, []) if (v := value(run)) is not None]
        return statistics.median(values) if values else None

    cold = figure("ready, cold (ms)", lambda s: s.cold_ms, "{:.0f}")
    warm = figure("ready, warm reload (ms)", lambda s: s.warm_ms, "{:.0f}")
    memory = figure("memory after the demo (MB)", lambda s: s.memory / MB, "{:.1f}")
    page_cold, page_warm = median("page", lambda s: s.cold_ms), median("page", lambda s: s.warm_ms)
    bare_cold = median("bare", lambda s: s.cold_ms)
    page_memory = median("page", lambda s: s.memory)
    bare_memory = median("bare", lambda s: s.memory)
    if page_cold and bare_cold:
        cold.cells["page"] += f" {_verdict(page_cold <= 1.1 * bare_cold)}"
        cold.target = f"≤ 1.1 x bare = {1.1 * bare_cold:.0f}"
    if page_cold and page_warm:
        warm.cells["page"] += f" {_verdict(page_warm <= 0.7 * page_cold)}"
        warm.target = f"≤ 0.7 x cold = {0.7 * page_cold:.0f}"
    if page_memory and bare_memory:
        memory.cells["page"] += f" {_verdict(page_memory <= 1.1 * bare_memory)}"
        memory.target = f"≤ 1.1 x bare = {1.1 * bare_memory / MB:.1f}"
    # The bare page runs no demo: its memory is the runtime's own, the yardstick for both.
    after_300 = figure(
        "memory after 300 requests at once (MB)",
        lambda s: (s.after_300.total if s.after_300 else s.memory) / MB,
        "{:.1f}",
    )
    page_300 = median("page", lambda s: s.after_300.total if s.after_300 else None)
    if page_300 and bare_memory:
        after_300.cells["page"] += f" {_verdict(page_300 <= 1.1 * bare_memory)}"
        after_300.target = f"≤ 1.1 x bare = {1.1 * bare_memory / MB:.1f}"
    return [
        cold,
        figure("... PyScript's py:ready, cold (ms)", lambda s: s.python_ready_ms, "{:.0f}"),
        warm,
        figure(
            "... start-up snapshot stored, after cold ready (ms)", lambda s: s.snapshot_ms, "{:.0f}"
        ),
        figure("downloaded, cold (kB)", lambda s: s.cold_bytes / 1000, "{:.0f}"),
        figure("downloaded, warm (kB)", lambda s: s.warm_bytes / 1000, "{:.0f}"),
        memory,
        figure("... JS heap (MB)", lambda s: s.js_heap / MB, "{:.1f}"),
        figure("... WebAssembly memory (MB)", lambda s: (s.wasm or 0) / MB, "{:.1f}"),
        after_300,
        *_growth_rows(figure, median),
    ]


def _growth(value: Callable[[Memory], int | None]) -> Callable[[Startup], float | None]:
    """From the first of the demo rounds after the 300 requests to the last."""

    def grown(got: Startup) -> float | None:
        if len(got.rounds) < 2:
            return None
        first, last = value(got.rounds[0]), value(got.rounds[-1])
        return None if first is None or last is None else last - first

    return grown


def _growth_rows(figure: Callable[..., Row], median: Callable[..., float | None]) -> list[Row]:
    """Memory kept over the further demo rounds: nothing a request leaves behind may stay."""
    requests = 3 * (ROUNDS - 1)  # made between the first round's measurement and the last
    heap = figure(
        f"growth over {ROUNDS} more demo rounds: JS heap (kB)",
        lambda s: _kb(_growth(lambda m: m.js_heap)(s)),
        "{:+.0f}",
    )
    wasm = figure(
        "... WebAssembly memory (kB)", lambda s: _kb(_growth(lambda m: m.wasm)(s)), "{:+.0f}"
    )
    objects = figure("... objects Python keeps", _growth(lambda m: m.python_objects), "{:+.0f}")
    grown = median("page", _growth(lambda m: m.python_objects))
    if grown is not None:
        objects.cells["page"] += f" {_verdict(grown < requests)}"
        objects.target = f"< {requests}: under one object a request"
    heap_grown = median("page", _growth(lambda m: m.js_heap))
    if heap_grown is not None:
        heap.cells["page"] += f" {_verdict(heap_grown < HEAP_NOISE)}"
        heap.target = f"< {HEAP_NOISE // 1024} kB"
    return [heap, wasm, objects]


def _kb(value: float | None) -> float | None:
    return None if value is None else value / 1024


def _cost_rows(results: Results) -> list[Row]:
    section = "300 requests at once, valid token"
    plain = results.cost.get("fire_plain", [])
    rows = []
    for mode, label in COST_MODES:
        times = results.cost.get(mode, [])
        cell = _spread(times, "{:.0f}")
        target = ""
        if mode != "fire_plain" and times and plain:
            ratio = statistics.median(times) / statistics.median(plain)
            cell += f" = {ratio:.2f}x plain"
            if mode == "fire_gate":
                cell += f" {_verdict(ratio <= 1.05)}"
                target = "≤ 1.05 x plain"
        rows.append(Row(section, f"through {label} (ms)", {"page": cell}, target))
    return rows


def table_rows(results: Results) -> list[Row]:
    """Every row of the one table, scenario by scenario, then start-up, then cost.

    Only what was measured: `--only` may have left parts out.
    """
    measured = [
        scenario
        for scenario in SCENARIOS
        if any(results.scenario_runs(c.key, scenario) for c in CONTESTANTS)
    ]
    rows = [row for scenario in measured for row in _scenario_rows(results, scenario)]
    if results.startup:
        rows += _startup_rows(results)
    if results.cost:
        rows += _cost_rows(results)
    return rows


def markdown_table(rows: Sequence[Row]) -> str:
    """The table as GitHub markdown; the section is written once, on its first row."""
    header = ["scenario", "figure", *(HEADINGS[key] for key in COLUMNS), "target (this page)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    previous = None
    for row in rows:
        section = row.section if row.section != previous else ""
        previous = row.section
        cells = [row.cells.get(key, "") for key in COLUMNS]
        lines.append("| " + " | ".join([section, row.figure, *cells, row.target]) + " |")
    return "\n".join(lines)


def misses(rows: Sequence[Row]) -> list[str]:
    """The figures where this page misses its target."""
    return [f"{row.section}: {row.figure}" for row in rows if "MISS" in row.cells.get("page", "")]


def write_markdown(results: Results, rows: Sequence[Row], path: Path, chart: Path) -> str:
    """results.md: what ran where, the table, the misses; returns the text."""
    meta = "\n".join(f"- {key}: {value}" for key, value in results.meta.items())
    missed = misses(rows)
    missed_text = "\n".join(f"- {miss}" for miss in missed) or "- none"
    text = f"""# `make bench` results

{meta}

Figures are medians over the repetitions, with the range in brackets when they differ.
Every scenario runs once more with a valid token, the same clicks: the baseline the
recovery time is divided by. "Requests issued" counts what the page set out to send: a
click on a disabled button sends nothing. "Lost" is issued requests that never got a 200.
Memory is the JS heap (Chromium's Runtime.getHeapUsage after a forced GC) plus, for the
PyScript pages, the runtime's WebAssembly memory (`HEAP8.length` of the interpreter that
PyScript's `hooks.main.onReady` hands over).

{markdown_table(rows)}

Where this page misses a target:

{missed_text}

![The same figures as a chart]({chart.name})
"""
    path.write_text(text)
    return text


def draw_chart(results: Results, path: Path) -> None:
    """The same figures as bar charts, one panel a figure, written as a PNG."""
    import matplotlib  # only `make bench` needs it: import it here

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 4, figsize=(22, 10))
    keys = [scenario.key for scenario in SCENARIOS]
    width = 0.8 / len(CONTESTANTS)
    panels = (
        ("refresh calls (target 1)", lambda runs: statistics.median(r.refreshes for r in runs)),
        ("401 answers", lambda runs: statistics.median(r.unauthorized for r in runs)),
        ("lost requests (target 0)", lambda runs: statistics.median(r.lost for r in runs)),
    )
    for axis, (title, value) in zip(axes[0][:3], panels, strict=True):
        for index, contestant in enumerate(CONTESTANTS):
            heights = []
            for scenario in SCENARIOS:
                runs = results.scenario_runs(contestant.key, scenario)
                heights.append(value(runs) if runs else 0)
            offsets = [i + index * width for i in range(len(keys))]
            axis.bar(offsets, heights, width, label=contestant.label)
        axis.set_title(title)
        axis.set_xticks([i + 0.4 - width / 2 for i in range(len(keys))], keys, rotation=30)
    axis = axes[0][3]
    for index, contestant in enumerate(CONTESTANTS):
        for position, scenario in enumerate(SCENARIOS):
            ratio = results.recovery(contestant.key, scenario)
            x = position + index * width
            if ratio is not None:
                axis.bar(x, ratio, width, color=f"C{index}")
            elif results.scenario_runs(contestant.key, scenario):
                axis.plot(x, 0.2, "kx")
    axis.set_title("recovery time ÷ valid token (x: logged out)")
    axis.set_xticks([i + 0.4 - width / 2 for i in range(len(keys))], keys, rotation=30)
    axes[0][0].legend(fontsize=8)
    _startup_panels(results, axes[1])
    figure.suptitle(results.meta.get("run", "make bench"))
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def _warm_mb(got: Startup) -> float:
    return got.warm_bytes / MB


def _wasm_mb(got: Startup) -> float:
    return (got.wasm or 0) / MB


def _startup_panels(results: Results, axes) -> None:
    pages = [key for key in COLUMNS if results.startup.get(key)]

    def medians(value: Callable[[Startup], float]) -> list[float]:
        return [statistics.median(value(s) for s in results.startup[key]) for key in pages]

    panels = (
        ("ready (ms)", ("cold", "warm"), lambda s: s.cold_ms, lambda s: s.warm_ms),
        ("downloaded (MB)", ("cold", "warm"), lambda s: s.cold_bytes / MB, _warm_mb),
        ("memory after the demo (MB)", ("JS heap", "wasm"), lambda s: s.js_heap / MB, _wasm_mb),
    )
    labels = [HEADINGS[key] for key in pages]
    for axis, (title, names, first, second) in zip(axes[:3], panels, strict=True):
        positions = range(len(pages))
        axis.bar([p - 0.2 for p in positions], medians(first), 0.4, label=names[0])
        axis.bar([p + 0.2 for p in positions], medians(second), 0.4, label=names[1])
        axis.set_xticks(list(positions), labels, rotation=20, fontsize=8)
        axis.set_title(title)
        axis.legend(fontsize=8)
    axis = axes[3]
    modes = [(mode, label) for mode, label in COST_MODES if results.cost.get(mode)]
    axis.bar(
        [label for _, label in modes],
        [statistics.median(results.cost[mode]) for mode, _ in modes],
        color=["C7", "C0", "C1"][: len(modes)],
    )
    axis.set_title("300 requests at once, valid token (ms)")
    axis.tick_params(axis="x", labelsize=8)
