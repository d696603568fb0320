"""A tiny run of the soak's own code, so `make soak` cannot rot unnoticed."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.load.soak import format_table, soak
from tests.server.support import launch_server


def test_two_users_for_a_second_make_requests_without_errors(tmp_path: Path) -> None:
    server = launch_server(tmp_path / "auth.db", tmp_path / "server.log")
    try:
        run = soak(server.url, server.process.pid, users=2, seconds=1.0)
        # A thread of its own: Playwright's tests may leave an event loop running in this one.
        with ThreadPoolExecutor(1) as pool:
            result = pool.submit(asyncio.run, run).result()
    finally:
        server.stop()

    assert result.latencies["login"] and result.latencies["resources"]
    assert not result.errors and result.lost_sessions == 0
    assert result.peak_rss_kib > 0
    table = format_table(result)
    assert "requests/s" in table and "server RSS at 100%" in table
