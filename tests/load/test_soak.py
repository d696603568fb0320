"""A tiny run of the soak's own code, so `make soak` cannot rot unnoticed."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.load.soak import format_table, soak
from tests.server.support import launch_server


def test_two_users_for_three_seconds_log_in_read_and_refresh_without_errors(tmp_path: Path) -> None:
    db = tmp_path / "auth.db"
    server = launch_server(db, tmp_path / "server.log")
    try:
        run = soak(server.url, server.process.pid, db, users=2, seconds=3.0, label="SQLite, 1w")
        # A thread of its own: Playwright's tests may leave an event loop running in this one.
        with ThreadPoolExecutor(1) as pool:
            result = pool.submit(asyncio.run, run).result()
    finally:
        server.stop()

    assert result.latencies["login"] and result.latencies["resources"]
    # No lost session means something only if sessions were refreshed, again and again.
    assert result.refreshes >= 2 * 2
    assert not result.errors and result.lost_sessions == 0
    assert result.peak_rss_kib > 0
    assert result.row_samples and result.row_samples[-1][1] >= result.refreshes
    table = format_table([result])
    assert "requests/s" in table and "server RSS at 100%" in table
    assert "refresh-token rows at 100%" in table
