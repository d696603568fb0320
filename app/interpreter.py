"""What differs between PyScript's two interpreters, for the browser edge, in one place.

The page runs on MicroPython by default and on Pyodide one URL away (see README.md), from
the same source. The pure core (gate, tokens, routes, timeline) needs nothing from here;
the modules that touch the browser ask this one for the few things the two spell apart.
"""

import sys

import js

# The browser's own window and document. On MicroPython, pyscript.window is a module that
# stands for the window, and a method called on it, such as addEventListener, loses its
# `this` ("Illegal invocation"). Timers are set with js.setTimeout, never window.setTimeout:
# on MicroPython 1.27, one call of js.window.setTimeout made every later js.setTimeout, the
# one MicroPython's asyncio schedules its tasks with, fail with "Illegal invocation".
window = js.window
document = js.document

MICROPYTHON = sys.implementation.name == "micropython"

if MICROPYTHON:
    import io
    from asyncio import core as _asyncio_core

    from jsffi import JsException

    def _wake_at_once(event, value=None) -> None:
        """A JavaScript promise a task awaits has settled: run that task now, in the same
        microtask, instead of on the next setTimeout(0) as MicroPython's asyncio would. A
        browser runs input events before timers, so a click could otherwise slip in between
        a 401 coming back and the gate hearing of it, and go out with the refused token.
        Never called while Python runs: promise callbacks wait for an empty JavaScript stack.
        """
        _settled(event, value)
        _asyncio_core._run_iter()

    _settled = _asyncio_core.ThenableEvent.set
    _asyncio_core.ThenableEvent.set = _wake_at_once

    def js_error_name(error: JsException) -> str:
        """The JavaScript error's name (TypeError, AbortError, ...), or "" if it has none."""
        # MicroPython keeps (the error, its name, its message) as the exception's args.
        return str(error.args[1]) if len(error.args) > 1 else ""

    def js_error_text(error: JsException) -> str:
        """The JavaScript error as one line: its name and its message."""
        if len(error.args) > 2:
            return f"{error.args[1]}: {error.args[2]}"
        return str(error.args[0]) if error.args else "error"

    def format_exception(error: BaseException) -> str:
        """A Python error with its traceback, as text."""
        text = io.StringIO()
        sys.print_exception(error, text)
        return text.getvalue()

else:
    import traceback

    from pyodide.ffi import JsException

    def js_error_name(error: JsException) -> str:
        """The JavaScript error's name (TypeError, AbortError, ...), or "" if it has none."""
        return str(getattr(error, "name", "") or "")

    def js_error_text(error: JsException) -> str:
        """The JavaScript error as one line: its name and its message."""
        return str(error)

    def format_exception(error: BaseException) -> str:
        """A Python error with its traceback, as text."""
        return "".join(traceback.format_exception(error))


__all__ = [
    "MICROPYTHON",
    "JsException",
    "document",
    "format_exception",
    "js_error_name",
    "js_error_text",
    "window",
]
