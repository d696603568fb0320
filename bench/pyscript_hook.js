// Init script for the PyScript pages only (the app on either interpreter, the bare pages):
// it changes nothing on the page, it only watches.
//
// - window.__benchPython: the interpreter PyScript's `hooks.main.onReady` hands over, for
//   the benchmark to ask Python how much it holds (the py:ready event carries none).
// - window.__benchWasmBytes(): the size of every WebAssembly memory the page instantiated.
//   Pyodide's module exports HEAP8, MicroPython's does not (reading it aborts: "'HEAP8' was
//   not exported"), so the memories are kept as WebAssembly hands them out, the same way for
//   both.
// - performance marks "bench:..." for the steps of start-up the page itself cannot mark:
//   the interpreter's WebAssembly compiled and instantiated, PyScript's onReady (interpreter
//   up, the config's files written; PyScript's own Python and the page's script come next).
//   With window.__benchImportFirst set (bench/startup.py's breakdown only), onReady imports
//   PyScript's `pyscript` package, then those modules, each after a mark: what each costs,
//   in place. The page's script then finds them imported: the same work, in the same order.
//
// The import of PyScript's core waits for DOMContentLoaded, when the page's own module scripts
// have run it: it then gets the same module instance, and the hooks are in place long before
// Python is up. Importing it any earlier runs it before the page is parsed: with it in the
// cache, PyScript then finds no config and fetches its default runtime from a CDN.
(() => {
  const memories = [];
  const keep = (imports, result) => {
    const instance = result instanceof WebAssembly.Instance ? result : result.instance;
    const spaces = [instance.exports, ...Object.values(imports || {})];
    for (const space of spaces) {
      for (const value of Object.values(space || {})) {
        if (value instanceof WebAssembly.Memory && !memories.includes(value)) memories.push(value);
      }
    }
    return result;
  };
  const watch = (name) => {
    const original = WebAssembly[name];
    if (!original) return;
    WebAssembly[name] = function (source, imports, ...rest) {
      performance.mark(`bench:wasm-start`);
      return original.call(this, source, imports, ...rest).then((result) => {
        performance.mark(`bench:wasm-instantiated`);
        return keep(imports, result);
      });
    };
  };
  watch("instantiateStreaming");
  watch("instantiate");
  window.__benchWasmBytes = () =>
    memories.length ? memories.reduce((sum, memory) => sum + memory.buffer.byteLength, 0) : null;

  document.addEventListener("DOMContentLoaded", () => {
    performance.mark("bench:dom-content-loaded");
    // The app's pages load PyScript's one-file build (and preload it), the bare pages
    // PyScript as published: import the one this page runs, to share its instance.
    const bundled = document.querySelector('link[rel="modulepreload"][href$="/core.bundle.js"]');
    const core = `/static/vendor/pyscript/0.7.31/${bundled ? "core.bundle.js" : "core.js"}`;
    import(core).then(({ hooks }) => {
      // PyScript calls these at the moment, not as they were when core.js ran (its
      // onBeforeRun and onAfterRun hooks are not: added now, they are never called).
      hooks.main.onReady.add((wrapper) => {
        performance.mark("bench:interpreter-ready");
        window.__benchPython = wrapper.interpreter;
        const modules = window.__benchImportFirst;
        if (modules?.length) {
          wrapper.run("import pyscript");
          performance.mark("bench:pyscript-imported");
          wrapper.run(modules.map((name) => `import ${name}`).join("\n"));
          performance.mark("bench:imports-done");
        }
      });
    });
  });
})();

// The app shows how many of its requests are still out; the harness waits for zero, as it
// does with window.benchPending on the JavaScript pages.
Object.defineProperty(window, "benchPending", {
  get: () => Number(document.getElementById("in-flight")?.textContent || 0),
});
