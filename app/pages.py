"""The login and home pages as the DOM shows them.

The markup lives in index.html, so the page is visible before Python starts; this module
only shows, hides and fills it. Everything is written as text, never parsed as HTML.
"""

from app.interpreter import document

SVG = "http://www.w3.org/2000/svg"
BAR_HEIGHT = 14
LABEL_WIDTH = 0.42  # share of the chart's width kept for the labels

PAGES = ("login", "home")
RESULT_SLOTS = ("first", "second", "third")
_BUTTONS = ("submit", "send-three", "break-token", "log-out")


class View:
    """Handles to the page's elements, and the few things the app does to them."""

    def __init__(self, max_rows: int) -> None:
        self._max_rows = max_rows
        self._elements: dict[str, object] = {}

    def _element(self, element_id: str):
        """The element with `element_id`, looked up once: index.html's markup stays put.

        Plain DOM elements, not pyscript.web's wrappers: a click writes to five of them
        before its requests leave, and each wrapper lookup took a tenth of a millisecond.
        """
        element = self._elements.get(element_id)
        if element is None:
            element = self._elements[element_id] = document.getElementById(element_id)
        return element

    def show(self, page: str) -> None:
        """Show one page, hide the other."""
        for name in PAGES:
            self._element(f"{name}-page").hidden = name != page

    def set_ready(self) -> None:
        """Python is running: let the buttons act, and say so for people and tests."""
        for button in _BUTTONS:
            self._element(button).disabled = False
        self.set_text("status", "ready")
        document.body.setAttribute("data-ready", "true")

    def set_text(self, element_id: str, text: str) -> None:
        """Put `text` into an element as plain text."""
        self._element(element_id).textContent = text

    def say(self, page: str, text: str, *, error: bool = True) -> None:
        """A message on `page`: an error (red) or a notice; empty text clears it."""
        message = self._element(f"{page}-message")
        message.textContent = text
        message.classList.toggle("info", not error)

    def offer_provider_sign_in(self):
        """In place of the login form, one button that signs in with the page's provider;
        the button, for the caller to listen to."""
        form = self._element("login-form")
        form.hidden = True
        button = document.createElement("button")
        button.id = "sign-in"
        button.type = "button"
        button.textContent = "Sign in with your provider"
        form.after(button)
        self._elements["sign-in"] = button
        return button

    def credentials(self) -> tuple[str, str]:
        """What the login form holds."""
        return self._element("user-name").value, self._element("password").value

    def busy(self, button: str, busy: bool) -> None:
        """Disable a button while its action runs."""
        self._element(button).disabled = busy

    def show_row(self, row) -> None:
        """Add a call (an app.timeline.Row) to the table, or update its row if it is there."""
        body = document.querySelector("#timeline-table tbody")
        element = body.querySelector(f'tr[data-call="{row.call_id}"]')
        if not element:  # querySelector answers JS null, which is falsy but not None
            element = document.createElement("tr")
            element.setAttribute("data-call", str(row.call_id))
            for _ in range(7):
                element.appendChild(document.createElement("td"))
            body.appendChild(element)
            # The table keeps as many rows as the timeline keeps calls.
            while body.rows.length > self._max_rows:
                body.deleteRow(0)
        texts = (
            row.call_id,
            row.method,
            row.path,
            row.status,
            row.start_ms,
            row.duration_ms,
            row.note,
        )
        for index, text in enumerate(texts):
            element.cells.item(index).textContent = str(text)
        tone = "refresh" if row.kind == "refresh" else ""
        if not row.status.isdigit() or int(row.status) >= 400:
            tone = f"{tone} failed".strip()
        element.className = tone

    def draw_bars(self, bars: list) -> None:
        """Redraw the time-axis chart: one labelled bar a call (app.timeline.Bar)."""
        chart = document.getElementById("timeline-chart")
        chart.replaceChildren()
        chart.setAttribute("height", str(len(bars) * (BAR_HEIGHT + 4)))
        for index, bar in enumerate(bars):
            y = index * (BAR_HEIGHT + 4)
            label = document.createElementNS(SVG, "text")
            label.setAttribute("x", "0")
            label.setAttribute("y", str(y + BAR_HEIGHT - 3))
            label.textContent = bar.label
            rect = document.createElementNS(SVG, "rect")
            rect.setAttribute("x", f"{(LABEL_WIDTH + bar.x * (1 - LABEL_WIDTH)) * 100:.2f}%")
            rect.setAttribute("width", f"{bar.width * (1 - LABEL_WIDTH) * 100:.2f}%")
            rect.setAttribute("y", str(y))
            rect.setAttribute("height", str(BAR_HEIGHT))
            rect.setAttribute("class", bar.tone)
            rect.setAttribute("data-call", str(bar.call_id))
            chart.append(label, rect)
