"""Runs the `async def` tests of this folder, each in an event loop of its own.

The tests are coroutines so that the MicroPython runner (`micropython.mjs`), which has no
`asyncio.run`, can await the very same functions; here `asyncio.run` drives them. On both
interpreters an error that asyncio reports instead of raising (a task's exception nobody
retrieved) fails the test, as a console error fails an end-to-end test.
"""

import asyncio
import gc
import inspect

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
        asyncio.run(run_reporting_to_the_test())
        gc.collect()
    finally:
        gc.unfreeze()
    assert not reported, [context["message"] for context in reported]
    return True
