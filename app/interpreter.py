"""What the demo needs from the browser that PyScript's two interpreters spell apart.

The gate's own differences live in the library (refresh_gate/_interpreter.py); the demo
needs only the page's window and document and a Python error as text.
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

if sys.implementation.name == "micropython":
    import io

    def format_exception(error: BaseException) -> str:
        """A Python error with its traceback, as text."""
        text = io.StringIO()
        sys.print_exception(error, text)
        return text.getvalue()

else:
    import traceback

    def format_exception(error: BaseException) -> str:
        """A Python error with its traceback, as text."""
        return "".join(traceback.format_exception(error))


__all__ = ["document", "format_exception", "window"]
