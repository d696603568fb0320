"""Finding the worker processes of a server started with ``--workers N``, and a keep-alive
connection to each (test_workers.py, test_dpop_replay.py)."""

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path

from .support import ServerProcess

WORKERS = 2
STARTUP_SECONDS = 30
BURST = 16  # connections opened at once, in search of every worker


def workers_of(server: ServerProcess) -> list[int]:
    """The worker processes uvicorn spawned for ``server`` (its children running the app)."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def worker_answering(server: ServerProcess, connection: HTTPConnection) -> int:
    """The worker that answered the last request on ``connection``: with several workers,
    each line of the server's log starts with the id of the process that wrote it, and an
    access-log line names the connection by its client port."""
    port = connection.sock.getsockname()[1]
    answers = re.findall(rf"\[(\d+)\] 127\.0\.0\.1:{port} - ", server.log())
    return int(answers[-1])


def send(
    connection: HTTPConnection,
    method: str,
    path: str,
    body: dict | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """Send one request on ``connection`` (a JSON body, if any) and return its status."""
    payload = None if body is None else json.dumps(body)
    connection.request(
        method, path, payload, {"Content-Type": "application/json", **(headers or {})}
    )
    response = connection.getresponse()
    response.read()
    return response.status


def one_connection_to_each_worker(server: ServerProcess) -> dict[int, HTTPConnection]:
    """Keep-alive connections, one a worker. The kernel hands a new connection to whichever
    worker accepts first, and one after another they can all land on the same worker (seen
    in a fresh clone's run: 100 of 100), so they are opened in bursts, each connection
    sending its request at once from a thread of its own: while one worker reads a request,
    the other accepts the next connection."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while server.log().count("Application startup complete.") < WORKERS:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    connections: dict[int, HTTPConnection] = {}

    def connect(_: int) -> HTTPConnection:
        connection = HTTPConnection("127.0.0.1", server.port, timeout=30)
        assert send(connection, "GET", "/api/resources") == 401
        return connection

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        for _ in range(20):
            for connection in pool.map(connect, range(BURST)):
                worker = worker_answering(server, connection)
                if worker in connections:
                    connection.close()
                else:
                    connections[worker] = connection
            if len(connections) == WORKERS:
                break
    return connections
