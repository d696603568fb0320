"""What differs between PyScript's two interpreters, for the browser edge, in one place.

A page runs the library on MicroPython or on Pyodide, from the same source. The pure core
(gate, tokens, refreshes) needs nothing from here; the modules that touch the browser ask
this one for the few things the two spell apart. Nothing here touches the page at import,
so the library also imports under MicroPython in Node, which has no document.
"""

import sys

MICROPYTHON = sys.implementation.name == "micropython"

if MICROPYTHON:
    from asyncio import core as _asyncio_core

    from jsffi import JsException, to_js

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

else:
    import js
    from pyodide.ffi import JsException
    from pyodide.ffi import to_js as _pyodide_to_js

    def to_js(value: object) -> object:
        """`value` as a JavaScript value, dicts as plain objects (as MicroPython makes them)."""
        return _pyodide_to_js(value, dict_converter=js.Object.fromEntries)

    def js_error_name(error: JsException) -> str:
        """The JavaScript error's name (TypeError, AbortError, ...), or "" if it has none."""
        return str(getattr(error, "name", "") or "")

    def js_error_text(error: JsException) -> str:
        """The JavaScript error as one line: its name and its message."""
        return str(error)
