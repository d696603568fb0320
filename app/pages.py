"""The login and home pages as the DOM shows them.

The markup lives in index.html, so the page is visible before Python starts; this module
only shows, hides and fills it. Everything is written as text, never parsed as HTML.
"""

from pyscript import web

PAGES = ("login", "home")
RESULT_SLOTS = ("first", "second", "third")
_BUTTONS = ("submit", "send-three", "log-out")


class View:
    """Handles to the page's elements, and the few things the app does to them."""

    def __init__(self) -> None:
        self._page = web.page

    def _element(self, element_id: str):
        return self._page[element_id]

    def show(self, page: str) -> None:
        """Show one page, hide the other."""
        for name in PAGES:
            self._element(f"{name}-page").hidden = name != page

    def set_ready(self) -> None:
        """Python is running: let the buttons act, and say so for people and tests."""
        for button in _BUTTONS:
            self._element(button).disabled = False
        self.set_text("status", "ready")
        self._page.body.setAttribute("data-ready", "true")

    def set_text(self, element_id: str, text: str) -> None:
        """Put `text` into an element as plain text."""
        self._element(element_id).textContent = text

    def say(self, page: str, text: str, *, error: bool = True) -> None:
        """A message on `page`: an error (red) or a notice; empty text clears it."""
        message = self._element(f"{page}-message")
        message.textContent = text
        message.classes.discard("info")
        if not error:
            message.classes.add("info")

    def credentials(self) -> tuple[str, str]:
        """What the login form holds."""
        return self._element("user-name").value, self._element("password").value

    def busy(self, button: str, busy: bool) -> None:
        """Disable a button while its action runs."""
        self._element(button).disabled = busy
