"""A token about to expire is refreshed before the call goes out, so expiry costs no 401."""

import asyncio

from refresh_gate import TransientError
from refresh_gate._refresh import REFRESH_PATH
from tests.portable import parametrize, raises
from tests.refresh_gate.fakes import App, FakeClock, FakeServer, open_app

HOUR = 3600.0


async def test_a_call_near_expiry_refreshes_first_and_earns_no_401() -> None:
    server = FakeServer(lifetime=300)
    app = open_app(server, expiry_skew=10)
    old = app.store.load()
    server.clock.now += 295  # 5 s before exp; the server would still take the token

    response = await app.get()

    new = app.store.load()
    assert response.status == 200
    assert new != old
    assert [(s.path, s.token, s.status) for s in server.seen] == [
        (REFRESH_PATH, None, 200),
        ("/api/resource", new.access, 200),
    ]


async def test_a_call_far_from_expiry_does_not_refresh() -> None:
    server = FakeServer(lifetime=300)
    app = open_app(server, expiry_skew=10)
    kept = app.store.load()
    server.clock.now += 280

    response = await app.get()

    assert response.status == 200
    assert server.refresh_calls == 0
    assert app.store.load() == kept


@parametrize(
    "elapsed, refreshes",
    [(1.0, 0), (2.5, 1)],
    ids=["3s-left-keeps-the-token", "1.5s-left-refreshes"],
)
async def test_the_skew_is_capped_at_half_the_token_lifetime(
    elapsed: float, refreshes: int
) -> None:
    server = FakeServer(lifetime=4)
    app = open_app(server, expiry_skew=10)
    server.clock.now += elapsed

    response = await app.get()

    assert response.status == 200
    assert server.refresh_calls == refreshes


async def test_three_parallel_calls_near_expiry_share_one_refresh() -> None:
    server = FakeServer(lifetime=300)
    app = open_app(server, expiry_skew=10)
    server.clock.now += 295

    responses = await asyncio.gather(*(app.get() for _ in range(3)))

    fresh = app.store.load().access
    assert [r.status for r in responses] == [200] * 3
    assert server.refresh_calls == 1
    api_calls = [(s.token, s.status) for s in server.seen if s.path != REFRESH_PATH]
    assert api_calls == [(fresh, 200)] * 3


async def _five_calls_ten_seconds_apart(app: App, machine_clock: FakeClock) -> None:
    for _ in range(5):
        assert (await app.get()).status == 200
        app.server.clock.now += 10
        machine_clock.now += 10


async def test_a_machine_clock_an_hour_ahead_does_not_refresh_every_call() -> None:
    server = FakeServer(lifetime=300)
    machine_clock = FakeClock(server.clock.now + HOUR)
    app = open_app(server, logged_in=False, expiry_skew=10, clock=machine_clock)
    app.gate.accept(server.issue())  # the login answer: the gate learns the server's time

    await _five_calls_ten_seconds_apart(app, machine_clock)

    assert server.refresh_calls == 0


async def test_a_machine_clock_an_hour_ahead_costs_one_refresh_before_the_gate_learns_it() -> None:
    server = FakeServer(lifetime=300)
    machine_clock = FakeClock(server.clock.now + HOUR)
    # Tokens from a previous page load: the gate has not seen the server's time yet.
    app = open_app(server, expiry_skew=10, clock=machine_clock)

    await _five_calls_ten_seconds_apart(app, machine_clock)

    assert server.refresh_calls == 1


async def test_a_failed_refresh_before_expiry_falls_back_to_the_token_that_still_works() -> None:
    server = FakeServer(lifetime=300)
    app = open_app(server, expiry_skew=10)
    kept = app.store.load()
    server.clock.now += 295
    server.refresh_outcome = 503

    first = await app.get()  # the token has 5 s left: the server still takes it
    second = await app.get()

    assert (first.status, second.status) == (200, 200)
    assert server.refresh_calls == 1
    assert app.store.load() == kept
    assert app.logouts == 0


async def test_a_failed_refresh_of_an_expired_token_fails_the_call_as_retryable() -> None:
    server = FakeServer(lifetime=300)
    app = open_app(server, expiry_skew=10)
    kept = app.store.load()
    server.clock.now += 301
    server.refresh_outcome = 503

    with raises(TransientError):
        await app.get()

    assert server.to("/api/resource") == []
    assert app.store.load() == kept
    assert app.logouts == 0
