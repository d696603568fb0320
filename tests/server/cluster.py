"""Try the many-machine setup on one: a PostgreSQL of its own and N server nodes against it.

``python -m tests.server.cluster [--nodes 3] [--port 8001]`` (or ``make cluster``) starts
a throw-away PostgreSQL cluster (tests/server/postgres.py), then N ``python -m server_stub``
processes on ports 8001, 8002, ... sharing its database and one signing key, prints their
addresses and waits; Ctrl-C stops them all and removes the database. Log in on one node,
refresh on another: each is a machine behind a load balancer, as far as the rules know.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .postgres import running_cluster
from .support import (
    REPO_ROOT,
    SHARED_SECRET,
    ServerProcess,
    wait_for_interrupt,
    wait_until_serving,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Start PostgreSQL and the nodes, wait for Ctrl-C, stop everything."""
    parser = argparse.ArgumentParser(prog="python -m tests.server.cluster", description=__doc__)
    parser.add_argument("--nodes", type=int, default=3, help="server processes (default 3)")
    parser.add_argument("--port", type=int, default=8001, help="the first node's port")
    parser.add_argument(
        "server_args", nargs="*", help="more options for every node, after --, e.g. -- --workers 2"
    )
    args = parser.parse_args(argv)
    environment = {**os.environ, "AUTH_SECRET": SHARED_SECRET}
    with running_cluster(durable=True) as postgres, tempfile.TemporaryDirectory() as logs:
        url = postgres.create_database("server_stub")
        nodes = []
        try:
            for n in range(args.nodes):
                port = args.port + n
                log_path = Path(logs) / f"node-{n}.log"
                command = [sys.executable, "-m", "server_stub", "--db", url, "--port", str(port)]
                with log_path.open("wb") as log:
                    process = subprocess.Popen(
                        [*command, *args.server_args],
                        cwd=REPO_ROOT,
                        env=environment,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                nodes.append(ServerProcess(url, port, log_path, process))
                wait_until_serving(nodes[-1])
            print(f"PostgreSQL: {url}")
            for node in nodes:
                print(f"node: {node.url}  (python -m server_stub --db {url} --port {node.port})")
            print("Ctrl-C stops them all.", flush=True)
            wait_for_interrupt()
        except KeyboardInterrupt:
            pass
        finally:
            for node in nodes:
                node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
