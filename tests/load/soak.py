"""A bounded soak: many simulated users against a real server process on loopback.

``python -m tests.load.soak --seconds 20 --users 50`` (or ``make soak``) starts its own
server on a temporary database, lets every user log in and then read /api/resources and
refresh in a loop until the time is up, stops the server and prints one table: requests a
second, latency, the server's memory over the run, errors and lost sessions. It exits 1
if there was any error or lost session.

A lost session is a refresh refused with 401 although the user presented the newest
refresh token it was given: the server forgot or spent a token it should not have.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.server.support import SEED_PASSWORD, SEED_USER, launch_server

REFRESH_EVERY = 5  # a user refreshes after every this many resource reads
SAMPLE_SECONDS = 0.1


@dataclass
class SoakResult:
    """What one run measured."""

    users: int
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    lost_sessions: int = 0
    rss_samples: list[tuple[float, int]] = field(default_factory=list)  # (elapsed s, KiB)
    peak_rss_kib: int = 0

    @property
    def requests(self) -> int:
        """Every request that got an answer."""
        return sum(len(times) for times in self.latencies.values())

    def record(self, kind: str, started: float) -> None:
        """Note one answered request of ``kind`` that was sent at ``started``."""
        self.latencies.setdefault(kind, []).append(time.perf_counter() - started)

    def rss_at(self, fraction: float) -> int:
        """The resident set size sampled closest to ``fraction`` of the run, in KiB."""
        if not self.rss_samples:
            return 0
        target = fraction * self.seconds
        return min(self.rss_samples, key=lambda sample: abs(sample[0] - target))[1]


def read_memory_kib(pid: int) -> tuple[int, int]:
    """The process's current and peak resident set size (VmRSS, VmHWM) in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


async def _user(http: httpx.AsyncClient, result: SoakResult, deadline: float) -> None:
    """Log in, then read and refresh until the deadline, logging in again if the session is lost."""
    credentials = {"userName": SEED_USER, "password": SEED_PASSWORD}
    tokens: dict | None = None
    reads = 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            if tokens is None:
                response = await http.post("/authorization/token", json=credentials)
                result.record("login", started)
                if response.status_code != 200:
                    result.errors[f"login {response.status_code}"] += 1
                    continue
                tokens = response.json()
            elif reads % REFRESH_EVERY == REFRESH_EVERY - 1:
                body = {"refreshToken": tokens["refreshToken"]}
                response = await http.post("/authorization/refresh", json=body)
                result.record("refresh", started)
                reads += 1
                if response.status_code == 200:
                    tokens = response.json()
                elif response.status_code == 401:
                    result.lost_sessions += 1
                    tokens = None
                else:
                    result.errors[f"refresh {response.status_code}"] += 1
            else:
                bearer = {"Authorization": f"Bearer {tokens['authorizationToken']}"}
                response = await http.get("/api/resources", headers=bearer)
                result.record("resources", started)
                reads += 1
                if response.status_code != 200:
                    result.errors[f"resources {response.status_code}"] += 1
        except httpx.TransportError as error:
            result.errors[type(error).__name__] += 1


async def _sample_memory(pid: int, result: SoakResult, started: float, deadline: float) -> None:
    while time.perf_counter() < deadline:
        rss, peak = read_memory_kib(pid)
        result.rss_samples.append((time.perf_counter() - started, rss))
        result.peak_rss_kib = max(result.peak_rss_kib, peak)
        await asyncio.sleep(SAMPLE_SECONDS)


async def soak(url: str, pid: int, *, users: int, seconds: float) -> SoakResult:
    """Run ``users`` simulated users against ``url`` for ``seconds``; ``pid`` is the server's."""
    result = SoakResult(users=users)
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            _sample_memory(pid, result, started, deadline),
            *(_user(http, result, deadline) for _ in range(users)),
        )
        result.seconds = time.perf_counter() - started
    rss, peak = read_memory_kib(pid)
    result.rss_samples.append((result.seconds, rss))
    result.peak_rss_kib = max(result.peak_rss_kib, peak)
    return result


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def format_table(result: SoakResult) -> str:
    """The run as a plain-text table."""
    every = [latency for times in result.latencies.values() for latency in times]
    rows = [
        ("users", str(result.users)),
        ("duration", f"{result.seconds:.1f} s"),
        ("requests", f"{result.requests} ({_kinds(result)})"),
        ("requests/s", f"{result.requests / result.seconds:.0f}" if result.seconds else "-"),
        ("latency p50", f"{statistics.median(every) * 1000:.1f} ms" if every else "-"),
        ("latency p99", f"{_percentile(every, 0.99) * 1000:.1f} ms"),
    ]
    for kind in ("login", "refresh", "resources"):
        times = result.latencies.get(kind, [])
        if times:
            p50, p99 = _percentile(times, 0.5) * 1000, _percentile(times, 0.99) * 1000
            rows.append((f"  {kind} p50 / p99", f"{p50:.1f} / {p99:.1f} ms"))
    rows.append(("server peak RSS (VmHWM)", f"{result.peak_rss_kib / 1024:.1f} MiB"))
    for percent in (25, 50, 75, 100):
        rss = result.rss_at(percent / 100) / 1024
        rows.append((f"server RSS at {percent}%", f"{rss:.1f} MiB"))
    errors = sum(result.errors.values())
    rows.append(("errors", f"{errors} {dict(result.errors)}" if errors else "0"))
    rows.append(("lost sessions", str(result.lost_sessions)))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def _kinds(result: SoakResult) -> str:
    return ", ".join(f"{kind} {len(times)}" for kind, times in sorted(result.latencies.items()))


def main(argv: Sequence[str] | None = None) -> int:
    """Start a server, soak it, print the table; 1 if anything went wrong."""
    parser = argparse.ArgumentParser(prog="python -m tests.load.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the run")
    parser.add_argument("--users", type=int, default=50, help="simulated users at once")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as folder:
        db_path = Path(folder) / "auth.db"
        server = launch_server(db_path, Path(folder) / "server.log")
        try:
            result = asyncio.run(
                soak(server.url, server.process.pid, users=args.users, seconds=args.seconds)
            )
        finally:
            server.stop()
    print(format_table(result))
    return 1 if result.errors or result.lost_sessions else 0


if __name__ == "__main__":
    sys.exit(main())
