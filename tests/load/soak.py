"""A bounded soak: many simulated users against real server processes on loopback.

``python -m tests.load.soak --seconds 20 --users 50`` (or ``make soak``) runs it four times:
SQLite and PostgreSQL, each with 1 and 2 workers (``--runs sqlite:1,postgresql:2`` picks).
Each run starts its own server on a new database (PostgreSQL: a throw-away cluster,
tests/server/postgres.py), lets every user log in and then read /api/resources and refresh
in a loop until the time is up, and stops the server. One table shows every run: requests a
second, latency, errors, lost sessions, the server's memory and the refresh-token table's
rows over the run. It exits 1 if there was any error or lost session, or no refresh at all.

Refresh tokens live `REFRESH_TTL` seconds and the server prunes every second, so the table
should level off at about the refreshes of one lifetime instead of growing with every one.

A lost session is a refresh refused with 401 although the user presented the newest
refresh token it was given: the server forgot or spent a token it should not have.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.load.http import ConnectionLost, KeepAliveClient
from tests.server.postgres import PostgresCluster, running_cluster
from tests.server.support import SEED_PASSWORD, SEED_USER, count_rows, launch_server

REFRESH_EVERY = 5  # a user refreshes after every this many resource reads
# Seconds: short, so that tokens expire and are pruned within a run, and still far longer
# than a user takes between two refreshes (five requests).
REFRESH_TTL = 8
PRUNE_EVERY = 1
SAMPLE_SECONDS = 0.1
ROWS_EVERY = 1.0
LOGINS_TIMEOUT = 180.0
RUNS = ("sqlite:1", "sqlite:2", "postgresql:1", "postgresql:2")


@dataclass
class SoakResult:
    """What one run measured."""

    users: int
    label: str = ""
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    lost_sessions: int = 0
    lost_because: Counter[str] = field(default_factory=Counter)  # the 401s' messages
    rss_samples: list[tuple[float, int]] = field(default_factory=list)  # (elapsed s, KiB)
    peak_rss_kib: int = 0
    row_samples: list[tuple[float, int]] = field(default_factory=list)  # (elapsed s, rows)
    # When the measured time began: once every user had logged in. None: not yet.
    measured_from: float | None = None
    # CPU seconds spent during the measured time: where the machine's cores went.
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    logged_in: int = 0

    @property
    def requests(self) -> int:
        """Every request that got an answer."""
        return sum(len(times) for times in self.latencies.values())

    @property
    def refreshes(self) -> int:
        """Refreshes that got an answer."""
        return len(self.latencies.get("refresh", []))

    def per_second(self, kind: str | None = None) -> float:
        """Answered reads and refreshes a second (the logins before the run do not count)."""
        kinds = ("resources", "refresh") if kind is None else (kind,)
        count = sum(len(self.latencies.get(one, [])) for one in kinds)
        return count / self.seconds if self.seconds else 0.0

    def record(self, kind: str, started: float) -> None:
        """Note one answered request of ``kind`` that was sent at ``started``.

        Reads and refreshes count once the measured time has begun; logins always.
        """
        if kind == "login" or (self.measured_from is not None and started >= self.measured_from):
            self.latencies.setdefault(kind, []).append(time.perf_counter() - started)

    def running(self, seconds: float) -> bool:
        """Whether users go on: until ``seconds`` after the measured time began."""
        if self.measured_from is None:
            return True
        return time.perf_counter() < self.measured_from + seconds

    def rss_at(self, fraction: float) -> int:
        """The resident set size sampled closest to ``fraction`` of the run, in KiB."""
        return _sample_at(self.rss_samples, fraction * self.seconds)

    def rows_at(self, fraction: float) -> int:
        """The refresh-token rows counted closest to ``fraction`` of the run."""
        return _sample_at(self.row_samples, fraction * self.seconds)


def _sample_at(samples: list[tuple[float, int]], elapsed: float) -> int:
    if not samples:
        return 0
    return min(samples, key=lambda sample: abs(sample[0] - elapsed))[1]


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a server's ``--workers`` are its children)."""
    found = [pid]
    for process in found:
        try:
            children = Path(f"/proc/{process}/task/{process}/children").read_text().split()
        except OSError:
            continue
        found += [int(child) for child in children]
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` and its children so far, in seconds."""
    ticks = 0
    for process in _process_tree(pid):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def read_memory_kib(pid: int) -> tuple[int, int]:
    """Current and peak resident set size (VmRSS, VmHWM) of ``pid`` and its children, in KiB."""
    rss = peak = 0
    for process in _process_tree(pid):
        try:
            lines = Path(f"/proc/{process}/status").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            name, _, rest = line.partition(":")
            if name == "VmRSS":
                rss += int(rest.split()[0])
            elif name == "VmHWM":
                peak += int(rest.split()[0])
    return rss, peak


async def _user(
    http: KeepAliveClient, result: SoakResult, seconds: float, everyone_in: asyncio.Event
) -> None:
    """Log in, then read and refresh until the time is up, logging in again if the session is
    lost. Everyone goes on reading while the others still log in (Argon2, four at a time in
    each worker), so no token idles; the measured time begins once all are in."""
    credentials = {"userName": SEED_USER, "password": SEED_PASSWORD}
    tokens: dict | None = None
    waiting_for_the_others = True
    reads = 0
    while result.running(seconds):
        started = time.perf_counter()
        try:
            if tokens is None:
                response = await http.request("POST", "/authorization/token", json_body=credentials)
                result.record("login", started)
                if response.status != 200:
                    result.errors[f"login {response.status}"] += 1
                    continue
                tokens = response.json()
                if waiting_for_the_others:
                    waiting_for_the_others = False
                    result.logged_in += 1
                    if result.logged_in == result.users:
                        everyone_in.set()
            elif reads % REFRESH_EVERY == REFRESH_EVERY - 1:
                body = {"refreshToken": tokens["refreshToken"]}
                response = await http.request("POST", "/authorization/refresh", json_body=body)
                result.record("refresh", started)
                reads += 1
                if response.status == 200:
                    tokens = response.json()
                elif response.status == 401:
                    result.lost_sessions += 1
                    result.lost_because[response.json()["message"]] += 1
                    tokens = None
                else:
                    result.errors[f"refresh {response.status}"] += 1
            else:
                bearer = {"Authorization": f"Bearer {tokens['authorizationToken']}"}
                response = await http.request("GET", "/api/resources", headers=bearer)
                result.record("resources", started)
                reads += 1
                if response.status != 200:
                    result.errors[f"resources {response.status}"] += 1
        except (ConnectionLost, OSError) as error:
            result.errors[type(error).__name__] += 1
    await http.close()


async def _sample_memory(pid: int, result: SoakResult, started: float, deadline: float) -> None:
    while time.perf_counter() < deadline:
        rss, peak = read_memory_kib(pid)
        result.rss_samples.append((time.perf_counter() - started, rss))
        result.peak_rss_kib = max(result.peak_rss_kib, peak)
        await asyncio.sleep(SAMPLE_SECONDS)


async def _count_rows(db: Path | str, result: SoakResult, started: float, deadline: float) -> None:
    while time.perf_counter() < deadline:
        rows = await asyncio.to_thread(count_rows, db, "refresh_tokens")
        result.row_samples.append((time.perf_counter() - started, rows))
        await asyncio.sleep(ROWS_EVERY)


async def soak(
    url: str,
    pid: int,
    db: Path | str,
    *,
    users: int,
    seconds: float,
    label: str = "",
    database_pid: int | None = None,
) -> SoakResult:
    """Run ``users`` simulated users against ``url`` for ``seconds``.

    ``pid`` is the server's (its memory is sampled), ``db`` its store (its rows are counted),
    ``database_pid`` PostgreSQL's, if any (its CPU time is counted).
    """
    result = SoakResult(users=users, label=label)
    address = urlsplit(url)
    clients = [KeepAliveClient(address.hostname or "", address.port or 80) for _ in range(users)]
    everyone_in = asyncio.Event()
    work = [asyncio.create_task(_user(http, result, seconds, everyone_in)) for http in clients]
    await asyncio.wait_for(everyone_in.wait(), timeout=LOGINS_TIMEOUT)
    started = result.measured_from = time.perf_counter()
    parties = {"server": pid, **({"PostgreSQL": database_pid} if database_pid else {})}
    cpu_before = {name: cpu_seconds(party) for name, party in parties.items()}
    load_before = time.process_time()
    deadline = started + seconds
    await asyncio.gather(
        _sample_memory(pid, result, started, deadline),
        _count_rows(db, result, started, deadline),
        *work,
    )
    result.cpu_seconds = {
        **{name: cpu_seconds(party) - cpu_before[name] for name, party in parties.items()},
        "load generator": time.process_time() - load_before,
    }
    result.seconds = time.perf_counter() - started
    rss, peak = read_memory_kib(pid)
    result.rss_samples.append((result.seconds, rss))
    result.peak_rss_kib = max(result.peak_rss_kib, peak)
    result.row_samples.append((result.seconds, count_rows(db, "refresh_tokens")))
    return result


def run_server_and_soak(
    store: str,
    workers: int,
    folder: Path,
    postgres: PostgresCluster | None,
    *,
    users: int,
    seconds: float,
) -> SoakResult:
    """Start a server on a new database of ``store``, soak it, stop it."""
    label = f"{'SQLite' if store == 'sqlite' else 'PostgreSQL'}, {workers}w"
    if store == "sqlite":
        db: Path | str = folder / f"auth-{workers}.db"
    else:
        assert postgres is not None
        db = postgres.create_database(f"soak_{workers}_{int(time.time())}")
    server = launch_server(
        db,
        folder / f"server-{store}-{workers}.log",
        *("--workers", str(workers), "--refresh-ttl", str(REFRESH_TTL)),
        *("--prune-every", str(PRUNE_EVERY)),
    )
    try:
        run = soak(
            server.url,
            server.process.pid,
            db,
            users=users,
            seconds=seconds,
            label=label,
            database_pid=postgres.pid() if postgres and store != "sqlite" else None,
        )
        return asyncio.run(run)
    finally:
        server.stop()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def _column(result: SoakResult) -> list[str]:
    every = [*result.latencies.get("resources", []), *result.latencies.get("refresh", [])]
    cells = [
        str(result.users),
        f"{result.seconds:.1f} s",
        f"{result.requests} (logins {len(result.latencies.get('login', []))})",
        f"{result.per_second():.0f}",
        f"{result.per_second('resources'):.0f}",
        f"{result.per_second('refresh'):.0f}",
        f"{statistics.median(every) * 1000:.1f} ms" if every else "-",
        f"{_percentile(every, 0.99) * 1000:.1f} ms",
    ]
    for kind in ("login", "refresh", "resources"):
        times = result.latencies.get(kind, [])
        p50, p99 = _percentile(times, 0.5) * 1000, _percentile(times, 0.99) * 1000
        cells.append(f"{p50:.1f} / {p99:.1f} ms" if times else "-")
    cells.append(f"{result.peak_rss_kib / 1024:.0f} MiB")
    cells += [f"{result.rss_at(percent / 100) / 1024:.0f} MiB" for percent in (25, 50, 75, 100)]
    cells += [str(result.rows_at(percent / 100)) for percent in (25, 50, 75, 100)]
    cells.append(str(max((rows for _, rows in result.row_samples), default=0)))
    cpu = result.cpu_seconds
    cells.append(" / ".join(f"{cpu[name]:.0f}" if name in cpu else "-" for name in _CPU_PARTIES))
    errors = sum(result.errors.values())
    cells.append(f"{errors} {dict(result.errors)}" if errors else "0")
    lost = result.lost_sessions
    cells.append(f"{lost} {dict(result.lost_because)}" if lost else "0")
    return cells


_CPU_PARTIES = ("server", "PostgreSQL", "load generator")
_ROW_NAMES = [
    "users",
    "duration",
    "requests answered",
    "requests/s (reads, refreshes)",
    "  resources/s",
    "  refreshes/s",
    "latency p50 (reads, refreshes)",
    "latency p99 (reads, refreshes)",
    "  login p50 / p99",
    "  refresh p50 / p99",
    "  resources p50 / p99",
    "server peak RSS (sum of VmHWM)",
    *(f"server RSS at {percent}%" for percent in (25, 50, 75, 100)),
    *(f"refresh-token rows at {percent}%" for percent in (25, 50, 75, 100)),
    "refresh-token rows, most",
    "CPU s: " + " / ".join(_CPU_PARTIES),
    "errors",
    "lost sessions",
]


def format_table(results: list[SoakResult]) -> str:
    """Every run as one column of a plain-text table, with the 2-worker speed-up below."""
    columns = [_column(result) for result in results]
    header = ["", *(result.label for result in results)]
    rows = [header, *([name, *cells] for name, *cells in zip(_ROW_NAMES, *columns, strict=True))]
    widths = [max(len(row[index]) for row in rows) for index in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    by_label = {result.label: result for result in results}
    for store in ("SQLite", "PostgreSQL"):
        one, two = by_label.get(f"{store}, 1w"), by_label.get(f"{store}, 2w")
        if one and two and one.per_second("resources"):
            ratio = two.per_second("resources") / one.per_second("resources")
            lines.append(f"{store}: 2 workers / 1 worker on resource calls = {ratio:.2f}")
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soaks, print the table; 1 if anything went wrong."""
    parser = argparse.ArgumentParser(prog="python -m tests.load.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument("--users", type=int, default=50, help="simulated users at once")
    parser.add_argument(
        "--runs", default=",".join(RUNS), help="store:workers, comma-separated (default: all four)"
    )
    args = parser.parse_args(argv)
    runs = [
        (store, int(workers)) for store, workers in (run.split(":") for run in args.runs.split(","))
    ]
    results = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="soak-")))
        # Durable, as a real one: fsync on, like the SQLite runs.
        postgres = (
            stack.enter_context(running_cluster(durable=True))
            if any(store == "postgresql" for store, _ in runs)
            else None
        )
        for store, workers in runs:
            result = run_server_and_soak(
                store, workers, folder, postgres, users=args.users, seconds=args.seconds
            )
            results.append(result)
            print(f"{result.label}: {result.per_second():.0f} requests/s", file=sys.stderr)
    print(format_table(results))
    failed = [r for r in results if r.errors or r.lost_sessions or not r.refreshes]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
