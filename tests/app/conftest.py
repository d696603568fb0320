"""Runs the `async def` tests of this folder, each in an event loop of its own.

The tests are coroutines so that the MicroPython runner, which has no `asyncio.run`, can
await the very same functions; here `asyncio.run` drives them.
"""

import asyncio
import inspect

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in inspect.signature(test).parameters}
    asyncio.run(test(**arguments))
    return True
