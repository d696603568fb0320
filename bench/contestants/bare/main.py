"""The start-up baseline: the runtime with nothing of the app, marked ready as the app is."""

from pyscript import document

document.body.setAttribute("data-ready", "true")
print("ready")
