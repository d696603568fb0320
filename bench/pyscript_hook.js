// Init script for the PyScript pages only (the app and the bare page): keep the handle of
// PyScript's interpreter as window.__benchPython, for the benchmark to read the runtime's
// WebAssembly memory and to fire requests through the app's own code. PyScript offers no
// other way in from outside: the py:ready event carries no interpreter.
//
// The import waits for DOMContentLoaded, when the page's own module scripts have run core.js:
// it then gets the same module instance, and the hook is in place long before Python is up.
// Importing core.js any earlier runs it before the page is parsed: with core.js in the cache,
// PyScript then finds no config and fetches its default runtime from a CDN.
document.addEventListener("DOMContentLoaded", () => {
  import("/static/vendor/pyscript/0.7.31/core.js").then(({ hooks }) => {
    hooks.main.onReady.add((wrapper) => {
      window.__benchPython = wrapper.interpreter;
    });
  });
});

// The app shows how many of its requests are still out; the harness waits for zero, as it
// does with window.benchPending on the JavaScript pages.
Object.defineProperty(window, "benchPending", {
  get: () => Number(document.getElementById("in-flight")?.textContent || 0),
});
