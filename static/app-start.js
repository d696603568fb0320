// The app's pages' one script (index.html, pyodide.html): it starts PyScript as
// static/no-eval.js does, from the one-file build of PyScript the Makefile makes, and puts
// the app's modules into the interpreter's file system from one download.
//
// Over HTTP/1.1 a browser opens six connections to a host, so every file the page needs
// before it is usable costs a share of a round trip. PyScript 0.7.31 as published is nine
// JavaScript files on the way up, and its config's [files] one request a module: about
// thirty requests in all. Here PyScript is one file (core.bundle.js: the same modules, built
// by esbuild at set-up) and the app's modules one JSON object (server_stub/app_modules.py),
// asked for at once and written before any Python runs (PyScript's onReady hook), as
// [files] would have written them: the app's package and the library's (refresh_gate, whose
// JavaScript half the library puts into the page itself).
//
// Dropping PyScript's worker hooks lets it run without 'unsafe-eval' (see static/no-eval.js:
// the same reasons, and the same care to do it in the module that imports PyScript).
import { hooks } from "/static/vendor/pyscript/0.7.31/core.bundle.js";

for (const hook of Object.values(hooks.worker)) hook.clear();

// The same request as the page's <link rel="preload">, so the browser hands this one over.
const modules = fetch("/app/modules.json").then((answer) => {
  if (!answer.ok) throw new Error(`/app/modules.json: ${answer.status}`);
  return answer.json();
});

hooks.main.onReady.add(async ({ interpreter }) => {
  const { FS } = interpreter; // Emscripten's, on MicroPython and Pyodide alike
  const made = new Set(); // each folder once: making one that exists costs a thrown error
  for (const [path, source] of Object.entries(await modules)) {
    const folder = path.slice(0, path.lastIndexOf("/") + 1);
    if (folder && !made.has(folder)) FS.mkdirTree(folder);
    made.add(folder);
    FS.writeFile(path, source);
  }
});
