"""Login attempt limits: guessing is cut off per user name and per address, then lifts alone."""

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server_stub.app import create_app
from server_stub.config import Config
from server_stub.limits import LoginLimiter, TooManyAttempts
from server_stub.passwords import PasswordChecker
from server_stub.store import AuthStore

from .support import SEED_PASSWORD, SEED_USER, FakeClock, count_rows

pytestmark = pytest.mark.both_stores

TOKEN = "/authorization/token"
DEFAULT_BUDGET = 10  # failed logins a minute, per name and per address
BUDGET = 3  # a smaller one for the tests of the rule, to keep Argon2's time down
WINDOW = 60.0


@pytest.fixture
def app(config: Config) -> Iterator[FastAPI]:
    """One app (so one limiter) that several clients at different addresses talk to."""
    with TestClient(create_app(replace(config, login_attempts=BUDGET))) as started:
        yield started.app  # type: ignore[misc]


@pytest.fixture
def client_at(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """A TestClient whose requests come from the given IP address."""
    clients: list[TestClient] = []

    def make(address: str) -> TestClient:
        clients.append(TestClient(app, client=(address, 50000)))
        return clients[-1]

    yield make
    for made in clients:
        made.close()


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The passwords every app checks from now on, in order."""
    checked: list[str] = []
    verify = PasswordChecker.verify

    def counting_verify(self: PasswordChecker, password_hash: str | None, password: str) -> bool:
        checked.append(password)
        return verify(self, password_hash, password)

    monkeypatch.setattr(PasswordChecker, "verify", counting_verify)
    return checked


def _log_in(client: TestClient, user: str = SEED_USER, password: str = SEED_PASSWORD):
    return client.post(TOKEN, json={"userName": user, "password": password})


def _fail(client: TestClient, times: int, user: str = SEED_USER) -> list[int]:
    return [_log_in(client, user, "wrong").status_code for _ in range(times)]


def _assert_too_many(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429
    assert response.json() == {
        "error": "too_many_attempts",
        "message": f"too many failed logins; try again in {retry_after} s",
    }
    assert response.headers["retry-after"] == str(retry_after)
    assert response.headers["cache-control"] == "no-store"


def test_the_eleventh_wrong_password_in_a_minute_is_refused_with_retry_after(
    client: TestClient,
) -> None:
    statuses = _fail(client, DEFAULT_BUDGET)
    blocked = _log_in(client, password="still wrong")

    assert statuses == [401] * DEFAULT_BUDGET
    _assert_too_many(blocked, retry_after=60)


def test_while_blocked_even_the_right_password_is_not_checked(
    client_at: Callable[[str], TestClient], password_checks: list[str], clock: FakeClock
) -> None:
    attacker = client_at("203.0.113.7")
    _fail(attacker, BUDGET)
    assert password_checks == ["wrong"] * BUDGET

    blocked = _log_in(attacker)

    assert blocked.status_code == 429
    assert password_checks == ["wrong"] * BUDGET  # Argon2 never saw the right one
    clock.advance(WINDOW)
    assert _log_in(attacker).status_code == 200  # and it was the right one
    assert password_checks == ["wrong"] * BUDGET + [SEED_PASSWORD]


def test_the_block_lifts_by_itself_when_the_window_has_passed(
    client_at: Callable[[str], TestClient], clock: FakeClock
) -> None:
    attacker = client_at("203.0.113.7")
    _fail(attacker, BUDGET)
    clock.advance(WINDOW - 1)
    _assert_too_many(_log_in(attacker, password="wrong"), retry_after=1)
    # Knocking while blocked is not counted, so it does not push the end of the block back.
    for _ in range(20):
        _log_in(attacker, password="wrong")

    clock.advance(1)

    assert _log_in(attacker).status_code == 200


def test_the_window_slides_one_failure_at_a_time(
    client_at: Callable[[str], TestClient], clock: FakeClock
) -> None:
    attacker = client_at("203.0.113.7")
    _fail(attacker, 1)
    clock.advance(30)
    _fail(attacker, BUDGET - 1)
    _assert_too_many(_log_in(attacker, password="wrong"), retry_after=30)

    clock.advance(30)  # the first failure leaves the window: one more try, then blocked again

    assert _fail(attacker, 2) == [401, 429]


def test_one_address_guessing_many_names_is_stopped_by_its_address_budget(
    client_at: Callable[[str], TestClient],
) -> None:
    attacker = client_at("203.0.113.7")
    statuses = [_fail(attacker, 1, user=f"user{n}")[0] for n in range(BUDGET + 1)]

    assert statuses == [401] * BUDGET + [429]
    assert _log_in(client_at("198.51.100.1")).status_code == 200  # other addresses unaffected


def test_many_addresses_guessing_one_name_are_stopped_by_the_name_budget(
    client_at: Callable[[str], TestClient], clock: FakeClock
) -> None:
    statuses = [_fail(client_at(f"203.0.113.{n}"), 1)[0] for n in range(BUDGET + 1)]
    real_user = client_at("198.51.100.1")

    assert statuses == [401] * BUDGET + [429]
    assert _log_in(real_user).status_code == 429  # the name's budget is spent...
    assert _log_in(real_user, user="someone-else", password="x").status_code == 401
    clock.advance(WINDOW)
    assert _log_in(real_user).status_code == 200  # ...for one window, not for ever


def test_successful_logins_do_not_use_up_the_budget(
    client_at: Callable[[str], TestClient],
) -> None:
    user = client_at("198.51.100.1")
    _fail(user, BUDGET - 1)

    statuses = [_log_in(user).status_code for _ in range(BUDGET + 1)]

    assert statuses == [200] * (BUDGET + 1)
    assert _fail(user, 2) == [401, 429]


def test_the_window_length_comes_from_the_config(
    make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    client = make_client(login_attempts=1, login_window=5.0)
    assert _fail(client, 2) == [401, 429]

    clock.advance(5)

    assert _fail(client, 2) == [401, 429]


def test_guesses_still_being_checked_count_against_the_budget(store: AuthStore) -> None:
    limiter = LoginLimiter(store, FakeClock(), attempts=BUDGET, window=WINDOW)
    inside = threading.Barrier(BUDGET + 1)
    release = threading.Event()

    def slow_wrong_guess(_: int) -> None:
        with pytest.raises(ValueError), limiter.attempt(SEED_USER, "203.0.113.7"):
            inside.wait(timeout=5)
            release.wait(timeout=5)  # Argon2 still verifying
            raise ValueError("wrong password")

    with ThreadPoolExecutor(BUDGET) as pool:
        guesses = [pool.submit(slow_wrong_guess, n) for n in range(BUDGET)]
        inside.wait(timeout=5)
        with pytest.raises(TooManyAttempts), limiter.attempt(SEED_USER, "192.0.2.1"):
            pass
        release.set()
        for guess in guesses:
            guess.result()


def test_charges_older_than_the_window_are_pruned_and_the_rest_kept(
    make_client: Callable[..., TestClient], clock: FakeClock, config: Config
) -> None:
    client = make_client(login_attempts=3)
    _fail(client, 2, user="early")
    clock.advance(WINDOW / 2)
    _fail(client, 1, user="late")  # each failure charges its name and the address
    assert count_rows(config.db_url or config.db_path, "login_attempts") == 6

    clock.advance(WINDOW / 2)
    client.app.state.pruner.run_once()

    assert count_rows(config.db_url or config.db_path, "login_attempts") == 2
    assert _fail(client, 3, user="late") == [401, 401, 429]  # the late one still counts


def test_at_most_a_few_passwords_are_checked_at_once_the_rest_wait_their_turn(
    store: AuthStore,
) -> None:
    limiter = LoginLimiter(store, FakeClock(), attempts=100, window=WINDOW, parallel=2)
    inside = threading.Semaphore(0)
    release = threading.Event()
    most_at_once = 0
    now_inside = 0
    count_lock = threading.Lock()

    def log_in(n: int) -> None:
        nonlocal most_at_once, now_inside
        with limiter.attempt(SEED_USER, f"192.0.2.{n}"):
            with count_lock:
                now_inside += 1
                most_at_once = max(most_at_once, now_inside)
            inside.release()
            release.wait(timeout=5)
            with count_lock:
                now_inside -= 1

    with ThreadPoolExecutor(6) as pool:
        logins = [pool.submit(log_in, n) for n in range(6)]
        assert inside.acquire(timeout=5) and inside.acquire(timeout=5)
        assert not inside.acquire(timeout=0.3)  # the third waits
        release.set()
        for login in logins:
            login.result()

    assert most_at_once == 2
