"""The JavaScript half of the browser edge, `browser_calls.js` beside this file, put into
the page the first time the edge needs it.

It goes in as an inline classic script, which the browser runs the moment it is added: the
page lists no file for it, and its own config stays one line. A page that sends a
Content-Security-Policy allows it by the hash `script_hash()` gives.
"""

import binascii
import hashlib

import js

SOURCE_NAME = "browser_calls.js"
_calls = None  # the page's refreshGateCalls, once put in


def source() -> str:
    """The JavaScript half's source, as shipped beside this module."""
    folder = __file__.rpartition("/")[0]
    with open(f"{folder}/{SOURCE_NAME}" if folder else SOURCE_NAME) as file:
        return file.read()


def script_hash(text: str) -> str:
    """The CSP source that allows `text` as an inline script: 'sha256-<base64>'."""
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{binascii.b2a_base64(digest).decode().strip()}'"


def browser_calls():
    """The JavaScript half's functions, put into the page first if they are not there yet."""
    global _calls
    if _calls is None:
        calls = getattr(js, "refreshGateCalls", None)
        if not calls:
            text = source()
            script = js.document.createElement("script")
            script.textContent = text
            js.document.head.appendChild(script)  # runs it, at once
            script.remove()
            calls = getattr(js, "refreshGateCalls", None)
            if not calls:
                raise RuntimeError(
                    "refresh_gate could not run its JavaScript half: the page's "
                    f"Content-Security-Policy must allow the script {script_hash(text)}"
                )
        _calls = calls
    return _calls
