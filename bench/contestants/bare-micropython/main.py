"""The start-up baseline: the runtime with nothing of the app, marked ready as the app is."""

import js

js.document.body.setAttribute("data-ready", "true")
print("ready")
