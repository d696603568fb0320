"""A refresh whose answer was lost on the way back logs nobody out.

The server exchanged the token, then the connection dropped: the page still holds the spent
token. The gate sends the refresh again at once, once, and a server with graceful rotation
answers the just-spent token with the same new pair.
"""

import asyncio

from refresh_gate import RefreshRejected, RequestTimeout, TransientError
from refresh_gate._refresh import REFRESH_PATH
from tests.portable import raises
from tests.refresh_gate.fakes import FakeServer, open_app, within


async def test_a_lost_refresh_answer_is_asked_again_and_the_demo_still_ends_with_three_200s():
    server = FakeServer()
    server.reuse_grace = 5.0
    app = open_app(server)
    server.expire_access()
    server.lose_refresh_answers = 1

    responses = await within(asyncio.gather(*(app.get() for _ in range(3))))

    assert [response.status for response in responses] == [200, 200, 200]
    assert [seen.status for seen in server.to(REFRESH_PATH)] == [200, 200]
    assert app.logouts == 0
    # One pair issued since the login's, and the page holds it: the lost answer's own.
    assert server.pairs_issued == 2
    assert app.store.load().access == server.valid_access


async def test_without_graceful_rotation_the_second_try_is_refused_and_logs_out():
    server = FakeServer()  # reuse_grace None: the spent token is refused, as reuse
    app = open_app(server)
    server.expire_access()
    server.lose_refresh_answers = 1

    results = await within(asyncio.gather(app.get(), return_exceptions=True))

    assert [seen.status for seen in server.to(REFRESH_PATH)] == [200, 401]
    assert app.logouts == 1
    assert app.store.load() is None
    assert isinstance(results[0], RefreshRejected)


async def test_a_refresh_that_gets_no_answer_twice_keeps_the_tokens_and_says_try_again():
    server = FakeServer()
    server.reuse_grace = 5.0
    app = open_app(server)
    kept = app.store.load()
    server.expire_access()
    server.lose_refresh_answers = 2

    with raises(TransientError):
        await within(app.get())

    assert server.refresh_calls == 2
    assert app.logouts == 0
    assert app.store.load() == kept


async def test_a_refresh_that_timed_out_is_not_sent_again():
    server = FakeServer()
    app = open_app(server)
    server.expire_access()
    server.refresh_outcome = RequestTimeout("no answer within 15 s")

    with raises(TransientError):
        await within(app.get())

    assert server.refresh_calls == 1
