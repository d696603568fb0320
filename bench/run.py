"""`make bench`: this page side by side with the JavaScript clients people use today.

One run starts the server (with --bench, so it also serves bench/contestants/), a second
server on the same database whose access tokens live 2 s (to mint expired tokens), and two
delay lines of bench/proxy.py in front of the first: one with no rate limit, one a slow
link (10 Mbit/s); Chromium talks to the delay lines only. It prints the tables and writes
them, with the machine and versions, to bench/results.md, and the same figures as a chart
to bench/results.png.

    python -m bench.run [--quick] [--reps N] [--delay-ms MS] [--only NAMES]
"""

import argparse
import base64
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Playwright, sync_playwright

from bench import proxy, startup
from bench.contest import (
    CONTESTANTS,
    SCENARIOS,
    Arena,
    Contestant,
    Run,
    Scenario,
    Spoil,
    TokenPair,
)
from bench.dpop import part as dpop
from bench.dpop import tables as dpop_tables
from bench.oidc import part as oidc
from bench.oidc import tables as oidc_tables
from bench.oidc.tables import splice
from bench.report import COST_WAYS, Results, draw_chart, markdown_table, misses, table_rows
from bench.report import write_markdown as write_results
from tests.e2e.conftest import CHROMIUM_ARGS  # the end-to-end tests' Chromium, flag for flag
from tests.server.support import (
    REPO_ROOT,
    SEED_PASSWORD,
    SEED_USER,
    ServerProcess,
    free_port,
    launch_server,
)

BENCH = REPO_ROOT / "bench"
SHORT_TTL = 2
SERVER_LEEWAY = 5  # seconds past `exp` the server still accepts a token (server_stub/tokens.py)
FIRE = 300
PARTS = ("scenarios", "cost", "startup", "slow", "breakdown", "oidc", "dpop")
SLOW_RATE_MBIT = 10.0


class Stack:
    """The two servers and the two delay lines, for the length of a `with` block."""

    def __init__(self, base: Path, delay_ms: float) -> None:
        self.base = base
        self.delay_ms = delay_ms
        self.servers: list[ServerProcess] = []
        self.proxies: list[subprocess.Popen[bytes]] = []
        self.origin = ""  # the delay line with no rate limit
        self.slow_origin = ""  # the slow link: the same delay, SLOW_RATE_MBIT each way

    def __enter__(self) -> "Stack":
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        db = self.base / "auth.db"
        self.servers.append(launch_server(db, self.base / "server.log", "--bench"))
        # Same database and signing secret: its tokens are good on the main server too.
        self.servers.append(
            launch_server(db, self.base / "short.log", "--access-ttl", str(SHORT_TTL))
        )
        self.origin = self._delay_line("proxy.log")
        self.slow_origin = self._delay_line("slow-proxy.log", "--rate-mbit", str(SLOW_RATE_MBIT))

    def _delay_line(self, log: str, *options: str) -> str:
        port = free_port()
        upstream = self.servers[0].port
        self.proxies.append(proxy.launch(port, upstream, self.delay_ms, self.base / log, *options))
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_: object) -> None:
        for line in self.proxies:
            line.terminate()
            line.wait(timeout=10)
        for server in self.servers:
            server.stop()

    def log_in(self, *, short_lived: bool = False) -> TokenPair:
        """A new session, straight from the server (not through the delay line)."""
        server = self.servers[1 if short_lived else 0]
        answer = httpx.post(
            server.url + "/authorization/token",
            json={"userName": SEED_USER, "password": SEED_PASSWORD},
            timeout=10,
        )
        answer.raise_for_status()
        body = answer.json()
        return TokenPair(body["authorizationToken"], body["refreshToken"])


def _expires_at(token: str) -> float:
    payload = token.split(".")[1]
    return float(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"])


class ExpiredTokens:
    """Pairs minted on the short-lived server at start, handed out once the server refuses them."""

    def __init__(self, stack: Stack, count: int) -> None:
        self._pairs = [stack.log_in(short_lived=True) for _ in range(count)]

    def take(self) -> TokenPair:
        """An access token past its exp and the server's leeway, with its live refresh token."""
        pair = self._pairs.pop()
        wait = _expires_at(pair.access) + SERVER_LEEWAY + 1 - time.time()
        if wait > 0:
            time.sleep(wait)
        return pair


def _describe(run: Run) -> str:
    took = "logged out" if run.ms is None else f"{run.ms:.0f} ms"
    return (
        f"{took}, {run.refreshes} refresh, {run.unauthorized}x401, {run.ok}/{run.issued} answered"
    )


@dataclass(frozen=True)
class Selection:
    """What to run: by default everything; `--only` narrows it for a quicker look."""

    contestants: tuple[Contestant, ...] = CONTESTANTS
    scenarios: tuple[Scenario, ...] = SCENARIOS
    parts: tuple[str, ...] = PARTS
    pages: tuple[startup.StartupPage, ...] = startup.PAGES  # start-up, slow link

    @classmethod
    def of(cls, names: Sequence[str]) -> "Selection":
        """Keep the named contestants (or start-up pages), scenarios and parts; a kind not
        named is kept whole."""
        keys = {c.key for c in CONTESTANTS} | {page.key for page in startup.PAGES}
        known = keys | {s.key for s in SCENARIOS} | set(PARTS) | set(oidc.KEYS)
        if unknown := set(names) - known:
            raise SystemExit(f"--only: unknown {', '.join(sorted(unknown))}; known: {known}")
        named = keys & set(names)
        contestants = tuple(c for c in CONTESTANTS if c.key in names or not named)
        pages = tuple(page for page in startup.PAGES if page.key in names or not named)
        scenarios = tuple(s for s in SCENARIOS if s.key in names)
        parts = tuple(part for part in PARTS if part in names)
        return cls(contestants, scenarios or SCENARIOS, parts or PARTS, pages)


def run_scenarios(
    browser: Browser, stack: Stack, results: Results, selection: Selection, reps: tuple[int, int]
) -> None:
    """Each scenario for each contestant, with its valid-token baseline, repeated."""
    light_reps, heavy_reps = reps
    arenas = {c.key: Arena(browser, stack.origin, c) for c in selection.contestants}
    expired = ExpiredTokens(stack, light_reps * len(arenas))
    try:
        for rep in range(light_reps):
            for contestant in selection.contestants:
                if contestant.other_wire and rep >= heavy_reps:
                    continue
                arena = arenas[contestant.key]
                arena.warm_up(stack.log_in())
                done: set[tuple] = set()
                for scenario in selection.scenarios:
                    if scenario.fire and (rep >= heavy_reps or contestant.other_wire):
                        continue
                    if scenario.action not in done:
                        done.add(scenario.action)
                        run = _one(arena, scenario, "valid", stack, None, rep)
                        results.baselines.setdefault((contestant.key, scenario.action), [])
                        results.baselines[(contestant.key, scenario.action)].append(run)
                    spoilt = expired.take() if scenario.spoil == "expired" else None
                    run = _one(arena, scenario, scenario.spoil, stack, spoilt, rep)
                    results.runs.setdefault((contestant.key, scenario.key), []).append(run)
    finally:
        for arena in arenas.values():
            arena.close()


def _one(
    arena: Arena,
    scenario: Scenario,
    spoil: Spoil,
    stack: Stack,
    expired: TokenPair | None,
    rep: int,
) -> Run:
    started = time.monotonic()
    pair = stack.log_in()
    logged_in = time.monotonic()
    run = arena.run(scenario, pair, spoil, expired or pair)
    print(
        f"  {rep + 1}. {arena.contestant.key:12} {scenario.key:13} {spoil:8} {_describe(run)}"
        f" [{logged_in - started:.2f}+{time.monotonic() - logged_in:.2f} s]",
        flush=True,
    )
    return run


def run_cost(
    browser: Browser, stack: Stack, results: Results, selection: Selection, reps: int
) -> None:
    """300 requests with a valid token in each app page: plain fetch, a bare gate, the page."""
    ways = [way for way, _ in COST_WAYS]
    for contestant in (c for c in selection.contestants if c.python):
        arena = Arena(browser, stack.origin, contestant)
        try:
            for rep in range(reps):
                # A different order each time, so that none of the three always goes first.
                for way in ways[rep % len(ways) :] + ways[: rep % len(ways)]:
                    pair = stack.log_in()
                    arena.put_tokens(pair.access, pair.refresh)
                    got = arena.fire(way, FIRE)
                    key = f"{contestant.key}/{way}"
                    results.cost.setdefault(key, []).append(got["ms"])
                    results.cost_detail.setdefault(key, []).append(got)
                    print(
                        f"  {rep + 1}. cost {contestant.key:8} {way:6} {got['ms']:.0f} ms (last"
                        f" sent {got['last_sent']:.0f}, last answer {got['last_answer']:.0f},"
                        f" long tasks {got['long_tasks']:.0f})",
                        flush=True,
                    )
        finally:
            arena.close()


def run_startup(
    playwright: Playwright,
    launch: dict,
    stack: Stack,
    results: Results,
    selection: Selection,
    reps: int,
) -> None:
    """Start-up of each page, `reps` times: on the plain delay line with bytes and memory,
    on the slow link (cold and warm only), and the MicroPython page's breakdown."""
    passes = [
        ("startup", results.startup, stack.origin, {}, selection.pages),
        ("slow", results.slow, stack.slow_origin, {"full": False}, selection.pages),
        (
            "breakdown",
            results.breakdown,
            stack.origin,
            {"full": False, "import_first": True},
            [page for page in selection.pages if page.key == "mpy"],
        ),
    ]
    for part, into, origin, options, pages in passes:
        if part not in selection.parts or not pages:
            continue
        print(f"{part}: a new Chromium profile each, through {origin}", flush=True)
        for rep in range(reps):
            for page in pages:
                got = startup.measure(playwright, launch, origin, page, stack.log_in(), **options)
                into.setdefault(page.key, []).append(got)
                print(
                    f"  {rep + 1}. {part} {page.key:8} cold {got.cold_ms:.0f} ms "
                    f"warm {got.warm_ms:.0f} ms, {got.cold_bytes / 1e3:.0f} kB cold",
                    flush=True,
                )


def _load_average(when: str) -> str:
    """The machine's load over the last minute: other work slows every figure alike."""
    try:
        return f"{os.getloadavg()[0]:.1f} {when} (1-minute load average)"
    except OSError:
        return f"? {when}"


def _package_version(folder: Path) -> str:
    try:
        return json.loads((folder / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "?"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _memory_gb() -> str:
    try:
        kilobytes = int(Path("/proc/meminfo").read_text().split()[1])
        return f"{kilobytes / 1024 / 1024:.0f} GB"
    except (OSError, ValueError, IndexError):
        return "?"


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "?"
    return head + (" with uncommitted changes" if dirty else "")


def machine_and_versions(browser_version: str, args: argparse.Namespace, reps: str) -> dict:
    """What the results.md header says about where and with what the run happened."""
    modules = REPO_ROOT / "node_modules"
    micropython = modules / "@micropython" / "micropython-webassembly-pyscript"
    bench_modules = BENCH / "node_modules"
    return {
        "run": f"make bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {_commit()}",
        "machine": f"{_cpu()}, {os.cpu_count()} CPUs, {_memory_gb()} RAM, {platform.platform()}",
        "browser": f"Chromium {browser_version} (headless, {' '.join(CHROMIUM_ARGS)})",
        "runtime": (
            f"MicroPython {_package_version(micropython)}, "
            f"Pyodide {_package_version(modules / 'pyodide')}, "
            f"PyScript {_package_version(modules / '@pyscript' / 'core')}, "
            f"Python {platform.python_version()} (server and harness)"
        ),
        "contestants": (
            f"axios {_package_version(bench_modules / 'axios')}, "
            f"axios-auth-refresh {_package_version(bench_modules / 'axios-auth-refresh')}"
        ),
        "network": (
            f"bench/proxy.py delay line on loopback, {args.delay_ms:g} ms each way "
            f"({2 * args.delay_ms:g} ms a round trip), no bandwidth limit, HTTP/1.1; the slow "
            f"link: the same delay and {SLOW_RATE_MBIT:g} Mbit/s each way"
        ),
        "repetitions": reps,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every measurement once")
    parser.add_argument("--reps", type=int, default=5, help="repetitions (default: %(default)s)")
    parser.add_argument(
        "--heavy-reps",
        type=int,
        default=3,
        help="repetitions of the 300-request runs (default: %(default)s)",
    )
    # Start-up varies by a quarter between loads on a shared machine, and each cold load is
    # cheap beside a 300-request run: more of them make its medians worth comparing.
    parser.add_argument(
        "--startup-reps",
        type=int,
        default=5,
        help="repetitions of each start-up measurement (default: %(default)s)",
    )
    parser.add_argument(
        "--delay-ms", type=float, default=50.0, help="delay each way (default: %(default)s)"
    )
    parser.add_argument(
        "--oidc-rounds",
        type=int,
        default=200,
        help="rounds of each tab race in part oidc (default: %(default)s; --quick: 10)",
    )
    parser.add_argument(
        "--dpop-rounds",
        type=int,
        default=30,
        help="rounds of the two-tab race in part dpop (default: %(default)s; --quick: 5)",
    )
    parser.add_argument(
        "--dpop-proofs",
        type=int,
        default=200,
        help="proofs timed in each gate page in part dpop (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, default=BENCH, help="folder for results.md/.png")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument(
        "--report-from",
        type=Path,
        metavar="JSON",
        help="measure nothing: draw the table and chart again from a run's bench/out/results.json",
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="NAMES",
        help="comma-separated contestants, scenarios and parts (scenarios, cost, startup, slow, "
        "breakdown) to "
        "run; a kind not named runs whole",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Measure everything, print the table, write results.md and results.png."""
    args = parse_args(argv)
    if args.report_from:
        report(Results.load(args.report_from), args.out)
        return
    selection = Selection.of([name for name in args.only.split(",") if name])
    if not (BENCH / "vendor" / ".installed").exists():
        # Else the peers' pages wait for their scripts until a minute-long timeout.
        sys.exit("bench/vendor/ is missing: `make bench` (or `make bench/vendor/.installed`)")
    reps = 1 if args.quick else args.reps
    heavy_reps = 1 if args.quick else min(reps, args.heavy_reps)
    startup_reps = 1 if args.quick else args.startup_reps
    launch = {"executable_path": args.chromium, "args": CHROMIUM_ARGS, "headless": True}
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as base,
        Stack(Path(base), args.delay_ms) as stack,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(**launch)
        counts = f"{reps} (300-request runs: {heavy_reps}; start-up: {startup_reps})"
        results = Results(machine_and_versions(browser.version, args, counts))
        results.meta["load"] = _load_average("at the start")
        results.round_trip_ms = 2 * args.delay_ms
        results.slow_rate_mbit = SLOW_RATE_MBIT
        print(f"through {stack.origin} ({args.delay_ms:g} ms each way)", flush=True)
        if "scenarios" in selection.parts:
            run_scenarios(browser, stack, results, selection, (reps, heavy_reps))
        if "cost" in selection.parts:
            run_cost(browser, stack, results, selection, heavy_reps)
        if "oidc" in selection.parts:
            results.oidc = oidc.run_oidc(
                browser,
                launch,
                Path(base) / "oidc",
                args.delay_ms,
                oidc.chosen(args.only.split(",")),
                rounds=10 if args.quick else args.oidc_rounds,
                reps=reps,
                expiry_reps=min(reps, 3),
            )
        if "dpop" in selection.parts:
            results.dpop = dpop.run_dpop(
                browser,
                launch,
                Path(base) / "dpop",
                args.delay_ms,
                rounds=5 if args.quick else args.dpop_rounds,
                reps=reps,
                proofs=20 if args.quick else args.dpop_proofs,
                requests=5 if args.quick else 30,
            )
        browser.close()
        run_startup(playwright, launch, stack, results, selection, startup_reps)
    results.meta["load"] += "; " + _load_average("at the end")
    results.meta["duration"] = f"{time.monotonic() - started:.0f} s"
    if results.oidc is not None:
        results.oidc.meta = oidc.describe(results.meta, args)
    if results.dpop is not None:
        rounds = 5 if args.quick else args.dpop_rounds
        results.dpop.meta = dpop.describe(results.meta, args.delay_ms, rounds, reps)
    results.save(BENCH / "out" / "results.json")
    report(results, args.out)


def report(results: Results, out: Path) -> None:
    """Print the table and the misses; write results.md and results.png into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    sections = [
        (tables, tables.markdown(got))
        for tables, got in ((oidc_tables, results.oidc), (dpop_tables, results.dpop))
        if got is not None
    ]
    for _, section in sections:
        print(f"\n{section}")
    if sections and not (results.runs or results.startup or results.cost or results.slow):
        for tables, section in sections:  # the parts alone: the rest stays
            splice(out / "results.md", section, tables.BEGIN, tables.END)
        print(f"written: their sections of {out / 'results.md'}")
        return
    rows = table_rows(results)
    chart = out / "results.png"
    write_results(results, rows, out / "results.md", chart)
    draw_chart(results, chart)
    print()
    print(markdown_table(rows))
    print()
    missed = misses(rows)
    print("The app's pages miss:" if missed else "The app's pages meet every target measured.")
    for miss in missed:
        print(f"  - {miss}")
    for tables, section in sections:
        splice(out / "results.md", section, tables.BEGIN, tables.END)
    print(f"\nwritten: {out / 'results.md'}, {chart} ({results.meta.get('duration', '?')})")


if __name__ == "__main__":
    main()
