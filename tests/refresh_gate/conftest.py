"""Runs the `async def` tests of this folder, each in an event loop of its own.

The tests are coroutines so that the MicroPython runner (`micropython.mjs`), which has no
`asyncio.run`, can await the very same functions; here `asyncio.run` drives them. On both
interpreters an error that asyncio reports instead of raising (a task's exception nobody
retrieved) fails the test, as a console error fails an end-to-end test.
"""

import asyncio
import gc
import inspect
import threading

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in inspect.signature(test).parameters}
    reported: list[dict] = []

    async def run_reporting_to_the_test() -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda _, context: reported.append(context)
        )
        await test(**arguments)

    # A task's unretrieved exception is reported when the task is collected. Frozen, what
    # existed before the test is left out of that collection, which then takes microseconds.
    gc.freeze()
    try:
        _run_in_a_loop_of_its_own(run_reporting_to_the_test())
        gc.collect()
    finally:
        gc.unfreeze()
    assert not reported, [context["message"] for context in reported]
    return True


def _run_in_a_loop_of_its_own(work) -> None:
    """`asyncio.run(work)`; in a thread of its own where this one already runs a loop, as the
    main thread does once an end-to-end test has started Playwright's sync API (which the
    whole suite runs before these tests)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(work)
        return
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work)
        except BaseException as failure:  # handed to the test's own thread, as it came
            failures.append(failure)

    thread = threading.Thread(target=run, name="unit-test-loop")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
