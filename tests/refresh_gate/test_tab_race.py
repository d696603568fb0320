"""Tabs of one origin share the tokens: a broken token costs one refresh however many tabs
find it, and a tab never presents a refresh token another tab has already exchanged."""

import asyncio

from refresh_gate._refresh import REFRESH_PATH
from tests.portable import case, parametrize
from tests.refresh_gate.fakes import (
    FakeServer,
    OAuthServer,
    SharedLocks,
    SharedStorage,
    open_tab,
    within,
)

LAG = 0.05  # how late one tab's write reaches the others' storage
# Far longer than `within` waits: a tab must take the new pair as soon as it arrives, never
# wait for the spent token's lock to be let go.
SPENT_HOLD = 30.0


async def test_two_tabs_with_a_broken_token_share_one_refresh() -> None:
    server = FakeServer()
    storage = SharedStorage(server.issue(), LAG)
    locks = SharedLocks(SPENT_HOLD)
    tabs = [open_tab(server, storage, locks, settle_time=0.5) for _ in range(2)]
    server.expire_access()

    responses = await within(asyncio.gather(*(tab.get() for tab in tabs for _ in range(3))))

    assert [response.status for response in responses] == [200] * 6
    assert server.refresh_calls == 1
    assert [tab.logouts for tab in tabs] == [0, 0]
    assert tabs[0].store.load() == tabs[1].store.load()


async def test_five_tabs_and_a_slow_storage_still_cost_one_refresh() -> None:
    server = FakeServer()
    storage = SharedStorage(server.issue(), lag=0.2)
    locks = SharedLocks(SPENT_HOLD)
    tabs = [open_tab(server, storage, locks, settle_time=0.5) for _ in range(5)]
    server.expire_access()

    responses = await within(asyncio.gather(*(tab.get() for tab in tabs)))

    assert [response.status for response in responses] == [200] * 5
    assert server.refresh_calls == 1
    assert sum(tab.logouts for tab in tabs) == 0


def _rotating() -> FakeServer:
    return FakeServer()


def _not_rotating() -> FakeServer:
    return OAuthServer(rotate=False)


# A rotating server: one lock per refresh token. One that does not rotate: the refresh token,
# and so the lock, stays the same, and the tab keeping it after a refresh enters it at once.
@parametrize(
    "make_server, lock_names",
    [case(_rotating, 3, id="rotating"), case(_not_rotating, 1, id="not-rotating")],
)
async def test_the_next_refresh_does_not_wait_for_the_lock_held_after_the_last(
    make_server: object, lock_names: int
) -> None:
    server = make_server()
    storage = SharedStorage(server.issue(), LAG)
    locks = SharedLocks(SPENT_HOLD)
    tab = open_tab(server, storage, locks)

    for _ in range(3):
        server.expire_access()
        assert (await within(tab.get())).status == 200

    assert server.refresh_calls == 3
    assert len(set(locks.names)) == lock_names


async def test_the_lock_is_named_for_the_refresh_token_it_guards() -> None:
    server = FakeServer()
    storage = SharedStorage(server.issue(), LAG)
    locks = SharedLocks(SPENT_HOLD)
    tab = open_tab(server, storage, locks)
    spent = tab.store.load()
    server.expire_access()

    await within(tab.get())

    assert locks.names == [spent.refresh]
    assert server.to(REFRESH_PATH)[0].status == 200


async def test_with_a_server_that_does_not_rotate_two_tabs_share_one_refresh_without_waiting():
    server = OAuthServer(rotate=False)
    storage = SharedStorage(server.issue(), LAG)
    locks = SharedLocks(SPENT_HOLD)  # a hold would outlast `within`: none may be taken
    tabs = [open_tab(server, storage, locks, settle_time=0.5) for _ in range(2)]
    server.expire_access()

    responses = await within(asyncio.gather(*(tab.get() for tab in tabs for _ in range(3))))

    assert [response.status for response in responses] == [200] * 6
    assert server.refresh_calls == 1
    assert [tab.logouts for tab in tabs] == [0, 0]
