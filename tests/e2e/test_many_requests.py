"""Many requests at once with a refused token, over a link with real round trips.

Chromium has six requests on the wire to one origin over HTTP/1.1 and queues the others,
token and all. Handed to Chromium at once, each queued request would still go out with the
refused token, earn its 401, and only then wait for the refresh: every request refused
once, and a recovery twice as long as the work itself. The gate hands it six at a time.
"""

import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from bench.proxy import wait_for_port
from tests.e2e.support import (
    OWN_ORIGINS,
    REFRESH,
    RESOURCE,
    Interpreter,
    NetworkLog,
    ServerProcess,
    log_in,
    storage,
)
from tests.server.support import REPO_ROOT, free_port

DELAY_MS = 50  # each way: a 100 ms round trip, as in `make bench`
REQUESTS = 60
CONNECTIONS = 6  # Chromium's for one origin over HTTP/1.1


@pytest.fixture(scope="module")
def far_origin(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test server behind the benchmark's delay line (bench/proxy.py)."""
    port = free_port()
    log = tmp_path_factory.mktemp("delay-line") / "proxy.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.proxy",
            *("--port", str(port), "--upstream", f"127.0.0.1:{server.port}"),
            *("--delay-ms", str(DELAY_MS)),
        ],
        cwd=REPO_ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
    except RuntimeError:
        process.kill()
        pytest.fail(f"the delay line did not start:\n{log.read_text()}")
    origin = f"http://127.0.0.1:{port}"
    OWN_ORIGINS.add(origin)
    yield origin
    process.terminate()
    process.wait(timeout=10)


def test_of_sixty_requests_at_once_only_the_six_on_the_wire_meet_the_refused_token(
    page: Page, network: NetworkLog, interpreter: Interpreter, far_origin: str
) -> None:
    log_in(page, interpreter, far_origin)
    page.evaluate('localStorage.setItem("token", "sdf")')
    mark = len(network.answers)

    answered = page.evaluate("n => window.refreshGateFire('app', n)", REQUESTS)

    assert answered == REQUESTS  # every request got its 200 in the end
    for _ in range(50):  # the last answers' network events may still be on their way
        if network.count("GET", RESOURCE, 200, mark=mark) == REQUESTS:
            break
        page.wait_for_timeout(100)
    assert network.count("GET", RESOURCE, 200, mark=mark) == REQUESTS
    assert network.count("POST", REFRESH, mark=mark) == 1
    # The six on the wire when the first 401 came back; the others waited in the gate.
    assert network.count("GET", RESOURCE, 401, mark=mark) == CONNECTIONS
    assert storage(page, "token") not in (None, "sdf")  # still logged in, with a new pair
