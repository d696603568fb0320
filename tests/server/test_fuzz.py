"""Schema-driven fuzzing: schemathesis holds the API to its own /openapi.json.

Every operation is tried with examples, boundary cases (the coverage phase: missing and
wrong-typed fields, other methods, no Authorization) and random bodies, valid and invalid;
then whole sessions follow the schema's links: log in, refresh with the refresh token of
the answer, refresh again or log out. Every answer must be no 5xx, a status the schema
declares, of the declared content type, matching the declared body and headers.

The bounded run here takes seconds; ``make fuzz`` sets ``FUZZ_EXAMPLES`` for a longer one.
"""

import atexit
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.specs.openapi.schemas import OpenApiSchema

from server_stub.app import create_app
from server_stub.config import Config

from .support import SEED_PASSWORD, SEED_USER

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
STATEFUL_SCENARIOS = max(5, MAX_EXAMPLES // 2)
SEED = 20260  # fixed, and generation is derandomized: every run tries the same cases
# What every answer is held to. The rest of schemathesis's checks are about resources with
# ids (use-after-free, object-level authorization), which this API does not have.
CHECKS = {
    "not_a_server_error": {},
    "status_code_conformance": {},
    "content_type_conformance": {},
    "response_schema_conformance": {},
    "response_headers_conformance": {},
    # Invalid input must be refused; 413 is a refusal too (an oversized field).
    "negative_data_rejection": {
        "expected-statuses": [400, 401, 404, 405, 413, 415, 422, 429],
    },
    "ignored_auth": {},
    "unsupported_method": {},
    "allow_header_conformance": {},
}
TRIED: Counter[str] = Counter()


def _build_schema() -> OpenApiSchema:
    """The app's own schema, as the app serves it, with a fixed seed and budget.

    Built when the module is collected (schemathesis parametrizes from it), on a database in
    a folder removed at exit. The login budget is one the fuzzer cannot spend: it is tested
    on its own (test_login_limits.py), and here it would turn most logins into 429s and
    starve the sessions the stateful phase follows.
    """
    folder = tempfile.TemporaryDirectory(prefix="fuzz-")
    atexit.register(folder.cleanup)
    config = Config(db_path=Path(folder.name) / "auth.db", login_attempts=1_000_000)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AUTH_SECRET", raising=False)
        app = create_app(config)
    settings = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "mode": "all",
            },
            "checks": {
                "enabled": False,
                **{name: {"enabled": True, **options} for name, options in CHECKS.items()},
            },
        }
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=settings)


@pytest.fixture(scope="module", autouse=True)
def _report_cases(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many cases each part of the run tried."""
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not TRIED:
        return
    with capture.global_and_fixture_disabled():
        reporter.ensure_newline()
        reporter.write_line(
            f"fuzz: {sum(TRIED.values())} requests, by phase, operation and status:"
        )
        for label, count in sorted(TRIED.items()):
            reporter.write_line(f"  {count:6d}  {label}")


schema = _build_schema()


@schema.auth(refresh_interval=60, retry_on=[]).apply_to(path="/api/resources")
class SeededUser:
    """A real access token for the protected resource; the coverage phase also tries without."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
        """Log the seeded user in through the app itself."""
        response = TestClient(context.app).post(
            "/authorization/token", json={"userName": SEED_USER, "password": SEED_PASSWORD}
        )
        return response.json()["authorizationToken"]

    def set(self, case: schemathesis.Case, token: str, context: schemathesis.AuthContext) -> None:
        """Send it as a Bearer token."""
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@schema.parametrize()
def test_every_answer_to_every_operation_keeps_to_the_schema(case: schemathesis.Case) -> None:
    response = case.call_and_validate()
    TRIED[f"single  {case.operation.label} -> {response.status_code}"] += 1


def test_sessions_following_the_links_keep_to_the_schema() -> None:
    class Sessions(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            # Random credentials would never log in, and the links start from a login.
            if case.operation.label == "POST /authorization/token":
                case.body = {"userName": SEED_USER, "password": SEED_PASSWORD}

        def after_call(self, response: schemathesis.Response, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            TRIED[f"session {case.operation.label} -> {response.status_code}"] += 1

    Sessions.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
